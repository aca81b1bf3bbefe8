"""The letter admin's own pages: starting a draft, the preview beside the editor, the signed PDF.

A mixin of ``replies.admin.letters.LetterAdmin`` (which holds who sees what); split from it by
subject (issue 18). Every view answers 404 for a letter the user may not see.
"""

from __future__ import annotations

import io
import time
from typing import TYPE_CHECKING, Any

from csp.constants import SELF
from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin

from proposals.admin import _unit_ids, content_disposition
from proposals.admin.access import admin_user
from proposals.models import Assignment
from proposals.workflow import WorkflowError
from replies import previews, workflow
from replies.forms import StartLetterForm
from replies.pdf_limits import LetterTooLarge, check_letter_size
from replies.serving import LetterIntegrityError, read_signed_pdf

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    from django_stubs_ext import StrOrPromise


class LetterViews:
    """起草, 预览 and 下载签发件, for the reply and the opinion admins."""

    # Provided by the admin this is mixed into (``LetterAdmin`` and Django's ``ModelAdmin``).
    opts: Any
    admin_site: Any
    model: Any
    start_label: StrOrPromise
    start_template: str
    get_form: Any
    get_object: Any
    has_view_permission: Any
    message_user: Any

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("start/", wrap(self.start_view), name="{}_{}_start".format(*info)),
            path(
                "start/<int:assignment_id>/",
                wrap(self.start_view),
                name="{}_{}_start_for".format(*info),
            ),
            path(
                "<int:object_id>/preview/",
                wrap(self.preview_view),
                name="{}_{}_preview".format(*info),
            ),
            path(
                "<int:object_id>/download/",
                wrap(self.download_view),
                name="{}_{}_download".format(*info),
            ),
            path("<int:object_id>/word/", wrap(self.word_view), name="{}_{}_word".format(*info)),
            # ModelAdmin's, after this mixin in the admin's MRO.
            *super().get_urls(),  # type: ignore[misc]
        ]

    def _url(self, view: str, obj: Any) -> str:
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_{view}"
        return reverse(name, args=[obj.pk], current_app=self.admin_site.name)

    def _visible_or_404(self, request: HttpRequest, object_id: int) -> Any:
        obj = self.get_object(request, str(object_id))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        return obj

    def start_choices(self, request: HttpRequest) -> list[tuple[str, list[tuple[str, str]]]]:
        """The user's assignments a draft may start from: groups of ``StartLetterForm`` choices."""
        raise NotImplementedError

    def start_letter(self, assignment_id: int, kind: str, actor) -> Any:
        raise NotImplementedError

    def start_view(self, request: HttpRequest, assignment_id: int | None = None) -> HttpResponse:
        """起草: a POST starts the draft and opens it; a GET of an assignment's URL only asks
        (a link may be followed by anything, and a draft is a row in the audit record)."""
        changelist = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        if assignment_id is not None:
            kind = request.POST.get("kind") or request.GET.get("kind", "")
            if request.method != "POST":
                return self._start_confirm(request, assignment_id, kind, changelist)
            choice = f"{assignment_id}:{kind}" if kind else str(assignment_id)
        elif request.method == "POST":
            choice = request.POST.get("choice", "")
        else:
            return HttpResponseRedirect(changelist)
        form = StartLetterForm({"choice": choice})
        if not form.is_valid():
            self.message_user(request, _("请选择要起草的交办件。"), messages.ERROR)
            return HttpResponseRedirect(changelist)
        pk, kind = form.decoded()
        if not Assignment.objects.visible_to(admin_user(request)).filter(pk=pk).exists():
            raise Http404
        try:
            letter = self.start_letter(pk, kind, request.user)
        except WorkflowError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(changelist)
        msg = _("已起草“%(obj)s”，请修改后提交签发。") % {"obj": letter}
        self.message_user(request, msg, messages.SUCCESS)
        return HttpResponseRedirect(self._url("change", letter))

    def _start_confirm(self, request, assignment_id: int, kind: str, changelist: str):
        assignment = (
            Assignment.objects.visible_to(request.user)
            .select_related("proposal", "unit")
            .filter(pk=assignment_id)
            .first()
        )
        if assignment is None:
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            "title": self.start_label,
            "opts": self.opts,
            "assignment": assignment,
            "kind": kind,
            "cancel_url": changelist,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.start_template, context)

    @xframe_options_sameorigin
    # Shown in the editor's frame, like X-Frame-Options.
    @method_decorator(csp_replace({"frame-ancestors": [SELF]}))
    def preview_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The letter as it would print now, with the 草稿 mark while unsigned.

        A POST (the editor's 预览 button, aimed at the frame beside the form) renders what is
        typed without saving it: the form is bound to a copy of the draft in memory. Either way
        the render is the worker's (``replies.previews``); the answer is the PDF if it is ready
        within ``PREVIEW_WAIT``, else a page that asks ``?preview=<token>`` again until it is.
        The first page comes ahead of the rest: once it is ready the frame shows it (a page
        around ``?preview=<token>&page=1``) and takes the whole PDF when that is stored.
        """
        obj = self._visible_or_404(request, object_id)
        if obj.signed_on is not None:
            # The signed letter is the stored file, not a new rendering of it.
            return HttpResponseRedirect(self._url("download", obj))
        token = request.GET.get("preview", "")
        if token and request.method != "POST":
            return self._preview_status(request, obj, token)
        if request.method == "POST":
            if obj.state != self.model.State.DRAFT or obj.unit_id not in _unit_ids(request):
                raise Http404
            form = self.get_form(request, obj, change=True)(request.POST, instance=obj)
            if not form.is_valid():
                errors = [str(e) for field in form.errors.values() for e in field]
                return self._frame_message(request, _("无法预览：%(e)s") % {"e": "；".join(errors)})
        try:
            check_letter_size(f"{obj.body}\n{obj.closing}")  # as typed, before parsing it
            letter = workflow.letter_for(obj)
            check_letter_size(letter)
            record = previews.start(
                letter, user_id=admin_user(request).pk, kind=self._preview_kind, pk=obj.pk
            )
            record = previews.wait(record, first=True)
        except LetterTooLarge as exc:
            return self._frame_message(request, _("无法预览：%(e)s") % {"e": exc.message})
        except previews.Unavailable as exc:
            return self._frame_message(request, exc.message)
        return self._preview_answer(request, obj, record)

    @property
    def _preview_kind(self) -> str:
        """What a preview is filed under: the model's name (``reply``, ``coopinion``)."""
        name = self.opts.model_name
        assert name is not None  # Django names every model
        return name

    def _preview_status(self, request: HttpRequest, obj: Any, token: str) -> HttpResponse:
        """Where a preview stands, for the user who asked for it and no one else (404)."""
        try:
            record = previews.get_for(
                token, user_id=admin_user(request).pk, kind=self._preview_kind, pk=obj.pk
            )
        except previews.Unavailable as exc:
            return self._frame_message(request, exc.message)
        if record is None:
            raise Http404
        if request.GET.get("page") == "1":
            return self._first_page(request, obj, record)
        # ``state=1``: the first-page page's script, which waits for the whole PDF only.
        polling = request.GET.get("state") == "1"
        try:
            # A short long-poll: the waiting page asks again at once (refresh 0), and each ask
            # answers as soon as the PDF (or its first page) is stored, not a second later.
            record = previews.wait(record, previews.STATUS_WAIT, first=not polling)
        except previews.Unavailable as exc:
            return self._frame_message(request, exc.message)
        if polling:
            return self._preview_state(record)
        return self._preview_answer(request, obj, record)

    def _first_page(self, request: HttpRequest, obj: Any, record: dict) -> HttpResponse:
        """The first page alone, shown while the rest of the letter is laid out."""
        data = previews.first_pdf(record)
        if data is None:
            raise Http404
        return self._pdf_response(data, obj, "（草稿第1页）")

    @staticmethod
    def _preview_state(record: dict) -> HttpResponse:
        """Whether the whole PDF is there to take (for the first-page page's script)."""
        ended = record["state"] in (previews.DONE, previews.FAILED) or previews.stalled(record)
        response = JsonResponse({"ended": bool(ended)})
        patch_cache_control(response, private=True, no_store=True)
        return response

    @staticmethod
    def _pdf_response(data: bytes, obj: Any, suffix: str) -> HttpResponse:
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = content_disposition(
            "inline", f"{obj.title}{suffix}.pdf", f"draft-{obj.pk}.pdf"
        )
        patch_cache_control(response, private=True, no_store=True)
        return response

    def _preview_answer(self, request: HttpRequest, obj: Any, record: dict) -> HttpResponse:
        """The PDF, the reason there is none, or the page that waits for it."""
        if record["state"] == previews.DONE:
            data = previews.pdf(record)
            if data is None:
                return self._frame_message(request, _("预览已过期，请重新预览。"))
            return self._pdf_response(data, obj, "（草稿）")
        reason = record["message"] if record["state"] == previews.FAILED else ""
        reason = reason or previews.stalled(record)
        if reason:
            return self._frame_message(request, _("无法预览：%(e)s") % {"e": reason})
        status_url = f"{self._url('preview', obj)}?preview={record['token']}"
        context = {
            "status_url": status_url,
            "refresh": 0,
            "waited": int(time.time() - record["created"]),
        }
        template = "admin/replies/preview_waiting.html"
        if record.get("first"):
            # The first page is ready: shown at once, the whole letter taken when it is stored.
            template = "admin/replies/preview_first_page.html"
            context.update(first_url=f"{status_url}&page=1", state_url=f"{status_url}&state=1")
        response = TemplateResponse(request, template, context)
        patch_cache_control(response, private=True, no_store=True)
        return response

    @staticmethod
    def _frame_message(request: HttpRequest, message: StrOrPromise) -> HttpResponse:
        # The style carries the request's nonce: the Content-Security-Policy allows no other.
        html = format_html(
            '<!doctype html><meta charset="utf-8"><style nonce="{}">body {{ font: 14px sans-serif;'
            " color: #b42318; padding: 1em; }}</style><body>{}</body>",
            request.csp_nonce,  # type: ignore[attr-defined]  # set by django-csp's middleware
            message,
        )
        response = HttpResponse(html)
        patch_cache_control(response, private=True, no_store=True)
        return response

    @xframe_options_sameorigin
    @method_decorator(csp_replace({"frame-ancestors": [SELF]}))
    def download_view(self, request: HttpRequest, object_id: int) -> HttpResponseBase:
        """The stored signed PDF, named after its 文号 (``?inline=1``: shown in the editor),
        read and checked once (``replies.serving``): what was checked is what is sent."""
        obj = self._visible_or_404(request, object_id)
        if obj.signed_on is None:
            self.message_user(request, _("尚未签发，没有签发件。"), messages.WARNING)
            return HttpResponseRedirect(self._url("change", obj))
        if not obj.pdf:
            self.message_user(request, _("签发件正在生成，请稍后再下载。"), messages.WARNING)
            return HttpResponseRedirect(self._url("change", obj))
        try:
            data = read_signed_pdf(obj)
        except LetterIntegrityError as refused:
            return self._refused_original(request, obj, refused)
        response = FileResponse(io.BytesIO(data), content_type="application/pdf")
        response["Content-Disposition"] = content_disposition(
            "inline" if request.GET.get("inline") else "attachment",
            f"{obj.doc_number or obj.title}.pdf",
            f"{self.opts.model_name}-{obj.pk}.pdf",
        )
        patch_cache_control(response, private=True)
        return response

    def _refused_original(
        self, request: HttpRequest, obj: Any, refused: LetterIntegrityError
    ) -> HttpResponseBase:
        """A stored file that is missing or no longer verifies is never served as the original.
        The committee (who see it on the dashboard) may download the file as it now is, to
        look into it, with ``?investigate=1``: named 已改动（非原件）, flagged in a header."""
        data = refused.stored.data
        committee = bool(getattr(request.user, "is_committee", False))
        if committee and data is not None and request.GET.get("investigate"):
            response = FileResponse(io.BytesIO(data), content_type="application/pdf")
            response["Content-Disposition"] = content_disposition(
                "attachment",
                f"{obj.doc_number or obj.title}（已改动，非原件）.pdf",
                f"{self.opts.model_name}-{obj.pk}-changed.pdf",
            )
            response["X-Letter-Integrity"] = "changed"
            patch_cache_control(response, private=True, no_store=True)
            return response
        message = _("签发件核验未通过：%(problem)s不作为原件提供，办公室正在核查。") % {
            "problem": refused.problem
        }
        if request.GET.get("inline"):
            return self._frame_message(request, message)
        if committee and data is not None:
            message = format_html(
                '{} <a href="{}?investigate=1">{}</a>',
                message,
                self._url("download", obj),
                _("下载现存文件以便核查"),
            )
        self.message_user(request, message, messages.ERROR)
        return HttpResponseRedirect(self._url("change", obj))

    def word_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The letter as an editable Word document: a draft (watermarked 草稿) to circulate for
        comment, or a copy of the signed letter marked 副本 (the signed PDF stays the original).
        Built by ``settings.LETTER_WORD_BUILDER`` (an app above replies)."""
        obj = self._visible_or_404(request, object_id)
        builder = getattr(settings, "LETTER_WORD_BUILDER", "")
        if not builder:
            raise Http404
        signed = obj.signed_on is not None
        data = import_string(builder)(workflow.letter_for(obj), copy=signed)
        suffix = "（副本）" if signed else "（草稿）"
        response = HttpResponse(
            data,
            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
        response["Content-Disposition"] = content_disposition(
            "attachment",
            f"{obj.doc_number or obj.title}{suffix}.docx",
            f"{self.opts.model_name}-{obj.pk}.docx",
        )
        patch_cache_control(response, private=True, no_store=True)
        return response
