"""Public reference lists: the sessions and the handling units."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from proposals.api.common import PublicAPIView, error_responses
from proposals.api.serializers import SessionSerializer, UnitSerializer
from proposals.models import Session, Unit


class SessionListView(PublicAPIView):
    """届次会议：答复按届次筛选时使用其编号。"""

    @extend_schema(
        operation_id="sessions_list",
        summary="届次会议列表",
        tags=["公开"],
        responses={200: SessionSerializer(many=True), **error_responses(429)},
    )
    def get(self, request):
        sessions = Session.objects.order_by("-year", "district", "-term", "-meeting", "id")
        return Response(SessionSerializer(sessions, many=True).data)


class UnitListView(PublicAPIView):
    """承办单位：名称、简称与发文机关，只含公开字段。"""

    @extend_schema(
        operation_id="units_list",
        summary="承办单位列表",
        tags=["公开"],
        responses={200: UnitSerializer(many=True), **error_responses(429)},
    )
    def get(self, request):
        return Response(UnitSerializer(Unit.objects.order_by("name"), many=True).data)
