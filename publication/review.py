"""The redaction review between 送达 and 公开: one function per verb, each audited.

``flag_reply`` scans what would become public (title, salutation, body, closing — not the
office's contact block) and records a ``RedactionFlag`` per finding; ``decide_flag`` records
the clerk's decision (遮蔽, or 保留 with a reason); ``prepare_publication`` is what
``publish_reply`` asks first (registered by ``publication.hooks``): it refuses while a flag is
undecided and writes the public text with the masked items, in the publishing transaction.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals.models import User
from proposals.workflow import InvalidInput, NotAllowed, WrongState, record_transition
from publication import redaction, tasks
from publication.models import PublicText, RedactionFlag
from replies.models import Reply, ReplyState

#: The parts of a reply that become public text, in the order a reader sees them.
PUBLIC_FIELDS = ("title", "salutation", "body", "closing")
#: Flags may be decided from signing until publication.
REVIEW_STATES = (ReplyState.SIGNED, ReplyState.SENT)


def _require_reviewer(actor: User, reply: Reply) -> None:
    if not (actor.is_committee or reply.unit_id in actor.unit_ids()):
        raise NotAllowed(_("只有承办单位或提案委员会可以审查公开内容。"))


def flag_reply(reply: Reply) -> list[RedactionFlag]:
    """The reply's flags, scanning it the first time (its text is frozen once signed)."""
    flags = list(reply.redaction_flags.all())
    if flags:
        return flags
    for field in PUBLIC_FIELDS:
        for finding in redaction.scan(getattr(reply, field) or ""):
            flags.append(
                RedactionFlag.objects.get_or_create(
                    reply=reply,
                    field=field,
                    start=finding.start,
                    end=finding.end,
                    defaults={"text": finding.text[:200], "kind": finding.kind},
                )[0]
            )
    return flags


@transaction.atomic
def decide_flag(
    flag: RedactionFlag | int, *, actor: User, decision: str, reason: str = ""
) -> RedactionFlag:
    """遮蔽 or 保留 one flagged item; 保留 needs a reason. Refused once the reply is public."""
    pk = flag.pk if isinstance(flag, RedactionFlag) else flag
    flag = RedactionFlag.objects.select_for_update().select_related("reply").get(pk=pk)
    reply = flag.reply
    _require_reviewer(actor, reply)
    if reply.state not in REVIEW_STATES:
        raise WrongState(_("只有已签发、尚未公开的答复可以审查公开内容。"))
    if decision not in (RedactionFlag.Decision.MASK, RedactionFlag.Decision.KEEP):
        raise InvalidInput(_("请选择“遮蔽”或“保留”。"), field="decision")
    reason = (reason or "").strip()
    if decision == RedactionFlag.Decision.KEEP and not reason:
        raise InvalidInput(_("保留疑似个人信息须说明理由。"), field="reason")
    before = flag.decision
    flag.decision, flag.reason = decision, reason
    flag.decided_by, flag.decided_at = actor, timezone.now()
    flag.save(update_fields=["decision", "reason", "decided_by", "decided_at"])
    note = _("%(kind)s（%(field)s 第%(at)s字）：%(decision)s") % {
        "kind": flag.get_kind_display(),
        "field": flag.field,
        "at": flag.start + 1,
        "decision": flag.get_decision_display(),
    }
    if reason:
        note += _("，理由：%(reason)s") % {"reason": reason}
    record_transition(
        reply,
        actor=actor,
        verb=f"redaction_{decision}",
        from_state=before,
        to_state=decision,
        note=note,
        proposal=reply.proposal,
    )
    return flag


def public_rendition(reply: Reply, flags: list[RedactionFlag]) -> dict[str, str]:
    """The reply's public texts with every 遮蔽 flag masked (and nothing else)."""
    texts = {}
    for field in PUBLIC_FIELDS:
        spans = [
            (f.start, f.end)
            for f in flags
            if f.field == field and f.decision == RedactionFlag.Decision.MASK
        ]
        texts[field] = redaction.mask(getattr(reply, field) or "", spans)
    return texts


def prepare_publication(reply: Reply, *, actor: User) -> None:
    """Asked by ``publish_reply`` inside its transaction: refuse while a flag is undecided,
    else write the public text (masked) that the pages, the search and the public PDF use."""
    flags = flag_reply(reply)
    pending = [f for f in flags if f.decision == RedactionFlag.Decision.PENDING]
    if pending:
        raise WrongState(
            _("公开前须逐项确认 %(n)d 处疑似个人信息（遮蔽或说明理由保留）。") % {"n": len(pending)}
        )
    texts = public_rendition(reply, flags)
    masked = sum(1 for f in flags if f.decision == RedactionFlag.Decision.MASK)
    PublicText.objects.update_or_create(reply=reply, defaults={**texts, "masked": masked})
    if masked:
        reply_id = reply.pk
        transaction.on_commit(lambda: tasks.render_public_pdf.delay(reply_id))
    if flags:  # a clean scan has no decision to record; its public text is the record
        record_transition(
            reply,
            actor=actor,
            verb="redaction_review",
            from_state=reply.state,
            to_state=reply.state,
            note=_("公开前审查：发现%(found)d处，遮蔽%(masked)d处，保留%(kept)d处")
            % {"found": len(flags), "masked": masked, "kept": len(flags) - masked},
            proposal=reply.proposal,
        )
