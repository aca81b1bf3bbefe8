"""What the reply and the opinion admins share: the letter editor, its verbs and its PDFs.

- What a user sees is ``Reply.objects.visible_to`` / ``CoOpinion.objects.visible_to``: another
  unit's draft "does not exist" here, and its PDF URLs answer 404.
- A letter is editable only while it is a draft, and only by the members of its unit; the
  committee, the supervision office and a lead unit reading an opinion see it read-only. A save
  calls ``edit_reply``/``edit_opinion`` with the version the form was loaded with, so a save
  over someone else's newer version is refused, and the page comes back with the typed text.
- The editor shows the fields in the order they print, and the PDF beside them: the saved
  draft, or — with 预览 — what is typed, rendered without saving (草稿 watermark either way).
  A Celery worker renders it (``replies.previews``): the request waits a moment for the PDF,
  then answers with a page that polls for it. A draft over the size rules
  (``replies.pdf_limits.check_letter_size``) is refused on save and on preview, naming the limit.
- The verbs reuse ``proposals.admin.VerbAdmin``. Who may run one is its ``who``: the unit's
  members, the unit's signers, or the unit and the committee; the workflow has the last word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.http import (
    HttpRequest,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from proposals import permissions
from proposals.admin import (
    UNIT,
    VerbAdmin,
    _is_committee,
    _sees_everything,
    _transitions_table,
    _unit_ids,
)
from proposals.admin.access import _ModelFormBase, admin_user, per_request
from proposals.models import Transition
from proposals.workflow import WorkflowError, check_state
from replies import workflow
from replies.admin.letter_views import LetterViews
from replies.forms import OpinionForm, ReplyForm
from replies.models import DocNumberCounter, Reply
from replies.pdf_limits import LetterTooLarge, check_letter_size

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    from django_stubs_ext import StrOrPromise

#: Who may run a verb, beside ``proposals.admin.UNIT`` (the unit's members). Each names the
#: ``has_<who>_permission`` method that decides whether the changelist offers the action.
SIGNER = "signer_verb"
UNIT_OR_COMMITTEE = "unit_or_committee"

#: A 文号 typed into the search box: 长发改〔2024〕19号, also with 【】, [] or () brackets.
DOC_NUMBER_SEARCH = re.compile(
    r"^\s*(?P<prefix>[^〔【\[(（]*?)\s*[〔【\[(（]\s*(?P<year>\d{4})\s*[〕】\])）]\s*(?P<number>\d+)\s*号?\s*$"
)


def _signer_unit_ids(request: HttpRequest) -> set[int]:
    """The units the signed-in user signs for, read once per request."""
    return per_request(
        request,
        "_replies_signer_unit_ids",
        lambda: permissions.signer_unit_ids(admin_user(request)),
    )


class _BoundedLetterForm(_ModelFormBase):
    """The editor's form refuses a draft the renderer would refuse, naming the limit and the
    measured size (the rule of signing and rendering too: ``replies.pdf_limits.check_letter_size``).
    Checked on the instance as typed, once the form has put the typed values on it."""

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # Django's hook, missing from the stubs
        typed = f"{self.instance.body}\n{self.instance.closing}"
        try:
            check_letter_size(typed)  # before parsing: a pasted 29,500 lines cost milliseconds
            check_letter_size(workflow.letter_for(self.instance))
        except LetterTooLarge as exc:
            self.add_error("body" if "body" in self.fields else None, exc.message)


class _EditRefused(Exception):
    """The workflow refused a save; carries its error to the second rendering of the page."""

    def __init__(self, error: WorkflowError) -> None:
        super().__init__(error.message)
        self.error = error


def _table(
    headers: Sequence[StrOrPromise], rows: list[tuple[Any, ...]], empty: StrOrPromise
) -> SafeString:
    if not rows:
        return format_html("<p>{}</p>", empty)
    cells = "".join("<td>{}</td>" for _h in headers)
    return format_html(
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<th>{}</th>", ((h,) for h in headers)),
        format_html_join("", f"<tr>{cells}</tr>", rows),
    )


class PdfFilter(admin.SimpleListFilter):
    """签发件: signed letters whose PDF failed (生成失败) or is still missing."""

    title = _("签发件")
    parameter_name = "pdf"

    def lookups(self, request, model_admin):
        return [("failed", _("生成失败")), ("missing", _("尚未生成"))]

    def queryset(self, request, queryset):
        signed = queryset.filter(signed_at__isnull=False, pdf_sha256="")
        if self.value() == "failed":
            return signed.filter(pdf_failed_at__isnull=False)
        if self.value() == "missing":
            return signed
        return queryset


class LetterAdmin(LetterViews, VerbAdmin):
    """What the reply and the opinion admins share."""

    form: type[ReplyForm] | type[OpinionForm]
    edit_fields: Sequence[str] = ()
    edit_letter: Callable[..., Any]
    start_label: StrOrPromise = ""

    state_field = "state"
    change_form_template = "admin/replies/change_form.html"
    change_list_template = "admin/replies/change_list.html"
    start_template = "admin/replies/start_letter.html"
    save_on_top = True
    list_select_related = ("unit", "proposal")
    list_display_links = ("doc_number_display", "title")
    search_fields = ("title", "proposal__number", "docno_prefix")
    list_per_page = 100

    # --- Who sees and changes what ---

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_view_permission(self, request, obj=None):
        return _sees_everything(request) or bool(_unit_ids(request))

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False  # a draft starts from its assignment: see ``start_view``

    def has_change_permission(self, request, obj=None):
        """Drafts, for their unit's members.

        A save that arrives after the letter left the draft state (a colleague submitted it
        meanwhile) is let through to the workflow, which refuses it: the page then comes back
        with the refusal and what was typed, where a 403 would have lost the text.
        """
        units = _unit_ids(request)
        if obj is None:
            return bool(units)
        editable = obj.state == self.model.State.DRAFT or request.method == "POST"
        return editable and obj.unit_id in units

    def has_delete_permission(self, request, obj=None):
        return False

    def has_unit_verb_permission(self, request):
        return bool(_unit_ids(request))

    def has_signer_verb_permission(self, request):
        return bool(_signer_unit_ids(request))

    def has_unit_or_committee_permission(self, request):
        return _is_committee(request) or bool(_unit_ids(request))

    def verb_allowed(self, request, verb, obj):
        if verb.who == SIGNER:
            return obj.unit_id in _signer_unit_ids(request)
        if verb.who == UNIT:
            return obj.unit_id in _unit_ids(request)
        if verb.who == UNIT_OR_COMMITTEE:
            return _is_committee(request) or obj.unit_id in _unit_ids(request)
        return _is_committee(request)

    # --- Lists and search ---

    def get_search_results(self, request, queryset, search_term):
        """A 文号 is stored in three fields; a term shaped like one is looked up in them."""
        match = DOC_NUMBER_SEARCH.match(search_term)
        if match is None:
            return super().get_search_results(request, queryset, search_term)
        found = queryset.filter(docno_year=int(match["year"]), docno_number=int(match["number"]))
        if match["prefix"]:
            found = found.filter(docno_prefix=match["prefix"])
        return found, False

    def changelist_view(self, request, extra_context=None):
        info = self.opts.app_label, self.opts.model_name
        context = {
            "start_choices": self.start_choices(request),
            "start_url": reverse("admin:{}_{}_start".format(*info)),
            "start_label": self.start_label,
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    @admin.display(description=_("文号"), ordering="docno_number")
    def doc_number_display(self, obj) -> str:
        return obj.doc_number or "-"

    @admin.display(description=_("提案号"), ordering="proposal__number")
    def proposal_number(self, obj) -> str:
        return obj.proposal.number or "-"

    @admin.display(description=_("承办单位"), ordering="unit__name")
    def unit_display(self, obj) -> str:
        return str(obj.unit)

    # --- The change page ---

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        attrs = {"refusal": getattr(request, "_letter_refusal", None)}
        if obj is not None:
            attrs["latest_url"] = self._url("change", obj)
        return type(form.__name__, (_BoundedLetterForm, form), attrs)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _EditRefused as refused:
            # The admin shows a form again only when it is invalid: render the same POST once
            # more, with the refusal as the form's error, so that nothing typed is lost.
            request._letter_refusal = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        fields = {name: value for name, value in fields.items() if name in self.edit_fields}
        try:
            if fields:
                version = form.cleaned_data["loaded_version"]
                self.edit_letter(obj.pk, actor=request.user, version=version, **fields)
            else:
                # Nothing to save, so no new version; but a letter past its draft is refused
                # as the workflow would, not reported as saved.
                check_state(self.transitions, "edit", obj.state, self.model.State)
        except WorkflowError as exc:
            raise _EditRefused(exc) from exc

    def text_fieldsets(self, request, obj, editable: bool) -> list[tuple[Any, dict]]:
        text = ("title", "salutation", "body", "closing")
        return [(_("正文"), {"fields": (*text, "loaded_version") if editable else text})]

    def header_fieldsets(self, request, obj) -> list[tuple[Any, dict]]:
        """What prints above the title (办理结果, 公开属性 for a reply)."""
        return []

    def reference_fieldsets(self, request, obj) -> list[tuple[Any, dict]]:
        """What the drafter reads but does not print (the co-handling opinions)."""
        return []

    def get_fieldsets(self, request, obj=None):
        """The fields in the order they print: header, title to closing, contact, 版记."""
        editable = self.has_change_permission(request, obj)
        contact = ("contact_person", "contact_phone", "contact_address", "contact_postcode")
        return [
            (None, {"fields": (("proposal_link", "unit_display", "kind_display"),)}),
            *self.reference_fieldsets(request, obj),
            *self.signing_fieldsets(obj),
            *self.header_fieldsets(request, obj),
            *self.text_fieldsets(request, obj, editable),
            (_("联系方式"), {"fields": contact}),
            (_("版记"), {"fields": ("cc",)}),
            (_("办理经过"), {"fields": ("timeline",), "classes": ("collapse",)}),
        ]

    #: What every signed letter shows under 签发.
    signed_fields: tuple[str, ...] = (
        "doc_number_display",
        "signer_display",
        "signed_on",
        "pdf_status",
    )

    def filled_fields(self, obj) -> list[str]:
        """The other 签发 fields, shown only when they say something."""
        return ["return_comment"] if obj.return_comment and obj.signed_on is None else []

    def signing_fieldsets(self, obj) -> list[tuple[Any, dict]]:
        if obj is None:
            return []
        fields = [*(self.signed_fields if obj.signed_on else ()), *self.filled_fields(obj)]
        return [(_("签发"), {"fields": fields})] if fields else []

    def get_readonly_fields(self, request, obj=None):
        return (
            "proposal_link",
            "unit_display",
            "kind_display",
            "doc_number_display",
            "signer_display",
            "signed_on",
            "pdf_status",
            "return_comment",
            "timeline",
            *self.extra_readonly_fields,
        )

    extra_readonly_fields: tuple[str, ...] = ()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.letter_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def letter_context(self, request, obj) -> dict[str, Any]:
        notes: list[StrOrPromise] = []
        if obj.state == self.model.State.DRAFT and obj.return_comment:
            notes.append(_("签发人退回意见：%(c)s") % {"c": obj.return_comment})
        if obj.signed_on is not None and not obj.pdf:
            notes.append(self.pdf_note(obj))
        return {
            "preview_url": self._url("preview", obj) if obj.signed_on is None else "",
            "download_url": self._url("download", obj) if obj.pdf else "",
            "letter_notes": notes,
            # The typed text can be previewed without saving while the user may edit it.
            "preview_typed": obj.state == self.model.State.DRAFT
            and obj.unit_id in _unit_ids(request),
            # The editor and its PDF side by side need the room of the navigation sidebar.
            "is_nav_sidebar_enabled": False,
        }

    def describe(self, obj) -> str:
        number = f"{obj.doc_number} " if obj.doc_number else ""
        return f"{number}{obj.title}（{obj.unit}，{obj.get_state_display()}）"

    @admin.display(description=_("提案"))
    def proposal_link(self, obj) -> str:
        url = reverse("admin:proposals_proposal_change", args=[obj.proposal_id])
        return format_html('<a href="{}">{}</a>', url, obj.proposal)

    @admin.display(description=_("类型"))
    def kind_display(self, obj) -> StrOrPromise:
        return obj.get_kind_display() if isinstance(obj, Reply) else _("会办意见")

    @admin.display(description=_("签发人"))
    def signer_display(self, obj) -> str:
        return str(obj.signer) if obj.signer_id else "-"

    @staticmethod
    def pdf_note(obj) -> StrOrPromise:
        """Where a signed letter's missing PDF stands, for the note above the letter."""
        if obj.pdf_failed:
            return _(
                "签发件生成失败：%(reason)s。排除原因后请点“重新生成签发件”；生成前不能送达。"
            ) % {"reason": (obj.pdf_error or _("原因不明")).rstrip("。")}
        if workflow.pdf_late(obj):
            return _(
                "签发已超过%(n)d分钟，签发件仍未生成（后台任务可能未运行），可点“重新生成签发件”。"
            ) % {"n": int(workflow.RENDER_GRACE.total_seconds() // 60)}
        if obj.pdf_attempts:
            return _("签发件第%(n)d次生成失败，正在自动重试：%(reason)s") % {
                "n": obj.pdf_attempts,
                "reason": obj.pdf_error,
            }
        return _("签发件正在生成，生成后可在本页下载。")

    @admin.display(description=_("签发件"))
    def pdf_status(self, obj) -> StrOrPromise:
        if obj.signed_on is None:
            return "-"
        if not obj.pdf:
            if obj.pdf_failed:
                return format_html(
                    "<strong>{}</strong>（{}）：{}",
                    _("生成失败"),
                    _("共%(n)d次") % {"n": obj.pdf_attempts},
                    obj.pdf_error,
                )
            if obj.pdf_attempts:
                return _("正在重试（已失败%(n)d次：%(reason)s）") % {
                    "n": obj.pdf_attempts,
                    "reason": obj.pdf_error,
                }
            return _("正在生成")
        return format_html(
            '<a href="{}">{}</a>（{} KB，SHA-256 <code>{}</code>）',
            self._url("download", obj),
            _("下载签发件"),
            round((obj.pdf_size or 0) / 1024),
            obj.pdf_sha256,
        )

    @admin.display(description=_("办理经过"))
    def timeline(self, obj) -> SafeString | str:
        if obj is None or obj.pk is None:
            return "-"
        transitions = Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        ).select_related("actor")
        return _transitions_table(transitions)

    # --- Verbs ---

    def available_verbs(self, request, obj):
        """重新生成 only for a signed letter whose PDF is missing and late (生成失败, or not
        rendered after ``RENDER_GRACE``); no 送达 while the letter is 生成失败 (the workflow
        refuses it, and the note above the letter says why)."""
        verbs = super().available_verbs(request, obj)
        hidden = set()
        if not workflow.pdf_late(obj):
            hidden.add("rerender")
        if obj.pdf_failed:
            hidden.add("send")
        return [v for v in verbs if v.name not in hidden]

    def verb_confirmation(self, obj, verb):
        """A draft's verb posts without the editor's form: what is typed and not saved stays
        behind, which the dialog says."""
        question = super().verb_confirmation(obj, verb)
        if obj.state == obj.State.DRAFT:
            return f"{question}{_('未保存的修改不会随之提交，请先保存。')}"
        return question

    def report_verb(self, request, verb, done, failed):
        if verb.name != "rerender" or not done:
            return super().report_verb(request, verb, done, failed)
        for obj in done:
            msg = _("“%(obj)s”已重新提交生成签发件，生成后可在本页下载。") % {"obj": obj}
            self.message_user(request, msg, messages.SUCCESS)
        return super().report_verb(request, verb, [], failed)

    def render_verb_page(self, request, verb, objects, form, action_name, done_url):
        response = super().render_verb_page(request, verb, objects, form, action_name, done_url)
        if verb.name == "sign" and response.context_data is not None:
            response.context_data["objects"] = self.signing_descriptions(objects)
        return response

    def signing_descriptions(self, objects: list[Any]) -> list[tuple[Any, SafeString]]:
        """What signing will give each letter: its unit's next 文号 of the year, as far as it
        can be known now (a signing elsewhere in the unit meanwhile takes the number first)."""
        year = timezone.localdate().year
        counters = dict(
            DocNumberCounter.objects.filter(
                unit_id__in={o.unit_id for o in objects}, year=year
            ).values_list("unit_id", "last_number")
        )
        rows = []
        for obj in objects:
            outcome: StrOrPromise
            if obj.unit.docno_prefix:
                counters[obj.unit_id] = counters.get(obj.unit_id, 0) + 1
                number = self.model(
                    docno_prefix=obj.unit.docno_prefix,
                    docno_year=year,
                    docno_number=counters[obj.unit_id],
                ).doc_number
                outcome = format_html(
                    "{} <strong>{}</strong>{}",
                    _("签发后取得文号"),
                    number,
                    _("（本单位本年度的下一个号，以签发时实际取得的为准）"),
                )
            else:
                outcome = _("本单位不编文号")
            rows.append(
                (
                    obj,
                    format_html(
                        '{} — {}。<a href="{}" target="_blank" rel="noopener">{}</a>',
                        self.describe(obj),
                        outcome,
                        self._url("preview", obj),
                        _("预览PDF"),
                    ),
                )
            )
        return rows
