"""What a reply letter and a co-handling opinion go through: their states, the transition tables
that say which verb moves what where, and the words the audit trail prints for them.

``replies.workflow`` writes the states; the tables are its one rule book (and ``replies.freeze``
derives the database trigger's allowed moves from them). Importing this module adds the replies'
verbs and states to ``proposals.models.VERB_LABELS`` / ``STATE_LABELS``, as ``replies.models``
always did (it imports this module and still exports every name here; split for issue 18).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from proposals.models import STATE_LABELS, VERB_LABELS

VERB_LABELS.update(
    {
        "start": _("起草"),
        "edit": _("修改草稿"),
        "sign": _("签发"),
        "send": _("送达"),
        "publish": _("公开"),
        "deliver": _("送主办单位"),
        "feedback": _("征询意见反馈"),
        "supersede": _("更正"),
        "import": _("导入历史答复"),
        "pdf_failed": _("签发件生成失败"),
        "rerender": _("重新生成签发件"),
    }
)


class Disclosure(models.TextChoices):
    PUBLIC = "public", _("主动公开")
    ON_REQUEST = "on_request", _("依申请公开")
    NOT_PUBLIC = "not_public", _("不予公开")


class DisclosureScope(models.TextChoices):
    """What of a 主动公开 reply is published, as the offices print it after the 公开属性
    (``主动公开 · 全文``); empty when the office prints no scope."""

    FULL = "full", _("全文")
    SUMMARY = "summary", _("摘要")


class ReplyState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING_SIGNATURE = "pending_signature", _("待签发")
    SIGNED = "signed", _("已签发")
    SENT = "sent", _("已送达")
    PUBLISHED = "published", _("已公开")


R = ReplyState
REPLY_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "edit": (frozenset({R.DRAFT}), R.DRAFT),
    "submit": (frozenset({R.DRAFT}), R.PENDING_SIGNATURE),
    "return": (frozenset({R.PENDING_SIGNATURE}), R.DRAFT),
    "sign": (frozenset({R.PENDING_SIGNATURE}), R.SIGNED),
    "send": (frozenset({R.SIGNED}), R.SENT),
    "publish": (frozenset({R.SENT}), R.PUBLISHED),
    # Verbs that act on a reply without moving it:
    "supersede": (frozenset({R.SIGNED, R.SENT, R.PUBLISHED}), ""),
    "feedback": (frozenset({R.SENT, R.PUBLISHED}), ""),
    # A signed letter whose PDF is missing (imported replies are sent or published already).
    "rerender": (frozenset({R.SIGNED, R.SENT, R.PUBLISHED}), ""),
}
del R


class OpinionState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING_SIGNATURE = "pending_signature", _("待签发")
    SIGNED = "signed", _("已签发")
    DELIVERED = "delivered", _("已送主办单位")


O = OpinionState  # noqa: E741
OPINION_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "edit": (frozenset({O.DRAFT}), O.DRAFT),
    "submit": (frozenset({O.DRAFT}), O.PENDING_SIGNATURE),
    "return": (frozenset({O.PENDING_SIGNATURE}), O.DRAFT),
    "sign": (frozenset({O.PENDING_SIGNATURE}), O.SIGNED),
    "deliver": (frozenset({O.SIGNED}), O.DELIVERED),
    "rerender": (frozenset({O.SIGNED, O.DELIVERED}), ""),
}
del O


STATE_LABELS.update({**dict(ReplyState.choices), **dict(OpinionState.choices)})
