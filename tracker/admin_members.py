"""The committee's pages for members' accounts (issue 21): 委员账号 (invite, invite again,
届满 deactivation and its reversal — each an action that calls the one function of
``tracker.members``), the import of a session's list of 委员 from Excel, and the ledgers of
invitations and members' notices (read-only; a failed one may be put back in the queue).
Registered by ``tracker.admin``."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals.models import Proposer, Session
from proposals.workflow import members as accounts
from tracker.admin import OutgoingAdmin, _is_committee, _sees_everything
from tracker.members import invitations, roster
from tracker.models import Invitation, Member, MemberNotice, MemberPreference


@admin.action(
    description=gettext_lazy("邀请：开通账号并发送设置密码邮件"), permissions=["committee"]
)
def invite(modeladmin, request: HttpRequest, queryset: QuerySet):
    report = invitations.invite_members(list(queryset), actor=request.user)
    modeladmin.message_user(
        request,
        _("新开通账号 %(a)d 个，发送邀请 %(i)d 封；已邀请过的 %(k)d 人未重复发送。")
        % {"a": report.accounts_created, "i": len(report.invited), "k": report.already_invited},
        messages.SUCCESS,
    )
    if report.without_email:
        modeladmin.message_user(
            request,
            _("以下委员没有登记电子邮箱，未能邀请：%(n)s") % {"n": "、".join(report.without_email)},
            messages.WARNING,
        )


@admin.action(description=gettext_lazy("重新发送邀请（尚未设置密码的）"), permissions=["committee"])
def reinvite(modeladmin, request: HttpRequest, queryset: QuerySet):
    sent = [p for p in queryset if invitations.reinvite_member(p, actor=request.user)]
    modeladmin.message_user(
        request, _("已重新发送 %(n)d 封邀请。") % {"n": len(sent)}, messages.SUCCESS
    )


@admin.action(description=gettext_lazy("届满停用（保留全部记录）"), permissions=["committee"])
def deactivate(modeladmin, request: HttpRequest, queryset: QuerySet):
    n = sum(accounts.deactivate_member(p, actor=request.user, note=_("届满")) for p in queryset)
    modeladmin.message_user(request, _("已停用 %(n)d 名委员。") % {"n": n}, messages.SUCCESS)


@admin.action(description=gettext_lazy("恢复启用"), permissions=["committee"])
def reactivate(modeladmin, request: HttpRequest, queryset: QuerySet):
    n = sum(accounts.reactivate_member(p, actor=request.user) for p in queryset)
    modeladmin.message_user(request, _("已恢复 %(n)d 名委员。") % {"n": n}, messages.SUCCESS)


class RosterForm(forms.Form):
    session = forms.ModelChoiceField(
        label=gettext_lazy("届次会议"), queryset=Session.objects.order_by("-year", "-term")
    )
    file = forms.FileField(
        label=gettext_lazy("委员名单（Excel）"),
        help_text=gettext_lazy("第一行为表头：姓名、界别、手机、电子邮箱。"),
    )
    invite = forms.BooleanField(
        label=gettext_lazy("导入后立即邀请（发送设置密码邮件）"), required=False, initial=True
    )


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "sector", "mobile", "email", "account", "invited", "active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "sector", "mobile", "email")
    actions = [invite, reinvite, deactivate, reactivate]
    fields = ("name", "kind", "sector", "mobile", "email", "user", "is_active", "conveners")
    readonly_fields = fields
    change_list_template = "admin/tracker/member/change_list.html"

    def has_view_permission(self, request, obj=None):
        return _is_committee(request)

    def has_module_permission(self, request):
        return _is_committee(request)

    def has_committee_permission(self, request):
        return _is_committee(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # The latest invitation's state and acceptance in the list's own query (a query per
        # row before: 111 for a page of 100 members).
        latest = Invitation.objects.filter(proposer=OuterRef("pk")).order_by("-generation")
        qs = (
            super()
            .get_queryset(request)
            .select_related("user")
            .annotate(
                invitation_state=Subquery(latest.values("state")[:1]),
                invitation_accepted=Subquery(latest.values("accepted_at")[:1]),
            )
        )
        return qs if _is_committee(request) else qs.none()

    @admin.display(description=gettext_lazy("账号"), boolean=True)
    def account(self, obj: Proposer) -> bool:
        return bool(obj.user_id)

    @admin.display(description=gettext_lazy("邀请"))
    def invited(self, obj: Proposer) -> str:
        state = getattr(obj, "invitation_state", None)
        if state is None:
            return "—"
        if obj.invitation_accepted:
            return _("已设置密码")
        return str(dict(Invitation._meta.get_field("state").flatchoices).get(state, state))

    @admin.display(description=gettext_lazy("在任"), boolean=True)
    def active(self, obj: Proposer) -> bool:
        return obj.is_active

    def get_urls(self):
        own = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_roster),
                name="tracker_member_import",
            )
        ]
        return own + super().get_urls()

    def import_roster(self, request: HttpRequest):
        if not _is_committee(request):
            return HttpResponseRedirect(reverse("admin:index"))
        form = RosterForm(request.POST or None, request.FILES or None)
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            rows, errors = roster.read_roster(form.cleaned_data["file"])
            result = (
                roster.import_roster(rows, session=form.cleaned_data["session"], actor=request.user)
                if rows
                else None
            )
            errors = errors or (result.errors if result else [])
            if result and result.ok:
                text = _("已导入 %(n)d 名委员（新建 %(c)d 名）。") % {
                    "n": len(result.proposers),
                    "c": result.created,
                }
                if form.cleaned_data["invite"]:
                    report = invitations.invite_members(result.proposers, actor=request.user)
                    text += _("发送邀请 %(i)d 封。") % {"i": len(report.invited)}
                self.message_user(request, text, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:tracker_member_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("导入委员名单"),
            "form": form,
            "errors": errors,
            "opts": self.model._meta,
        }
        return render(request, "admin/tracker/member/import.html", context)


@admin.register(Invitation)
class InvitationAdmin(OutgoingAdmin):
    list_display = ("created_at", "proposer", "email", "generation", "state", "accepted_at")
    search_fields = ("email", "proposer__name")
    list_select_related = ("proposer",)
    fields = (
        "proposer",
        "user",
        "email",
        "generation",
        "accepted_at",
        *OutgoingAdmin.readonly_fields,
    )
    readonly_fields = fields


@admin.register(MemberNotice)
class MemberNoticeAdmin(OutgoingAdmin):
    list_display = (
        "created_at",
        "event",
        "channel",
        "proposer",
        "email",
        "phone",
        "state",
        "attempts",
        "error_excerpt",
    )
    list_filter = ("state", "event", "channel", "may_be_duplicate")
    search_fields = ("email", "phone", "proposer__name")
    list_select_related = ("proposer",)
    fields = (
        "event",
        "channel",
        "transition",
        "proposer",
        "email",
        "phone",
        *OutgoingAdmin.readonly_fields,
    )
    readonly_fields = fields


@admin.register(MemberPreference)
class MemberPreferenceAdmin(admin.ModelAdmin):
    list_display = ("proposer", "channels", "updated_at")
    search_fields = ("proposer__name",)
    raw_id_fields = ("proposer",)

    # The committee administers, the supervision office reads (SECURITY.md, system records).
    def has_module_permission(self, request):
        return _sees_everything(request)

    def has_view_permission(self, request, obj=None):
        return _sees_everything(request)

    def has_change_permission(self, request, obj=None):
        return _is_committee(request)

    def has_add_permission(self, request):
        return _is_committee(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if _sees_everything(request) else qs.none()
