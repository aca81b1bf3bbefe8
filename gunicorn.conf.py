"""gunicorn's settings of the web process:
``gunicorn -c gunicorn.conf.py tracker.wsgi:application``.

Every setting here can still be given on the command line (``--bind``, ``--workers`` …), which
wins. What this file fixes (README "Operations"):

- logs: the access log on stdout and the error log on stderr, both through tracker/logging.py
  (JSON lines, or text with ``LOG_FORMAT=text``); an access line has the request id, method,
  path, status, bytes, duration and the client's address;
- time: ``TZ`` is Asia/Shanghai in the master too (Django sets it only in the workers, when
  they load the settings), and the log formatter writes +08:00 whatever ``TZ`` is;
- the control socket (gunicorn ≥ 25): one per instance, ``~/.gunicorn/tracker-<bind>.ctl``
  (e.g. ``tracker-0.0.0.0-8000.ctl``), so a second gunicorn on the host (one per district)
  does not replace — and, when it stops, delete — the first one's ``~/.gunicorn/gunicorn.ctl``.
  ``GUNICORN_CONTROL_SOCKET=off`` turns it off, a path puts it there;
- start: the application preloaded and warmed in the master, so no worker's first request
  pays for loading it (``GUNICORN_PRELOAD=0`` turns it off; tracker/warmup.py);
- metrics: prometheus_client's multiprocess mode over the workers, in a directory of this
  instance's own (``PROMETHEUS_MULTIPROC_DIR``, made here when unset), emptied at start, so
  /metrics adds up every worker's counts rather than showing one worker's;
- workers: ``GUNICORN_WORKERS`` sync processes (2) by default; ``GUNICORN_THREADS`` > 1 makes
  them threaded (``gthread``) with keep-alive connections (``GUNICORN_KEEPALIVE`` seconds, 5),
  for a proxy that keeps its connections to gunicorn open (see below).
"""

import os
import re
import shutil
import tempfile
import time

# The master's own clock: Asia/Shanghai like the workers (settings.TIME_ZONE).
os.environ.setdefault("TZ", "Asia/Shanghai")
time.tzset()

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))

# --- Threads and keep-alive (issue 24: the portal's burst) ------------------------------------
# A sync worker answers one request per connection and closes it. A threaded one keeps the
# connection open for the next request, which spares a cached public answer (tracker/fastcache.py,
# ≈ 0.15 ms of CPU) the connection's setup and teardown: bench/api.py measures both. The cost:
# each thread holds its own database connection (workers × threads per alias, docs/scaling.md),
# a thread's first request opens it (the warm-up warms the worker's main thread only), and a
# request stuck past ``timeout`` no longer gets its worker restarted (the main thread still
# answers the master). Worth it only when the proxy in front reuses its upstream connections
# (nginx: ``keepalive`` in the upstream block, ``proxy_http_version 1.1``).
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
if threads > 1:
    worker_class = "gthread"
    keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))

# --- No slow first request (issue 24) -------------------------------------------------------
# The master loads the application and warms it (tracker/warmup.py: the URLconf and its views,
# the templates, the catalogues) before it forks the workers, which start with all of it;
# each worker then opens its database connection before its first request.
# ``GUNICORN_PRELOAD=0`` loads the application in each worker instead (and warms nothing).
# Note: with preloading, a code change needs a restart of the master (``kill -HUP`` reloads
# the workers from the master's copy).
preload_app = os.environ.get("GUNICORN_PRELOAD", "1").strip().lower() not in ("0", "false", "no")

# --- Logs -------------------------------------------------------------------------------------
logger_class = "tracker.logging.GunicornLogger"
accesslog = "-"  # stdout
errorlog = "-"  # stderr
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# --- Metrics: one directory per instance ------------------------------------------------------
_made_metrics_dir = False
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tracker-gunicorn-metrics-")
    _made_metrics_dir = True


def _clear_metrics_dir() -> None:
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.unlink(os.path.join(directory, name))


# --- The control socket: per instance, or off -------------------------------------------------
_control = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
if _control.lower() in ("off", "none", "false", "0"):
    control_socket_disable = True


def control_socket_for(binds: list[str]) -> str:
    """``~/.gunicorn/tracker-<first bind>.ctl``: two instances cannot share a bind address."""
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", binds[0] if binds else "default").strip("-")
    return os.path.join(os.path.expanduser("~"), ".gunicorn", f"tracker-{slug}.ctl")


def on_starting(server) -> None:
    _clear_metrics_dir()
    if server.cfg.control_socket_disable:
        return
    # Here, not above: the bind is final only now (a --bind on the command line wins).
    path = _control or control_socket_for(list(server.cfg.bind))
    server.cfg.set("control_socket", path)


def when_ready(server) -> None:
    if not server.cfg.preload_app:
        return
    from tracker.warmup import warm

    started = time.perf_counter()
    timings = warm()
    server.log.info("warmed in %.2f s: %s", time.perf_counter() - started, timings)


def post_worker_init(worker) -> None:
    if not worker.cfg.preload_app:
        return
    from tracker.warmup import warm_worker

    warm_worker(worker.wsgi)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if _made_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
