"""The api measure: the public list of published replies against a plain view, in-process and
over HTTP (gunicorn + wrk).

    .venv/bin/python bench/api.py                      # what ``make bench`` runs
    .venv/bin/python bench/api.py --scale 0.05 --requests 100 --duration 5

The data is the shared bench dataset (``bench.generate.ensure``, scale 1: 10 sessions of 600
proposals, 40 units, replies in every state, 3,000+ of them published), built or reused in its
own PostgreSQL database on the server of ``DATABASE_URL``. The measure only reads it.

In-process, with Django's test ``Client`` (the whole middleware stack, no network), alternating
the views so that all see the same machine state, it times ``--requests`` GETs of

- ``/api/v1/replies/`` — the first page (20 replies, newest published first), through DRF:
  filters, cursor pagination, serializers, the JSON renderer, the cache headers;
- a plain Django view returning the same JSON (``bench.api.plain_replies``, mounted at
  ``/plain/replies/`` by ``bench/api_urls.py``) — the same 21 rows read with ``.values()``, the
  same nested objects, URLs and ``next`` cursor, ``JsonResponse`` — checked equal to the API's
  body before timing;
- ``/api/v1/replies/{id}/`` — the detail (full text, ETag) of the newest one;

and reports p50 and p95, the list's ratio to the plain view and its query count.

Over HTTP, it starts ``gunicorn bench.api_wsgi:application -w 2`` on a free loopback port
(DEBUG off; ``bench/api_wsgi.py`` mounts the same URLconf; gunicorn.conf.py applies, its access
log included), checks the two list bodies are equal again, and runs ``wrk -t1 -c<connections>
-d<duration>s`` against each URL after a short warm-up, a Lua ``done()`` hook printing p50, p95
and requests/s; the gunicorn workers' CPU time (``/proc``) over the run, per request, is the
figure the machine's other load disturbs least. With more connections than gunicorn's 2 sync
workers, a request's latency includes its wait in the listen queue (about connections ÷
throughput); the in-process figures are the service time. Without ``wrk`` a threaded
``http.client`` loop of the same shape does it. Throttling is off in both (it would count every
request of the loop). Runs:

- uncached (as before issue 24): the public cache's stamp unset;
- cached as deployed: the public answers in Redis (``--redis-db``), their hits answered by
  ``tracker.fastcache`` in front of Django, sync workers;
- the same with threaded workers (``GUNICORN_THREADS=--threads``, 4) and keep-alive, which wrk
  uses and sync workers refuse;
- with ``--stack``: cached, sync workers, without the fast path (``PUBLIC_FASTCACHE=0``), each
  hit through the whole middleware stack and the view (the figure before the fast path).

Targets (issues 7 and 10): in-process p50 ≤ 25 ms and ≤ 3× the plain view; the HTTP ratio
carries the 3× target too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/api.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import CHILD_TOKEN, ROOT, emit, figure, log, stop_process

DEFAULT_SERVER = "postgres://postgres:postgres@127.0.0.1:5432/tracker"
P50_TARGET_MS = 25.0
#: Issue 24: the public answers from the cache, ≥ 1,000 req/s with p95 ≤ 50 ms on 2 cores.
CACHED_RPS_TARGET = 1000
CACHED_P95_TARGET_MS = 50
RATIO_TARGET = 3.0
PAGE = 20
BENCH_URLCONF = "bench.api_urls"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
GUNICORN_WORKERS = 2
SERVER_READY_TIMEOUT = 60.0

#: wrk's ``done()`` hook: one JSON line, latencies in microseconds.
WRK_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "mean_us": %.1f, "max_us": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), latency.mean, latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def setup_django(url: str) -> None:
    import warnings

    # whitenoise looks for STATIC_ROOT, which only production images fill (collectstatic).
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # nothing is enqueued; the cache is in-process
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    import django

    django.setup()
    try:  # the in-process figures are the uncached work (issue 24 caches the public answers)
        from replies.api import public_cache
    except ImportError:
        pass
    else:
        public_cache.STAMP = None


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
            "supersedes_id",
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
                "supersedes": r["supersedes_id"],
                # The list shows withdrawn replies only when asked (include=withdrawn).
                "withdrawn": False,
                "superseded_by": None,
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


# --- In-process -----------------------------------------------------------------------------


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


def check_same(api_body: dict, plain_body: dict) -> None:
    if api_body != plain_body:
        log(json.dumps(api_body, ensure_ascii=False)[:1500])
        log(json.dumps(plain_body, ensure_ascii=False)[:1500])
        raise SystemExit("the plain view does not return the API's JSON")


def measure(requests: int) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from replies.models import Reply

    rest = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    with override_settings(ROOT_URLCONF=BENCH_URLCONF, REST_FRAMEWORK=rest, DEBUG=False):
        client = Client()
        api_url, plain_url = "/api/v1/replies/", "/plain/replies/"
        api_body = json.loads(client.get(api_url).content)
        check_same(api_body, json.loads(client.get(plain_url).content))
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
        "detail_path": detail_url,
        "published": count,
        "list_queries": list_queries,
        "bytes": len(json.dumps(api_body, ensure_ascii=False).encode()),
    }


# --- Over HTTP ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_gunicorn(
    data_url: str,
    port: int,
    env: dict,
    logfile: Path,
    *,
    redis: str | None = None,
    fast: bool = True,
    threads: int = 1,
) -> subprocess.Popen:
    """gunicorn on the bench URLconf: uncached (the public cache's stamp unset, the Django
    cache in-process) or, with ``redis``, as deployed (the public answers cached in Redis,
    their hits answered by ``tracker.fastcache`` unless ``fast`` is false); sync workers, or
    threaded ones with keep-alive (``GUNICORN_THREADS``, gunicorn.conf.py)."""
    env = {
        **env,
        "DATABASE_URL": data_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore::UserWarning",  # whitenoise: no STATIC_ROOT (no collectstatic)
    }
    env.pop("REDIS_URL", None)  # the cache is in-process, as in the in-process figures
    if redis:
        env["REDIS_URL"] = redis
    env["BENCH_API_UNCACHED"] = "0" if redis else "1"
    env["PUBLIC_FASTCACHE"] = "1" if fast else "0"
    env["GUNICORN_THREADS"] = str(threads)
    cmd = [
        str(GUNICORN),
        "bench.api_wsgi:application",
        "-w",
        str(GUNICORN_WORKERS),
        "-b",
        f"127.0.0.1:{port}",
        "--chdir",
        str(ROOT),
        "--log-level",
        "warning",
    ]
    with logfile.open("wb") as handle:
        return subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def workers_cpu(master: int) -> float:
    """CPU seconds (user + system) used so far by the gunicorn master's children (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if int(fields[1]) == master:  # fields[1] is the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def wait_ready(proc: subprocess.Popen, base: str, logfile: Path) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < SERVER_READY_TIMEOUT:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{tail(logfile)}")
        with contextlib.suppress(OSError):
            status, _ = get(base + "/plain/replies/", timeout=5)
            if status == 200:
                return time.perf_counter() - start
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer in {SERVER_READY_TIMEOUT:.0f} s:\n{tail(logfile)}")


def wrk(url: str, connections: int, duration: float, script: Path, env: dict) -> dict:
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    result = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stdout}{result.stderr}")
    data = json.loads(lines[-1])
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "p50_ms": data["p50_us"] / 1000,
        "p95_ms": data["p95_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "requests": data["requests"],
        "errors": errors,
        "error_detail": {k: data[k] for k in ("connect", "read", "write", "status", "timeout")},
    }


def python_load(url: str, connections: int, duration: float) -> dict:
    """wrk's job without wrk: ``connections`` threads, each a keep-alive ``http.client`` loop."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + duration

    def worker() -> None:
        conn = None
        mine: list[float] = []
        while time.perf_counter() < deadline:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                start = time.perf_counter()
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                mine.append((time.perf_counter() - start) * 1000)
                if response.status != 200:
                    with lock:
                        errors[0] += 1
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                with lock:
                    errors[0] += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()
        with lock:
            latencies.extend(mine)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return {
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "rps": len(latencies) / elapsed,
        "requests": len(latencies),
        "errors": errors[0],
        "error_detail": {},
    }


def measure_http(data_url: str, detail_path: str, args: argparse.Namespace) -> dict:
    """Uncached (as before issue 24), then cached as deployed (Redis), under wrk: with sync
    workers, and with ``GUNICORN_THREADS`` threads and keep-alive; with ``--stack``, cached
    through the whole middleware stack too (``PUBLIC_FASTCACHE=0``, sync workers)."""
    out = _measure_http(data_url, detail_path, args, None)
    from bench.pdfqueue import flush_redis, redis_url

    redis = redis_url(args.redis_db)
    runs = {"cached": {}, "cached_threads": {"threads": args.threads}}
    if args.stack:
        runs["cached_stack"] = {"fast": False}
    try:
        for name, options in runs.items():
            flush_redis(redis)
            out[name] = _measure_http(data_url, detail_path, args, redis, **options)
    finally:
        flush_redis(redis)
    return out


def _measure_http(
    data_url: str,
    detail_path: str,
    args: argparse.Namespace,
    redis: str | None,
    *,
    fast: bool = True,
    threads: int = 1,
) -> dict:
    token = uuid.uuid4().hex
    env = {**os.environ, CHILD_TOKEN: token}
    workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    logfile = workdir / "gunicorn.log"
    script = workdir / "report.lua"
    script.write_text(WRK_LUA)
    use_wrk = shutil.which("wrk") is not None and not args.no_wrk
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = None
    try:
        kind = f"{threads} threads each, keep-alive" if threads > 1 else "sync"
        fastpath = "" if not redis else (", fast path" if fast else ", no fast path")
        log(f"api: gunicorn -w {GUNICORN_WORKERS} ({kind}{fastpath}) on {base}")
        proc = start_gunicorn(data_url, port, env, logfile, redis=redis, fast=fast, threads=threads)
        ready = wait_ready(proc, base, logfile)
        log(f"api:   answering after {ready:.1f} s")
        urls = {
            "list": base + "/api/v1/replies/",
            "plain": base + "/plain/replies/",
            "detail": base + detail_path,
        }
        if redis:  # the public pages, when the publication app serves them
            pk = detail_path.rstrip("/").rsplit("/", 1)[-1]
            for name, path in (
                ("public_list", "/public/"),
                ("public_detail", f"/public/replies/{pk}/"),
            ):
                if get(base + path)[0] == 200:
                    urls[name] = base + path
        bodies = {}
        for name in ("list", "plain"):
            status, body = get(urls[name])
            if status != 200:
                raise RuntimeError(f"{urls[name]} answered {status}: {body[:300]!r}")
            bodies[name] = json.loads(body)
        check_same(bodies["list"], bodies["plain"])
        status, _ = get(urls["detail"])
        if status != 200:
            raise RuntimeError(f"{urls['detail']} answered {status}")
        tool = "wrk" if use_wrk else "python"
        out = {"tool": tool}
        for name, url in urls.items():
            if redis and name == "plain":
                continue  # the plain view is the uncached run's yardstick
            log(
                f"api:   {tool} {name}: {args.connections} connections, "
                f"{args.warmup:.0f} s warm-up + {args.duration:.0f} s"
            )
            if use_wrk:
                wrk(url, args.connections, args.warmup, script, env)
                cpu = workers_cpu(proc.pid)
                out[name] = wrk(url, args.connections, args.duration, script, env)
            else:
                python_load(url, args.connections, args.warmup)
                cpu = workers_cpu(proc.pid)
                out[name] = python_load(url, args.connections, args.duration)
            r = out[name]
            used = workers_cpu(proc.pid) - cpu
            r["cpu_us"] = round(used * 1e6 / r["requests"]) if r["requests"] and used else None
            log(
                f"api:     p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, "
                f"{r['rps']:.0f} req/s, {r['requests']} requests, {r['errors']} errors, "
                f"workers' CPU {r['cpu_us']} µs per request"
            )
            if r["errors"]:
                raise RuntimeError(
                    f"{name}: {r['errors']} errors {r['error_detail']}:\n{tail(logfile)}"
                )
        return out
    finally:
        stop_process(proc, token, "api: gunicorn")
        shutil.rmtree(workdir, ignore_errors=True)


# --- Main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="dataset scale (1.0)")
    parser.add_argument("--requests", type=int, default=300, help="in-process requests of each")
    parser.add_argument("--connections", type=int, default=8, help="HTTP connections (8)")
    parser.add_argument("--duration", type=float, default=15, help="seconds of load per URL")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per URL")
    parser.add_argument("--no-http", action="store_true", help="in-process figures only")
    parser.add_argument("--no-wrk", action="store_true", help="the Python load loop, not wrk")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads of a threaded worker (GUNICORN_THREADS)"
    )
    parser.add_argument(
        "--stack",
        action="store_true",
        help="the cached answers through the middleware stack too (PUBLIC_FASTCACHE=0)",
    )
    parser.add_argument(
        "--redis-db",
        type=int,
        default=int(os.environ.get("BENCH_REDIS_DB", 14)),
        help="Redis db of the cached run (14); BENCH_REDIS_DB overrides the default",
    )
    args = parser.parse_args()
    load_start = os.getloadavg()[0]

    from bench import generate

    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    log(f"api: the shared dataset (scale {args.scale})")
    started = time.perf_counter()
    ds = generate.ensure(server, open_assignments=0, scale=args.scale)
    log(f"api:   ready in {time.perf_counter() - started:.1f} s: {ds.url.rsplit('/', 1)[-1]}")

    setup_django(ds.url)
    log(f"api: in-process, {args.requests} requests of the API list, the plain view and a detail")
    result = measure(args.requests)
    from django.db import connections

    connections.close_all()
    http = None if args.no_http else measure_http(ds.url, result["detail_path"], args)

    api_p50 = statistics.median(result["api"])
    plain_p50 = statistics.median(result["plain"])
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
            "Public API replies/ p50 / plain view p50, in-process",
            round(api_p50 / plain_p50, 2),
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
        f"Shared dataset (bench.generate, scale {args.scale}): {n} published replies of "
        f"{len(ds.units)} units; {args.requests} requests of each view with Django's test "
        "Client, alternating; wall time per request including the middleware and JSON "
        f"rendering; the first page is {result['bytes']:,} bytes and equal in both views.",
    ]
    if http is not None:
        c = args.connections
        labels = {
            "list": "Public API replies/",
            "plain": "Plain view",
            "detail": "Public API replies/{id}/",
        }
        for name, label in labels.items():
            r = http[name]
            figures += [
                figure(
                    f"http_{name}_p50_ms",
                    f"{label} over HTTP, p50 ({c} connections)",
                    round(r["p50_ms"], 2),
                    "ms",
                ),
                figure(
                    f"http_{name}_p95_ms",
                    f"{label} over HTTP, p95 ({c} connections)",
                    round(r["p95_ms"], 2),
                    "ms",
                ),
                figure(
                    f"http_{name}_rps",
                    f"{label} over HTTP, requests/s",
                    round(r["rps"], 1),
                    "req/s",
                ),
            ]
        cached_labels = {
            **labels,
            "public_list": "Public page /public/",
            "public_detail": "Public page /public/replies/{id}/",
        }
        threads = f"{GUNICORN_WORKERS} workers × {args.threads} threads, keep-alive"
        stack = "whole middleware stack"
        figures += _cached_figures(
            http.get("cached", {}),
            "http_cached",
            cached_labels,
            rps=f"cached (Redis), sync workers, requests/s ({c} connections)",
            p95="cached (Redis), sync workers, p95",
            p50="cached, p50",
            cpu="cached, sync workers: workers' CPU per request",
        )
        figures += _cached_figures(
            http.get("cached_threads", {}),
            "http_threads",
            cached_labels,
            rps=f"cached, {threads}, requests/s",
            p95=f"cached, {threads}, p95",
            cpu=f"cached, {threads}: workers' CPU per request",
        )
        figures += _cached_figures(
            http.get("cached_stack", {}),
            "http_stack",
            cached_labels,
            rps=f"cached, {stack} (no fast path), requests/s",
            p95=f"cached, {stack}, p95",
            cpu=f"cached, {stack}: workers' CPU per request",
            targets=False,
        )
        figures.append(
            figure(
                "http_list_ratio",
                "Public API replies/ p50 / plain view p50, over HTTP",
                round(http["list"]["p50_ms"] / http["plain"]["p50_ms"], 2),
                "×",
                target=("<=", RATIO_TARGET),
            )
        )
        tool = (
            f"wrk -t1 -c{c} -d{args.duration:.0f}s (after {args.warmup:.0f} s of warm-up)"
            if http["tool"] == "wrk"
            else f"a Python http.client loop, {c} threads, {args.duration:.0f} s"
        )
        notes.append(
            f"Over HTTP: gunicorn bench.api_wsgi:application -w {GUNICORN_WORKERS} (sync workers, "
            f"or {args.threads} threads each with keep-alive where the figure says so; DEBUG off, "
            f"no throttling) on loopback, {tool} per URL, all on the same 2 cores; the cached "
            "runs answer hits in front of Django (tracker/fastcache.py) unless the figure says "
            "'whole middleware stack'; load average (1 min) "
            f"{load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; "
            f"with {c} connections for {GUNICORN_WORKERS} workers a request's latency includes "
            "its wait in the listen queue (≈ connections ÷ requests/s)."
        )
    emit("api", figures, {"notes": notes})


def _cached_figures(
    runs: dict,
    prefix: str,
    labels: dict[str, str],
    *,
    rps: str,
    p95: str,
    cpu: str,
    p50: str = "",
    targets: bool = True,
) -> list:
    """The figures of one kind of cached run (each text follows the URL's label): requests/s
    and p95 (against the targets unless ``targets`` is off), p50 when named, workers' CPU."""
    figures = []
    for name, r in runs.items():
        if name in ("tool", "plain"):
            continue
        label = labels[name]
        figures.append(
            figure(
                f"{prefix}_{name}_rps",
                f"{label}, {rps}",
                round(r["rps"], 1),
                "req/s",
                target=(">=", CACHED_RPS_TARGET) if targets else None,
            )
        )
        figures.append(
            figure(
                f"{prefix}_{name}_p95_ms",
                f"{label}, {p95}",
                round(r["p95_ms"], 2),
                "ms",
                target=("<=", CACHED_P95_TARGET_MS) if targets else None,
            )
        )
        if p50:
            figures.append(
                figure(f"{prefix}_{name}_p50_ms", f"{label}, {p50}", round(r["p50_ms"], 2), "ms")
            )
        figures.append(figure(f"{prefix}_{name}_cpu_us", f"{label}, {cpu}", r.get("cpu_us"), "µs"))
    return figures


if __name__ == "__main__":
    main()
