"""What every part of the API shares: the error body, throttles, pagination, cache headers.

It lives in the base app so that ``replies.api`` and ``tracker.api`` can both use it
(dependencies run ``tracker`` → ``replies`` → ``proposals``).

- Errors: one exception handler (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``) turns every refusal
  into ``{code, message, fields}`` with a Chinese message a person can act on: a workflow
  refusal (``WorkflowError``) is 400, or 409 when the object is in the wrong state; invalid
  input is 400 with the fields that were wrong; an object the caller may not see is 404, just
  like one that does not exist.
- Public views take no credentials, are throttled per client address and cacheable
  (``Cache-Control: public``); member and integration views are ``private, no-store``.
- Query parameters are strict: a value the schema does not allow (``?session=abc``,
  ``?page_size=0``, an unknown ordering, an empty ``?year=``) is a 400, never silently ignored,
  so a client's mistake shows up as one.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView, set_rollback

from proposals.api.throttles import AnonThrottle
from proposals.replica import portal_reads
from proposals.workflow import WorkflowError

#: How long a shared cache (the portal's proxy, a CDN) may keep a public answer.
PUBLIC_MAX_AGE = datetime.timedelta(minutes=5)
#: A signed PDF never changes; a correction is another reply with another URL.
PUBLIC_FILE_MAX_AGE = datetime.timedelta(days=1)

# --- Errors ---------------------------------------------------------------------------------

#: Workflow error codes that mean "not now, the object is elsewhere in its life" (409).
CONFLICT_CODES = frozenset({"wrong_state", "stale_version", "unconfirmed_coproposers"})


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    code = serializers.CharField(
        help_text="机器可读的错误代码，例如 invalid、not_found、wrong_state"
    )
    message = serializers.CharField(help_text="给使用者看的中文说明")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="出错的字段及其说明；与字段无关的错误为空对象",
    )


def error_body(code: str, message: str, fields: Mapping[str, list[str]] | None = None) -> dict:
    return {"code": code, "message": message, "fields": dict(fields or {})}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"rows.3.title": ["…"]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = "non_field_errors" if key == api_settings.NON_FIELD_ERRORS_KEY else str(key)
            out.update(_flatten(value, f"{prefix}.{name}" if prefix else name))
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(str(i) for i in detail)
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    elif detail is not None:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


def _first_message(fields: Mapping[str, list[str]]) -> str:
    for messages in fields.values():
        if messages:
            return messages[0]
    return ""


#: Fixed codes and messages of DRF's errors, by class (checked in order: subclasses first).
_FIXED_ERRORS: tuple[tuple[type[exceptions.APIException], str, Any], ...] = (
    (exceptions.NotFound, "not_found", gettext_lazy("未找到。")),
    (
        exceptions.NotAuthenticated,
        "not_authenticated",
        gettext_lazy("请先登录，或在请求头中提供令牌。"),
    ),
    (
        exceptions.AuthenticationFailed,
        "authentication_failed",
        gettext_lazy("身份验证失败：令牌无效或账号已停用。"),
    ),
    (
        exceptions.NotAcceptable,
        "not_acceptable",
        gettext_lazy("无法按请求的格式（Accept）返回内容。"),
    ),
    (
        exceptions.UnsupportedMediaType,
        "unsupported_media_type",
        gettext_lazy("请求内容须为 JSON（application/json）。"),
    ),
    (exceptions.ParseError, "parse_error", gettext_lazy("请求内容不是有效的 JSON。")),
)


def _workflow_error(exc: WorkflowError) -> Response:
    if exc.code in CONFLICT_CODES:
        status = 409
    elif exc.code == "not_allowed":
        status = 403
    else:
        status = 400
    fields = {exc.field: [exc.message]} if exc.field else {}
    set_rollback()
    return Response(error_body(exc.code, exc.message, fields), status=status)


def _describe(exc: exceptions.APIException, context: dict) -> tuple[str, str, dict[str, list[str]]]:
    """The ``code``, ``message`` and ``fields`` of a DRF error."""
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = _first_message(fields)
        message = _("请求有误：%(first)s") % {"first": first} if first else _("请求有误。")
        return "invalid", message, fields
    for kind, code, message in _FIXED_ERRORS:
        if isinstance(exc, kind):
            return code, str(message), {}
    if isinstance(exc, exceptions.PermissionDenied):
        specific = str(exc.detail) != str(exc.default_detail)
        message = str(exc.detail) if specific else _("您没有执行此操作的权限。")
        return "permission_denied", message, {}
    if isinstance(exc, exceptions.Throttled):
        wait = getattr(exc, "wait", None)
        if wait:
            return "throttled", _("请求过于频繁，请 %(s)s 秒后再试。") % {"s": int(wait)}, {}
        return "throttled", _("请求过于频繁，请稍后再试。"), {}
    if isinstance(exc, exceptions.MethodNotAllowed):
        method = context["request"].method
        return "method_not_allowed", _("不支持 %(method)s 请求。") % {"method": method}, {}
    return str(exc.default_code), str(exc.detail), {}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every error of the API as ``{code, message, fields}``; anything else is a 500."""
    if isinstance(exc, WorkflowError):
        return _workflow_error(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    wait = getattr(exc, "wait", None)
    if wait:
        headers["Retry-After"] = f"{int(wait)}"
    code, message, fields = _describe(exc, context)
    set_rollback()
    return Response(error_body(code, message, fields), status=exc.status_code, headers=headers)


#: The error responses to document on an operation, by status.
def error_responses(*statuses: int) -> dict[int, Any]:
    return {status: ErrorSerializer for status in statuses}


# --- Serializers --------------------------------------------------------------------------


def blank_choice(model, name: str) -> serializers.ChoiceField:
    """A read-only choice field that may be empty, documented as such (a ModelSerializer's
    read-only field loses ``allow_blank``, so the schema would wrongly forbid "")."""
    field = model._meta.get_field(name)
    return serializers.ChoiceField(
        choices=field.choices, allow_blank=field.blank, read_only=True, label=field.verbose_name
    )


# --- Pagination -----------------------------------------------------------------------------


class StrictCursorPagination(CursorPagination):
    """Cursor pagination whose parameters are validated: a bad one is a 400, not ignored.

    ``orderings`` maps the values of ``?ordering=`` to the database ordering; the first field
    places the cursor and ``id`` breaks ties, so a page never repeats or skips a row.
    """

    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"
    ordering_query_param = "ordering"
    orderings: dict[str, tuple[str, ...]] = {"-id": ("-id",)}
    default_ordering = "-id"

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except (TypeError, ValueError):
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("每页条数须为 1 到 %(max)s 之间的整数。") % {"max": self.max_page_size}
                    ]
                }
            )
        return size

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        value = request.query_params.get(self.ordering_query_param, self.default_ordering)
        if value not in self.orderings:
            raise exceptions.ValidationError(
                {
                    self.ordering_query_param: [
                        _("排序只能是：%(values)s。") % {"values": "、".join(self.orderings)}
                    ]
                }
            )
        return self.orderings[value]

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise self._bad_cursor() from None

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            # A forged cursor whose position is not a value of the ordering field.
            raise self._bad_cursor() from None

    def _bad_cursor(self) -> exceptions.ValidationError:
        return exceptions.ValidationError({self.cursor_query_param: [_("分页游标无效。")]})

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": OpenApiParameter.QUERY,
                "description": "分页游标：取上一页响应中 next 或 previous 链接里的值",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": OpenApiParameter.QUERY,
                "description": f"每页条数，默认 {self.page_size}，最多 {self.max_page_size}",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
        if len(self.orderings) > 1:
            parameters.append(
                {
                    "name": self.ordering_query_param,
                    "required": False,
                    "in": OpenApiParameter.QUERY,
                    "description": f"排序，默认 {self.default_ordering}；前加 - 为倒序",
                    "schema": {"type": "string", "enum": list(self.orderings)},
                }
            )
        return parameters


# --- Filters --------------------------------------------------------------------------------


def integer_filter(*, field_name: str, help_text: str, minimum: int = 1, maximum: int = 2**63 - 1):
    """An exact-match integer filter whose bounds are validated and documented."""
    flt = filters.NumberFilter(
        field_name=field_name,
        label=help_text,
        min_value=minimum,
        max_value=maximum,
    )
    flt.field_class = forms.IntegerField
    return extend_schema_field(
        {"type": "integer", "minimum": minimum, "maximum": maximum, "description": help_text}
    )(flt)


class StrictQuerySerializer(serializers.Serializer):
    """Query parameters read with a serializer: one given empty (``?date_to=``) is refused,
    not taken as absent."""

    def to_internal_value(self, data):
        blank = {
            name: [_("参数不能为空。")]
            for name in self.fields
            if name in data and data.get(name) == ""
        }
        if blank:
            raise exceptions.ValidationError(blank)
        return super().to_internal_value(data)


class _UtcIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return value
        try:
            # PostgreSQL refuses offsets past ±15:59 that ISO 8601 allows; UTC it always takes.
            return value.astimezone(datetime.UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError(_("时间超出范围。"), code="invalid") from None


class IsoDateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 date-time with its offset (``2024-05-01T08:00:00+08:00``)."""

    field_class = _UtcIsoDateTimeField


class StrictFilterSet(filters.FilterSet):
    """A FilterSet that refuses a parameter given empty (``?year=``) instead of ignoring it,
    except for the free-text ones listed in ``blank_allowed``."""

    blank_allowed: frozenset[str] = frozenset()

    def get_form_class(self):
        base = super().get_form_class()
        strict = [name for name in self.filters if name not in self.blank_allowed]

        class Form(base):  # type: ignore[valid-type,misc]  # the filterset's, made at run time
            def clean(self):
                cleaned = super().clean()
                for name in strict:
                    if name in self.data and self.data.get(name) == "":
                        self.add_error(name, _("参数不能为空。"))
                return cleaned

        return Form


# --- Views ----------------------------------------------------------------------------------


def _cache_public(response: HttpResponseBase, max_age: datetime.timedelta) -> None:
    if response.status_code in (200, 304):
        patch_cache_control(response, public=True, max_age=int(max_age.total_seconds()))
    else:
        patch_cache_control(response, no_store=True)


class PublicAPIView(APIView):
    """Open to everyone without credentials; throttled per address; cacheable."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AnonThrottle,)
    max_age = PUBLIC_MAX_AGE

    def dispatch(self, request, *args, **kwargs):
        # Reads from the portal's replica when one is configured (proposals/replica.py).
        with portal_reads():
            return super().dispatch(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        _cache_public(response, self.max_age)
        return response


class PrivateAPIView(APIView):
    """A signed-in caller's own data: never stored by a cache."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_cache_control(response, private=True, no_store=True)
        return response


def conditional_response(
    request, data: Any, *, last_modified: datetime.datetime | None
) -> HttpResponseBase:
    """``data`` as JSON with a strong ETag (a hash of the body) and ``Last-Modified``; a 304
    when the client's copy is current."""
    body = JSONRenderer().render(data)
    etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
    timestamp = int(last_modified.timestamp()) if last_modified else None
    conditional = get_conditional_response(
        request._request, etag=etag, last_modified=timestamp, response=None
    )
    if conditional is not None:
        response = conditional
    else:
        # The body that was hashed is the body sent: rendered once.
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    if timestamp is not None:
        response["Last-Modified"] = http_date(timestamp)
    return response
