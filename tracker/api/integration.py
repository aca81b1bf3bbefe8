"""The integration API (integration/…): the committee's own systems, by token only.

A caller needs a token (``Authorization: Token …``) of an active committee account that is a
member of the group ``INTEGRATION_GROUP`` — the scope. A session cookie is not enough, so a
committee member's browser cannot be used for bulk work by a page they happen to open.

- ``POST integration/proposals/import/``: a session's filed proposals, all or nothing, with the
  admin's Excel import rules (``tracker.importing.import_filed_proposals``).
- ``GET integration/proposals/``, ``replies/``, ``feedback/``: everything, for reporting.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from proposals.api.common import (
    IsoDateTimeFilter,
    PrivateAPIView,
    StrictCursorPagination,
    StrictFilterSet,
    error_body,
    error_responses,
    integer_filter,
)
from proposals.api.throttles import IntegrationThrottle
from proposals.models import Assignment, CoProposer, Proposal, ProposalStatus
from replies.models import Feedback, Reply, ReplyState
from tracker.api.serializers import (
    ImportRequestSerializer,
    ImportResultSerializer,
    ReportingFeedbackSerializer,
    ReportingProposalSerializer,
    ReportingReplySerializer,
)
from tracker.importing import import_filed_proposals

#: Membership of this group is the integration scope of a committee account's token.
INTEGRATION_GROUP = "接口对接"


class HasIntegrationScope(BasePermission):
    message = "需要提案委员会“接口对接”账号的令牌。"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            isinstance(request.auth, Token)
            and user.is_authenticated
            and user.is_committee
            and user.groups.filter(name=INTEGRATION_GROUP).exists()
        )


class IntegrationView(PrivateAPIView):
    authentication_classes = (TokenAuthentication,)
    permission_classes = (HasIntegrationScope,)
    throttle_classes = (IntegrationThrottle,)


class ById(StrictCursorPagination):
    """In id order, so a client can read everything page by page and resume."""

    orderings = {"id": ("id",)}
    default_ordering = "id"
    page_size = 100
    max_page_size = 500


class ProposalImportView(IntegrationView, GenericAPIView):
    """批量导入已立案提案：全部行校验通过才导入，任何一行有误则一件也不导入，并逐行说明错误。
    导入的提案依次取得本届次的提案号。"""

    serializer_class = ImportRequestSerializer

    @extend_schema(
        operation_id="integration_proposals_import",
        summary="批量导入已立案提案",
        tags=["对接"],
        request=ImportRequestSerializer,
        responses={201: ImportResultSerializer, **error_responses(400, 401, 403, 409, 429)},
    )
    def post(self, request) -> Response:
        serializer = ImportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = import_filed_proposals(data["rows"], actor=request.user, session=data["session"])
        if not result.ok:
            rows = {e.row for e in result.errors if e.row}
            message = (
                _("导入未执行：%(n)s 行有误，请修改后重新导入。") % {"n": len(rows)}
                if rows
                else result.errors[0].message
            )
            return Response(error_body("import_invalid", message, result.errors_by_field()), 400)
        body = {"created": len(result.proposals), "proposals": result.proposals}
        return Response(ImportResultSerializer(body).data, status=201)


class ProposalReportFilter(StrictFilterSet):
    session = integer_filter(field_name="session_id", help_text="届次会议编号")
    status = filters.ChoiceFilter(choices=ProposalStatus.choices, label="状态")
    updated_since = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Proposal
        fields: list[str] = []


class ProposalReportView(IntegrationView, ListAPIView):
    """全部提案（含各承办单位的交办、状态与到期日），供统计报表系统读取。"""

    serializer_class = ReportingProposalSerializer
    pagination_class = ById
    filter_backends = (DjangoFilterBackend,)
    filterset_class = ProposalReportFilter

    def get_queryset(self):
        return Proposal.objects.select_related("session", "lead_proposer").prefetch_related(
            Prefetch("coproposer_links", queryset=CoProposer.objects.select_related("proposer")),
            Prefetch(
                "assignments",
                queryset=Assignment.objects.select_related("unit").prefetch_related("due_dates"),
            ),
        )

    @extend_schema(
        operation_id="integration_proposals_list",
        summary="全部提案",
        tags=["对接"],
        responses={
            200: ReportingProposalSerializer(many=True),
            **error_responses(400, 401, 403, 429),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReplyReportFilter(StrictFilterSet):
    session = integer_filter(field_name="proposal__session_id", help_text="届次会议编号")
    unit = integer_filter(field_name="unit_id", help_text="承办单位编号")
    state = filters.ChoiceFilter(choices=ReplyState.choices, label="状态")
    updated_since = IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Reply
        fields: list[str] = []


class ReplyReportView(IntegrationView, ListAPIView):
    """全部答复（任何状态）的元数据，供统计报表系统读取。"""

    serializer_class = ReportingReplySerializer
    pagination_class = ById
    filter_backends = (DjangoFilterBackend,)
    filterset_class = ReplyReportFilter

    def get_queryset(self):
        return Reply.objects.select_related("proposal")

    @extend_schema(
        operation_id="integration_replies_list",
        summary="全部答复",
        tags=["对接"],
        responses={
            200: ReportingReplySerializer(many=True),
            **error_responses(400, 401, 403, 429),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class FeedbackReportFilter(StrictFilterSet):
    session = integer_filter(field_name="proposal__session_id", help_text="届次会议编号")
    received_since = IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")

    class Meta:
        model = Feedback
        fields: list[str] = []


class FeedbackReportView(IntegrationView, ListAPIView):
    """全部征询意见反馈，供统计报表系统读取。"""

    serializer_class = ReportingFeedbackSerializer
    pagination_class = ById
    filter_backends = (DjangoFilterBackend,)
    filterset_class = FeedbackReportFilter

    def get_queryset(self):
        return Feedback.objects.select_related("proposer")

    @extend_schema(
        operation_id="integration_feedback_list",
        summary="全部征询意见反馈",
        tags=["对接"],
        responses={
            200: ReportingFeedbackSerializer(many=True),
            **error_responses(400, 401, 403, 429),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
