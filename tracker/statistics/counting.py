"""Counting the figures (``compute``): each measure worked out once, in ``_add_item``, from an
item — a proposal with its assignments, or one assignment — so the two levels cannot drift.

A table's total is always the ungrouped figures of the same scope (``compute`` without
``group_by``): grouped by session, category or month its rows add up to it; grouped by unit the
rows count each unit's assignments, a different level, so the table also gives the sum of its
rows (``rows_total``) and says which is which.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from proposals.models import Assignment, AssignmentState, Proposal, ProposalStatus, Session, Unit
from proposals.models import today as _today
from proposals.selectors import filter_due
from replies.models import Feedback, ReplyState
from tracker.statistics import facts as f
from tracker.statistics.measures import (
    ASSIGNMENT,
    LEVEL_LABELS,
    PROPOSAL,
    RESULT_CLASSES,
    Figures,
)

SATISFIED = frozenset({Feedback.Rating.SATISFIED, Feedback.Rating.BASICALLY_SATISFIED})
REPLYING_ROLES = (Assignment.Role.LEAD, Assignment.Role.SEPARATE)


class GroupBy:
    """The groupings ``compute`` knows, with their labels for forms."""

    TOTAL = ""
    SESSION = "session"
    UNIT = "unit"
    CATEGORY = "category"
    MONTH = "month"

    choices: tuple[tuple[str, str], ...] = (
        (TOTAL, _("不分组")),
        (SESSION, _("按届次会议")),
        (UNIT, _("按承办单位")),
        (CATEGORY, _("按类别")),
        (MONTH, _("按月份")),
    )
    values = frozenset(c[0] for c in choices)


@dataclass
class Statistics:
    """What ``compute`` returns: the scope, a total (the ungrouped figures, at ``total_level``)
    and one row a group (at ``level``); when the two levels differ (grouped by unit),
    ``rows_total`` is the sum of the rows, labelled as such."""

    group_by: str
    level: str  # the rows' level: "proposal" or "assignment"
    filters: dict[str, Any]
    total: Figures
    rows: list[Figures]
    today: datetime.date
    total_level: str = PROPOSAL
    rows_total: Figures | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "group_by": self.group_by,
            "level": self.level,
            "total_level": self.total_level,
            "filters": self.filters,
            "today": self.today.isoformat(),
            "total": self.total.as_dict(),
            "rows_total": self.rows_total.as_dict() if self.rows_total else None,
            "rows": [r.as_dict() for r in self.rows],
        }


# --- One item, every measure ----------------------------------------------------------------


class _Item:
    """One counted thing (a proposal or an assignment) with the assignments it is made of."""

    __slots__ = ("co", "replying")

    def __init__(self) -> None:
        self.replying: list[dict[str, Any]] = []  # lead/separate assignments
        self.co: list[dict[str, Any]] = []  # co-handling assignments

    def take(self, row: dict[str, Any]) -> None:
        (self.replying if row["role"] in REPLYING_ROLES else self.co).append(row)


def _replied(row: dict[str, Any]) -> bool:
    return row["done_on"] is not None


def _on_time(row: dict[str, Any]) -> bool:
    return _replied(row) and row["due_on"] is not None and row["done_on"] <= row["due_on"]


def _add_item(figs: Iterable[Figures], item: _Item, answers: dict[int, f.Answers]) -> None:
    """Count ``item`` in each of ``figs`` (a total and its group): worked out once.

    An item owes a reply when it has a lead or separate assignment: it is then 交办, 办复 when
    every one of them sent its first-round reply, 按期 when each did by its due date, 见面 when a
    unit met the proposers, 逾期 when one of them is overdue (a co unit's late opinion is its
    own, never the proposal's), 重办 when one was reopened after 不满意. An item made of a co
    assignment alone (a unit's 会办 share) is 逾期 when its opinion is. Results, replies sent and
    answers are counted per lead/separate assignment; opinions per co assignment."""
    replying, co = item.replying, item.co
    n: dict[str, int] = defaultdict(int)
    if replying:
        n["assigned"] = 1
        n["replied"] = int(all(_replied(r) for r in replying))
        n["replied_on_time"] = int(all(_on_time(r) for r in replying))
        n["met"] = int(any(r["met"] for r in replying + co))
        n["rehandled"] = int(any(r["round"] > 1 for r in replying))
    n["overdue"] = int(any(r["overdue"] for r in (replying or co)))
    results: list[str] = []
    for r in replying:
        if r["result"] in RESULT_CLASSES:
            results.append(r["result"])
        if r["reply_state"]:
            n["sent"] += 1
            n["published"] += r["reply_state"] == ReplyState.PUBLISHED
        got = answers.get(r["pk"])
        if got is not None:
            n["feedback_first"] += len(got.first)
            n["satisfied_first"] += sum(rating in SATISFIED for rating in got.first)
            n["feedback"] += len(got.final)
            n["satisfied"] += sum(rating in SATISFIED for rating in got.final)
    for r in co:
        n["co_assigned"] += 1
        n["co_done"] += r["state"] == AssignmentState.OPINION_SENT
        n["co_on_time"] += _on_time(r)
        n["co_missing"] += r["state"] == AssignmentState.CLOSED_WITHOUT_OPINION
    for fig in figs:
        for name, value in n.items():
            setattr(fig, name, getattr(fig, name) + value)
        for result in results:
            fig.results[result] += 1


# --- Tables ---------------------------------------------------------------------------------


def _month(d: datetime.date | datetime.datetime | None) -> str | None:
    if d is None:
        return None
    if isinstance(d, datetime.datetime):
        d = timezone.localtime(d).date()
    return f"{d.year:04d}-{d.month:02d}"


def _row_key(group_by: str) -> Callable[[dict[str, Any]], Any]:
    """The group of an assignment row."""
    return {
        GroupBy.SESSION: lambda r: r["proposal__session_id"],
        GroupBy.UNIT: lambda r: r["unit_id"],
        GroupBy.CATEGORY: lambda r: r["proposal__category"],
        GroupBy.MONTH: lambda r: _month(r["assigned_on"]),
    }.get(group_by, lambda r: None)


def _filed_key(group_by: str) -> Callable[[dict[str, Any]], Any]:
    """The group of a filed proposal (a month: of its filing; unknown: ``None``)."""
    return {
        GroupBy.SESSION: lambda p: p["session_id"],
        GroupBy.CATEGORY: lambda p: p["category"],
        GroupBy.MONTH: lambda p: _month(p["filed_at"]),
    }.get(group_by, lambda p: None)


def _count(
    level: str,
    group_by: str,
    facts: list[dict[str, Any]],
    answers: dict[int, f.Answers],
    filed: list[dict[str, Any]],
) -> dict[Any, Figures]:
    """The figures of each group (``None`` when ungrouped) at ``level``."""
    table: dict[Any, Figures] = {}

    def figures(key: Any) -> Figures:
        if key not in table:
            table[key] = Figures(key=key, level=level)
        return table[key]

    key_of = _row_key(group_by)
    if level == ASSIGNMENT:
        filed_ids: dict[Any, set[int]] = defaultdict(set)
        for r in facts:
            item = _Item()
            item.take(r)
            _add_item([figures(key_of(r))], item, answers)
            if item.replying and r["proposal__serial"] is not None:
                filed_ids[key_of(r)].add(r["proposal_id"])
        for key, ids in filed_ids.items():
            figures(key).filed = len(ids)
        return table
    items: dict[int, _Item] = defaultdict(_Item)
    item_key: dict[int, Any] = {}
    for r in facts:
        items[r["proposal_id"]].take(r)
        # A proposal belongs to the group of its assignments (a month: of its first one).
        key, earlier = key_of(r), item_key.get(r["proposal_id"])
        item_key[r["proposal_id"]] = key if earlier is None else min(earlier, key)
    for proposal_id, item in items.items():
        _add_item([figures(item_key[proposal_id])], item, answers)
    filed_key = _filed_key(group_by)
    for p in filed:
        fig = figures(filed_key(p))
        fig.filed += 1
        fig.merged += p["status"] == ProposalStatus.MERGED
        fig.unassigned += p["status"] == ProposalStatus.FILED
    return table


def _pk(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(getattr(value, "pk", value))


def compute(
    *,
    session: Session | int | None = None,
    unit: Unit | int | None = None,
    category: str | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    group_by: str | None = GroupBy.TOTAL,
    today: datetime.date | None = None,
) -> Statistics:
    """The figures of a scope, in total and per group (see ``tracker.statistics``).

    The total counts proposals, or the unit's assignments when ``unit`` is given; rows count
    the same, except grouped by unit, where they count each unit's assignments."""
    group_by = group_by or GroupBy.TOTAL
    if group_by not in GroupBy.values:
        raise ValueError(f"unknown grouping {group_by!r}")
    today = today or _today()
    session_id, unit_id = _pk(session), _pk(unit)
    category = category or None
    total_level = ASSIGNMENT if unit_id is not None else PROPOSAL
    level = ASSIGNMENT if group_by == GroupBy.UNIT else total_level

    scope = f.assignments_in_scope(
        session_id=session_id,
        unit_id=unit_id,
        category=category,
        date_from=date_from,
        date_to=date_to,
    )
    facts = f.assignment_facts(scope, today)
    replying = any(r["role"] in REPLYING_ROLES for r in facts)
    answers = f.feedback_facts(scope.filter(role__in=REPLYING_ROLES)) if replying else {}
    filed = []
    if total_level == PROPOSAL:
        filed = f.filed_facts(
            session_id=session_id, category=category, date_from=date_from, date_to=date_to
        )

    total = _count(total_level, GroupBy.TOTAL, facts, answers, filed).get(None)
    total = total or Figures(level=total_level)
    total.label = str(_("合计（%(level)s）") % {"level": LEVEL_LABELS[total_level]})
    rows: list[Figures] = []
    rows_total = None
    if group_by:
        rows = _label_and_order(
            group_by, list(_count(level, group_by, facts, answers, filed).values()), facts
        )
        if level != total_level:
            rows_total = Figures(level=level, label=str(_("各单位之和（按交办计）")))
            for row in rows:
                rows_total.add(row)
    filters = {
        "session": session_id,
        "unit": unit_id,
        "category": category,
        "date_from": date_from.isoformat() if date_from else None,
        "date_to": date_to.isoformat() if date_to else None,
    }
    return Statistics(
        group_by=group_by,
        level=level,
        filters=filters,
        total=total,
        rows=rows,
        today=today,
        total_level=total_level,
        rows_total=rows_total,
    )


def _label_and_order(
    group_by: str, rows: list[Figures], facts: list[dict[str, Any]]
) -> list[Figures]:
    """Each row's label, and the rows in the order people look for them."""
    if group_by == GroupBy.SESSION:
        order: dict[Any, int] = {}
        for i, s in enumerate(Session.objects.filter(pk__in=[r.key for r in rows])):
            order[s.pk] = i
            for r in rows:
                if r.key == s.pk:
                    r.label = str(s)
        return sorted(rows, key=lambda r: order.get(r.key, len(order)))
    if group_by == GroupBy.UNIT:
        # Labels from the facts (the unit's short name, as ``Unit.__str__``): no query more.
        names = {r["unit_id"]: (r["unit__name"], r["unit__short_name"]) for r in facts}
        for r in rows:
            name, short = names.get(r.key, ("", ""))
            r.label = short or name or str(r.key)
        return sorted(rows, key=lambda r: names.get(r.key, ("", ""))[0])
    if group_by == GroupBy.CATEGORY:
        labels = dict(Proposal.Category.choices)
        positions = {value: i for i, value in enumerate(labels)}
        for r in rows:
            r.label = str(labels.get(r.key, r.key))
        return sorted(rows, key=lambda r: positions.get(r.key, len(positions)))
    if group_by == GroupBy.MONTH:
        for r in rows:
            year, month = r.key.split("-") if r.key else ("", "")
            r.label = f"{int(year)}年{int(month)}月" if year else str(_("未知（无立案日期）"))
        return sorted(rows, key=lambda r: (r.key is None, r.key or ""))
    return rows


def overdue_by_unit(*, today: datetime.date | None = None) -> dict[int, int]:
    """Overdue assignments (``proposals.selectors``), counted per unit (one query): the
    assignment-level 逾期 of every unit."""
    rows = (
        filter_due(Assignment.objects.all(), "overdue", today or _today())
        .order_by()
        .values("unit_id")
        .annotate(n=Count("pk"))
    )
    return {r["unit_id"]: r["n"] for r in rows}
