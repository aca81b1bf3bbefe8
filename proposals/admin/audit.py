"""The audit record (read-only) and the committee's working-day calendar."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from proposals import workflow
from proposals.admin.access import OfficeAdmin
from proposals.admin.displays import _state_change
from proposals.models import VERB_LABELS, AccessEvent, DayOverride, Transition, today
from proposals.workdays import WEEKDAY_NAMES, WorkCalendar

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    from django_stubs_ext import StrOrPromise


class VerbListFilter(admin.SimpleListFilter):
    title = _("操作")
    parameter_name = "verb"

    def lookups(self, request, model_admin):
        verbs = model_admin.get_queryset(request).order_by("verb").values_list("verb", flat=True)
        return [(v, VERB_LABELS.get(v, v)) for v in verbs.distinct()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(verb=self.value())
        return queryset


@admin.register(Transition)
class TransitionAdmin(OfficeAdmin):
    """The audit record is append-only: nobody adds, changes or deletes a row here."""

    list_display = ("at", "actor", "verb_label", "subject", "proposal", "state_change", "note")
    list_filter = (VerbListFilter, ("content_type", admin.RelatedOnlyFieldListFilter))
    search_fields = (
        "note",
        "verb",
        "proposal__number",
        "proposal__title",
        "actor__username",
        "actor__full_name",
    )
    list_select_related = ("actor", "proposal", "content_type")
    date_hierarchy = "at"
    fields = ("at", "actor", "verb_label", "subject", "proposal", "state_change", "note")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("操作"), ordering="verb")
    def verb_label(self, obj: Transition) -> StrOrPromise:
        return VERB_LABELS.get(obj.verb, obj.verb)

    @admin.display(description=_("对象"))
    def subject(self, obj: Transition) -> str:
        return f"{obj.content_type.name} #{obj.object_id}"

    @admin.display(description=_("状态变化"))
    def state_change(self, obj: Transition) -> str:
        return _state_change(obj) or "-"


@admin.register(DayOverride)
class DayOverrideAdmin(OfficeAdmin):
    """Calendar edits go through the workflow, which recomputes the open due dates."""

    list_display = ("date", "weekday", "is_workday", "calendar_says", "note", "updated_by_display")
    list_filter = ("is_workday",)
    search_fields = ("note",)
    date_hierarchy = "date"
    fields = ("date", "is_workday", "note", "calendar_says", "updated_by_display", "updated_at")
    readonly_fields = ("calendar_says", "updated_by_display", "updated_at")
    list_select_related = ("updated_by",)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.insert(0, "date")  # another date is another override: add it instead
        return readonly

    def changelist_view(self, request, extra_context=None):
        this_year = today().year
        missing = WorkCalendar().missing_years([this_year, this_year + 1])
        if missing:
            self.message_user(
                request,
                _(
                    "%(years)s 年的法定节假日尚未录入：这些年份暂时只按周末计算工作日。"
                    "国务院公布安排后，请在“年度节假日安排”中录入该年的通知"
                    "（放假和调休上班日期一次录入，并重算到期日）。"
                )
                % {"years": "、".join(str(y) for y in missing)},
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        override, moved = workflow.set_day_override(
            actor=request.user, date=obj.date, is_workday=obj.is_workday, note=obj.note
        )
        obj.pk = override.pk
        obj.updated_by = override.updated_by
        obj.updated_at = override.updated_at
        self._report_recomputed(request, moved)

    def delete_model(self, request, obj):
        self._report_recomputed(
            request, workflow.delete_day_override(actor=request.user, date=obj.date)
        )

    def delete_queryset(self, request, queryset):
        moved = 0
        for date in list(queryset.values_list("date", flat=True)):
            moved += workflow.delete_day_override(actor=request.user, date=date)
        self._report_recomputed(request, moved)

    def _report_recomputed(self, request, moved: int) -> None:
        self.message_user(request, _("已重新计算 %(count)d 个到期日") % {"count": moved})

    @admin.display(description=_("星期"))
    def weekday(self, obj: DayOverride) -> str:
        return WEEKDAY_NAMES[obj.date.weekday()] if obj.date else "-"

    @admin.display(description=_("系统日历"))
    def calendar_says(self, obj: DayOverride) -> str:
        """What the calendar says without the committee's overrides, for comparison."""
        if not obj.date:
            return "-"
        cal = WorkCalendar(overrides={})
        kind = _("上班") if cal.is_workday(obj.date) else _("休息")
        return f"{kind}（{cal.day_name(obj.date)}）"

    @admin.display(description=_("修改人"))
    def updated_by_display(self, obj: DayOverride) -> str:
        return str(obj.updated_by) if obj.updated_by else "-"


@admin.register(AccessEvent)
class AccessEventAdmin(OfficeAdmin):
    """Sign-ins, failures, lockouts and refusals: read-only, like the transition trail."""

    list_display = ("at", "kind", "username", "user", "ip_address", "method", "path")
    list_filter = ("kind",)
    search_fields = ("username", "ip_address", "path")
    list_select_related = ("user",)
    date_hierarchy = "at"
    fields = list_display
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
