"""Replies and co-handling opinions: one function per verb.

Drafting, signing with a 文号, sending, feedback, re-handling, publication, follow-ups and
corrections. Each function is atomic, locks its row, asks the guard, saves only what it
changed and writes one audit row (``proposals.workflow.record_transition``). A signed letter
never changes: a correction is a new reply that supersedes it.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals import audit, events, outbox, permissions
from proposals import workflow as pwf
from proposals.models import Assignment, AssignmentState, Membership, Proposal, Proposer, User
from proposals.workflow import InvalidInput, NotAllowed, WorkflowError, WrongState, check_state
from replies.letter import Contact, Letter, LetterFormat, LetterKind, parse_body
from replies.models import (
    OPINION_TRANSITIONS,
    REPLY_TRANSITIONS,
    CoOpinion,
    Disclosure,
    DocNumberCounter,
    Feedback,
    OpinionState,
    Reply,
    ReplyState,
    result_class_for,
)

logger = logging.getLogger(__name__)


class StaleVersion(WorkflowError):
    code = "stale_version"


class PdfRenderFailed(RuntimeError):
    """A signed letter's render failed and will be tried again (``render_signed_pdf`` retries
    it with backoff); the failure is already recorded on the letter."""


def _now() -> datetime.datetime:
    return timezone.now()


def _today() -> datetime.date:
    return timezone.localdate()


# --- Text the drafts start from -------------------------------------------------------------


def proposal_number_text(proposal: Proposal) -> str:
    """``第061号`` as the title prints it, whatever the session's scheme."""
    number = proposal.number or ""
    if number.startswith("第"):
        return number
    return f"第{number}号"


def addressee(proposers: list[Proposer]) -> str:
    """Who a reply speaks to, without the colon (docs/domain.md, Salutations).

    One member ``张文浩委员``; two or three ``钱建峰、施美芳委员``; more: the first three and 等;
    a group, a party or an organisation by its name.
    """
    if not proposers:
        return ""
    lead = proposers[0]
    if lead.kind != Proposer.Kind.MEMBER:
        return lead.name
    members = [p.name for p in proposers if p.kind == Proposer.Kind.MEMBER]
    if len(members) <= 3:
        return f"{'、'.join(members)}委员"
    return f"{'、'.join(members[:3])}等委员"


def draft_texts(proposal: Proposal, *, opinion_to: str = "") -> dict[str, str]:
    """Title, salutation, opening and closing a new draft starts with."""
    session = proposal.session
    who = addressee(proposal.proposers())
    number = proposal_number_text(proposal)
    about = f"区政协{session.name}{number}提案"
    if opinion_to:
        return {
            "title": f"关于对{about}的会办意见",
            "salutation": f"{opinion_to}：",
            "opening": f"{who}提出的《{proposal.title}》的提案收悉，经研究，现提出会办意见如下：",
            "closing": "以上意见供你单位统一答复提案者时参考。",
        }
    return {
        "title": f"对{about}的答复",
        "salutation": f"{who}：",
        "opening": f"{who}提出的《{proposal.title}》的提案收悉，经研究，现将办理情况答复如下：",
        "closing": "感谢对我们工作的关心和支持，欢迎继续提出宝贵意见和建议。",
    }


# --- Shared guards --------------------------------------------------------------------------


def _require_signer(actor: User, unit_id: int) -> None:
    if not permissions.may_sign(actor, unit_id):
        raise NotAllowed(_("只有本单位的签发人可以签发或退回。"))


def _require_clerk(actor: User, unit_id: int) -> None:
    """Drafting is the unit's work: its clerks and signers (never the committee for them)."""
    if not Membership.objects.filter(user=actor, unit_id=unit_id, user__is_active=True).exists():
        raise NotAllowed(_("您不是该承办单位的工作人员，不能办理此件。"))


def _audit(obj: Model, verb: str, actor: User | None, before: str, after: str, note: str = ""):
    return pwf.record_transition(
        obj,
        actor=actor,
        verb=verb,
        from_state=before,
        to_state=after,
        note=note,
        proposal=obj.proposal,
    )


def _move(obj: Reply | CoOpinion, verb: str, actor: User | None, note: str = "", fields=()):
    table = REPLY_TRANSITIONS if isinstance(obj, Reply) else OPINION_TRANSITIONS
    labels = ReplyState if isinstance(obj, Reply) else OpinionState
    before = obj.state
    obj.state = check_state(table, verb, before, labels)
    obj.save(update_fields=["state", "updated_at", *fields])
    _audit(obj, verb, actor, before, obj.state, note)
    return obj


def _lock(model: type[Reply] | type[CoOpinion], obj: Any):
    pk = obj.pk if isinstance(obj, Model) else obj
    audit.hold_before_row_locks()  # the chain first, then rows: no deadlock with an append
    return model.objects.select_for_update().select_related("unit", "proposal").get(pk=pk)


EDITABLE_FIELDS = (
    "title",
    "salutation",
    "body",
    "closing",
    "contact_person",
    "contact_phone",
    "contact_address",
    "contact_postcode",
    "cc",
)
REPLY_EDITABLE_FIELDS = (*EDITABLE_FIELDS, "result_label", "disclosure")


def _edit(obj: Reply | CoOpinion, *, actor: User, version: int, fields: dict[str, Any]):
    allowed = REPLY_EDITABLE_FIELDS if isinstance(obj, Reply) else EDITABLE_FIELDS
    check_state(
        REPLY_TRANSITIONS if isinstance(obj, Reply) else OPINION_TRANSITIONS,
        "edit",
        obj.state,
        ReplyState if isinstance(obj, Reply) else OpinionState,
    )
    _require_clerk(actor, obj.unit_id)
    if version != obj.version:
        who = obj.last_edited_by or _("他人")
        raise StaleVersion(
            _("%(who)s 已于 %(at)s 保存了新的版本，您的修改未保存。请复制您的修改，刷新后再编辑。")
            % {"who": who, "at": timezone.localtime(obj.updated_at).strftime("%Y-%m-%d %H:%M")}
        )
    unknown = set(fields) - set(allowed)
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
    if isinstance(obj, Reply):
        obj.result_class = result_class_for(obj.result_label)
    obj.version += 1
    obj.last_edited_by = actor
    extra = ["result_class"] if isinstance(obj, Reply) else []
    obj.save(update_fields=[*fields, *extra, "version", "last_edited_by", "updated_at"])
    _audit(obj, "edit", actor, obj.state, obj.state, note=_("第%(v)s版") % {"v": obj.version})
    return obj


def _check_complete(obj: Reply | CoOpinion) -> None:
    required_text = pwf.required_text
    required_text(obj.title, _("标题"), "title")
    required_text(obj.salutation, _("称谓"), "salutation")
    required_text(obj.body, _("正文"), "body")
    if isinstance(obj, Reply):
        required_text(obj.result_label, _("办理结果"), "result_label")


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


def _sign(obj: Reply | CoOpinion, *, actor: User) -> None:
    check_state(
        REPLY_TRANSITIONS if isinstance(obj, Reply) else OPINION_TRANSITIONS,
        "sign",
        obj.state,
        ReplyState if isinstance(obj, Reply) else OpinionState,
    )
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
    _render_on_commit(obj)


def _require_renderable(obj: Reply | CoOpinion) -> None:
    """A letter over the size rules would never get its PDF, so it cannot be signed. Checked on
    the letter exactly as it will print (文号, 签发人, 印发 set); the refusal rolls the signing
    back, 文号 included (``replies.pdf.check_letter_size``: the rule of saving and rendering)."""
    from replies.pdf import LetterTooLarge, check_letter_size

    try:
        check_letter_size(f"{obj.body}\n{obj.closing}")  # as typed, before parsing it
        check_letter_size(letter_for(obj, draft=False))
    except LetterTooLarge as exc:
        raise InvalidInput(exc.message, field="body", code="letter_too_large") from exc


def _render_on_commit(obj: Reply | CoOpinion) -> None:
    """Queue the PDF's render once the transaction commits; with the broker down the task waits
    in the outbox (``proposals.outbox``) and the action still succeeds."""
    from replies import tasks  # the task module imports this one

    outbox.on_commit(tasks.render_signed_pdf, _kind(obj), obj.pk)


def _kind(obj: Reply | CoOpinion) -> str:
    return "reply" if isinstance(obj, Reply) else "opinion"


# --- Replies --------------------------------------------------------------------------------


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
    return _edit(_lock(Reply, reply), actor=actor, version=version, fields=fields)


def reply_proposers(reply: Reply) -> list[Proposer]:
    """Everyone a reply answers: its proposal's proposers and those of proposals merged in."""
    proposal = reply.proposal
    proposers = list(proposal.proposers())
    for merged in proposal.merged_proposals.all():
        proposers += merged.proposers()
    unique: dict[int, Proposer] = {}
    for p in proposers:
        unique.setdefault(p.pk, p)
    return list(unique.values())


def feedback_speaker(reply: Reply, proposer: Proposer) -> Proposer | None:
    """Whom ``proposer`` answers for on ``reply``: themselves when the reply answers them,
    otherwise the first group among its proposers that they convene."""
    answers = reply_proposers(reply)
    if any(p.pk == proposer.pk for p in answers):
        return proposer
    groups = {p.pk: p for p in answers if p.kind != Proposer.Kind.MEMBER}
    if not groups:
        return None
    convened = set(proposer.convened_groups.filter(pk__in=groups).values_list("pk", flat=True))
    return next((g for pk, g in groups.items() if pk in convened), None)


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
    reply = _lock(Reply, reply)
    check_state(REPLY_TRANSITIONS, "submit", reply.state, ReplyState)
    _require_clerk(actor, reply.unit_id)
    _check_complete(reply)
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
    return _move(reply, "submit", actor, note=note, fields=["opinion_override_reason"])


@transaction.atomic
def return_reply(reply: Reply | int, *, actor: User, comment: str) -> Reply:
    """The signer sends the draft back with a comment."""
    reply = _lock(Reply, reply)
    check_state(REPLY_TRANSITIONS, "return", reply.state, ReplyState)
    _require_signer(actor, reply.unit_id)
    reply.return_comment = pwf.required_text(comment, _("退回意见"), "comment")
    return _move(reply, "return", actor, note=reply.return_comment, fields=["return_comment"])


@transaction.atomic
def sign_reply(reply: Reply | int, *, actor: User) -> Reply:
    """签发: the 文号 and 成文日期 are set, the text frozen; the PDF follows on commit."""
    reply = _lock(Reply, reply)
    _sign(reply, actor=actor)
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
            _store_pdf(reply, "reply")
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
    reply = _lock(Reply, reply)
    check_state(REPLY_TRANSITIONS, "send", reply.state, ReplyState)
    _require_clerk(actor, reply.unit_id)
    _require_pdf(reply)
    reply.sent_at = _now()
    _move(reply, "send", actor, fields=["sent_at"])
    events.emit("reply_sent", reply_id=reply.pk)
    if reply.supersedes_id is None and reply.kind != Reply.Kind.FOLLOW_UP:
        pwf.mark_assignment_replied(reply.assignment_id, actor=actor, on=_today())
    return reply


@transaction.atomic
def publish_reply(reply: Reply | int, *, actor: User) -> Reply:
    """主动公开: only public replies, only once sent; 公开日期 is today."""
    reply = _lock(Reply, reply)
    check_state(REPLY_TRANSITIONS, "publish", reply.state, ReplyState)
    if not (actor.is_committee or reply.unit_id in actor.unit_ids()):
        raise NotAllowed(_("只有承办单位或提案委员会可以公开答复。"))
    if reply.disclosure != Disclosure.PUBLIC:
        raise WrongState(
            _("公开属性为“%(d)s”的答复不能主动公开。") % {"d": reply.get_disclosure_display()}
        )
    reply.published_on = _today()
    return _move(reply, "publish", actor, fields=["published_on"])


@transaction.atomic
def record_feedback(
    reply: Reply | int,
    *,
    actor: User,
    proposer: Proposer | int,
    rating: str,
    on_work: str = "",
    on_result: str = "",
    comment: str = "",
    channel: str = Feedback.Channel.ONLINE,
) -> Feedback:
    """A proposer's answer, once per reply. 不满意 reopens the assignment for re-handling."""
    reply = _lock(Reply, reply)
    if reply.state not in REPLY_TRANSITIONS["feedback"][0]:
        raise WrongState(_("答复送达后才能反馈意见。"))
    proposer_id = proposer.pk if isinstance(proposer, Proposer) else proposer
    proposal = reply.proposal
    proposers = {p.pk: p for p in reply_proposers(reply)}
    if proposer_id not in proposers:
        raise InvalidInput(_("只有本件提案的提案者可以反馈。"), field="proposer")
    speaker = proposers[proposer_id]
    own = speaker.user_id == actor.pk
    # A group's convener 召集人 answers for the group (界别组, 党派 …).
    convener = (
        not own
        and speaker.kind != Proposer.Kind.MEMBER
        and speaker.conveners.filter(user=actor, user__isnull=False).exists()
    )
    if not (own or convener or actor.is_committee or reply.unit_id in actor.unit_ids()):
        raise NotAllowed(_("您不能代替该提案者反馈意见。"))
    if channel not in Feedback.Channel.values:
        raise InvalidInput(_("反馈方式无效。"), field="channel")
    for name, value in (("rating", rating), ("on_work", on_work), ("on_result", on_result)):
        if (value or name == "rating") and value not in Feedback.Rating.values:
            raise InvalidInput(_("请选择满意、基本满意或不满意。"), field=name)
    if Feedback.objects.filter(reply=reply, proposer_id=proposer_id).exists():
        raise WrongState(_("已收到该提案者对此答复的意见，每份答复只能反馈一次。"))
    fb = Feedback.objects.create(
        reply=reply,
        proposal=proposal,
        proposer_id=proposer_id,
        rating=rating,
        on_work=on_work,
        on_result=on_result,
        comment=comment.strip(),
        channel=channel,
        received_at=_now(),
        recorded_by=actor,
    )
    pwf.record_transition(
        fb,
        actor=actor,
        verb="feedback",
        to_state=rating,
        note=f"{proposers[proposer_id]} {fb.get_rating_display()}",
        proposal=proposal,
    )
    if rating == Feedback.Rating.NOT_SATISFIED:
        events.emit("feedback_not_satisfied", feedback_id=fb.pk)
        assignment = Assignment.objects.get(pk=reply.assignment_id)
        if assignment.state == AssignmentState.REPLIED:
            pwf.reopen_assignment(
                assignment,
                actor=actor,
                reason=_("%(p)s 对答复不满意") % {"p": proposers[proposer_id]},
                on=_today(),
            )
    return fb


@transaction.atomic
def supersede_reply(reply: Reply | int, *, actor: User, reason: str) -> Reply:
    """A correction: a new draft copying the signed reply, which stays as it was."""
    old = _lock(Reply, reply)
    if old.state in {ReplyState.DRAFT, ReplyState.PENDING_SIGNATURE}:
        raise WrongState(_("只有已签发的答复需要更正；草稿可直接修改。"))
    check_state(REPLY_TRANSITIONS, "supersede", old.state, ReplyState)
    _require_clerk(actor, old.unit_id)
    reason = pwf.required_text(reason, _("更正原因"), "reason")
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


_DOC_NUMBER = re.compile(r"^(?P<prefix>.+?)〔(?P<year>\d{4})〕(?P<number>\d+)号$")


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
    pwf.require_committee(actor)
    pk = assignment.pk if isinstance(assignment, Assignment) else assignment
    audit.hold_before_row_locks()
    assignment = Assignment.objects.select_for_update().select_related("unit").get(pk=pk)
    if assignment.role == Assignment.Role.CO:
        raise WrongState(_("会办单位不直接答复提案者。"))
    unit = assignment.unit
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
        pwf.mark_assignment_replied(assignment, actor=actor, on=on)
    _render_on_commit(reply)
    return reply


def result_history(assignment: Assignment) -> list[Reply]:
    """The sent replies of an assignment in order: a follow-up may upgrade the result."""
    return list(
        assignment.replies.filter(state__in=[ReplyState.SENT, ReplyState.PUBLISHED]).order_by(
            "signed_at"
        )
    )


# --- Co-handling opinions -------------------------------------------------------------------


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
    return _edit(_lock(CoOpinion, opinion), actor=actor, version=version, fields=fields)


@transaction.atomic
def submit_opinion(opinion: CoOpinion | int, *, actor: User) -> CoOpinion:
    opinion = _lock(CoOpinion, opinion)
    check_state(OPINION_TRANSITIONS, "submit", opinion.state, OpinionState)
    _require_clerk(actor, opinion.unit_id)
    _check_complete(opinion)
    events.emit("awaiting_signature", opinion_id=opinion.pk)
    return _move(opinion, "submit", actor)


@transaction.atomic
def return_opinion(opinion: CoOpinion | int, *, actor: User, comment: str) -> CoOpinion:
    opinion = _lock(CoOpinion, opinion)
    check_state(OPINION_TRANSITIONS, "return", opinion.state, OpinionState)
    _require_signer(actor, opinion.unit_id)
    opinion.return_comment = pwf.required_text(comment, _("退回意见"), "comment")
    return _move(opinion, "return", actor, note=opinion.return_comment, fields=["return_comment"])


@transaction.atomic
def sign_opinion(opinion: CoOpinion | int, *, actor: User) -> CoOpinion:
    opinion = _lock(CoOpinion, opinion)
    _sign(opinion, actor=actor)
    return opinion


@transaction.atomic
def deliver_opinion(opinion: CoOpinion | int, *, actor: User) -> CoOpinion:
    """The signed opinion reaches the lead unit; the co assignment is done."""
    opinion = _lock(CoOpinion, opinion)
    check_state(OPINION_TRANSITIONS, "deliver", opinion.state, OpinionState)
    _require_clerk(actor, opinion.unit_id)
    opinion.delivered_at = _now()
    _move(opinion, "deliver", actor, fields=["delivered_at"])
    pwf.mark_opinion_sent(opinion.assignment_id, actor=actor, on=_today())
    return opinion


# --- The printed letter and its PDF ---------------------------------------------------------


def letter_for(obj: Reply | CoOpinion, *, draft: bool | None = None) -> Letter:
    """The Letter a reply or opinion prints (a draft preview carries the 草稿 mark)."""
    unit = obj.unit
    is_reply = isinstance(obj, Reply)
    if is_reply:
        kind = LetterKind.FOLLOW_UP if obj.kind == Reply.Kind.FOLLOW_UP else LetterKind.REPLY
    else:
        kind = LetterKind.CO_OPINION
    body = parse_body(obj.body + ("\n" + obj.closing if obj.closing else ""))
    signed = obj.signed_on is not None
    disclosure = obj.get_disclosure_display() if is_reply else ""
    public = is_reply and obj.disclosure == Disclosure.PUBLIC
    return Letter(
        kind=kind,
        format=LetterFormat(unit.letter_format),
        result_label=obj.result_label if is_reply else "",
        disclosure=str(disclosure),
        organs=(unit.organ_name,),
        doc_number=obj.doc_number,
        signer=obj.signer_name,
        title=obj.title,
        salutation=obj.salutation,
        body=body,
        signature_organ=unit.organ_name,
        date=obj.signed_on or _today(),
        note="此件公开发布" if public else "",
        contact=Contact(
            person=obj.contact_person,
            phone=obj.contact_phone,
            address=obj.contact_address,
            postcode=obj.contact_postcode,
        ),
        cc=tuple(x for x in obj.cc.replace("，", "、").split("、") if x.strip()),
        # 信函 carries no 印发 row (GB/T 9704 §10.2); a document prints its own organ.
        printed_by=unit.organ_name if signed and unit.letter_format == "document" else "",
        printed_on=obj.signed_on,
        draft=(not signed) if draft is None else draft,
    )


def render_pdf(obj: Reply | CoOpinion) -> bytes:
    from replies.pdf import render_letter_pdf

    return render_letter_pdf(letter_for(obj))


#: A signed letter whose PDF is still missing after this is late: its render was lost, or the
#: worker is not running (the hourly sweep queues it again; the dashboards show it).
RENDER_GRACE = datetime.timedelta(minutes=15)


def pdf_late(obj: Reply | CoOpinion, *, now: datetime.datetime | None = None) -> bool:
    """Signed more than ``RENDER_GRACE`` ago and still without its PDF (生成失败 or not)."""
    if obj.signed_at is None or obj.pdf_sha256:
        return False
    return obj.pdf_failed_at is not None or obj.signed_at < (now or _now()) - RENDER_GRACE


def unrendered_letters(
    *, now: datetime.datetime | None = None, grace: datetime.timedelta, limit: int
) -> list[tuple[str, int]]:
    """Signed letters whose PDF was never stored though they were signed more than ``grace``
    ago: their render task was lost (the broker lost it, a worker died for good). Letters in
    生成失败 are not here: they wait for a person (``rerender_pdf``). Oldest first, at most
    ``limit``."""
    cutoff = (now or timezone.now()) - grace
    found: list[tuple[str, int]] = []
    for kind, model in (("reply", Reply), ("opinion", CoOpinion)):
        ids = (
            model.objects.filter(signed_at__lt=cutoff, pdf_failed_at__isnull=True)
            .filter(pdf_sha256="", pdf="", pdf_size__isnull=True)
            .order_by("signed_at", "pk")
            .values_list("pk", flat=True)[: limit - len(found)]
        )
        found += [(kind, pk) for pk in ids]
    return found


class PdfAlreadyStored(RuntimeError):
    """A letter that has (or had) a signed PDF is never rendered again (``has_pdf``)."""


def has_pdf(obj: Reply | CoOpinion) -> bool:
    """Whether a signed PDF was ever stored: a file, a hash or a size. Any one is enough to
    refuse a new render: a letter whose hash was cleared behind the application's back must
    not get a second "signed" PDF printed from what its row says now."""
    return bool(obj.pdf_sha256 or obj.pdf or obj.pdf_size is not None)


def store_signed_pdf(kind: str, pk: int, *, max_attempts: int = 1) -> bool:
    """Render a signed letter and store it with its hash; a second call does nothing.

    Returns True when a file was written. Runs in the Celery PDF queue. A failure (the
    renderer raising, a missing font, an unwritable ``MEDIA_ROOT``, the time limit) is
    recorded on the letter — one more attempt, the reason — in a transaction of its own. Once
    the letter has failed ``max_attempts`` times it is 生成失败 (``pdf_failed_at``, audited)
    and this returns False; before that it raises ``PdfRenderFailed`` for the task to retry.
    """
    model = Reply if kind == "reply" else CoOpinion
    try:
        with transaction.atomic():
            obj = model.objects.select_for_update(of=("self",)).select_related("unit").get(pk=pk)
            if obj.signed_on is None or obj.pdf_sha256:
                return False
            if has_pdf(obj):
                logger.error("%s %s: a PDF is recorded without its hash; not rendered", kind, pk)
                return False
            _store_pdf(obj, kind)
        return True
    except (DatabaseError, model.DoesNotExist):
        raise
    except Exception as exc:
        failure = exc
    reason = pdf_failure_reason(failure)
    if _record_pdf_failure(model, pk, reason, max_attempts):
        logger.error(
            "%s %s: rendering the signed PDF failed: %s", kind, pk, reason, exc_info=failure
        )
        return False
    logger.warning("%s %s: rendering the signed PDF failed, will retry: %s", kind, pk, reason)
    raise PdfRenderFailed(reason) from failure


def _store_pdf(obj: Reply | CoOpinion, kind: str) -> None:
    """Render the signed letter and save the file, its hash and size; clear any failure.
    Once only: the database refuses to overwrite a stored PDF, and so does this."""
    if has_pdf(obj):
        raise PdfAlreadyStored(f"{kind} {obj.pk} already has its signed PDF")
    data = render_pdf(obj)
    digest = hashlib.sha256(data).hexdigest()
    name = f"{kind}-{obj.pk}-{digest[:12]}.pdf"
    obj.pdf.save(name, ContentFile(data), save=False)
    obj.pdf_sha256 = digest
    obj.pdf_size = len(data)
    obj.pdf_attempts = 0
    obj.pdf_error = ""
    obj.pdf_failed_at = None
    obj.save(
        update_fields=[
            "pdf",
            "pdf_sha256",
            "pdf_size",
            "pdf_attempts",
            "pdf_error",
            "pdf_failed_at",
        ]
    )


def pdf_failure_reason(exc: BaseException) -> str:
    """What the admin shows of a failed render (Chinese, with the technical detail)."""
    from replies.pdf import RENDER_TIME_LIMIT, LetterTooLarge

    if isinstance(exc, LetterTooLarge):
        return _("正文过长，无法生成PDF。")
    if isinstance(exc, SoftTimeLimitExceeded):
        return _("生成PDF超时（超过%(n)d秒）。") % {"n": RENDER_TIME_LIMIT}
    if isinstance(exc, OSError):
        where = f"（{exc.filename}）" if getattr(exc, "filename", None) else ""
        return _("读写文件失败%(where)s：%(e)s") % {"where": where, "e": exc.strerror or exc}
    return _("生成PDF出错：%(e)s") % {"e": f"{type(exc).__name__}: {exc}"[:1000]}


def _record_pdf_failure(
    model: type[Reply] | type[CoOpinion], pk: int, reason: str, max_attempts: int
) -> bool:
    """Count a failed render; True when no retry should follow (生成失败, or stored meanwhile)."""
    with transaction.atomic():
        obj = model.objects.select_for_update(of=("self",)).select_related("proposal").get(pk=pk)
        if has_pdf(obj):
            return True
        obj.pdf_attempts += 1
        obj.pdf_error = reason
        fields = ["pdf_attempts", "pdf_error"]
        final = obj.pdf_attempts >= max_attempts
        if final and obj.pdf_failed_at is None:
            obj.pdf_failed_at = _now()
            fields.append("pdf_failed_at")
            note = _("第%(n)d次生成失败：%(reason)s") % {"n": obj.pdf_attempts, "reason": reason}
            _audit(obj, "pdf_failed", None, obj.state, obj.state, note=note)
        obj.save(update_fields=fields)
    return final


@transaction.atomic
def rerender_pdf(letter: Reply | CoOpinion, *, actor: User) -> Reply | CoOpinion:
    """重新生成: a signed letter without its PDF (生成失败, or never rendered) is queued again,
    its failure count reset. The text, the 文号 and the signing stay as they are. The unit's
    staff or the committee; audited with the reason that is being cleared."""
    model = Reply if isinstance(letter, Reply) else CoOpinion
    obj = _lock(model, letter)
    table = REPLY_TRANSITIONS if model is Reply else OPINION_TRANSITIONS
    check_state(table, "rerender", obj.state, ReplyState if model is Reply else OpinionState)
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
    _render_on_commit(obj)
    return obj
