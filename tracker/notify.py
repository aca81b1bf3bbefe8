"""E-mails: the daily digest of reminders, the event notices, and how both are delivered.

Delivery follows the ledger, never the broker: a task claims its row (a short transaction that
locks it, checks it is still owed, counts the attempt and takes a lease), sends, and marks it
sent. A second task for the same row finds it sent, or leased and at work, and does nothing;
a task whose worker died leaves a lease that runs out, and the hourly ``unsent`` sweep sends
the row again — flagged ``may_be_duplicate`` and logged, because the first attempt may have
reached the server before the worker died. That is the only way a mail goes out twice.

A failed send (SMTP refused, connection down) goes back to pending with an exponential
backoff, and is marked failed after ``REMINDER_MAIL_MAX_ATTEMPTS``: a failed row is never
retried again on its own (no retry loop); the admin's "retry" action puts it back.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import models, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals.models import (
    OPEN_ASSIGNMENT_STATES,
    Assignment,
    AssignmentState,
    ExtensionRequest,
    Membership,
    Proposal,
    Proposer,
    Transition,
    User,
)
from proposals.workdays import WorkCalendar
from replies.models import CoOpinion, Feedback, Reply, ReplyState
from tracker.models import (
    Digest,
    EventNotice,
    NoticeEvent,
    Outgoing,
    Reminder,
    ReminderClock,
    step_label,
)
from tracker.reminders import DONE_PROPOSAL_STATES

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
    """Claim, build, send, mark sent: the one path every e-mail of this module takes."""
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


def enqueue(model: type[Outgoing], ids: Iterable[int]) -> None:
    from tracker import tasks  # tasks import this module

    task = tasks.send_digest if model is Digest else tasks.send_event_notice
    for pk in ids:
        task.delay(pk)


# --- The daily digest -----------------------------------------------------------------------


@dataclass
class DigestLine:
    number: str
    title: str
    unit: str
    clock: str
    due_on: datetime.date
    step: int
    url: str

    @property
    def due_text(self) -> str:
        return long_date(self.due_on)

    @property
    def status(self) -> str:
        return step_label(self.step)


@dataclass
class DigestSection:
    title: str
    lines: list[DigestLine]
    total: int
    more_url: str

    @property
    def hidden(self) -> int:
        return self.total - len(self.lines)


_ITEM_FIELDS = (
    "id",
    "clock",
    "step",
    "due_on",
    "assignment_id",
    "reply_id",
    "assignment__state",
    "assignment__round",
    "assignment__proposal__number",
    "assignment__proposal__title",
    "assignment__proposal__status",
    "assignment__unit__name",
    "assignment__unit__short_name",
    "due_date__completed_on",
    "due_date__due_on",
    "due_date__round",
    "reply__state",
    "reply__superseded_by",
)


def still_due(item: dict[str, Any]) -> bool:
    """Whether a reminder still stands when its mail goes out: not done, withdrawn,
    published, or moved to another date since the scan."""
    clock = item["clock"]
    if clock == ReminderClock.PUBLICATION:
        return item["reply__state"] == ReplyState.SENT and item["reply__superseded_by"] is None
    state = item["assignment__state"]
    if state not in OPEN_ASSIGNMENT_STATES:
        return False
    if item["assignment__proposal__status"] in DONE_PROPOSAL_STATES:
        return False
    if clock == ReminderClock.ACCEPT and state != AssignmentState.PENDING:
        return False
    if clock == ReminderClock.REASSIGNMENT and state != AssignmentState.ACCEPTED:
        return False
    return (
        item["due_date__completed_on"] is None
        and item["due_date__due_on"] == item["due_on"]
        and item["due_date__round"] == item["assignment__round"]
    )


def _line(item: dict[str, Any]) -> DigestLine:
    """One row of the digest; ``item["left"]`` is the working days left on the digest's date."""
    if item["clock"] == ReminderClock.PUBLICATION:
        url = admin_url(Reply, item["reply_id"])
    else:
        url = admin_url(Assignment, item["assignment_id"])
    return DigestLine(
        number=item["assignment__proposal__number"] or _("（未编号）"),
        title=item["assignment__proposal__title"],
        unit=item["assignment__unit__short_name"] or item["assignment__unit__name"],
        clock=str(ReminderClock(item["clock"]).label),
        due_on=item["due_on"],
        step=item["left"],
        url=url,
    )


def digest_sections(items: list[dict[str, Any]]) -> list[DigestSection]:
    """Overdue first (the longest overdue on top), then due today, then coming up."""
    limit = int(settings.REMINDER_DIGEST_MAX_ROWS)
    more_url = site_url(reverse("admin:proposals_assignment_changelist"))
    groups = (
        (_("已逾期"), [i for i in items if i["left"] < 0], lambda i: (i["left"], i["due_on"])),
        (_("今日到期"), [i for i in items if i["left"] == 0], lambda i: i["due_on"]),
        (_("即将到期"), [i for i in items if i["left"] > 0], lambda i: (i["due_on"], i["left"])),
    )
    sections = []
    for title, group, key in groups:
        if not group:
            continue
        group.sort(
            key=lambda i, key=key: (key(i), i["assignment__proposal__number"] or "", i["id"])
        )
        sections.append(
            DigestSection(
                title=str(title),
                lines=[_line(i) for i in group[:limit]],
                total=len(group),
                more_url=more_url,
            )
        )
    return sections


def digest_subject(on: datetime.date, sections: list[DigestSection]) -> str:
    counts = "，".join(f"{s.title}{s.total}件" for s in sections)
    return _("提案办理提醒（%(date)s）：%(counts)s") % {"date": long_date(on), "counts": counts}


def build_digest(digest: Digest) -> EmailMultiAlternatives | None:
    """The digest's e-mail from the reminders that still stand; None when none do."""
    items = list(Reminder.objects.filter(pk__in=digest.reminder_ids).values(*_ITEM_FIELDS))
    live = [i for i in items if still_due(i)]
    stale = [i["id"] for i in items if not still_due(i)]
    if stale:
        Reminder.objects.filter(pk__in=stale, state=Reminder.State.PENDING).update(
            state=Reminder.State.CANCELLED
        )
    if not live:
        return None
    _count_working_days_left(live, digest.on)
    user = User.objects.get(pk=digest.user_id)
    sections = digest_sections(live)
    context = {
        "name": user.full_name or user.username,
        "date": long_date(digest.on),
        "part": digest.part,
        "sections": sections,
        "total": len(live),
        "site_url": settings.SITE_URL,
        "preferences_url": site_url(reverse("admin:tracker_notificationpreference_changelist")),
    }
    return _message(
        subject=digest_subject(digest.on, sections),
        template="emails/digest",
        context=context,
        to=digest.email,
    )


def _count_working_days_left(items: list[dict[str, Any]], on: datetime.date) -> None:
    """The mail says how many working days are left on its date: a step caught up late (the
    "5 days" reminder sent with 3 left) says 3. Overdue steps are exact already."""
    ahead = [i for i in items if i["step"] > 0]
    calendar = WorkCalendar() if ahead else None
    for item in items:
        item["left"] = item["step"]
    for item in ahead:
        item["left"] = calendar.workdays_between(on, calendar.next_workday(item["due_on"]))


def mark_reminders_sent(digest: Digest) -> None:
    """A reminder is sent once the digests of all its recipients are: each sent digest counts
    down its reminders' ``undelivered`` (once: only the attempt that marked it sent gets here)."""
    mine = Reminder.objects.filter(pk__in=digest.reminder_ids, state=Reminder.State.PENDING)
    mine.filter(undelivered__gt=0).update(undelivered=F("undelivered") - 1)
    mine.filter(undelivered=0).update(state=Reminder.State.SENT)


def deliver_digest(digest_id: int) -> Outcome:
    return deliver(Digest, digest_id, build_digest, after_sent=mark_reminders_sent)


# --- Event notices --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    email: str
    user_id: int | None = None
    proposer_id: int | None = None


def _unit_people(unit_id: int, roles: Iterable[str]) -> list[Recipient]:
    rows = (
        Membership.objects.filter(unit_id=unit_id, role__in=list(roles), user__is_active=True)
        .exclude(user__email="")
        .order_by("role", "user_id")
        .values_list("user_id", "user__email")
    )
    return [Recipient(email, user_id=user_id) for user_id, email in rows]


def _committee() -> list[Recipient]:
    rows = (
        User.objects.filter(is_active=True, office=User.Office.COMMITTEE)
        .exclude(email="")
        .order_by("id")
        .values_list("id", "email")
    )
    return [Recipient(email, user_id=user_id) for user_id, email in rows]


@dataclass(frozen=True)
class EventSpec:
    """How one event finds its audit row, its recipients and its words."""

    verbs: tuple[str, ...]
    target: Callable[[dict[str, int]], tuple[type[models.Model], int]]
    recipients: Callable[[Any], list[Recipient]]
    context: Callable[[Any, Transition], dict[str, Any]]


def _assignment(ids: dict[str, int]) -> tuple[type[models.Model], int]:
    return Assignment, ids["assignment_id"]


def _letter(ids: dict[str, int]) -> tuple[type[models.Model], int]:
    if "opinion_id" in ids:
        return CoOpinion, ids["opinion_id"]
    return Reply, ids["reply_id"]


def _load(model: type[models.Model], pk: int) -> Any:
    related = {
        Proposal: ("lead_proposer", "session"),
        Assignment: ("proposal", "unit"),
        Reply: ("proposal", "unit"),
        CoOpinion: ("proposal", "unit"),
        Feedback: ("proposal", "proposer", "reply__unit"),
    }[model]
    return model.objects.select_related(*related).get(pk=pk)


def _unconfirmed_coproposers(proposal: Proposal) -> list[Recipient]:
    """The co-proposers who have still to confirm that they sign (an invitation or a changed
    text clears the confirmation)."""
    links = proposal.coproposer_links.filter(confirmed_at__isnull=True).select_related("proposer")
    found: dict[str, Recipient] = {}
    for link in links:
        p = link.proposer
        email = (p.email or "").strip()
        if email and email.lower() not in found:
            found[email.lower()] = Recipient(email, user_id=p.user_id, proposer_id=p.pk)
    return list(found.values())


def _invitation_context(proposal: Proposal, t: Transition) -> dict[str, Any]:
    return {
        "proposal": proposal,
        "lead": proposal.lead_proposer,
        "session": proposal.session,
        "revised": t.verb == "revise",
        "note": t.note,
        "at": timezone.localtime(t.at),
        "url": site_url(f"/my/proposals/{proposal.pk}/"),
    }


def _proposers_of(reply: Reply) -> list[Recipient]:
    """Everyone the reply answers: the proposers, and those of proposals merged into it."""
    proposal = reply.proposal
    people = list(proposal.proposers())
    for merged in proposal.merged_proposals.all():
        people.extend(merged.proposers())
    found: dict[str, Recipient] = {}
    for p in people:
        email = (p.email or "").strip()
        if email and email.lower() not in found:
            found[email.lower()] = Recipient(email, user_id=p.user_id, proposer_id=p.pk)
    return list(found.values())


def _base_context(obj: Any, transition: Transition) -> dict[str, Any]:
    proposal = obj.proposal
    return {
        "proposal": proposal,
        "number": proposal.number or _("（未编号）"),
        "unit": getattr(obj, "unit", None),
        "note": transition.note,
        "at": timezone.localtime(transition.at),
        "url": admin_url(obj),
    }


def _assignment_context(a: Assignment, t: Transition) -> dict[str, Any]:
    dues = [
        {"label": d.get_clock_display(), "date": long_date(d.due_on)}
        for d in a.due_dates.filter(round=a.round).order_by("due_on")
    ]
    return {**_base_context(a, t), "assignment": a, "due_dates": dues}


def _decision_context(a: Assignment, t: Transition) -> dict[str, Any]:
    return {**_assignment_context(a, t), "approved": t.verb == "approve_reassignment"}


def _extension_context(a: Assignment, t: Transition) -> dict[str, Any]:
    """The request just decided, and the reply date that now holds."""
    request = (
        a.extension_requests.exclude(state=ExtensionRequest.State.PENDING)
        .order_by("-decided_at", "-pk")
        .first()
    )
    return {
        **_assignment_context(a, t),
        "approved": t.verb == "extend",
        "request": request,
        "requested_due": long_date(request.requested_due_on) if request else "",
    }


def _letter_context(letter: Reply | CoOpinion, t: Transition) -> dict[str, Any]:
    return {
        **_base_context(letter, t),
        "letter": letter,
        "kind": _("会办意见") if isinstance(letter, CoOpinion) else _("答复"),
    }


def _sent_context(reply: Reply, t: Transition) -> dict[str, Any]:
    sent_at = timezone.localtime(reply.sent_at) if reply.sent_at else timezone.localtime(t.at)
    return {**_letter_context(reply, t), "at": sent_at, "url": site_url("/my/")}


def _feedback_context(fb: Feedback, t: Transition) -> dict[str, Any]:
    reply = fb.reply
    return {
        **_base_context(fb, t),
        "feedback": fb,
        "unit": reply.unit,
        "url": admin_url(reply),
    }


EVENTS: dict[str, EventSpec] = {
    NoticeEvent.ASSIGNMENT_CREATED: EventSpec(
        verbs=("assign",),
        target=_assignment,
        recipients=lambda a: (
            _unit_people(a.unit_id, [Membership.Role.CLERK])
            or _unit_people(a.unit_id, [Membership.Role.SIGNER])
        ),
        context=_assignment_context,
    ),
    NoticeEvent.REASSIGNMENT_DECIDED: EventSpec(
        verbs=("approve_reassignment", "refuse_reassignment"),
        target=_assignment,
        recipients=lambda a: _unit_people(a.unit_id, [Membership.Role.CLERK]),
        context=_decision_context,
    ),
    NoticeEvent.EXTENSION_DECIDED: EventSpec(
        verbs=("extend", "refuse_extension"),
        target=_assignment,
        recipients=lambda a: _unit_people(a.unit_id, [Membership.Role.CLERK]),
        context=_extension_context,
    ),
    NoticeEvent.COPROPOSAL_INVITED: EventSpec(
        verbs=("draft", "revise"),
        target=lambda ids: (Proposal, ids["proposal_id"]),
        recipients=_unconfirmed_coproposers,
        context=_invitation_context,
    ),
    NoticeEvent.AWAITING_SIGNATURE: EventSpec(
        verbs=("submit",),
        target=_letter,
        recipients=lambda letter: _unit_people(letter.unit_id, [Membership.Role.SIGNER]),
        context=_letter_context,
    ),
    NoticeEvent.REPLY_SENT: EventSpec(
        verbs=("send",),
        target=lambda ids: (Reply, ids["reply_id"]),
        recipients=_proposers_of,
        context=_sent_context,
    ),
    NoticeEvent.FEEDBACK_NOT_SATISFIED: EventSpec(
        verbs=("feedback",),
        target=lambda ids: (Feedback, ids["feedback_id"]),
        recipients=lambda fb: (
            _unit_people(fb.reply.unit_id, [Membership.Role.CLERK, Membership.Role.SIGNER])
            + _committee()
        ),
        context=_feedback_context,
    ),
}


def record_event_notices(event: str, **ids: int) -> list[int]:
    """The handler of ``proposals.events``: one notice per recipient of the event, then send.

    Keyed by the event's audit row, so running it twice for one event writes and sends nothing
    new. Runs after the workflow's commit; a notice it wrote that the broker then loses is
    sent by the hourly sweep.
    """
    spec = EVENTS[event]
    model, pk = spec.target(ids)
    transition = (
        Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            object_id=pk,
            verb__in=spec.verbs,
        )
        .order_by("-id")
        .first()
    )
    if transition is None:
        logger.warning("event %s %s: no audit row, nothing to notify", event, ids)
        return []
    obj = _load(model, pk)
    recipients = {r.email.lower(): r for r in spec.recipients(obj)}.values()
    with transaction.atomic():
        EventNotice.objects.bulk_create(
            [
                EventNotice(
                    event=event,
                    transition=transition,
                    email=r.email,
                    user_id=r.user_id,
                    proposer_id=r.proposer_id,
                )
                for r in recipients
            ],
            ignore_conflicts=True,
        )
        pending = list(
            EventNotice.objects.filter(transition=transition, state=State.PENDING, attempts=0)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        transaction.on_commit(lambda: enqueue(EventNotice, pending), robust=True)
    return pending


def _handler(event: str) -> Callable[..., None]:
    def handle(**ids: int) -> None:
        record_event_notices(event, **ids)

    handle.__qualname__ = f"record_event_notices[{event}]"
    return handle


#: One handler per event, made once so that registering twice is a no-op.
HANDLERS: dict[str, Callable[..., None]] = {event: _handler(event) for event in EVENTS}


def build_notice(notice: EventNotice) -> EmailMultiAlternatives:
    spec = EVENTS[notice.event]
    transition = notice.transition
    model = transition.content_type.model_class()
    obj = _load(model, transition.object_id)
    context = spec.context(obj, transition)
    name = ""
    if notice.user_id:
        user = User.objects.get(pk=notice.user_id)
        name = user.full_name or user.username
    elif notice.proposer_id:
        name = Proposer.objects.get(pk=notice.proposer_id).name
    context.update(name=name, site_url=settings.SITE_URL)
    subject = render_to_string(f"emails/events/{notice.event}_subject.txt", context)
    return _message(
        subject=" ".join(subject.split()),
        template=f"emails/events/{notice.event}",
        context=context,
        to=notice.email,
    )


def deliver_notice(notice_id: int) -> Outcome:
    return deliver(
        EventNotice,
        notice_id,
        lambda n: build_notice(EventNotice.objects.select_related("transition").get(pk=n.pk)),
    )


# --- Shared -----------------------------------------------------------------------------------


def _message(
    *, subject: str, template: str, context: dict[str, Any], to: str
) -> EmailMultiAlternatives:
    text = render_to_string(f"{template}.txt", context)
    html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    return message
