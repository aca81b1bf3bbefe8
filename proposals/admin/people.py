"""Users, units, sessions and proposers: the committee's reference data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from proposals.admin.access import (
    OfficeAdmin,
    OfficeInline,
    SaveChangedFieldsMixin,
    hide_unviewable_rows,
)
from proposals.models import NUMBERING_PRESETS, Membership, Proposer, Session, Unit, User

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    from django_stubs_ext import StrOrPromise


def _own_apps() -> set[str]:
    """This app and the project's apps built on it. INSTALLED_APPS lists the base apps after
    the third-party ones and before the apps that depend on them, so they are the labels from
    ``proposals`` on; read from the settings so the base app never names the apps above it."""
    labels = [config.label for config in apps.get_app_configs()]
    return set(labels[labels.index("proposals") :])


OWN_APPS = frozenset(_own_apps())

# The admins registered before this app's (INSTALLED_APPS order: auth's groups, axes' logs, DRF's
# tokens) answer for a row the user may not view as for a missing one, like the project's own.
hide_unviewable_rows(
    admin.site,
    [m for m in admin.site._registry if m._meta.app_label not in OWN_APPS],
)


class UserMembershipInline(OfficeInline, admin.TabularInline):
    model = Membership
    fk_name = "user"
    fields = ("unit", "role")
    autocomplete_fields = ("unit",)


class UnitMembershipInline(OfficeInline, admin.TabularInline):
    model = Membership
    fk_name = "unit"
    fields = ("user", "role")
    autocomplete_fields = ("user",)


@admin.register(User)
class UserAdmin(OfficeAdmin, DjangoUserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("姓名与联系方式"), {"fields": ("full_name", "phone", "email")}),
        (_("所属机构"), {"fields": ("office",)}),
        (
            _("权限"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "description": _(
                    "登录管理后台须勾选“工作人员状态”。提案委员会、督查室的权限由“所属机构”"
                    "决定；承办单位人员的权限由下方的单位成员决定。"
                ),
            },
        ),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("姓名与机构"), {"fields": ("full_name", "office", "phone", "is_staff")}),
    )
    list_display = ("username", "full_name", "office", "unit_list", "is_staff", "is_active")
    list_filter = ("office", "is_staff", "is_superuser", "is_active")
    search_fields = ("username", "full_name", "email", "phone")
    ordering = ("username",)
    inlines = [UserMembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("memberships__unit")

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # The committee manages people, not the grants that make someone a superuser.
            readonly += ["is_superuser", "groups", "user_permissions"]
        return readonly

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description=_("所在单位"))
    def unit_list(self, obj: User) -> str:
        return "、".join(f"{m.unit}（{m.get_role_display()}）" for m in obj.memberships.all())


@admin.register(Unit)
class UnitAdmin(OfficeAdmin):
    list_display = (
        "name",
        "short_name",
        "district",
        "organ_name",
        "docno_prefix",
        "letter_format",
        "is_active",
    )
    list_filter = ("district", "letter_format", "is_active")
    search_fields = ("name", "short_name", "organ_name")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "short_name",
                    "district",
                    "organ_name",
                    "docno_prefix",
                    "letter_format",
                    "is_active",
                )
            },
        ),
        (
            _("联系信息（印在答复函上）"),
            {"fields": ("address", "postcode", "phone", "contact_name", "contact_phone")},
        ),
    )
    inlines = [UnitMembershipInline]


@admin.register(Session)
class SessionAdmin(SaveChangedFieldsMixin, OfficeAdmin):
    list_display = (
        "__str__",
        "district",
        "term",
        "meeting",
        "year",
        "number_template",
        "number_preview",
        "last_serial",
    )
    list_filter = ("district", "year")
    search_fields = ("name", "district")
    readonly_fields = ("number_preview", "last_serial")
    fieldsets = (
        (
            None,
            {"fields": ("district", "name", "term", "meeting", "year", "opens_on", "closes_on")},
        ),
        (
            _("提案提交"),
            {
                "fields": ("submissions_open_from", "submissions_open_until"),
                "description": _(
                    "委员在“我的提案”中只能向提交期内的届次会议提交提案；"
                    "不填时，闭幕前可以提交（只提供本区最新的一次会议）。"
                ),
            },
        ),
        (
            _("提案编号"),
            {
                "fields": ("number_template", "number_preview", "last_serial"),
                "description": format_html(
                    "{}<ul>{}</ul>",
                    _("各区编号格式示例："),
                    format_html_join(
                        "",
                        "<li><code>{}</code> {}</li>",
                        NUMBERING_PRESETS.items(),
                    ),
                ),
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.last_serial:
            # Numbers already given out were made with this template; keep them consistent.
            readonly.append("number_template")
        return readonly

    @admin.display(description=_("编号预览"))
    def number_preview(self, obj: Session) -> StrOrPromise:
        try:
            first = obj.format_number(1)
            following = obj.format_number(obj.last_serial + 1)
        except (TypeError, ValueError, KeyError, IndexError):
            return _("保存后显示")
        if obj.last_serial:
            return _("%(first)s（下一号：%(next)s）") % {"first": first, "next": following}
        return first


@admin.register(Proposer)
class ProposerAdmin(OfficeAdmin):
    list_display = ("name", "kind", "sector", "user", "is_active")
    list_filter = ("kind", "sector", "is_active")
    search_fields = ("name", "sector")
    autocomplete_fields = ("user",)
    list_select_related = ("user",)
    fieldsets = (
        (None, {"fields": ("kind", "name", "sector", "user", "is_active")}),
        (
            _("联系方式（不公开）"),
            {"fields": ("mobile", "phone", "email", "address", "postcode")},
        ),
    )
