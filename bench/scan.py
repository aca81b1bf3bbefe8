"""The scan measure: the daily reminder scan over 100,000 open assignments in PostgreSQL.

    .venv/bin/python bench/scan.py --assignments 100000      # what ``make bench`` runs
    .venv/bin/python bench/scan.py --assignments 20000 --small 2000 --runs 3 --keep

It needs PostgreSQL: the server of ``DATABASE_URL`` (default: the Makefile's test server,
``postgres://postgres:postgres@127.0.0.1:5432/…``). On it the measure creates its own database
``tracker_bench`` (dropped first if it exists, dropped again at the end unless ``--keep``),
migrates it, and generates a district at the given scale with Django's ``bulk_create`` (see
``generate``). Then, in a fresh child process (so that its peak memory is the scan's, not the
generator's), it runs ``tracker.reminders.run_scan(today=2026-11-23, dispatch=False)`` — the
daily scan that beat runs, minus the enqueueing of the digests — ``--runs`` times on an ordinary
morning (the six working days before were scanned first, and each run forgets only its own
rows), then once on an empty ledger (the first day, when every step is due at once), and
measures:

- the wall time of each run (the figure is the median);
- the peak resident memory of the child (``ru_maxrss``: Python, Django and the scan together)
  and, in one extra run under ``tracemalloc``, the peak of what the scan itself allocated;
- the number of SQL queries of a run — counted, not stored, with ``connection.execute_wrapper``
  — at ``--small`` assignments and at ``--assignments``: the scan is set-based, so the two
  counts are the same.

It prints its figures as one JSON line (``bench/README.md``); progress goes to stderr.
Targets (issue 5): ≤ 5 s and ≤ 300 MB at 100,000 open assignments, the same query count.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as ``python bench/scan.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_database_url, emit, figure, log
from bench import drop_database as shared_drop
from bench import recreate_database as shared_recreate

DEFAULT_SERVER = "postgres://postgres:postgres@127.0.0.1:5432/tracker"
BENCH_DB = "tracker_bench"
TODAY = datetime.date(2026, 11, 23)  # a Monday; the data is generated around it
UNITS_PER = 200  # open assignments per unit
PREVIOUS_DAYS = 6  # working days scanned before the measured one
TIME_TARGET_S = 5.0
MEMORY_TARGET_MB = 300.0


def bench_url(server_url: str) -> str:
    return bench_database_url(server_url, BENCH_DB, "bench/scan.py")


def recreate_database(url: str) -> None:
    shared_recreate(url, BENCH_DB)


def drop_database(url: str) -> None:
    shared_drop(url, BENCH_DB)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # nothing is enqueued: dispatch=False
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()


# --- The district -------------------------------------------------------------------------


def generate(total: int, *, start: int = 0) -> dict:
    """Open assignments ``start`` … ``total - 1`` (and the people, once), as a district has them.

    - ``total // 200`` units (at least 20), each with 2 clerks and 1 signer; 3 committee and
      2 supervision staff. Everyone has an e-mail address.
    - Assignments spread evenly over the 75 working days before 2026-11-23 (about 3½ months);
      80 % lead, 5 % separate, 15 % co-handling (co-handling only in the last month, when
      opinions are still due). States: a new assignment is pending for its first days, then
      2 % stay pending, 2 % ask for reassignment, the rest are accepted. Due dates come from
      the real rules and calendar (``proposals.deadlines.compute_due``).
    - First contact done for 85 % once due; 30 % of the replies that would be overdue are
      extended by 30 days; 1 % are in a second round (re-handling) with a new reply date.
    - Besides, ``total // 100`` replied assignments whose 主动公开 reply was sent in the last
      30 working days and is not published yet (the publication clock).

    Overall about a tenth of the replies and of the first contacts are overdue: a district that
    is behind, not one in collapse.
    """
    from django.db import transaction

    from proposals import deadlines
    from proposals.models import (
        Assignment,
        DueDate,
        Membership,
        Proposal,
        Proposer,
        Session,
        Unit,
        User,
    )
    from proposals.workdays import WorkCalendar
    from replies.models import Reply

    calendar = WorkCalendar()
    units_needed = max(20, total // UNITS_PER)
    with transaction.atomic():
        session, _ = Session.objects.get_or_create(
            district="基准", term=15, meeting=3, defaults={"name": "十五届三次会议", "year": 2026}
        )
        have = Unit.objects.count()
        if have < units_needed:
            Unit.objects.bulk_create(
                [
                    Unit(
                        name=f"基准区第{n}局",
                        short_name=f"第{n}局",
                        organ_name=f"上海市基准区第{n}局",
                    )
                    for n in range(have, units_needed)
                ]
            )
            units = list(Unit.objects.filter(pk__gt=0).order_by("pk"))[have:]
            users = []
            for unit in units:
                for role in ("clerk", "clerk2", "signer"):
                    users.append(
                        User(
                            username=f"u{unit.pk}_{role}",
                            email=f"u{unit.pk}_{role}@bench.example.org",
                            full_name=f"{unit.short_name}{role}",
                        )
                    )
            User.objects.bulk_create(users, batch_size=5000)
            by_name = dict(User.objects.values_list("username", "pk"))
            Membership.objects.bulk_create(
                [
                    Membership(
                        unit=unit,
                        user_id=by_name[f"u{unit.pk}_{role}"],
                        role="signer" if role == "signer" else "clerk",
                    )
                    for unit in units
                    for role in ("clerk", "clerk2", "signer")
                ],
                batch_size=5000,
            )
        if not User.objects.exclude(office="").exists():
            User.objects.bulk_create(
                [
                    User(username=f"committee{n}", email=f"committee{n}@bench.example.org",
                         office="committee")
                    for n in range(3)
                ]
                + [
                    User(username=f"supervisor{n}", email=f"supervisor{n}@bench.example.org",
                         office="supervision")
                    for n in range(2)
                ]
            )  # fmt: skip
        if not Proposer.objects.exists():
            Proposer.objects.bulk_create(
                [Proposer(name=f"委员{n}", email=f"m{n}@bench.example.org") for n in range(1000)]
            )
    unit_ids = list(Unit.objects.order_by("pk").values_list("pk", flat=True))[:units_needed]
    proposer_ids = list(Proposer.objects.order_by("pk").values_list("pk", flat=True))

    days: list[datetime.date] = []
    d = TODAY
    while len(days) < 75:
        d -= datetime.timedelta(days=1)
        if calendar.is_workday(d):
            days.append(d)
    days.reverse()
    due_cache: dict[tuple, deadlines.Due] = {}

    def due(start_on: datetime.date, clock: str) -> deadlines.Due:
        key = (start_on, clock)
        if key not in due_cache:
            due_cache[key] = deadlines.compute_due(
                start_on, deadlines.rule_for(clock), calendar=calendar
            )
        return due_cache[key]

    def chunk(first: int, last: int, *, replied: bool) -> None:
        proposals = [
            Proposal(
                session=session,
                serial=n + 1 if not replied else None,
                number=f"B{n + 1:06d}" if not replied else f"R{n + 1:06d}",
                title=f"关于第{n + 1}项民生工作的建议",
                lead_proposer_id=proposer_ids[n % len(proposer_ids)],
                status="replied" if replied else "assigned",
            )
            for n in range(first, last)
        ]
        Proposal.objects.bulk_create(proposals)
        assignments, plans = [], []
        for offset, proposal in enumerate(proposals):
            n = first + offset
            assigned_on = days[(n * 7919) % len(days)]  # evenly, not in order
            age = len(days) - days.index(assigned_on)  # working days since assignment
            r = (n * 2654435761) % 1000 / 1000  # a fixed pseudo-random number per row
            if replied:
                role, state = "lead", "replied"
            else:
                role = "co" if age <= 22 and r < 0.15 else ("separate" if r > 0.95 else "lead")
                if age <= 3:
                    state = "pending" if r < 0.5 else "accepted"
                elif r < 0.02:
                    state = "pending"
                elif r > 0.98:
                    state = "return_requested"
                else:
                    state = "accepted"
            rehandling = not replied and 0.50 <= r < 0.51 and age > 40
            assignments.append(
                Assignment(
                    proposal=proposal,
                    unit_id=unit_ids[n % len(unit_ids)],
                    role=role,
                    state=state,
                    round=2 if rehandling else 1,
                    assigned_on=assigned_on,
                )
            )
            plans.append((assigned_on, r, rehandling))
        Assignment.objects.bulk_create(assignments)
        dues, replies = [], []
        for a, (assigned_on, r, rehandling) in zip(assignments, plans, strict=True):
            clocks = ["reassignment", "first_contact", "co_opinion" if a.role == "co" else "reply"]
            for clock in clocks:
                d = due(assigned_on, clock)
                row = DueDate(
                    assignment=a,
                    clock=clock,
                    start_on=assigned_on,
                    rule=",".join(map(str, deadlines.rule_for(clock))),
                    due_on=d.due_on,
                    explanation=d.explanation,
                )
                if clock == "first_contact" and d.due_on < TODAY and r < 0.85:
                    row.completed_on = d.due_on - datetime.timedelta(days=3)
                if clock == "reply" and d.due_on < TODAY and r < 0.30:
                    row.due_on = d.due_on + datetime.timedelta(days=30)
                    row.is_fixed = True
                if a.state == "replied" and clock == "reply":
                    row.completed_on = min(d.due_on, TODAY)
                dues.append(row)
            if rehandling:
                start = TODAY - datetime.timedelta(days=int(r * 1000) % 30 + 1)
                d = due(start, "rehandling_reply")
                dues.append(
                    DueDate(
                        assignment=a,
                        clock="rehandling_reply",
                        round=2,
                        start_on=start,
                        rule="3,months",
                        due_on=d.due_on,
                        explanation=d.explanation,
                    )
                )
            if a.state == "replied":
                sent_on = days[-1 - int(r * 1000) % 30]
                replies.append(
                    Reply(
                        assignment=a,
                        proposal_id=a.proposal_id,
                        unit_id=a.unit_id,
                        title="答复",
                        salutation="委员：",
                        body="正文",
                        state="sent",
                        disclosure="public",
                        sent_at=datetime.datetime.combine(
                            sent_on, datetime.time(10), tzinfo=datetime.UTC
                        ),
                    )
                )
        DueDate.objects.bulk_create(dues)
        Reply.objects.bulk_create(replies)

    step = 5000
    for first in range(start, total, step):
        with transaction.atomic():
            chunk(first, min(first + step, total), replied=False)
        log(f"  {min(first + step, total):>7} open assignments")
    replied_first = 10_000_000 + start // 100
    with transaction.atomic():
        chunk(replied_first, 10_000_000 + total // 100, replied=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "units": len(unit_ids),
        "open_assignments": Assignment.objects.filter(
            state__in=["pending", "accepted", "return_requested"]
        ).count(),
        "due_dates": DueDate.objects.count(),
        "replies_awaiting_publication": Reply.objects.filter(state="sent").count(),
    }


# --- Measuring, in a fresh process ---------------------------------------------------------


def previous_workdays(count: int) -> list[datetime.date]:
    from proposals.workdays import WorkCalendar

    calendar = WorkCalendar()
    found: list[datetime.date] = []
    d = TODAY
    while len(found) < count:
        d -= datetime.timedelta(days=1)
        if calendar.is_workday(d):
            found.append(d)
    return sorted(found)


def fill_ledger(days: int) -> None:
    """Run the scans of the ``days`` working days before TODAY, as beat would have: the ledger
    then holds what it holds on an ordinary morning (the earlier steps already sent)."""
    from tracker import reminders

    for day in previous_workdays(days):
        started = time.perf_counter()
        report = reminders.run_scan(today=day, dispatch=False)
        log(
            f"  {day}: {report.reminders_linked} reminders in {time.perf_counter() - started:.1f} s"
        )


def measure(runs: int) -> dict:
    """The scan of TODAY ``runs`` times (+1 under tracemalloc), then a first-day scan on an
    empty ledger; the child's figures as a dict."""
    import tracemalloc

    from django.db import connection

    from tracker import reminders
    from tracker.models import Digest, Reminder, ScanRun

    def forget_today() -> None:
        Reminder.objects.filter(scanned_on=TODAY).delete()
        Digest.objects.filter(on=TODAY).delete()
        ScanRun.objects.filter(on=TODAY).delete()

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    def timed_scan() -> tuple[float, int, reminders.ScanReport]:
        nonlocal queries
        queries = 0
        started = time.perf_counter()
        with connection.execute_wrapper(count):
            report = reminders.run_scan(today=TODAY, dispatch=False)
        return time.perf_counter() - started, queries, report

    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times, counts = [], []
    for _ in range(runs):
        forget_today()
        seconds, n, report = timed_scan()
        times.append(seconds)
        counts.append(n)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    digest_items = sum(Digest.objects.filter(on=TODAY).values_list("item_count", flat=True))
    forget_today()
    tracemalloc.start()
    reminders.run_scan(today=TODAY, dispatch=False)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    with connection.cursor() as cursor:  # the first day: nothing sent before
        tables = [Digest._meta.db_table, Reminder._meta.db_table, ScanRun._meta.db_table]
        cursor.execute(f"TRUNCATE {', '.join(tables)}")
    first_day_s, first_day_queries, first_day = timed_scan()
    return {
        "times": times,
        "queries": counts,
        "baseline_rss_mb": baseline_rss,
        "peak_rss_mb": peak_rss,
        "traced_peak_mb": traced_peak / 2**20,
        "items": report.items,
        "new_reminders": report.reminders_linked,
        "digests": len(report.digests),
        "digest_items": digest_items,
        "first_day_s": first_day_s,
        "first_day_queries": first_day_queries,
        "first_day_reminders": first_day.reminders_linked,
        "first_day_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(url: str, runs: int) -> dict:
    """``measure`` in a new interpreter; its result from the last line of its stdout."""
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("REDIS_URL", None)
    command = [sys.executable, __file__, "--child", "--runs", str(runs)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1500)
    if result.returncode != 0:
        raise SystemExit(f"the measuring child failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignments", type=int, default=100_000)
    parser.add_argument(
        "--small", type=int, default=10_000, help="the smaller scale of the query-count check"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed scans (the median counts)")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        setup_django(os.environ["DATABASE_URL"])
        print(json.dumps(measure(args.runs)))
        return

    url = bench_url(os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    log(f"creating {BENCH_DB} on {urlsplit(url).hostname} and migrating")
    recreate_database(url)
    try:
        setup_django(url)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        small = None
        if 0 < args.small < args.assignments:
            log(f"generating {args.small} open assignments")
            generate(args.small)
            fill_ledger(PREVIOUS_DAYS)
            log("measuring the small scan")
            small = child(url, 1)
        log(f"generating up to {args.assignments} open assignments")
        started = time.perf_counter()
        data = generate(args.assignments, start=args.small if small else 0)
        log(f"  generated in {time.perf_counter() - started:.0f} s: {data}")
        log(f"scanning the {PREVIOUS_DAYS} working days before {TODAY}")
        fill_ledger(PREVIOUS_DAYS)
        log(f"measuring {args.runs} scans")
        big = child(url, args.runs)
    finally:
        if not args.keep:
            drop_database(url)

    scan_s = statistics.median(big["times"])
    label_n = f"{args.assignments:,}"
    figures = [
        figure(
            "scan_s",
            f"Reminder scan, {label_n} open assignments, median of {args.runs}",
            round(scan_s, 3),
            "s",
            target=("<=", TIME_TARGET_S),
            samples=big["times"],
        ),
        figure(
            "scan_peak_mb",
            "Reminder scan, peak resident memory of the process (Django included)",
            round(big["peak_rss_mb"], 1),
            "MB",
            target=("<=", MEMORY_TARGET_MB),
        ),
        figure(
            "scan_alloc_peak_mb",
            "Reminder scan, peak of what the scan allocated (tracemalloc)",
            round(big["traced_peak_mb"], 1),
            "MB",
        ),
        figure("scan_queries", f"Reminder scan, SQL queries at {label_n}", big["queries"][0], ""),
        figure(
            "scan_first_day_s",
            f"Reminder scan, {label_n}, first day (empty ledger: every step due at once)",
            round(big["first_day_s"], 3),
            "s",
        ),
        figure(
            "scan_first_day_peak_mb",
            "Reminder scan, first day, peak resident memory",
            round(big["first_day_peak_rss_mb"], 1),
            "MB",
        ),
    ]
    if small:
        figures.append(
            figure(
                "scan_queries_small",
                f"Reminder scan, SQL queries at {args.small:,} (must equal the above)",
                small["queries"][0],
                "",
            )
        )
    emit(
        "scan",
        figures,
        {
            "today": TODAY.isoformat(),
            "data": data,
            "items_due": big["items"],
            "new_reminders": big["new_reminders"],
            "digests": big["digests"],
            "digest_items": big["digest_items"],
            "first_day_reminders": big["first_day_reminders"],
            "first_day_queries": big["first_day_queries"],
            "baseline_rss_mb": round(big["baseline_rss_mb"], 1),
            "queries_independent_of_items": (small is None)
            or small["queries"][0] == big["queries"][0],
            "small": small
            and {"assignments": args.small, "items_due": small["items"], "seconds": small["times"]},
            "notes": [
                "tracker.reminders.run_scan(dispatch=False) on PostgreSQL: the daily scan with "
                "its ledger writes, without enqueueing the digests.",
                f"An ordinary morning: the {PREVIOUS_DAYS} working days before were scanned "
                "first (untimed); each timed run forgets only today's rows. The first-day figure "
                "is one run on an empty ledger, when every step not yet sent is due at once.",
                "Peak memory is ru_maxrss of a fresh process that only sets Django up and "
                "scans; the tracemalloc figure comes from one extra, untimed run.",
            ],
        },
    )


if __name__ == "__main__":
    main()
