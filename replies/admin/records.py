"""Feedback and 文号 counters: read-only lists (they change through the workflow only)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from proposals.admin import OfficeAdmin, _is_committee, _sees_everything, _unit_ids
from replies.models import DocNumberCounter, Feedback, Reply


@admin.register(Feedback)
class FeedbackAdmin(OfficeAdmin):
    """Proposers' answers change only through ``record_feedback`` (the reply's verb)."""

    list_display = (
        "received_at",
        "reply_link",
        "proposal_number",
        "unit_name",
        "proposer",
        "rating",
        "on_work",
        "on_result",
        "channel",
        "recorded_by",
    )
    list_filter = ("rating", "channel", ("reply__unit", admin.RelatedOnlyFieldListFilter))
    search_fields = ("proposer__name", "proposal__number", "proposal__title", "comment")
    list_select_related = ("reply__unit", "proposal", "proposer", "recorded_by")
    date_hierarchy = "received_at"
    fields = (
        "reply_link",
        "proposal_number",
        "proposer",
        "rating",
        "on_work",
        "on_result",
        "comment",
        "channel",
        "received_at",
        "recorded_by",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_view_permission(self, request, obj=None):
        return _sees_everything(request) or bool(_unit_ids(request))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("答复"), ordering="reply")
    def reply_link(self, obj: Feedback) -> str:
        url = reverse("admin:replies_reply_change", args=[obj.reply_id])
        reply = obj.reply
        return format_html('<a href="{}">{}</a>', url, reply.doc_number or reply.get_kind_display())

    @admin.display(description=_("提案号"), ordering="proposal__number")
    def proposal_number(self, obj: Feedback) -> str:
        return obj.proposal.number or "-"

    @admin.display(description=_("承办单位"))
    def unit_name(self, obj: Feedback) -> str:
        return str(obj.reply.unit)


@admin.register(DocNumberCounter)
class DocNumberCounterAdmin(OfficeAdmin):
    """文号 are taken by signing only; the committee can see how far each unit has got."""

    list_display = ("unit_name", "year", "last_number", "last_doc_number")
    list_filter = ("year",)
    search_fields = ("unit__name", "unit__short_name", "unit__docno_prefix")
    list_select_related = ("unit",)
    ordering = ("-year", "unit__name")
    fields = ("unit_name", "year", "last_number", "last_doc_number")
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return _is_committee(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("承办单位"), ordering="unit__name")
    def unit_name(self, obj: DocNumberCounter) -> str:
        return str(obj.unit)

    @admin.display(description=_("最近文号"))
    def last_doc_number(self, obj: DocNumberCounter) -> str:
        if not obj.last_number or not obj.unit.docno_prefix:
            return "-"
        prefix = obj.unit.docno_prefix
        return Reply(
            docno_prefix=prefix, docno_year=obj.year, docno_number=obj.last_number
        ).doc_number
