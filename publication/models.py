"""What publication keeps beside a reply: its public text, the redaction flags and the search
entry.

The signed reply never changes (``replies.models.LetterFields``); what the public reads is the
``PublicText`` written when it is published — the reply's text with the confirmed personal data
masked — and its own PDF rendered from that text. ``SearchEntry`` holds the segmented words the
database's full-text engine indexes (``publication.search``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from proposals.models import User
from replies.models import Reply


class RedactionFlag(models.Model):
    """One stretch of would-be public text that looks like personal data, and the clerk's
    decision on it: mask it in the public text, or keep it (with a reason)."""

    class Kind(models.TextChoices):
        MOBILE = "mobile", _("手机号码")
        LANDLINE = "landline", _("个人固定电话")
        ID_CARD = "id_card", _("身份证号码")
        EMAIL = "email", _("电子邮箱")
        BANK_CARD = "bank_card", _("银行卡号")
        ADDRESS = "address", _("住址门牌")

    class Decision(models.TextChoices):
        PENDING = "pending", _("待确认")
        MASK = "mask", _("遮蔽")
        KEEP = "keep", _("保留")

    reply = models.ForeignKey(
        Reply, on_delete=models.CASCADE, related_name="redaction_flags", verbose_name=_("答复")
    )
    field = models.CharField(_("所在部分"), max_length=20)
    start = models.PositiveIntegerField(_("起始位置"))
    end = models.PositiveIntegerField(_("结束位置"))
    text = models.CharField(_("内容"), max_length=200)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    decision = models.CharField(
        _("处理"), max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    reason = models.TextField(_("保留理由"), blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("确认人")
    )
    decided_at = models.DateTimeField(_("确认时间"), null=True)

    class Meta:
        verbose_name = _("公开前个人信息标记")
        verbose_name_plural = _("公开前个人信息标记")
        ordering = ["reply", "field", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["reply", "field", "start", "end"], name="redaction_flag_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.text}"


class PublicText(models.Model):
    """The public rendition of a published reply: its texts with confirmed items masked."""

    reply = models.OneToOneField(
        Reply, on_delete=models.CASCADE, related_name="public_text", verbose_name=_("答复")
    )
    title = models.CharField(_("标题"), max_length=200)
    salutation = models.CharField(_("称谓"), max_length=100)
    body = models.TextField(_("正文"))
    closing = models.TextField(_("结束语"), blank=True)
    masked = models.PositiveSmallIntegerField(_("遮蔽处数"), default=0)
    pdf = models.FileField(_("公开版PDF"), upload_to="public/%Y/", blank=True)
    pdf_sha256 = models.CharField(_("公开版PDF SHA-256"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("公开文本")
        verbose_name_plural = _("公开文本")

    def __str__(self) -> str:
        return self.title


class SearchEntry(models.Model):
    """The words of a published reply, segmented by jieba and joined by spaces: PostgreSQL's
    ``simple`` configuration (a ``tsvector`` column with a GIN index, added by migration 0002)
    and SQLite's FTS5 (a virtual table kept by triggers) both index them as they are."""

    reply = models.OneToOneField(
        Reply, on_delete=models.CASCADE, related_name="search_entry", verbose_name=_("答复")
    )
    head = models.TextField(_("标题与单位（分词）"))
    body = models.TextField(_("正文（分词）"))
    published_on = models.DateField(_("公开日期"))

    class Meta:
        verbose_name = _("检索条目")
        verbose_name_plural = _("检索条目")

    def __str__(self) -> str:
        return str(self.reply_id)


class PublicState(models.Model):
    """One row: a token that changes in the transaction of every publication or correction.

    Cached public pages and API answers are keyed by it (``replies.api.public_cache``), so a
    commit that changes what the public sees makes every cached copy stale at once, and no
    request can cache the old answer under the new token.
    """

    token = models.CharField(_("版本标记"), max_length=32)
    changed_at = models.DateTimeField(_("变更时间"))

    class Meta:
        verbose_name = _("公开内容版本")
        verbose_name_plural = _("公开内容版本")

    def __str__(self) -> str:
        return self.token


class PublicationQueue(Reply):
    """Sent, 主动公开 replies not yet published: the clerk's list for the review (admin)."""

    class Meta:
        proxy = True
        verbose_name = _("待公开答复（个人信息审查）")
        verbose_name_plural = _("待公开答复（个人信息审查）")
