"""The proposal verbs: submit, return and resubmit; file, not file and merge; close."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals.models import (
    PROPOSAL_TRANSITIONS,
    Proposal,
    ProposalStatus,
    Session,
    User,
)
from proposals.workflow.assignments import close_open_co_assignments
from proposals.workflow.coproposers import _require_coproposers_confirmed
from proposals.workflow.errors import InvalidInput
from proposals.workflow.guards import (
    _lock_proposal,
    _move_proposal,
    _require_proposer_or_committee,
    check_state,
    require_committee,
    required_text,
)


@transaction.atomic
def submit_proposal(proposal: Proposal | int, *, actor: User) -> Proposal:
    """A draft goes to the committee for review (online: once every co-proposer confirmed)."""
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "submit", proposal.status, ProposalStatus)
    _require_proposer_or_committee(actor, proposal)
    required_text(proposal.title, _("案由"), "title")
    _require_coproposers_confirmed(actor, proposal)
    proposal.submitted_at = timezone.now()
    return _move_proposal(proposal, "submit", actor, fields=["submitted_at"])


@transaction.atomic
def return_proposal(proposal: Proposal | int, *, actor: User, reason: str) -> Proposal:
    """The committee sends a submitted proposal back to its proposer for revision."""
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "return", proposal.status, ProposalStatus)
    require_committee(actor)
    proposal.review_note = required_text(reason, _("退回理由"), "reason")
    return _move_proposal(proposal, "return", actor, note=reason, fields=["review_note"])


@transaction.atomic
def resubmit_proposal(proposal: Proposal | int, *, actor: User) -> Proposal:
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "resubmit", proposal.status, ProposalStatus)
    _require_proposer_or_committee(actor, proposal)
    _require_coproposers_confirmed(actor, proposal)
    proposal.submitted_at = timezone.now()
    return _move_proposal(proposal, "resubmit", actor, fields=["submitted_at"])


@transaction.atomic
def file_proposal(proposal: Proposal | int, *, actor: User, note: str = "") -> Proposal:
    """立案: the proposal takes the next serial of its session, without gaps.

    The session row is locked while the serial is taken, so concurrent filings queue and a
    rolled-back filing gives its serial back.
    """
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "file", proposal.status, ProposalStatus)
    require_committee(actor)
    session = Session.objects.select_for_update().get(pk=proposal.session_id)
    session.last_serial += 1
    session.save(update_fields=["last_serial"])
    proposal.serial = session.last_serial
    proposal.number = session.format_number(session.last_serial)
    proposal.filed_at = timezone.now()
    try:
        with transaction.atomic():
            return _move_proposal(
                proposal, "file", actor, note=note, fields=["serial", "number", "filed_at"]
            )
    except IntegrityError as exc:
        raise InvalidInput(
            _("提案号 %(number)s 已被使用，请检查本届次的编号格式。") % {"number": proposal.number}
        ) from exc


@transaction.atomic
def not_file_proposal(
    proposal: Proposal | int, *, actor: User, disposition: str, note: str = ""
) -> Proposal:
    """不予立案, with how the text is passed on (转社情民意信息 …)."""
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "not_file", proposal.status, ProposalStatus)
    require_committee(actor)
    if disposition not in Proposal.Disposition.values:
        raise InvalidInput(_("请选择不予立案的处理方式。"), field="disposition")
    proposal.disposition = disposition
    proposal.review_note = note.strip()
    label = Proposal.Disposition(disposition).label
    return _move_proposal(
        proposal,
        "not_file",
        actor,
        note=f"{label} {note}".strip(),
        fields=["disposition", "review_note"],
    )


@transaction.atomic
def merge_proposal(
    proposal: Proposal | int, *, into: Proposal | int, actor: User, note: str = ""
) -> Proposal:
    """并案: the proposal is handled with another of the same session.

    Its proposers still receive the reply, which the reply workflow finds through
    ``merged_into``.
    """
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "merge", proposal.status, ProposalStatus)
    require_committee(actor)
    target = Proposal.objects.get(pk=into.pk if isinstance(into, Proposal) else into)
    if target.pk == proposal.pk:
        raise InvalidInput(_("不能并入提案自身。"), field="into")
    if target.session_id != proposal.session_id:
        raise InvalidInput(_("只能并入同一届次会议的提案。"), field="into")
    if target.status not in {ProposalStatus.FILED, ProposalStatus.ASSIGNED}:
        raise InvalidInput(_("只能并入已立案或已交办的提案。"), field="into")
    proposal.merged_into = target
    return _move_proposal(
        proposal,
        "merge",
        actor,
        note=note or _("并入 %(number)s") % {"number": target.number},
        fields=["merged_into"],
    )


@transaction.atomic
def close_proposal(proposal: Proposal | int, *, actor: User, note: str = "") -> Proposal:
    """办结: feedback has come in, or the committee closes the proposal."""
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "close", proposal.status, ProposalStatus)
    require_committee(actor)
    # Every open assignment ends with its proposal (only 会办 ones can still be open here).
    close_open_co_assignments(proposal, actor=actor, note=_("提案已办结"))
    return _move_proposal(proposal, "close", actor, note=note)
