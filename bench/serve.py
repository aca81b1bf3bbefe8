"""The serve measure: what people wait for after a restart, and what each process costs.

    .venv/bin/python bench/serve.py                  # what ``make bench`` runs
    .venv/bin/python bench/serve.py --restarts 1 --warm 3 --scale 0.05

On a copy of the shared dataset (``bench.generate.ensure``), with Redis db ``--redis-db``:

- **web**: ``gunicorn -c gunicorn.conf.py tracker.wsgi:application`` (2 workers, DEBUG off) as
  the compose stack runs it. One untimed start first reads every page (the database's buffers
  and the Redis cache stay warm across a restart of the web processes). Then, after each start
  — ready when it accepts connections and its workers have stopped using CPU — one kind of
  request is the first: the committee's or a clerk's 工作台 (/admin/), a member's /my/ (with a
  session made beforehand, as for someone signed in before the restart), or a member's whole
  sign-in (GET the form, POST it, /my/); kinds take turns over ``--restarts`` starts each.
  Warm: the same requests later on the same server. Reported: first and warm wall time, the CPU
  time of all the web processes for each, their ratio (target ≤ 2), the same first request
  with preloading off (``GUNICORN_PRELOAD=0``: what a restart cost before issue 24), and the
  memory of the master and the workers.
- **worker**: ``celery -A tracker worker -Q celery,mail,pdf -c 2`` (the compose worker),
  started ``--restarts`` times; after each start, one signed letter's
  ``render_signed_pdf`` is the first task (timed from the enqueue to the PDF stored, polled
  every 10 ms, and the worker's own run time from its log), then ``--warm`` more in turn.
  Memory of the main process and the pool processes after the letters.
- **beat**: ``celery -A tracker beat``, its memory after 10 s.

Memory is RSS and PSS from /proc/<pid>/smaps_rollup (PSS divides shared pages among the
processes sharing them: the PSS of a master and its forked workers adds up, their RSS does not).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/serve.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import CHILD_TOKEN, cpu_seconds, drop_database, emit, figure, log, marked_pids
from bench import servers as sv
from bench.pdfqueue import DEFAULT_SERVER, copy_dataset, flush_redis, redis_url, task_runtimes

COPY_DB = os.environ.get("BENCH_DB_PREFIX", "tracker_bench") + "_serve"
LANDING = {"committee": "/admin/", "clerk": "/admin/", "proposer": "/my/"}
TARGET_FIRST_RATIO = 2.0
TARGET_FIRST_LETTER_S = 0.6
BEAT_SETTLE_S = 10.0


def med(values: list[float], digits: int = 3) -> float | None:
    return round(statistics.median(values), digits) if values else None


def spread(values: list[float]) -> str:
    return f"{min(values):.3f}–{max(values):.3f}" if values else "—"


# --- web ----------------------------------------------------------------------------------------

#: What is timed as a first request: a signed-in page (the session made beforehand, as a user
#: who was signed in before the restart), or a member's whole sign-in (form, POST, /my/).
KINDS = ("committee", "clerk", "proposer", "signin")
LABELS = {
    "committee": "the committee's 工作台 (/admin/)",
    "clerk": "a clerk's 工作台 (/admin/)",
    "proposer": "a member's /my/",
    "signin": "a member's sign-in (form, POST, /my/)",
}


def sessions(ds) -> dict[str, str]:
    """A signed-in session for each role, made in the database as a sign-in makes it."""
    from django.conf import settings
    from django.test import Client

    from proposals.models import User

    keys = {}
    for role in ("committee", "clerk", "proposer"):
        client = Client()
        client.force_login(User.objects.get(username=ds.logins[role]))
        keys[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return keys


def request(base: str, kind: str, ds, keys: dict[str, str]) -> None:
    from django.conf import settings

    client = sv.Client(base)
    if kind == "signin":
        client.sign_in("/my/login/", ds.logins["proposer"], ds.password, "/my/")
        return
    client.set_cookie(settings.SESSION_COOKIE_NAME, keys[kind])
    status, url, _body = client.get(LANDING[kind])
    if status != 200 or not url.endswith(LANDING[kind]):
        raise RuntimeError(f"{kind}: {LANDING[kind]} answered {status} at {url}")


def timed(pids: list[int], action) -> tuple[float, float]:
    cpu, start = cpu_seconds(pids), time.perf_counter()
    action()
    return time.perf_counter() - start, cpu_seconds(pids) - cpu


def web_run(env: dict, ds, keys: dict, first: str, warm: int, tmp: Path, preload: bool) -> dict:
    """One start of gunicorn: ``first`` is its first request, then ``warm`` of each kind."""
    port = sv.free_port()
    logfile = tmp / f"web-{uuid.uuid4().hex[:6]}.log"
    proc = sv.start_web(env, port, logfile, preload=preload)
    base = f"http://127.0.0.1:{port}"
    out: dict = {"warm": {k: [] for k in KINDS}, "warm_cpu": {k: [] for k in KINDS}}
    try:
        out["ready_s"] = sv.wait_web(proc, port, logfile)
        pids = [proc.pid, *sv.worker_pids(proc.pid)]
        out["first"], out["first_cpu"] = timed(pids, lambda: request(base, first, ds, keys))
        for _ in range(warm):
            for kind in KINDS:
                wall, cpu = timed(pids, lambda kind=kind: request(base, kind, ds, keys))
                out["warm"][kind].append(wall)
                out["warm_cpu"][kind].append(cpu)
        if warm:
            out["memory"] = {
                "master": sv.memory_mb(proc.pid),
                "workers": [sv.memory_mb(pid) for pid in sv.worker_pids(proc.pid)],
            }
    except Exception as error:
        raise RuntimeError(f"{error}\n{sv.tail(logfile)}") from error
    finally:
        sv.stop(proc, env[CHILD_TOKEN], "serve: gunicorn")
    return out


def web_figures(kind: str, first: list, first_cpu: list, warm: list, warm_cpu: list, cold: list):
    ratio = med(first) / med(warm) if first and warm else None
    return [
        figure(
            f"web_first_{kind}_s",
            f"First request after a start: {LABELS[kind]}, wall ({spread(first)})",
            med(first),
            "s",
            samples=first,
        ),
        figure(
            f"web_first_{kind}_cpu_s",
            f"… CPU time of the web processes ({spread(first_cpu)})",
            med(first_cpu),
            "s",
            samples=first_cpu,
        ),
        figure(
            f"web_warm_{kind}_s",
            f"The same on a warm server, wall ({spread(warm)})",
            med(warm),
            "s",
            samples=warm,
        ),
        figure(
            f"web_warm_{kind}_cpu_s",
            f"… CPU time of the web processes ({spread(warm_cpu)})",
            med(warm_cpu),
            "s",
            samples=warm_cpu,
        ),
        figure(
            f"web_first_ratio_{kind}",
            "First / warm (wall)",
            round(ratio, 2) if ratio else None,
            "×",
            target=("<=", TARGET_FIRST_RATIO),
        ),
        figure(
            f"web_first_nopreload_{kind}_s",
            f"First request with GUNICORN_PRELOAD=0 (as before issue 24), wall ({spread(cold)})",
            med(cold),
            "s",
            samples=cold,
        ),
    ]


def measure_web(env: dict, ds, args: argparse.Namespace, tmp: Path) -> tuple[list, dict]:
    keys = sessions(ds)
    first: dict = {k: [] for k in KINDS}
    first_cpu: dict = {k: [] for k in KINDS}
    cold: dict = {k: [] for k in KINDS}
    warm: dict = {k: [] for k in KINDS}
    warm_cpu: dict = {k: [] for k in KINDS}
    memory: list = []
    ready: list[float] = []
    # A restart of the web processes finds PostgreSQL's buffers and the Redis cache as the
    # running system left them: one untimed start reads every page once first (the copy of the
    # dataset is new, its pages in no buffer yet).
    log("serve: untimed start, every page once (database buffers, cache)")
    web_run(env, ds, keys, "committee", 1, tmp, True)
    for restart in range(args.restarts):
        for kind in KINDS:
            log(f"serve: web start {restart + 1}/{args.restarts}, first: {kind}")
            repeats = args.warm if kind == KINDS[0] else 1
            run = web_run(env, ds, keys, kind, repeats, tmp, True)
            first[kind].append(run["first"])
            first_cpu[kind].append(run["first_cpu"])
            ready.append(run["ready_s"])
            for k in KINDS:
                warm[k].extend(run["warm"][k])
                warm_cpu[k].extend(run["warm_cpu"][k])
            if "memory" in run:
                memory.append(run["memory"])
    for kind in KINDS:
        log(f"serve: web start without preloading, first: {kind}")
        cold[kind].append(web_run(env, ds, keys, kind, 0, tmp, False)["first"])
    figures = []
    for kind in KINDS:
        figures += web_figures(
            kind, first[kind], first_cpu[kind], warm[kind], warm_cpu[kind], cold[kind]
        )
    figures.append(
        figure("web_ready_s", "gunicorn start → ready", med(ready, 2), "s", samples=ready)
    )
    info = {"web_memory": memory[-1] if memory else {}}
    if memory:
        last = memory[-1]
        pss = last["master"]["pss"] + sum(w["pss"] for w in last["workers"])
        figures += [
            figure("web_master_rss_mb", "gunicorn master RSS", round(last["master"]["rss"]), "MB"),
            figure(
                "web_worker_rss_mb",
                "gunicorn worker RSS (largest)",
                round(max(w["rss"] for w in last["workers"])),
                "MB",
            ),
            figure("web_total_pss_mb", "gunicorn master + 2 workers, PSS", round(pss), "MB"),
        ]
    return figures, info


# --- worker and beat ------------------------------------------------------------------------------


def letters(ds, count: int) -> list[int]:
    """``count`` signed letters without a PDF, of about the same length (the closest to the
    median of a larger pool), so that the first letter and the next ones are the same work."""
    import statistics as stats

    from bench.pdfqueue import letters_to_render, pick_session
    from replies.models import Reply

    session, _signed = pick_session(list(ds.sessions))
    pool = letters_to_render(session, count * 8)
    sizes = dict(Reply.objects.filter(pk__in=pool).values_list("pk", "body"))
    lengths = {pk: len(body) for pk, body in sizes.items()}
    middle = stats.median(lengths.values()) if lengths else 0
    chosen = sorted(lengths, key=lambda pk: abs(lengths[pk] - middle))[:count]
    return sorted(chosen)


def wait_stored(pk: int, timeout: float = 60.0) -> float:
    from replies.models import Reply

    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if Reply.objects.filter(pk=pk).exclude(pdf_sha256="").exists():
            return time.perf_counter() - start
        time.sleep(0.01)
    raise RuntimeError(f"reply {pk}: no PDF after {timeout:.0f} s")


def worker_run(env: dict, ids: list[int], tmp: Path) -> dict:
    from django.db import connections

    from replies.tasks import render_signed_pdf
    from tracker.celery import app

    logfile = tmp / f"worker-{uuid.uuid4().hex[:6]}.log"
    proc, _name = sv.start_worker(env, logfile)
    out: dict = {"letters": [], "cpu": []}
    try:
        out["ready_s"] = sv.wait_worker(app, proc, logfile)
        for pk in ids:
            pids = marked_pids(CHILD_TOKEN, env[CHILD_TOKEN])
            cpu, start = cpu_seconds(pids), time.perf_counter()
            render_signed_pdf.delay("reply", pk)
            wait_stored(pk)
            out["letters"].append(time.perf_counter() - start)
            out["cpu"].append(cpu_seconds(marked_pids(CHILD_TOKEN, env[CHILD_TOKEN])) - cpu)
        time.sleep(0.5)  # the last task's log line
        out["runtimes"] = task_runtimes(logfile)
        out["memory"] = {
            "main": sv.memory_mb(proc.pid),
            "pool": [sv.memory_mb(pid) for pid in sv.worker_pids(proc.pid)],
        }
    except Exception as error:
        raise RuntimeError(f"{error}\n{sv.tail(logfile)}") from error
    finally:
        connections.close_all()
        sv.stop(proc, env[CHILD_TOKEN], "serve: worker")
    return out


def measure_worker(env: dict, ds, args: argparse.Namespace, tmp: Path) -> tuple[list, dict]:
    ids = letters(ds, args.restarts * (1 + args.warm))
    if len(ids) < args.restarts * (1 + args.warm):
        raise RuntimeError("not enough signed letters without a PDF in the dataset")
    first, first_cpu, first_task, warm, warm_task, ready, memory = [], [], [], [], [], [], {}
    for restart in range(args.restarts):
        log(f"serve: worker start {restart + 1}/{args.restarts}")
        chunk = ids[restart * (1 + args.warm) : (restart + 1) * (1 + args.warm)]
        run = worker_run(env, chunk, tmp)
        ready.append(run["ready_s"])
        first.append(run["letters"][0])
        first_cpu.append(run["cpu"][0])
        warm += run["letters"][1:]
        if run["runtimes"]:
            first_task.append(run["runtimes"][0])
            warm_task += run["runtimes"][1:]
        memory = run["memory"]
    pool_rss = max((p["rss"] for p in memory.get("pool", [])), default=None)
    pss = memory["main"]["pss"] + sum(p["pss"] for p in memory["pool"]) if memory else None
    figures = [
        figure(
            "worker_first_letter_task_s",
            f"A fresh worker's first letter: the task's run time ({spread(first_task)})",
            med(first_task),
            "s",
            target=("<=", TARGET_FIRST_LETTER_S),
            samples=first_task,
        ),
        figure(
            "worker_first_letter_s",
            f"… enqueue → PDF stored, wall ({spread(first)})",
            med(first),
            "s",
            samples=first,
        ),
        figure(
            "worker_first_letter_cpu_s",
            f"… CPU time of the worker's processes ({spread(first_cpu)})",
            med(first_cpu),
            "s",
            samples=first_cpu,
        ),
        figure(
            "worker_warm_letter_task_s",
            f"The next letters: task run time ({spread(warm_task)})",
            med(warm_task),
            "s",
            samples=warm_task,
        ),
        figure(
            "worker_warm_letter_s",
            f"… enqueue → PDF stored ({spread(warm)})",
            med(warm),
            "s",
            samples=warm,
        ),
        figure("worker_ready_s", "worker start → ready (renderer warmed)", med(ready, 2), "s"),
        figure("worker_main_rss_mb", "worker main process RSS", round(memory["main"]["rss"]), "MB"),
        figure("worker_pool_rss_mb", "worker pool process RSS (largest)", round(pool_rss), "MB"),
        figure("worker_total_pss_mb", "worker main + 2 pool processes, PSS", round(pss), "MB"),
    ]
    return figures, {"worker_memory": memory}


def measure_beat(env: dict, tmp: Path) -> list:
    logfile = tmp / "beat.log"
    proc = sv.start_beat(env, logfile, tmp / "celerybeat-schedule")
    try:
        time.sleep(BEAT_SETTLE_S)
        if proc.poll() is not None:
            raise RuntimeError(f"beat exited with {proc.returncode}:\n{sv.tail(logfile)}")
        memory = sv.memory_mb(proc.pid)
    finally:
        sv.stop(proc, env[CHILD_TOKEN], "serve: beat")
    return [
        figure("beat_rss_mb", "celery beat RSS", round(memory["rss"]), "MB"),
        figure("beat_pss_mb", "celery beat PSS", round(memory["pss"]), "MB"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="dataset scale (1.0)")
    parser.add_argument("--restarts", type=int, default=3, help="starts per role (3)")
    parser.add_argument("--warm", type=int, default=5, help="warm repeats (5)")
    parser.add_argument(
        "--redis-db",
        type=int,
        default=int(os.environ.get("BENCH_REDIS_DB", 12)),
        help="Redis database (12); BENCH_REDIS_DB overrides the default",
    )
    parser.add_argument("--only", choices=("web", "worker", "beat"), action="append")
    args = parser.parse_args()
    parts = args.only or ["web", "worker", "beat"]

    from bench import generate, setup_django

    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    ds = generate.ensure(server, open_assignments=0, scale=args.scale)
    log(f"serve: copying {ds.url.rsplit('/', 1)[-1]} to {COPY_DB}")
    copy_url = copy_dataset(ds.url, COPY_DB)
    broker = redis_url(args.redis_db)
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    env = sv.server_env(dict(os.environ), copy_url, broker, tmp / "media", uuid.uuid4().hex)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT")})
    figures: list = []
    info: dict = {"dataset": ds.url.rsplit("/", 1)[-1], "scale": args.scale}
    try:
        setup_django()
        flush_redis(broker)
        if "web" in parts:
            more, extra = measure_web(env, ds, args, tmp)
            figures += more
            info.update(extra)
        if "worker" in parts:
            more, extra = measure_worker(env, ds, args, tmp)
            figures += more
            info.update(extra)
        if "beat" in parts:
            figures += measure_beat(env, tmp)
    finally:
        from django.db import connections

        connections.close_all()
        flush_redis(broker)
        drop_database(copy_url, COPY_DB)
        shutil.rmtree(tmp, ignore_errors=True)
    info["notes"] = [
        f"On a copy of the dataset (scale {args.scale}), DEBUG off, Redis db {args.redis_db}.",
        "Web: first = the first sign-in flow after gunicorn is ready (GET form, POST, the "
        "redirected page), one role per start, roles in turn; warm = the same flow on the "
        "same server afterwards (new session each time). CPU = user + system of the master "
        "and both workers over the flow.",
        "Worker: first = the first render_signed_pdf after the worker answers a ping with "
        "its pool up; the task's run time is the worker's own log line ('succeeded in').",
        "Memory: RSS and PSS from /proc/<pid>/smaps_rollup after the warm figures.",
    ]
    emit("serve", figures, info)


if __name__ == "__main__":
    main()
