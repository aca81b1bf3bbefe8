"""Co-handling opinions 会办意见: a co-handling unit's input to the lead unit, one function per
verb — drafted, submitted, returned or signed with a 文号, then delivered to the lead unit,
which ends the co-handling assignment. The steps both kinds of letter share are in ``common``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from proposals import audit, events
from proposals.models import Assignment, AssignmentState, User
from proposals.workflow import WrongState, mark_opinion_sent
from proposals.workflow import required_text as _required_text
from replies.kinds import OPINION_KIND
from replies.models import CoOpinion, OpinionState
from replies.workflow.common import (
    _audit,
    _check_complete,
    _edit,
    _lock,
    _move,
    _now,
    _require_clerk,
    _require_signer,
    _sign,
    _today,
)
from replies.workflow.texts import draft_texts


@transaction.atomic
def start_opinion(assignment: Assignment | int, *, actor: User) -> CoOpinion:
    pk = assignment.pk if isinstance(assignment, Assignment) else assignment
    audit.hold_before_row_locks()
    assignment = (
        Assignment.objects.select_for_update()
        .select_related("proposal__session", "proposal__lead_proposer", "unit")
        .get(pk=pk)
    )
    _require_clerk(actor, assignment.unit_id)
    if assignment.role != Assignment.Role.CO:
        raise WrongState(_("只有会办单位出具会办意见。"))
    if assignment.state != AssignmentState.ACCEPTED:
        raise WrongState(_("签收后才能起草会办意见。"))
    if assignment.opinions.exclude(state=OpinionState.DELIVERED).exists():
        raise WrongState(_("此件已有未送出的会办意见稿。"))
    lead = (
        Assignment.objects.active()
        .filter(proposal_id=assignment.proposal_id, role=Assignment.Role.LEAD)
        .select_related("unit")
        .first()
    )
    texts = draft_texts(assignment.proposal, opinion_to=str(lead.unit) if lead else "主办单位")
    unit = assignment.unit
    opinion = CoOpinion.objects.create(
        assignment=assignment,
        proposal=assignment.proposal,
        unit=unit,
        title=texts["title"],
        salutation=texts["salutation"],
        body=texts["opening"] + "\n",
        closing=texts["closing"],
        contact_person=unit.contact_name,
        contact_phone=unit.contact_phone or unit.phone,
        contact_address=unit.address,
        contact_postcode=unit.postcode,
        last_edited_by=actor,
    )
    _audit(opinion, "start", actor, "", opinion.state)
    return opinion


@transaction.atomic
def edit_opinion(opinion: CoOpinion | int, *, actor: User, version: int, **fields) -> CoOpinion:
    return _edit(
        OPINION_KIND, _lock(OPINION_KIND, opinion), actor=actor, version=version, fields=fields
    )


@transaction.atomic
def submit_opinion(opinion: CoOpinion | int, *, actor: User) -> CoOpinion:
    opinion = _lock(OPINION_KIND, opinion)
    OPINION_KIND.check("submit", opinion.state)
    _require_clerk(actor, opinion.unit_id)
    _check_complete(OPINION_KIND, opinion)
    events.emit("awaiting_signature", opinion_id=opinion.pk)
    return _move(OPINION_KIND, opinion, "submit", actor)


@transaction.atomic
def return_opinion(opinion: CoOpinion | int, *, actor: User, comment: str) -> CoOpinion:
    opinion = _lock(OPINION_KIND, opinion)
    OPINION_KIND.check("return", opinion.state)
    _require_signer(actor, opinion.unit_id)
    opinion.return_comment = _required_text(comment, _("退回意见"), "comment")
    return _move(
        OPINION_KIND,
        opinion,
        "return",
        actor,
        note=opinion.return_comment,
        fields=["return_comment"],
    )


@transaction.atomic
def sign_opinion(opinion: CoOpinion | int, *, actor: User) -> CoOpinion:
    opinion = _lock(OPINION_KIND, opinion)
    _sign(OPINION_KIND, opinion, actor=actor)
    return opinion


@transaction.atomic
def deliver_opinion(opinion: CoOpinion | int, *, actor: User) -> CoOpinion:
    """The signed opinion reaches the lead unit; the co assignment is done."""
    opinion = _lock(OPINION_KIND, opinion)
    OPINION_KIND.check("deliver", opinion.state)
    _require_clerk(actor, opinion.unit_id)
    opinion.delivered_at = _now()
    _move(OPINION_KIND, opinion, "deliver", actor, fields=["delivered_at"])
    mark_opinion_sent(opinion.assignment_id, actor=actor, on=_today())
    return opinion


# --- The printed letter and its PDF ---------------------------------------------------------
