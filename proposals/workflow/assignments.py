"""交办 and the assignment verbs: accept, reassignment, contacts, and the verbs the reply
workflow calls (replied, opinion sent, reopened for another round)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals import deadlines, districts, events
from proposals.models import (
    ASSIGNMENT_TRANSITIONS,
    OPEN_ASSIGNMENT_STATES,
    PROPOSAL_TRANSITIONS,
    Assignment,
    AssignmentState,
    ContactRecord,
    DueDate,
    Proposal,
    ProposalStatus,
    Proposer,
    Unit,
    User,
)
from proposals.models import today as _today
from proposals.workdays import WorkCalendar
from proposals.workflow.errors import InvalidInput, WrongState
from proposals.workflow.guards import (
    _lock_assignment,
    _lock_proposal,
    _move_assignment,
    _move_proposal,
    check_state,
    record_transition,
    require_committee,
    require_unit_member,
    required_text,
)


@dataclass(frozen=True)
class UnitRole:
    unit: Unit | int
    role: str

    @property
    def unit_id(self) -> int:
        return self.unit.pk if isinstance(self.unit, Unit) else self.unit


def _clocks_for(role: str) -> list[str]:
    """A co-handling unit owes its opinion; meeting the proposers (沟通见面) and the reply are
    the lead's and the separate units' duties (docs/domain.md, Deadlines)."""
    if role == Assignment.Role.CO:
        return [DueDate.Clock.REASSIGNMENT, DueDate.Clock.CO_OPINION]
    return [DueDate.Clock.REASSIGNMENT, DueDate.Clock.FIRST_CONTACT, DueDate.Clock.REPLY]


def _rule_for(clock: str, proposal: Proposal) -> tuple[int, str]:
    """The period of one clock for this proposal: a key proposal's own reply months, else the
    setting. The 6-month cap is not a rule but a limit on the date (``deadlines.due_limit``),
    so a longer period is kept as set and the explanation says where the cap cut it."""
    if clock == DueDate.Clock.REPLY and proposal.is_key and proposal.key_reply_months:
        return (proposal.key_reply_months, "months")
    return deadlines.rule_for(clock)


def _make_due(
    assignment: Assignment,
    clock: str,
    *,
    start: datetime.date,
    rule: tuple[int, str],
    calendar: WorkCalendar,
    label: str,
) -> DueDate:
    limit = deadlines.due_limit(clock, start)
    due = deadlines.compute_due(start, rule, label=label, calendar=calendar, limit=limit)
    return DueDate(
        assignment=assignment,
        clock=clock,
        round=assignment.round,
        start_on=start,
        rule=f"{rule[0]},{rule[1]}",
        due_on=due.due_on,
        explanation=due.explanation,
    )


@transaction.atomic
def assign_proposal(
    proposal: Proposal | int,
    *,
    actor: User,
    units: Iterable[UnitRole | tuple[Unit | int, str]],
    assigned_on: datetime.date | None = None,
    note: str = "",
    cross_district_reason: str = "",
) -> list[Assignment]:
    """交办: one lead unit and any co-handling units, or one or more separate units.

    Also used after an approved reassignment, to hand the proposal to another unit: the rule
    is checked over all assignments that are not withdrawn. A unit of another district than
    the session's is a slip more often than a choice (the demo's unit list holds 长宁 and 普陀):
    it takes ``cross_district_reason``, recorded in the 交办 transition's note.
    """
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "assign", proposal.status, ProposalStatus)
    require_committee(actor)
    wanted = [u if isinstance(u, UnitRole) else UnitRole(*u) for u in units]
    if not wanted:
        raise InvalidInput(_("请至少选择一个承办单位。"), field="units")
    for w in wanted:
        if w.role not in Assignment.Role.values:
            raise InvalidInput(_("办理方式无效。"), field="units")
    unit_ids = [w.unit_id for w in wanted]
    if len(set(unit_ids)) != len(unit_ids):
        raise InvalidInput(_("同一单位只能交办一次。"), field="units")
    found = {u.pk: u for u in Unit.objects.filter(pk__in=unit_ids)}
    for w in wanted:
        unit = found.get(w.unit_id)
        if unit is None or not unit.is_active:
            raise InvalidInput(_("承办单位不存在或已停用。"), field="units")

    cross_district_reason = _check_districts(
        proposal, [found[i] for i in unit_ids], cross_district_reason
    )

    existing = list(proposal.assignments.active())
    taken = {a.unit_id for a in existing} & set(unit_ids)
    if taken:
        names = "、".join(str(found[i]) for i in sorted(taken))
        raise InvalidInput(
            _("%(units)s 已承办此件，不能重复交办。") % {"units": names}, field="units"
        )
    roles = [a.role for a in existing] + [w.role for w in wanted]
    leads = roles.count(Assignment.Role.LEAD)
    separates = roles.count(Assignment.Role.SEPARATE)
    if leads and separates:
        raise InvalidInput(_("主办与分办不能同时使用。"), field="units")
    if leads > 1:
        raise InvalidInput(_("每件提案只能有一个主办单位。"), field="units")
    if not leads and not separates:
        raise InvalidInput(_("请指定一个主办单位，或至少一个分办单位。"), field="units")

    assigned_on = assigned_on or _today()
    calendar = WorkCalendar()
    created: list[Assignment] = []
    dues: list[DueDate] = []
    for w in wanted:
        a = Assignment.objects.create(
            proposal=proposal,
            unit=found[w.unit_id],
            role=w.role,
            assigned_on=assigned_on,
            assigned_by=actor,
        )
        for clock in _clocks_for(w.role):
            dues.append(
                _make_due(
                    a,
                    clock,
                    start=assigned_on,
                    rule=_rule_for(clock, proposal),
                    calendar=calendar,
                    label=_("交办"),
                )
            )
        record_transition(
            a,
            actor=actor,
            verb="assign",
            to_state=a.state,
            note=f"{a.unit} {a.get_role_display()}",
            proposal=proposal,
        )
        events.emit("assignment_created", assignment_id=a.pk)
        created.append(a)
    DueDate.objects.bulk_create(dues)
    summary = "；".join(f"{a.unit}（{a.get_role_display()}）" for a in created)
    recorded = note or summary
    if cross_district_reason:
        recorded += _("；跨区交办理由：%(reason)s") % {"reason": cross_district_reason}
    _move_proposal(proposal, "assign", actor, note=recorded)
    return created


def _check_districts(proposal: Proposal, units: list[Unit], reason: str) -> str:
    """The reason for assigning outside the session's district, stripped: required when a
    unit's district is known and differs (``proposals.districts``), else not kept."""
    district = proposal.session.district
    outside = [u for u in units if districts.differs(u.district, district)]
    if not outside:
        return ""
    reason = (reason or "").strip()
    if not reason:
        names = "、".join(f"{u}（{u.district}）" for u in outside)
        raise InvalidInput(
            _("%(units)s 不属于%(district)s，跨区交办须填写理由。")
            % {"units": names, "district": district},
            field="cross_district_reason",
        )
    return reason


@transaction.atomic
def accept_assignment(assignment: Assignment | int, *, actor: User) -> Assignment:
    """签收 by the unit."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "accept", assignment.state, AssignmentState)
    require_unit_member(actor, assignment.unit_id)
    assignment.accepted_at = timezone.now()
    return _move_assignment(assignment, "accept", actor, fields=["accepted_at"])


@transaction.atomic
def request_reassignment(
    assignment: Assignment | int, *, actor: User, reason: str, on: datetime.date | None = None
) -> Assignment:
    """申请退回: only within the reassignment window, and with a reason."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "request_reassignment", assignment.state, AssignmentState)
    require_unit_member(actor, assignment.unit_id)
    reason = required_text(reason, _("申请退回理由"), "reason")
    on = on or _today()
    window = assignment.due_dates.filter(
        clock=DueDate.Clock.REASSIGNMENT, round=assignment.round
    ).first()
    if window is not None and on > window.due_on:
        raise WrongState(
            _("申请退回须在 %(date)s 前提出，已超过期限。")
            % {"date": f"{window.due_on:%Y年%-m月%-d日}"}
        )
    assignment.return_reason = reason
    return _move_assignment(
        assignment, "request_reassignment", actor, note=reason, fields=["return_reason"]
    )


@transaction.atomic
def approve_reassignment(
    assignment: Assignment | int, *, actor: User, note: str = ""
) -> Assignment:
    """The committee agrees: the assignment is withdrawn; the committee then assigns anew.

    With no assignment left the proposal goes back to 已立案, ready to be assigned again.
    """
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "approve_reassignment", assignment.state, AssignmentState)
    require_committee(actor)
    _move_assignment(assignment, "approve_reassignment", actor, note=note)
    events.emit("reassignment_decided", assignment_id=assignment.pk)
    assignment.due_dates.filter(completed_on__isnull=True).update(completed_on=_today())
    proposal = _lock_proposal(assignment.proposal_id)
    if not proposal.assignments.active().exists():
        _move_proposal(proposal, "unassign", actor, note=_("全部承办单位已退回，待重新交办"))
    return assignment


@transaction.atomic
def refuse_reassignment(assignment: Assignment | int, *, actor: User, note: str) -> Assignment:
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "refuse_reassignment", assignment.state, AssignmentState)
    require_committee(actor)
    note = required_text(note, _("不同意退回的理由"), "note")
    if assignment.accepted_at is None:
        assignment.accepted_at = timezone.now()
    events.emit("reassignment_decided", assignment_id=assignment.pk)
    return _move_assignment(
        assignment, "refuse_reassignment", actor, note=note, fields=["accepted_at"]
    )


@transaction.atomic
def log_contact(
    assignment: Assignment | int,
    *,
    actor: User,
    contacted_on: datetime.date,
    method: str,
    proposers: Iterable[Proposer | int] = (),
    participants: str = "",
    notes: str = "",
) -> ContactRecord:
    """沟通: a unit records a contact with the proposers; the first one meets its clock."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "log_contact", assignment.state, AssignmentState)
    require_unit_member(actor, assignment.unit_id)
    if method not in ContactRecord.Method.values:
        raise InvalidInput(_("请选择沟通方式。"), field="method")
    if contacted_on > _today():
        raise InvalidInput(_("沟通日期不能晚于今天。"), field="contacted_on")
    if contacted_on < assignment.assigned_on:
        raise InvalidInput(_("沟通日期不能早于交办日期。"), field="contacted_on")
    proposal = assignment.proposal
    allowed = {p.pk for p in proposal.proposers()}
    ids = [p.pk if isinstance(p, Proposer) else p for p in proposers]
    if set(ids) - allowed:
        raise InvalidInput(_("只能选择本件提案的提案者。"), field="proposers")
    record = ContactRecord.objects.create(
        assignment=assignment,
        contacted_on=contacted_on,
        method=method,
        participants=participants.strip(),
        notes=notes.strip(),
        recorded_by=actor,
    )
    record.proposers.set(ids)
    DueDate.objects.filter(
        assignment=assignment,
        clock=DueDate.Clock.FIRST_CONTACT,
        round=assignment.round,
        completed_on__isnull=True,
    ).update(completed_on=contacted_on)
    record_transition(
        assignment,
        actor=actor,
        verb="log_contact",
        from_state=assignment.state,
        to_state=assignment.state,
        note=f"{contacted_on:%Y-%m-%d} {record.get_method_display()}",
        proposal=proposal,
    )
    return record


@transaction.atomic
def mark_assignment_replied(
    assignment: Assignment | int, *, actor: User | None, on: datetime.date | None = None
) -> Assignment:
    """The unit's reply was sent. When every lead/separate unit has replied, so has the proposal."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "mark_replied", assignment.state, AssignmentState)
    if assignment.role == Assignment.Role.CO:
        raise WrongState(_("会办单位不直接答复提案者。"))
    on = on or _today()
    _move_assignment(assignment, "mark_replied", actor)
    assignment.due_dates.filter(
        clock__in=[DueDate.Clock.REPLY, DueDate.Clock.REHANDLING_REPLY],
        round=assignment.round,
        completed_on__isnull=True,
    ).update(completed_on=on)
    proposal = _lock_proposal(assignment.proposal_id)
    waiting = (
        proposal.assignments.active()
        .exclude(role=Assignment.Role.CO)
        .exclude(state=AssignmentState.REPLIED)
    )
    if assignment.role == Assignment.Role.LEAD:
        close_open_co_assignments(proposal, actor=actor, note=_("主办单位已答复，未收到会办意见"))
    if proposal.status == ProposalStatus.ASSIGNED and not waiting.exists():
        _move_proposal(proposal, "mark_replied", actor)
    return assignment


def close_open_co_assignments(proposal: Proposal, *, actor: User | None, note: str) -> int:
    """End the 会办 assignments still open as 未提供会办意见; how many were closed.

    Called when the lead unit has replied (it recorded why it went ahead without them) and
    when the proposal closes: a co-handling unit is not chased for an opinion nobody waits
    for any more, and its assignment does not count as the proposal being late. An opinion
    already signed may still be delivered afterwards (``mark_opinion_sent``), late.
    """
    closing = list(
        proposal.assignments.select_for_update()
        .filter(role=Assignment.Role.CO, state__in=list(OPEN_ASSIGNMENT_STATES))
        .order_by("pk")
    )
    for co in closing:
        _move_assignment(co, "close_without_opinion", actor, note=note)
    return len(closing)


@transaction.atomic
def mark_opinion_sent(
    assignment: Assignment | int, *, actor: User | None, on: datetime.date | None = None
) -> Assignment:
    """The co-handling unit's opinion reached the lead unit."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "mark_opinion_sent", assignment.state, AssignmentState)
    if assignment.role != Assignment.Role.CO:
        raise WrongState(_("只有会办单位出具会办意见。"))
    _move_assignment(assignment, "mark_opinion_sent", actor)
    assignment.due_dates.filter(
        clock=DueDate.Clock.CO_OPINION, round=assignment.round, completed_on__isnull=True
    ).update(completed_on=on or _today())
    return assignment


@transaction.atomic
def reopen_assignment(
    assignment: Assignment | int,
    *,
    actor: User | None,
    reason: str,
    on: datetime.date | None = None,
) -> Assignment:
    """重新办理 after 不满意 feedback: a new round with a new reply due date."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "reopen", assignment.state, AssignmentState)
    reason = required_text(reason, _("重新办理原因"), "reason")
    on = on or _today()
    assignment.round += 1
    _move_assignment(assignment, "reopen", actor, note=reason, fields=["round"])
    rule = deadlines.rule_for(DueDate.Clock.REHANDLING_REPLY)
    _make_due(
        assignment,
        DueDate.Clock.REHANDLING_REPLY,
        start=on,
        rule=rule,
        calendar=WorkCalendar(),
        label=_("不满意反馈"),
    ).save()
    proposal = _lock_proposal(assignment.proposal_id)
    if proposal.status in {ProposalStatus.REPLIED, ProposalStatus.CLOSED}:
        _move_proposal(proposal, "reopen", actor, note=reason)
    return assignment
