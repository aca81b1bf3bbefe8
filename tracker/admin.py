"""The reminder ledgers in the admin, and each person's reminder settings.

The committee and the supervision office see the ledgers (what was due, what went out, what
failed and why); only the committee may put failed e-mails back in the queue, through
``ledger.requeue_failed`` — the same function for digests and notices. Nothing here changes
a state by hand. Everyone who signs in may choose which reminders to receive.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tracker.mail import ledger
from tracker.models import (
    Digest,
    EventNotice,
    LoginLinkMail,
    NotificationPreference,
    Outgoing,
    Reminder,
    ReminderClock,
    ScanRun,
)


def _is_committee(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_committee", False))


def _sees_everything(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "sees_everything", False))


class LedgerAdmin(admin.ModelAdmin):
    """Read-only: the ledger is written by the scan and the mail tasks only."""

    def get_queryset(self, request):
        # No rows for whoever may not view: Django's history page looks the object up before
        # it asks for the permission, and an existing id must answer like a missing one.
        qs = super().get_queryset(request)
        return qs if self.has_view_permission(request) else qs.none()

    def has_view_permission(self, request, obj=None):
        return _sees_everything(request)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_committee_permission(self, request):
        return _is_committee(request)


@admin.action(description=_("重新发送所选的发送失败邮件"), permissions=["committee"])
def retry_failed(modeladmin: OutgoingAdmin, request: HttpRequest, queryset: QuerySet):
    ids = list(queryset.filter(state=Outgoing.State.FAILED).values_list("pk", flat=True))
    requeued = ledger.requeue_failed(modeladmin.model, ids)
    skipped = queryset.count() - len(requeued)
    if requeued:
        modeladmin.message_user(
            request,
            ngettext("已重新排队 %(n)d 封邮件。", "已重新排队 %(n)d 封邮件。", len(requeued))
            % {"n": len(requeued)},
            messages.SUCCESS,
        )
    if skipped:
        modeladmin.message_user(
            request,
            _("%(n)d 封邮件不是“发送失败”状态，未作处理。") % {"n": skipped},
            messages.WARNING,
        )


class OutgoingAdmin(LedgerAdmin):
    actions = [retry_failed]
    list_filter = ("state", "may_be_duplicate")
    readonly_fields = (
        "state",
        "attempts",
        "last_error",
        "lease_until",
        "next_attempt_at",
        "sent_at",
        "may_be_duplicate",
        "created_at",
    )

    @admin.display(description=_("最近错误"))
    def error_excerpt(self, obj: Outgoing) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error


@admin.register(Digest)
class DigestAdmin(OutgoingAdmin):
    list_display = (
        "on",
        "recipient",
        "email",
        "part",
        "item_count",
        "state",
        "attempts",
        "error_excerpt",
        "sent_at",
    )
    list_filter = ("state", "on", "may_be_duplicate")
    date_hierarchy = "on"
    search_fields = ("email", "user__username", "user__full_name")
    list_select_related = ("user",)
    fields = ("user", "email", "on", "part", *OutgoingAdmin.readonly_fields, "items")
    readonly_fields = fields

    @admin.display(description=_("收件人"), ordering="user__full_name")
    def recipient(self, obj: Digest) -> str:
        return str(obj.user)

    @admin.display(description=_("提醒事项"))
    def items(self, obj: Digest):
        reminders = (
            Reminder.objects.filter(pk__in=obj.reminder_ids)
            .select_related("assignment__proposal", "assignment__unit")
            .order_by("step", "due_on", "pk")
        )
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} {} · {} · {} · {}（{}）</li>",
                (
                    (
                        r.assignment.proposal.number,
                        r.assignment.proposal.title,
                        r.assignment.unit,
                        r.get_clock_display(),
                        r.step_label,
                        r.get_state_display(),
                    )
                    for r in reminders
                ),
            ),
        )


@admin.register(EventNotice)
class EventNoticeAdmin(OutgoingAdmin):
    list_display = (
        "created_at",
        "event",
        "email",
        "state",
        "attempts",
        "error_excerpt",
        "sent_at",
    )
    list_filter = ("state", "event", "may_be_duplicate")
    search_fields = ("email",)
    fields = ("event", "transition", "user", "proposer", "email", *OutgoingAdmin.readonly_fields)
    readonly_fields = fields


@admin.register(LoginLinkMail)
class LoginLinkMailAdmin(OutgoingAdmin):
    """The sign-in links of /my/ and how sending them went (the links are not kept). No
    "retry" of a failed one: its member asks for a new link."""

    actions = []
    list_display = ("created_at", "email", "client_ip", "state", "attempts", "sent_at")
    search_fields = ("email",)
    fields = ("user", "email", "client_ip", "request_key", *OutgoingAdmin.readonly_fields)
    readonly_fields = fields


@admin.register(Reminder)
class ReminderAdmin(LedgerAdmin):
    list_display = (
        "scanned_on",
        "proposal_number",
        "unit",
        "clock",
        "due_on",
        "step_text",
        "state",
    )
    list_filter = ("state", "clock", "scanned_on")
    date_hierarchy = "scanned_on"
    search_fields = (
        "assignment__proposal__number",
        "assignment__proposal__title",
        "assignment__unit__name",
    )
    list_select_related = ("assignment__proposal", "assignment__unit")
    fields = (
        "assignment",
        "reply",
        "clock",
        "due_on",
        "step",
        "scanned_on",
        "batch",
        "recipients",
        "undelivered",
        "state",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("承办单位"), ordering="assignment__unit__name")
    def unit(self, obj: Reminder) -> str:
        return str(obj.assignment.unit)

    @admin.display(description=_("提案号"), ordering="assignment__proposal__number")
    def proposal_number(self, obj: Reminder) -> str:
        return obj.assignment.proposal.number

    @admin.display(description=_("提醒节点"), ordering="step")
    def step_text(self, obj: Reminder) -> str:
        return obj.step_label


@admin.register(ScanRun)
class ScanRunAdmin(LedgerAdmin):
    list_display = (
        "on",
        "runs",
        "items",
        "reminders_created",
        "digests_created",
        "started_at",
        "finished_at",
    )
    fields = list_display
    readonly_fields = fields


class PreferenceForm(forms.ModelForm):
    muted = forms.MultipleChoiceField(
        label=_("不接收以下到期前和到期当日的提醒"),
        choices=ReminderClock.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("逾期通知总会发送，不能关闭。"),
    )

    class Meta:
        model = NotificationPreference
        fields = ("user", "muted")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """Each person edits their own settings; the committee may edit anyone's."""

    form = PreferenceForm
    list_display = ("user", "muted_labels", "updated_at")
    search_fields = ("user__username", "user__full_name")

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user")
        return qs if _is_committee(request) else qs.filter(user=request.user)

    def get_fields(self, request, obj=None):
        return ("user", "muted") if _is_committee(request) else ("muted",)

    def save_model(self, request, obj, form, change):
        if not _is_committee(request):
            obj.user = request.user
        super().save_model(request, obj, form, change)

    def _signed_in(self, request) -> bool:
        return request.user.is_authenticated and request.user.is_active

    def has_module_permission(self, request):
        return self._signed_in(request)

    def has_view_permission(self, request, obj=None):
        return self._signed_in(request) and (
            obj is None or _is_committee(request) or obj.user_id == request.user.pk
        )

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request):
        if not self._signed_in(request):
            return False
        if _is_committee(request):
            return True
        return not NotificationPreference.objects.filter(user=request.user).exists()

    def has_delete_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    @admin.display(description=_("不接收的提醒"))
    def muted_labels(self, obj: NotificationPreference) -> str:
        labels = [str(ReminderClock(c).label) for c in obj.muted if c in ReminderClock.values]
        return "、".join(labels) or "—"


# Members' accounts, invitations and notices (issue 21) live in a module of their own.
import tracker.admin_members  # noqa: E402, F401
