"""Users, units and their members, and what a unit's staff may see.

Part of ``proposals.models`` (split by subject in issue 18); import from there."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.apps import apps
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from proposals.districts import district_named_in

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    pass


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
    # The app registry, not an import: assignments are defined above this module.
    assignments = apps.get_model("proposals", "Assignment").objects
    qs = assignments.active().filter(unit_id__in=unit_ids_of(user))
    if roles is not None:
        qs = qs.filter(role__in=list(roles))
    return qs.values("proposal_id")
