"""What a proposer reads on /my/. Reads only; every query starts from the visibility methods
``Proposal.objects.for_proposer`` and ``Reply.objects.for_proposer``.

The timeline is built from the audit rows (``Transition``), but it never prints their notes:
those carry internal remarks (review notes, return reasons, reassignment reasons). Each step's
text is written here from the verb and from fields that are meant for the proposer (a unit's
name, a 文号, a contact's date and method), and verbs that are the units' or the committee's
internal business (drafting, signing, reassignment, co-handling opinions) are left out.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals.models import (
    EDITABLE_PROPOSAL_STATES,
    Assignment,
    ContactRecord,
    CoProposer,
    DueDate,
    Proposal,
    ProposalStatus,
    Proposer,
    Transition,
)
from proposals.models import today as _today
from proposals.selectors import OVERDUE, RUNNING, due_standing
from replies.models import Feedback, Reply, ReplyState
from replies.workflow import feedback_speaker, proposal_number_text
from tracker.my.notices import attach_notices

#: The stages a proposal goes through, as the progress bar shows them.
STAGES: tuple[tuple[str, str], ...] = (
    ("submitted", gettext_lazy("提交")),
    ("filed", gettext_lazy("立案")),
    ("assigned", gettext_lazy("交办")),
    ("contact", gettext_lazy("沟通")),
    ("replied", gettext_lazy("答复")),
    ("feedback", gettext_lazy("反馈")),
    ("closed", gettext_lazy("办结")),
)
#: Statuses for which the progress bar means something.
_STAGED = {
    ProposalStatus.SUBMITTED,
    ProposalStatus.FILED,
    ProposalStatus.MERGED,
    ProposalStatus.ASSIGNED,
    ProposalStatus.REPLIED,
    ProposalStatus.CLOSED,
}
#: The clocks a proposer is told about (the others are the units' and the committee's).
PROPOSER_CLOCKS = (
    DueDate.Clock.FIRST_CONTACT,
    DueDate.Clock.REPLY,
    DueDate.Clock.REHANDLING_REPLY,
)
SENT_STATES = (ReplyState.SENT, ReplyState.PUBLISHED)


def proposer_of(user) -> Proposer | None:
    if not user.is_authenticated or not user.is_active:
        return None
    return Proposer.objects.filter(user=user).first()


def handling_proposal(proposal: Proposal) -> Proposal:
    """The proposal whose units handle this one: itself, or the one it was merged into."""
    return proposal.merged_into if proposal.merged_into_id else proposal


# --- 我的提案 ----------------------------------------------------------------------------------


@dataclass
class ProposalCard:
    proposal: Proposal
    relation: str  # 领衔 / 联名 / 召集
    units: list[Assignment]
    merged_number: str = ""


def my_proposals(proposer: Proposer) -> list[ProposalCard]:
    active = Assignment.objects.active().select_related("unit")
    proposals = (
        Proposal.objects.for_proposer(proposer)
        .select_related("session", "lead_proposer", "merged_into")
        .prefetch_related(
            "coproposer_links",
            Prefetch("assignments", queryset=active),
            Prefetch("merged_into__assignments", queryset=active),
        )
        .order_by("-session__year", "-session__term", "-session__meeting", "serial", "-id")
    )
    cards = []
    for p in proposals:
        if p.lead_proposer_id == proposer.pk:
            relation = _("领衔")
        elif any(link.proposer_id == proposer.pk for link in p.coproposer_links.all()):
            relation = _("联名")
        else:
            relation = _("召集")
        source = handling_proposal(p)
        cards.append(
            ProposalCard(
                proposal=p,
                relation=relation,
                units=_by_role(source.assignments.all()),
                merged_number=proposal_number_text(source) if source is not p else "",
            )
        )
    return cards


def pending_invitations(proposer: Proposer) -> list[CoProposer]:
    """Drafts (or returned proposals) that wait for this member's confirmation as co-proposer."""
    return list(
        CoProposer.objects.filter(
            proposer=proposer,
            confirmed_at__isnull=True,
            proposal__status__in=EDITABLE_PROPOSAL_STATES,
        )
        .select_related("proposal__lead_proposer", "proposal__session")
        .order_by("-proposal__updated_at")
    )


# --- A proposal's page ------------------------------------------------------------------------


@dataclass
class DueRow:
    unit: str
    label: str
    due_on: datetime.date
    completed_on: datetime.date | None
    explanation: str
    #: ``proposals.selectors.due_standing``: past due, ended unmet, running …
    standing: str = RUNNING

    @property
    def overdue(self) -> bool:
        return self.standing == OVERDUE


def due_dates(proposal: Proposal) -> list[DueRow]:
    """The current round's contact and reply deadlines of the lead and separate units."""
    source = handling_proposal(proposal)
    assignments = (
        source.assignments.active()
        .exclude(role=Assignment.Role.CO)
        .select_related("unit")
        .prefetch_related("due_dates")
    )
    rows = []
    today = _today()
    for a in assignments:
        for d in sorted(a.due_dates.all(), key=lambda d: d.due_on):
            if d.round == a.round and d.clock in PROPOSER_CLOCKS:
                rows.append(
                    DueRow(
                        unit=a.unit.name,
                        label=d.get_clock_display(),
                        due_on=d.due_on,
                        completed_on=d.completed_on,
                        explanation=d.explanation,
                        standing=due_standing(d, today),
                    )
                )
    return rows


#: Lead and separate units first, then the co-handling ones.
_ROLE_ORDER = {Assignment.Role.LEAD: 0, Assignment.Role.SEPARATE: 1, Assignment.Role.CO: 2}


def _by_role(assignments) -> list[Assignment]:
    return sorted(assignments, key=lambda a: (_ROLE_ORDER.get(a.role, 9), a.pk))


def handling_units(proposal: Proposal) -> list[Assignment]:
    source = handling_proposal(proposal)
    return _by_role(source.assignments.active().select_related("unit"))


@dataclass
class ReplyRow:
    reply: Reply
    superseded: bool
    my_feedback: Feedback | None
    can_give_feedback: bool
    #: Whom this member answers for: themselves, or a group they convene (召集人) whose
    #: proposal it is; None when they may not give feedback on this reply.
    on_behalf: Proposer | None = None

    @property
    def for_group(self) -> bool:
        return self.on_behalf is not None and self.on_behalf.kind != Proposer.Kind.MEMBER


def readable_replies(proposal: Proposal, proposer: Proposer) -> list[ReplyRow]:
    """The sent replies of a proposal (or of the one it was merged into) this proposer reads."""
    source = handling_proposal(proposal)
    replies = list(
        Reply.objects.for_proposer(proposer)
        .filter(proposal=source)
        .select_related("unit", "proposal")
        .order_by("sent_at", "id")
    )
    return [_reply_row(r, proposer) for r in replies]


def _superseded_ids(reply_ids: list[int]) -> set[int]:
    return set(
        Reply.objects.filter(supersedes_id__in=reply_ids, state__in=SENT_STATES).values_list(
            "supersedes_id", flat=True
        )
    )


def _reply_row(reply: Reply, proposer: Proposer) -> ReplyRow:
    superseded = reply.pk in _superseded_ids([reply.pk])
    speaker = feedback_speaker(reply, proposer)
    mine = (
        Feedback.objects.filter(reply=reply, proposer=speaker).first()
        if speaker is not None
        else None
    )
    return ReplyRow(
        reply=reply,
        superseded=superseded,
        my_feedback=mine,
        can_give_feedback=mine is None and not superseded and speaker is not None,
        on_behalf=speaker,
    )


def reply_row(reply: Reply, proposer: Proposer) -> ReplyRow:
    return _reply_row(reply, proposer)


def back_proposal(reply: Reply, proposer: Proposer) -> Proposal | None:
    """The proposal of this member's that a reply answers (theirs, or one merged into it)."""
    mine = Proposal.objects.for_proposer(proposer)
    direct = mine.filter(pk=reply.proposal_id).first()
    return direct or mine.filter(merged_into_id=reply.proposal_id).first()


# --- The timeline -----------------------------------------------------------------------------


@dataclass
class Step:
    at: datetime.datetime
    label: str
    detail: str = ""
    stage: str = ""
    kind: str = ""  # "round" starts a re-handling round; "attention" asks the proposer to act
    url: str = ""
    on: datetime.date | None = None  # the day it happened, when that is not ``at``
    parts: list[str] = field(default_factory=list)
    transition_id: int | None = None
    notices: list = field(default_factory=list)  # what the member was sent (tracker.my.notices)

    @property
    def day(self) -> datetime.date:
        return self.on or timezone.localtime(self.at).date()


@dataclass
class Timeline:
    steps: list[Step]
    stages: list[dict]
    round: int


def timeline(proposal: Proposal, proposer: Proposer) -> Timeline:
    source = handling_proposal(proposal)
    ids = {proposal.pk, source.pk}
    ct = ContentType.objects.get_for_models(Proposal, Assignment, Reply, Feedback)
    kinds = {c.pk: model for model, c in ct.items()}
    rows = list(
        Transition.objects.filter(proposal_id__in=ids, content_type__in=list(ct.values()))
        .select_related("actor__proposer")
        .order_by("at", "id")
    )
    assignments = {
        a.pk: a for a in Assignment.objects.filter(proposal_id__in=ids).select_related("unit")
    }
    contacts: dict[int, list[ContactRecord]] = {}
    for c in ContactRecord.objects.filter(assignment_id__in=assignments).order_by(
        "created_at", "id"
    ):
        contacts.setdefault(c.assignment_id, []).append(c)
    visible_replies = {
        r.pk: r
        for r in Reply.objects.for_proposer(proposer)
        .filter(proposal_id__in=ids)
        .select_related("unit")
    }
    own_proposers = {p.pk for p in proposal.proposers()}
    feedback = {
        fb.pk: fb
        for fb in Feedback.objects.filter(
            proposal_id__in=ids, proposer_id__in=own_proposers
        ).select_related("proposer")
    }
    rehandling_due = {
        (d.assignment_id, d.round): d.due_on
        for d in DueDate.objects.filter(
            assignment_id__in=assignments, clock=DueDate.Clock.REHANDLING_REPLY
        )
    }
    rounds: dict[int, int] = {}

    steps: list[Step] = []
    for t in rows:
        model = kinds[t.content_type_id]
        step = None
        if model is Proposal:
            step = _proposal_step(t, proposal, source)
        elif model is Assignment and t.object_id in assignments:
            a = assignments[t.object_id]
            step = _assignment_step(t, a, contacts, rounds, rehandling_due)
        elif model is Reply and t.object_id in visible_replies:
            step = _reply_step(t, visible_replies[t.object_id])
        elif model is Feedback and t.object_id in feedback:
            fb = feedback[t.object_id]
            if fb.proposer_id == proposer.pk:
                step = Step(t.at, _("您的反馈"), fb.get_rating_display(), stage="feedback")
            else:
                step = Step(t.at, _("反馈"), _("%(name)s 已反馈") % {"name": fb.proposer.name})
                step.stage = "feedback"
        if step is None:
            continue
        step.transition_id = t.pk
        previous = steps[-1] if steps else None
        if (
            previous is not None
            and previous.label == step.label
            and previous.parts
            and step.parts
            and previous.day == step.day
        ):
            previous.parts.extend(step.parts)
            previous.detail = "、".join(previous.parts)
            continue
        steps.append(step)

    # In the order things happened: by the day they happened on (a contact is logged after
    # the meeting, an assignment may be entered after its date), then as recorded.
    steps = [s for _i, s in sorted(enumerate(steps), key=lambda pair: (pair[1].day, pair[0]))]
    reached = {s.stage for s in steps if s.stage}
    last = max((i for i, (key, _label) in enumerate(STAGES) if key in reached), default=-1)
    stages = [
        {"key": key, "label": label, "done": i <= last, "current": i == last}
        for i, (key, label) in enumerate(STAGES)
    ]
    attach_notices(steps, proposer)
    current_round = max((a.round for a in assignments.values()), default=1)
    if proposal.status not in _STAGED:
        stages = []
    return Timeline(steps=steps, stages=stages, round=current_round)


#: Steps of a proposal's own life that read the same for every proposal:
#: verb -> (label, detail, stage, kind).
_FIXED_STEPS = {
    "draft": (gettext_lazy("起草提案"), "", "", ""),
    "submit": (gettext_lazy("提交"), gettext_lazy("提交提案委员会审查"), "submitted", ""),
    "resubmit": (gettext_lazy("重新提交"), gettext_lazy("修改后重新提交"), "submitted", ""),
    "return": (gettext_lazy("退回修改"), gettext_lazy("请修改后重新提交"), "", "attention"),
    "mark_replied": (gettext_lazy("已答复"), gettext_lazy("承办单位均已答复"), "replied", ""),
    "close": (gettext_lazy("办结"), "", "closed", ""),
}
#: Of the proposal this one was merged into, only how its handling ends concerns its proposers.
_MERGED_INTO_VERBS = frozenset({"mark_replied", "close"})
#: A co-proposer's answer, with the co-proposer's name as its detail.
_COPROPOSER_STEPS = {
    "confirm_coproposal": gettext_lazy("确认联名"),
    "decline_coproposal": gettext_lazy("不参加联名"),
}


def _fixed_step(t: Transition) -> Step:
    label, detail, stage, kind = _FIXED_STEPS[t.verb]
    return Step(t.at, str(label), str(detail), stage=stage, kind=kind)


def _proposal_step(t: Transition, proposal: Proposal, source: Proposal) -> Step | None:
    if t.proposal_id != proposal.pk:
        return _fixed_step(t) if t.verb in _MERGED_INTO_VERBS else None
    if t.verb in _FIXED_STEPS:
        return _fixed_step(t)
    if t.verb == "file":
        number = _("提案号 %(number)s") % {"number": proposal.number} if proposal.number else ""
        return Step(t.at, _("立案"), number, stage="filed")
    if t.verb == "not_file":
        return Step(t.at, _("不予立案"), proposal.get_disposition_display())
    if t.verb == "merge":
        into = _("并入%(number)s提案办理") % {"number": proposal_number_text(source)}
        return Step(t.at, _("并案"), into, stage="filed")
    name = t.actor.proposer.name if t.actor and hasattr(t.actor, "proposer") else ""
    if t.verb in _COPROPOSER_STEPS and name:
        return Step(t.at, str(_COPROPOSER_STEPS[t.verb]), name)
    return None


def _assignment_step(
    t: Transition,
    a: Assignment,
    contacts: dict[int, list[ContactRecord]],
    rounds: dict[int, int],
    rehandling_due: dict[tuple[int, int], datetime.date],
) -> Step | None:
    unit = a.unit.name
    match t.verb:
        case "assign":
            part = f"{unit}（{a.get_role_display()}）"
            return Step(t.at, _("交办"), part, stage="assigned", parts=[part], on=a.assigned_on)
        case "accept":
            return Step(t.at, _("签收"), unit, stage="assigned", parts=[unit])
        case "extend" if a.role != Assignment.Role.CO:
            return Step(t.at, _("延期"), _("%(unit)s 答复期限经批准延期") % {"unit": unit})
        case "log_contact":
            queue = contacts.get(a.pk) or []
            if not queue:
                return None
            record = queue.pop(0)
            return Step(
                t.at,
                _("沟通"),
                f"{unit}（{record.get_method_display()}）",
                stage="contact",
                on=record.contacted_on,
            )
        case "reopen":
            rounds[a.pk] = rounds.get(a.pk, 1) + 1
            n = rounds[a.pk]
            due = rehandling_due.get((a.pk, n))
            detail = _("%(unit)s 重新办理") % {"unit": unit}
            if due:
                detail += _("，答复期限 %(date)s") % {"date": f"{due:%Y-%m-%d}"}
            return Step(t.at, _("第%(n)s轮办理") % {"n": n}, detail, stage="assigned", kind="round")
    return None


def _reply_step(t: Transition, reply: Reply) -> Step | None:
    url = reverse("my:reply", args=[reply.pk])
    who = f"{reply.unit.name} {reply.doc_number}".strip()
    if t.verb in {"send", "import"}:
        if reply.supersedes_id:
            label = _("更正答复送达")
        elif reply.kind == Reply.Kind.FOLLOW_UP:
            label = _("再次答复送达")
        elif reply.kind == Reply.Kind.REHANDLING:
            label = _("重新办理答复送达")
        else:
            label = _("答复送达")
        sent_on = timezone.localtime(reply.sent_at).date() if reply.sent_at else None
        return Step(t.at, label, who, stage="replied", url=url, on=sent_on)
    if t.verb == "publish":
        return Step(t.at, _("答复公开"), who, url=url)
    return None
