"""What a member hears about their proposal (issue 21, part 2): 立案 with the number, 不予立案
with the disposition and reason, 退回修改 with the reason, 并案 with the proposal it joined, 交办
with the units and the due date, 答复, 重新办理 — once per step, by e-mail or 短信 as the member
chose (``MemberPreference``), on the ledger (``MemberNotice``: claimed, retried, failed visibly).

The steps are read from the audit trail, not from events: the workflow writes one ``Transition``
per call in its own transaction, and ``sweep`` reads the rows written since it last ran
(``NoticeCursor``; ids are taken under the chain's lock, so a committed row never appears
behind the cursor). One ``MemberNotice`` per (audit row, proposer, channel), unique in the
database, so a step is never told twice whatever runs the sweep (beat, every minute:
``tracker.members.tasks.sweep_member_notices``). The same sweep tells the lead unit's clerks
when a 会办意见 is delivered (``EventNotice``, ``opinion_delivered``).

The e-mail of a sent reply to its proposers stays the ``reply_sent`` event notice
(``tracker.mail.notices``), which reads the same preference; here a reply adds the 短信.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals.models import Assignment, DueDate, Membership, Proposal, Proposer, Transition
from replies.models import CoOpinion, Reply
from tracker.mail import ledger
from tracker.models import (
    EventNotice,
    MemberChannel,
    MemberEvent,
    MemberNotice,
    MemberPreference,
    NoticeCursor,
    NoticeEvent,
)
from tracker.sms import SmsError, SmsMessage, send_sms

logger = logging.getLogger(__name__)

CURSOR = "member_notices"
#: (model, verb) of an audit row → the step a proposer is told about.
STEPS: dict[tuple[type[models.Model], str], str] = {
    (Proposal, "file"): MemberEvent.FILED,
    (Proposal, "not_file"): MemberEvent.NOT_FILED,
    (Proposal, "return"): MemberEvent.RETURNED,
    (Proposal, "merge"): MemberEvent.MERGED,
    (Assignment, "assign"): MemberEvent.ASSIGNED,
    (Reply, "send"): MemberEvent.REPLIED,
    (Assignment, "reopen"): MemberEvent.REHANDLING,
}
#: Assignments made by one call are one 交办 for the proposer: rows this close are one step.
SAME_CALL = datetime.timedelta(seconds=5)
#: The lead unit first, then those that reply separately, then the co-handling ones.
ROLE_ORDER = {Assignment.Role.LEAD: 0, Assignment.Role.SEPARATE: 1, Assignment.Role.CO: 2}
#: A 短信 quotes at most this much of a title.
SMS_TITLE = 18


# --- Who, and how --------------------------------------------------------------------------


def channels_of(proposer: Proposer) -> set[str]:
    """The channels ``proposer`` wants (e-mail unless they chose otherwise)."""
    pref = MemberPreference.objects.filter(proposer=proposer).first()
    return pref.wanted if pref else {MemberChannel.EMAIL}


def wants_email(proposer: Proposer) -> bool:
    return MemberChannel.EMAIL in channels_of(proposer)


def _address(p: Proposer) -> str:
    return (p.email or (p.user.email if p.user_id and p.user else "") or "").strip()


def people(proposers: Iterable[Proposer]) -> list[Proposer]:
    """The proposers, and for a group (界别组, 党派 …) its conveners too, once each."""
    found: dict[int, Proposer] = {}
    for p in proposers:
        found.setdefault(p.pk, p)
        if p.kind != Proposer.Kind.MEMBER:
            for c in p.conveners.filter(is_active=True).select_related("user"):
                found.setdefault(c.pk, c)
    return list(found.values())


def _proposers_told(t: Transition, event: str) -> list[Proposer]:
    proposal = Proposal.objects.select_related("lead_proposer__user").get(pk=t.proposal_id)
    found = list(proposal.proposers())
    if event == MemberEvent.REPLIED:
        for merged in proposal.merged_proposals.all():
            found.extend(merged.proposers())
    return people(found)


def _repeats_one_call(t: Transition) -> bool:
    """Another assignment of the same call was told already (one 交办 per call)."""
    return Transition.objects.filter(
        proposal_id=t.proposal_id, verb=t.verb, id__lt=t.id, at__gte=t.at - SAME_CALL
    ).exists()


def _rows_for(t: Transition, event: str) -> list[MemberNotice]:
    if event == MemberEvent.ASSIGNED and _repeats_one_call(t):
        return []
    rows = []
    for p in _proposers_told(t, event):
        wanted = channels_of(p)
        email, phone = _address(p), (p.mobile or "").strip()
        # A sent reply's e-mail is the reply_sent event notice (tracker.mail.notices).
        if MemberChannel.EMAIL in wanted and email and event != MemberEvent.REPLIED:
            rows.append(MemberNotice(channel=MemberChannel.EMAIL, email=email))
        if MemberChannel.SMS in wanted and phone:
            rows.append(MemberNotice(channel=MemberChannel.SMS, phone=phone))
        for row in rows:
            if not row.proposer_id:
                row.proposer, row.transition, row.event = p, t, event
    return rows


def _lead_clerks_told(t: Transition) -> list[EventNotice]:
    """A 会办意见 delivered: the lead unit's clerks (its signers when it has none)."""
    opinion = CoOpinion.objects.filter(pk=t.object_id).first()
    if opinion is None:
        return []
    lead = Assignment.objects.active().filter(
        proposal_id=opinion.proposal_id, role=Assignment.Role.LEAD
    )
    unit_ids = list(lead.values_list("unit_id", flat=True))
    staff = Membership.objects.filter(unit_id__in=unit_ids, user__is_active=True).exclude(
        user__email=""
    )
    clerks = staff.filter(role=Membership.Role.CLERK) or staff
    found = {m.user.email.lower(): m.user for m in clerks.select_related("user")}
    return [
        EventNotice(event=NoticeEvent.OPINION_DELIVERED, transition=t, email=u.email, user=u)
        for u in found.values()
    ]


# --- The sweep ------------------------------------------------------------------------------


def sweep() -> list[int]:
    """Write the notices of every step audited since the last sweep, and queue them."""
    kinds = {c.pk: m for m, c in ContentType.objects.get_for_models(*_models()).items()}
    verbs = {verb for _m, verb in STEPS} | {"deliver"}
    with transaction.atomic():
        cursor, _created = NoticeCursor.objects.select_for_update().get_or_create(name=CURSOR)
        upper = Transition.objects.aggregate(last=Max("id"))["last"] or 0
        rows = Transition.objects.filter(
            id__gt=cursor.last_transition_id,
            id__lte=upper,
            verb__in=verbs,
            content_type_id__in=list(kinds),
        ).order_by("id")
        members: list[MemberNotice] = []
        units: list[EventNotice] = []
        for t in rows:
            model = kinds[t.content_type_id]
            if model is CoOpinion and t.verb == "deliver":
                units.extend(_lead_clerks_told(t))
            elif (model, t.verb) in STEPS and t.proposal_id:
                members.extend(_rows_for(t, STEPS[(model, t.verb)]))
        MemberNotice.objects.bulk_create(members, ignore_conflicts=True)
        EventNotice.objects.bulk_create(units, ignore_conflicts=True)
        NoticeCursor.objects.filter(pk=cursor.pk).update(
            last_transition_id=max(upper, cursor.last_transition_id), updated_at=timezone.now()
        )
        owed_members = _fresh(MemberNotice)
        owed_units = _fresh(EventNotice, event=NoticeEvent.OPINION_DELIVERED)
        transaction.on_commit(lambda: ledger.enqueue(MemberNotice, owed_members), robust=True)
        transaction.on_commit(lambda: ledger.enqueue(EventNotice, owed_units), robust=True)
    return owed_members


def skip_history() -> int:
    """Move the cursor to the end of the trail without telling anyone: for loading history
    (demo data, an import of past sessions), as ``proposals.events.silenced`` is for events."""
    upper = Transition.objects.aggregate(last=Max("id"))["last"] or 0
    cursor, _created = NoticeCursor.objects.get_or_create(
        name=CURSOR, defaults={"last_transition_id": upper}
    )
    if cursor.last_transition_id < upper:  # a second run with nothing new writes nothing
        NoticeCursor.objects.filter(pk=cursor.pk).update(
            last_transition_id=upper, updated_at=timezone.now()
        )
    return upper


def _models() -> tuple[type[models.Model], ...]:
    return (Proposal, Assignment, Reply, CoOpinion)


def _fresh(model, **filters) -> list[int]:
    return list(
        model.objects.filter(state=MemberNotice.State.PENDING, attempts=0, **filters)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- The words ------------------------------------------------------------------------------


@dataclass
class Message:
    subject: str
    lines: list[str]
    url: str
    short: str  # the 短信, without its signature
    params: dict[str, str]


def _number(p: Proposal) -> str:
    return p.number or _("（未编号）")


def _units_and_dues(proposal: Proposal) -> tuple[str, str]:
    active = Assignment.objects.active().filter(proposal=proposal).select_related("unit")
    ordered = sorted(active, key=lambda a: (ROLE_ORDER.get(a.role, 9), a.pk))
    units = "、".join(f"{a.unit.name}（{a.get_role_display()}）" for a in ordered)
    due = (
        DueDate.objects.filter(
            assignment__in=active.exclude(role=Assignment.Role.CO), clock=DueDate.Clock.REPLY
        )
        .order_by("due_on")
        .values_list("due_on", flat=True)
        .first()
    )
    return units, ledger.long_date(due) if due else ""


def _step_text(event: str, t: Transition, proposal: Proposal) -> str:
    n = _number(proposal)
    if event == MemberEvent.FILED:
        return _("已立案，提案号为%(n)s。") % {"n": n}
    if event == MemberEvent.NOT_FILED:
        text = _("经审查不予立案，处理方式：%(d)s。") % {"d": proposal.get_disposition_display()}
        if proposal.review_note:
            text += _("理由：%(r)s") % {"r": proposal.review_note}
        return text
    if event == MemberEvent.RETURNED:
        return _("已退回修改。退回理由：%(r)s 请修改后重新提交。") % {"r": proposal.review_note}
    if event == MemberEvent.MERGED:
        into = proposal.merged_into
        return _("已并入%(n)s提案《%(t)s》一并办理，答复同样送达您。") % {
            "n": _number(into) if into else "",
            "t": into.title if into else "",
        }
    if event == MemberEvent.ASSIGNED:
        units, due = _units_and_dues(proposal)
        text = _("已交办：%(u)s。") % {"u": units}
        return text + (_("答复期限为%(d)s。") % {"d": due} if due else "")
    if event == MemberEvent.REHANDLING:
        a = Assignment.objects.select_related("unit").get(pk=t.object_id)
        due = a.due_dates.filter(clock=DueDate.Clock.REHANDLING_REPLY, round=a.round).first()
        text = _("%(u)s将重新办理。") % {"u": a.unit.name}
        return text + (_("答复期限为%(d)s。") % {"d": ledger.long_date(due.due_on)} if due else "")
    reply = Reply.objects.select_related("unit").get(pk=t.object_id)
    return _("%(u)s已答复（%(no)s）。") % {"u": reply.unit.organ_name, "no": reply.doc_number}


def message_for(notice: MemberNotice) -> Message:
    t = notice.transition
    proposal = Proposal.objects.select_related("merged_into").get(pk=t.proposal_id)
    event = notice.event
    url = ledger.site_url(f"/my/proposals/{proposal.pk}/")
    if event == MemberEvent.REPLIED:
        url = ledger.site_url(f"/my/replies/{t.object_id}/")
    label = MemberEvent(event).label
    step = _step_text(event, t, proposal)
    title = proposal.title
    short_title = title if len(title) <= SMS_TITLE else title[:SMS_TITLE] + "…"
    name = notice.proposer.name
    return Message(
        subject=_("【%(label)s】%(title)s") % {"label": label, "title": title},
        lines=[_("您提出的提案《%(t)s》%(s)s") % {"t": title, "s": step}],
        url=url,
        short=_("%(name)s：您的提案《%(t)s》%(label)s，详见 %(url)s")
        % {"name": name, "t": short_title, "label": label, "url": url},
        params={"name": name, "title": short_title, "event": str(label), "url": url},
    )


def plain_and_html(
    *, subject: str, text: str, html_template: str, context: dict, to: str
) -> EmailMultiAlternatives:
    """An e-mail whose text body is written here, in Python (no template to escape it), with
    the auto-escaped HTML template as its alternative."""
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(render_to_string(html_template, context), "text/html")
    return message


def build_email(notice: MemberNotice) -> EmailMultiAlternatives:
    m = message_for(notice)
    name = notice.proposer.name
    context = {"name": name, "lines": m.lines, "url": m.url, "subject": m.subject}
    text = "\n\n".join([f"{name}：", *m.lines, _("详见：%(url)s") % {"url": m.url}]) + "\n"
    return plain_and_html(
        subject=m.subject,
        text=text,
        html_template="emails/members/notice.html",
        context=context,
        to=notice.email,
    )


def build_opinion_mail(notice: EventNotice) -> EmailMultiAlternatives:
    """A 会办意见 delivered, to a clerk of the lead unit (``opinion_delivered``)."""
    opinion = CoOpinion.objects.select_related("proposal", "unit").get(
        pk=notice.transition.object_id
    )
    number = _number(opinion.proposal)
    user = notice.user
    name = (user.full_name or user.username) if user else ""
    doc = f"（{opinion.doc_number}）" if opinion.doc_number else ""
    url = ledger.admin_url(opinion)
    line = _(
        "%(unit)s对%(n)s提案《%(t)s》的会办意见%(doc)s已送达你单位，请在统一答复提案者时参考。"
    ) % {
        "unit": opinion.unit.name,
        "n": number,
        "t": opinion.proposal.title,
        "doc": doc,
    }
    context = {"name": name, "lines": [line], "url": url, "subject": ""}
    context["subject"] = _("会办意见已送达：%(n)s提案") % {"n": number}
    return plain_and_html(
        subject=context["subject"],
        text=f"{name}：\n\n{line}\n\n" + _("查看：%(url)s") % {"url": url} + "\n",
        html_template="emails/members/notice.html",
        context=context,
        to=notice.email,
    )


def _load(pk: int) -> MemberNotice:
    return MemberNotice.objects.select_related("transition", "proposer").get(pk=pk)


def deliver_sms(model, pk: int, build: Callable[[object], SmsMessage]) -> ledger.Outcome:
    """The ledger's path for a 短信: claim, build, send, mark sent — or retry, or fail."""
    row = ledger.claim(model, pk)
    if row is None:
        return ledger.Outcome("skipped")
    try:
        send_sms(build(row))
    except (SmsError, OSError) as exc:
        return ledger.record_failure(row, exc)
    except Exception as exc:
        ledger.record_failure(row, exc)
        raise
    ledger._finish(row, state=ledger.State.SENT, lease_until=None, sent_at=ledger._now())
    return ledger.Outcome("sent")


def deliver_member_notice(pk: int) -> ledger.Outcome:
    channel = MemberNotice.objects.filter(pk=pk).values_list("channel", flat=True).first()
    if channel == MemberChannel.SMS:

        def build(row) -> SmsMessage:
            notice = _load(row.pk)
            m = message_for(notice)
            return SmsMessage(to=notice.phone, text=m.short, kind=notice.event, params=m.params)

        return deliver_sms(MemberNotice, pk, build)
    return ledger.deliver(MemberNotice, pk, lambda row: build_email(_load(row.pk)))
