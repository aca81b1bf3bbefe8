"""Attachments: the scanned originals of a proposal."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from proposals.models import (
    Proposal,
    ProposalAttachment,
    User,
)
from proposals.validators import inspect_attachment
from proposals.workflow.errors import InvalidInput, NotAllowed
from proposals.workflow.guards import (
    _lock_proposal,
    record_transition,
)


@transaction.atomic
def add_attachment(
    proposal: Proposal | int, *, actor: User, file: Any, name: str = ""
) -> ProposalAttachment:
    """Attach a scanned original (PDF, JPEG or PNG) to a proposal the actor may see.

    Whoever sees the proposal may add to it — the committee, the staff of a unit it is
    assigned to, its proposers — except the supervision office, which only looks. The file
    passes every check of ``proposals.validators`` first; it is stored under a generated name,
    and the name people see is ``name`` (or the uploaded file's).
    """
    proposal = _lock_proposal(proposal)
    if not Proposal.objects.visible_to(actor).filter(pk=proposal.pk).exists():
        raise NotAllowed(_("提案不存在或您无权查看。"), code="not_found")
    if actor.is_supervisor and not actor.is_committee:
        raise NotAllowed(_("督查室只能查看附件，不能上传。"))
    display = (name or "").strip() or PurePath(getattr(file, "name", "") or "").name
    try:
        inspect_attachment(file, name=getattr(file, "name", "") or display)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="file") from exc
    attachment = ProposalAttachment(
        proposal=proposal, file=file, name=display[:200], uploaded_by=actor
    )
    attachment.save()
    record_transition(
        attachment,
        actor=actor,
        verb="add_attachment",
        note=attachment.name,
        proposal=proposal,
    )
    return attachment


@transaction.atomic
def remove_attachment(attachment: ProposalAttachment | int, *, actor: User) -> None:
    """The committee removes an attachment uploaded by mistake; the audit row keeps its name.

    The stored file stays where it is (backups and the audit may still point to it), as
    before; only the row goes.
    """
    pk = attachment.pk if isinstance(attachment, ProposalAttachment) else attachment
    found = ProposalAttachment.objects.filter(pk=pk).values_list("proposal_id", flat=True).first()
    if found is None:
        raise InvalidInput(_("附件不存在或已删除。"), field="attachment")
    proposal = _lock_proposal(found)
    if not actor.is_committee:
        raise NotAllowed(_("只有提案委员会可以删除附件。"))
    row = ProposalAttachment.objects.select_for_update().filter(pk=pk).first()
    if row is None:
        raise InvalidInput(_("附件不存在或已删除。"), field="attachment")
    record_transition(row, actor=actor, verb="remove_attachment", note=row.name, proposal=proposal)
    row.delete()
