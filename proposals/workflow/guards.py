"""The guards and the audit record every verb shares: role and state checks, row locks,
the move along a transition table, and ``record_transition`` (used by every app's workflow)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext as _

from proposals import audit
from proposals.models import (
    ASSIGNMENT_TRANSITIONS,
    PROPOSAL_TRANSITIONS,
    Assignment,
    AssignmentState,
    Membership,
    Proposal,
    ProposalStatus,
    Transition,
    User,
)
from proposals.workflow.errors import InvalidInput, NotAllowed, WrongState


def require_committee(actor: User) -> None:
    if not actor.is_committee:
        raise NotAllowed(_("只有提案委员会可以执行此操作。"))


def require_unit_member(actor: User, unit_id: int, *, role: str | None = None) -> None:
    if actor.is_committee:
        return
    qs = Membership.objects.filter(user=actor, unit_id=unit_id, user__is_active=True)
    if role:
        qs = qs.filter(role=role)
    if not qs.exists():
        raise NotAllowed(_("您不是该承办单位的工作人员，不能办理此件。"))


def _require_proposer_or_committee(actor: User, proposal: Proposal) -> None:
    if actor.is_committee:
        return
    if proposal.lead_proposer.user_id is None or proposal.lead_proposer.user_id != actor.pk:
        raise NotAllowed(_("只有第一提案人或提案委员会可以执行此操作。"))


def check_state(table: dict, verb: str, current: str, labels: type[models.TextChoices]) -> str:
    allowed, target = table[verb]
    if current not in allowed:
        raise WrongState(
            _("当前状态为“%(state)s”，不能执行此操作。") % {"state": labels(current).label}
        )
    return target


def record_transition(
    obj: models.Model,
    *,
    actor: User | None,
    verb: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    proposal: Proposal | None = None,
) -> Transition:
    """Write the audit row of one workflow call. Used by every app's workflow module."""
    return Transition.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=obj.pk,
        proposal=proposal,
        verb=verb,
        from_state=from_state,
        to_state=to_state,
        note=note,
    )


def _lock_proposal(proposal: Proposal | int) -> Proposal:
    pk = proposal.pk if isinstance(proposal, Proposal) else proposal
    audit.hold_before_row_locks()
    return Proposal.objects.select_for_update().select_related("lead_proposer").get(pk=pk)


def _lock_assignment(assignment: Assignment | int) -> Assignment:
    pk = assignment.pk if isinstance(assignment, Assignment) else assignment
    audit.hold_before_row_locks()
    return Assignment.objects.select_for_update().select_related("proposal").get(pk=pk)


def _move_proposal(
    proposal: Proposal, verb: str, actor: User | None, note: str = "", fields: Sequence[str] = ()
) -> Proposal:
    before = proposal.status
    proposal.status = check_state(PROPOSAL_TRANSITIONS, verb, before, ProposalStatus)
    proposal.save(update_fields=["status", "updated_at", *fields])
    record_transition(
        proposal,
        actor=actor,
        verb=verb,
        from_state=before,
        to_state=proposal.status,
        note=note,
        proposal=proposal,
    )
    return proposal


def _move_assignment(
    assignment: Assignment,
    verb: str,
    actor: User | None,
    note: str = "",
    fields: Sequence[str] = (),
) -> Assignment:
    before = assignment.state
    assignment.state = check_state(ASSIGNMENT_TRANSITIONS, verb, before, AssignmentState)
    assignment.save(update_fields=["state", *fields])
    record_transition(
        assignment,
        actor=actor,
        verb=verb,
        from_state=before,
        to_state=assignment.state,
        note=note,
        proposal=assignment.proposal,
    )
    return assignment


def required_text(value: str, label: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(_("请填写%(label)s。") % {"label": label}, field=field)
    return value


def model_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """``model``'s own field ``name`` (never a reverse relation): its label, length and
    choices are what a verb checks input against and writes in an audit note."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a field of its own")
    return field


def max_length(model: type[models.Model], name: str) -> int:
    """The longest text ``model``'s field ``name`` holds: input is refused past it."""
    length = model_field(model, name).max_length
    if length is None:
        raise TypeError(f"{model.__name__}.{name} has no max_length")
    return length
