"""The api measure: the public list of published replies, in-process, against a plain view.

    .venv/bin/python bench/api.py                      # what ``make bench`` runs
    .venv/bin/python bench/api.py --replies 3000 --requests 300 --keep

Like ``bench/scan.py``, it needs PostgreSQL: on the server of ``DATABASE_URL`` (default: the
Makefile's test server) it creates its own database ``tracker_bench_api`` (dropped first if it
exists, and at the end unless ``--keep``), migrates it and writes, with ``bulk_create``, a
district's published replies: ``--replies`` published (主动公开) replies of 40 units over two
sessions, each with its filed proposal (a lead and two co-proposers) and lead assignment, plus
half as many replies that must not show (依申请公开, sent but not yet published, drafts).

Then, in this process, with Django's test ``Client`` (the whole middleware stack, no network),
alternating the two so that both see the same machine state, it times ``--requests`` GETs of

- ``/api/v1/replies/`` — the first page (20 replies, newest published first), through DRF:
  filters, cursor pagination, serializers, the JSON renderer, the cache headers;
- a plain Django view returning the same JSON — the same 21 rows read with ``.values()``, the
  same nested objects, URLs and ``next`` cursor, ``JsonResponse`` — checked equal to the API's
  body before timing;

and reports the median (p50) and p95 of each, their ratio, and the detail of one reply. Throttling
is off for the run (it would count every request of the loop). Figures are wall time per request.
Targets (issues 7 and 10): p50 ≤ 25 ms and ≤ 3× the plain view.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as ``python bench/api.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_database_url, emit, figure, log
from bench import drop_database as shared_drop
from bench import recreate_database as shared_recreate

DEFAULT_SERVER = "postgres://postgres:postgres@127.0.0.1:5432/tracker"
BENCH_DB = "tracker_bench_api"
P50_TARGET_MS = 25.0
RATIO_TARGET = 3.0
UNITS = 40
PAGE = 20


# --- The database (as bench/scan.py does it) ---------------------------------------------


def bench_url(server_url: str) -> str:
    return bench_database_url(server_url, BENCH_DB, "bench/api.py")


def recreate_database(url: str) -> None:
    shared_recreate(url, BENCH_DB)


def drop_database(url: str) -> None:
    shared_drop(url, BENCH_DB)


def setup_django(url: str) -> None:
    import warnings

    # whitenoise looks for STATIC_ROOT, which only production images fill (collectstatic).
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # nothing is enqueued; the cache is in-process
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()


# --- The data -------------------------------------------------------------------------------


def generate(published: int) -> dict:
    """``published`` published replies and ``published // 2`` that must not show."""
    from django.db import transaction
    from django.utils import timezone

    from proposals.models import (
        Assignment,
        AssignmentState,
        CoProposer,
        Proposal,
        ProposalStatus,
        Proposer,
        Session,
        Unit,
    )
    from replies.models import Disclosure, Reply, ReplyState, result_class_for

    hidden = published // 2
    total = published + hidden
    labels = [
        "解决或采纳",
        "采纳",
        "列入计划拟解决",
        "部分采纳",
        "因条件限制暂不能解决",
        "留作参考",
    ]
    with transaction.atomic():
        sessions = [
            Session.objects.create(
                district="长宁", term=15, meeting=m, name=f"十五届{'一二三'[m - 1]}次会议", year=y
            )
            for m, y in ((2, 2024), (3, 2025))
        ]
        units = Unit.objects.bulk_create(
            Unit(
                name=f"长宁区第{i}委办局",
                short_name=f"第{i}局",
                organ_name=f"上海市长宁区第{i}委办局",
                docno_prefix=f"长{i}",
            )
            for i in range(1, UNITS + 1)
        )
        proposers = Proposer.objects.bulk_create(
            Proposer(name=f"委员{i}", mobile=f"1390000{i:04d}", email=f"m{i}@example.org")
            for i in range(300)
        )
        now = timezone.now()
        proposals = []
        for i in range(total):
            session = sessions[i % 2]
            serial = i // 2 + 1
            proposals.append(
                Proposal(
                    session=session,
                    serial=serial,
                    number=session.format_number(serial),
                    title=f"关于推进第{i}项民生实事的建议",
                    lead_proposer=proposers[i % len(proposers)],
                    status=ProposalStatus.REPLIED,
                    submitted_at=now,
                    filed_at=now,
                )
            )
        proposals = Proposal.objects.bulk_create(proposals, batch_size=1000)
        CoProposer.objects.bulk_create(
            (
                CoProposer(
                    proposal=p,
                    proposer=proposers[(i + j * 7) % len(proposers)],
                    position=j,
                    confirmed_at=now,
                )
                for i, p in enumerate(proposals)
                for j in (1, 2)
            ),
            batch_size=2000,
        )
        assignments = Assignment.objects.bulk_create(
            (
                Assignment(
                    proposal=p,
                    unit=units[i % UNITS],
                    role=Assignment.Role.LEAD,
                    state=AssignmentState.REPLIED,
                    assigned_on=datetime.date(2024 + i % 2, 3, 1),
                )
                for i, p in enumerate(proposals)
            ),
            batch_size=1000,
        )
        replies = []
        counters: dict[tuple[int, int], int] = {}
        for i, a in enumerate(assignments):
            year = 2024 + i % 2
            signed_on = datetime.date(year, 5, 1) + datetime.timedelta(days=i % 120)
            key = (a.unit_id, year)
            counters[key] = counters.get(key, 0) + 1
            label = labels[i % len(labels)]
            shown = i < published
            state = ReplyState.PUBLISHED if shown else [ReplyState.SENT, ReplyState.DRAFT][i % 2]
            at = timezone.make_aware(datetime.datetime.combine(signed_on, datetime.time(9)))
            replies.append(
                Reply(
                    assignment=a,
                    proposal_id=a.proposal_id,
                    unit_id=a.unit_id,
                    title=f"对区政协十五届二次会议第{i:03d}号提案的答复",
                    salutation="委员：",
                    body="一、基本情况\n" + "我单位高度重视，认真研究办理。" * 40,
                    closing="感谢对我们工作的关心和支持。",
                    result_label=label,
                    result_class=result_class_for(label),
                    disclosure=Disclosure.PUBLIC if shown or i % 3 else Disclosure.ON_REQUEST,
                    state=state,
                    docno_prefix=f"长{a.unit_id}",
                    docno_year=year if state != ReplyState.DRAFT else None,
                    docno_number=counters[key] if state != ReplyState.DRAFT else None,
                    signed_on=signed_on if state != ReplyState.DRAFT else None,
                    signed_at=at if state != ReplyState.DRAFT else None,
                    sent_at=at if state != ReplyState.DRAFT else None,
                    published_on=signed_on + datetime.timedelta(days=10) if shown else None,
                    pdf=f"letters/{year}/reply-{i}.pdf" if shown else "",
                    pdf_sha256=f"{i:064x}" if shown else "",
                )
            )
        Reply.objects.bulk_create(replies, batch_size=1000)
    with connection_cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"published": published, "hidden": hidden, "units": UNITS}


def connection_cursor():
    from django.db import connection

    return connection.cursor()


# --- The plain view -------------------------------------------------------------------------


def plain_replies(request):
    """The API's first page written by hand: ``.values()``, dicts, ``JsonResponse``."""
    from django.http import JsonResponse
    from django.urls import reverse
    from django.utils import timezone

    from replies.api.views import PublishedReplyPagination
    from replies.models import Reply

    rows = list(
        Reply.objects.published()
        .filter(signed_on__isnull=False, published_on__isnull=False)
        .order_by("-published_on", "-id")
        .values(
            "id",
            "title",
            "docno_prefix",
            "docno_year",
            "docno_number",
            "unit__organ_name",
            "unit_id",
            "unit__name",
            "unit__short_name",
            "proposal__session_id",
            "proposal__session__district",
            "proposal__session__name",
            "proposal__number",
            "kind",
            "result_label",
            "result_class",
            "signed_on",
            "published_on",
            "updated_at",
            "pdf",
        )[: PAGE + 1]
    )
    results = []
    for r in rows[:PAGE]:
        number = r["docno_number"]
        doc = f"{r['docno_prefix']}〔{r['docno_year']}〕{number}号" if number is not None else ""
        url = request.build_absolute_uri(reverse("api:reply-detail", kwargs={"pk": r["id"]}))
        pdf = reverse("api:reply-pdf", kwargs={"pk": r["id"]}) if r["pdf"] else None
        results.append(
            {
                "id": r["id"],
                "title": r["title"],
                "doc_number": doc,
                "organ": r["unit__organ_name"],
                "unit": {
                    "id": r["unit_id"],
                    "name": r["unit__name"],
                    "short_name": r["unit__short_name"],
                },
                "session": {
                    "id": r["proposal__session_id"],
                    "district": r["proposal__session__district"],
                    "name": r["proposal__session__name"],
                },
                "proposal_number": r["proposal__number"],
                "kind": r["kind"],
                "result_label": r["result_label"],
                "result_class": r["result_class"],
                "signed_on": r["signed_on"].isoformat(),
                "published_on": r["published_on"].isoformat(),
                "updated_at": timezone.localtime(r["updated_at"]).isoformat(),
                "url": url,
                "pdf_url": request.build_absolute_uri(pdf) if pdf else None,
            }
        )
    # The same ``next`` link as the API's, from the same cursor rules.
    paginator = PublishedReplyPagination()
    paginator.base_url = request.build_absolute_uri("/api/v1/replies/")
    paginator.ordering = ("-published_on", "-id")
    paginator.page_size, paginator.cursor, paginator.page = PAGE, None, results
    paginator.has_previous, paginator.has_next = False, len(rows) > PAGE
    if paginator.has_next:
        paginator.next_position = str(rows[PAGE]["published_on"])
    body = {"next": paginator.get_next_link(), "previous": None, "results": results}
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


class BenchURLs:
    """The project's URLs plus the plain view."""

    def __init__(self) -> None:
        from django.urls import include, path

        self.urlpatterns = [
            path("plain/replies/", plain_replies),
            path("", include("tracker.urls")),
        ]


# --- The measure ----------------------------------------------------------------------------


def timed(client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.content[:300]!r}")
    return elapsed * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(requests: int) -> dict:
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from replies.models import Reply

    rest = {
        **__import__("django.conf").conf.settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {},
    }
    with override_settings(ROOT_URLCONF=BenchURLs(), REST_FRAMEWORK=rest, DEBUG=False):
        client = Client()
        api_url, plain_url = "/api/v1/replies/", "/plain/replies/"
        api_body = json.loads(client.get(api_url).content)
        plain_body = json.loads(client.get(plain_url).content)
        if api_body != plain_body:
            log(json.dumps(api_body, ensure_ascii=False)[:1500])
            log(json.dumps(plain_body, ensure_ascii=False)[:1500])
            raise SystemExit("the plain view does not return the API's JSON")
        detail_url = api_body["results"][0]["url"].removeprefix("http://testserver")
        with CaptureQueriesContext(connection) as ctx:
            client.get(api_url)
        list_queries = len(ctx.captured_queries)
        for _ in range(20):  # warm-up: imports, caches, PostgreSQL's buffers
            client.get(api_url)
            client.get(plain_url)
            client.get(detail_url)
        api, plain, detail = [], [], []
        for _ in range(requests):
            api.append(timed(client, api_url))
            plain.append(timed(client, plain_url))
            detail.append(timed(client, detail_url))
        count = Reply.objects.published().count()
    return {
        "api": api,
        "plain": plain,
        "detail": detail,
        "published": count,
        "list_queries": list_queries,
        "bytes": len(json.dumps(api_body, ensure_ascii=False).encode()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=3000, help="published replies")
    parser.add_argument("--requests", type=int, default=300, help="timed requests of each view")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database")
    args = parser.parse_args()

    url = bench_url(os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    log(f"creating {BENCH_DB} on {urlsplit(url).hostname} and migrating")
    recreate_database(url)
    try:
        setup_django(url)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        log(f"generating {args.replies} published replies (and {args.replies // 2} hidden)")
        started = time.perf_counter()
        data = generate(args.replies)
        log(f"  generated in {time.perf_counter() - started:.1f} s: {data}")
        log(f"timing {args.requests} requests of the API list, the plain view and a detail")
        result = measure(args.requests)
        from django.db import connections

        connections.close_all()
    finally:
        if not args.keep:
            drop_database(url)

    api_p50 = statistics.median(result["api"])
    plain_p50 = statistics.median(result["plain"])
    ratio = api_p50 / plain_p50
    n = f"{result['published']:,}"
    figures = [
        figure(
            "api_list_p50_ms",
            f"Public API replies/ (first page of 20, {n} published), p50 in-process",
            round(api_p50, 2),
            "ms",
            target=("<=", P50_TARGET_MS),
            samples=result["api"],
        ),
        figure(
            "api_list_p95_ms",
            "Public API replies/, p95 in-process",
            round(percentile(result["api"], 0.95), 2),
            "ms",
        ),
        figure(
            "plain_list_p50_ms",
            "Plain Django view, same JSON from .values(), p50 in-process",
            round(plain_p50, 2),
            "ms",
            samples=result["plain"],
        ),
        figure(
            "api_list_ratio",
            "Public API replies/ p50 / plain view p50",
            round(ratio, 2),
            "×",
            target=("<=", RATIO_TARGET),
        ),
        figure(
            "api_detail_p50_ms",
            "Public API replies/{id}/ (full text, ETag), p50 in-process",
            round(statistics.median(result["detail"]), 2),
            "ms",
            samples=result["detail"],
        ),
        figure("api_list_queries", "SQL queries of one list request", result["list_queries"], ""),
    ]
    notes = [
        f"{n} published replies of {UNITS} units (plus {args.replies // 2} that must not show) "
        f"in PostgreSQL; {args.requests} requests of each view with Django's test Client, "
        "alternating; wall time per request including the middleware and JSON rendering; "
        f"the first page is {result['bytes']:,} bytes and equal in both views.",
    ]
    emit("api", figures, {"notes": notes})


if __name__ == "__main__":
    main()
