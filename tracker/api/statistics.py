"""The public statistics: the figures of ``tracker.statistics.compute``, the module the admin's
statistics page uses, so the portal and the committee's report never disagree."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from proposals.api.common import PublicAPIView, StrictQuerySerializer, error_responses
from proposals.models import Proposal
from replies.models import ResultClass
from tracker import statistics
from tracker.statistics import Figures, GroupBy

_COUNTS = (
    "filed",
    "assigned",
    "replied",
    "replied_on_time",
    "met",
    "feedback",
    "satisfied",
    "overdue",
    "sent",
    "published",
    "co_assigned",
    "co_done",
)
_RATES = ("reply_rate", "on_time_rate", "meeting_rate", "satisfaction_rate", "public_rate")


class ResultCountsSerializer(serializers.Serializer):
    """办理结果分类的件数：A 解决或采纳、B 列入计划拟解决、C 因条件限制暂不能解决、D 留作参考。"""

    A = serializers.IntegerField()
    B = serializers.IntegerField()
    C = serializers.IntegerField()
    D = serializers.IntegerField()


class ResultSharesSerializer(serializers.Serializer):
    """办理结果分类的占比；没有答复时为 null。"""

    A = serializers.FloatField(allow_null=True)
    B = serializers.FloatField(allow_null=True)
    C = serializers.FloatField(allow_null=True)
    D = serializers.FloatField(allow_null=True)


class FiguresSerializer(serializers.Serializer):
    """One group's figures; a rate is null when there is nothing to divide by."""

    key = serializers.CharField(allow_null=True, help_text="分组的值（届次或单位编号、类别、月份）")
    label = serializers.CharField()
    filed = serializers.IntegerField(help_text="立案数")
    assigned = serializers.IntegerField(help_text="交办件数")
    replied = serializers.IntegerField(help_text="已办复件数")
    replied_on_time = serializers.IntegerField(help_text="按期办复件数")
    met = serializers.IntegerField(help_text="已见面件数")
    feedback = serializers.IntegerField(help_text="收到的征询意见数")
    satisfied = serializers.IntegerField(help_text="满意与基本满意数")
    overdue = serializers.IntegerField(help_text="超期未办件数")
    sent = serializers.IntegerField(help_text="已送达答复数")
    published = serializers.IntegerField(help_text="已公开答复数")
    co_assigned = serializers.IntegerField(help_text="会办件数（按单位统计时）")
    co_done = serializers.IntegerField(help_text="已出具会办意见数（按单位统计时）")
    reply_rate = serializers.FloatField(allow_null=True, help_text="办复率")
    on_time_rate = serializers.FloatField(allow_null=True, help_text="按期办复率")
    meeting_rate = serializers.FloatField(allow_null=True, help_text="见面率")
    satisfaction_rate = serializers.FloatField(allow_null=True, help_text="满意率")
    public_rate = serializers.FloatField(allow_null=True, help_text="公开率")
    results = ResultCountsSerializer()
    result_shares = ResultSharesSerializer()


class StatisticsFiltersSerializer(serializers.Serializer):
    session = serializers.IntegerField(allow_null=True)
    unit = serializers.IntegerField(allow_null=True)
    category = serializers.CharField(allow_null=True)
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)


class StatisticsSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    level = serializers.ChoiceField(
        choices=[("proposal", "按提案计"), ("assignment", "按承办单位的交办计")]
    )
    filters = StatisticsFiltersSerializer()
    today = serializers.DateField(help_text="计算超期所依据的日期")
    total = FiguresSerializer()
    rows = FiguresSerializer(many=True)


class StatisticsQuerySerializer(StrictQuerySerializer):
    session = serializers.IntegerField(required=False, min_value=1, help_text="届次会议编号")
    unit = serializers.IntegerField(required=False, min_value=1, help_text="承办单位编号")
    category = serializers.ChoiceField(required=False, choices=Proposal.Category.choices)
    date_from = serializers.DateField(required=False, help_text="交办（立案）日期自")
    date_to = serializers.DateField(required=False, help_text="交办（立案）日期至")
    group_by = serializers.ChoiceField(
        required=False,
        choices=[(value, label) for value, label in GroupBy.choices if value],
        help_text="分组：session 届次、unit 承办单位、category 类别、month 月份；不填为合计",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("date_from"), attrs.get("date_to")
        if start and end and start > end:
            raise serializers.ValidationError({"date_to": [_("结束日期不能早于开始日期。")]})
        return attrs


def figures_data(fig: Figures) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": None if fig.key is None else str(fig.key),
        "label": str(fig.label),
    }
    data.update({name: getattr(fig, name) for name in _COUNTS})
    data.update({name: getattr(fig, name) for name in _RATES})
    data["results"] = {c: fig.results.get(c, 0) for c in ResultClass.values}
    shares = fig.result_shares
    data["result_shares"] = {c: shares.get(c) for c in ResultClass.values}
    return data


class StatisticsView(PublicAPIView):
    """办理统计：立案数、交办件数、办复率、按期办复率、见面率、满意率、办理结果分类、超期件数、
    公开率；可按届次、承办单位、类别、日期筛选与分组。与管理后台的统计页同一口径。"""

    @extend_schema(
        operation_id="statistics_retrieve",
        summary="办理统计",
        tags=["公开"],
        parameters=[StatisticsQuerySerializer],
        responses={200: StatisticsSerializer, **error_responses(400, 429)},
    )
    def get(self, request) -> Response:
        query = StatisticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        result = statistics.compute(
            session=params.get("session"),
            unit=params.get("unit"),
            category=params.get("category"),
            date_from=params.get("date_from"),
            date_to=params.get("date_to"),
            group_by=params.get("group_by", GroupBy.TOTAL),
        )
        data = {
            "group_by": result.group_by,
            "level": result.level,
            "filters": result.filters,
            "today": result.today,
            "total": figures_data(result.total),
            "rows": [figures_data(row) for row in result.rows],
        }
        return Response(StatisticsSerializer(data).data)
