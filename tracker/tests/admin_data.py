"""Builders of the admin, dashboard and statistics tests: rows in a given state.

A letter the workflow can reach from the assignment as given (a draft or one awaiting
signature, on an accepted assignment) is made by ``replies.tests.factories``, through the
workflow. The rest are snapshots written directly, on purpose: these tests set an assignment's
state, due dates and completion by hand (``assign``) and then add letters and feedback dated
in the past, rows the workflow would reach only by moving the assignment itself (送达 marks it
replied, 不满意 reopens it into a second round, 签发 takes a 文号 from a counter some tests
fill by hand) — which would change the very figures the statistics and dashboards are tested on.
"""

from __future__ import annotations

import datetime
import itertools
from types import SimpleNamespace

from django.utils import timezone

from proposals.models import (
    Assignment,
    ContactRecord,
    DueDate,
    Membership,
    Proposal,
    Proposer,
)
from proposals.tests import factories as f
from replies.models import CoOpinion, Feedback, Reply, ResultClass, result_class_for
from replies.tests.factories import CoOpinionFactory, ReplyFactory

_serials = itertools.count(1)


def staffed_unit(name: str, short: str, prefix: str) -> SimpleNamespace:
    """A unit with one clerk and one signer."""
    unit = f.UnitFactory(name=name, short_name=short, docno_prefix=prefix)
    clerk = f.UserFactory(username=f"{prefix}_clerk", full_name=f"{short}联络员")
    signer = f.UserFactory(username=f"{prefix}_signer", full_name=f"{short}签发人")
    f.MembershipFactory(user=clerk, unit=unit, role=Membership.Role.CLERK)
    f.MembershipFactory(user=signer, unit=unit, role=Membership.Role.SIGNER)
    return SimpleNamespace(unit=unit, clerk=clerk, signer=signer, staff=[clerk, signer])


def filed_proposal(
    session,
    *,
    status: str = Proposal.Status.ASSIGNED,
    category: str = Proposal.Category.ECONOMY,
    filed_on: datetime.date | None = datetime.date(2024, 2, 20),
    lead: Proposer | None = None,
    title: str = "",
) -> Proposal:
    serial = session.last_serial + 1
    session.last_serial = serial
    session.save(update_fields=["last_serial"])
    filed_at = (
        timezone.make_aware(datetime.datetime.combine(filed_on, datetime.time(10)))
        if filed_on
        else None
    )
    kwargs = {"lead_proposer": lead} if lead else {}
    return f.ProposalFactory(
        session=session,
        status=status,
        serial=serial,
        number=session.format_number(serial),
        filed_at=filed_at,
        category=category,
        **({"title": title} if title else {}),
        **kwargs,
    )


def assign(
    proposal: Proposal,
    unit,
    *,
    role: str = Assignment.Role.LEAD,
    state: str = Assignment.State.ACCEPTED,
    assigned_on: datetime.date = datetime.date(2024, 3, 1),
    due_on: datetime.date = datetime.date(2024, 6, 3),
    done_on: datetime.date | None = None,
    round: int = 1,
) -> Assignment:
    a = f.AssignmentFactory(
        proposal=proposal, unit=unit, role=role, state=state, assigned_on=assigned_on, round=round
    )
    clock = DueDate.Clock.CO_OPINION if role == Assignment.Role.CO else DueDate.Clock.REPLY
    f.DueDateFactory(
        assignment=a,
        clock=clock,
        round=1,
        start_on=assigned_on,
        due_on=due_on,
        completed_on=done_on,
        explanation=f"交办 {assigned_on} + 3个月 = {due_on}",
    )
    return a


def contact(assignment: Assignment, method: str, on: datetime.date) -> ContactRecord:
    return ContactRecord.objects.create(assignment=assignment, contacted_on=on, method=method)


def _letter_fields(assignment: Assignment, title: str) -> dict:
    return {
        "assignment": assignment,
        "proposal": assignment.proposal,
        "unit": assignment.unit,
        "title": title or f"对第{assignment.proposal.number}提案的答复",
        "salutation": "张文浩委员：",
        "body": "您提出的提案收悉，现答复如下：\n一、基本情况\n已经办理。",
        "contact_person": "联系人",
        "contact_phone": "12345678",
    }


_docnos = itertools.count(1)

#: Letter states the factories reach from an accepted assignment, and the trait for each.
_STAGES = {Reply.State.DRAFT: "draft", Reply.State.PENDING_SIGNATURE: "pending"}


def _through_workflow(assignment: Assignment, state: str, *, co: bool) -> bool:
    """Whether the workflow can make this letter from the assignment as it stands."""
    return (
        state in _STAGES
        and assignment.state == Assignment.State.ACCEPTED
        and (assignment.role == Assignment.Role.CO) == co
    )


def reply(
    assignment: Assignment,
    *,
    state: str = Reply.State.DRAFT,
    result: str = "",
    sent_on: datetime.date | None = None,
    kind: str = Reply.Kind.REPLY,
    title: str = "",
) -> Reply:
    if _through_workflow(assignment, state, co=False) and kind != Reply.Kind.FOLLOW_UP:
        fields = {"title": title} if title else {}
        if result or state == Reply.State.DRAFT:
            fields["result_label"] = result  # awaiting signature, a result is required
        return ReplyFactory(assignment=assignment, stage=_STAGES[state], kind=kind, **fields)
    signed = state in (Reply.State.SIGNED, Reply.State.SENT, Reply.State.PUBLISHED)
    sent = state in (Reply.State.SENT, Reply.State.PUBLISHED)
    on = sent_on or datetime.date(2024, 5, 20)
    extra: dict = {}
    if signed:
        extra.update(
            docno_prefix=assignment.unit.docno_prefix,
            docno_year=on.year,
            docno_number=next(_docnos),
            signed_on=on,
            signed_at=timezone.make_aware(datetime.datetime.combine(on, datetime.time(9))),
        )
    if sent:
        extra["sent_at"] = timezone.make_aware(datetime.datetime.combine(on, datetime.time(15)))
    if state == Reply.State.PUBLISHED:
        extra["published_on"] = on
    return Reply.objects.create(
        **_letter_fields(assignment, title),
        state=state,
        kind=kind,
        round=assignment.round,
        result_label=result,
        result_class=result_class_for(result) if result else "",
        **extra,
    )


def opinion(assignment: Assignment, *, state: str = CoOpinion.State.DRAFT) -> CoOpinion:
    if _through_workflow(assignment, state, co=True):
        return CoOpinionFactory(assignment=assignment, stage=_STAGES[state])
    extra: dict = {}
    if state == CoOpinion.State.DELIVERED:
        extra["delivered_at"] = timezone.now()
    return CoOpinion.objects.create(
        **_letter_fields(assignment, f"关于对第{assignment.proposal.number}提案的会办意见"),
        state=state,
        **extra,
    )


def feedback(
    reply_obj: Reply, proposer: Proposer, rating: str, on: datetime.date = datetime.date(2024, 6, 1)
) -> Feedback:
    return Feedback.objects.create(
        reply=reply_obj,
        proposal=reply_obj.proposal,
        proposer=proposer,
        rating=rating,
        received_at=timezone.make_aware(datetime.datetime.combine(on, datetime.time(11))),
    )


RESULT_A, RESULT_B, RESULT_C = "采纳", "列入计划拟解决", "因条件限制暂不能解决"
assert result_class_for(RESULT_A) == ResultClass.A
