"""The annual report 提案办理工作情况报告 of one session, as an editable Word document.

The figures and rows come from ``annual_data.gather`` (the statistics page's own functions),
the layout from ``word`` (GB/T 9704); this module writes the sections in order: 总体情况 with
the measures and their definitions, 办理结果 (A/B/C/D), 各承办单位办理情况, 重点提案, and the
proposals still open. ``build`` returns the .docx bytes.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from proposals.models import Session
from replies.models import ResultClass
from tracker import charts, statistics
from tracker.reports.annual_data import ReportData, definition, gather
from tracker.reports.charts import rate_bars_png, result_donut_png
from tracker.reports.word import (
    DOCX_TYPE,
    LIST_SIZE,
    NUMERALS,
    clean,
    new_document,
    note,
    picture,
    table,
)
from tracker.statistics import RESULT_CLASSES, percent

__all__ = ["DOCX_TYPE", "UNIT_COLUMNS", "ReportData", "build", "filename", "gather", "title"]

# --- The report ----------------------------------------------------------------------------------


def _date(d: datetime.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def session_title(session: Session) -> str:
    """长宁 十五届五次会议 → 长宁区政协十五届五次会议."""
    district = session.district
    if district and not district.endswith(("区", "县", "市")):
        district += "区"
    return f"{district}政协{session.name}"


class _Writer:
    """Writes the sections in order, numbering 一级 headings 一、二、… and 二级 （一）（二）…."""

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.level1 = 0
        self.level2 = 0
        self.figure = 0

    def heading(self, text: str) -> None:
        self.level1 += 1
        self.level2 = 0
        self.doc.add_paragraph(f"{NUMERALS[self.level1 - 1]}、{text}", style="Heading 1")

    def subheading(self, text: str) -> None:
        self.level2 += 1
        self.doc.add_paragraph(f"（{NUMERALS[self.level2 - 1]}）{text}", style="Heading 2")

    def text(self, text: str) -> None:
        self.doc.add_paragraph(clean(text))

    def chart(self, png: bytes, caption: str) -> None:
        self.figure += 1
        picture(self.doc, png, f"图{self.figure}　{caption}")


def _overview(w: _Writer, data: ReportData) -> None:
    t = data.total
    w.heading(_("总体情况"))
    w.text(
        _(
            "截至%(today)s，%(session)s共立案%(filed)d件，已交办%(assigned)d件。"
            "已办复%(replied)d件，办复率%(reply_rate)s；其中按期办复%(on_time)d件，"
            "按期办复率%(on_time_rate)s。承办单位与提案者见面沟通%(met)d件，见面率%(meeting_rate)s。"
            "提案者对首轮答复的满意率为%(first)s，最终满意率为%(final)s；"
            "因提案者不满意重新办理%(rehandled)d件。目前尚有%(overdue)d件逾期未办复。"
        )
        % {
            "today": _date(data.today),
            "session": session_title(data.session),
            "filed": t.filed,
            "assigned": t.assigned,
            "replied": t.replied,
            "reply_rate": percent(t.reply_rate),
            "on_time": t.replied_on_time,
            "on_time_rate": percent(t.on_time_rate),
            "met": t.met,
            "meeting_rate": percent(t.meeting_rate),
            "first": percent(t.satisfaction_rate_first),
            "final": percent(t.satisfaction_rate_final),
            "rehandled": t.rehandled,
            "overdue": t.overdue,
        }
    )
    w.subheading(_("主要指标及统计口径"))
    w.text(
        _("下表%(level)s，每件提案计一次，统计截至%(today)s。")
        % {"level": statistics.LEVEL_LABELS[statistics.PROPOSAL], "today": _date(data.today)}
    )
    table(
        w.doc,
        [_("指标"), _("数值"), _("统计口径")],
        [(m.label, m.value, m.definition) for m in data.measures],
        [34, 34, 88],
        left_columns=frozenset({2}),
    )


def _results(w: _Writer, data: ReportData) -> None:
    t = data.total
    w.heading(_("办理结果"))
    total = t.result_total
    labels = {c: str(ResultClass(c).label) for c in RESULT_CLASSES}
    parts = "，".join(
        _("%(label)s%(n)d件（%(share)s）")
        % {"label": labels[c], "n": t.results[c], "share": percent(t.result_shares[c])}
        for c in RESULT_CLASSES
    )
    w.text(
        _("已送达的答复按办理结果分类共%(total)d件：%(parts)s。") % {"total": total, "parts": parts}
        if total
        else _("尚无已送达的答复。")
    )
    table(
        w.doc,
        [_("办理结果"), _("件数"), _("占比")],
        [(labels[c], t.results[c], percent(t.result_shares[c])) for c in RESULT_CLASSES],
        [70, 40, 40],
        left_columns=frozenset({0}),
        footer=(_("合计"), total, percent(1.0 if total else None)),
    )
    note(w.doc, _("注：按答复计，每个主办或分办单位取最新一份已送达答复的办理结果类别。"))
    if total:
        donut = charts.result_donut(t, labels)
        w.chart(result_donut_png(donut, _("件答复")), _("办理结果分类"))


#: The unit table's columns: header and ``Figures`` attribute (its measure's definition at the
#: assignment level is the table's note).
UNIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("交办", "assigned"),
    ("办复", "replied"),
    ("按期", "replied_on_time"),
    ("见面", "met"),
    ("满意", "satisfied"),
    ("逾期", "overdue"),
)


def _units(w: _Writer, data: ReportData) -> None:
    stats = data.by_unit
    w.heading(_("各承办单位办理情况"))
    w.text(
        _(
            "本节%(level)s：每件为本单位主办或分办的一个交办件，会办另计。同一提案由几个单位"
            "分别办理的计几次，故末行为各单位之和，与第一部分按提案计的数字不同。"
        )
        % {"level": statistics.LEVEL_LABELS[statistics.ASSIGNMENT]}
    )
    headers = [_("承办单位"), *(_(h) for h, _a in UNIT_COLUMNS)]
    rows = [(r.label, *(getattr(r, a) for _h, a in UNIT_COLUMNS)) for r in stats.rows]
    summed = stats.rows_total
    footer = (_("各单位之和"), *(getattr(summed, a) for _h, a in UNIT_COLUMNS)) if summed else None
    table(w.doc, headers, rows, [48, 18, 18, 18, 18, 18, 18], footer=footer)
    level = statistics.ASSIGNMENT
    lines = [
        f"{h}：{definition(statistics.MEASURE_BY_ATTRIBUTE[a], level)}" for h, a in UNIT_COLUMNS
    ]
    note(w.doc, _("注：") + "".join(lines))
    bars = charts.rate_bars(stats.rows)
    if bars.rows:
        w.chart(
            rate_bars_png(bars, (_("办复率"), _("按期办复率"))),
            _("各承办单位办复率与按期办复率"),
        )


def _key_proposals(w: _Writer, data: ReportData) -> None:
    w.heading(_("重点提案办理情况"))
    if not data.key_rows:
        w.text(_("本次会议未确定重点提案。"))
        return
    w.text(_("本次会议确定重点提案%(n)d件，办理情况如下。") % {"n": len(data.key_rows)})
    table(
        w.doc,
        [_("提案号"), _("案由"), _("承办单位"), _("状态"), _("办理结果")],
        [(r.number, r.title, r.units, r.status, r.results) for r in data.key_rows],
        [20, 54, 42, 16, 24],
        left_columns=frozenset({1, 2}),
        size=LIST_SIZE,
    )


def _open_proposals(w: _Writer, data: ReportData) -> None:
    w.heading(_("尚未办结的提案"))
    rows = data.open_rows
    if not rows:
        w.text(_("截至%(today)s，所有交办件均已办结。") % {"today": _date(data.today)})
        return
    late = sum(1 for r in rows if r.overdue_days is not None)
    w.text(
        _("截至%(today)s，尚有%(n)d个交办件在办理中，其中%(late)d个已过期限，请有关单位抓紧办理。")
        % {"today": _date(data.today), "n": len(rows), "late": late}
    )
    table(
        w.doc,
        [_("提案号"), _("案由"), _("承办单位"), _("方式"), _("办理期限"), _("状态")],
        [
            (
                r.number,
                r.title,
                r.unit,
                r.role,
                f"{r.due_on:%Y-%m-%d}" if r.due_on else "—",
                _("逾期%(n)d天") % {"n": r.overdue_days} if r.overdue_days else r.state,
            )
            for r in rows
        ],
        [20, 48, 30, 12, 24, 22],
        left_columns=frozenset({1, 2}),
        size=LIST_SIZE,
    )
    note(w.doc, _("注：办理期限为当前轮次的答复期限，会办为会办意见期限；含经批准的延期。"))


SECTIONS: tuple[Callable[[_Writer, ReportData], None], ...] = (
    _overview,
    _results,
    _units,
    _key_proposals,
    _open_proposals,
)


def title(session: Session) -> str:
    return _("关于%(session)s提案办理工作情况的报告") % {"session": session_title(session)}


def render(data: ReportData) -> bytes:
    """The .docx of ``data``."""
    doc = new_document()
    props = doc.core_properties
    props.title = title(data.session)
    props.author = props.last_modified_by = _("政协提案委员会")
    props.created = props.modified = timezone.now()
    props.language = "zh-CN"
    props.comments = ""

    doc.add_paragraph(clean(title(data.session)), style="Report Title")
    doc.add_paragraph(f"（{_date(data.today)}）", style="Report Subtitle")
    doc.add_paragraph("")
    writer = _Writer(doc)
    for section in SECTIONS:
        section(writer, data)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def build(session: Session, today: datetime.date | None = None) -> bytes:
    """The annual report of ``session`` as of ``today`` (Beijing time by default)."""
    return render(gather(session, today))


def filename(session: Session, today: datetime.date) -> str:
    return f"{title(session)}-{today:%Y%m%d}.docx"
