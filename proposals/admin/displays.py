"""Read-only displays the admins share: the timeline of transitions and the due-date table."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from urllib.parse import quote

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from proposals import models as _models
from proposals.models import (
    VERB_LABELS,
    DueDate,
    Transition,
    state_change_label,
)
from proposals.selectors import (
    DONE,
    DONE_LATE,
    DUE_TODAY,
    ENDED,
    OVERDUE,
    WINDOW_CLOSED,
    due_standing,
)


def _when(value: datetime.datetime | None) -> str:
    return date_format(localtime(value), "Y-m-d H:i") if value else "-"


def _state_change(t: Transition) -> str:
    return state_change_label(t.from_state, t.to_state)


def _transitions_table(transitions: Iterable[Transition]) -> SafeString:
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                _when(t.at),
                t.actor or _("系统"),
                VERB_LABELS.get(t.verb, t.verb),
                _state_change(t),
                t.note,
            )
            for t in transitions
        ),
    )
    if not rows:
        return format_html("<p>{}</p>", _("尚无操作记录。"))
    return format_html(
        '<table class="timeline"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
        "</tr></thead><tbody>{}</tbody></table>",
        _("时间"),
        _("操作人"),
        _("操作"),
        _("状态"),
        _("说明"),
        rows,
    )


def due_status(d: DueDate, on: datetime.date | None = None) -> SafeString:
    """完成 / 剩 N 天 / 逾期 N 天 (red) / 已结束 / 窗口已过, as the due-date tables show it
    (``proposals.selectors.due_standing`` decides which)."""
    on = on or _models.today()
    standing = due_standing(d, on)
    if standing in (DONE, DONE_LATE):
        late = standing == DONE_LATE
        return format_html(
            '<span class="due {}">{}</span>',
            "due-late-done" if late else "due-done",
            _("逾期完成") if late else _("已完成"),
        )
    if standing == ENDED:
        return format_html('<span class="due due-ended">{}</span>', _("已结束（不再需要）"))
    if standing == WINDOW_CLOSED:
        return format_html('<span class="due due-ended">{}</span>', _("期限已过（已签收）"))
    days = (d.due_on - on).days
    if standing == OVERDUE:
        return format_html(
            '<span class="due due-overdue">{}</span>', _("逾期 %(n)d 天") % {"n": -days}
        )
    if standing == DUE_TODAY:
        return format_html('<span class="due due-soon">{}</span>', _("今天到期"))
    return format_html(
        '<span class="due {}">{}</span>',
        "due-soon" if days <= 7 else "due-open",
        _("剩 %(n)d 天") % {"n": days},
    )


def _due_dates_table(dues: Iterable[DueDate]) -> SafeString:
    on = _models.today()
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                d.get_clock_display(),
                d.round,
                f"{d.due_on:%Y-%m-%d}",
                due_status(d, on),
                f"{d.completed_on:%Y-%m-%d}" if d.completed_on else "-",
                d.explanation,
            )
            for d in sorted(dues, key=lambda d: (d.round, d.due_on))
        ),
    )
    if not rows:
        return format_html("<p>{}</p>", _("无到期日。"))
    return format_html(
        '<table class="due-table"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
        "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
        _("时限"),
        _("轮次"),
        _("到期日"),
        _("状态"),
        _("完成日期"),
        _("计算说明"),
        rows,
    )


def content_disposition(kind: str, filename: str, fallback: str) -> str:
    """RFC 6266 with an ASCII fallback and the real name in RFC 5987 ``filename*``."""
    filename = re.sub(r'[\\/:*?"<>|\r\n]+', "_", filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
