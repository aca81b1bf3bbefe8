"""One log format for every process: web (Django), gunicorn's master and workers, Celery's
worker and beat.

A record is one JSON line (``LOG_FORMAT=json``, the default without ``DEBUG``)::

    {"time": "2026-03-02T09:15:04.120+08:00", "level": "INFO", "logger": "tracker.celery",
     "message": "queued tracker.admin_tasks.check_import", "request_id": "4f0c…",
     "client_ip": "10.1.2.3", …}

or, for ``make run`` (``LOG_FORMAT=text``, the default with ``DEBUG=true``), a line a person
reads. ``time`` is ISO 8601 in Asia/Shanghai with its offset (+08:00) whatever the process's
``TZ`` is, so the master (which never loads Django, which is what sets ``TZ``), the workers and
Celery agree. ``request_id`` is the web request's (``tracker.middleware.RequestIdMiddleware``)
or, in a worker, that of the request that queued the task (``tracker.celery`` carries it in the
task's headers); ``client_ip``, ``task_id`` and ``task_name`` are added when known; an ``extra``
given to the logger becomes more fields.

This module imports nothing from Django: gunicorn's master loads it (``GunicornLogger``) before
any application code.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
from contextvars import ContextVar
from zoneinfo import ZoneInfo

from gunicorn import glogging

#: The zone of every timestamp; the same as ``settings.TIME_ZONE``
#: (tracker/tests/test_observability.py checks).
TIME_ZONE = "Asia/Shanghai"
_ZONE = ZoneInfo(TIME_ZONE)

#: The current web request's id, or in a worker the id of the request that queued the task.
request_id_var: ContextVar[str | None] = ContextVar("tracker_request_id", default=None)
#: The client's address of the current web request.
client_ip_var: ContextVar[str | None] = ContextVar("tracker_client_ip", default=None)

#: Where the request id and client address are left in the WSGI environ for gunicorn's access
#: log (Django's ``request.META`` is the environ itself).
REQUEST_ID_ENVIRON = "tracker.request_id"
CLIENT_IP_ENVIRON = "tracker.client_ip"

#: Attributes every LogRecord has: not copied into the JSON as extra fields. ``request`` is the
#: socket or request object Django's loggers pass; its text says nothing useful.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    "request",
}
_CONTEXT_FIELDS = ("request_id", "client_ip", "task_id", "task_name")


def configure(config: dict) -> None:
    """``LOGGING_CONFIG`` of the settings (and Celery's ``setup_logging``): ``LOGGING``, and
    Python's warnings through it too (logger ``py.warnings``) rather than as bare text."""
    import logging.config

    logging.config.dictConfig(config)
    logging.captureWarnings(True)


def log_format() -> str:
    """``json`` or ``text`` from the environment: ``LOG_FORMAT``, else text with ``DEBUG``.

    Used where Django's settings are not loaded (gunicorn's master); the settings read the same
    variables (``settings.LOG_FORMAT``).
    """
    chosen = os.environ.get("LOG_FORMAT", "").strip().lower()
    if chosen in ("json", "text"):
        return chosen
    debug = os.environ.get("DEBUG", "").strip().lower() in ("1", "true", "yes", "on")
    return "text" if debug else "json"


def timestamp(created: float) -> str:
    """``2026-03-02T09:15:04.120+08:00``."""
    moment = datetime.datetime.fromtimestamp(created, _ZONE)
    return moment.isoformat(timespec="milliseconds")


#: A sign-in link carries a token in its path: no log line keeps it (Django's "Bad Request:
#: /my/login/link/…" included).
_SECRET_PATHS = re.compile(r"(/my/login/link/[^/\s]+/)[^/\s\"']+")


def redact(text: str) -> str:
    return _SECRET_PATHS.sub(r"\1[redacted]", text) if "/login/link/" in text else text


def _current_task():
    try:
        from celery._state import get_current_task
    except ImportError:  # pragma: no cover - celery is a dependency
        return None
    return get_current_task()


class ContextFilter(logging.Filter):
    """Adds ``request_id``, ``client_ip`` and, inside a Celery task, ``task_id`` and
    ``task_name`` to every record (values the record already carries are kept)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a request's error response (django.request) after the middleware has
        # returned, with the request in the record: its environ still has both.
        meta = getattr(getattr(record, "request", None), "META", None)
        meta = meta if isinstance(meta, dict) else {}
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get() or meta.get(REQUEST_ID_ENVIRON)
        if getattr(record, "client_ip", None) is None:
            record.client_ip = client_ip_var.get() or meta.get(CLIENT_IP_ENVIRON)
        if getattr(record, "task_id", None) is None:
            task = _current_task()
            request = getattr(task, "request", None)
            task_id = getattr(request, "id", None)
            record.task_id = task_id
            record.task_name = getattr(task, "name", None) if task_id else None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, then the rest."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for field in _CONTEXT_FIELDS[1:]:
            value = getattr(record, field, None)
            if value is not None:
                data[field] = value
        for key, value in record.__dict__.items():
            if key in _RECORD_ATTRIBUTES or key in data or key.startswith("_"):
                continue
            if key in _CONTEXT_FIELDS:
                continue
            data[key] = value
        data["process"] = record.process
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["exc"] = record.exc_text
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``2026-03-02T09:15:04.120+08:00 INFO    tracker.celery [4f0c…] message``."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None) or request_id_var.get() or "-"
        line = (
            f"{timestamp(record.created)} {record.levelname:<7} {record.name} "
            f"[{request_id}] {redact(record.getMessage())}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def formatter(kind: str | None = None) -> logging.Formatter:
    return TextFormatter() if (kind or log_format()) == "text" else JsonFormatter()


# --- gunicorn ---------------------------------------------------------------------------------


class GunicornLogger(glogging.Logger):
    """gunicorn's logger (``logger_class`` in gunicorn.conf.py): its error log and its access
    log through the formatter above, the access log one record per request with the request
    id, method, path (no query string), status, bytes, duration and the client's address."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        fmt = formatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(fmt)

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        try:
            status = resp.status
            if isinstance(status, str):
                status = status.split(None, 1)[0]
            status = int(status)
            headers = {str(k).lower(): v for k, v in (resp.headers or [])}
            method = environ.get("REQUEST_METHOD", "")
            path = redact(environ.get("PATH_INFO", ""))
            request_id = environ.get(REQUEST_ID_ENVIRON) or headers.get("x-request-id")
            self.access_log.info(
                "%s %s %s",
                method,
                path,
                status,
                extra={
                    "request_id": request_id,
                    "client_ip": environ.get(CLIENT_IP_ENVIRON) or environ.get("REMOTE_ADDR"),
                    "method": method,
                    "path": path,
                    "status": status,
                    "bytes": getattr(resp, "sent", None),
                    "duration_ms": round(request_time.total_seconds() * 1000, 1),
                },
            )
        except Exception:
            self.error("access log failed", exc_info=True)
