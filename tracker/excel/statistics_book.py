"""The statistics workbook: the table as on the page (with its total rows), the result mix,
native Excel charts (per-group rates, result mix) and the 指标说明, so the report opens in Excel
as it looks on the page. Every cell goes through ``tracker.excel.writing.append_row``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill

from tracker import statistics
from tracker.excel.writing import (
    HEAD_FILL,
    HEAD_FONT,
    append_row,
    column_width,
    fit_columns,
    format_sheet,
    save_book,
)
from tracker.statistics import RESULT_CLASSES, Statistics

_TOTAL_FONT = Font(bold=True)
_TOTAL_FILL = PatternFill("solid", fgColor="EEF2F6")


#: The statistics' columns, from the one definitions module: (header, attribute, kind).
STAT_COLUMNS: tuple[tuple[Any, str, str], ...] = tuple(
    (m.label, m.attribute, m.kind) for m in statistics.MEASURES
)


def stat_value(figures: Any, attribute: str) -> Any:
    """A figure's cell: its value, or ``None`` (an empty cell) where the figure means nothing
    at the row's level (并案, 待交办 of a unit)."""
    measure = statistics.MEASURE_BY_ATTRIBUTE[attribute]
    if not measure.applies(getattr(figures, "level", statistics.PROPOSAL)):
        return None
    return measure.value(figures)


def statistics_rows(stats: Statistics) -> list[Any]:
    """The rows of a statistics table as the page and the workbook show them: one per group,
    then the sum of the rows when it is another level than the total, then the total."""
    if not stats.group_by:
        return [stats.total]
    return [*stats.rows, *([stats.rows_total] if stats.rows_total else []), stats.total]


def write_statistics(stats: Statistics, *, title: str, scope: str) -> bytes:
    """The statistics as on the page: the table (with its total rows), the result mix, charts,
    and the 指标说明 (each figure's definition at both levels)."""
    book = Workbook()
    ws = book.active
    ws.title = _("办理统计")
    group_header = _("分组") if stats.group_by else _("范围")
    headers = [group_header, *(h for h, _a, _k in STAT_COLUMNS)]
    append_row(ws, [title])
    append_row(ws, [scope])
    append_row(ws, headers)
    first = 4
    rows = stats.rows if stats.group_by else [stats.total]
    for figures in statistics_rows(stats):
        append_row(ws, [figures.label, *(stat_value(figures, a) for _h, a, _k in STAT_COLUMNS)])
    last = ws.max_row
    for col, (_h, _a, kind) in enumerate(STAT_COLUMNS, start=2):
        if kind == statistics.RATE:
            for r in range(first, last + 1):
                ws.cell(row=r, column=col).number_format = "0.0%"
    for col in range(1, len(headers) + 1):
        cell = ws.cell(row=3, column=col)
        cell.font, cell.fill = HEAD_FONT, HEAD_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if stats.group_by:
        for r in range(first + len(rows), last + 1):
            for col in range(1, len(headers) + 1):
                cell = ws.cell(row=r, column=col)
                cell.font, cell.fill = _TOTAL_FONT, _TOTAL_FILL
    append_row(ws, [statistics_note(stats)])
    ws["A1"].font = Font(bold=True, size=14)
    ws.freeze_panes = "B4"
    widths = {
        1: max([column_width(ws.cell(row=r, column=1).value) for r in range(3, last + 1)] + [8])
    }
    widths.update({c: max(column_width(h), 8) for c, h in enumerate(headers[1:], start=2)})
    fit_columns(ws, widths)

    data_rows = len(rows)
    if stats.group_by and data_rows:
        chart = BarChart()
        chart.type = "bar"
        chart.style = 10
        chart.title = _("办复率与按期办复率")
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 1
        labels = Reference(ws, min_col=1, min_row=first, max_row=first + data_rows - 1)
        for attribute in ("reply_rate", "on_time_rate"):
            col = 2 + [a for _h, a, _k in STAT_COLUMNS].index(attribute)
            ref = Reference(ws, min_col=col, min_row=3, max_row=first + data_rows - 1)
            chart.add_data(ref, titles_from_data=True)
        chart.set_categories(labels)
        chart.height = max(7.5, 0.6 * data_rows + 3)
        chart.width = 18
        ws.add_chart(chart, f"A{last + 3}")

    mix = book.create_sheet(_("办理结果分类"))
    append_row(mix, [_("类别"), _("件数"), _("占比")])
    total = stats.total.result_total
    for c in RESULT_CLASSES:
        n = stats.total.results[c]
        append_row(mix, [_result_label(c), n, (n / total) if total else None])
    for r in range(2, 2 + len(RESULT_CLASSES)):
        mix.cell(row=r, column=3).number_format = "0.0%"
    format_sheet(mix, ["", "", ""], 0)
    mix.freeze_panes = None
    fit_columns(mix, {1: 24, 2: 8, 3: 8})
    if total:
        pie = PieChart()
        pie.title = _("办理结果分类")
        pie.add_data(
            Reference(mix, min_col=2, min_row=1, max_row=1 + len(RESULT_CLASSES)),
            titles_from_data=True,
        )
        pie.set_categories(Reference(mix, min_col=1, min_row=2, max_row=1 + len(RESULT_CLASSES)))
        mix.add_chart(pie, "E2")
    _write_definitions(book.create_sheet(_("指标说明")))
    return save_book(book)


def statistics_note(stats: Statistics) -> str:
    """What the table's rows and totals count, in words (under the table, on the page too)."""
    note = _("合计为不分组的统计（%(level)s）。") % {
        "level": statistics.LEVEL_LABELS[stats.total_level]
    }
    if stats.rows_total is not None:
        note += _(
            "各单位按本单位主办、分办的交办件计（会办另计），一件提案由几个单位分办时各计一次，"
            "会办意见逾期计入会办单位的逾期，故各单位之和可大于合计。"
        )
    total = stats.total
    if stats.total_level == statistics.PROPOSAL and total.filed:
        note += _("立案 %(f)d 件：已交办 %(a)d 件，并案 %(m)d 件，待交办 %(u)d 件。") % {
            "f": total.filed,
            "a": total.assigned,
            "m": total.merged,
            "u": total.unassigned,
        }
    return note


def _write_definitions(ws: Any) -> None:
    headers = [_("指标"), _("按提案计"), _("按承办单位的交办计")]
    append_row(ws, headers)
    for d in statistics.definitions():
        append_row(ws, [d["label"], d["proposal"], d["assignment"]])
    format_sheet(ws, headers, len(statistics.MEASURES))
    fit_columns(ws, {1: 16, 2: 60, 3: 50})
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _result_label(c: str) -> str:
    from replies.models import ResultClass

    return str(ResultClass(c).label)
