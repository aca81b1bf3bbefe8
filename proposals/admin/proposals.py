"""Proposals: the committee files, numbers, merges and assigns; units read what is theirs."""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, JsonResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from proposals import workflow
from proposals.admin.access import (
    OfficeInline,
    PlainRelationsMixin,
    ReadOnlyInline,
    _is_committee,
    _sees_everything,
    _unit_ids,
    admin_user,
    proposals_visible_to,
)
from proposals.admin.displays import (
    _due_dates_table,
    _transitions_table,
)
from proposals.admin.proposal_saves import WorkflowSavesMixin
from proposals.admin.search import PROPOSAL_FILTERS, SearchMixin
from proposals.admin.verbs import Verb, VerbAdmin, _verb_action, register_panel
from proposals.forms import (
    AssignProposalForm,
    AttachmentForm,
    ConfirmForm,
    MergeProposalForm,
    NotFileProposalForm,
    ReturnProposalForm,
    merge_targets,
)
from proposals.models import (
    PROPOSAL_TRANSITIONS,
    Assignment,
    ContactRecord,
    CoProposer,
    Proposal,
    ProposalAttachment,
    ProposalStatus,
    Session,
)
from proposals.selectors import REPLY_CLOCKS
from proposals.workflow.edits import COPROPOSERS_EDITABLE

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    from django_stubs_ext import StrOrPromise

#: How many 并案 targets the search box loads at a time.
MERGE_TARGETS_PAGE = 20

PROPOSAL_VERBS: tuple[Verb, ...] = (
    Verb("submit", _("提交"), lambda p, actor, d: workflow.submit_proposal(p, actor=actor)),
    Verb(
        "return",
        _("退回修改"),
        lambda p, actor, d: workflow.return_proposal(p, actor=actor, reason=d["reason"]),
        ReturnProposalForm,
    ),
    Verb("resubmit", _("重新提交"), lambda p, actor, d: workflow.resubmit_proposal(p, actor=actor)),
    Verb(
        "file",
        _("立案"),
        lambda p, actor, d: workflow.file_proposal(p, actor=actor),
        ConfirmForm,
    ),
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
            p,
            actor=actor,
            units=d["units"],
            assigned_on=d["assigned_on"],
            note=d["note"],
            cross_district_reason=d["cross_district_reason"],
        ),
        AssignProposalForm,
    ),
    Verb("close", _("办结"), lambda p, actor, d: workflow.close_proposal(p, actor=actor)),
)


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
        # A confirmation is the co-proposer's own act (or the paper they signed): not typed.
        return ["proposer_name", "confirmed_at"]

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


class _AttachmentFileInput(admin.widgets.AdminFileWidget):
    """The upload of a new row; a saved row (read-only) shows its file's name only.

    Django's file widget and read-only cell link the media URL ("目前: …"), which is not served
    (it 404s): the working link is the row's 下载 column. ``read_only`` makes the admin's
    read-only cell render through this widget.
    """

    read_only = True

    def render(self, name, value, attrs=None, renderer=None):
        if value and getattr(value, "name", None):
            return PurePath(str(value.name)).name
        return super().render(name, value, attrs, renderer)


class AttachmentInline(OfficeInline, admin.TabularInline):
    """Attachments download through the project's ``attachment-download`` view, which asks
    the proposal's visibility again; the media URL is never shown."""

    model = ProposalAttachment
    form = AttachmentForm
    readonly_fields = ("download", "uploader", "uploaded_at")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "file":
            kwargs["widget"] = _AttachmentFileInput
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        # Added (``add_attachment``) or removed (``remove_attachment``), never rewritten.
        return False

    def get_fields(self, request, obj=None):
        if _is_committee(request):
            return ("file", "name", "download", "uploader", "uploaded_at")
        return ("name", "download", "uploader", "uploaded_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description=_("上传人"))
    def uploader(self, obj: ProposalAttachment) -> str:
        return str(obj.uploaded_by) if obj.uploaded_by else "-"

    @admin.display(description=_("下载"))
    def download(self, obj: ProposalAttachment) -> str:
        if obj.pk is None:
            return "-"
        try:
            url = reverse("attachment-download", args=[obj.pk])
        except NoReverseMatch:
            return "-"
        return format_html('<a href="{}">{}</a>', url, _("下载"))


@admin.register(Proposal)
class ProposalAdmin(SearchMixin, PlainRelationsMixin, WorkflowSavesMixin, VerbAdmin):
    verbs = PROPOSAL_VERBS
    plain_relations = {"lead_proposer": "lead_proposer_name", "session": "session_name"}
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
        "units_display",
        "is_key",
        "submitted_at",
    )
    list_display_links = ("number", "title")
    list_filter = ("status", *PROPOSAL_FILTERS, "session", "category", "is_key")
    # Shows the box; the search itself is ``search.proposal_search`` (``SearchMixin``).
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
        head = ("session", "number", "status", "title", "category", "lead_proposer")
        review = ("submitted_at", "filed_at", "merged_into", "disposition", "review_note")
        fieldsets = [
            (None, {"fields": head}),
            self._content,
            self._key,
            (_("审查"), {"fields": review, "classes": ("collapse",)}),
        ]
        return self.plain_fieldsets(request, obj, fieldsets)

    def get_queryset(self, request):
        qs = proposals_visible_to(super().get_queryset(request), request.user)
        units = Assignment.objects.active().select_related("unit").order_by("role", "pk")
        return qs.prefetch_related(Prefetch("assignments", queryset=units, to_attr="units_now"))

    def get_urls(self):
        view = self.admin_site.admin_view(self.merge_targets_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_merge_targets"
        return [path("merge-targets/", view, name=name), *super().get_urls()]

    def merge_targets_view(self, request: HttpRequest) -> JsonResponse:
        """The 并案 target box's answers, in select2's shape: the proposals the given sessions'
        proposals may be merged into, found by the list's search, a page of 20 at a time."""
        if not _is_committee(request):
            raise PermissionDenied
        sessions = [int(s) for s in request.GET.getlist("session") if s.isdigit()]
        excluded = [int(e) for e in request.GET.getlist("exclude") if e.isdigit()]
        asked = request.GET.get("page", "1")
        page = int(asked) if asked.isdigit() and int(asked) > 0 else 1
        found = self.get_search_results(
            request, merge_targets(sessions, excluded), request.GET.get("term", "")
        )[0]
        start = (page - 1) * MERGE_TARGETS_PAGE
        rows = list(found[start : start + MERGE_TARGETS_PAGE + 1])
        field = MergeProposalForm.base_fields["target"]
        assert isinstance(field, forms.ModelChoiceField)  # declared so on the form
        return JsonResponse(
            {
                "results": [
                    {"id": str(p.pk), "text": field.label_from_instance(p)}
                    for p in rows[:MERGE_TARGETS_PAGE]
                ],
                "pagination": {"more": len(rows) > MERGE_TARGETS_PAGE},
            }
        )

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

    def describe(self, obj: Proposal) -> str:
        return f"{obj}（{obj.session}，{obj.get_status_display()}）"

    def render_verb_page(self, request, verb, objects, form, action_name, done_url):
        response = super().render_verb_page(request, verb, objects, form, action_name, done_url)
        if verb.name == "file" and response.context_data is not None:
            response.context_data["objects"] = self.filing_descriptions(objects)
        return response

    def filing_descriptions(self, objects: list[Proposal]) -> list[tuple[Proposal, str]]:
        """The numbers filing will give, in the order the proposals are filed (a filing
        elsewhere in the session meanwhile takes the next number first)."""
        sessions = {s.pk: s for s in Session.objects.filter(pk__in={p.session_id for p in objects})}
        serials = {pk: s.last_serial for pk, s in sessions.items()}
        rows = []
        for p in objects:
            if p.status != ProposalStatus.SUBMITTED:
                rows.append((p, _("%(p)s — 当前状态不能立案") % {"p": self.describe(p)}))
                continue
            serials[p.session_id] += 1
            number = sessions[p.session_id].format_number(serials[p.session_id])
            rows.append((p, _("%(p)s — 立案编号 %(n)s") % {"p": self.describe(p), "n": number}))
        return rows

    @admin.display(description=_("第一提案人"))
    def lead_proposer_name(self, obj: Proposal) -> str:
        return str(obj.lead_proposer)

    @admin.display(description=_("届次会议"))
    def session_name(self, obj: Proposal) -> str:
        return str(obj.session)

    @admin.display(description=_("承办单位"))
    def units_display(self, obj: Proposal) -> str:
        units = getattr(obj, "units_now", None)
        if not units:
            return "-"
        return "、".join(f"{a.unit}（{a.get_role_display()}）" for a in units)


def contacts_panel(request: HttpRequest, obj: Proposal) -> tuple[StrOrPromise, SafeString]:
    """The contacts of the proposal's assignments the user may see."""
    records = (
        ContactRecord.objects.visible_to(admin_user(request))
        .filter(assignment__proposal=obj)
        .select_related("assignment__unit", "recorded_by")
        .prefetch_related("proposers")
    )
    return _("沟通记录"), contacts_table(records)


def timeline_panel(request: HttpRequest, obj: Proposal) -> tuple[StrOrPromise, SafeString]:
    """What happened to the proposal, and the due dates of its assignments with how each was
    computed. A unit's staff see the steps of what they may see: the proposal's own, and those
    of the assignments and letters visible to them (not another unit's drafts)."""
    transitions = visible_transitions(
        obj.transitions.select_related("actor", "content_type").order_by("at", "id"), request.user
    )
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
    return _("办理经过与到期日"), format_html_join("", "{}", ((p,) for p in parts))


def visible_transitions(transitions, user) -> list:
    """The transitions whose object ``user`` may see (by each model's ``visible_to``)."""
    rows = list(transitions)
    if user.sees_everything:
        return rows
    allowed: dict[int, set[int] | None] = {}
    for content_type_id in {t.content_type_id for t in rows}:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        visible = getattr(getattr(model, "objects", None), "visible_to", None)
        if model is Proposal or visible is None:
            allowed[content_type_id] = None  # the proposal itself, or a model without owners
            continue
        ids = {t.object_id for t in rows if t.content_type_id == content_type_id}
        allowed[content_type_id] = set(
            visible(user).filter(pk__in=ids).values_list("pk", flat=True)
        )
    return [t for t in rows if (seen := allowed[t.content_type_id]) is None or t.object_id in seen]


register_panel(Proposal, contacts_panel, order=20)
register_panel(Proposal, timeline_panel, order=90)


def contacts_table(records) -> SafeString:
    rows = [
        (
            f"{c.contacted_on:%Y-%m-%d}",
            c.assignment.unit,
            c.get_method_display(),
            "、".join(p.name for p in c.proposers.all()) or "-",
            c.participants or "-",
            c.notes or "-",
            c.recorded_by or "-",
        )
        for c in records
    ]
    if not rows:
        return format_html("<p>{}</p>", _("尚无沟通记录。"))
    head = (_("日期"), _("单位"), _("方式"), _("提案者"), _("参与人员"), _("内部记录"), _("记录人"))
    return format_html(
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<th>{}</th>", ((h,) for h in head)),
        format_html_join("", "<tr>" + "<td>{}</td>" * 7 + "</tr>", rows),
    )
