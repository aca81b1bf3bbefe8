"""The committee's figures: 立案, 交办, 办复率, 按期办复率, 见面率, 满意率, result mix, 公开率.

One function, ``compute``, reused by the admin's statistics page, its Excel export and the API.
It reads a handful of set-based queries (one per kind of record, never one per row) and counts
in Python, so the same code serves every grouping.

What is counted (docs/domain.md, Statistics), written down because reports are compared
year on year:

- An **item** is a proposal, except when the figures are per unit (``group_by="unit"`` or a
  ``unit`` filter): then an item is one of the unit's lead (主办) or separate (分办) assignments,
  the share of the work that owes a reply. Co-handling (会办) assignments are counted apart
  (``co_assigned``, ``co_done``). Withdrawn assignments (已退回) never count.
- ``filed`` 立案数: proposals with a number (filed, whatever happened since).
- ``assigned`` 交办件数: items with at least one active lead/separate assignment.
- ``replied``: items every lead/separate assignment of which has sent its (first-round) reply;
  ``replied_on_time``: of those, sent no later than the reply due date in force (an approved
  extension moves it). 办复率 = replied / assigned, 按期办复率 = replied_on_time / assigned.
- ``met`` 见面: items whose proposers a unit met (a contact record with method 见面; at the
  proposal level any unit's meeting counts). 见面率 = met / assigned.
- ``feedback``/``satisfied``: proposers' latest answer per reply assignment; 满意率 =
  (满意 + 基本满意) / feedback.
- ``results``: the current result class of each lead/separate assignment's latest sent reply.
- ``overdue``: items with an open assignment (待签收, 办理中, 申请退回) past the due date of its
  current round (reply, re-handling reply, or — for 会办 — the opinion); at the unit level a
  unit's overdue co-handling assignments count too.
- ``sent``/``published``: latest sent replies, and those published; 公开率 = published / sent.
- ``date_from``/``date_to`` select assignments by 交办日期 and proposals' 立案 by its date; a
  ``month`` grouping puts 立案 in the month of filing and the rest in the month of assignment.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from proposals.models import (
    Assignment,
    AssignmentState,
    ContactRecord,
    DueDate,
    Proposal,
    Session,
    Unit,
)
from proposals.models import today as _today
from proposals.selectors import filter_due, overdue_exists
from replies.models import Feedback, Reply, ReplyState, ResultClass

RESULT_CLASSES: tuple[str, ...] = tuple(ResultClass.values)
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


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Figures:
    """The figures of one group (or of everything, ``key is None``)."""

    key: Any = None
    label: str = ""
    filed: int = 0
    assigned: int = 0
    replied: int = 0
    replied_on_time: int = 0
    met: int = 0
    feedback: int = 0
    satisfied: int = 0
    results: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESULT_CLASSES, 0))
    overdue: int = 0
    sent: int = 0
    published: int = 0
    co_assigned: int = 0
    co_done: int = 0

    @property
    def reply_rate(self) -> float | None:
        """办复率."""
        return _rate(self.replied, self.assigned)

    @property
    def on_time_rate(self) -> float | None:
        """按期办复率."""
        return _rate(self.replied_on_time, self.assigned)

    @property
    def meeting_rate(self) -> float | None:
        """见面率."""
        return _rate(self.met, self.assigned)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率."""
        return _rate(self.satisfied, self.feedback)

    @property
    def public_rate(self) -> float | None:
        """公开率."""
        return _rate(self.published, self.sent)

    @property
    def result_total(self) -> int:
        return sum(self.results.values())

    @property
    def result_shares(self) -> dict[str, float | None]:
        total = self.result_total
        return {k: _rate(v, total) for k, v in self.results.items()}

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            reply_rate=self.reply_rate,
            on_time_rate=self.on_time_rate,
            meeting_rate=self.meeting_rate,
            satisfaction_rate=self.satisfaction_rate,
            public_rate=self.public_rate,
            result_shares=self.result_shares,
        )
        return data


@dataclass
class Statistics:
    """What ``compute`` returns: the scope, the level of counting, a total and one row a group."""

    group_by: str
    level: str  # "proposal" or "assignment" (see the module's docstring)
    filters: dict[str, Any]
    total: Figures
    rows: list[Figures]
    today: datetime.date

    def as_dict(self) -> dict[str, Any]:
        return {
            "group_by": self.group_by,
            "level": self.level,
            "filters": self.filters,
            "today": self.today.isoformat(),
            "total": self.total.as_dict(),
            "rows": [r.as_dict() for r in self.rows],
        }


# --- The facts ------------------------------------------------------------------------------


def _pk(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(getattr(value, "pk", value))


def _assignments_in_scope(
    *,
    session_id: int | None,
    unit_id: int | None,
    category: str | None,
    date_from: datetime.date | None,
    date_to: datetime.date | None,
) -> QuerySet:
    """The active assignments in scope, unordered (the counting does not depend on order)."""
    qs = Assignment.objects.active().order_by()
    if session_id:
        qs = qs.filter(proposal__session_id=session_id)
    if category:
        qs = qs.filter(proposal__category=category)
    if date_from:
        qs = qs.filter(assigned_on__gte=date_from)
    if date_to:
        qs = qs.filter(assigned_on__lte=date_to)
    if unit_id:
        qs = qs.filter(unit_id=unit_id)
    return qs


def _assignment_facts(qs: QuerySet, today: datetime.date) -> list[dict[str, Any]]:
    """One row per assignment of ``qs``, with every flag the figures need.

    Each row's latest sent reply comes from a second query (``_latest_replies``), merged here:
    two subqueries per row for it made the statement expensive enough at a district's scale for
    PostgreSQL to compile it (JIT), which cost more than the query itself."""
    # The first-round reply due date is unique per assignment (duedate_unique_clock_round):
    # one LEFT JOIN rather than a subquery per row for each of its two dates.
    first_reply = FilteredRelation(
        "due_dates",
        condition=Q(due_dates__clock=DueDate.Clock.REPLY, due_dates__round=1),
    )
    met = ContactRecord.objects.filter(
        assignment=OuterRef("pk"), method=ContactRecord.Method.MEETING
    )
    rows = list(
        qs.annotate(
            first_reply=first_reply,
            reply_due_on=F("first_reply__due_on"),
            replied_on=F("first_reply__completed_on"),
            overdue=overdue_exists(today),
            met=Exists(met),
        ).values(
            "pk",
            "proposal_id",
            "unit_id",
            "role",
            "state",
            "assigned_on",
            "reply_due_on",
            "replied_on",
            "overdue",
            "met",
            "proposal__session_id",
            "proposal__category",
            "proposal__serial",
        )
    )
    latest = _latest_replies(qs) if rows else {}
    for row in rows:
        row["result"], row["reply_state"] = latest.get(row["pk"], (None, None))
    return rows


def _latest_replies(assignments: QuerySet) -> dict[int, tuple[str, str]]:
    """The result class and state of each assignment's latest sent (or published) reply."""
    rows = (
        Reply.objects.filter(
            assignment_id__in=assignments.values("pk"),
            state__in=[ReplyState.SENT, ReplyState.PUBLISHED],
        )
        .order_by("assignment_id", F("sent_at").desc(nulls_last=True), "-pk")
        .values_list("assignment_id", "result_class", "state")
    )
    latest: dict[int, tuple[str, str]] = {}
    for assignment_id, result, state in rows:
        latest.setdefault(assignment_id, (result, state))
    return latest


def _feedback_facts(assignments: QuerySet) -> dict[int, list[str]]:
    """The latest rating of each proposer on each assignment's replies, by assignment.

    ``assignments`` is a queryset, read as a subquery: a list of ids would make a statement
    of tens of thousands of parameters at a district's scale."""
    rows = (
        Feedback.objects.filter(reply__assignment_id__in=assignments.values("pk"))
        .order_by("reply__assignment_id", "proposer_id", "-received_at", "-pk")
        .values_list("reply__assignment_id", "proposer_id", "rating")
    )
    latest: dict[tuple[int, int], str] = {}
    for assignment_id, proposer_id, rating in rows:
        latest.setdefault((assignment_id, proposer_id), rating)
    by_assignment: dict[int, list[str]] = defaultdict(list)
    for (assignment_id, _proposer), rating in latest.items():
        by_assignment[assignment_id].append(rating)
    return by_assignment


def _filed_facts(
    *,
    session_id: int | None,
    category: str | None,
    date_from: datetime.date | None,
    date_to: datetime.date | None,
) -> list[dict[str, Any]]:
    qs = Proposal.objects.filter(serial__isnull=False).order_by()
    if session_id:
        qs = qs.filter(session_id=session_id)
    if category:
        qs = qs.filter(category=category)
    if date_from:
        qs = qs.filter(Q(filed_at__isnull=True) | Q(filed_at__date__gte=date_from))
    if date_to:
        qs = qs.filter(Q(filed_at__isnull=True) | Q(filed_at__date__lte=date_to))
    return list(qs.values("pk", "session_id", "category", "filed_at"))


# --- Counting -------------------------------------------------------------------------------


def _month(d: datetime.date | datetime.datetime | None) -> str | None:
    if d is None:
        return None
    if isinstance(d, datetime.datetime):
        d = timezone.localtime(d).date()
    return f"{d.year:04d}-{d.month:02d}"


def _is_replied(row: dict[str, Any]) -> bool:
    return row["replied_on"] is not None


def _is_on_time(row: dict[str, Any]) -> bool:
    due = row["reply_due_on"]
    return _is_replied(row) and due is not None and row["replied_on"] <= due


class _Item:
    """One counted thing (a proposal or an assignment) with the assignments it is made of."""

    __slots__ = ("others", "replying")

    def __init__(self) -> None:
        self.replying: list[dict[str, Any]] = []  # lead/separate assignments
        self.others: list[dict[str, Any]] = []  # co-handling assignments


def _add_item(
    figs: list[Figures], item: _Item, feedback: dict[int, list[str]], today: datetime.date
) -> None:
    """Count ``item`` in each of ``figs`` (the total and its group): worked out once."""
    replying = item.replying
    everyone = replying + item.others
    assigned = replied = on_time = met = 0
    if replying:
        assigned = 1
        replied = int(all(_is_replied(r) for r in replying))
        on_time = int(all(_is_on_time(r) for r in replying))
        met = int(any(r["met"] for r in everyone))
    overdue = int(any(r["overdue"] for r in everyone))
    results: list[str] = []
    sent = published = rated = satisfied = 0
    for r in replying:
        if r["result"] in RESULT_CLASSES:
            results.append(r["result"])
        if r["reply_state"]:
            sent += 1
            if r["reply_state"] == ReplyState.PUBLISHED:
                published += 1
        ratings = feedback.get(r["pk"], ())
        rated += len(ratings)
        satisfied += sum(1 for rating in ratings if rating in SATISFIED)
    for fig in figs:
        fig.assigned += assigned
        fig.replied += replied
        fig.replied_on_time += on_time
        fig.met += met
        fig.overdue += overdue
        for result in results:
            fig.results[result] += 1
        fig.sent += sent
        fig.published += published
        fig.feedback += rated
        fig.satisfied += satisfied


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
    """The figures of a scope, in total and per group (see the module's docstring)."""
    group_by = group_by or GroupBy.TOTAL
    if group_by not in GroupBy.values:
        raise ValueError(f"unknown grouping {group_by!r}")
    today = today or _today()
    session_id, unit_id = _pk(session), _pk(unit)
    category = category or None
    per_unit = group_by == GroupBy.UNIT or unit_id is not None
    level = "assignment" if per_unit else "proposal"

    scope = _assignments_in_scope(
        session_id=session_id,
        unit_id=unit_id,
        category=category,
        date_from=date_from,
        date_to=date_to,
    )
    facts = _assignment_facts(scope, today)
    replying = any(r["role"] in REPLYING_ROLES for r in facts)
    feedback = _feedback_facts(scope.filter(role__in=REPLYING_ROLES)) if replying else {}

    def group_of(row: dict[str, Any]) -> Any:
        if group_by == GroupBy.SESSION:
            return row["proposal__session_id"]
        if group_by == GroupBy.UNIT:
            return row["unit_id"]
        if group_by == GroupBy.CATEGORY:
            return row["proposal__category"]
        if group_by == GroupBy.MONTH:
            return _month(row["assigned_on"])
        return None

    rows: dict[Any, Figures] = {}
    total = Figures(label=str(_("合计")))

    def figures(key: Any) -> Figures:
        if key not in rows:
            rows[key] = Figures(key=key)
        return rows[key]

    if per_unit:
        # Items are the unit's lead/separate assignments; co-handling ones count apart.
        filed_by_group: dict[Any, set[int]] = defaultdict(set)
        for r in facts:
            key = group_of(r)
            targets = [total, figures(key)] if group_by else [total]
            item = _Item()
            if r["role"] in REPLYING_ROLES:
                item.replying.append(r)
                if r["proposal__serial"] is not None:
                    filed_by_group[key].add(r["proposal_id"])
                    filed_by_group["__total__"].add(r["proposal_id"])
            else:
                item.others.append(r)
                for fig in targets:
                    fig.co_assigned += 1
                    fig.co_done += r["state"] == AssignmentState.OPINION_SENT
            _add_item(targets, item, feedback, today)
        for key, ids in filed_by_group.items():
            if key == "__total__":
                total.filed = len(ids)
            elif group_by:
                figures(key).filed = len(ids)
    else:
        items: dict[int, _Item] = defaultdict(_Item)
        item_group: dict[int, Any] = {}
        for r in facts:
            item = items[r["proposal_id"]]
            (item.replying if r["role"] in REPLYING_ROLES else item.others).append(r)
            key = group_of(r)
            if group_by == GroupBy.MONTH:
                # A proposal belongs to the month of its first assignment.
                earlier = item_group.get(r["proposal_id"])
                item_group[r["proposal_id"]] = key if earlier is None else min(earlier, key)
            else:
                item_group[r["proposal_id"]] = key
        for proposal_id, item in items.items():
            targets = [total, figures(item_group[proposal_id])] if group_by else [total]
            _add_item(targets, item, feedback, today)
        for p in _filed_facts(
            session_id=session_id, category=category, date_from=date_from, date_to=date_to
        ):
            total.filed += 1
            if group_by == GroupBy.SESSION:
                figures(p["session_id"]).filed += 1
            elif group_by == GroupBy.CATEGORY:
                figures(p["category"]).filed += 1
            elif group_by == GroupBy.MONTH and p["filed_at"] is not None:
                figures(_month(p["filed_at"])).filed += 1

    ordered = _label_and_order(group_by, list(rows.values()))
    filters = {
        "session": session_id,
        "unit": unit_id,
        "category": category,
        "date_from": date_from.isoformat() if date_from else None,
        "date_to": date_to.isoformat() if date_to else None,
    }
    return Statistics(
        group_by=group_by, level=level, filters=filters, total=total, rows=ordered, today=today
    )


def _label_and_order(group_by: str, rows: list[Figures]) -> list[Figures]:
    if group_by == GroupBy.SESSION:
        sessions = {s.pk: s for s in Session.objects.filter(pk__in=[r.key for r in rows])}
        for r in rows:
            r.label = str(sessions.get(r.key, r.key))
        order = {s.pk: i for i, s in enumerate(Session.objects.filter(pk__in=sessions))}
        return sorted(rows, key=lambda r: order.get(r.key, len(order)))
    if group_by == GroupBy.UNIT:
        units = {u.pk: u for u in Unit.objects.filter(pk__in=[r.key for r in rows])}
        for r in rows:
            r.label = str(units.get(r.key, r.key))
        return sorted(rows, key=lambda r: units[r.key].name if r.key in units else "")
    if group_by == GroupBy.CATEGORY:
        labels = dict(Proposal.Category.choices)
        order = {value: i for i, value in enumerate(labels)}
        for r in rows:
            r.label = str(labels.get(r.key, r.key))
        return sorted(rows, key=lambda r: order.get(r.key, len(order)))
    if group_by == GroupBy.MONTH:
        for r in rows:
            year, month = r.key.split("-") if r.key else ("", "")
            r.label = f"{int(year)}年{int(month)}月" if year else str(_("未知"))
        return sorted(rows, key=lambda r: r.key or "")
    return rows


def overdue_by_unit(*, today: datetime.date | None = None) -> dict[int, int]:
    """Overdue assignments (``proposals.selectors``), counted per unit (one query)."""
    rows = (
        filter_due(Assignment.objects.all(), "overdue", today or _today())
        .order_by()
        .values("unit_id")
        .annotate(n=Count("pk"))
    )
    return {r["unit_id"]: r["n"] for r in rows}


def percent(value: float | None, digits: int = 1) -> str:
    """A rate as people read it: ``95.2%``, or ``—`` when there is nothing to divide."""
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}%"
