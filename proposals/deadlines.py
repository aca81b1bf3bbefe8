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


#: ``DueDate.explanation``'s length: the details of a long explanation are cut to fit it.
EXPLANATION_MAX_LENGTH = 200


@dataclass(frozen=True)
class Due:
    """A due date and how it was computed.

    ``raw_on`` is the date the rule gives before moving off a day off; ``due_on`` is the date
    that counts. ``explanation`` is a Chinese sentence for the people who must meet it.
    ``capped`` says the hard limit (``max_reply_due``) replaced a later date.
    """

    due_on: datetime.date
    raw_on: datetime.date
    explanation: str
    capped: bool = False


def compute_due(
    start: datetime.date,
    rule: Rule | str,
    *,
    label: str = "交办",
    calendar: WorkCalendar | None = None,
    limit: datetime.date | None = None,
) -> Due:
    """Apply a deadline rule to ``start``; a result on a day off moves to the next working day.

    ``label`` names the start event in the explanation (交办, 反馈, 发文…). Pass ``calendar``
    to reuse one snapshot of the overrides across many computations (e.g. recomputing every
    open due date after a calendar edit) — otherwise a fresh one is read. ``limit`` is a date
    the result may never pass (the reply's 6 months, ``max_reply_due``): a later result is
    replaced by it, unmoved even on a day off, and the explanation says so.

    Example explanations::

        交办 2024-03-01 + 3个月 = 2024-06-01 周六 → 顺延 2024-06-03
        交办 2024-07-01 + 3个月 = 2024-10-01 国庆节 → 顺延 2024-10-08
        交办 2026-09-15 + 15个工作日 = 2026-10-14；跳过 中秋节 09-25至09-27，国庆节
            10-01至10-07；调休上班 09-20、10-10
        交办 2026-03-02 + 8个月 = 2026-11-02；超过6个月上限，取 2026-09-02

    A working-day count lists the holidays it skipped and the 调休 days it counted. If a year
    between ``start`` and the due date has no holidays entered (neither in the package nor
    marked entered by the committee), the explanation ends with a note that only weekends
    counted, so the committee sees the date may still move.
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

    head = f"{label} {start:%Y-%m-%d} + {amount}{UNIT_LABELS[unit]} = {raw_on:%Y-%m-%d}"
    if due_on != raw_on:
        head += f" {cal.day_name(raw_on)} → 顺延 {due_on:%Y-%m-%d}"
    details = _counted_days(cal, start, raw_on) if unit == WORKDAYS else ""
    tail = ""
    capped = False
    if limit is not None and due_on > limit:
        capped = True
        due_on = limit
        tail += f"；超过{max_reply_months()}个月上限，取 {limit:%Y-%m-%d}"
        if not cal.is_workday(limit):
            tail += f" {cal.day_name(limit)}（不顺延）"
    missing = cal.missing_years(range(start.year, due_on.year + 1))
    if missing:
        years = "、".join(str(year) for year in missing)
        tail += f"（{years}年节假日尚未录入，仅按周末计算）"
    room = EXPLANATION_MAX_LENGTH - len(head) - len(tail)
    if len(details) > room:
        details = details[: max(room - 1, 0)] + "…" if room > 0 else ""
    return Due(due_on=due_on, raw_on=raw_on, explanation=head + details + tail, capped=capped)


def _counted_days(cal: WorkCalendar, start: datetime.date, end: datetime.date) -> str:
    """The "；跳过 国庆节 10-01至10-07；调休上班 10-10" of a working-day count over (start, end].

    Month-day dates when the span stays in one year, full dates when it crosses one.
    """
    fmt = "%m-%d" if start.year == end.year else "%Y-%m-%d"
    first = start + datetime.timedelta(days=1)
    runs = [
        f"{name} {a:{fmt}}" if a == b else f"{name} {a:{fmt}}至{b:{fmt}}"
        for name, a, b in cal.holidays_in(first, end)
    ]
    makeup = [f"{d:{fmt}}" for d in cal.makeup_days_in(first, end)]
    text = ""
    if runs:
        text += "；跳过 " + "，".join(runs)
    if makeup:
        text += "；调休上班 " + "、".join(makeup)
    return text


def max_reply_months() -> int:
    """``PROPOSAL_MAX_REPLY_MONTHS``: how many months after assignment a reply is due at most."""
    return int(settings.PROPOSAL_MAX_REPLY_MONTHS)


def is_capped_clock(clock: str) -> bool:
    """Whether a clock's due date is bounded by ``max_reply_due`` of its start: the first
    reply, whatever its period (key proposals included). Its start is the assignment date."""
    return clock == "reply"


def due_limit(clock: str, start: datetime.date) -> datetime.date | None:
    """The date a due date of ``clock`` started on ``start`` may never pass, if any."""
    return max_reply_due(start) if is_capped_clock(clock) else None


def max_reply_due(assigned_on: datetime.date) -> datetime.date:
    """The latest date a reply may ever be due: assignment + ``PROPOSAL_MAX_REPLY_MONTHS``.

    A hard limit, extensions included (docs/domain.md, "Deadlines"): it is *not* moved to the next
    working day, because moving it would let a due date exceed the limit. Any computed or
    extended reply due date must be ``<=`` this date; when a rolled-forward reply due date
    would pass it, the caller must cap it here (or refuse the extension), not the other way.
    """
    return add_months(assigned_on, max_reply_months())
