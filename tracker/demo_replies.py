"""The replies of the demo: the four seed letters as real signed, sent, published replies, and
synthetic replies and co-handling opinions in every state.

Called by ``tracker.demo`` after the proposals are loaded; idempotent like it (an assignment
that already has a reply or opinion is left alone). Every state is reached through the
workflow; the seed letters come in through ``import_published_reply``, the committee's import
of letters signed before the system existed, which keeps their printed 文号 and dates.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from proposals import workflow as pwf
from proposals.models import Assignment, AssignmentState, Membership, Proposal, Session, User
from replies import workflow as rwf
from replies.legacy import read_published
from replies.models import CoOpinion, Disclosure, Feedback, Reply
from replies.seeds import SEEDS_DIR


@dataclass(frozen=True)
class SeedReply:
    source: str
    district: str
    term: int
    meeting: int
    number: str
    #: Seed 000 is undated; its date is the demo's choice, within the three months.
    signed_on: datetime.date | None = None
    published_after_days: int = 7


SEED_REPLIES: tuple[SeedReply, ...] = (
    SeedReply("000_0c70261e90fe6926.txt", "长宁", 15, 2, "第061号", datetime.date(2023, 6, 9)),
    SeedReply("001_9332f8a4cbbb0d88.txt", "普陀", 15, 2, "第152045号"),
    SeedReply("002_1374ff59fa2fbedd.txt", "长宁", 15, 3, "第050号"),
    SeedReply("003_9524cd4df80fb0e1.txt", "普陀", 14, 5, "第145054号"),
)

#: Opinions of the four co-handling units of seed 000 (synthetic text: the letter only says
#: that the investment office met them).
CO_OPINION_BODY = (
    "一、关于招商工作机制\n"
    "我单位将加强与区投促办的协同，按照职责分工做好相关工作。\n"
    "二、关于政策支持\n"
    "我单位将结合职能，研究完善配套支持措施。"
)

SYNTHETIC_BODY = (
    "一、基本情况\n"
    "接到提案后，我单位高度重视，专题研究，并与提案者进行了沟通。\n"
    "二、下一步工作\n"
    "（一）完善工作机制\n"
    "1.加强统筹协调，明确责任分工。\n"
    "2.建立定期会商制度，及时研究解决推进中的问题。\n"
    "（二）加大推进力度\n"
    "结合年度工作计划，将提案建议纳入重点工作予以推进。"
)


def _signer(unit_id: int) -> User | None:
    m = (
        Membership.objects.filter(unit_id=unit_id, role=Membership.Role.SIGNER)
        .select_related("user")
        .first()
    )
    return m.user if m else None


def _clerk(unit_id: int) -> User | None:
    m = (
        Membership.objects.filter(unit_id=unit_id, role=Membership.Role.CLERK)
        .select_related("user")
        .first()
    )
    return m.user if m else None


def _has_letters(assignment: Assignment) -> bool:
    return assignment.replies.exists() or assignment.opinions.exists()


def load_seed_replies(*, committee: User, count) -> None:
    for spec in SEED_REPLIES:
        session = Session.objects.get(district=spec.district, term=spec.term, meeting=spec.meeting)
        proposal = Proposal.objects.get(session=session, number=spec.number)
        lead = proposal.assignments.active().get(role=Assignment.Role.LEAD)
        if lead.replies.exists():
            count("reply", False)
            continue
        if spec.source.startswith("000"):
            for co in proposal.assignments.active().filter(role=Assignment.Role.CO):
                _deliver_opinion(co, body=CO_OPINION_BODY)
        result = read_published((SEEDS_DIR / spec.source).read_text(encoding="utf-8"))
        signed_on = spec.signed_on or result.letter.date
        rwf.import_published_reply(
            lead,
            actor=committee,
            letter=result.letter,
            signed_on=signed_on,
            # All four are public documents (replies/seeds/README.md), 000 included though it prints
            # no 公开属性 line.
            disclosure=Disclosure.PUBLIC,
            published_on=signed_on + datetime.timedelta(days=spec.published_after_days),
        )
        count("reply", True)


def _deliver_opinion(assignment: Assignment, *, body: str, stop_at: str = "delivered") -> None:
    if _has_letters(assignment):
        return
    clerk, signer = _clerk(assignment.unit_id), _signer(assignment.unit_id)
    if clerk is None or signer is None:
        raise RuntimeError(f"{assignment.unit} needs a demo clerk and signer")
    if assignment.state == AssignmentState.PENDING:
        pwf.accept_assignment(assignment, actor=clerk)
    op = rwf.start_opinion(assignment, actor=clerk)
    op = rwf.edit_opinion(op, actor=clerk, version=op.version, body=op.body + body)
    if stop_at == "draft":
        return
    rwf.submit_opinion(op, actor=clerk)
    rwf.sign_opinion(op, actor=signer)
    rwf.deliver_opinion(op, actor=clerk)


#: The states the synthetic replies are left in, one reply each.
SYNTHETIC_STATES = (
    Reply.State.DRAFT,
    Reply.State.PENDING_SIGNATURE,
    Reply.State.SIGNED,
    Reply.State.SENT,
    Reply.State.PUBLISHED,
    "satisfied",
    "not_satisfied",
)


def load_synthetic_replies(*, session: Session, committee: User, count) -> None:
    """Replies in every state on the current session's accepted lead/separate assignments
    of units that have a signer."""
    signer_units = set(
        Membership.objects.filter(role=Membership.Role.SIGNER).values_list("unit_id", flat=True)
    )
    candidates = [
        a
        for a in Assignment.objects.filter(
            proposal__session=session,
            role__in=[Assignment.Role.LEAD, Assignment.Role.SEPARATE],
            state__in=[AssignmentState.ACCEPTED, AssignmentState.REPLIED],
            unit_id__in=signer_units,
        )
        .select_related("unit")
        .order_by("pk")
    ]
    done = sum(1 for a in candidates if a.replies.exists())
    fresh = [a for a in candidates if not a.replies.exists() and a.state == "accepted"]
    for target, assignment in zip(SYNTHETIC_STATES[done:], fresh, strict=False):
        _reply_until(assignment, target, committee=committee)
        count("reply", True)
    # Co-handling opinions on the session: one delivered, one still a draft.
    cos = list(
        Assignment.objects.filter(
            proposal__session=session, role=Assignment.Role.CO, unit_id__in=signer_units
        )
        .exclude(state=AssignmentState.WITHDRAWN)
        .order_by("pk")
    )
    for assignment, stop_at in zip(cos, ("delivered", "draft"), strict=False):
        if not _has_letters(assignment):
            _deliver_opinion(assignment, body=CO_OPINION_BODY, stop_at=stop_at)
            count("opinion", True)


def _reply_until(assignment: Assignment, target: str, *, committee: User) -> None:
    clerk, signer = _clerk(assignment.unit_id), _signer(assignment.unit_id)
    reply = rwf.start_reply(assignment, actor=clerk)
    labels = {"satisfied": "解决采纳", "not_satisfied": "列入计划拟解决"}
    reply = rwf.edit_reply(
        reply,
        actor=clerk,
        version=reply.version,
        body=reply.body + SYNTHETIC_BODY,
        result_label=labels.get(target, "采纳"),
        cc="区政协提案委员会、区政府督查室",
    )
    if target == Reply.State.DRAFT:
        return
    missing = rwf.missing_opinions(reply)
    rwf.submit_reply(reply, actor=clerk, override_reason="会办意见已电话沟通" if missing else "")
    if target == Reply.State.PENDING_SIGNATURE:
        return
    rwf.sign_reply(reply, actor=signer)
    if target == Reply.State.SIGNED:
        return
    rwf.send_reply(reply, actor=clerk)
    if target == Reply.State.SENT:
        return
    if target == Reply.State.PUBLISHED:
        rwf.publish_reply(reply, actor=clerk)
        return
    rating = Feedback.Rating.SATISFIED if target == "satisfied" else Feedback.Rating.NOT_SATISFIED
    proposer = reply.proposal.lead_proposer
    rwf.record_feedback(
        reply,
        actor=clerk,
        proposer=proposer,
        rating=rating,
        on_work=rating,
        on_result=rating,
        comment="" if target == "satisfied" else "希望加快推进，明确时间表。",
        channel=Feedback.Channel.PAPER,
    )
    proposal = Proposal.objects.get(pk=reply.proposal_id)
    if target == "satisfied" and proposal.status == Proposal.Status.REPLIED:
        pwf.close_proposal(proposal, actor=committee, note="提案者满意")


__all__ = ["CoOpinion", "load_seed_replies", "load_synthetic_replies"]
