"""The redaction review in the admin: the sent, 主动公开 replies waiting for publication, and
for each the flagged items with 遮蔽 / 保留 (a reason) and the 公开 button.

Every decision goes through ``publication.review.decide_flag`` and publishing through
``replies.workflow.publish_reply`` (which asks the review again); the page only collects them.
Visibility is ``Reply.objects.visible_to`` (another unit's clerk gets a 404).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals.admin.access import _unit_ids
from proposals.workflow import WorkflowError
from publication import review
from publication.models import PublicationQueue, RedactionFlag
from replies import workflow as rwf
from replies.models import Disclosure, Reply, ReplyState

#: Characters of text shown either side of a flagged item.
CONTEXT = 24


def _may_review(request) -> bool:
    """The committee, or a unit's staff (who see their own unit's replies in the queue); the
    units are read once per request, as every admin here does (the sidebar asks each admin)."""
    user = request.user
    return bool(user.is_active and user.is_staff and (user.is_committee or _unit_ids(request)))


def _context(reply: Reply, flag: RedactionFlag) -> tuple[str, str]:
    text = getattr(reply, flag.field) or ""
    return text[max(0, flag.start - CONTEXT) : flag.start], text[flag.end : flag.end + CONTEXT]


@admin.register(PublicationQueue)
class PublicationQueueAdmin(admin.ModelAdmin):
    list_display = ("title", "doc_number_display", "unit", "sent_at", "flags_display", "review")
    list_select_related = ("unit",)
    ordering = ("sent_at",)

    @admin.display(description=gettext_lazy("文号"))
    def doc_number_display(self, obj):
        return obj.doc_number

    @admin.display(description=gettext_lazy("疑似个人信息"))
    def flags_display(self, obj):
        flags = list(obj.redaction_flags.all())
        if not flags:
            return "—"
        pending = sum(1 for f in flags if f.decision == RedactionFlag.Decision.PENDING)
        return _("%(n)d 处，待确认 %(p)d 处") % {"n": len(flags), "p": pending}

    @admin.display(description=gettext_lazy("操作"))
    def review(self, obj):
        url = reverse("admin:publication_review", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("审查并公开"))

    def get_queryset(self, request):
        # The flags of the page's replies in one more query (one a row before).
        return (
            Reply.objects.visible_to(request.user)
            .filter(state=ReplyState.SENT, disclosure=Disclosure.PUBLIC)
            .prefetch_related("redaction_flags")
        )

    def has_module_permission(self, request):
        return _may_review(request)

    def has_view_permission(self, request, obj=None):
        return _may_review(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.review_view)
        return [
            path("<int:pk>/review/", view, name="publication_review"),
            *super().get_urls(),
        ]

    def review_view(self, request, pk: int):
        reply = self.get_queryset(request).filter(pk=pk).first()
        if reply is None or not _may_review(request):
            raise Http404
        if request.method == "POST":
            return self._post(request, reply)
        with transaction.atomic():
            flags = review.flag_reply(reply)
        rows = [(flag, *_context(reply, flag)) for flag in flags]
        context = {
            **self.admin_site.each_context(request),
            "title": _("公开前个人信息审查"),
            "reply": reply,
            "rows": rows,
            "pending": sum(1 for f in flags if f.decision == RedactionFlag.Decision.PENDING),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "publication/admin/review.html", context)

    def _post(self, request, reply: Reply):
        try:
            # Each decision is its own call (kept even when publishing is then refused).
            for flag in review.flag_reply(reply):
                decision = request.POST.get(f"decision-{flag.pk}", "")
                reason = request.POST.get(f"reason-{flag.pk}", "")
                if decision and (decision, reason.strip()) != (flag.decision, flag.reason):
                    review.decide_flag(flag, actor=request.user, decision=decision, reason=reason)
            if "publish" in request.POST:
                rwf.publish_reply(reply, actor=request.user)
        except WorkflowError as error:
            messages.error(request, str(error))
            return redirect("admin:publication_review", reply.pk)
        if "publish" in request.POST:
            messages.success(request, _("已公开：%(t)s") % {"t": reply.title})
            return redirect("admin:publication_publicationqueue_changelist")
        messages.success(request, _("审查结果已保存。"))
        return redirect("admin:publication_review", reply.pk)
