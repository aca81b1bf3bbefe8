"""Proposals: their statuses and transitions, co-proposers and attachments.

Part of ``proposals.models`` (split by subject in issue 18); import from there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from proposals.models.people import User, involved_proposal_ids
from proposals.models.sessions import Proposer, Session
from proposals.validators import validate_attachment

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    from django_stubs_ext import StrOrPromise


# --- Proposals ------------------------------------------------------------------------------


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    RETURNED = "returned", _("退回修改")
    FILED = "filed", _("已立案")
    NOT_FILED = "not_filed", _("不予立案")
    MERGED = "merged", _("并案")
    ASSIGNED = "assigned", _("已交办")
    REPLIED = "replied", _("已答复")
    CLOSED = "closed", _("已办结")


S = ProposalStatus
#: verb -> (states it may start from, state it leads to). The one table of the proposal's life.
PROPOSAL_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({S.DRAFT}), S.SUBMITTED),
    "return": (frozenset({S.SUBMITTED}), S.RETURNED),
    "resubmit": (frozenset({S.RETURNED}), S.SUBMITTED),
    "file": (frozenset({S.SUBMITTED}), S.FILED),
    "not_file": (frozenset({S.SUBMITTED}), S.NOT_FILED),
    "merge": (frozenset({S.SUBMITTED, S.FILED}), S.MERGED),
    "assign": (frozenset({S.FILED, S.ASSIGNED}), S.ASSIGNED),
    "unassign": (frozenset({S.ASSIGNED}), S.FILED),
    "mark_replied": (frozenset({S.ASSIGNED}), S.REPLIED),
    "reopen": (frozenset({S.REPLIED, S.CLOSED}), S.ASSIGNED),
    "close": (frozenset({S.REPLIED}), S.CLOSED),
    # Verbs that act on a proposal without moving it: the lead edits the text and the
    # co-proposers while it is theirs; co-proposers confirm (or decline) their signature.
    "revise": (frozenset({S.DRAFT, S.RETURNED}), ""),
    "confirm_coproposal": (frozenset({S.DRAFT, S.RETURNED}), ""),
    "decline_coproposal": (frozenset({S.DRAFT, S.RETURNED}), ""),
}
del S

#: Proposal states a proposer may still edit (the text, the co-proposers) and co-proposers
#: confirm their signature in: the one definition, read off the transition table.
EDITABLE_PROPOSAL_STATES: frozenset[str] = PROPOSAL_TRANSITIONS["revise"][0]

#: How each state code of an audit row reads (the calendar's day kinds included). Other apps
#: add theirs (``replies/states.py``); assignments' states are added below their class.
STATE_LABELS: dict[str, StrOrPromise] = {
    **dict(ProposalStatus.choices),
    "workday": _("上班"),
    "day_off": _("休息"),
}


def state_change_label(from_state: str, to_state: str) -> str:
    """``已提交 → 已立案``, or the one state where the step did not move."""
    before = STATE_LABELS.get(from_state, from_state)
    after = STATE_LABELS.get(to_state, to_state)
    if before and after and before != after:
        return f"{before} → {after}"
    return str(after or before or "")


#: How each workflow verb reads in timelines and the audit list. Other apps add theirs.
VERB_LABELS: dict[str, StrOrPromise] = {
    "draft": _("起草提案"),
    "enter": _("录入提案"),
    "edit_proposal": _("修改提案信息"),
    "delete_draft": _("删除草稿"),
    "revise": _("修改提案"),
    "confirm_coproposal": _("确认联名"),
    "decline_coproposal": _("不参加联名"),
    "submit": _("提交"),
    "return": _("退回修改"),
    "resubmit": _("重新提交"),
    "file": _("立案"),
    "not_file": _("不予立案"),
    "merge": _("并案"),
    "assign": _("交办"),
    "unassign": _("撤回交办"),
    "mark_replied": _("已答复"),
    "reopen": _("重新办理"),
    "close": _("办结"),
    "accept": _("签收"),
    "request_reassignment": _("申请退回"),
    "approve_reassignment": _("同意退回"),
    "refuse_reassignment": _("不同意退回"),
    "extend": _("延期"),
    "request_extension": _("申请延期"),
    "refuse_extension": _("不同意延期"),
    "log_contact": _("登记沟通"),
    "mark_opinion_sent": _("会办意见已送"),
    "close_without_opinion": _("结束会办"),
    "set_day_override": _("调整工作日"),
    "delete_day_override": _("删除工作日调整"),
    "enter_calendar_year": _("录入年度节假日安排"),
    "withdraw_calendar_year": _("撤销年度节假日录入"),
    "recompute_reply_due": _("重算答复期限"),
    "add_attachment": _("上传附件"),
    "remove_attachment": _("删除附件"),
    "purge_audit": _("清理过期操作记录"),
}


class ProposalQuerySet(models.QuerySet["Proposal"]):
    def visible_to(self, user: User) -> ProposalQuerySet:
        """Proposals ``user`` may see: all for the committee and the supervision office; for a
        unit's staff those with an active assignment to their unit; for a proposer their own
        (led or co-signed)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_everything:
            return self
        assigned = involved_proposal_ids(user)
        cosigned = CoProposer.objects.filter(proposer__user=user).values("proposal_id")
        own = Q(lead_proposer__user=user) | Q(pk__in=cosigned)
        return self.filter(Q(pk__in=assigned) | own)

    def for_proposer(self, proposer: Proposer | None) -> ProposalQuerySet:
        """Proposals a proposer follows on /my/: those they lead or co-sign (drafts included,
        so an invited co-proposer can read what they are asked to sign), and those of the groups
        they convene once submitted."""
        if proposer is None:
            return self.none()
        own = Q(lead_proposer=proposer) | Q(coproposer_links__proposer=proposer)
        convened = (
            Q(lead_proposer__conveners=proposer) | Q(coproposer_links__proposer__conveners=proposer)
        ) & ~Q(status=ProposalStatus.DRAFT)
        ids = Proposal.objects.filter(own | convened).values("pk")
        return self.filter(pk__in=ids)


class Proposal(models.Model):
    class Category(models.TextChoices):
        ECONOMY = "economy", _("经济建设")
        URBAN = "urban", _("城市建设与管理")
        ECOLOGY = "ecology", _("生态环境")
        EDUCATION = "education", _("科教文卫")
        SOCIETY = "society", _("社会民生")
        POLITICS = "politics", _("政治法治")
        OTHER = "other", _("其他")

    class Disposition(models.TextChoices):
        SOCIAL_INFO = "social_info", _("转社情民意信息")
        MEMBER_LETTER = "member_letter", _("转委员来信")
        REFERENCE = "reference", _("转参阅件")
        OTHER = "other", _("其他转送")

    Status = ProposalStatus

    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="proposals", verbose_name=_("届次会议")
    )
    serial = models.PositiveIntegerField(_("序号"), null=True, blank=True, editable=False)
    number = models.CharField(_("提案号"), max_length=30, blank=True, editable=False)
    title = models.CharField(_("案由"), max_length=200, help_text=_("例如：关于……的建议"))
    category = models.CharField(
        _("类别"), max_length=20, choices=Category.choices, default=Category.OTHER
    )
    reason = models.TextField(_("案由说明"), blank=True)
    analysis = models.TextField(_("情况分析"), blank=True)
    suggestions = models.TextField(_("具体建议"), blank=True)
    lead_proposer = models.ForeignKey(
        Proposer,
        on_delete=models.PROTECT,
        related_name="led_proposals",
        verbose_name=_("第一提案人"),
    )
    co_proposers: models.ManyToManyField[Proposer, CoProposer] = models.ManyToManyField(
        Proposer,
        through="CoProposer",
        related_name="cosigned_proposals",
        blank=True,
        verbose_name=_("联名提案人"),
    )
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=ProposalStatus.choices,
        default=ProposalStatus.DRAFT,
        editable=False,
        db_index=True,
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True, editable=False)
    filed_at = models.DateTimeField(_("立案时间"), null=True, blank=True, editable=False)
    is_key = models.BooleanField(_("重点提案"), default=False)
    supervising_leader = models.CharField(_("领衔督办领导"), max_length=50, blank=True)
    key_reply_months = models.PositiveSmallIntegerField(
        _("重点提案答复期限（月）"),
        null=True,
        blank=True,
        help_text=_("留空则按一般答复期限。"),
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="merged_proposals",
        verbose_name=_("并入提案"),
    )
    disposition = models.CharField(
        _("不予立案处理方式"),
        max_length=20,
        choices=Disposition.choices,
        blank=True,
        editable=False,
    )
    review_note = models.TextField(_("审查意见"), blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        verbose_name = _("提案")
        verbose_name_plural = _("提案")
        ordering = ["session", "serial", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "serial"],
                condition=Q(serial__isnull=False),
                name="proposal_unique_serial_per_session",
            ),
            models.UniqueConstraint(
                fields=["session", "number"],
                condition=~Q(number=""),
                name="proposal_unique_number_per_session",
            ),
        ]
        indexes = [models.Index(fields=["session", "status"], name="proposal_session_status")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}" if self.number else self.title

    def proposers(self) -> list[Proposer]:
        """The lead proposer followed by the co-proposers in signing order."""
        co = [c.proposer for c in self.coproposer_links.select_related("proposer")]
        return [self.lead_proposer, *co]


class CoProposer(models.Model):
    """A co-signer 联名提案人 of a proposal, in signing order."""

    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="coproposer_links", verbose_name=_("提案")
    )
    proposer = models.ForeignKey(
        Proposer, on_delete=models.PROTECT, related_name="+", verbose_name=_("提案者")
    )
    position = models.PositiveSmallIntegerField(_("顺序"), default=1)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("联名提案人")
        verbose_name_plural = _("联名提案人")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "proposer"], name="coproposer_unique_per_proposal"
            )
        ]

    def __str__(self) -> str:
        return str(self.proposer)


def attachment_path(instance: ProposalAttachment, filename: str) -> str:
    import uuid
    from pathlib import PurePath

    suffix = PurePath(filename).suffix.lower()[:10]
    return f"proposals/{instance.proposal_id or 'new'}/{uuid.uuid4().hex}{suffix}"


class AttachmentQuerySet(models.QuerySet["ProposalAttachment"]):
    def visible_to(self, user: User) -> AttachmentQuerySet:
        """The attachments of the proposals ``user`` may see."""
        return self.filter(proposal__in=Proposal.objects.visible_to(user).values("pk"))


class ProposalAttachment(models.Model):
    """A scanned original or supporting document of a proposal."""

    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("提案")
    )
    file = models.FileField(_("文件"), upload_to=attachment_path, validators=[validate_attachment])
    name = models.CharField(_("文件名"), max_length=200)
    uploaded_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.name
