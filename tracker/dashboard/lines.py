"""The pieces of the dashboard's sections: a section, its lines, the counts, and the
helpers that read a section's first rows in one query and link them to the admin."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from proposals.models import Assignment
from replies.models import CoOpinion, Feedback, Reply

#: How many lines a section lists before it links to the full list.
SECTION_ROWS = 8
#: Feedback this recent counts as "received" on the dashboard.
FEEDBACK_DAYS = 30


@dataclass
class Line:
    """One line of a section: what it is, where it links, and how it should stand out."""

    text: str
    url: str
    detail: str = ""
    tone: str = ""  # "" | "danger" | "warn" | "ok"
    #: A verb the line offers (重新生成签发件): its confirmation page, and the button's label.
    action_url: str = ""
    action_label: str = ""


@dataclass
class Section:
    key: str
    title: str
    count: int
    lines: list[Line] = field(default_factory=list)
    more_url: str = ""
    tone: str = ""
    empty: str = ""


@dataclass
class Count_:
    label: str
    count: int
    url: str
    tone: str = ""


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _url(name: str, *args: Any, query: dict[str, Any] | None = None) -> str:
    url = reverse(f"admin:{name}", args=args)
    return f"{url}?{urlencode(query)}" if query else url


def _days(due: datetime.date | None, today: datetime.date) -> tuple[str, str]:
    if due is None:
        return "", ""
    days = (due - today).days
    if days < 0:
        return _("逾期 %(n)d 天（%(d)s）") % {"n": -days, "d": f"{due:%Y-%m-%d}"}, "danger"
    if days == 0:
        return _("今天到期"), "warn"
    return _("%(d)s 到期，剩 %(n)d 天") % {"d": f"{due:%Y-%m-%d}", "n": days}, "warn"


def _assignment_line(a: Assignment, today: datetime.date, *, tone: str = "") -> Line:
    detail, due_tone = _days(getattr(a, "reply_due_on", None), today)
    return Line(
        text=f"{a.proposal.number or '-'} {a.proposal.title}",
        url=_url("proposals_assignment_change", a.pk),
        detail=f"{a.unit} · {a.get_role_display()} · {detail}".rstrip(" ·"),
        tone=tone or due_tone,
    )


def _first_rows(queryset, limit: int = SECTION_ROWS) -> tuple[list, int]:
    """The first ``limit`` rows of ``queryset`` and how many there are, in one query: the count
    rides on the rows as a window (``COUNT(*) OVER ()``, taken before the LIMIT). One query
    per section, whatever the numbers."""
    rows = list(queryset.annotate(_section_total=Window(Count("pk")))[:limit])
    return rows, (rows[0]._section_total if rows else 0)


def _section(
    key: str,
    title: str,
    queryset,
    make_line,
    *,
    more_url: str,
    tone: str = "",
    empty: str = "",
) -> Section:
    rows, count = _first_rows(queryset)
    return Section(
        key=key,
        title=title,
        count=count,
        lines=[make_line(r) for r in rows],
        more_url=more_url if count > SECTION_ROWS else "",
        tone=tone if count else "",
        empty=empty,
    )


def _letter_line(letter: Reply | CoOpinion) -> Line:
    is_reply = isinstance(letter, Reply)
    name = "replies_reply_change" if is_reply else "replies_coopinion_change"
    kind = letter.get_kind_display() if is_reply else _("会办意见")
    note = ""
    if letter.return_comment:
        note = _("（签发人退回：%(c)s）") % {"c": letter.return_comment}
    return Line(
        text=f"{letter.proposal.number or '-'} {letter.title}",
        url=_url(name, letter.pk),
        detail=f"{letter.unit} · {kind} · {letter.get_state_display()}{note}",
        tone="warn" if note else "",
    )


def _feedback_line(fb: Feedback) -> Line:
    bad = fb.rating == Feedback.Rating.NOT_SATISFIED
    return Line(
        text=f"{fb.proposal.number or '-'} {fb.proposer}：{fb.get_rating_display()}",
        url=_url("replies_reply_change", fb.reply_id),
        detail=f"{timezone.localtime(fb.received_at):%Y-%m-%d} · {fb.comment[:40]}".rstrip(" ·"),
        tone="danger" if bad else "ok",
    )
