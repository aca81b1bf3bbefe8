"""The pdfqueue measure: a session's signed letters rendered by the Celery PDF queue, 2 processes.

    .venv/bin/python bench/pdfqueue.py                 # what ``make bench`` runs
    .venv/bin/python bench/pdfqueue.py --scale 0.05    # a small dataset, for development

The data is the shared bench dataset (``bench.generate.ensure``: 10 sessions of 600 proposals,
replies in every state, none of the signed ones with a stored PDF). The measure works on a copy
of it, ``tracker_bench_pdf`` (``CREATE DATABASE … TEMPLATE``, dropped at the end), so the
dataset keeps its letters unrendered for the next run.

It picks a complete past session (every reply signed: none in draft or awaiting signature;
the newest such one before the current session), takes ``--count`` (600) of its signed, sent or
published replies, starts a real worker on a Redis database of its own (``--redis-db``, flushed
first), with the production queue settings::

    celery -A tracker worker -Q pdf -c 2 --prefetch-multiplier 1 -P prefork

and waits until it answers a ping. Then it times, from the first enqueue to the last stored
file: ``replies.tasks.render_signed_pdf.delay("reply", pk)`` for every reply (what signing
does on commit; the task routes to the ``pdf`` queue), then a poll of the database every 0.5 s
until every one of them has its PDF (``pdf_sha256`` set by ``store_signed_pdf``). Files go to
a temporary ``MEDIA_ROOT``. Reported: wall time, seconds per letter, PDFs per hour, the
workers' CPU time per letter, time to the first PDF, total bytes and pages.
Target (issue 10): ≤ 90 s for 600 letters.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

if __package__ in (None, ""):  # run as ``python bench/pdfqueue.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import (
    CHILD_TOKEN,
    ROOT,
    _admin_connection,
    bench_database_url,
    cpu_seconds,
    drop_database,
    emit,
    figure,
    log,
    marked_pids,
    stop_process,
)

DEFAULT_SERVER = "postgres://postgres:postgres@127.0.0.1:5432/tracker"
DEFAULT_REDIS = "redis://127.0.0.1:6379"
COPY_DB = os.environ.get("BENCH_DB_PREFIX", "tracker_bench") + "_pdf"
TARGET_S = 90.0
POLL_S = 0.5
WORKER_READY_TIMEOUT = 60.0
CELERY = ROOT / ".venv" / "bin" / "celery"
#: CREATE DATABASE … TEMPLATE needs the dataset free of connections (another measure may be
#: reading it): tries 2 s apart.
COPY_ATTEMPTS = 150


# --- The copy of the dataset ----------------------------------------------------------------


def copy_dataset(data_url: str, name: str = COPY_DB) -> str:
    """``name`` (``tracker_bench_pdf``) as a fresh copy of the dataset's database; its URL."""
    template = urlsplit(data_url).path.lstrip("/")
    copy_url = bench_database_url(data_url, name, "bench/pdfqueue.py")
    import psycopg

    with _admin_connection(data_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for attempt in range(COPY_ATTEMPTS):
            try:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                break
            except psycopg.errors.ObjectInUse:  # someone is connected to the template
                if attempt == COPY_ATTEMPTS - 1:
                    raise
                if attempt == 0:
                    log(f"pdfqueue: {template} is in use; waiting for its connections to end")
                time.sleep(2)
    return copy_url


# --- The data -------------------------------------------------------------------------------

DONE_STATES = ("signed", "sent", "published")


def pick_session(session_ids: list[int]) -> tuple[object, int]:
    """The newest past session whose replies are all signed, and how many letters it has."""
    from django.db.models import Count, Q

    from replies.models import Reply

    past = session_ids[:-1] or session_ids
    stats = {
        row["proposal__session"]: row
        for row in Reply.objects.filter(proposal__session__in=past)
        .values("proposal__session")
        .annotate(
            total=Count("id"),
            open=Count("id", filter=~Q(state__in=DONE_STATES)),
            signed=Count("id", filter=Q(state__in=DONE_STATES, signed_on__isnull=False)),
        )
    }
    complete = [pk for pk in reversed(past) if pk in stats and stats[pk]["open"] == 0]
    chosen = complete[0] if complete else max(stats, key=lambda pk: stats[pk]["signed"])
    from proposals.models import Session

    return Session.objects.get(pk=chosen), stats[chosen]["signed"]


def letters_to_render(session, count: int) -> list[int]:
    from replies.models import Reply

    return list(
        Reply.objects.filter(
            proposal__session=session,
            state__in=DONE_STATES,
            signed_on__isnull=False,
            pdf_sha256="",
        )
        .order_by("proposal__serial", "pk")
        .values_list("pk", flat=True)[:count]
    )


def stored(ids: list[int]) -> int:
    from replies.models import Reply

    return Reply.objects.filter(pk__in=ids).exclude(pdf_sha256="").count()


# --- The worker ---------------------------------------------------------------------------


def redis_url(db: int) -> str:
    base = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS
    return urlunsplit(urlsplit(base)._replace(path=f"/{db}"))


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = client.dbsize()
        if keys:
            log(f"pdfqueue: flushing {keys} keys from {url}")
        client.flushdb()
    finally:
        client.close()


def start_worker(env: dict, processes: int, logfile: Path) -> tuple[subprocess.Popen, str]:
    name = f"bench-pdf-{uuid.uuid4().hex[:8]}@%h"
    cmd = [
        str(CELERY),
        "-A",
        "tracker",
        "worker",
        "-Q",
        "pdf",
        "-c",
        str(processes),
        "--prefetch-multiplier",
        "1",
        "-P",
        "prefork",
        "-n",
        name,
        "-l",
        "info",
        # A lone worker: no waiting for siblings at start-up (mingle), no gossip traffic.
        "--without-mingle",
        "--without-gossip",
    ]
    handle = logfile.open("wb")
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        handle.close()
    return proc, name


def wait_ready(app, proc: subprocess.Popen, logfile: Path, processes: int) -> float:
    """Seconds until the worker answers a ping and its pool has ``processes`` children."""
    start = time.perf_counter()
    while time.perf_counter() - start < WORKER_READY_TIMEOUT:
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited with {proc.returncode}:\n{tail(logfile)}")
        replies = app.control.ping(timeout=1.0, limit=1)
        if replies:
            stats = app.control.inspect(timeout=2.0, limit=1).stats() or {}
            pools = [len(s.get("pool", {}).get("processes", [])) for s in stats.values()]
            if pools and pools[0] >= processes:
                return time.perf_counter() - start
        time.sleep(0.2)
    raise RuntimeError(
        f"the worker was not ready after {WORKER_READY_TIMEOUT:.0f} s:\n{tail(logfile)}"
    )


def tail(logfile: Path, lines: int = 30) -> str:
    try:
        text = logfile.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


_SUCCEEDED = re.compile(r"render_signed_pdf\[[^\]]+\] succeeded in ([0-9.]+)s")


def task_runtimes(logfile: Path) -> list[float]:
    """Each task's own run time, as the worker logs it (``succeeded in 0.21s``)."""
    try:
        text = logfile.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [float(m.group(1)) for m in _SUCCEEDED.finditer(text)]


def task_failures(logfile: Path) -> list[str]:
    try:
        text = logfile.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    markers = ("raised unexpected", "TimeLimitExceeded", "WorkerLostError", "Traceback")
    return [line for line in text.splitlines() if any(m in line for m in markers)]


# --- The measure ----------------------------------------------------------------------------


def page_count(path: Path) -> int | None:
    try:
        import pypdfium2
    except ImportError:
        return None
    document = pypdfium2.PdfDocument(str(path))
    try:
        return len(document)
    finally:
        document.close()


def run(ids: list[int], app, proc, logfile: Path, token: str, timeout: float) -> dict:
    from replies.tasks import render_signed_pdf

    worker_cpu = cpu_seconds(marked_pids(CHILD_TOKEN, token))
    start = time.perf_counter()
    for pk in ids:
        render_signed_pdf.delay("reply", pk)
    enqueued = time.perf_counter() - start
    first = None
    done = 0
    progress_at = start
    while True:
        done = stored(ids)
        now = time.perf_counter()
        if done and first is None:
            first = now - start
        if done >= len(ids):
            break
        if now - start > timeout:
            raise RuntimeError(
                f"only {done} of {len(ids)} PDFs after {timeout:.0f} s:\n{tail(logfile)}"
            )
        if proc.poll() is not None:
            raise RuntimeError(f"the worker died ({proc.returncode}):\n{tail(logfile)}")
        failures = task_failures(logfile)
        if failures:
            raise RuntimeError(
                "a render task failed:\n" + "\n".join(failures[:5]) + "\n" + tail(logfile)
            )
        if now - progress_at >= 10:
            progress_at = now
            log(f"pdfqueue:   {done}/{len(ids)} after {now - start:.0f} s")
        time.sleep(POLL_S)
    wall = time.perf_counter() - start
    worker_cpu = cpu_seconds(marked_pids(CHILD_TOKEN, token)) - worker_cpu
    return {"wall": wall, "enqueue": enqueued, "first": first, "worker_cpu": worker_cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=600, help="letters to render (600)")
    parser.add_argument("--scale", type=float, default=1.0, help="dataset scale (1.0)")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (2)")
    parser.add_argument(
        "--redis-db",
        type=int,
        default=int(os.environ.get("BENCH_REDIS_DB", 11)),
        help="Redis database (11); BENCH_REDIS_DB overrides the default",
    )
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for all")
    parser.add_argument("--keep", action="store_true", help=f"keep the {COPY_DB} database")
    parser.add_argument("--worker-log", type=Path, help="copy the worker's log here at the end")
    args = parser.parse_args()

    from bench import generate

    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    log(f"pdfqueue: the shared dataset (scale {args.scale})")
    started = time.perf_counter()
    ds = generate.ensure(server, open_assignments=0, scale=args.scale)
    log(f"pdfqueue:   ready in {time.perf_counter() - started:.1f} s: {ds.url.rsplit('/', 1)[-1]}")

    log(f"pdfqueue: copying it to {COPY_DB}")
    started = time.perf_counter()
    copy_url = copy_dataset(ds.url)
    copy_s = time.perf_counter() - started
    token = uuid.uuid4().hex
    broker = redis_url(args.redis_db)
    media = Path(tempfile.mkdtemp(prefix="bench-pdfqueue-"))
    env = {
        **os.environ,
        "DATABASE_URL": copy_url,
        "REDIS_URL": broker,
        "MEDIA_ROOT": str(media / "media"),
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "tracker.settings"),
        CHILD_TOKEN: token,
    }
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT")})
    proc = None
    logfile = media / "worker.log"
    try:
        import warnings

        warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
        from bench import setup_django

        setup_django()
        from django.db import connections

        session, signed = pick_session(list(ds.sessions))
        ids = letters_to_render(session, args.count)
        if not ids:
            raise SystemExit(f"{session} has no signed letter without a PDF")
        log(
            f"pdfqueue: {session} (id {session.pk}): {signed} signed/sent/published replies; "
            f"rendering {len(ids)}"
        )
        connections.close_all()

        flush_redis(broker)
        from tracker.celery import app

        log(f"pdfqueue: starting celery worker -Q pdf -c {args.processes} on {broker}")
        proc, name = start_worker(env, args.processes, logfile)
        ready_s = wait_ready(app, proc, logfile, args.processes)
        name = name.replace("%h", socket.gethostname())
        log(f"pdfqueue:   {name} ready after {ready_s:.1f} s; enqueueing {len(ids)} tasks")
        result = run(ids, app, proc, logfile, token, args.timeout)
        log(f"pdfqueue:   all {len(ids)} stored in {result['wall']:.1f} s")

        from django.db.models import Sum

        from replies.models import Reply

        rows = Reply.objects.filter(pk__in=ids)
        total_bytes = rows.aggregate(n=Sum("pdf_size"))["n"] or 0
        media_root = media / "media"
        pages = [page_count(media_root / name) for name in rows.values_list("pdf", flat=True)]
        total_pages = None if None in pages else sum(pages)
        runtimes = task_runtimes(logfile)
        connections.close_all()
    finally:
        stop_process(proc, token, "pdfqueue: the worker")
        with contextlib.suppress(Exception):
            flush_redis(broker)
        if not args.keep:
            drop_database(copy_url, COPY_DB)
        if args.worker_log and logfile.is_file():
            shutil.copyfile(logfile, args.worker_log)
        shutil.rmtree(media, ignore_errors=True)

    n, wall = len(ids), result["wall"]
    figures = [
        figure(
            "pdfqueue_wall_s",
            f"{n} letters of a session through the Celery pdf queue, {args.processes} processes",
            round(wall, 1),
            "s",
            target=("<=", TARGET_S) if n >= 600 else None,
        ),
        figure("pdfqueue_per_letter_s", "Wall time per letter", round(wall / n, 3), "s"),
        figure("pdfqueue_per_hour", "PDFs per hour", round(n / wall * 3600), "PDFs/h"),
        figure(
            "pdfqueue_cpu_per_letter_s",
            "Worker CPU time per letter (all worker processes)",
            round(result["worker_cpu"] / n, 3),
            "s",
        ),
        figure(
            "pdfqueue_cpu_floor_s",
            f"Worker CPU time ÷ {args.processes} processes (the best wall time on an idle machine)",
            round(result["worker_cpu"] / args.processes, 1),
            "s",
        ),
        figure(
            "pdfqueue_first_s",
            "Enqueue → first stored PDF",
            round(result["first"], 2) if result["first"] is not None else None,
            "s",
        ),
        figure("pdfqueue_enqueue_s", f"Enqueueing the {n} tasks", round(result["enqueue"], 2), "s"),
        figure(
            "pdfqueue_task_p50_s",
            "One render task's run time in the worker, median",
            round(statistics.median(runtimes), 3) if runtimes else None,
            "s",
        ),
        figure(
            "pdfqueue_busy",
            f"Worker processes busy (sum of task run times ÷ wall × {args.processes})",
            round(sum(runtimes) / (wall * args.processes), 2) if runtimes else None,
            "",
        ),
        figure("pdfqueue_total_mb", "Total size of the PDFs", round(total_bytes / 2**20, 1), "MB"),
        figure("pdfqueue_pages", "Total pages", total_pages, "pages"),
    ]
    notes = [
        f"{session} ({signed} signed/sent/published replies; {n} rendered"
        f"{', the first ' + str(n) + ' by serial' if signed > n else ''}), dataset scale "
        f"{args.scale}, on a copy of the dataset ({copy_s:.1f} s to copy).",
        f"`celery -A tracker worker -Q pdf -c {args.processes} --prefetch-multiplier 1 -P prefork`"
        f" on Redis db {args.redis_db}; timed from the first "
        "`render_signed_pdf.delay('reply', pk)` until the database shows every PDF stored "
        f"(polled every {POLL_S} s, so ± {POLL_S} s).",
        f"{total_bytes / n / 1024:.0f} KB and {total_pages / n if total_pages else 0:.1f} pages "
        "a letter on average.",
    ]
    if n < 600:
        notes.append(f"only {n} letters (the target is for 600): no pass/fail")
    emit(
        "pdfqueue",
        figures,
        {
            "notes": notes,
            "session": str(session),
            "letters": n,
            "session_signed": signed,
            "worker_ready_s": round(ready_s, 2),
            "total_bytes": total_bytes,
        },
    )


if __name__ == "__main__":
    main()
