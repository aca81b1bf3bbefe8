"""Event notices: the e-mails the workflow's events (``proposals.events``) send — a new
assignment, a decided reassignment or extension, a co-proposal invitation, a letter awaiting
signature, a reply sent, an unsatisfied feedback. ``EVENTS`` says, per event, which audit row
it reads, who is told and with what words; ``HANDLERS`` are registered with
``proposals.events`` by ``TrackerConfig.ready``. Sent through the ledger
(``tracker.mail.ledger``) by ``tracker.tasks.send_event_notice``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals import permissions
from proposals.models import (
    Assignment,
    ExtensionRequest,
    Membership,
    Proposal,
    Proposer,
    Transition,
    User,
)
from replies.models import CoOpinion, Feedback, Reply
from tracker.mail import members
from tracker.mail.ledger import (
    Outcome,
    State,
    admin_url,
    deliver,
    enqueue,
    long_date,
    render_message,
    site_url,
)
from tracker.models import EventNotice, MemberPreference, NoticeEvent

logger = logging.getLogger(__name__)


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


def _signers(unit_id: int) -> list[Recipient]:
    """Those who sign for the unit (``proposals.permissions.signers_of``), with an address."""
    rows = permissions.signers_of(unit_id).exclude(email="").values_list("pk", "email")
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
    # A member who chose 短信 only, or no notices, gets no e-mail (tracker.mail.members).
    quiet = set(
        MemberPreference.objects.filter(proposer__in=[p.pk for p in people])
        .exclude(channels__in=[MemberPreference.Channels.EMAIL, MemberPreference.Channels.BOTH])
        .values_list("proposer_id", flat=True)
    )
    for p in people:
        email = (p.email or "").strip()
        if email and email.lower() not in found and p.pk not in quiet:
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
            _unit_people(a.unit_id, [Membership.Role.CLERK]) or _signers(a.unit_id)
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
        recipients=lambda letter: _signers(letter.unit_id),
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
        recipients=lambda fb: _unit_people(fb.reply.unit_id, Membership.Role.values) + _committee(),
        context=_feedback_context,
    ),
    # Written by the audit sweep (tracker.mail.members), not by an event of the workflow.
    NoticeEvent.OPINION_DELIVERED: EventSpec(
        verbs=("deliver",),
        target=lambda ids: (CoOpinion, ids["opinion_id"]),
        recipients=lambda opinion: [],
        context=_letter_context,
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
    if notice.event == NoticeEvent.OPINION_DELIVERED:
        return members.build_opinion_mail(notice)
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
    return render_message(
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
