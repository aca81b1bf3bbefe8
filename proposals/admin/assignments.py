"""Assignments: each unit's share of a proposal, its due dates, extensions and contacts.

Assignments are made by 交办 and change only through their verbs, so the page is read-only:
what a clerk does here is press the buttons of the transitions allowed now (签收, 申请退回,
登记沟通); the committee approves reassignment and extension the same way.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from proposals import deadlines, workflow
from proposals import models as _models
from proposals.admin.access import (
    OfficeAdmin,
    PlainRelationsMixin,
    ReadOnlyInline,
    _sees_everything,
    _unit_ids,
)
from proposals.admin.displays import _transitions_table
from proposals.admin.search import DueFilter, SearchMixin, assignment_search
from proposals.admin.verbs import UNIT, Verb, VerbAdmin, _verb_action
from proposals.forms import (
    ApproveExtensionForm,
    ExtendAssignmentForm,
    LogContactForm,
    RefuseExtensionForm,
    RefuseReassignmentForm,
    RequestExtensionForm,
    RequestReassignmentForm,
)
from proposals.models import (
    ASSIGNMENT_TRANSITIONS,
    OPEN_ASSIGNMENT_STATES,
    Assignment,
    ContactRecord,
    DueDate,
    Extension,
    ExtensionRequest,
    Transition,
)
from proposals.selectors import (  # noqa: F401  (the first two: re-exported by proposals.admin)
    DUE_SOON_WORKDAYS,
    filter_due,
    with_current_due,
)


class ExtensionRequestFilter(admin.SimpleListFilter):
    title = _("延期申请")
    parameter_name = "extension"

    def lookups(self, request, model_admin):
        return [("pending", _("待审批"))]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(extension_requests__state=ExtensionRequest.State.PENDING)
        return queryset


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
        "request_extension",
        _("申请延期"),
        lambda a, actor, d: workflow.request_extension(
            a, actor=actor, new_due_on=d["new_due_on"], reason=d["reason"]
        ),
        RequestExtensionForm,
        who=UNIT,
    ),
    Verb(
        "approve_extension",
        _("同意延期"),
        lambda a, actor, d: workflow.approve_extension(a, actor=actor, note=d["note"]),
        ApproveExtensionForm,
    ),
    Verb(
        "refuse_extension",
        _("不同意延期"),
        lambda a, actor, d: workflow.refuse_extension(a, actor=actor, note=d["reason"]),
        RefuseExtensionForm,
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


class ExtensionRequestInline(ReadOnlyInline, admin.TabularInline):
    model = ExtensionRequest
    fields = (
        "requested_at",
        "requested_by",
        "due_on_then",
        "requested_due_on",
        "reason",
        "state",
        "decided_by",
        "decision_note",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("requested_by", "decided_by")


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
class AssignmentAdmin(SearchMixin, PlainRelationsMixin, VerbAdmin):
    """Assignments are made by 交办 and change only through their verbs: the page is read-only."""

    search = staticmethod(assignment_search)

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
        DueFilter,
        ExtensionRequestFilter,
        "state",
        "role",
        ("unit", admin.RelatedOnlyFieldListFilter),
        ("proposal__session", admin.RelatedOnlyFieldListFilter),
    )
    # Shows the box; the search itself is ``search.assignment_search`` (``SearchMixin``).
    search_fields = ("proposal__number", "proposal__title", "unit__name", "unit__short_name")
    list_select_related = ("proposal", "unit")
    plain_relations = {"unit": "unit_name", "assigned_by": "assigned_by_name"}
    fieldsets = (
        (None, {"fields": (("proposal", "unit"), ("role", "round", "state"))}),
        (
            _("交办与签收"),
            {"fields": (("assigned_on", "assigned_by"), "accepted_at", "return_reason")},
        ),
        (_("提案内容"), {"fields": ("proposal_summary",), "classes": ("collapse",)}),
        (_("办理经过"), {"fields": ("timeline",)}),
    )
    readonly_fields = (
        "proposal",
        "unit",
        "role",
        "round",
        "state",
        "assigned_on",
        "assigned_by",
        "accepted_at",
        "return_reason",
        "proposal_summary",
        "timeline",
    )
    inlines = [DueDateInline, ExtensionRequestInline, ExtensionInline, ContactRecordInline]

    #: Verbs that answer a unit's pending extension request, and the one that makes it.
    EXTENSION_ANSWERS = frozenset({"approve_extension", "refuse_extension"})

    def available_verbs(self, request, obj):
        verbs = super().available_verbs(request, obj)
        names = {v.name for v in verbs}
        if not names & (self.EXTENSION_ANSWERS | {"request_extension"}):
            return verbs
        pending = workflow.pending_extension_request(obj) is not None
        hidden = {"request_extension"} if pending else set(self.EXTENSION_ANSWERS)
        return [v for v in verbs if v.name not in hidden]

    def get_queryset(self, request):
        return with_current_due(super().get_queryset(request).visible_to(request.user))

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
        line = f"{obj.proposal} · {obj.unit}（{role}，{state}{due_text}）"
        pending = workflow.pending_extension_request(obj)
        if pending is not None:
            line += _("；申请延期至 %(date)s，理由：%(reason)s") % {
                "date": f"{pending.requested_due_on:%Y-%m-%d}",
                "reason": pending.reason,
            }
        return line

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
        if obj.state not in OPEN_ASSIGNMENT_STATES:
            return f"{due:%Y-%m-%d}"
        days = (due - _models.today()).days
        if days < 0:
            return format_html(
                '<span class="due due-overdue">{}（{}）</span>',
                f"{due:%Y-%m-%d}",
                _("逾期 %(n)d 天") % {"n": -days},
            )
        # A week of calendar days is about the dashboard's five working days, without reading
        # the calendar once per row.
        css = "due-soon" if days <= 7 else "due-open"
        return format_html('<span class="due {}">{}</span>', css, f"{due:%Y-%m-%d}")

    @admin.display(description=_("承办单位"))
    def unit_name(self, obj: Assignment) -> str:
        return str(obj.unit)

    @admin.display(description=_("交办人"))
    def assigned_by_name(self, obj: Assignment) -> str:
        return str(obj.assigned_by) if obj.assigned_by_id else "-"

    @admin.display(description=_("提案"))
    def proposal_summary(self, obj: Assignment) -> SafeString | str:
        """What the unit handles: the proposers and the text, without leaving the page."""
        if obj is None or obj.pk is None:
            return "-"
        p = obj.proposal
        names = "、".join(x.name for x in p.proposers())
        parts = [(_("提案者"), names), (_("案由说明"), p.reason)]
        parts += [(_("情况分析"), p.analysis), (_("具体建议"), p.suggestions)]
        return format_html_join(
            "",
            '<p><strong>{}</strong></p><div class="proposal-text">{}</div>',
            ((label, text or "-") for label, text in parts),
        )

    @admin.display(description=_("办理经过"))
    def timeline(self, obj: Assignment) -> SafeString | str:
        if obj is None or obj.pk is None:
            return "-"
        transitions = Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(Assignment), object_id=obj.pk
        ).select_related("actor")
        return _transitions_table(transitions)


@admin.register(ContactRecord)
class ContactRecordAdmin(OfficeAdmin):
    """The contacts a user may see, as a list; they are logged with the assignment's 登记沟通."""

    list_display = (
        "contacted_on",
        "proposal_number",
        "unit_name",
        "method",
        "proposer_list",
        "participants",
        "recorded_by",
    )
    list_filter = (
        "method",
        ("contacted_on", admin.DateFieldListFilter),
        ("assignment__unit", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("assignment__proposal__number", "assignment__proposal__title", "participants")
    list_select_related = ("assignment__proposal", "assignment__unit", "recorded_by")
    fields = (
        "assignment",
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
        qs = super().get_queryset(request).prefetch_related("proposers")
        return qs.filter(pk__in=ContactRecord.objects.visible_to(request.user).values("pk"))

    def has_view_permission(self, request, obj=None):
        return _sees_everything(request) or bool(_unit_ids(request))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("提案号"), ordering="assignment__proposal__number")
    def proposal_number(self, obj: ContactRecord) -> str:
        return obj.assignment.proposal.number or "-"

    @admin.display(description=_("承办单位"), ordering="assignment__unit__name")
    def unit_name(self, obj: ContactRecord) -> str:
        return str(obj.assignment.unit)

    @admin.display(description=_("沟通的提案者"))
    def proposer_list(self, obj: ContactRecord) -> str:
        return "、".join(p.name for p in obj.proposers.all()) or "-"
