"""Filters of the public reply list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q
from django_filters import rest_framework as filters

from proposals.api.common import IsoDateTimeFilter, StrictFilterSet, integer_filter
from replies.models import Reply, ResultClass

#: ``(text) -> (ranked ids, query)``: the full-text search the ``publication`` app registers
#: (jieba and the database's engine); without it ``q`` matches titles, numbers and units.
SEARCH: Callable[[str], tuple[list[int], Any]] | None = None


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
        method="search",
        max_length=100,
        label="关键词：全文检索标题、提案标题、承办单位和正文（中文分词），"
        "或标题、提案号、发布机构包含此文字",
    )
    updated_since = IsoDateTimeFilter(
        method="changed_since",
        label="只列出此时间（ISO 8601，含时区）以后有变化的答复；"
        "与 include=withdrawn 同用时含此后被更正撤下的答复",
    )
    include = filters.ChoiceFilter(
        method="include_withdrawn",
        choices=[("withdrawn", "withdrawn")],
        label="withdrawn：同时列出已被更正撤下的答复（withdrawn 为 true，含 superseded_by）",
    )

    blank_allowed = frozenset({"q"})

    def changed_since(self, queryset, name: str, value):
        """Changed after ``value``: its own row, or the correction that withdrew it."""
        return queryset.filter(Q(updated_at__gte=value) | Q(superseded_by__updated_at__gte=value))

    def include_withdrawn(self, queryset, name: str, value: str):
        return queryset  # the view widens its queryset (``PublishedReplyListView``)

    class Meta:
        model = Reply
        fields: list[str] = []

    def search(self, queryset, name: str, value: str):
        value = value.strip()
        if not value:
            return queryset
        literal = (
            Q(title__icontains=value)
            | Q(proposal__number__icontains=value)
            | Q(unit__organ_name__icontains=value)
            | Q(unit__name__icontains=value)
            | Q(unit__short_name__icontains=value)
        )
        if SEARCH is not None:
            ids, _query = SEARCH(value)
            return queryset.filter(Q(pk__in=ids) | literal)
        return queryset.filter(literal)
