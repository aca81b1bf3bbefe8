"""延期: the committee's extensions and the units' requests for one."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals import deadlines, events
from proposals.models import (
    ASSIGNMENT_TRANSITIONS,
    Assignment,
    AssignmentState,
    DueDate,
    Extension,
    ExtensionRequest,
    User,
)
from proposals.workflow.errors import InvalidInput, WrongState
from proposals.workflow.guards import (
    _lock_assignment,
    check_state,
    record_transition,
    require_committee,
    require_unit_member,
    required_text,
)


def _reply_due(assignment: Assignment) -> DueDate:
    """The due date an extension moves (the reply's, or the co-handling opinion's), locked."""
    clock = (
        DueDate.Clock.CO_OPINION
        if assignment.role == Assignment.Role.CO
        else (DueDate.Clock.REPLY if assignment.round == 1 else DueDate.Clock.REHANDLING_REPLY)
    )
    due = (
        DueDate.objects.select_for_update()
        .filter(assignment=assignment, clock=clock, round=assignment.round)
        .first()
    )
    if due is None or due.completed_on is not None:
        raise WrongState(_("此件没有可延期的到期日。"))
    return due


def _check_new_due(due: DueDate, new_due_on: datetime.date | None) -> datetime.date:
    """Later than the current date, and never past the hard limit after assignment."""
    if new_due_on is None:
        raise InvalidInput(_("请填写延期后的日期。"), field="new_due_on")
    if new_due_on <= due.due_on:
        raise InvalidInput(
            _("延期后的日期须晚于现到期日 %(date)s。") % {"date": f"{due.due_on:%Y-%m-%d}"},
            field="new_due_on",
        )
    limit = deadlines.max_reply_due(due.start_on)
    if new_due_on > limit:
        raise InvalidInput(
            _("答复最迟不得超过 %(start)s 起 %(months)s 个月，即 %(limit)s。")
            % {
                "start": f"{due.start_on:%Y-%m-%d}",
                "months": settings.PROPOSAL_MAX_REPLY_MONTHS,
                "limit": f"{limit:%Y-%m-%d}",
            },
            field="new_due_on",
        )
    return new_due_on


@transaction.atomic
def extend_assignment(
    assignment: Assignment | int, *, actor: User, new_due_on: datetime.date, reason: str
) -> Extension:
    """延期: the committee moves the reply date, never past the hard limit after assignment.

    A pending request of the unit is answered by it: approved, with this extension."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "extend", assignment.state, AssignmentState)
    require_committee(actor)
    reason = required_text(reason, _("延期理由"), "reason")
    due = _reply_due(assignment)
    _check_new_due(due, new_due_on)
    old = due.due_on
    due.due_on = new_due_on
    due.is_fixed = True
    due.explanation = _("%(old)s 经批准延期至 %(new)s") % {
        "old": f"{old:%Y-%m-%d}",
        "new": f"{new_due_on:%Y-%m-%d}",
    }
    due.save(update_fields=["due_on", "is_fixed", "explanation"])
    ext = Extension.objects.create(
        assignment=assignment,
        old_due_on=old,
        new_due_on=new_due_on,
        reason=reason,
        approved_by=actor,
    )
    _record_on_assignment(
        assignment, actor, "extend", f"{old:%Y-%m-%d} → {new_due_on:%Y-%m-%d}：{reason}"
    )
    pending = pending_extension_request(assignment)
    if pending is not None:
        _decide(pending, actor, ExtensionRequest.State.APPROVED, reason, extension=ext)
    return ext


@transaction.atomic
def request_extension(
    assignment: Assignment | int, *, actor: User, new_due_on: datetime.date, reason: str
) -> ExtensionRequest:
    """申请延期: the unit asks the committee for a later reply date, with a reason."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "request_extension", assignment.state, AssignmentState)
    require_unit_member(actor, assignment.unit_id)
    reason = required_text(reason, _("申请延期理由"), "reason")
    if pending_extension_request(assignment) is not None:
        raise WrongState(_("此件已有待审批的延期申请。"))
    due = _reply_due(assignment)
    _check_new_due(due, new_due_on)
    request = ExtensionRequest.objects.create(
        assignment=assignment,
        due_on_then=due.due_on,
        requested_due_on=new_due_on,
        reason=reason,
        requested_by=actor,
    )
    _record_on_assignment(
        assignment,
        actor,
        "request_extension",
        f"{due.due_on:%Y-%m-%d} → {new_due_on:%Y-%m-%d}：{reason}",
    )
    return request


def pending_extension_request(assignment: Assignment | int) -> ExtensionRequest | None:
    """The unit's request awaiting the committee. Callers that change it hold the
    assignment's row lock, which serialises everything done to its requests."""
    assignment_id = assignment if isinstance(assignment, int) else assignment.pk
    return ExtensionRequest.objects.filter(
        assignment_id=assignment_id, state=ExtensionRequest.State.PENDING
    ).first()


@transaction.atomic
def approve_extension(assignment: Assignment | int, *, actor: User, note: str = "") -> Extension:
    """The committee grants the pending request: the date the unit asked for."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "approve_extension", assignment.state, AssignmentState)
    require_committee(actor)
    request = pending_extension_request(assignment)
    if request is None:
        raise WrongState(_("此件没有待审批的延期申请。"))
    reason = _("应承办单位申请：%(reason)s") % {"reason": request.reason}
    if note.strip():
        reason += _("（%(note)s）") % {"note": note.strip()}
    return extend_assignment(
        assignment, actor=actor, new_due_on=request.requested_due_on, reason=reason
    )


@transaction.atomic
def refuse_extension(assignment: Assignment | int, *, actor: User, note: str) -> ExtensionRequest:
    """The committee refuses the pending request, saying why; the date stays."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "refuse_extension", assignment.state, AssignmentState)
    require_committee(actor)
    note = required_text(note, _("不同意延期的理由"), "note")
    request = pending_extension_request(assignment)
    if request is None:
        raise WrongState(_("此件没有待审批的延期申请。"))
    _record_on_assignment(assignment, actor, "refuse_extension", note)
    _decide(request, actor, ExtensionRequest.State.REFUSED, note)
    return request


def _record_on_assignment(assignment: Assignment, actor: User, verb: str, note: str) -> None:
    """Audit a verb that leaves the assignment's state as it is."""
    record_transition(
        assignment,
        actor=actor,
        verb=verb,
        from_state=assignment.state,
        to_state=assignment.state,
        note=note,
        proposal=assignment.proposal,
    )


def _decide(
    request: ExtensionRequest,
    actor: User,
    state: str,
    note: str,
    *,
    extension: Extension | None = None,
) -> None:
    """Close a pending request and tell the unit (``extension_decided``)."""
    request.state = state
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note
    request.extension = extension
    request.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "extension"])
    events.emit("extension_decided", assignment_id=request.assignment_id)
