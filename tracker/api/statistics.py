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
from tracker.statistics.measures import LEVEL_CHOICES

_COUNTS = statistics.COUNT_FIELDS
_RATES = statistics.RATE_FIELDS
#: Figures that mean nothing at the assignment level: null there.
_PROPOSAL_ONLY = tuple(
    m.attribute for m in statistics.MEASURES if not m.applies(statistics.ASSIGNMENT)
)


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


_LEVELS = LEVEL_CHOICES


class FiguresSerializer(serializers.Serializer):
    """One group's figures; a rate is null when there is nothing to divide by."""

    key = serializers.CharField(allow_null=True, help_text="分组的值（届次或单位编号、类别、月份）")
    label = serializers.CharField()
    filed = serializers.IntegerField(help_text="立案数")
    assigned = serializers.IntegerField(help_text="交办件数")
    replied = serializers.IntegerField(help_text="已办复件数")
    replied_on_time = serializers.IntegerField(help_text="按期办复件数")
    met = serializers.IntegerField(help_text="已见面件数")
    feedback = serializers.IntegerField(help_text="最终意见数（每位提案者最近一次意见）")
    satisfied = serializers.IntegerField(help_text="最终意见中满意与基本满意数")
    overdue = serializers.IntegerField(help_text="逾期：未办结且已过期限的件数")
    sent = serializers.IntegerField(help_text="已送达答复数")
    published = serializers.IntegerField(help_text="已公开答复数")
    co_assigned = serializers.IntegerField(help_text="会办交办数")
    co_done = serializers.IntegerField(help_text="会办意见已送达主办单位的会办交办数")
    merged = serializers.IntegerField(allow_null=True, help_text="并案数（按交办计时为 null）")
    unassigned = serializers.IntegerField(
        allow_null=True, help_text="待交办数：已立案、尚未交办（按交办计时为 null）"
    )
    feedback_first = serializers.IntegerField(help_text="首轮意见数（对首轮答复的意见）")
    satisfied_first = serializers.IntegerField(help_text="首轮意见中满意与基本满意数")
    rehandled = serializers.IntegerField(help_text="不满意重办数")
    co_on_time = serializers.IntegerField(help_text="会办意见按期送达数")
    co_missing = serializers.IntegerField(help_text="未提供会办意见而结束的会办交办数")
    level = serializers.ChoiceField(choices=_LEVELS, help_text="本行的统计口径")
    reply_rate = serializers.FloatField(allow_null=True, help_text="办复率")
    on_time_rate = serializers.FloatField(allow_null=True, help_text="按期办复率")
    meeting_rate = serializers.FloatField(allow_null=True, help_text="见面率")
    satisfaction_rate = serializers.FloatField(
        allow_null=True, help_text="满意率（最终：每位提案者最近一次意见）"
    )
    satisfaction_rate_first = serializers.FloatField(allow_null=True, help_text="满意率（首轮）")
    satisfaction_rate_final = serializers.FloatField(
        allow_null=True, help_text="满意率（最终），同 satisfaction_rate"
    )
    co_on_time_rate = serializers.FloatField(allow_null=True, help_text="会办意见按期率")
    public_rate = serializers.FloatField(allow_null=True, help_text="公开率")
    results = ResultCountsSerializer()
    result_shares = ResultSharesSerializer()


class StatisticsFiltersSerializer(serializers.Serializer):
    session = serializers.IntegerField(allow_null=True)
    unit = serializers.IntegerField(allow_null=True)
    category = serializers.CharField(allow_null=True)
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)


class DefinitionSerializer(serializers.Serializer):
    """指标说明：一项指标在两种口径下的定义。"""

    attribute = serializers.CharField(help_text="指标在 total、rows 中的字段名")
    label = serializers.CharField()
    proposal = serializers.CharField(help_text="按提案计的定义")
    assignment = serializers.CharField(help_text="按承办单位的交办计的定义（—：该口径不适用）")


class StatisticsSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    level = serializers.ChoiceField(choices=_LEVELS, help_text="各分组行的统计口径")
    total_level = serializers.ChoiceField(
        choices=_LEVELS, help_text="合计的统计口径（合计即不分组的统计）"
    )
    filters = StatisticsFiltersSerializer()
    today = serializers.DateField(help_text="计算超期所依据的日期")
    total = FiguresSerializer(help_text="合计：与不分组的统计相同")
    rows_total = FiguresSerializer(
        allow_null=True,
        help_text="各分组行之和；仅在分组行与合计口径不同（按承办单位分组）时给出，否则为 null",
    )
    rows = FiguresSerializer(many=True)
    definitions = DefinitionSerializer(many=True)


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
    data["level"] = fig.level
    if fig.level == statistics.ASSIGNMENT:
        data.update(dict.fromkeys(_PROPOSAL_ONLY))
    data["results"] = {c: fig.results.get(c, 0) for c in ResultClass.values}
    shares = fig.result_shares
    data["result_shares"] = {c: shares.get(c) for c in ResultClass.values}
    return data


class StatisticsView(PublicAPIView):
    """办理统计：立案数、交办件数、办复率、按期办复率、见面率、满意率（首轮、最终）、不满意重办数、
    办理结果分类、会办意见按期率、逾期、公开率；可按届次、承办单位、类别、日期筛选与分组。与管理后台
    的统计页同一口径；合计即不分组的统计，按承办单位分组时另给各单位之和（按交办计）；
    definitions 为各指标的定义。"""

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
            "total_level": result.total_level,
            "filters": result.filters,
            "today": result.today,
            "total": figures_data(result.total),
            "rows_total": figures_data(result.rows_total) if result.rows_total else None,
            "rows": [figures_data(row) for row in result.rows],
            "definitions": statistics.definitions(),
        }
        return Response(StatisticsSerializer(data).data)
