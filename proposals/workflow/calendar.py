"""The calendar: the committee's day overrides, the years it marks entered, and recomputing the
open due dates when either (or a key proposal's reply period) changes.

Recomputing says which due dates moved (``MovedDue``), so the person who changed the calendar
sees whom it affects. A due date fixed by an approved extension (``DueDate.is_fixed``) never
moves; neither does one already met or of an assignment no longer open.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, CharField, F, QuerySet, Value, When
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _

from proposals import deadlines
from proposals.models import (
    OPEN_ASSIGNMENT_STATES,
    CalendarYear,
    DayOverride,
    DueDate,
    Proposal,
    User,
    today,
)
from proposals.workdays import FIXED_STATUTORY_HOLIDAYS, WorkCalendar
from proposals.workflow.assignments import _rule_for
from proposals.workflow.errors import InvalidInput, WrongState
from proposals.workflow.guards import (
    _lock_proposal,
    max_length,
    record_transition,
    require_committee,
    required_text,
)

#: The years a committee may mark entered: the package's first year to a few years ahead.
FIRST_YEAR = 2004
YEARS_AHEAD = 3


@dataclass(frozen=True)
class MovedDue:
    """One open due date whose date changed, for the message that lists them."""

    due: DueDate
    old_due_on: datetime.date
    new_due_on: datetime.date

    def __str__(self) -> str:
        """Reads "第001号 区房管局 答复期限 2027-01-01 → 2027-01-04"."""
        assignment = self.due.assignment
        return (
            f"{assignment.proposal.number or assignment.proposal_id} {assignment.unit} "
            f"{self.due.get_clock_display()} {self.old_due_on:%Y-%m-%d} → "
            f"{self.new_due_on:%Y-%m-%d}"
        )


@transaction.atomic
def set_day_override(
    *, actor: User, date: datetime.date, is_workday: bool, note: str = ""
) -> tuple[DayOverride, int]:
    """The committee corrects the calendar for one day; open due dates are recomputed.

    Returns the override and how many due dates moved.
    """
    require_committee(actor)
    override, _created = DayOverride.objects.update_or_create(
        date=date, defaults={"is_workday": is_workday, "note": note.strip(), "updated_by": actor}
    )
    record_transition(
        override,
        actor=actor,
        verb="set_day_override",
        to_state="workday" if is_workday else "day_off",
        note=f"{date:%Y-%m-%d} {note}".strip(),
    )
    moved = recompute_open_due_dates()
    return override, len(moved)


@transaction.atomic
def delete_day_override(*, actor: User, date: datetime.date) -> int:
    """The committee removes its correction of one day; returns how many due dates moved."""
    require_committee(actor)
    override = DayOverride.objects.filter(date=date).first()
    if override is None:
        raise InvalidInput(_("该日期没有调整记录。"), field="date")
    record_transition(override, actor=actor, verb="delete_day_override", note=f"{date:%Y-%m-%d}")
    override.delete()
    return len(recompute_open_due_dates())


# --- years ---------------------------------------------------------------------------------


def _check_year(year: int) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise InvalidInput(_("请填写年份。"), field="year") from None
    last = today().year + YEARS_AHEAD
    if not FIRST_YEAR <= year <= last:
        raise InvalidInput(
            _("年份须在 %(first)d 至 %(last)d 之间。") % {"first": FIRST_YEAR, "last": last},
            field="year",
        )
    return year


def unentered_fixed_holidays(year: int, calendar: WorkCalendar | None = None) -> list[str]:
    """The law's fixed-date holidays of ``year`` the calendar still counts as working days,
    as "01-01 元旦": a year whose notice was typed in has every one of them off."""
    cal = calendar or WorkCalendar()
    return [
        f"{month:02d}-{day:02d} {name}"
        for (month, day), name in FIXED_STATUTORY_HOLIDAYS.items()
        if cal.is_workday(datetime.date(year, month, day))
    ]


#: One day of a notice: the date, whether people work then (a 调休 day) or not, a note.
NoticeDay = tuple[datetime.date, bool, str]


def check_calendar_year(
    year: int, source: str, days: Sequence[NoticeDay] = ()
) -> tuple[int, str, list[NoticeDay]]:
    """The year, source and days cleaned, or the ``InvalidInput`` the admin's form shows: a
    year in range, not entered yet, a source named, each day in that year and given once, and
    the law's fixed-date holidays off once the days are applied (a notice typed in has them;
    a year with only 春节 entered does not)."""
    year = _check_year(year)
    source = required_text(source, _("依据"), "source")
    if len(source) > max_length(CalendarYear, "source"):
        raise InvalidInput(_("依据不能超过200字。"), field="source")
    if CalendarYear.objects.filter(year=year).exists():
        raise InvalidInput(_("%(year)d 年的节假日安排已录入。") % {"year": year}, field="year")
    cleaned: dict[datetime.date, NoticeDay] = {}
    for date, is_workday, note in days:
        if date.year != year:
            raise InvalidInput(
                _("%(date)s 不在 %(year)d 年。") % {"date": f"{date:%Y-%m-%d}", "year": year},
                field="days",
            )
        if date in cleaned:
            raise InvalidInput(
                _("%(date)s 填写了两次。") % {"date": f"{date:%Y-%m-%d}"}, field="days"
            )
        cleaned[date] = (date, bool(is_workday), (note or "").strip()[:100])
    calendar = WorkCalendar()
    overrides = {**calendar.overrides, **{d: w for d, w, _note in cleaned.values()}}
    pending = unentered_fixed_holidays(year, WorkCalendar(overrides=overrides))
    if pending:
        raise InvalidInput(
            _("%(year)d 年以下法定节假日仍是工作日：%(days)s。请按通知填写放假日期。")
            % {"year": year, "days": "、".join(pending)},
            field="days",
        )
    return year, source, sorted(cleaned.values())


@transaction.atomic
def enter_calendar_year(
    *, actor: User, year: int, source: str, days: Sequence[NoticeDay] = ()
) -> tuple[CalendarYear, list[MovedDue]]:
    """The committee enters a year's official holiday notice: its days off and 调休 working
    days (``days``, as day overrides, each audited; days typed in before may be left out)
    and the mark that the year is complete. Open due dates are recomputed once, the warning
    leaves their explanations, and those whose date moved are returned.

    Refused while a holiday the law fixes (元旦, 劳动节, 国庆节) would still be a working day.
    """
    require_committee(actor)
    year, source, days = check_calendar_year(year, source, days)
    for date, is_workday, note in days:
        override, _created = DayOverride.objects.update_or_create(
            date=date, defaults={"is_workday": is_workday, "note": note, "updated_by": actor}
        )
        record_transition(
            override,
            actor=actor,
            verb="set_day_override",
            to_state="workday" if is_workday else "day_off",
            note=f"{date:%Y-%m-%d} {note}".strip(),
        )
    entry = CalendarYear.objects.create(year=year, source=source, entered_by=actor)
    record_transition(entry, actor=actor, verb="enter_calendar_year", note=f"{year}：{source}")
    return entry, recompute_open_due_dates()


@transaction.atomic
def withdraw_calendar_year(*, actor: User, year: int) -> list[MovedDue]:
    """The committee takes back a year marked entered by mistake: its due dates carry the
    warning again. Returns the due dates that moved (none, unless the calendar changed)."""
    require_committee(actor)
    entry = CalendarYear.objects.select_for_update().filter(year=year).first()
    if entry is None:
        raise InvalidInput(_("%(year)s 年的节假日安排尚未录入。") % {"year": year}, field="year")
    record_transition(
        entry, actor=actor, verb="withdraw_calendar_year", note=f"{year}：{entry.source}"
    )
    entry.delete()
    return recompute_open_due_dates()


# --- recomputing ---------------------------------------------------------------------------


def _open_dues() -> QuerySet[DueDate]:
    """The due dates a calendar change may move: open, not fixed, of an open assignment."""
    return (
        DueDate.objects.filter(completed_on__isnull=True, is_fixed=False)
        .filter(assignment__state__in=list(OPEN_ASSIGNMENT_STATES))
        .select_related("assignment__proposal", "assignment__unit")
        .order_by("due_on", "pk")
    )


def _recompute(
    dues: Iterable[DueDate], calendar: WorkCalendar, rules: dict[int, tuple[int, str]] | None = None
) -> list[MovedDue]:
    """Recompute ``dues`` (locked by the caller), save what changed, return what moved.

    ``rules`` gives a new rule per due date id (a key proposal's changed period); the others
    keep their own. Every change is saved, a new explanation alone included (a year entered
    takes its warning away), but only a new date counts as moved.
    """
    changed: list[DueDate] = []
    moved: list[MovedDue] = []
    for due in dues:
        rule = (rules or {}).get(due.pk) or deadlines.parse_rule(due.rule)
        label = _("不满意反馈") if due.clock == DueDate.Clock.REHANDLING_REPLY else _("交办")
        result = deadlines.compute_due(
            due.start_on,
            rule,
            label=label,
            calendar=calendar,
            limit=deadlines.due_limit(due.clock, due.start_on),
        )
        rule_text = f"{rule[0]},{rule[1]}"
        if (result.due_on, result.explanation, rule_text) == (
            due.due_on,
            due.explanation,
            due.rule,
        ):
            continue
        if result.due_on != due.due_on:
            moved.append(MovedDue(due, due.due_on, result.due_on))
        due.due_on, due.explanation, due.rule = result.due_on, result.explanation, rule_text
        changed.append(due)
    DueDate.objects.bulk_update(changed, ["due_on", "explanation", "rule"], batch_size=500)
    return moved


def recompute_open_due_dates() -> list[MovedDue]:
    """Recompute every due date that is still open and was not fixed by an extension, after
    a calendar change; return those whose date moved (oldest first)."""
    return _recompute(_open_dues().select_for_update(of=("self",)), WorkCalendar())


def stale_reply_dues_everywhere() -> QuerySet[DueDate]:
    """Every open first-round reply due date computed under another period than its
    proposal's current one — what the calendar page offers to recompute, in one query."""
    default = "{},{}".format(*deadlines.rule_for(DueDate.Clock.REPLY))
    current = Case(
        When(
            assignment__proposal__is_key=True,
            assignment__proposal__key_reply_months__isnull=False,
            then=Concat(
                Cast("assignment__proposal__key_reply_months", CharField()), Value(",months")
            ),
        ),
        default=Value(default),
        output_field=CharField(),
    )
    return (
        _open_dues()
        .filter(clock=DueDate.Clock.REPLY, round=1)
        .annotate(current_rule=current)
        .exclude(rule=F("current_rule"))
    )


def over_cap_reply_dues(dues: QuerySet[DueDate] | None = None) -> list[DueDate]:
    """The open first-round reply due dates (of ``dues``, by default all) later than the
    6-month limit: computed before the cap applied to key proposals (issue 19)."""
    dues = dues if dues is not None else _open_dues()
    months = deadlines.max_reply_months()
    shortest = datetime.timedelta(days=28 * months)  # no period of that many months is shorter
    candidates = dues.filter(clock=DueDate.Clock.REPLY, round=1).filter(
        due_on__gt=F("start_on") + shortest
    )
    return [d for d in candidates if d.due_on > deadlines.max_reply_due(d.start_on)]


def stale_reply_dues(proposal: Proposal) -> list[DueDate]:
    """The open first-round reply due dates of ``proposal`` computed under another period
    than the one it has now (its key-proposal months changed since), or past the cap."""
    mine = _open_dues().filter(assignment__proposal=proposal)
    found = {d.pk: d for d in stale_reply_dues_everywhere().filter(assignment__proposal=proposal)}
    for due in over_cap_reply_dues(mine):
        found.setdefault(due.pk, due)
    return sorted(found.values(), key=lambda d: (d.due_on, d.pk))


def proposals_with_stale_reply_dues() -> list[Proposal]:
    """The proposals whose open reply due dates the calendar page offers to recompute."""
    found: dict[int, Proposal] = {}
    for due in [*stale_reply_dues_everywhere(), *over_cap_reply_dues()]:
        found.setdefault(due.assignment.proposal_id, due.assignment.proposal)
    return sorted(found.values(), key=lambda p: (p.number, p.pk))


@transaction.atomic
def recompute_reply_due(proposal: Proposal | int, *, actor: User) -> list[MovedDue]:
    """Recompute the open reply due dates of ``proposal`` under its current period, on the
    committee's request after its key-proposal months changed (never by itself: a unit's date
    does not move without someone deciding it should). Returns those that moved; audited on
    the proposal, the note listing them.
    """
    proposal = _lock_proposal(proposal)
    require_committee(actor)
    stale = stale_reply_dues(proposal)
    if not stale:
        raise WrongState(_("此件在办的答复期限已按现行期限计算，无需重算。"))
    rule = _rule_for(DueDate.Clock.REPLY, proposal)
    locked = list(_open_dues().select_for_update(of=("self",)).filter(pk__in=[d.pk for d in stale]))
    moved = _recompute(locked, WorkCalendar(), rules={d.pk: rule for d in locked})
    amount, unit = rule
    note = f"{amount}{deadlines.UNIT_LABELS[unit]}"
    if moved:
        note += "：" + "；".join(str(m) for m in moved)
    record_transition(
        proposal,
        actor=actor,
        verb="recompute_reply_due",
        from_state=proposal.status,
        to_state=proposal.status,
        note=note,
        proposal=proposal,
    )
    return moved


def reply_due_preview(proposal: Proposal) -> list[tuple[DueDate, deadlines.Due]]:
    """What ``recompute_reply_due`` would give each stale reply due date, without saving:
    the confirmation page shows it before the committee decides."""
    rule = _rule_for(DueDate.Clock.REPLY, proposal)
    calendar = WorkCalendar()
    return [
        (
            due,
            deadlines.compute_due(
                due.start_on,
                rule,
                calendar=calendar,
                limit=deadlines.due_limit(due.clock, due.start_on),
            ),
        )
        for due in stale_reply_dues(proposal)
    ]
