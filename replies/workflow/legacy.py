"""The import of replies signed and sent before the system existed (``replies.legacy`` reads
them from the published letters): each keeps its printed 文号, date and signer.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals import audit, permissions
from proposals.models import Assignment, AssignmentState, Unit, User
from proposals.workflow import (
    InvalidInput,
    WrongState,
    mark_assignment_replied,
    require_committee,
)
from replies.kinds import REPLY_KIND
from replies.letter import Letter, LetterKind
from replies.models import Disclosure, DocNumberCounter, Reply, ReplyState, result_class_for
from replies.workflow.common import _audit, _render_on_commit

_DOC_NUMBER = re.compile(r"^(?P<prefix>.+?)〔(?P<year>\d{4})〕(?P<number>\d+)号$")


def organs_by_doc_prefix() -> dict[str, str]:
    """The units table ``replies.legacy.read_published(text, units=…)`` takes a header from
    when a published text prints neither 发文机关标志 nor 落款: 文号 prefix → organ name."""
    return dict(Unit.objects.exclude(docno_prefix="").values_list("docno_prefix", "organ_name"))


@transaction.atomic
def import_published_reply(
    assignment: Assignment | int,
    *,
    actor: User,
    letter: Letter,
    signed_on: datetime.date | None = None,
    disclosure: str | None = None,
    published_on: datetime.date | None = None,
) -> Reply:
    """Bring a reply that was signed and sent before the system existed into it.

    The committee's import of years of published letters (read by ``replies.legacy``): the
    reply keeps its printed 文号, date and signer, is recorded as sent (and published when
    public), and the unit's 文号 counter moves past its number so new ones never collide.
    """
    require_committee(actor)
    pk = assignment.pk if isinstance(assignment, Assignment) else assignment
    audit.hold_before_row_locks()
    assignment = Assignment.objects.select_for_update().select_related("unit").get(pk=pk)
    if assignment.role == Assignment.Role.CO:
        raise WrongState(_("会办单位不直接答复提案者。"))
    unit = assignment.unit
    if not any(block.text.strip() for block in letter.body):
        raise InvalidInput(
            _("原件没有正文（只读到了标题、称呼或落款），不能导入；请检查复制的文本是否完整。"),
            field="body",
        )
    on = signed_on or letter.date
    if on is None:
        raise InvalidInput(_("原件没有成文日期，请补充。"), field="signed_on")
    label = letter.result_label.strip()
    if not result_class_for(label):
        raise InvalidInput(
            _("办理结果“%(label)s”不在本区的选项中。") % {"label": label}, field="result_label"
        )
    if disclosure is None:
        disclosure = (
            Disclosure.PUBLIC
            if (letter.note or "主动公开" in letter.disclosure)
            else Disclosure.ON_REQUEST
        )
    numbers: dict[str, Any] = {}
    if letter.doc_number:
        match = _DOC_NUMBER.match(letter.doc_number)
        if match is None:
            raise InvalidInput(_("文号格式无法识别：%(n)s") % {"n": letter.doc_number})
        if match["prefix"] != unit.docno_prefix:
            raise InvalidInput(
                _("文号前缀“%(p)s”与承办单位的“%(u)s”不一致。")
                % {"p": match["prefix"], "u": unit.docno_prefix or "（无）"}
            )
        year, number = int(match["year"]), int(match["number"])
        DocNumberCounter.objects.get_or_create(unit=unit, year=year)
        counter = DocNumberCounter.objects.select_for_update().get(unit=unit, year=year)
        if counter.last_number < number:
            counter.last_number = number
            counter.save(update_fields=["last_number"])
        numbers = {"docno_prefix": match["prefix"], "docno_year": year, "docno_number": number}
    signer = (
        permissions.signers_of(unit.pk).filter(full_name=letter.signer).first()
        if letter.signer
        else None
    )
    at = timezone.make_aware(datetime.datetime.combine(on, datetime.time(9, 0)))
    public = disclosure == Disclosure.PUBLIC
    state = ReplyState.PUBLISHED if public and published_on else ReplyState.SENT
    reply = Reply.objects.create(
        assignment=assignment,
        proposal_id=assignment.proposal_id,
        unit=unit,
        round=assignment.round,
        kind=Reply.Kind.FOLLOW_UP if letter.kind == LetterKind.FOLLOW_UP else Reply.Kind.REPLY,
        title=letter.title,
        salutation=letter.salutation,
        body="\n".join(b.text for b in letter.body),
        contact_person=letter.contact.person,
        contact_phone=letter.contact.phone,
        contact_address=letter.contact.address,
        contact_postcode=letter.contact.postcode,
        cc="、".join(letter.cc),
        result_label=label,
        result_class=result_class_for(label),
        disclosure=disclosure,
        signer=signer,
        signer_name=letter.signer,
        signed_on=on,
        signed_at=at,
        sent_at=at,
        published_on=published_on if state == ReplyState.PUBLISHED else None,
        state=state,
        last_edited_by=actor,
        **numbers,
    )
    _audit(reply, "import", actor, "", reply.state, note=reply.doc_number or reply.title)
    if assignment.state == AssignmentState.ACCEPTED:
        mark_assignment_replied(assignment, actor=actor, on=on)
    _render_on_commit(REPLY_KIND, reply)
    return reply
