"""The published replies (政务公开) and a proposer's feedback on a sent reply.

What the portal may show is ``Reply.objects.published()``: published, 主动公开, not superseded
by a sent correction. Anything else — a draft, a reply awaiting signature, a 依申请公开 or
不予公开 one — answers 404, exactly like an id that does not exist.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.http import FileResponse, Http404, HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.exceptions import APIException, NotFound
from rest_framework.generics import GenericAPIView, ListAPIView, get_object_or_404
from rest_framework.response import Response

from proposals.api.common import (
    PUBLIC_FILE_MAX_AGE,
    PrivateAPIView,
    PublicAPIView,
    StrictCursorPagination,
    conditional_response,
    error_responses,
)
from proposals.models import Proposer
from replies import serving, workflow
from replies.api import public_cache
from replies.api.filters import PublishedReplyFilter
from replies.api.serializers import (
    FeedbackInputSerializer,
    FeedbackSerializer,
    PublicReplyDetailSerializer,
    PublicReplySerializer,
    absolute_url,
    withdrawing_correction,
)
from replies.models import Disclosure, Feedback, Reply, ReplyState

#: ``(reply) -> (file, sha256)``: the file the public downloads, registered by ``publication``
#: (a public rendition where personal data was masked; ``(None, "")`` while it is not rendered).
PUBLIC_PDF: Callable[[Reply], tuple[Any, str]] | None = None

#: What a row of the list prints, and no more (the letter's text is for the detail).
LIST_COLUMNS = (
    "id",
    "title",
    "docno_prefix",
    "docno_year",
    "docno_number",
    "kind",
    "result_label",
    "result_class",
    "signed_on",
    "published_on",
    "updated_at",
    "pdf",
    "unit__id",
    "unit__name",
    "unit__short_name",
    "unit__organ_name",
    "proposal__id",
    "proposal__number",
    "proposal__session__id",
    "proposal__session__district",
    "proposal__session__name",
    "supersedes_id",
    "superseded_by__id",
    "superseded_by__state",
    "superseded_by__sent_at",
)


def published_replies():
    """The one queryset of the public API: what may be shown, with what a row prints."""
    return (
        Reply.objects.published()
        .filter(signed_on__isnull=False, published_on__isnull=False)
        .select_related("unit", "proposal__session", "superseded_by")
    )


def published_and_withdrawn_replies():
    """Everything the portal ever showed: the published replies and, as tombstones, those a
    sent correction withdrew (``?include=withdrawn``)."""
    return Reply.objects.filter(
        state=ReplyState.PUBLISHED,
        disclosure=Disclosure.PUBLIC,
        signed_on__isnull=False,
        published_on__isnull=False,
    ).select_related("unit", "proposal__session", "superseded_by")


def cached(request, build: Callable[[], Response], *, part: str) -> HttpResponseBase:
    """``build()``'s data from the cache keyed by the public stamp (``public_cache``), with
    its ETag and Last-Modified; a 304 for a current copy. Errors are never cached."""
    stamp = public_cache.stamp()
    if stamp is None:
        return build()
    token, changed_at = stamp
    key = public_cache.key_for(request._request, token, part=part)
    response: HttpResponseBase | None = public_cache.not_modified(request._request, key, changed_at)
    if response is None:
        data = public_cache.get(key)
        if data is None:
            built = build()
            if built.status_code != 200:
                return built
            public_cache.put(key, built.data)
            response = built
        else:
            response = Response(data)
    public_cache.add_validators(response, key, changed_at)
    return response


class PublishedReplyPagination(StrictCursorPagination):
    orderings = {
        "-published_on": ("-published_on", "-id"),
        "published_on": ("published_on", "id"),
        "-signed_on": ("-signed_on", "-id"),
        "signed_on": ("signed_on", "id"),
    }
    default_ordering = "-published_on"


class PublishedReplyListView(PublicAPIView, ListAPIView):
    """已公开的答复：只含主动公开、已送达并公开、未被更正的答复。"""

    serializer_class = PublicReplySerializer
    filter_backends = (DjangoFilterBackend,)
    filterset_class = PublishedReplyFilter
    pagination_class = PublishedReplyPagination

    def get_queryset(self):
        if self.request.query_params.get("include") == "withdrawn":
            return published_and_withdrawn_replies().only(*LIST_COLUMNS)
        return published_replies().only(*LIST_COLUMNS)

    @extend_schema(
        operation_id="replies_list",
        summary="已公开答复列表",
        tags=["公开"],
        responses={200: PublicReplySerializer(many=True), **error_responses(400, 429)},
    )
    def get(self, request, *args, **kwargs):
        def build():
            return super(PublishedReplyListView, self).get(request, *args, **kwargs)

        return cached(request, build, part="list")


class PublishedReplyDetailView(PublicAPIView, GenericAPIView):
    """一份已公开答复：全文与政务公开元数据（发布机构、文号、成文日期、公开日期、办理结果、
    届次、提案号、标题、提案者姓名）及签发件 PDF 地址。支持 ETag / Last-Modified 条件请求。"""

    serializer_class = PublicReplyDetailSerializer
    filter_backends = ()

    def get_queryset(self):
        return published_replies().select_related("proposal__lead_proposer")

    @extend_schema(
        operation_id="replies_retrieve",
        summary="已公开答复详情",
        tags=["公开"],
        responses={
            200: PublicReplyDetailSerializer,
            304: OpenApiResponse(description="未变化（If-None-Match / If-Modified-Since）"),
            410: OpenApiResponse(description="已被更正撤下：superseded_by 为更正的地址"),
            **error_responses(404, 429),
        },
    )
    def get(self, request, pk: str) -> HttpResponseBase:
        stamp = public_cache.stamp()
        key = public_cache.key_for(request._request, stamp[0], part="detail") if stamp else ""
        hit = public_cache.get(key) if key else None
        if hit is None:
            hit = self._detail(pk)
            if key:
                public_cache.put(key, hit)
        status, data, last_modified = hit
        if status == 410:
            return Response(data, status=410)
        return conditional_response(request, data, last_modified=last_modified)

    def _detail(self, pk: str) -> tuple[int, dict, Any]:
        """``(200, data, updated_at)``, or ``(410, error, None)`` for a withdrawn reply."""
        withdrawn = published_and_withdrawn_replies().filter(pk=pk) if pk.isdigit() else None
        reply = withdrawn.first() if withdrawn is not None else None
        correction = withdrawing_correction(reply) if reply is not None else None
        if correction is not None:
            url = absolute_url(self.request, "api:reply-detail", correction.pk)
            return (
                410,
                {
                    "code": "gone",
                    "message": "此答复已被更正撤下，请查看更正后的答复。",
                    "fields": {},
                    "superseded_by": url,
                },
                None,
            )
        reply = self.get_object()
        context = {"request": self.request, "proposers": workflow.reply_proposers(reply)}
        data = PublicReplyDetailSerializer(reply, context=context).data
        return 200, data, reply.updated_at


class PDFRenderer(renderers.BaseRenderer):
    """Lets a client ask for ``Accept: application/pdf``; the file itself is streamed."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


def content_disposition(kind: str, filename: str, fallback: str) -> str:
    """RFC 6266 with an ASCII fallback and the real (Chinese) name in RFC 5987 ``filename*``."""
    filename = re.sub(r'[\\/:*?"<>|\r\n]+', "_", filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class LetterIntegrityUnavailable(APIException):
    """409, not 503: the stored file conflicts with the record of what was signed, which a
    person must resolve; a 5xx would be logged as a server error on every request."""

    status_code = 409
    default_code = "letter_integrity"
    default_detail = _("签发件原件正在由办公室核验，暂不能提供，请稍后再试。")


def public_pdf_bytes(reply: Reply, stored, sha256: str) -> bytes:
    """The bytes of the public PDF: the signed original read and checked once
    (``replies.serving``), or the public rendition where items were masked (not an original,
    nothing to verify). A missing rendition is a 404 (``Http404``, which the API answers as its
    ``not_found``); a failing original a 409 (``LetterIntegrityUnavailable``)."""
    if sha256 == reply.pdf_sha256:
        try:
            return serving.read_signed_pdf(reply)
        except serving.LetterIntegrityError:
            raise LetterIntegrityUnavailable() from None
    try:
        with stored.open("rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise Http404("the public PDF is missing") from None


class PublishedReplyPDFView(PublicAPIView):
    """签发件 PDF（签发时生成并存档的原件），以文号命名；ETag 为文件的 SHA-256。签发件核验未通过
    （文件在签发后被改动或缺失）时不作为原件提供，答 409（letter_integrity），待办公室核验。"""

    renderer_classes = (renderers.JSONRenderer, PDFRenderer)
    max_age = PUBLIC_FILE_MAX_AGE

    @extend_schema(
        operation_id="replies_pdf",
        summary="已公开答复的签发件 PDF",
        tags=["公开"],
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="答复编号")],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="签发件 PDF"
            ),
            304: OpenApiResponse(description="未变化（If-None-Match）"),
            **error_responses(404, 409, 429),
        },
    )
    def get(self, request, pk: str) -> HttpResponseBase:
        # The class's docstring is the operation's description in the schema (Chinese).
        reply = get_object_or_404(published_replies(), pk=pk)
        not_stored = NotFound()
        stored, sha256 = PUBLIC_PDF(reply) if PUBLIC_PDF else (reply.pdf, reply.pdf_sha256)
        if not stored or not sha256:
            raise not_stored
        etag = f'"{sha256}"'
        last_modified = int(reply.signed_at.timestamp()) if reply.signed_at else None
        conditional = get_conditional_response(
            request._request, etag=etag, last_modified=last_modified
        )
        response: HttpResponseBase
        if conditional is not None:
            response = conditional
        else:
            response = FileResponse(
                io.BytesIO(public_pdf_bytes(reply, stored, sha256)), content_type="application/pdf"
            )
            response["Content-Disposition"] = content_disposition(
                "inline", f"{reply.doc_number or reply.title}.pdf", f"reply-{reply.pk}.pdf"
            )
        response["ETag"] = etag
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified)
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response):
            # An error is JSON whatever the client accepted.
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)


def acting_proposer(user) -> Proposer | None:
    """The proposer a signed-in member acts as (None for staff without one)."""
    if not user.is_authenticated or not user.is_active:
        return None
    return Proposer.objects.filter(user=user).first()


class FeedbackCreateView(PrivateAPIView, GenericAPIView):
    """对已送达答复的征询意见反馈：满意、基本满意或不满意。每位提案者对每份答复只能反馈一次；
    不满意将启动重新办理。"""

    serializer_class = FeedbackInputSerializer
    filter_backends = ()

    def get_queryset(self):
        """Sent replies of the member's own proposals: another member's reply is a 404."""
        return Reply.objects.for_proposer(acting_proposer(self.request.user))

    @extend_schema(
        operation_id="me_replies_feedback_create",
        summary="反馈对答复的意见",
        tags=["委员"],
        request=FeedbackInputSerializer,
        responses={201: FeedbackSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
    )
    def post(self, request, pk: str) -> Response:
        reply = self.get_object()
        serializer = FeedbackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        me = acting_proposer(request.user)
        feedback = workflow.record_feedback(
            reply,
            actor=request.user,
            # Themselves, or the group they convene whose proposal this is.
            proposer=(workflow.feedback_speaker(reply, me) if me else None) or me,
            channel=Feedback.Channel.ONLINE,
            **serializer.validated_data,
        )
        return Response(FeedbackSerializer(feedback).data, status=201)
