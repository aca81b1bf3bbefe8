"""Logging and error reporting (settings: ``LOGGING``, and Sentry when ``SENTRY_DSN`` is set).

Logs: one line per record on stderr, JSON (time in ISO 8601 with +08:00, level, logger,
message, request_id, client_ip, task_id …) or, for `make run`, text; the same for the web,
gunicorn (gunicorn.conf.py) and Celery's worker and beat (tracker/celery.py). tracker/logging.py.
"""

from __future__ import annotations

from typing import Any

import environ


def logging_config(env: environ.Env, log_format: str) -> dict[str, Any]:
    """``LOGGING``: the console handler in ``log_format`` (``LOG_FORMAT``: "text" or "json"),
    the root at ``LOG_LEVEL``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "tracker.logging.ContextFilter"}},
        "formatters": {
            "json": {"()": "tracker.logging.JsonFormatter"},
            "text": {"()": "tracker.logging.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "text" if log_format == "text" else "json",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
        "loggers": {
            # Django's own handlers (console with DEBUG, mail_admins) give way to the root's.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "py.warnings": {"handlers": [], "propagate": True},
            # WeasyPrint logs every layout step at INFO; keep warnings (missing glyphs, bad CSS).
            "weasyprint": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
        },
    }


def init_sentry(env: environ.Env, dsn: str) -> None:
    """Report errors to Sentry at ``dsn`` (``SENTRY_ENVIRONMENT``, ``SENTRY_RELEASE``,
    ``SENTRY_TRACES_SAMPLE_RATE``). No personal data: no user, cookies, addresses or request
    bodies (send_default_pii=False, bodies never). Imported only when called: without a DSN
    the SDK is not loaded at all."""
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default="") or None,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
        max_request_body_size="never",
    )
