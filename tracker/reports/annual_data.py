"""What the annual report shows, read once (``gather``): the figures of
``tracker.statistics.compute`` — the function behind the statistics page, its Excel export and
the API — at the proposal level and per unit (``group_by="unit"``, per assignment), each
measure with the definition ``tracker.statistics.MEASURES`` writes for its level; the key
proposals; and the assignments still open, with what is open and overdue decided by
``proposals.selectors`` as on the dashboard.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from proposals.models import Assignment, Proposal, Session
from proposals.models import today as _today
from proposals.selectors import filter_due, overdue_exists, with_current_due
from replies.models import Reply, ReplyState, ResultClass
from tracker import statistics
from tracker.statistics import RESULT_CLASSES, Figures, GroupBy, percent

# --- What the report shows ---------------------------------------------------------------------


@dataclass
class Measure:
    """One line of the figures table: what is counted, its value, and how it is defined."""

    label: str
    value: str
    definition: str


@dataclass
class KeyRow:
    number: str
    title: str
    units: str
    status: str
    results: str


@dataclass
class OpenRow:
    number: str
    title: str
    unit: str
    role: str
    state: str
    due_on: datetime.date | None
    overdue_days: int | None


@dataclass
class ReportData:
    session: Session
    today: datetime.date
    total: Figures  # per proposal
    by_unit: statistics.Statistics  # per assignment, one row a unit
    measures: list[Measure]
    key_rows: list[KeyRow] = field(default_factory=list)
    open_rows: list[OpenRow] = field(default_factory=list)


def _count(n: int) -> str:
    return f"{n}件"


def _rate_text(rate: float | None, part: int, whole: int) -> str:
    return f"{percent(rate)}（{part}/{whole}）" if whole else percent(rate)


#: The parts of each rate, for "95.0%（19/20）".
_RATE_PARTS = {
    "reply_rate": ("replied", "assigned"),
    "on_time_rate": ("replied_on_time", "assigned"),
    "meeting_rate": ("met", "assigned"),
    "satisfaction_rate": ("satisfied", "feedback"),
    "satisfaction_rate_final": ("satisfied", "feedback"),
    "satisfaction_rate_first": ("satisfied_first", "feedback_first"),
    "co_on_time_rate": ("co_on_time", "co_assigned"),
    "public_rate": ("published", "sent"),
}


def cell(figures: Figures, measure: statistics.Measure) -> str:
    """A figure as the report prints it: a count, or a rate with its parts."""
    value = measure.value(figures)
    if measure.kind == statistics.COUNT:
        return str(value)
    parts = _RATE_PARTS.get(measure.attribute)
    if parts:
        return _rate_text(value, getattr(figures, parts[0]), getattr(figures, parts[1]))
    return percent(value)


def definition(measure: statistics.Measure, level: str) -> str:
    """A measure's definition at ``level``; one the assignment level words as "同左" (the same
    as per proposal) is spelt out, since the report prints it alone."""
    if level == statistics.PROPOSAL:
        return str(measure.by_proposal)
    text = str(measure.by_assignment)
    if text.startswith("同左"):
        return f"{measure.by_proposal}（{text.removeprefix('同左').strip('（）')}）"
    return text


def measures(figures: Figures) -> list[Measure]:
    """The figures table's lines: every measure of ``tracker.statistics`` at the proposal
    level, with its definition written there (the A/B/C/D classes have a section of their own).
    """
    level = statistics.PROPOSAL
    return [
        Measure(str(m.label), cell(figures, m), definition(m, level))
        for m in statistics.MEASURES
        if m.applies(level) and not m.attribute.startswith("results.")
    ]


def _number(proposal: Proposal) -> str:
    return proposal.number or str(proposal.serial or "")


#: Units listed lead first, then separate, then co-handling.
_ROLE_ORDER = {Assignment.Role.LEAD: 0, Assignment.Role.SEPARATE: 1, Assignment.Role.CO: 2}


def key_rows(session: Session) -> list[KeyRow]:
    """The session's filed key proposals (重点提案), with their units and result classes."""
    replying = Assignment.objects.active().select_related("unit").order_by("role", "pk")
    sent = Reply.objects.filter(state__in=[ReplyState.SENT, ReplyState.PUBLISHED]).order_by(
        "assignment_id", "-sent_at", "-pk"
    )
    proposals = (
        Proposal.objects.filter(session=session, is_key=True, serial__isnull=False)
        .prefetch_related(
            Prefetch("assignments", queryset=replying, to_attr="counted"),
            Prefetch("replies", queryset=sent, to_attr="sent_replies"),
        )
        .order_by("serial")
    )
    labels = {c: str(ResultClass(c).label) for c in RESULT_CLASSES}
    rows = []
    for p in proposals:
        lead_first = sorted(p.counted, key=lambda a: _ROLE_ORDER.get(a.role, len(_ROLE_ORDER)))
        units = [f"{a.unit}（{a.get_role_display()}）" for a in lead_first]
        latest: dict[int, str] = {}
        for r in p.sent_replies:
            latest.setdefault(r.assignment_id, r.result_class)
        classes = sorted({c for c in latest.values() if c})
        rows.append(
            KeyRow(
                number=_number(p),
                title=p.title,
                units="、".join(units) or _("未交办"),
                status=p.get_status_display(),
                results="、".join(labels[c] for c in classes) or _("尚未答复"),
            )
        )
    return rows


def open_rows(session: Session, today: datetime.date) -> list[OpenRow]:
    """Every open assignment of the session (``filter_due(…, "open")``) with its current due
    date, overdue ones marked as ``overdue_exists`` decides."""
    qs = filter_due(Assignment.objects.filter(proposal__session=session), "open", today)
    qs = (
        with_current_due(qs)
        .annotate(is_overdue=overdue_exists(today))
        .select_related("proposal", "unit")
        .order_by("proposal__serial", "proposal_id", "role", "pk")
    )
    rows = []
    for a in qs:
        due = a.reply_due_on
        late = (today - due).days if a.is_overdue and due is not None else None
        rows.append(
            OpenRow(
                number=_number(a.proposal),
                title=a.proposal.title,
                unit=str(a.unit),
                role=a.get_role_display(),
                state=a.get_state_display(),
                due_on=due,
                overdue_days=late,
            )
        )
    return rows


def gather(session: Session, today: datetime.date | None = None) -> ReportData:
    """Everything the report shows, read once."""
    today = today or _today()
    total = statistics.compute(session=session, today=today).total
    by_unit = statistics.compute(session=session, group_by=GroupBy.UNIT, today=today)
    return ReportData(
        session=session,
        today=today,
        total=total,
        by_unit=by_unit,
        measures=measures(total),
        key_rows=key_rows(session),
        open_rows=open_rows(session, today),
    )
