"""The base of the tracker: people, units, sessions, proposers, proposals and assignments.

Statuses are stored in English and shown in Chinese. No code outside ``proposals.workflow``
(and the factories of the tests) assigns a status: the transition tables below are the one
place that says which verb moves what from where to where.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from proposals.districts import district_named_in
from proposals.validators import validate_attachment

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    from django_stubs_ext import StrOrPromise


class User(AbstractUser):
    """Everyone who signs in: committee staff, supervisors, unit clerks and signers, proposers."""

    class Office(models.TextChoices):
        NONE = "", _("无")
        COMMITTEE = "committee", _("提案委员会")
        SUPERVISION = "supervision", _("督查室")

    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    office = models.CharField(
        _("所属机构"),
        max_length=20,
        choices=Office.choices,
        blank=True,
        default=Office.NONE,
        help_text=_("提案委员会可立案、交办、审批；督查室可查看全部。"),
    )
    phone = models.CharField(_("电话"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def is_committee(self) -> bool:
        return self.is_active and (self.is_superuser or self.office == self.Office.COMMITTEE)

    @property
    def is_supervisor(self) -> bool:
        return self.is_active and self.office == self.Office.SUPERVISION

    @property
    def sees_everything(self) -> bool:
        return self.is_committee or self.is_supervisor

    def unit_ids(self, role: str | None = None) -> set[int]:
        """Ids of the units this user belongs to (optionally only in ``role``)."""
        qs = self.memberships.all()
        if role:
            qs = qs.filter(role=role)
        return set(qs.values_list("unit_id", flat=True))


class Unit(models.Model):
    """A handling unit 承办单位: a bureau, a street office, a town, a state company."""

    class LetterFormat(models.TextChoices):
        DOCUMENT = "document", _("文件格式")
        LETTER = "letter", _("信函格式")

    name = models.CharField(_("单位名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    district = models.CharField(
        _("所属区"),
        max_length=20,
        blank=True,
        help_text=_("例如：长宁。留空则按发文机关标志中的区名填写（如“上海市长宁区…”）。"),
    )
    organ_name = models.CharField(
        _("发文机关标志"),
        max_length=100,
        help_text=_("信头上印的机关名称，例如：上海市普陀区发展和改革委员会"),
    )
    docno_prefix = models.CharField(
        _("文号前缀"), max_length=20, blank=True, help_text=_("例如：普发改委、长发改")
    )
    letter_format = models.CharField(
        _("公文格式"), max_length=10, choices=LetterFormat.choices, default=LetterFormat.DOCUMENT
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    postcode = models.CharField(_("邮政编码"), max_length=6, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    contact_name = models.CharField(_("默认联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系人电话"), max_length=30, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("承办单位")
        verbose_name_plural = _("承办单位")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.short_name or self.name

    def save(self, *args, **kwargs):
        # The letterhead names the district; typed only when it does not (a municipal body).
        if not self.district:
            self.district = district_named_in(self.organ_name, self.name)
            if kwargs.get("update_fields") is not None and self.district:
                kwargs["update_fields"] = {*kwargs["update_fields"], "district"}
        super().save(*args, **kwargs)


class Membership(models.Model):
    """A user's place in a unit: clerk 联络员 or signer 签发人."""

    class Role(models.TextChoices):
        CLERK = "clerk", _("联络员")
        SIGNER = "signer", _("签发人")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("用户")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("单位")
    )
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices)

    class Meta:
        verbose_name = _("单位成员")
        verbose_name_plural = _("单位成员")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit", "role"], name="membership_unique_user_unit_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.user} · {self.get_role_display()}"


# --- What a unit's staff may see -----------------------------------------------------------
#
# One rule for every object a unit reaches through a proposal (the proposal, its files, its
# contacts, replies, opinions, feedback): the unit must hold an *active* assignment of that
# proposal. An assignment withdrawn after an approved reassignment (申请退回) ends the unit's
# involvement: from then on it sees nothing of the proposal, its own drafts included, exactly as
# if the proposal had never been assigned to it. These are subqueries, not joins: visibility
# costs no query of its own and adds no duplicate rows.


def unit_ids_of(user: User):
    """The ids of the units ``user`` works for, as a subquery."""
    return Membership.objects.filter(user=user).values("unit_id")


def involved_proposal_ids(user: User, *, roles: Iterable[str] | None = None):
    """The ids of the proposals one of ``user``'s units holds an active assignment of (in one of
    ``roles``, if given), as a subquery."""
    qs = Assignment.objects.active().filter(unit_id__in=unit_ids_of(user))
    if roles is not None:
        qs = qs.filter(role__in=list(roles))
    return qs.values("proposal_id")


# --- Sessions and their numbering --------------------------------------------------------

#: Numbering schemes seen in Shanghai districts (docs/domain.md, Numbering).
NUMBERING_PRESETS: dict[str, str] = {
    "第{serial:03d}号": "长宁：第061号",
    "第{term}{meeting}{serial:03d}号": "普陀：第152045号（届+次+序号）",
    "{term_cn}{meeting_letter}{serial:03d}": "宝山：9B111（届+次字母+序号）",
    "{meeting_letter}{serial:03d}": "杨浦：B131（次字母+序号）",
    "{year2}-{serial:03d}": "嘉定：24-105（年份+序号）",
}
_PLACEHOLDER = re.compile(r"\{(\w+)(?::[^}]*)?\}")
_ALLOWED_PLACEHOLDERS = {"serial", "term", "meeting", "meeting_letter", "term_cn", "year", "year2"}


def format_proposal_number(
    template: str, *, serial: int, term: int, meeting: int, year: int
) -> str:
    """Render a session's numbering template for one serial.

    ``term_cn`` is the 届 as written in 宝山's numbers (a plain integer: 9 for 九届);
    ``meeting_letter`` is A for the first meeting of a term, B for the second, and so on.
    """
    return template.format(
        serial=serial,
        term=term,
        meeting=meeting,
        meeting_letter=chr(ord("A") + meeting - 1),
        term_cn=term,
        year=year,
        year2=f"{year % 100:02d}",
    )


def validate_number_template(value: str) -> None:
    names = set(_PLACEHOLDER.findall(value))
    if "serial" not in names:
        raise ValidationError(_("编号格式必须包含 {serial}。"))
    unknown = names - _ALLOWED_PLACEHOLDERS
    if unknown:
        raise ValidationError(
            _("编号格式中有未知的占位符：%(names)s"), params={"names": "、".join(sorted(unknown))}
        )
    try:
        format_proposal_number(value, serial=1, term=1, meeting=1, year=2000)
    except (ValueError, KeyError, IndexError) as exc:
        raise ValidationError(_("编号格式无效：%(error)s"), params={"error": exc}) from exc


class Session(models.Model):
    """A meeting of a CPPCC term, e.g. 十五届二次会议: proposals are numbered per session."""

    district = models.CharField(
        _("区"),
        max_length=20,
        blank=True,
        help_text=_("一个部署通常只服务一个区；演示数据同时包含长宁、普陀两区。"),
    )
    term = models.PositiveSmallIntegerField(_("届"))
    meeting = models.PositiveSmallIntegerField(_("次"))
    name = models.CharField(_("名称"), max_length=50, help_text=_("例如：十五届二次会议"))
    year = models.PositiveSmallIntegerField(_("年份"))
    opens_on = models.DateField(_("开幕日期"), null=True, blank=True)
    closes_on = models.DateField(_("闭幕日期"), null=True, blank=True)
    number_template = models.CharField(
        _("编号格式"),
        max_length=50,
        default="第{serial:03d}号",
        validators=[validate_number_template],
        help_text=_(
            "可用占位符：{serial:03d} 序号、{term} 届、{meeting} 次、"
            "{meeting_letter} 次字母（A、B…）、{year} 年份、{year2} 年份后两位。"
        ),
    )
    last_serial = models.PositiveIntegerField(
        _("已用最大序号"), default=0, editable=False, help_text=_("立案时依次分配，无空号。")
    )

    class Meta:
        verbose_name = _("届次会议")
        verbose_name_plural = _("届次会议")
        ordering = ["-term", "-meeting"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "term", "meeting"], name="session_unique_term_meeting"
            )
        ]

    def __str__(self) -> str:
        return f"{self.district}{self.name}" if self.district else self.name

    def format_number(self, serial: int) -> str:
        return format_proposal_number(
            self.number_template,
            serial=serial,
            term=self.term,
            meeting=self.meeting,
            year=self.year,
        )


class Proposer(models.Model):
    """Who proposes: a member, a sector group, a party, a people's organisation, a committee."""

    class Kind(models.TextChoices):
        MEMBER = "member", _("委员")
        SECTOR_GROUP = "sector_group", _("界别组")
        PARTY = "party", _("党派")
        ORGANISATION = "organisation", _("人民团体")
        SPECIAL_COMMITTEE = "special_committee", _("专委会")

    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices, default=Kind.MEMBER)
    name = models.CharField(_("名称"), max_length=100, help_text=_("委员姓名，或界别组、党派名称"))
    sector = models.CharField(_("界别"), max_length=50, blank=True)
    user = models.OneToOneField(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="proposer",
        verbose_name=_("登录账号"),
    )
    # Private contact fields: never published, never shown to other members.
    mobile = models.CharField(_("手机"), max_length=30, blank=True)
    phone = models.CharField(_("办公电话"), max_length=30, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    address = models.CharField(_("通讯地址"), max_length=200, blank=True)
    postcode = models.CharField(_("邮政编码"), max_length=6, blank=True)
    is_active = models.BooleanField(_("在任"), default=True)
    # A sector group's (or other group's) conveners 召集人: members who follow its proposals on
    # their own /my/ pages. Empty for a member.
    conveners = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="convened_groups",
        limit_choices_to={"kind": "member"},
        verbose_name=_("召集人"),
        help_text=_("界别组、党派等集体提案者的召集人（委员），可在“我的提案”中查看该集体的提案。"),
    )

    class Meta:
        verbose_name = _("提案者")
        verbose_name_plural = _("提案者")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


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


# --- Assignments ----------------------------------------------------------------------------


class AssignmentState(models.TextChoices):
    PENDING = "pending", _("待签收")
    ACCEPTED = "accepted", _("办理中")
    RETURN_REQUESTED = "return_requested", _("申请退回")
    WITHDRAWN = "withdrawn", _("已退回")
    REPLIED = "replied", _("已答复")
    OPINION_SENT = "opinion_sent", _("已会办")
    # The lead unit replied first (with the reason it went ahead recorded): the co-handling
    # unit's share ends, counted against its own opinion figures, never as the proposal late.
    CLOSED_WITHOUT_OPINION = "closed_without_opinion", _("未提供会办意见")


STATE_LABELS.update(AssignmentState.choices)

A = AssignmentState
#: verb -> (states it may start from, state it leads to).
ASSIGNMENT_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({A.PENDING}), A.ACCEPTED),
    "request_reassignment": (frozenset({A.PENDING, A.ACCEPTED}), A.RETURN_REQUESTED),
    "approve_reassignment": (frozenset({A.RETURN_REQUESTED}), A.WITHDRAWN),
    "refuse_reassignment": (frozenset({A.RETURN_REQUESTED}), A.ACCEPTED),
    "extend": (frozenset({A.PENDING, A.ACCEPTED, A.RETURN_REQUESTED}), ""),
    # A unit asks; the committee grants it as an extension (approve_extension) or refuses.
    "request_extension": (frozenset({A.PENDING, A.ACCEPTED}), ""),
    "approve_extension": (frozenset({A.PENDING, A.ACCEPTED, A.RETURN_REQUESTED}), ""),
    "refuse_extension": (frozenset({A.PENDING, A.ACCEPTED, A.RETURN_REQUESTED}), ""),
    "log_contact": (frozenset({A.ACCEPTED, A.REPLIED, A.OPINION_SENT}), ""),
    "mark_replied": (frozenset({A.ACCEPTED}), A.REPLIED),
    # An opinion already signed when the lead replied may still be delivered, late.
    "mark_opinion_sent": (frozenset({A.ACCEPTED, A.CLOSED_WITHOUT_OPINION}), A.OPINION_SENT),
    "close_without_opinion": (
        frozenset({A.PENDING, A.ACCEPTED, A.RETURN_REQUESTED}),
        A.CLOSED_WITHOUT_OPINION,
    ),
    "reopen": (frozenset({A.REPLIED}), A.ACCEPTED),
}
del A
#: States in which a unit still has work to do on an assignment.
OPEN_ASSIGNMENT_STATES = frozenset(
    {AssignmentState.PENDING, AssignmentState.ACCEPTED, AssignmentState.RETURN_REQUESTED}
)


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def active(self) -> AssignmentQuerySet:
        """Assignments that count: everything but those withdrawn after reassignment."""
        return self.exclude(state=AssignmentState.WITHDRAWN)

    def open(self) -> AssignmentQuerySet:
        return self.filter(state__in=OPEN_ASSIGNMENT_STATES)

    def visible_to(self, user: User) -> AssignmentQuerySet:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_everything:
            return self
        # A withdrawn assignment is no longer the unit's (``involved_proposal_ids``).
        return self.active().filter(unit_id__in=unit_ids_of(user))


class Assignment(models.Model):
    """One unit's share of a proposal: lead 主办, co-handling 会办 or separate 分办."""

    class Role(models.TextChoices):
        LEAD = "lead", _("主办")
        CO = "co", _("会办")
        SEPARATE = "separate", _("分办")

    State = AssignmentState

    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("提案")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("承办单位")
    )
    role = models.CharField(_("办理方式"), max_length=10, choices=Role.choices)
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=1, editable=False)
    state = models.CharField(
        _("状态"),
        max_length=24,
        choices=AssignmentState.choices,
        default=AssignmentState.PENDING,
        editable=False,
        db_index=True,
    )
    assigned_on = models.DateField(_("交办日期"))
    assigned_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("交办人")
    )
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True, editable=False)
    return_reason = models.TextField(_("申请退回理由"), blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("交办")
        verbose_name_plural = _("交办")
        ordering = ["proposal", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal"],
                condition=Q(role="lead") & ~Q(state="withdrawn"),
                name="assignment_one_lead_per_proposal",
            ),
            models.UniqueConstraint(
                fields=["proposal", "unit"],
                condition=~Q(state="withdrawn"),
                name="assignment_unit_once_per_proposal",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.proposal.number or self.proposal_id} · {self.unit} · {self.get_role_display()}"
        )

    def due(self, clock: str) -> DueDate | None:
        for d in self.due_dates.all():
            if d.clock == clock and d.round == self.round:
                return d
        return None


class DueDate(models.Model):
    """A deadline of one assignment's clock, with the explanation of how it was computed."""

    class Clock(models.TextChoices):
        REASSIGNMENT = "reassignment", _("申请退回期限")
        FIRST_CONTACT = "first_contact", _("沟通见面期限")
        CO_OPINION = "co_opinion", _("会办意见期限")
        REPLY = "reply", _("答复期限")
        REHANDLING_REPLY = "rehandling_reply", _("重新办理答复期限")

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="due_dates", verbose_name=_("交办")
    )
    clock = models.CharField(_("时限"), max_length=20, choices=Clock.choices)
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=1)
    start_on = models.DateField(_("起算日期"))
    rule = models.CharField(_("规则"), max_length=20, help_text=_("例如 3,months"))
    due_on = models.DateField(_("到期日"), db_index=True)
    explanation = models.CharField(_("计算说明"), max_length=200)
    is_fixed = models.BooleanField(
        _("已延期固定"), default=False, help_text=_("经批准延期的到期日，不随日历调整重算。")
    )
    completed_on = models.DateField(_("完成日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("到期日")
        verbose_name_plural = _("到期日")
        ordering = ["due_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "clock", "round"], name="duedate_unique_clock_round"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_clock_display()} {self.due_on:%Y-%m-%d}"


class Extension(models.Model):
    """An approved extension 延期 of a reply deadline."""

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="extensions", verbose_name=_("交办")
    )
    old_due_on = models.DateField(_("原到期日"))
    new_due_on = models.DateField(_("延期至"))
    reason = models.TextField(_("延期理由"))
    approved_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("批准人")
    )
    approved_at = models.DateTimeField(_("批准时间"), default=timezone.now)

    class Meta:
        verbose_name = _("延期")
        verbose_name_plural = _("延期")
        ordering = ["-approved_at"]

    def __str__(self) -> str:
        return f"{self.old_due_on} → {self.new_due_on}"


class ExtensionRequest(models.Model):
    """A unit's request 申请延期 for a later reply date; the committee decides (docs/domain.md:
    "approves reassignment and extension"). At most one is pending per assignment."""

    class State(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已同意")
        REFUSED = "refused", _("不同意")

    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.CASCADE,
        related_name="extension_requests",
        verbose_name=_("交办"),
    )
    due_on_then = models.DateField(_("申请时到期日"))
    requested_due_on = models.DateField(_("申请延期至"))
    reason = models.TextField(_("申请理由"))
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("申请人")
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)
    extension = models.OneToOneField(
        Extension,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="request",
        verbose_name=_("批准的延期"),
    )

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(state="pending"),
                name="extension_request_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.due_on_then} → {self.requested_due_on}（{self.get_state_display()}）"


class ContactRecordQuerySet(models.QuerySet["ContactRecord"]):
    def visible_to(self, user: User) -> ContactRecordQuerySet:
        """The contacts of the assignments ``user`` may see (a unit's own, or all for the
        committee and the supervision office)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_everything:
            return self
        return self.filter(assignment__in=Assignment.objects.visible_to(user).values("pk"))


class ContactRecord(models.Model):
    """A contact 沟通 between a unit and the proposers of an assigned proposal."""

    class Method(models.TextChoices):
        MEETING = "meeting", _("见面")
        PHONE = "phone", _("电话")
        WRITTEN = "written", _("书面")
        OTHER = "other", _("其他")

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("交办")
    )
    contacted_on = models.DateField(_("沟通日期"))
    method = models.CharField(_("方式"), max_length=10, choices=Method.choices)
    proposers = models.ManyToManyField(
        Proposer, blank=True, related_name="+", verbose_name=_("沟通的提案者")
    )
    participants = models.CharField(_("参与人员"), max_length=200, blank=True)
    notes = models.TextField(_("内部记录"), blank=True)
    recorded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("记录人")
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ContactRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("沟通记录")
        verbose_name_plural = _("沟通记录")
        ordering = ["-contacted_on", "-id"]

    def __str__(self) -> str:
        return f"{self.contacted_on} {self.get_method_display()}"


# --- Audit ----------------------------------------------------------------------------------


class AppendOnlyError(RuntimeError):
    pass


class TransitionQuerySet(models.QuerySet["Transition"]):
    def bulk_create(self, objs, *args, **kwargs):
        """Many rows at once go through the chain too (``proposals.audit.append``); the options
        of ``bulk_create`` (conflicts, batch size) do not apply to an append-only trail."""
        from proposals import audit

        return audit.append(objs, using=self.db)


class Transition(models.Model):
    """One row per successful workflow call: who did what to which object, from where to where.

    Rows are written once and never changed; the proposal link makes a proposal's timeline one
    indexed query. Each row is sealed into a hash chain with the row before it
    (``proposals.audit``; ``manage.py verify_audit`` checks it).
    """

    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("操作人")
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("对象类型")
    )
    object_id = models.PositiveBigIntegerField(_("对象编号"))
    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.PROTECT,
        null=True,
        related_name="transitions",
        verbose_name=_("提案"),
    )
    verb = models.CharField(_("操作"), max_length=40)
    from_state = models.CharField(_("原状态"), max_length=30, blank=True)
    to_state = models.CharField(_("新状态"), max_length=30, blank=True)
    note = models.TextField(_("说明"), blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    # The hash chain (proposals/audit.py): set by ``audit.append``, never by hand.
    prev_hash = models.CharField(_("前一条校验值"), max_length=64, blank=True, editable=False)
    row_hash = models.CharField(_("校验值"), max_length=64, blank=True, editable=False)

    objects = TransitionQuerySet.as_manager()

    class Meta:
        verbose_name = _("操作记录")
        verbose_name_plural = _("操作记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="transition_object")]
        constraints = [
            models.CheckConstraint(condition=~Q(row_hash=""), name="transition_is_sealed")
        ]

    def __str__(self) -> str:
        # As the admin shows it everywhere: Beijing time (TIME_ZONE), in words.
        when = timezone.localtime(self.at).strftime("%Y-%m-%d %H:%M")
        verb = VERB_LABELS.get(self.verb, self.verb)
        return f"{when} {verb} {state_change_label(self.from_state, self.to_state)}".rstrip()

    def save(self, *args, using=None, **kwargs):
        """A new row is appended to the chain (``proposals.audit.append``); an old one never
        saves again."""
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("Transition rows are append-only.")
        from proposals import audit

        audit.append([self], using=using)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Transition rows are append-only.")


class AuditCheckpoint(models.Model):
    """Where ``manage.py purge_audit`` cut the audit chain, sealed with the chain's key.

    Purging removes old rows, so the first row kept after each removed run links to a hash no
    remaining row has. The checkpoint records that link: ``row_id`` (the row kept), the
    ``prev_hash`` it carries and ``after_id``, the row now before it (0: none). Written in the
    purge's transaction; ``verify_audit`` accepts the link only with a checkpoint whose seal
    verifies, so a deletion without the key stays visible.
    """

    row_id = models.PositiveBigIntegerField(_("清理后首条记录编号"), db_index=True)
    after_id = models.PositiveBigIntegerField(_("其前一条保留记录编号"))
    prev_hash = models.CharField(_("其前一条校验值"), max_length=64)
    purged = models.PositiveIntegerField(_("本段清理条数"))
    at = models.DateTimeField(_("时间"), default=timezone.now)
    seal = models.CharField(_("校验值"), max_length=64)

    class Meta:
        verbose_name = _("审计链检查点")
        verbose_name_plural = _("审计链检查点")
        ordering = ["row_id", "id"]

    def __str__(self) -> str:
        return f"{self.after_id} … {self.row_id}"

    def message(self) -> bytes:
        from proposals import audit

        return audit.checkpoint_message(
            self.row_id, self.after_id, self.prev_hash, self.purged, self.at
        )


class AccessEvent(models.Model):
    """Sign-ins, failures, lockouts and refusals (等保: every access decision is audited).

    Written by ``proposals.security``; like the transition trail, never changed or deleted.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", _("登录")
        LOGOUT = "logout", _("退出")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOCKED_OUT = "locked_out", _("账号锁定")
        REFUSED = "refused", _("拒绝访问")
        # A route that exists answered 404: a missing object, or one the user may not see
        # (the two look alike to the user, on purpose; the audit keeps the probe).
        NOT_FOUND = "not_found", _("对象不存在或无权查看")

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, db_index=True)
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("用户"),
    )
    username = models.CharField(_("用户名"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    method = models.CharField(_("请求方法"), max_length=10, blank=True)
    path = models.CharField(_("路径"), max_length=300, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("访问记录")
        verbose_name_plural = _("访问记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()} {self.username}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("AccessEvent rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("AccessEvent rows are append-only.")


# --- The working-day calendar ---------------------------------------------------------------


class DayOverride(models.Model):
    """The committee's correction of the working-day calendar for one date.

    chinesecalendar seeds the calendar; an override wins over it (e.g. next year's holidays
    announced in November, before the package knows them).
    """

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"), help_text=_("勾选为上班，不勾选为休息。"))
    note = models.CharField(_("说明"), max_length=100, blank=True, help_text=_("例如：春节调休"))
    updated_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("修改人"),
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("工作日调整")
        verbose_name_plural = _("工作日调整")
        ordering = ["date"]

    def __str__(self) -> str:
        kind = _("上班") if self.is_workday else _("休息")
        return f"{self.date:%Y-%m-%d} {kind}"


class CalendarYear(models.Model):
    """A year whose official holiday notice the committee has entered into the calendar.

    One override does not make a year complete (春节 may still be missing), so a year the
    ``chinesecalendar`` package does not know counts as entered only once the committee says
    so here, naming the State Council notice it typed in. Until then its due dates carry a
    warning and no reminder goes out on the fixed-date statutory holidays (``workdays``).
    """

    year = models.PositiveSmallIntegerField(_("年份"), unique=True)
    source = models.CharField(
        _("依据"),
        max_length=200,
        help_text=_("例如：国务院办公厅关于2027年部分节假日安排的通知"),
    )
    entered_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("录入人"),
    )
    entered_at = models.DateTimeField(_("录入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("年度节假日安排")
        verbose_name_plural = _("年度节假日安排")
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"{self.year}"


def today() -> datetime.date:
    """The clock seam: today's date in Asia/Shanghai (tests patch this)."""
    return timezone.localdate()


class PendingEvent(models.Model):
    """An announced event (``proposals.events``) whose handlers have not finished yet.

    Written in the workflow's own transaction and deleted once its handlers ran after the
    commit, so an event survives a process that dies between the two: the hourly sweep
    (``proposals.events.redeliver``) runs what is left. Handlers are idempotent.
    """

    name = models.CharField(_("事件"), max_length=40)
    ids = models.JSONField(_("对象"), default=dict)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("待处理事件")
        verbose_name_plural = _("待处理事件")

    def __str__(self) -> str:
        return f"{self.name} {self.ids}"


class OutboxMessage(models.Model):
    """A Celery task that could not be queued: the broker (Redis) was unreachable.

    Written by ``proposals.outbox`` in place of the message, so that what a user did (a
    signature's PDF, a notice) is not lost with the broker; sent by ``outbox.deliver`` once the
    broker answers again (the sweep every few minutes, the worker's start, the web process's
    next successful enqueue), and deleted in the same transaction that sent it. ``attempts``
    counts the tries that failed, the first one included; after ``OUTBOX_ALERT_ATTEMPTS`` of
    them the row shows on the committee's dashboard.
    """

    task = models.CharField(_("任务"), max_length=200)
    args = models.JSONField(_("位置参数"), default=list)
    kwargs = models.JSONField(_("关键字参数"), default=dict)
    options = models.JSONField(_("投递选项"), default=dict, help_text=_("队列等"))
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    last_attempt_at = models.DateTimeField(_("最近尝试"), null=True, blank=True)

    class Meta:
        verbose_name = _("待投递的后台任务")
        verbose_name_plural = _("待投递的后台任务")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"
