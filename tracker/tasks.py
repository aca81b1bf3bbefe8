"""Celery wrappers of the reminders and the mail: each takes ids (or nothing), calls one
function of ``tracker.reminders``, ``tracker.mail`` or ``tracker.my.login_links``, and can run
twice without harm — the ledger rows they work on make a second run a no-op. That is what lets
them ask to be re-queued when their worker dies (``reject_on_worker_lost``) under ``acks_late``.

The mail tasks own their retry policy: the ledger counts the attempts and decides the backoff
(``ledger.record_failure``), so Celery's own retry counter is not consulted (``max_retries``
None) and a message redelivered after a crash does not reset the count.

The mail tasks are ``OutboxTask``s: queued while the broker is unreachable, they wait in the
outbox (``proposals.outbox``), which ``deliver_outbox`` (beat, every five minutes), the hourly
``retry_unsent`` and a worker's start send once the broker is back; the ledger row makes the
notice go out once, whichever way its task comes.

The top of the mail's layers (``tracker.mail``): this module imports the modules whose functions
its tasks call, never the other way round; those queue a row's task through the ledger
(``ledger.enqueue``), where the sending tasks are registered below (``register_sender``).
"""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from proposals import events, outbox
from tracker import reminders
from tracker.mail import digests, ledger, notices
from tracker.models import Digest, EventNotice, LoginLinkMail
from tracker.my import login_links

logger = logging.getLogger(__name__)

MAIL_TASK_OPTIONS = {
    "bind": True,
    "base": outbox.OutboxTask,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": None,
    "soft_time_limit": settings.REMINDER_MAIL_SOFT_TIME_LIMIT,
    "time_limit": settings.REMINDER_MAIL_TIME_LIMIT,
    "ignore_result": True,
}


def _finish(task, outcome: ledger.Outcome) -> str:
    # Run eagerly (no broker: ``make run``, a request's on-commit), a retry would block the
    # caller for the whole backoff; the ledger already holds the next attempt for the sweep.
    if outcome.status == "retry" and not task.request.is_eager:
        raise task.retry(countdown=outcome.retry_in, exc=outcome.error)
    return outcome.status


@shared_task(**MAIL_TASK_OPTIONS)
def send_digest(self, digest_id: int) -> str:
    """Send one person's daily digest (queue ``mail``)."""
    return _finish(self, digests.deliver_digest(digest_id))


@shared_task(**MAIL_TASK_OPTIONS)
def send_event_notice(self, notice_id: int) -> str:
    """Send one event notice (queue ``mail``)."""
    return _finish(self, notices.deliver_notice(notice_id))


@shared_task(**MAIL_TASK_OPTIONS)
def prepare_login_links(self, email: str, request_key: str, client_ip: str | None = None) -> int:
    """A request for a sign-in link of /my/ (queue ``mail``): find the members registered with
    ``email``, write their ledger rows and queue them. Here, not in the request, so the request
    takes the same time whether or not the address is known (``tracker.my.login_links``)."""
    return len(login_links.record_links(email, request_key=request_key, client_ip=client_ip))


@shared_task(**MAIL_TASK_OPTIONS)
def send_login_link(self, link_id: int) -> str:
    """Send one sign-in link, its token made now (queue ``mail``)."""
    return _finish(self, login_links.deliver_link(link_id))


#: The task that sends each ledger's rows (``ledger.enqueue``).
ledger.register_sender(Digest, send_digest)
ledger.register_sender(EventNotice, send_event_notice)
ledger.register_sender(LoginLinkMail, send_login_link)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def scan_reminders(today: str | None = None) -> int:
    """The daily scan (beat, 08:30 Asia/Shanghai); the digests go out on commit."""
    day = datetime.date.fromisoformat(today) if today else None
    report = reminders.run_scan(today=day)
    return len(report.digests)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def retry_unsent() -> int:
    """Hourly: deliver events whose process died after the commit (their notices were never
    written), then enqueue every digest, notice and sign-in link still owed (never the failed
    ones)."""
    outbox.deliver()
    events.redeliver()
    count = 0
    for model in (Digest, EventNotice, LoginLinkMail):
        ids = ledger.unsent(model)
        ledger.enqueue(model, ids)
        count += len(ids)
    return count


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_outbox() -> int:
    """Every five minutes (beat), and when a worker starts: queue the tasks that were kept in
    the outbox while the broker was unreachable. Returns how many were sent."""
    return outbox.deliver().sent


@worker_ready.connect
def _deliver_outbox_when_a_worker_starts(sender=None, **kwargs) -> None:
    """A worker that starts (after an outage, a deployment) has the outbox sent at once rather
    than at the next beat: a message, so the work runs in a worker process, not here."""
    try:
        deliver_outbox.apply_async()
    except outbox.BROKER_ERRORS:  # the worker itself would not have started
        logger.warning("could not queue deliver_outbox at worker start", exc_info=True)
