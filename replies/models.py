"""Reply letters and co-handling opinions, 文号 counters and proposers' feedback.

As in ``proposals``, states are written only by ``replies.workflow``; the transition tables
(``replies.states``) are the one place that says which verb moves what where.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from proposals.models import (
    Assignment,
    Proposal,
    Proposer,
    Unit,
    User,
    involved_proposal_ids,
    unit_ids_of,
)

# The result classes and labels, and the states with their transition tables, live by subject
# in ``replies.results`` and ``replies.states`` (issue 18); every name stays importable from here.
from replies.results import DEFAULT_RESULT_LABELS_BY_DISTRICT as DEFAULT_RESULT_LABELS_BY_DISTRICT
from replies.results import RESULT_LABELS as RESULT_LABELS
from replies.results import ResultClass as ResultClass
from replies.results import _district_key as _district_key
from replies.results import result_class_for as result_class_for
from replies.results import result_labels_by_district as result_labels_by_district
from replies.results import result_labels_for as result_labels_for
from replies.states import OPINION_TRANSITIONS as OPINION_TRANSITIONS
from replies.states import REPLY_TRANSITIONS as REPLY_TRANSITIONS
from replies.states import Disclosure as Disclosure
from replies.states import DisclosureScope as DisclosureScope
from replies.states import OpinionState as OpinionState
from replies.states import ReplyState as ReplyState


class DocNumberCounter(models.Model):
    """The last 文号 a unit used in a year; locked while the next one is taken."""

    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="+", verbose_name=_("承办单位")
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    last_number = models.PositiveIntegerField(_("已用最大号"), default=0)

    class Meta:
        verbose_name = _("文号计数")
        verbose_name_plural = _("文号计数")
        constraints = [
            models.UniqueConstraint(fields=["unit", "year"], name="docnumber_counter_unit_year")
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.year}: {self.last_number}"


class SignedLetterError(RuntimeError):
    """Raised when code tries to change the text of a signed letter."""


class LetterFields(models.Model):
    """What a reply and a co-handling opinion have in common: the printed letter."""

    title = models.CharField(_("标题"), max_length=200)
    salutation = models.CharField(_("称谓"), max_length=100)
    body = models.TextField(
        _("正文"), help_text=_("从 Word 复制的纯文本；标题按“一、（一）1.（1）”识别。")
    )
    closing = models.TextField(_("结束语"), blank=True)
    contact_person = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    contact_address = models.CharField(_("联系地址"), max_length=200, blank=True)
    contact_postcode = models.CharField(_("邮政编码"), max_length=6, blank=True)
    cc = models.CharField(_("抄送"), max_length=300, blank=True, help_text=_("多个单位用顿号分隔"))
    # Set at signing and frozen with the text.
    signer = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("签发人"),
    )
    signer_name = models.CharField(
        _("签发人姓名"), max_length=50, blank=True, editable=False, help_text=_("按签发时印出")
    )
    docno_prefix = models.CharField(_("文号前缀"), max_length=20, blank=True, editable=False)
    docno_year = models.PositiveSmallIntegerField(_("文号年份"), null=True, editable=False)
    docno_number = models.PositiveIntegerField(_("文号序号"), null=True, editable=False)
    signed_on = models.DateField(_("成文日期"), null=True, editable=False)
    signed_at = models.DateTimeField(_("签发时间"), null=True, editable=False)
    pdf = models.FileField(_("签发件PDF"), upload_to="letters/%Y/", blank=True, editable=False)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True, editable=False)
    pdf_size = models.PositiveIntegerField(_("PDF大小"), null=True, editable=False)
    # How rendering the signed PDF went while it is missing (``store_signed_pdf``): the failed
    # attempts since signing (or the last 重新生成), the last failure's reason, and when the
    # letter gave up (生成失败: shown on the dashboards, 送达 refused, 重新生成 offered).
    pdf_attempts = models.PositiveSmallIntegerField(
        _("签发件生成失败次数"), default=0, editable=False
    )
    pdf_error = models.TextField(_("签发件生成失败原因"), blank=True, editable=False)
    pdf_failed_at = models.DateTimeField(_("签发件生成失败时间"), null=True, editable=False)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    last_edited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )
    return_comment = models.TextField(_("退回意见"), blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        abstract = True

    #: What a signature freezes: the printed text and the signing itself.
    FROZEN_FIELDS = (
        "title",
        "salutation",
        "body",
        "closing",
        "contact_person",
        "contact_phone",
        "contact_address",
        "contact_postcode",
        "cc",
        "signer",
        "signer_name",
        "docno_prefix",
        "docno_year",
        "docno_number",
        "signed_on",
        "signed_at",
    )

    def save(self, *args, **kwargs):
        """A signed letter never changes: a save that would alter it is refused.

        The same rules as the database's trigger (``replies.freeze``): after signing only the
        forward moves of the transition table with their dates, the PDF written once and its
        render's failure record while it is missing. The workflow never tries anything else;
        this guards code that reaches for the ORM directly. A correction is a new letter
        (``supersede_reply``).
        """
        if self.pk is not None:
            self._refuse_signed_changes(kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        """A signed letter is never deleted: its 文号 would leave a gap (the trigger agrees)."""
        if self.pk is not None and self._signed_row().exists():
            raise SignedLetterError(f"{type(self).__name__} {self.pk} is signed; refused to delete")
        return super().delete(*args, **kwargs)

    def _signed_row(self):
        return type(self)._base_manager.filter(pk=self.pk, signed_on__isnull=False)

    def _refuse_signed_changes(self, update_fields) -> None:
        from replies import freeze

        fields = [
            f
            for f in self._meta.concrete_fields
            if not f.primary_key
            and (update_fields is None or f.name in update_fields or f.attname in update_fields)
        ]
        # The whole stored row: a move may depend on columns not being saved (disclosure).
        stored = self._signed_row().values(*[f.attname for f in self._meta.concrete_fields]).first()
        if stored is None:
            return
        new = {}
        for f in fields:
            value = getattr(self, f.attname)
            new[f.attname] = (value.name or "") if isinstance(f, models.FileField) else value
        kind, table = (
            ("reply", REPLY_TRANSITIONS)
            if isinstance(self, Reply)
            else ("opinion", OPINION_TRANSITIONS)
        )
        refused = freeze.refused_changes(
            stored,
            new,
            moves=freeze.signed_moves(table),
            stamps=freeze.STAMPS[kind],
            requires=freeze.REQUIRES[kind],
        )
        if refused:
            names = [f.name for f in fields if f.attname in refused]
            raise SignedLetterError(
                f"{type(self).__name__} {self.pk} is signed; refused to change {', '.join(names)}"
            )

    @property
    def doc_number(self) -> str:
        if self.docno_number is None:
            return ""
        return f"{self.docno_prefix}〔{self.docno_year}〕{self.docno_number}号"

    @property
    def pdf_failed(self) -> bool:
        """生成失败: signed, no PDF, and its render gave up (until 重新生成)."""
        return self.pdf_failed_at is not None and not self.pdf_sha256


class ReplyQuerySet(models.QuerySet):
    def published(self) -> ReplyQuerySet:
        """What the portal may show: published, public, not superseded by a sent correction."""
        # NOT EXISTS rather than a reverse-join exclude(): Django turns the latter into
        # NOT IN (subquery) with an IS NOT NULL twist that PostgreSQL plans ten times slower.
        superseding = Reply.objects.filter(
            supersedes=OuterRef("pk"), state__in=[ReplyState.SENT, ReplyState.PUBLISHED]
        )
        return self.filter(state=ReplyState.PUBLISHED, disclosure=Disclosure.PUBLIC).exclude(
            Exists(superseding)
        )

    def visible_to(self, user: User) -> ReplyQuerySet:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_everything:
            return self
        # Only through an active assignment of the proposal (``involved_proposal_ids``): the
        # unit's own letters, and another unit's once sent (the lead's reply, for a co unit).
        own = Q(unit_id__in=unit_ids_of(user))
        sent = Q(state__in=[ReplyState.SENT, ReplyState.PUBLISHED])
        return self.filter(Q(proposal_id__in=involved_proposal_ids(user)) & (own | sent))

    def for_proposer(self, proposer: Proposer | None) -> ReplyQuerySet:
        """Replies a proposer may read on /my/: sent or published replies of the proposals they
        follow (``Proposal.objects.for_proposer``) and of the proposals those were merged into.
        Drafts, replies awaiting signature and signed but unsent replies never show."""
        if proposer is None:
            return self.none()
        mine = Proposal.objects.for_proposer(proposer)
        merged_into = mine.filter(merged_into__isnull=False).values("merged_into_id")
        return self.filter(state__in=[ReplyState.SENT, ReplyState.PUBLISHED]).filter(
            Q(proposal_id__in=mine.values("pk")) | Q(proposal_id__in=merged_into)
        )


class Reply(LetterFields):
    """A reply 答复 of a lead or separate unit to the proposers."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("答复")
        FOLLOW_UP = "follow_up", _("再次答复")
        REHANDLING = "rehandling", _("重新办理答复")

    State = ReplyState

    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, related_name="replies", verbose_name=_("交办")
    )
    # Denormalised from the assignment for the 文号 constraint and fast filtering.
    proposal = models.ForeignKey(
        Proposal, on_delete=models.PROTECT, related_name="replies", editable=False
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", editable=False, verbose_name=_("承办单位")
    )
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=1, editable=False)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.REPLY)
    result_label = models.CharField(
        _("办理结果"),
        max_length=30,
        choices=[(k, k) for k in RESULT_LABELS],
        blank=True,
        help_text=_("按本区用语选择，统计时归入 A/B/C/D 类。"),
    )
    result_class = models.CharField(
        _("结果类别"), max_length=1, choices=ResultClass.choices, blank=True, editable=False
    )
    disclosure = models.CharField(
        _("公开属性"), max_length=20, choices=Disclosure.choices, default=Disclosure.PUBLIC
    )
    disclosure_scope = models.CharField(
        _("公开范围"),
        max_length=10,
        choices=DisclosureScope.choices,
        blank=True,
        help_text=_("主动公开时可注明公开全文或摘要，印在公开属性之后，如“主动公开 · 全文”。"),
    )
    state = models.CharField(
        _("状态"),
        max_length=20,
        choices=ReplyState.choices,
        default=ReplyState.DRAFT,
        editable=False,
        db_index=True,
    )
    opinion_override_reason = models.TextField(_("缺会办意见提交理由"), blank=True, editable=False)
    sent_at = models.DateTimeField(_("送达时间"), null=True, editable=False)
    published_on = models.DateField(_("公开日期"), null=True, editable=False)
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="superseded_by",
        verbose_name=_("更正的答复"),
    )

    objects = ReplyQuerySet.as_manager()

    class Meta:
        verbose_name = _("答复")
        verbose_name_plural = _("答复")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "docno_year", "docno_number"],
                condition=Q(docno_number__isnull=False),
                name="reply_unique_docno_per_unit_year",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "disclosure"], name="reply_state_disclosure"),
            # The portal's list reads published replies newest first, a page at a time: these
            # give it its first rows without sorting every published reply (bench/api.py).
            models.Index(
                fields=["-published_on", "-id"],
                condition=Q(state="published", disclosure="public"),
                name="reply_public_by_published_on",
            ),
            models.Index(
                fields=["-signed_on", "-id"],
                condition=Q(state="published", disclosure="public"),
                name="reply_public_by_signed_on",
            ),
        ]

    def __str__(self) -> str:
        return self.doc_number or self.title


class OpinionQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> OpinionQuerySet:
        """The writing unit sees its opinions; the lead unit sees them once delivered."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_everything:
            return self
        # Only through an active assignment (``involved_proposal_ids``), as replies.
        own = Q(unit_id__in=unit_ids_of(user), proposal_id__in=involved_proposal_ids(user))
        leading = involved_proposal_ids(
            user, roles=[Assignment.Role.LEAD, Assignment.Role.SEPARATE]
        )
        lead = Q(proposal_id__in=leading, state=OpinionState.DELIVERED)
        return self.filter(own | lead)


class CoOpinion(LetterFields):
    """A co-handling opinion 会办意见, addressed to the lead unit, never to the proposers."""

    State = OpinionState

    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, related_name="opinions", verbose_name=_("交办")
    )
    proposal = models.ForeignKey(
        Proposal, on_delete=models.PROTECT, related_name="opinions", editable=False
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", editable=False, verbose_name=_("承办单位")
    )
    state = models.CharField(
        _("状态"),
        max_length=20,
        choices=OpinionState.choices,
        default=OpinionState.DRAFT,
        editable=False,
        db_index=True,
    )
    delivered_at = models.DateTimeField(_("送达主办单位时间"), null=True, editable=False)

    objects = OpinionQuerySet.as_manager()

    class Meta:
        verbose_name = _("会办意见")
        verbose_name_plural = _("会办意见")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "docno_year", "docno_number"],
                condition=Q(docno_number__isnull=False),
                name="opinion_unique_docno_per_unit_year",
            ),
        ]

    def __str__(self) -> str:
        return self.doc_number or self.title


class FeedbackQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> FeedbackQuerySet:
        """Committee and supervision see all; a unit the feedback on its replies; a proposer
        their own."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_everything:
            return self
        own_replies = Reply.objects.visible_to(user).filter(unit_id__in=unit_ids_of(user))
        return self.filter(Q(reply__in=own_replies.values("pk")) | Q(proposer__user=user))


class Feedback(models.Model):
    """A proposer's answer 征询意见 to a sent reply: one per reply and proposer, dated
    (``received_at``), never overwritten. A re-handling (重新办理) is answered through its own
    reply, so every answer of every round is kept; the answer's round is its reply's
    (``round``), which the figures read to tell 满意率（首轮） from 满意率（最终）."""

    class Rating(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
        NOT_SATISFIED = "not_satisfied", _("不满意")

    class Channel(models.TextChoices):
        ONLINE = "online", _("网上")
        PAPER = "paper", _("纸质意见表")
        PHONE = "phone", _("电话")

    reply = models.ForeignKey(
        Reply, on_delete=models.PROTECT, related_name="feedback", verbose_name=_("答复")
    )
    proposal = models.ForeignKey(
        Proposal, on_delete=models.PROTECT, related_name="feedback", editable=False
    )
    proposer = models.ForeignKey(
        Proposer, on_delete=models.PROTECT, related_name="feedback", verbose_name=_("提案者")
    )
    rating = models.CharField(_("总体评价"), max_length=20, choices=Rating.choices)
    on_work = models.CharField(_("对办理工作"), max_length=20, choices=Rating.choices, blank=True)
    on_result = models.CharField(_("对办理结果"), max_length=20, choices=Rating.choices, blank=True)
    comment = models.TextField(_("意见和建议"), blank=True)
    channel = models.CharField(
        _("反馈方式"), max_length=10, choices=Channel.choices, default=Channel.ONLINE
    )
    received_at = models.DateTimeField(_("收到时间"))
    recorded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("录入人")
    )

    objects = FeedbackQuerySet.as_manager()

    class Meta:
        verbose_name = _("征询意见")
        verbose_name_plural = _("征询意见")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["reply", "proposer"], name="feedback_once_per_reply")
        ]

    def __str__(self) -> str:
        return f"{self.proposer} {self.get_rating_display()}"

    @property
    def round(self) -> int:
        """The 办理轮次 answered: the round of the reply (2 for a re-handling reply)."""
        return self.reply.round
