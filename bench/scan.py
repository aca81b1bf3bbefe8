"""The scan measure: the daily reminder scan over 100,000 open assignments in PostgreSQL.

    .venv/bin/python bench/scan.py --assignments 100000      # what ``make bench`` runs
    .venv/bin/python bench/scan.py --assignments 20000 --small 2000 --runs 3 --scale 0.05

It needs PostgreSQL: the server of ``DATABASE_URL`` (default: the Makefile's test server,
``postgres://postgres:postgres@127.0.0.1:5432/…``). The data is the shared benchmark data set
(``bench/generate.py``: ten sessions of a district, 6,000 proposals with their replies) with
``--assignments`` open assignments added as a district has them — ``generate.ensure(server,
open_assignments=100_000)``, database ``tracker_bench_data_open100000``, built on first use and
reused afterwards. Then, in a fresh child process (so that its peak memory is the scan's, not
the generator's), it runs ``tracker.reminders.run_scan(today=2026-11-23, dispatch=False)`` — the
daily scan that beat runs, minus the enqueueing of the digests — ``--runs`` times on an ordinary
morning (the six working days before were scanned first, in another child, and each run forgets
only its own rows), then once on an empty ledger (the first day, when every step is due at
once), and measures:

- the wall time of each run (the figure is the median);
- the peak resident memory of the child (``ru_maxrss``: Python, Django and the scan together)
  and, in one extra run under ``tracemalloc``, the peak of what the scan itself allocated;
- the number of SQL queries of a run — counted, not stored, with ``connection.execute_wrapper``
  — at ``--small`` assignments (its own data set, ``…_open10000``) and at ``--assignments``:
  the scan is set-based, so the two counts are the same.

The reminder ledger (reminders, digests, scan runs) is emptied before and after, so the data
set is left as it was built. It prints its figures as one JSON line (``bench/README.md``);
progress goes to stderr. Targets (issue 5): ≤ 5 s and ≤ 300 MB at 100,000 open assignments,
the same query count.
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

if __package__ in (None, ""):  # run as ``python bench/scan.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import emit, figure, log

DEFAULT_SERVER = "postgres://postgres:postgres@127.0.0.1:5432/tracker"
TODAY = datetime.date(2026, 11, 23)  # a Monday; the data is generated around it
PREVIOUS_DAYS = 6  # working days scanned before the measured one
TIME_TARGET_S = 5.0
MEMORY_TARGET_MB = 300.0


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # nothing is enqueued: dispatch=False
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()


# --- The data ---------------------------------------------------------------------------------


def dataset(server: str, assignments: int, scale: float):
    """The shared benchmark data set with ``assignments`` open assignments added
    (``bench/generate.py``: built once, then reused while its fingerprint matches)."""
    from bench import generate

    return generate.ensure(server, open_assignments=assignments, scale=scale)


def forget_ledger() -> None:
    """Empty the reminder ledger, so the shared data set is left as it was built."""
    from django.db import connection

    from tracker.models import Digest, Reminder, ScanRun

    tables = [Digest._meta.db_table, Reminder._meta.db_table, ScanRun._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)}")


def describe() -> dict:
    from proposals.models import Assignment, DueDate, Unit
    from replies.models import Reply

    return {
        "units": Unit.objects.count(),
        "open_assignments": Assignment.objects.open().count(),
        "due_dates": DueDate.objects.count(),
        "replies_awaiting_publication": Reply.objects.filter(
            state="sent", disclosure="public", published_on__isnull=True
        ).count(),
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


def child(url: str, mode: str, runs: int = 1) -> dict:
    """``--fill`` (scan the days before, untimed) or ``--child`` (``measure``) in a new
    interpreter against ``url``; its result from the last line of its stdout."""
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("REDIS_URL", None)
    command = [sys.executable, __file__, mode, "--runs", str(runs)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1500)
    if result.returncode != 0:
        raise SystemExit(f"the {mode} child failed:\n{result.stderr[-4000:]}")
    for line in result.stderr.splitlines():
        log(line)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignments", type=int, default=100_000)
    parser.add_argument(
        "--small", type=int, default=10_000, help="the smaller scale of the query-count check"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed scans (the median counts)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="of the data set under the open assignments"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fill", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.fill:  # empty the ledger, then scan the days before TODAY
        setup_django(os.environ["DATABASE_URL"])
        forget_ledger()
        fill_ledger(PREVIOUS_DAYS)
        print(json.dumps(describe()))
        return
    if args.child:
        setup_django(os.environ["DATABASE_URL"])
        try:
            print(json.dumps(measure(args.runs)))
        finally:
            forget_ledger()
        return

    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    small = None
    if 0 < args.small < args.assignments:
        log(f"the data set with {args.small} open assignments")
        small_ds = dataset(server, args.small, args.scale)
        log(f"scanning the {PREVIOUS_DAYS} working days before {TODAY}")
        child(small_ds.url, "--fill")
        log("measuring the small scan")
        small = child(small_ds.url, "--child", 1)
    log(f"the data set with {args.assignments} open assignments")
    started = time.perf_counter()
    ds = dataset(server, args.assignments, args.scale)
    log(f"  ready in {time.perf_counter() - started:.0f} s: {ds.counts}")
    log(f"scanning the {PREVIOUS_DAYS} working days before {TODAY}")
    data = child(ds.url, "--fill")
    log(f"measuring {args.runs} scans")
    big = child(ds.url, "--child", args.runs)

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
                f"Data: the shared benchmark data set (bench/generate.py, {ds.name}) — ten "
                "sessions, 6,000 proposals — plus the open assignments, 200 per unit.",
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
