"""The mail ledger: how a digest, an event notice or a sign-in link is delivered, generic over the
ledger models (``tracker.models.Outgoing``: ``Digest``, ``EventNotice``, ``LoginLinkMail``).

Delivery follows the ledger, never the broker: a task claims its row (a short transaction that
locks it, checks it is still owed, counts the attempt and takes a lease), sends, and marks it
sent. A second task for the same row finds it sent, or leased and at work, and does nothing;
a task whose worker died leaves a lease that runs out, and the hourly ``unsent`` sweep sends
the row again — flagged ``may_be_duplicate`` and logged, because the first attempt may have
reached the server before the worker died. That is the only way a mail goes out twice.

A failed send (SMTP refused, connection down) goes back to pending with an exponential
backoff, and is marked failed after ``REMINDER_MAIL_MAX_ATTEMPTS``: a failed row is never
retried again on its own (no retry loop); the admin's "retry" action puts it back.

The bottom of ``tracker.mail``: it imports no other module of it, nor ``tracker.reminders`` or
``tracker.tasks`` (the tasks register themselves here: ``register_sender``).
"""

from __future__ import annotations

import datetime
import logging
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tracker.models import Outgoing

logger = logging.getLogger(__name__)

State = Outgoing.State


def _now() -> datetime.datetime:
    """The clock seam of sending (tests move it to expire leases)."""
    return timezone.now()


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def admin_url(obj_or_model: Any, pk: int | None = None) -> str:
    meta = obj_or_model._meta
    pk = obj_or_model.pk if pk is None else pk
    return site_url(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk]))


def long_date(d: datetime.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# --- The sending machine --------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt did: ``sent``, ``skipped`` (someone else has or had it),
    ``cancelled`` (nothing left to say), ``retry`` (after ``retry_in`` seconds) or ``failed``."""

    status: str
    retry_in: float | None = None
    error: BaseException | None = None


def retry_delay(attempt: int) -> float:
    """Seconds before attempt ``attempt + 1``: doubling from the base, capped."""
    base = float(settings.REMINDER_MAIL_RETRY_BACKOFF)
    return min(base * 2 ** max(attempt - 1, 0), float(settings.REMINDER_MAIL_RETRY_BACKOFF_MAX))


def claim(model: type[Outgoing], pk: int) -> Outgoing | None:
    """Take row ``pk`` for sending, or return None when it is not ours to send.

    Locks the row only for this short transaction; the lease then keeps other tasks off it
    while the mail is sent, without holding a database lock across the SMTP conversation.
    """
    now = _now()
    with transaction.atomic():
        row = model.objects.select_for_update().filter(pk=pk).first()
        if row is None or row.state not in (State.PENDING, State.SENDING):
            return None
        if row.state == State.SENDING:
            if row.lease_until is not None and row.lease_until > now:
                return None  # another task is sending it right now
            # The task that had it died after claiming it: the mail may or may not have left.
            row.may_be_duplicate = True
            logger.warning(
                "%s %s: the previous attempt was interrupted while sending; sending again, "
                "so %s may receive it twice",
                model.__name__,
                pk,
                row.email,
            )
        if row.attempts >= settings.REMINDER_MAIL_MAX_ATTEMPTS:
            row.state = State.FAILED
            row.lease_until = None
            row.last_error = _("发送过程多次中断，已停止重试。")
            row.save(update_fields=["state", "lease_until", "last_error", "may_be_duplicate"])
            return None
        row.state = State.SENDING
        row.attempts += 1
        row.lease_until = now + datetime.timedelta(seconds=float(settings.REMINDER_SEND_LEASE))
        row.next_attempt_at = None
        row.save(
            update_fields=[
                "state",
                "attempts",
                "lease_until",
                "next_attempt_at",
                "may_be_duplicate",
            ]
        )
        return row


def _finish(row: Outgoing, **changes: Any) -> bool:
    """Write the end of an attempt, unless the row has since been taken by another attempt."""
    model = type(row)
    done = model.objects.filter(pk=row.pk, state=State.SENDING, attempts=row.attempts).update(
        **changes
    )
    if not done:
        logger.warning("%s %s: attempt %s lost its lease", model.__name__, row.pk, row.attempts)
    return bool(done)


def record_failure(row: Outgoing, exc: BaseException) -> Outcome:
    """Back to pending with a backoff, or failed after the last attempt."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if row.attempts >= settings.REMINDER_MAIL_MAX_ATTEMPTS:
        _finish(row, state=State.FAILED, lease_until=None, last_error=error)
        logger.error(
            "%s %s failed after %s attempts: %s", type(row).__name__, row.pk, row.attempts, error
        )
        return Outcome("failed", error=exc)
    delay = retry_delay(row.attempts)
    next_at = _now() + datetime.timedelta(seconds=delay)
    _finish(row, state=State.PENDING, lease_until=None, next_attempt_at=next_at, last_error=error)
    logger.warning(
        "%s %s attempt %s failed (%s); retrying in %ss",
        type(row).__name__,
        row.pk,
        row.attempts,
        error,
        delay,
    )
    return Outcome("retry", retry_in=delay, error=exc)


RETRYABLE = (smtplib.SMTPException, OSError)


def deliver(
    model: type[Outgoing],
    pk: int,
    build: Callable[[Any], EmailMultiAlternatives | None],
    after_sent: Callable[[Any], None] | None = None,
) -> Outcome:
    """Claim, build, send, mark sent: the one path every e-mail of the ledgers takes."""
    row = claim(model, pk)
    if row is None:
        return Outcome("skipped")
    try:
        message = build(row)
        if message is None:
            _finish(row, state=State.CANCELLED, lease_until=None)
            return Outcome("cancelled")
        message.connection = get_connection(
            fail_silently=False, timeout=float(settings.REMINDER_SMTP_TIMEOUT)
        )
        message.send()
    except RETRYABLE as exc:
        return record_failure(row, exc)
    except Exception as exc:
        record_failure(row, exc)
        raise
    with transaction.atomic():
        if _finish(row, state=State.SENT, lease_until=None, sent_at=_now()) and after_sent:
            after_sent(row)
    return Outcome("sent")


def unsent(model: type[Outgoing], *, now: datetime.datetime | None = None) -> list[int]:
    """Rows owed and not in flight: pending and due for a retry, pending for longer than
    ``REMINDER_RESEND_AFTER`` since they were written (their message was lost: a fresh one is
    still in the queue), or sending with a lease that ran out (its task died). Failed rows are
    not here: they wait for a person."""
    now = now or _now()
    written_before = now - datetime.timedelta(seconds=float(settings.REMINDER_RESEND_AFTER))
    retry_due = Q(next_attempt_at__lte=now)
    never_tried = Q(next_attempt_at__isnull=True, created_at__lte=written_before)
    due = Q(state=State.PENDING) & (retry_due | never_tried)
    lost = Q(state=State.SENDING) & (Q(lease_until__isnull=True) | Q(lease_until__lte=now))
    return list(model.objects.filter(due | lost).order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def requeue_failed(model: type[Outgoing], ids: Iterable[int]) -> list[int]:
    """The admin's "retry": failed rows start again with a fresh count of attempts."""
    rows = list(
        model.objects.select_for_update()
        .filter(pk__in=list(ids), state=State.FAILED)
        .values_list("pk", flat=True)
    )
    model.objects.filter(pk__in=rows).update(
        state=State.PENDING, attempts=0, next_attempt_at=None, lease_until=None
    )
    transaction.on_commit(lambda: enqueue(model, rows), robust=True)
    return rows


#: The Celery task that sends the rows of each ledger, by model. ``tracker.tasks`` (the layer
#: above this one) registers them when it is imported, and ``TrackerConfig.ready`` imports it,
#: so every process has them before anything is queued; this module never imports the tasks.
_SENDERS: dict[type[Outgoing], Any] = {}


def register_sender(model: type[Outgoing], task: Any) -> None:
    """Name the task (``task.delay(pk)``) that sends one row of ``model``'s ledger."""
    _SENDERS[model] = task


def enqueue(model: type[Outgoing], ids: Iterable[int]) -> None:
    """Queue one task per row; the ledger makes a second message for a row a no-op."""
    try:
        task = _SENDERS[model]
    except KeyError:
        raise LookupError(
            f"no task sends {model.__name__} rows: tracker.tasks registers them on import"
        ) from None
    for pk in ids:
        task.delay(pk)


def render_message(
    *, subject: str, template: str, context: dict[str, Any], to: str
) -> EmailMultiAlternatives:
    """The e-mail of ``template`` (``.txt`` body and ``.html`` alternative) to one address."""
    text = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    return message
