"""The committee's figures: 立案, 交办, 办复率, 按期办复率, 见面率, 满意率 (首轮 and 最终),
不满意重办数, the A/B/C/D mix, 会办意见按期率, 逾期, 公开率 — one definition each.

The admin's statistics page, its Excel export, the API and the annual report call ``compute``
and read ``MEASURES`` for headers and the 指标说明 (the written definition of each figure at
each level). The modules, by subject:

    measures   what each figure means (labels, definitions at both levels), ``Figures``
    facts      the set-based queries the figures are counted from (a handful, whatever the size)
    counting   ``compute``: each measure worked out once, per proposal or per assignment

Two levels of counting (docs/domain.md, Statistics), written down because reports are compared
year on year:

- **per proposal** (按提案计, the default): an item is a proposal;
- **per assignment** (按承办单位的交办计, grouped by unit or filtered to one unit): an item is one
  of a unit's lead (主办) or separate (分办) assignments, the share of the work that owes a
  reply; co-handling (会办) assignments are counted apart (会办件数, 会办意见按期率). Withdrawn
  assignments (已退回) never count.

A table's 合计 is always the ungrouped figures of the same scope; grouped by unit its rows are
a different level, so the table adds their sum (``rows_total``), labelled 各单位之和（按交办计）.

The rounds of feedback are chosen explicitly: 满意率（首轮） from each proposer's answer to the
round-1 reply, 满意率（最终） from each proposer's latest answer per assignment; an answer's round
is the round of the reply it answers (``Reply.round``). 逾期 is ``proposals.selectors``' one
rule (``overdue_exists``), never restated here.
"""

from tracker.statistics.counting import (
    REPLYING_ROLES,
    SATISFIED,
    GroupBy,
    Statistics,
    compute,
    overdue_by_unit,
)
from tracker.statistics.measures import (
    ASSIGNMENT,
    COUNT,
    COUNT_FIELDS,
    LEVEL_LABELS,
    MEASURE_BY_ATTRIBUTE,
    MEASURES,
    PROPOSAL,
    RATE,
    RATE_FIELDS,
    RESULT_CLASSES,
    Figures,
    Measure,
    definitions,
    percent,
)

__all__ = [
    "ASSIGNMENT",
    "COUNT",
    "COUNT_FIELDS",
    "LEVEL_LABELS",
    "MEASURES",
    "MEASURE_BY_ATTRIBUTE",
    "PROPOSAL",
    "RATE",
    "RATE_FIELDS",
    "REPLYING_ROLES",
    "RESULT_CLASSES",
    "SATISFIED",
    "Figures",
    "GroupBy",
    "Measure",
    "Statistics",
    "compute",
    "definitions",
    "overdue_by_unit",
    "percent",
]
