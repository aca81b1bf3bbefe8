"""The committee's admin: every model of ``proposals``, with the lifecycle as actions and buttons.

Three rules shape this module:

- Access follows the user's office, not Django's per-model permissions: the committee (or a
  superuser) may change things; the supervision office sees everything and changes nothing;
  a unit's clerks and signers see only their unit's assignments and the proposals assigned
  to them, and may run the unit's own verbs (签收, 申请退回, 沟通).
- A status never changes here: every verb calls its function in ``proposals.workflow``, one
  row at a time, and shows the ``WorkflowError`` message when the call is refused.
- Verbs that need input go through a small form (``proposals.forms``) on an intermediate
  page, reached from the changelist (an action) or from the change page (a button).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from proposals import deadlines, workflow
from proposals.forms import (
    AssignProposalForm,
    AttachmentForm,
    ExtendAssignmentForm,
    LogContactForm,
    MergeProposalForm,
    NotFileProposalForm,
    RefuseReassignmentForm,
    RequestReassignmentForm,
    ReturnProposalForm,
    TransitionForm,
)
from proposals.models import (
    ASSIGNMENT_TRANSITIONS,
    NUMBERING_PRESETS,
    PROPOSAL_TRANSITIONS,
    VERB_LABELS,
    Assignment,
    AssignmentState,
    ContactRecord,
    CoProposer,
    DayOverride,
    DueDate,
    Extension,
    Membership,
    Proposal,
    ProposalAttachment,
    ProposalStatus,
    Proposer,
    Session,
    Transition,
    Unit,
    User,
    today,
)
from proposals.workdays import WEEKDAY_NAMES, WorkCalendar
from proposals.workflow import InvalidInput, WorkflowError

STATE_LABELS: dict[str, str] = {
    **dict(ProposalStatus.choices),
    **dict(AssignmentState.choices),
    "workday": _("上班"),
    "day_off": _("休息"),
}
#: The clock whose date is "the" deadline of an assignment (its reply, or a co-unit's opinion).
REPLY_CLOCKS = (DueDate.Clock.REPLY, DueDate.Clock.REHANDLING_REPLY, DueDate.Clock.CO_OPINION)
#: While a proposal is in these states its co-proposers may still change.
COPROPOSERS_EDITABLE = frozenset(
    {ProposalStatus.DRAFT, ProposalStatus.RETURNED, ProposalStatus.SUBMITTED}
)


# --- Who may do what ------------------------------------------------------------------------


def _is_committee(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "is_committee", False))


def _sees_everything(request: HttpRequest) -> bool:
    return bool(getattr(request.user, "sees_everything", False))


def _unit_ids(request: HttpRequest) -> set[int]:
    """The units of the signed-in user, read once per request."""
    if not hasattr(request, "_proposals_unit_ids"):
        user = request.user
        ok = user.is_authenticated and user.is_active
        request._proposals_unit_ids = user.unit_ids() if ok else set()
    return request._proposals_unit_ids


def _may_run_unit_verbs(request: HttpRequest) -> bool:
    """Committee, or a unit member; the supervision office only looks."""
    if _is_committee(request):
        return True
    return bool(_unit_ids(request)) and not getattr(request.user, "is_supervisor", False)


def proposals_visible_to(queryset: QuerySet, user: User) -> QuerySet:
    """The admin's view of ``Proposal.objects.visible_to`` on a given queryset."""
    return queryset.filter(pk__in=Proposal.objects.visible_to(user).values("pk"))


class OfficeAdmin(admin.ModelAdmin):
    """Permissions by office: the committee changes, the supervision office looks."""

    def has_view_permission(self, request, obj=None):
        return _sees_everything(request)

    def has_add_permission(self, request):
        return _is_committee(request)

    def has_change_permission(self, request, obj=None):
        return _is_committee(request)

    def has_delete_permission(self, request, obj=None):
        return _is_committee(request)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_committee_permission(self, request):
        return _is_committee(request)

    def has_unit_verb_permission(self, request):
        return _may_run_unit_verbs(request)


class SaveChangedFieldsMixin:
    """Save only what the form changed, so a stale form never overwrites what a workflow
    call wrote in the meantime (a status, a serial): those rows are not raw-saved."""

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        concrete = {f.name for f in obj._meta.concrete_fields}
        fields = [name for name in form.changed_data if name in concrete]
        if fields:
            auto_now = [f.name for f in obj._meta.concrete_fields if getattr(f, "auto_now", False)]
            obj.save(update_fields=[*fields, *auto_now])


class OfficeInline:
    """An inline that may be seen by whoever may see its parent; changed by the committee."""

    extra = 0

    def has_view_permission(self, request, obj=None):
        parent = self.admin_site._registry.get(self.parent_model)
        if parent is None:
            return _sees_everything(request)
        return parent.has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return _is_committee(request)

    def has_change_permission(self, request, obj=None):
        return _is_committee(request)

    def has_delete_permission(self, request, obj=None):
        return _is_committee(request)


class ReadOnlyInline(OfficeInline):
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Verbs: the workflow functions as actions and buttons -----------------------------------

COMMITTEE = "committee"
UNIT = "unit_verb"


@dataclass(frozen=True)
class Verb:
    """One workflow verb as the admin offers it.

    ``name`` is the verb's key in the model's transition table (it decides where the button
    shows); ``run(obj, actor, data)`` calls the workflow; ``who`` is ``COMMITTEE`` or ``UNIT``.
    """

    name: str
    label: str
    run: Callable[[Any, User, dict[str, Any]], Any]
    form_class: type[TransitionForm] | None = None
    who: str = COMMITTEE
    single: bool = False


PROPOSAL_VERBS: tuple[Verb, ...] = (
    Verb("submit", _("提交"), lambda p, actor, d: workflow.submit_proposal(p, actor=actor)),
    Verb(
        "return",
        _("退回修改"),
        lambda p, actor, d: workflow.return_proposal(p, actor=actor, reason=d["reason"]),
        ReturnProposalForm,
    ),
    Verb("resubmit", _("重新提交"), lambda p, actor, d: workflow.resubmit_proposal(p, actor=actor)),
    Verb("file", _("立案"), lambda p, actor, d: workflow.file_proposal(p, actor=actor)),
    Verb(
        "not_file",
        _("不予立案"),
        lambda p, actor, d: workflow.not_file_proposal(
            p, actor=actor, disposition=d["disposition"], note=d["note"]
        ),
        NotFileProposalForm,
    ),
    Verb(
        "merge",
        _("并案"),
        lambda p, actor, d: workflow.merge_proposal(
            p, into=d["target"], actor=actor, note=d["note"]
        ),
        MergeProposalForm,
    ),
    Verb(
        "assign",
        _("交办"),
        lambda p, actor, d: workflow.assign_proposal(
            p, actor=actor, units=d["units"], assigned_on=d["assigned_on"], note=d["note"]
        ),
        AssignProposalForm,
    ),
    Verb("close", _("办结"), lambda p, actor, d: workflow.close_proposal(p, actor=actor)),
)

ASSIGNMENT_VERBS: tuple[Verb, ...] = (
    Verb(
        "accept",
        _("签收"),
        lambda a, actor, d: workflow.accept_assignment(a, actor=actor),
        who=UNIT,
    ),
    Verb(
        "request_reassignment",
        _("申请退回"),
        lambda a, actor, d: workflow.request_reassignment(a, actor=actor, reason=d["reason"]),
        RequestReassignmentForm,
        who=UNIT,
    ),
    Verb(
        "approve_reassignment",
        _("同意退回"),
        lambda a, actor, d: workflow.approve_reassignment(a, actor=actor),
    ),
    Verb(
        "refuse_reassignment",
        _("不同意退回"),
        lambda a, actor, d: workflow.refuse_reassignment(a, actor=actor, note=d["reason"]),
        RefuseReassignmentForm,
    ),
    Verb(
        "extend",
        _("延期"),
        lambda a, actor, d: workflow.extend_assignment(
            a, actor=actor, new_due_on=d["new_due_on"], reason=d["reason"]
        ),
        ExtendAssignmentForm,
    ),
    Verb(
        "log_contact",
        _("登记沟通"),
        lambda a, actor, d: workflow.log_contact(
            a,
            actor=actor,
            contacted_on=d["contacted_on"],
            method=d["method"],
            proposers=d["proposers"],
            participants=d["participants"],
            notes=d["notes"],
        ),
        LogContactForm,
        who=UNIT,
        single=True,
    ),
)


def _verb_action(verb: Verb) -> Callable:
    """The changelist action of a verb: runs it on every selected row."""

    def action(modeladmin: VerbAdmin, request: HttpRequest, queryset: QuerySet):
        return modeladmin.run_verb(
            request, verb, queryset, action_name=verb.name, done_url=request.get_full_path()
        )

    action.__name__ = verb.name
    return admin.action(description=verb.label, permissions=[verb.who])(action)


class VerbAdmin(OfficeAdmin):
    """A model admin whose lifecycle verbs are actions, buttons and intermediate form pages."""

    verbs: Sequence[Verb] = ()
    transitions: dict[str, tuple[frozenset[str], str]] = {}
    state_field = "status"
    change_form_template = "admin/proposals/change_form_verbs.html"
    verb_form_template = "admin/proposals/transition_form.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        verb_view = self.admin_site.admin_view(self.verb_view)
        return [
            path("<int:object_id>/do/<slug:verb>/", verb_view, name="{}_{}_verb".format(*info)),
            *super().get_urls(),
        ]

    def verb_allowed(self, request: HttpRequest, verb: Verb, obj: Any) -> bool:
        if _is_committee(request):
            return True
        if verb.who != UNIT or not _may_run_unit_verbs(request):
            return False
        return getattr(obj, "unit_id", None) in _unit_ids(request)

    def available_verbs(self, request: HttpRequest, obj: Any) -> list[Verb]:
        state = getattr(obj, self.state_field)
        return [
            v
            for v in self.verbs
            if state in self.transitions[v.name][0] and self.verb_allowed(request, v, obj)
        ]

    def describe(self, obj: Any) -> str:
        """One line about an object on the intermediate page."""
        return str(obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            info = self.opts.app_label, self.opts.model_name
            context["verb_state"] = getattr(obj, f"get_{self.state_field}_display")()
            context["verb_buttons"] = [
                {
                    "label": v.label,
                    "url": reverse(
                        "admin:{}_{}_verb".format(*info),
                        args=[obj.pk, v.name],
                        current_app=self.admin_site.name,
                    ),
                }
                for v in self.available_verbs(request, obj)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def verb_view(self, request: HttpRequest, object_id: int, verb: str) -> HttpResponse:
        """The change page's button: a confirmation (or form) page, then the workflow call."""
        spec = next((v for v in self.verbs if v.name == verb), None)
        if spec is None:
            raise Http404
        obj = self.get_object(request, str(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(object_id))
        if not self.verb_allowed(request, spec, obj):
            raise PermissionDenied
        done_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[obj.pk],
            current_app=self.admin_site.name,
        )
        return self.run_verb(request, spec, [obj], done_url=done_url)

    def run_verb(
        self,
        request: HttpRequest,
        verb: Verb,
        objects: Iterable[Any],
        *,
        done_url: str,
        action_name: str | None = None,
    ) -> HttpResponse | None:
        """Show the verb's page, or run it on each object and say how it went.

        From an action (``action_name`` set) a verb without input runs at once, and returning
        ``None`` sends the user back to the changelist; from a button it is confirmed first.
        """
        objects = list(objects)
        from_action = action_name is not None
        if verb.single and len(objects) != 1:
            self.message_user(
                request,
                _("“%(verb)s”一次只能办理一件，请只选择一件。") % {"verb": verb.label},
                messages.ERROR,
            )
            return None if from_action else HttpResponseRedirect(done_url)
        applying = request.method == "POST" and "apply" in request.POST
        form = None
        data: dict[str, Any] = {}
        if verb.form_class is not None:
            form = verb.form_class(request.POST if applying else None, objects=objects)
            if not applying or not form.is_valid():
                return self.render_verb_page(request, verb, objects, form, action_name, done_url)
            data = form.cleaned_data
        elif not applying and not from_action:
            return self.render_verb_page(request, verb, objects, None, action_name, done_url)

        done, failed = self.apply_verb(request, verb, objects, data)
        if form is not None and not done and len(failed) == 1 and len(objects) == 1:
            exc = failed[0][1]
            if isinstance(exc, InvalidInput):
                # Keep what was typed: the error is about the input, so show the form again.
                self.message_user(request, exc.message, messages.ERROR)
                return self.render_verb_page(request, verb, objects, form, action_name, done_url)
        self.report_verb(request, verb, done, failed)
        return None if from_action else HttpResponseRedirect(done_url)

    def apply_verb(
        self, request: HttpRequest, verb: Verb, objects: list[Any], data: dict[str, Any]
    ) -> tuple[list[Any], list[tuple[Any, WorkflowError]]]:
        """Call the workflow once per object; each call commits or rolls back on its own."""
        done: list[Any] = []
        failed: list[tuple[Any, WorkflowError]] = []
        for obj in objects:
            try:
                result = verb.run(obj, request.user, data)
            except WorkflowError as exc:
                failed.append((obj, exc))
            else:
                done.append(result if isinstance(result, type(obj)) else obj)
        return done, failed

    def report_verb(
        self,
        request: HttpRequest,
        verb: Verb,
        done: list[Any],
        failed: list[tuple[Any, WorkflowError]],
    ) -> None:
        if len(done) + len(failed) == 1 and done:
            msg = _("“%(obj)s”已%(verb)s。") % {"obj": done[0], "verb": verb.label}
            self.message_user(request, msg, messages.SUCCESS)
        elif done:
            msg = _("已%(verb)s %(count)d 件。") % {"verb": verb.label, "count": len(done)}
            self.message_user(request, msg, messages.SUCCESS)
        for obj, exc in failed:
            msg = _("“%(obj)s”未能%(verb)s：%(message)s") % {
                "obj": obj,
                "verb": verb.label,
                "message": exc.message,
            }
            self.message_user(request, msg, messages.ERROR)

    def render_verb_page(
        self,
        request: HttpRequest,
        verb: Verb,
        objects: list[Any],
        form: TransitionForm | None,
        action_name: str | None,
        done_url: str,
    ) -> TemplateResponse:
        adminform = (
            helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {}, model_admin=self)
            if form is not None
            else None
        )
        context = {
            **self.admin_site.each_context(request),
            "title": verb.label,
            "opts": self.opts,
            "verb": verb,
            "objects": [(obj, self.describe(obj)) for obj in objects],
            "form": form,
            "adminform": adminform,
            "media": self.media + (form.media if form is not None else forms.Media()),
            "action_name": action_name,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": [obj.pk for obj in objects],
            "cancel_url": done_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.verb_form_template, context)


# --- Shared read-only displays --------------------------------------------------------------


def _when(value: datetime.datetime | None) -> str:
    return date_format(localtime(value), "Y-m-d H:i") if value else "-"


def _state_change(t: Transition) -> str:
    before = STATE_LABELS.get(t.from_state, t.from_state)
    after = STATE_LABELS.get(t.to_state, t.to_state)
    if before and after and before != after:
        return f"{before} → {after}"
    return str(after or before or "")


def _transitions_table(transitions: Iterable[Transition]) -> SafeString:
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                _when(t.at),
                t.actor or _("系统"),
                VERB_LABELS.get(t.verb, t.verb),
                _state_change(t),
                t.note,
            )
            for t in transitions
        ),
    )
    if not rows:
        return format_html("<p>{}</p>", _("尚无操作记录。"))
    return format_html(
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
        "</thead><tbody>{}</tbody></table>",
        _("时间"),
        _("操作人"),
        _("操作"),
        _("状态"),
        _("说明"),
        rows,
    )


def _due_dates_table(dues: Iterable[DueDate]) -> SafeString:
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                d.get_clock_display(),
                d.round,
                f"{d.due_on:%Y-%m-%d}",
                f"{d.completed_on:%Y-%m-%d}" if d.completed_on else "-",
                d.explanation,
            )
            for d in sorted(dues, key=lambda d: (d.round, d.due_on))
        ),
    )
    if not rows:
        return format_html("<p>{}</p>", _("无到期日。"))
    return format_html(
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
        "</thead><tbody>{}</tbody></table>",
        _("时限"),
        _("轮次"),
        _("到期日"),
        _("完成日期"),
        _("计算说明"),
        rows,
    )


# --- Users, units, sessions, proposers ------------------------------------------------------


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
        "organ_name",
        "docno_prefix",
        "letter_format",
        "is_active",
    )
    list_filter = ("letter_format", "is_active")
    search_fields = ("name", "short_name", "organ_name")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "short_name",
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
    def number_preview(self, obj: Session) -> str:
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


# --- Proposals ------------------------------------------------------------------------------


class CoProposerInline(OfficeInline, admin.TabularInline):
    model = CoProposer
    autocomplete_fields = ("proposer",)
    verbose_name = _("联名提案人")
    verbose_name_plural = _("联名提案人（提交审查前可修改）")

    def _editable(self, request, obj) -> bool:
        return _is_committee(request) and (obj is None or obj.status in COPROPOSERS_EDITABLE)

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj)

    def get_fields(self, request, obj=None):
        if self._editable(request, obj):
            return ["proposer", "position", "confirmed_at"]
        # Read-only rows show a labelled name (CoProposer.proposer has no verbose_name).
        return ["proposer_name", "position", "confirmed_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["proposer_name"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "proposer":
            field.label = _("提案者")
        return field

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("proposer")

    @admin.display(description=_("提案者"))
    def proposer_name(self, obj: CoProposer) -> str:
        return str(obj.proposer) if obj.pk else "-"


class ProposalAssignmentInline(ReadOnlyInline, admin.TabularInline):
    model = Assignment
    fields = ("unit", "role", "state", "round", "assigned_on", "reply_due")
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = _("交办（通过“交办”操作增加）")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit").prefetch_related("due_dates")

    @admin.display(description=_("答复（会办）期限"))
    def reply_due(self, obj: Assignment) -> str:
        for clock in REPLY_CLOCKS:
            due = obj.due(clock)
            if due is not None:
                return f"{due.due_on:%Y-%m-%d}"
        return "-"


class AttachmentInline(OfficeInline, admin.TabularInline):
    model = ProposalAttachment
    form = AttachmentForm
    fields = ("file", "name", "uploader", "uploaded_at")
    readonly_fields = ("uploader", "uploaded_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description=_("上传人"))
    def uploader(self, obj: ProposalAttachment) -> str:
        return str(obj.uploaded_by) if obj.uploaded_by else "-"


@admin.register(Proposal)
class ProposalAdmin(SaveChangedFieldsMixin, VerbAdmin):
    verbs = PROPOSAL_VERBS
    transitions = PROPOSAL_TRANSITIONS
    state_field = "status"
    actions = [_verb_action(v) for v in PROPOSAL_VERBS]

    list_display = (
        "number",
        "title",
        "session",
        "lead_proposer",
        "category",
        "status",
        "is_key",
        "submitted_at",
    )
    list_display_links = ("number", "title")
    list_filter = ("status", "session", "category", "is_key")
    search_fields = ("number", "title", "lead_proposer__name")
    list_select_related = ("session", "lead_proposer")
    autocomplete_fields = ("lead_proposer",)
    readonly_fields = (
        "number",
        "status",
        "submitted_at",
        "filed_at",
        "merged_into",
        "disposition",
        "review_note",
        "timeline",
    )
    inlines = [CoProposerInline, ProposalAssignmentInline, AttachmentInline]

    _content = (_("提案内容"), {"fields": ("reason", "analysis", "suggestions")})
    _key = (_("重点提案"), {"fields": ("is_key", "supervising_leader", "key_reply_months")})

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ("session", "title", "category", "lead_proposer")}),
                self._content,
                self._key,
            ]
        return [
            (
                None,
                {"fields": ("session", "number", "status", "title", "category", "lead_proposer")},
            ),
            self._content,
            self._key,
            (
                _("审查"),
                {
                    "fields": (
                        "submitted_at",
                        "filed_at",
                        "merged_into",
                        "disposition",
                        "review_note",
                    )
                },
            ),
            (_("办理经过"), {"fields": ("timeline",)}),
        ]

    def get_queryset(self, request):
        return proposals_visible_to(super().get_queryset(request), request.user)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.serial is not None:
            readonly.append("session")  # the number was given out in this session
        return readonly

    def has_view_permission(self, request, obj=None):
        return _sees_everything(request) or bool(_unit_ids(request))

    def has_delete_permission(self, request, obj=None):
        # Only drafts: anything submitted has an audit trail that protects it.
        ok = obj is None or obj.status == ProposalStatus.DRAFT
        return ok and super().has_delete_permission(request, obj)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProposalAttachment:
            return super().save_formset(request, form, formset, change)
        for attachment in formset.save(commit=False):
            if attachment.pk is None:
                attachment.uploaded_by = request.user
            attachment.save()
        for attachment in formset.deleted_objects:
            attachment.delete()
        formset.save_m2m()

    def describe(self, obj: Proposal) -> str:
        return f"{obj}（{obj.session}，{obj.get_status_display()}）"

    @admin.display(description=_("办理经过"))
    def timeline(self, obj: Proposal) -> SafeString | str:
        if obj is None or obj.pk is None:
            return "-"
        transitions = obj.transitions.select_related("actor").order_by("at", "id")
        parts = [_transitions_table(transitions)]
        assignments = obj.assignments.select_related("unit").prefetch_related("due_dates")
        for a in assignments:
            parts.append(
                format_html(
                    "<h4>{}（{}）· {}</h4>{}",
                    a.unit,
                    a.get_role_display(),
                    a.get_state_display(),
                    _due_dates_table(a.due_dates.all()),
                )
            )
        return format_html_join("", "{}", ((p,) for p in parts))


# --- Assignments ----------------------------------------------------------------------------


class DueDateInline(ReadOnlyInline, admin.TabularInline):
    model = DueDate
    fields = (
        "clock",
        "round",
        "start_on",
        "rule_display",
        "due_on",
        "explanation",
        "is_fixed",
        "completed_on",
    )
    readonly_fields = fields

    @admin.display(description=_("规则"))
    def rule_display(self, obj: DueDate) -> str:
        try:
            amount, unit = deadlines.parse_rule(obj.rule)
        except ValueError:
            return obj.rule
        return f"{amount}{deadlines.UNIT_LABELS[unit]}"


class ExtensionInline(ReadOnlyInline, admin.TabularInline):
    model = Extension
    fields = ("old_due_on", "new_due_on", "reason", "approved_by", "approved_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("approved_by")


class ContactRecordInline(ReadOnlyInline, admin.TabularInline):
    model = ContactRecord
    fields = (
        "contacted_on",
        "method",
        "proposer_list",
        "participants",
        "notes",
        "recorded_by",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.select_related("recorded_by").prefetch_related("proposers")

    @admin.display(description=_("沟通的提案者"))
    def proposer_list(self, obj: ContactRecord) -> str:
        return "、".join(p.name for p in obj.proposers.all()) or "-"


@admin.register(Assignment)
class AssignmentAdmin(VerbAdmin):
    """Assignments are made by 交办 and change only through their verbs: the page is read-only."""

    verbs = ASSIGNMENT_VERBS
    transitions = ASSIGNMENT_TRANSITIONS
    state_field = "state"
    actions = [_verb_action(v) for v in ASSIGNMENT_VERBS]

    list_display = (
        "proposal_number",
        "proposal_title",
        "unit",
        "role",
        "state",
        "round",
        "assigned_on",
        "reply_due",
    )
    list_filter = (
        "state",
        "role",
        ("unit", admin.RelatedOnlyFieldListFilter),
        ("proposal__session", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("proposal__number", "proposal__title", "unit__name", "unit__short_name")
    list_select_related = ("proposal", "unit")
    fields = (
        "proposal",
        "unit",
        "role",
        "round",
        "state",
        "assigned_on",
        "assigned_by",
        "accepted_at",
        "return_reason",
        "created_at",
        "timeline",
    )
    readonly_fields = fields
    inlines = [DueDateInline, ExtensionInline, ContactRecordInline]

    def get_queryset(self, request):
        due = DueDate.objects.filter(
            assignment=OuterRef("pk"), round=OuterRef("round"), clock__in=REPLY_CLOCKS
        ).order_by("due_on")
        return (
            super()
            .get_queryset(request)
            .visible_to(request.user)
            .annotate(
                reply_due_on=Subquery(due.values("due_on")[:1]),
                reply_done_on=Subquery(due.values("completed_on")[:1]),
            )
        )

    def has_view_permission(self, request, obj=None):
        if _sees_everything(request):
            return True
        units = _unit_ids(request)
        return bool(units) and (obj is None or obj.unit_id in units)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def describe(self, obj: Assignment) -> str:
        due = getattr(obj, "reply_due_on", None)
        due_text = _("，期限 %(date)s") % {"date": f"{due:%Y-%m-%d}"} if due else ""
        role, state = obj.get_role_display(), obj.get_state_display()
        return f"{obj.proposal} · {obj.unit}（{role}，{state}{due_text}）"

    @admin.display(description=_("提案号"), ordering="proposal__number")
    def proposal_number(self, obj: Assignment) -> str:
        return obj.proposal.number or "-"

    @admin.display(description=_("案由"), ordering="proposal__title")
    def proposal_title(self, obj: Assignment) -> str:
        return obj.proposal.title

    @admin.display(description=_("答复（会办）期限"), ordering="reply_due_on")
    def reply_due(self, obj: Assignment) -> str:
        due = getattr(obj, "reply_due_on", None)
        if due is None:
            return "-"
        done = getattr(obj, "reply_done_on", None)
        if done is not None:
            return _("%(due)s（%(done)s 完成）") % {
                "due": f"{due:%Y-%m-%d}",
                "done": f"{done:%Y-%m-%d}",
            }
        return f"{due:%Y-%m-%d}"

    @admin.display(description=_("办理经过"))
    def timeline(self, obj: Assignment) -> SafeString | str:
        if obj is None or obj.pk is None:
            return "-"
        transitions = Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(Assignment), object_id=obj.pk
        ).select_related("actor")
        return _transitions_table(transitions)


# --- The audit record and the calendar ------------------------------------------------------


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
    def verb_label(self, obj: Transition) -> str:
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
                    "国务院公布安排后，请在此逐日添加放假和调休上班的日期。"
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
