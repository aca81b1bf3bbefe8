"""Sessions (届次/会议) with their numbering, and proposers (委员, 界别组, 党派).

Part of ``proposals.models`` (split by subject in issue 18); import from there."""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from proposals.models.people import User

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    pass


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
    # The submission window of /my/'s 新建提案 (issue 21): both ends inclusive; an empty end is
    # open on that side, and a session with neither end set takes no online submissions.
    submissions_open_from = models.DateField(
        _("提案征集开始"),
        null=True,
        blank=True,
        help_text=_(
            "委员可在“我的提案”中向本次会议提交提案的第一天。两端都留空时，开放至闭幕日期。"
        ),
    )
    submissions_open_until = models.DateField(
        _("提案征集截止"), null=True, blank=True, help_text=_("最后一天（含当天）。")
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

    def clean(self) -> None:
        super().clean()
        start, end = self.submissions_open_from, self.submissions_open_until
        if start and end and end < start:
            raise ValidationError({"submissions_open_until": _("提交截止日期不能早于开始日期。")})

    @property
    def has_submission_window(self) -> bool:
        return self.submissions_open_from is not None or self.submissions_open_until is not None

    def takes_submissions_on(self, day: datetime.date) -> bool:
        """Whether members may submit to this session online on ``day``: within its window;
        with no window set, until it closes (``closes_on``; /my/ then offers only the newest
        such session of a district)."""
        start, end = self.submissions_open_from, self.submissions_open_until
        if not self.has_submission_window:
            return self.closes_on is None or day <= self.closes_on
        return (start is None or start <= day) and (end is None or day <= end)

    @staticmethod
    def open_for_submission(day: datetime.date) -> models.Q:
        """The sessions taking submissions on ``day``, as a filter (``takes_submissions_on``)."""
        Q = models.Q
        windowless = Q(submissions_open_from__isnull=True, submissions_open_until__isnull=True)
        by_meeting = windowless & (Q(closes_on__isnull=True) | Q(closes_on__gte=day))
        started = Q(submissions_open_from__isnull=True) | Q(submissions_open_from__lte=day)
        not_ended = Q(submissions_open_until__isnull=True) | Q(submissions_open_until__gte=day)
        return by_meeting | (~windowless & started & not_ended)

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
