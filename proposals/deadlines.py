"""Due dates: one function turns a start date and a rule into a date plus how it was reached.

Every clock in docs/domain.md ("Deadlines") is a setting of the form ``(amount, unit)`` in
``settings.PROPOSAL_DEADLINES``; nothing here hard-codes a length. The explanation string is
stored and shown next to the due date, because a unit clerk who sees "due 10-08" for a
"3 months" rule deserves to see the 国庆节 that moved it there.
"""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from proposals.workdays import WorkCalendar

DAYS = "days"
WORKDAYS = "workdays"
MONTHS = "months"
UNITS = (DAYS, WORKDAYS, MONTHS)

UNIT_LABELS = {DAYS: "天", WORKDAYS: "个工作日", MONTHS: "个月"}

Rule = tuple[int, str]


def parse_rule(value: Any) -> Rule:
    """Normalise a deadline setting to ``(amount, unit)``, or say plainly what is wrong.

    Accepts ``(10, "days")``, ``("10", "days")`` (what ``env.tuple`` yields from the
    environment) and ``"10,days"``. Parsing is strict so that a typo in a deployment's
    environment fails the system check instead of silently moving every deadline.
    """
    if isinstance(value, str):
        parts: Any = value.strip().strip("()").split(",")
    else:
        parts = value
    if not isinstance(parts, list | tuple) or len(parts) != 2:
        raise ValueError(
            f'a deadline must be (amount, unit) such as (10, "days") or "10,days"; got {value!r}'
        )
    raw_amount, raw_unit = parts
    if isinstance(raw_amount, bool):
        raise ValueError(f"deadline amount must be a positive whole number; got {raw_amount!r}")
    try:
        amount = int(raw_amount.strip() if isinstance(raw_amount, str) else raw_amount)
    except (TypeError, ValueError):
        raise ValueError(
            f"deadline amount must be a positive whole number; got {raw_amount!r}"
        ) from None
    if isinstance(raw_amount, float) and raw_amount != amount:
        raise ValueError(f"deadline amount must be a positive whole number; got {raw_amount!r}")
    if amount < 1:
        raise ValueError(f"deadline amount must be a positive whole number; got {raw_amount!r}")
    unit = raw_unit.strip().lower() if isinstance(raw_unit, str) else raw_unit
    if unit not in UNITS:
        raise ValueError(f"deadline unit must be one of {', '.join(UNITS)}; got {raw_unit!r}")
    return amount, unit


def rule_for(clock: str) -> Rule:
    """The configured rule for a named clock, e.g. ``rule_for("reply") == (3, "months")``."""
    try:
        value = settings.PROPOSAL_DEADLINES[clock]
    except KeyError:
        raise KeyError(f"no deadline configured for {clock!r} in PROPOSAL_DEADLINES") from None
    return parse_rule(value)


def add_months(d: datetime.date, n: int) -> datetime.date:
    """``d`` plus ``n`` calendar months, clamped to the last day of a shorter month.

    "One month after 01-31" is taken as the end of February (2024-01-31 + 1 → 2024-02-29),
    the reading that never gives a unit less than the full month.
    """
    month_index = d.year * 12 + (d.month - 1) + n
    year, month = divmod(month_index, 12)
    month += 1
    last_day = stdlib_calendar.monthrange(year, month)[1]
    return d.replace(year=year, month=month, day=min(d.day, last_day))


@dataclass(frozen=True)
class Due:
    """A due date and how it was computed.

    ``raw_on`` is the date the rule gives before moving off a day off; ``due_on`` is the date
    that counts. ``explanation`` is a Chinese sentence for the people who must meet it.
    """

    due_on: datetime.date
    raw_on: datetime.date
    explanation: str


def compute_due(
    start: datetime.date,
    rule: Rule | str,
    *,
    label: str = "交办",
    calendar: WorkCalendar | None = None,
) -> Due:
    """Apply a deadline rule to ``start``; a result on a day off moves to the next working day.

    ``label`` names the start event in the explanation (交办, 反馈, 发文…). Pass ``calendar``
    to reuse one snapshot of the overrides across many computations (e.g. recomputing every
    open due date after a calendar edit) — otherwise a fresh one is read.

    Example explanations::

        交办 2024-03-01 + 3个月 = 2024-06-01 周六 → 顺延 2024-06-03
        交办 2024-07-01 + 3个月 = 2024-10-01 国庆节 → 顺延 2024-10-08
        交办 2024-03-01 + 3个月 = 2024-06-03

    If a year between ``start`` and the due date has no holidays entered (neither in the
    package nor as overrides), the explanation ends with a note that only weekends counted,
    so the committee sees the date may still move.
    """
    amount, unit = parse_rule(rule)
    cal = calendar if calendar is not None else WorkCalendar()
    if unit == DAYS:
        raw_on = start + datetime.timedelta(days=amount)
    elif unit == WORKDAYS:
        raw_on = cal.add_workdays(start, amount)
    else:
        raw_on = add_months(start, amount)
    due_on = cal.next_workday(raw_on)

    explanation = f"{label} {start:%Y-%m-%d} + {amount}{UNIT_LABELS[unit]} = {raw_on:%Y-%m-%d}"
    if due_on != raw_on:
        explanation += f" {cal.day_name(raw_on)} → 顺延 {due_on:%Y-%m-%d}"
    missing = cal.missing_years(range(start.year, due_on.year + 1))
    if missing:
        years = "、".join(str(year) for year in missing)
        explanation += f"（{years}年节假日尚未录入，仅按周末计算）"
    return Due(due_on=due_on, raw_on=raw_on, explanation=explanation)


def max_reply_due(assigned_on: datetime.date) -> datetime.date:
    """The latest date a reply may ever be due: assignment + ``PROPOSAL_MAX_REPLY_MONTHS``.

    A hard limit, extensions included (docs/domain.md, "Deadlines"): it is *not* moved to the next
    working day, because moving it would let a due date exceed the limit. Any computed or
    extended reply due date must be ``<=`` this date; when a rolled-forward reply due date
    would pass it, the caller must cap it here (or refuse the extension), not the other way.
    """
    return add_months(assigned_on, int(settings.PROPOSAL_MAX_REPLY_MONTHS))
