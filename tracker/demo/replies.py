"""The replies of the demo: the four seed letters as real signed, sent, published replies, and
synthetic replies and co-handling opinions in every state.

Called by ``tracker.demo`` after the proposals are loaded; idempotent like it (an assignment
that already has a reply or opinion is left alone). Every state is reached through the
workflow; the seed letters come in through ``import_published_reply``, the committee's import
of letters signed before the system existed, which keeps their printed 文号 and dates.

Every step runs under ``story_clock``, at its day in the story: a letter is begun after its
unit accepted the proposal and met its proposers, and the last step of the synthetic ones
falls on the demo's "today" at the latest.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db.models import Max
from django.utils import timezone

from proposals import workflow as pwf
from proposals.models import (
    Assignment,
    AssignmentState,
    DueDate,
    Membership,
    Proposal,
    Session,
    User,
)
from proposals.workdays import WorkCalendar
from replies import workflow as rwf
from replies.legacy import read_published
from replies.models import CoOpinion, Disclosure, Feedback, Reply
from replies.seeds import SEEDS_DIR

# --- The story's clock ----------------------------------------------------------------------


def at(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    """``hour:minute`` of ``day`` in the project's time zone (Asia/Shanghai)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@contextlib.contextmanager
def story_clock(moment: datetime.datetime) -> Iterator[None]:
    """Run the block as if it were ``moment``: what the workflow stamps "now" is the story's.

    The workflow modules and the models take the time from ``django.utils.timezone.now``:
    called directly, through ``localdate()`` (``proposals.models.today``), by ``auto_now``
    fields, and as the ``default`` of ``Transition.at`` — which holds the function itself, so
    rebinding the name would not reach it. All of these end in that module's
    ``datetime.now()``, so the block swaps that one name for a ``datetime`` whose ``now()`` is
    ``moment``, and puts it back on the way out. Nothing else in ``django.utils.timezone`` uses
    the name but ``template_localtime``'s isinstance check, which loading never reaches. The
    workflow's behaviour is unchanged: it simply runs on the story's day.
    """
    if timezone.is_naive(moment):
        raise ValueError("story_clock needs an aware datetime")

    class StoryDateTime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            if tz is None:
                return timezone.make_naive(moment)
            return moment.astimezone(tz)

    saved = timezone.datetime
    timezone.datetime = StoryDateTime
    try:
        yield
    finally:
        timezone.datetime = saved


_CALENDAR = WorkCalendar()


def schedule(
    earliest: datetime.date, latest: datetime.date, offsets: Sequence[int]
) -> list[datetime.datetime]:
    """When to take consecutive steps ideally ``offsets`` days after the first: the last on
    ``latest``, unless that puts the first before ``earliest`` (then the steps close up).

    A step on a day off moves back to a working day when that keeps the order. The ``k``-th
    step is at ``9 + k`` o'clock, so that steps that share a day keep their order too.
    """
    if latest < earliest:
        raise ValueError(f"no room in the story between {earliest} and {latest}")
    span = offsets[-1]
    first = max(earliest, latest - datetime.timedelta(days=span))
    room = (latest - first).days
    moments = []
    previous = earliest
    for k, offset in enumerate(offsets):
        day = first + datetime.timedelta(days=offset * room // span if span else 0)
        while not _CALENDAR.is_workday(day) and day > previous:
            day -= datetime.timedelta(days=1)
        previous = day
        moments.append(at(day, 9 + k))
    return moments


def _last_step_on(proposal_id: int) -> datetime.date:
    """The day of the proposal's latest recorded step (its own or its letters')."""
    last = Proposal.objects.get(pk=proposal_id).transitions.aggregate(Max("at"))["at__max"]
    return timezone.localdate(last)


def _accepted_on(assignment: Assignment) -> datetime.date:
    return timezone.localdate(assignment.accepted_at)


def _due_on(assignment: Assignment, clock: str) -> datetime.date:
    return assignment.due_dates.get(clock=clock, round=assignment.round).due_on


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
        result = read_published((SEEDS_DIR / spec.source).read_text(encoding="utf-8"))
        signed_on = spec.signed_on or result.letter.date
        if spec.source.startswith("000"):
            # The co-handling units' opinions reach the investment office by their due date.
            for co in proposal.assignments.active().filter(role=Assignment.Role.CO):
                latest = signed_on - datetime.timedelta(days=1)
                _deliver_opinion(co, body=CO_OPINION_BODY, latest=latest)
        # The letter was signed and sent the same morning (the import stamps both 09:00).
        with story_clock(at(signed_on, 9)):
            rwf.import_published_reply(
                lead,
                actor=committee,
                letter=result.letter,
                signed_on=signed_on,
                # All four are public documents (replies/seeds/README.md), 000 included though it
                # prints no 公开属性 line.
                disclosure=Disclosure.PUBLIC,
                published_on=signed_on + datetime.timedelta(days=spec.published_after_days),
            )
        count("reply", True)


#: Days after its first step of each step of a co-handling opinion, and of a reply.
OPINION_STEPS = {"start": 0, "edit": 0, "submit": 2, "sign": 4, "deliver": 5}
REPLY_STEPS = {"start": 0, "edit": 0, "submit": 2, "sign": 4, "send": 5}
AFTER_SENDING = {"publish": 9, "feedback": 12, "close": 13}


def _deliver_opinion(
    assignment: Assignment, *, body: str, latest: datetime.date, stop_at: str = "delivered"
) -> None:
    """The co-handling unit's opinion, between the day after it accepted and ``latest``, and
    by its due date when there is room for it."""
    if _has_letters(assignment):
        return
    clerk, signer = _clerk(assignment.unit_id), _signer(assignment.unit_id)
    if clerk is None or signer is None:
        raise RuntimeError(f"{assignment.unit} needs a demo clerk and signer")
    if assignment.state == AssignmentState.PENDING:
        accept_on = _CALENDAR.next_workday(assignment.assigned_on + datetime.timedelta(days=1))
        with story_clock(at(accept_on)):
            assignment = pwf.accept_assignment(assignment, actor=clerk)
    steps = list(OPINION_STEPS.values())[: 2 if stop_at == "draft" else None]
    earliest = _accepted_on(assignment) + datetime.timedelta(days=1)
    due = _due_on(assignment, DueDate.Clock.CO_OPINION)
    if earliest <= due < latest:
        latest = due
    when = iter(schedule(earliest, latest, steps))
    with story_clock(next(when)):
        op = rwf.start_opinion(assignment, actor=clerk)
    with story_clock(next(when)):
        op = rwf.edit_opinion(op, actor=clerk, version=op.version, body=op.body + body)
    if stop_at == "draft":
        return
    with story_clock(next(when)):
        rwf.submit_opinion(op, actor=clerk)
    with story_clock(next(when)):
        rwf.sign_opinion(op, actor=signer)
    with story_clock(next(when)):
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


def load_synthetic_replies(
    *, session: Session, committee: User, count, today: datetime.date
) -> None:
    """Replies in every state on the current session's accepted lead/separate assignments
    of units that have a signer, each finished by ``today``; before them, co-handling
    opinions."""
    signer_units = set(
        Membership.objects.filter(role=Membership.Role.SIGNER).values_list("unit_id", flat=True)
    )
    # Co-handling opinions on the session: one delivered, one still a draft. They come first:
    # the lead unit writes its reply once the opinions are in (or overdue).
    cos = list(
        Assignment.objects.filter(
            proposal__session=session, role=Assignment.Role.CO, unit_id__in=signer_units
        )
        .exclude(state=AssignmentState.WITHDRAWN)
        .order_by("pk")
    )
    for assignment, stop_at in zip(cos, ("delivered", "draft"), strict=False):
        if not _has_letters(assignment):
            _deliver_opinion(assignment, body=CO_OPINION_BODY, latest=today, stop_at=stop_at)
            count("opinion", True)
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
        _reply_until(assignment, target, committee=committee, today=today)
        count("reply", True)


def _reply_steps(target: str) -> list[int]:
    """The day offsets of the steps that take a reply to ``target``."""
    steps = list(REPLY_STEPS.values())
    if target == Reply.State.DRAFT:
        return steps[:2]
    if target == Reply.State.PENDING_SIGNATURE:
        return steps[:3]
    if target == Reply.State.SIGNED:
        return steps[:4]
    if target == Reply.State.SENT:
        return steps
    if target == Reply.State.PUBLISHED:
        return [*steps, AFTER_SENDING["publish"]]
    if target == "satisfied":
        return [*steps, AFTER_SENDING["feedback"], AFTER_SENDING["close"]]
    return [*steps, AFTER_SENDING["feedback"]]


def _reply_until(
    assignment: Assignment, target: str, *, committee: User, today: datetime.date
) -> None:
    """Take a reply to ``target``: begun after the last step of the proposal so far (the
    unit's contacts, an extension, the co-handling opinions), its last step by ``today``."""
    clerk, signer = _clerk(assignment.unit_id), _signer(assignment.unit_id)
    earliest = _last_step_on(assignment.proposal_id) + datetime.timedelta(days=1)
    when = iter(schedule(earliest, today, _reply_steps(target)))
    with story_clock(next(when)):
        reply = rwf.start_reply(assignment, actor=clerk)
    labels = {"satisfied": "解决采纳", "not_satisfied": "列入计划拟解决"}
    with story_clock(next(when)):
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
    with story_clock(next(when)):
        rwf.submit_reply(
            reply, actor=clerk, override_reason="会办意见已电话沟通" if missing else ""
        )
    if target == Reply.State.PENDING_SIGNATURE:
        return
    with story_clock(next(when)):
        rwf.sign_reply(reply, actor=signer)
    if target == Reply.State.SIGNED:
        return
    with story_clock(next(when)):
        rwf.send_reply(reply, actor=clerk)
    if target == Reply.State.SENT:
        return
    if target == Reply.State.PUBLISHED:
        with story_clock(next(when)):
            rwf.publish_reply(reply, actor=clerk)
        return
    rating = Feedback.Rating.SATISFIED if target == "satisfied" else Feedback.Rating.NOT_SATISFIED
    proposer = reply.proposal.lead_proposer
    with story_clock(next(when)):
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
        with story_clock(next(when)):
            pwf.close_proposal(proposal, actor=committee, note="提案者满意")


__all__ = [
    "CoOpinion",
    "at",
    "load_seed_replies",
    "load_synthetic_replies",
    "schedule",
    "story_clock",
]
