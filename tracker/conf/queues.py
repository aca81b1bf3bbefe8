"""Where Celery's tasks run and when the periodic ones are due (settings:
``CELERY_TASK_ROUTES``, ``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab


def task_routes() -> dict[str, dict[str, str]]:
    """``CELERY_TASK_ROUTES``: PDFs on the ``pdf`` queue, e-mail on ``mail``, the rest on the
    default queue."""
    return {
        "replies.tasks.render_signed_pdf": {"queue": "pdf"},
        # Drafts' previews render with the letters (a child process each, limited:
        # replies/previews.py).
        "replies.tasks.render_letter_preview": {"queue": "pdf"},
        # Re-checking stored signed letters reads and verifies PDFs: with the letters.
        "signing.tasks.check_stored_letters": {"queue": "pdf"},
        "tracker.tasks.send_digest": {"queue": "mail"},
        "tracker.tasks.send_event_notice": {"queue": "mail"},
        "tracker.tasks.prepare_login_links": {"queue": "mail"},
        "*.send_*": {"queue": "mail"},
    }


def beat_schedule() -> dict[str, dict[str, Any]]:
    """``CELERY_BEAT_SCHEDULE``: the periodic tasks, in ``CELERY_TIMEZONE`` (Asia/Shanghai)."""
    return {
        # The daily scan at 08:30 in Asia/Shanghai (CELERY_TIMEZONE), before the working day.
        "daily-reminder-scan": {
            "task": "tracker.tasks.scan_reminders",
            "schedule": crontab(hour=8, minute=30),
        },
        # Whatever is still unsent (the broker lost it, a worker died, a retry is due).
        "hourly-retry-unsent": {
            "task": "tracker.tasks.retry_unsent",
            "schedule": crontab(minute=15),
        },
        # Signed letters whose PDF render was lost (the broker lost it, a worker died for good);
        # those whose every retry failed are 生成失败 and wait for 重新生成.
        "hourly-render-missing-pdfs": {
            "task": "replies.tasks.render_missing_pdfs",
            "schedule": crontab(minute=25),
        },
        # Members' notices of the steps audited since the last sweep (tracker.mail.members).
        "member-notices": {
            "task": "tracker.members.tasks.sweep_member_notices",
            "schedule": 60.0,
        },
        # Tasks kept in the outbox while the broker was unreachable (proposals/outbox.py).
        "deliver-outbox": {
            "task": "tracker.tasks.deliver_outbox",
            "schedule": crontab(minute="*/5"),
        },
        # Every night, the stored signed letters checked longest ago are verified again (their
        # seal and PAdES signature, against the stored hash); the committee's dashboard lists
        # any that no longer verify (signing/checks.py).
        "nightly-verify-signed-letters": {
            "task": "signing.tasks.check_stored_letters",
            "schedule": crontab(hour=2, minute=50),
        },
        # Session ZIPs whose job has expired (a day old): no one can download them any more.
        "daily-purge-exports": {
            "task": "tracker.admin_tasks.purge_expired_exports",
            "schedule": crontab(hour=3, minute=40),
        },
        # Every minute a worker writes its heartbeat to the database (/healthz's "worker"
        # check); one not run within the minute is dropped rather than piling up while no
        # worker runs.
        "worker-heartbeat": {
            "task": "tracker.health.heartbeat",
            "schedule": 60.0,
            "options": {"expires": 55},
        },
    }
