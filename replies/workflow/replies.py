"""Replies 答复: a lead or separate unit's answer to the proposers, one function per verb.

Drafted (``start_reply``, ``edit_reply``), sent to the signer once every co-handling opinion is
in (``submit_reply``), returned or signed with a 文号 (``return_reply``, ``sign_reply``), sent
with its signed PDF (``send_reply``), published (``publish_reply``), corrected by a new reply
(``supersede_reply``). The steps both kinds of letter share are in ``common``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from proposals import audit, events
from proposals.models import Assignment, AssignmentState, User
from proposals.workflow import InvalidInput, NotAllowed, WrongState, mark_assignment_replied
from proposals.workflow import required_text as _required_text
from replies.kinds import EDITABLE_FIELDS, REPLY_KIND
from replies.models import Disclosure, Reply, ReplyState
from replies.rendering import _store_pdf, has_pdf, pdf_failure_reason
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
from replies.workflow.texts import co_units_cc, draft_texts

logger = logging.getLogger(__name__)

#: Asked by ``publish_reply`` inside its transaction, after its own guards, each with
#: ``(reply, actor=…)``; one may refuse by raising a workflow error. The ``publication`` app
#: registers its redaction review here (``replies`` never imports the apps above it).
PUBLISH_CHECKS: list[Callable[..., None]] = []


@transaction.atomic
def start_reply(
    assignment: Assignment | int, *, actor: User, kind: str = Reply.Kind.REPLY
) -> Reply:
    """A new draft for a lead or separate assignment, prefilled from the proposal and unit."""
    pk = assignment.pk if isinstance(assignment, Assignment) else assignment
    audit.hold_before_row_locks()
    assignment = (
        Assignment.objects.select_for_update()
        .select_related("proposal__session", "proposal__lead_proposer", "unit")
        .get(pk=pk)
    )
    _require_clerk(actor, assignment.unit_id)
    if assignment.role == Assignment.Role.CO:
        raise WrongState(_("会办单位出具会办意见，不直接答复提案者。"))
    if kind not in Reply.Kind.values:
        raise InvalidInput(_("答复类型无效。"), field="kind")
    if kind == Reply.Kind.FOLLOW_UP:
        if assignment.state != AssignmentState.REPLIED:
            raise WrongState(_("已答复后才能再次答复。"))
    elif assignment.state != AssignmentState.ACCEPTED:
        raise WrongState(
            _("交办状态为“%(s)s”，签收后才能起草答复。") % {"s": assignment.get_state_display()}
        )
    open_draft = assignment.replies.filter(
        state__in=[ReplyState.DRAFT, ReplyState.PENDING_SIGNATURE]
    ).first()
    if open_draft is not None:
        raise WrongState(_("此件已有未签发的答复稿，请继续编辑该稿。"))
    if kind == Reply.Kind.REPLY and assignment.round > 1:
        kind = Reply.Kind.REHANDLING
    proposal = assignment.proposal
    texts = draft_texts(proposal)
    unit = assignment.unit
    previous = assignment.replies.filter(state__in=[ReplyState.SENT, ReplyState.PUBLISHED]).first()
    title = texts["title"]
    if kind == Reply.Kind.FOLLOW_UP:
        title = title.replace("的答复", "的再次答复")
    reply = Reply.objects.create(
        assignment=assignment,
        proposal=proposal,
        unit=unit,
        round=assignment.round,
        kind=kind,
        title=title,
        salutation=texts["salutation"],
        body=texts["opening"] + "\n",
        closing=texts["closing"],
        contact_person=unit.contact_name,
        contact_phone=unit.contact_phone or unit.phone,
        contact_address=unit.address,
        contact_postcode=unit.postcode,
        cc=co_units_cc(proposal),
        result_label=previous.result_label if previous else "",
        result_class=previous.result_class if previous else "",
        disclosure=previous.disclosure if previous else Disclosure.PUBLIC,
        last_edited_by=actor,
    )
    _audit(reply, "start", actor, "", reply.state, note=reply.get_kind_display())
    return reply


@transaction.atomic
def edit_reply(reply: Reply | int, *, actor: User, version: int, **fields: Any) -> Reply:
    """Save a draft. ``version`` is the one the editor read: a stale one is refused."""
    return _edit(REPLY_KIND, _lock(REPLY_KIND, reply), actor=actor, version=version, fields=fields)


def missing_opinions(reply: Reply) -> list[Assignment]:
    """Co-handling assignments of the proposal whose opinion has not reached the lead unit."""
    return list(
        Assignment.objects.active()
        .filter(proposal_id=reply.proposal_id, role=Assignment.Role.CO)
        .exclude(state=AssignmentState.OPINION_SENT)
        .select_related("unit")
    )


@transaction.atomic
def submit_reply(reply: Reply | int, *, actor: User, override_reason: str = "") -> Reply:
    """To the signer. Every co-handling opinion must be in, or the reason recorded."""
    reply = _lock(REPLY_KIND, reply)
    REPLY_KIND.check("submit", reply.state)
    _require_clerk(actor, reply.unit_id)
    _check_complete(REPLY_KIND, reply)
    missing = missing_opinions(reply)
    note = ""
    if missing:
        names = "、".join(str(a.unit) for a in missing)
        if not override_reason.strip():
            raise InvalidInput(
                _("尚缺 %(units)s 的会办意见。如需先行提交，请填写理由。") % {"units": names},
                field="override_reason",
            )
        reply.opinion_override_reason = override_reason.strip()
        note = _("缺 %(units)s 会办意见：%(reason)s") % {
            "units": names,
            "reason": reply.opinion_override_reason,
        }
    events.emit("awaiting_signature", reply_id=reply.pk)
    return _move(REPLY_KIND, reply, "submit", actor, note=note, fields=["opinion_override_reason"])


@transaction.atomic
def return_reply(reply: Reply | int, *, actor: User, comment: str) -> Reply:
    """The signer sends the draft back with a comment."""
    reply = _lock(REPLY_KIND, reply)
    REPLY_KIND.check("return", reply.state)
    _require_signer(actor, reply.unit_id)
    reply.return_comment = _required_text(comment, _("退回意见"), "comment")
    return _move(
        REPLY_KIND, reply, "return", actor, note=reply.return_comment, fields=["return_comment"]
    )


@transaction.atomic
def sign_reply(reply: Reply | int, *, actor: User) -> Reply:
    """签发: the 文号 and 成文日期 are set, the text frozen; the PDF follows on commit."""
    reply = _lock(REPLY_KIND, reply)
    _sign(REPLY_KIND, reply, actor=actor)
    return reply


def _require_pdf(reply: Reply) -> None:
    """送达 hands the proposers the signed PDF, so it must exist first.

    A letter in 生成失败 is refused until someone runs 重新生成 (``rerender_pdf``). One whose
    render simply has not run yet (the worker is busy or down) is rendered here, in the
    sending transaction: if that fails, 送达 is refused with the reason and nothing is saved.
    """
    if reply.pdf_sha256:
        return
    if has_pdf(reply):
        raise WrongState(
            _("签发件记录不完整（缺少 SHA-256），不能送达，也不会重新生成。请联系系统管理员核查。"),
            code="pdf_damaged",
        )
    if reply.pdf_failed:
        raise WrongState(
            _("签发件生成失败（%(reason)s），不能送达。请先“重新生成签发件”，生成后再送达。")
            % {"reason": (reply.pdf_error or _("原因不明")).rstrip("。")},
            code="pdf_failed",
        )
    try:
        with transaction.atomic():
            _store_pdf(reply, REPLY_KIND.code)
    except DatabaseError:
        raise
    except Exception as exc:
        logger.warning("reply %s: rendering the PDF at 送达 failed", reply.pk, exc_info=True)
        raise WrongState(
            _("签发件尚未生成，现在生成也失败了（%(reason)s），不能送达。请稍后再试。")
            % {"reason": pdf_failure_reason(exc).rstrip("。")},
            code="pdf_missing",
        ) from exc


@transaction.atomic
def send_reply(reply: Reply | int, *, actor: User) -> Reply:
    """The signed reply goes to the proposers; the assignment (and maybe proposal) is replied."""
    reply = _lock(REPLY_KIND, reply)
    REPLY_KIND.check("send", reply.state)
    _require_clerk(actor, reply.unit_id)
    _require_pdf(reply)
    reply.sent_at = _now()
    _move(REPLY_KIND, reply, "send", actor, fields=["sent_at"])
    events.emit("reply_sent", reply_id=reply.pk)
    if reply.supersedes_id is None and reply.kind != Reply.Kind.FOLLOW_UP:
        mark_assignment_replied(reply.assignment_id, actor=actor, on=_today())
    return reply


@transaction.atomic
def publish_reply(reply: Reply | int, *, actor: User) -> Reply:
    """主动公开: only public replies, only once sent; 公开日期 is today."""
    reply = _lock(REPLY_KIND, reply)
    REPLY_KIND.check("publish", reply.state)
    if not (actor.is_committee or reply.unit_id in actor.unit_ids()):
        raise NotAllowed(_("只有承办单位或提案委员会可以公开答复。"))
    if reply.disclosure != Disclosure.PUBLIC:
        raise WrongState(
            _("公开属性为“%(d)s”的答复不能主动公开。") % {"d": reply.get_disclosure_display()}
        )
    for check in PUBLISH_CHECKS:
        check(reply, actor=actor)
    reply.published_on = _today()
    return _move(REPLY_KIND, reply, "publish", actor, fields=["published_on"])


@transaction.atomic
def supersede_reply(reply: Reply | int, *, actor: User, reason: str) -> Reply:
    """A correction: a new draft copying the signed reply, which stays as it was."""
    old = _lock(REPLY_KIND, reply)
    if old.state in {ReplyState.DRAFT, ReplyState.PENDING_SIGNATURE}:
        raise WrongState(_("只有已签发的答复需要更正；草稿可直接修改。"))
    REPLY_KIND.check("supersede", old.state)
    _require_clerk(actor, old.unit_id)
    reason = _required_text(reason, _("更正原因"), "reason")
    if Reply.objects.filter(supersedes=old).exists():
        raise WrongState(_("此答复已有更正稿。"))
    new = Reply.objects.create(
        assignment_id=old.assignment_id,
        proposal_id=old.proposal_id,
        unit_id=old.unit_id,
        round=old.round,
        kind=old.kind,
        supersedes=old,
        last_edited_by=actor,
        result_label=old.result_label,
        result_class=old.result_class,
        disclosure=old.disclosure,
        **{f: getattr(old, f) for f in EDITABLE_FIELDS},
    )
    _audit(new, "supersede", actor, "", new.state, note=f"{old.doc_number or old.pk}：{reason}")
    return new


def result_history(assignment: Assignment) -> list[Reply]:
    """The sent replies of an assignment in order: a follow-up may upgrade the result."""
    return list(
        assignment.replies.filter(state__in=[ReplyState.SENT, ReplyState.PUBLISHED]).order_by(
            "signed_at"
        )
    )


# --- Co-handling opinions -------------------------------------------------------------------
