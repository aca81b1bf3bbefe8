"""Filters of the public reply list."""

from __future__ import annotations

from django.db.models import Q
from django_filters import rest_framework as filters

from proposals.api.common import IsoDateTimeFilter, StrictFilterSet, integer_filter
from replies.models import Reply, ResultClass


class PublishedReplyFilter(StrictFilterSet):
    session = integer_filter(field_name="proposal__session_id", help_text="届次会议编号")
    unit = integer_filter(field_name="unit_id", help_text="承办单位编号")
    result_class = filters.ChoiceFilter(
        choices=ResultClass.choices, label="办理结果类别：A 解决或采纳 … D 留作参考"
    )
    year = integer_filter(
        field_name="signed_on__year", help_text="成文年份", minimum=1900, maximum=9999
    )
    q = filters.CharFilter(
        method="search", max_length=100, label="关键词：标题、提案号或发布机构，包含即匹配"
    )
    updated_since = IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label="只列出此时间（ISO 8601，含时区）以后有变化的答复",
    )

    blank_allowed = frozenset({"q"})

    class Meta:
        model = Reply
        fields: list[str] = []

    def search(self, queryset, name: str, value: str):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value)
            | Q(proposal__number__icontains=value)
            | Q(unit__organ_name__icontains=value)
            | Q(unit__name__icontains=value)
            | Q(unit__short_name__icontains=value)
        )
