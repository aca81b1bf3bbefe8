"""The admin measure: the pages the committee and a unit's clerk work in, timed and counted.

    .venv/bin/python bench/admin.py                    # what ``make bench`` runs (scale 1)
    .venv/bin/python bench/admin.py --scale 0.05 --repeats 3
    .venv/bin/python bench/admin.py --scale 0.05 --profile committee_proposals_proposal

The data is ``bench.generate``'s district (10 sessions × 600 proposals at scale 1, 40 units,
one to five assignments a proposal, replies in every state, feedback, contacts), built — or
reused — in its own PostgreSQL database on the server of ``DATABASE_URL``. Then, in this
process, with Django's test ``Client`` (the whole middleware stack, no network), signed in with
``force_login`` as the committee and as a unit's clerk, it requests

- the admin index, the 工作台 dashboard (``tracker.dashboard``);
- the changelist of every registered model admin the user may view (those whose
  ``has_view_or_change_permission`` is true, and whose changelist then answers 200);
- the proposals changelist searched (``?q=`` four characters of a title) and the replies
  changelist searched for a proposal number (``?q=第001号``, in every session), both filtered
  by status, and the assignments filtered as the dashboard links them (``?due=overdue``);
- for the committee, the statistics page (``/admin/tools/statistics/``, grouped by unit, all
  sessions) and its Excel export (``?format=xlsx``).

Each page is requested once to warm up (imports, template and content-type caches, PostgreSQL's
buffers), once under ``CaptureQueriesContext`` (the query count: every query of the request,
session and user included), then ``--repeats`` times timed, the pages taken in turn so that all
see the same machine. Figures: the median wall time per page, and its query count. Target
(issue 10): every changelist ≤ 15 queries. ``--profile KEY`` runs one page under pyinstrument
(``pip install pyinstrument``; not a dependency) instead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

if __package__ in (None, ""):  # run as ``python bench/admin.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import emit, figure, log

DEFAULT_SERVER = "postgres://postgres:postgres@127.0.0.1:5432/tracker"
MAX_QUERIES = 15
SLOW_MS = 300.0  # what the issue calls slow, at scale 1
ROLES = ("committee", "clerk")


def setup_django(url: str) -> None:
    # whitenoise looks for STATIC_ROOT, which only production images fill (collectstatic).
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # nothing is enqueued; the cache is in-process
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()


@dataclass
class Page:
    key: str  # committee_proposals_proposal_q
    role: str
    label: str
    url: str
    changelist: bool
    rows: int | None = None
    queries: int | None = None
    bytes: int = 0
    times: list[float] = field(default_factory=list)


# --- What to request --------------------------------------------------------------------------


def _word(title: str) -> str:
    """A word of a title to search for: four characters after 关于, as a clerk would type."""
    text = title.removeprefix("关于")
    return text[:4] if len(text) >= 4 else text


def pages_for(role: str, user) -> list[Page]:
    from django.contrib import admin
    from django.db.models import Count
    from django.test import RequestFactory
    from django.urls import reverse

    from proposals.models import Proposal
    from replies.models import Reply

    request = RequestFactory().get("/admin/")
    request.user = user
    index = f"{role}: admin index (工作台 dashboard)"
    pages = [Page(f"{role}_index", role, index, "/admin/", False)]
    listed = set()
    for model, model_admin in sorted(
        admin.site._registry.items(), key=lambda kv: kv[0]._meta.label_lower
    ):
        if not model_admin.has_view_or_change_permission(request):
            continue
        opts = model._meta
        name = f"{opts.app_label}_{opts.model_name}"
        url = reverse(f"admin:{name}_changelist")
        listed.add(name)
        pages.append(
            Page(
                f"{role}_{name}",
                role,
                f"{role}: {opts.verbose_name_plural} changelist",
                url,
                True,
            )
        )

    def variant(name: str, suffix: str, what: str, query: str) -> None:
        if name in listed:
            url = reverse(f"admin:{name}_changelist")
            pages.append(
                Page(f"{role}_{name}_{suffix}", role, f"{role}: {what}", f"{url}?{query}", True)
            )

    proposals = Proposal.objects.visible_to(user)
    sample = proposals.exclude(title="").order_by("pk").first()
    if sample is not None:
        q = _word(sample.title)
        variant("proposals_proposal", "q", f"proposals searched ?q={q}", urlencode({"q": q}))
    statuses = proposals.order_by().values_list("status").annotate(n=Count("pk"))
    if statuses:
        status = max(statuses, key=lambda s: s[1])[0]
        variant(
            "proposals_proposal",
            "status",
            f"proposals filtered status={status}",
            urlencode({"status__exact": status}),
        )
    replies = Reply.objects.visible_to(user)
    reply = replies.exclude(title="").order_by("pk").first()
    if reply is not None:
        # What a unit types to find the reply to a proposal: its number (第001号, in every
        # session), matched in the reply's title and its proposal's number.
        q = reply.proposal.number or _word(reply.title)
        variant("replies_reply", "q", f"replies searched ?q={q}", urlencode({"q": q}))
    variant("replies_reply", "state", "replies filtered state=sent", "state__exact=sent")
    variant("proposals_assignment", "overdue", "assignments filtered due=overdue", "due=overdue")
    if user.sees_everything:
        stats = reverse("tracker_admin:statistics")
        pages.append(
            Page(
                f"{role}_statistics",
                role,
                f"{role}: statistics page, by unit, all sessions",
                stats,
                False,
            )
        )
        pages.append(
            Page(
                f"{role}_statistics_xlsx",
                role,
                f"{role}: statistics Excel export, by unit, all sessions",
                f"{stats}?group_by=unit&format=xlsx",
                False,
            )
        )
    return pages


# --- The measure ------------------------------------------------------------------------------


def measure(ds, repeats: int, only: set[str] | None = None) -> list[Page]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import (
        CaptureQueriesContext,
        setup_test_environment,
        teardown_test_environment,
    )

    from proposals.models import User

    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    with override_settings(ALLOWED_HOSTS=hosts, DEBUG=False):
        clients, pages = {}, []
        for role in ROLES:
            user = User.objects.get(username=ds.logins[role])
            client = Client()
            client.force_login(user)
            clients[role] = client
            for page in pages_for(role, user):
                if only and page.key not in only:
                    continue
                response = client.get(page.url)  # warm-up
                if response.status_code != 200:
                    log(f"  {page.key}: {page.url} answered {response.status_code}; left out")
                    continue
                # The test environment's instrumented rendering gives the changelist's context
                # (its row count); only for this request, not for the timed ones.
                setup_test_environment()
                try:
                    with CaptureQueriesContext(connection) as ctx:
                        response = client.get(page.url)
                finally:
                    teardown_test_environment()
                page.queries = len(ctx.captured_queries)
                page.bytes = len(response.content)
                cl = response.context.get("cl") if response.context else None
                if cl is not None:
                    page.rows = cl.result_count
                pages.append(page)
        log(f"timing {len(pages)} pages, {repeats} times each, in turn")
        for _ in range(repeats):
            for page in pages:
                client = clients[page.role]
                start = time.perf_counter()
                response = client.get(page.url)
                page.times.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{page.url} answered {response.status_code}")
    return pages


def profile(ds, key: str) -> None:
    from django.conf import settings
    from django.test import Client, override_settings
    from pyinstrument import Profiler

    from proposals.models import User

    role = key.split("_", 1)[0]
    user = User.objects.get(username=ds.logins[role])
    page = next((p for p in pages_for(role, user) if p.key == key), None)
    if page is None:
        raise SystemExit(f"no page {key!r}; keys: {[p.key for p in pages_for(role, user)]}")
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"], DEBUG=False):
        client = Client()
        client.force_login(user)
        client.get(page.url)
        profiler = Profiler()
        profiler.start()
        for _ in range(3):
            client.get(page.url)
        profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="of bench.generate's district")
    parser.add_argument("--repeats", type=int, default=7, help="timed requests of each page")
    parser.add_argument("--only", nargs="*", help="page keys to measure (default: all)")
    parser.add_argument("--profile", metavar="KEY", help="profile one page with pyinstrument")
    args = parser.parse_args()

    from bench import generate

    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    log(f"bench.generate at scale {args.scale}")
    started = time.perf_counter()
    ds = generate.ensure(server, open_assignments=0, scale=args.scale)
    log(f"  ready in {time.perf_counter() - started:.0f} s: {ds.counts}")
    setup_django(ds.url)
    if args.profile:
        profile(ds, args.profile)
        return
    pages = measure(ds, args.repeats, set(args.only) if args.only else None)
    from django.db import connections

    connections.close_all()

    figures, slow, over = [], [], []
    for page in pages:
        ms = statistics.median(page.times)
        rows = f", {page.rows:,} rows" if page.rows is not None else ""
        figures.append(
            figure(
                f"{page.key}_ms",
                f"{page.label}{rows}, median of {len(page.times)}",
                round(ms, 1),
                "ms",
                samples=page.times,
            )
        )
        figures.append(
            figure(
                f"{page.key}_queries",
                f"{page.label}, SQL queries",
                page.queries,
                "queries",
                target=("<=", MAX_QUERIES) if page.changelist else None,
            )
        )
        if ms > SLOW_MS:
            slow.append(f"{page.key} {ms:.0f} ms")
        if page.changelist and (page.queries or 0) > MAX_QUERIES:
            over.append(f"{page.key} {page.queries}")
    sessions = len(ds.sessions)
    notes = [
        f"bench.generate at scale {args.scale:g} ({sessions} sessions; {ds.counts}); "
        f"signed in as the committee ({ds.logins['committee']}) and a unit's clerk "
        f"({ds.logins['clerk']}) with the test Client; each page warmed up once, its queries "
        f"counted once (CaptureQueriesContext, session and user included), then timed "
        f"{args.repeats} times, the pages in turn; wall time per request, median.",
    ]
    if slow:
        notes.append(f"over {SLOW_MS:.0f} ms: {', '.join(slow)}")
    if over:
        notes.append(f"over {MAX_QUERIES} queries: {', '.join(over)}")
    emit("admin", figures, {"notes": notes})


if __name__ == "__main__":
    main()
