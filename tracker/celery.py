"""The Celery application.

Without ``REDIS_URL`` the settings make every task run eagerly, in-process, so that
``make run`` needs no broker; with it, tasks go through Redis to a worker.

Observability (the signal handlers below):

- logging: the worker and beat log through Django's ``LOGGING`` (tracker/logging.py: JSON
  lines with time in +08:00, level, logger, request id) instead of Celery's own format; their
  ``-l``/``--loglevel`` is not used, ``LOG_LEVEL`` is;
- the request id: a task queued while a web request is served carries that request's id in
  its headers, and the worker sets it while the task runs, so the request's log lines and the
  task's share it; a task queued by beat or another task without one gets its own task id;
- metrics (tracker/metrics.py): tasks queued, run (by final state) and their durations; with
  ``CELERY_METRICS_PORT`` set, the worker serves them on that port (``CELERY_METRICS_ADDRESS``,
  default all interfaces), summed over its pool processes through prometheus_client's
  multiprocess mode in a directory of its own.
"""

import gc
import logging
import os
import tempfile
import time
from contextvars import Token

# Before anything imports prometheus_client (it picks its storage at import): a worker that
# serves its metrics counts in files shared by its pool processes.
_made_metrics_dir = ""
if os.environ.get("CELERY_METRICS_PORT") and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _made_metrics_dir = tempfile.mkdtemp(prefix="tracker-celery-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _made_metrics_dir

from celery import Celery  # noqa: E402
from celery.signals import (  # noqa: E402
    before_task_publish,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_shutdown,
    worker_shutdown,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The admin's long work (Excel import, a session's PDFs) lives in tracker/admin_tasks.py.
app.autodiscover_tasks(lambda: ["tracker"], related_name="admin_tasks")
# The worker's heartbeat (beat's ``worker-heartbeat``) lives in tracker/health.py.
app.autodiscover_tasks(lambda: ["tracker"], related_name="health")

logger = logging.getLogger("tracker.celery")

#: The header that carries the request id from the web to the worker.
REQUEST_ID_HEADER = "request_id"

#: task id -> (token of the request id set for it, start time); the worker's own bookkeeping.
_running: dict[str, tuple[Token[str | None] | None, float]] = {}


@setup_logging.connect
def _configure_logging(**kwargs) -> None:
    """Django's LOGGING, not Celery's format (connecting this stops Celery configuring it)."""
    from django.conf import settings

    from tracker.logging import configure

    configure(settings.LOGGING)


@before_task_publish.connect
def _before_publish(sender=None, headers=None, routing_key=None, **kwargs) -> None:
    from tracker.logging import request_id_var
    from tracker.metrics import TASKS_PUBLISHED

    request_id = request_id_var.get()
    if headers is not None and request_id and not headers.get(REQUEST_ID_HEADER):
        headers[REQUEST_ID_HEADER] = request_id
    task_id = (headers or {}).get("id")
    TASKS_PUBLISHED.labels(task=sender or "").inc()
    logger.info(
        "queued %s",
        sender,
        extra={"queued_task": sender, "queued_task_id": task_id, "queue": routing_key},
    )


@task_prerun.connect
def _task_prerun(task_id=None, task=None, **kwargs) -> None:
    from tracker.logging import request_id_var

    token = None
    if not getattr(task.request, "is_eager", False):
        # In a worker: the request id that came with the task, else the task's own id.
        incoming = getattr(task.request, REQUEST_ID_HEADER, None)
        token = request_id_var.set(str(incoming or task_id))
    _running[task_id] = (token, time.perf_counter())


@task_postrun.connect
def _task_postrun(task_id=None, task=None, state=None, **kwargs) -> None:
    from tracker.logging import request_id_var
    from tracker.metrics import TASK_DURATION, TASKS

    token, started = _running.pop(task_id, (None, None))
    name = getattr(task, "name", "") or ""
    TASKS.labels(task=name, state=(state or "unknown").lower()).inc()
    if started is not None:
        TASK_DURATION.labels(task=name).observe(time.perf_counter() - started)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context: leave it, the next prerun overwrites it
            request_id_var.set(None)


#: The queue whose tasks lay letters out, seal and sign them and index them for the search
#: (``tracker.conf.queues``): only a worker that consumes it loads what they need.
PDF_QUEUE = "pdf"


def consumed_queues(worker) -> set[str] | None:
    """The names of the queues ``worker`` consumes (``-Q``), or None when it cannot tell."""
    try:
        return set(worker.app.amqp.queues.consume_from)
    except (AttributeError, TypeError):
        return None


@worker_init.connect
def _warm_the_renderer(sender=None, **kwargs) -> None:
    """Load WeasyPrint and its fonts once in the worker's main process, before the pool forks:
    every pool process then starts warm, and a fresh worker's first letter costs a render, not
    a second of font loading (issue 24). Beat and the web processes never load it, nor does a
    worker that does not consume the ``pdf`` queue (``-Q mail``: 60 MB less a process)."""
    queues = consumed_queues(sender) if sender is not None else None
    if queues is not None and PDF_QUEUE not in queues:
        gc.collect()
        gc.freeze()
        logger.info("no %s queue (%s): renderer not loaded", PDF_QUEUE, ",".join(sorted(queues)))
        return
    from replies import renderer

    started = time.perf_counter()
    renderer.warm()
    # What storing a signed letter imports on first use: the sealing and signing hook (pyHanko,
    # cryptography), about a second of a fresh worker's first letter.
    from django.apps import apps

    if apps.is_installed("signing"):
        import signing.stamping  # noqa: F401
    # Storing a letter indexes it for the public search: the word list (jieba's dictionary and
    # the units' names) is built on first use, 0.6 s of a fresh worker's first letter.
    if apps.is_installed("publication"):
        from django.db import connections

        from publication import segment

        try:
            segment.tokenizer()
        except Exception:  # never stops the worker: the first letter builds it then
            logger.warning("search dictionary not loaded at start", exc_info=True)
        connections.close_all()  # opened for the units' names; the pool forks next
    # What is loaded now lives as long as the worker: out of the collector's sight, a full
    # collection no longer walks it (a 70 ms pause every ~10 letters) and the pool processes
    # forked next share its pages instead of copying them as the collector touches them.
    gc.collect()
    gc.freeze()
    logger.info("renderer warmed in %.2f s", time.perf_counter() - started)


@worker_init.connect
def _serve_worker_metrics(**kwargs) -> None:
    port = os.environ.get("CELERY_METRICS_PORT")
    if not port:
        return
    from tracker.metrics import start_worker_server

    address = os.environ.get("CELERY_METRICS_ADDRESS", "0.0.0.0")
    start_worker_server(int(port), address)
    logger.info("serving task metrics on %s:%s", address, port)


@worker_process_shutdown.connect
def _forget_pool_process(pid=None, **kwargs) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())


@worker_shutdown.connect
def _remove_metrics_dir(**kwargs) -> None:
    if _made_metrics_dir:
        import shutil

        shutil.rmtree(_made_metrics_dir, ignore_errors=True)
