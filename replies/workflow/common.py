"""What replies and opinions share: the guards, the row lock, the move and its audit row, the
draft's edit, and signing with a 文号 — each generic over the kind of letter
(``replies.kinds.LetterType``), which the verbs pass in, so no step branches on the model.

重新生成 (``rerender_pdf``) is here too: it acts on either kind, and queueing the render is this
module's (``_render_on_commit``, which imports ``replies.tasks``; the tasks never import the
workflow).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals import audit, outbox, permissions
from proposals.models import Membership, Transition, User
from proposals.workflow import InvalidInput, NotAllowed, WrongState, record_transition
from proposals.workflow import required_text as _required_text
from replies import pdf_limits, tasks
from replies.kinds import L, LetterType, kind_of
from replies.models import CoOpinion, Disclosure, DocNumberCounter, Reply, result_class_for
from replies.rendering import has_pdf, letter_for
from replies.workflow.errors import StaleVersion


def _now() -> datetime.datetime:
    return timezone.now()


def _today() -> datetime.date:
    return timezone.localdate()


# --- Guards ---------------------------------------------------------------------------------


def _require_signer(actor: User, unit_id: int) -> None:
    if not permissions.may_sign(actor, unit_id):
        raise NotAllowed(_("只有本单位的签发人可以签发或退回。"))


def _require_clerk(actor: User, unit_id: int) -> None:
    """Drafting is the unit's work: its clerks and signers (never the committee for them)."""
    if not Membership.objects.filter(user=actor, unit_id=unit_id, user__is_active=True).exists():
        raise NotAllowed(_("您不是该承办单位的工作人员，不能办理此件。"))


# --- Rows, moves and their audit ------------------------------------------------------------


def _audit(
    obj: Reply | CoOpinion, verb: str, actor: User | None, before: str, after: str, note: str = ""
) -> Transition:
    return record_transition(
        obj,
        actor=actor,
        verb=verb,
        from_state=before,
        to_state=after,
        note=note,
        proposal=obj.proposal,
    )


def _lock(kind: LetterType[L], obj: L | int) -> L:
    """The letter's row, locked until commit (``obj``: an instance or a primary key)."""
    pk = obj.pk if isinstance(obj, Model) else obj
    audit.hold_before_row_locks()  # the chain first, then rows: no deadlock with an append
    return kind.model.objects.select_for_update().select_related("unit", "proposal").get(pk=pk)


def _move(
    kind: LetterType[L],
    obj: L,
    verb: str,
    actor: User | None,
    note: str = "",
    fields: Iterable[str] = (),
) -> L:
    before = obj.state
    obj.state = kind.check(verb, before)
    obj.save(update_fields=["state", "updated_at", *fields])
    _audit(obj, verb, actor, before, obj.state, note)
    return obj


# --- Drafts ---------------------------------------------------------------------------------


def _edit(kind: LetterType[L], obj: L, *, actor: User, version: int, fields: dict[str, Any]) -> L:
    kind.check("edit", obj.state)
    _require_clerk(actor, obj.unit_id)
    if version != obj.version:
        who = obj.last_edited_by or _("他人")
        raise StaleVersion(
            _("%(who)s 已于 %(at)s 保存了新的版本，您的修改未保存。请复制您的修改，刷新后再编辑。")
            % {"who": who, "at": timezone.localtime(obj.updated_at).strftime("%Y-%m-%d %H:%M")}
        )
    unknown = set(fields) - set(kind.editable_fields)
    if unknown:
        raise InvalidInput(_("不能修改这些字段：%(f)s") % {"f": "、".join(sorted(unknown))})
    for name, value in fields.items():
        value = value.strip() if isinstance(value, str) else value
        if name == "result_label" and value and not result_class_for(value):
            raise InvalidInput(_("办理结果不在本区的选项中。"), field="result_label")
        if name == "disclosure" and value not in Disclosure.values:
            raise InvalidInput(_("公开属性无效。"), field="disclosure")
        if name == "contact_postcode" and value and not (len(value) == 6 and value.isdigit()):
            raise InvalidInput(_("邮政编码应为6位数字。"), field="contact_postcode")
        setattr(obj, name, value)
    derived: tuple[str, ...] = kind.derive(obj)
    obj.version += 1
    obj.last_edited_by = actor
    obj.save(update_fields=[*fields, *derived, "version", "last_edited_by", "updated_at"])
    _audit(obj, "edit", actor, obj.state, obj.state, note=_("第%(v)s版") % {"v": obj.version})
    return obj


def _check_complete(kind: LetterType[L], obj: L) -> None:
    """What the signer needs before the draft reaches them; the first gap is refused."""
    for field, label in kind.required:
        _required_text(getattr(obj, field), str(label), field)


# --- Signing --------------------------------------------------------------------------------


def _allocate_doc_number(obj: Reply | CoOpinion, on: datetime.date) -> None:
    """Take the unit's next 文号 of the year. The counter row is locked until commit, so
    concurrent signings queue and a rolled-back signing gives its number back."""
    unit = obj.unit
    if not unit.docno_prefix:
        return  # Some units (seed 000) issue replies without a 文号.
    DocNumberCounter.objects.get_or_create(unit=unit, year=on.year)
    counter = DocNumberCounter.objects.select_for_update().get(unit=unit, year=on.year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    obj.docno_prefix = unit.docno_prefix
    obj.docno_year = on.year
    obj.docno_number = counter.last_number


def _sign(kind: LetterType[L], obj: L, *, actor: User) -> None:
    kind.check("sign", obj.state)
    _require_signer(actor, obj.unit_id)
    now = _now()
    on = timezone.localdate(now)
    _allocate_doc_number(obj, on)
    obj.signer = actor
    obj.signer_name = actor.full_name or actor.username
    obj.signed_on = on
    obj.signed_at = now
    _require_renderable(obj)
    _move(
        kind,
        obj,
        "sign",
        actor,
        note=obj.doc_number,
        fields=[
            "signer",
            "signer_name",
            "signed_on",
            "signed_at",
            "docno_prefix",
            "docno_year",
            "docno_number",
        ],
    )
    _render_on_commit(kind, obj)


def _require_renderable(obj: Reply | CoOpinion) -> None:
    """A letter over the size rules would never get its PDF, so it cannot be signed. Checked on
    the letter exactly as it will print (文号, 签发人, 印发 set); the refusal rolls the signing
    back, 文号 included (``replies.pdf_limits.check_letter_size``: the rule of saving and
    rendering)."""
    try:
        pdf_limits.check_letter_size(f"{obj.body}\n{obj.closing}")  # as typed, before parsing it
        pdf_limits.check_letter_size(letter_for(obj, draft=False))
    except pdf_limits.LetterTooLarge as exc:
        raise InvalidInput(exc.message, field="body", code="letter_too_large") from exc


# --- The signed PDF -------------------------------------------------------------------------


def _render_on_commit(kind: LetterType[L], obj: L) -> None:
    """Queue the PDF's render once the transaction commits; with the broker down the task waits
    in the outbox (``proposals.outbox``) and the action still succeeds."""
    outbox.on_commit(tasks.render_signed_pdf, kind.code, obj.pk)


@transaction.atomic
def rerender_pdf(letter: Reply | CoOpinion, *, actor: User) -> Reply | CoOpinion:
    """重新生成: a signed letter without its PDF (生成失败, or never rendered) is queued again,
    its failure count reset. The text, the 文号 and the signing stay as they are. The unit's
    staff or the committee; audited with the reason that is being cleared."""
    kind = kind_of(letter)
    obj = _lock(kind, letter)
    kind.check("rerender", obj.state)
    if not actor.is_committee:
        _require_clerk(actor, obj.unit_id)
    if has_pdf(obj):
        raise WrongState(_("签发件已生成，无需重新生成。"))
    note = obj.pdf_error or _("签发件未生成")
    obj.pdf_attempts = 0
    obj.pdf_error = ""
    obj.pdf_failed_at = None
    obj.save(update_fields=["pdf_attempts", "pdf_error", "pdf_failed_at"])
    _audit(obj, "rerender", actor, obj.state, obj.state, note=note)
    _render_on_commit(kind, obj)
    return obj
