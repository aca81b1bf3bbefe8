"""The Chinese working-day calendar that every working-day deadline is counted in.

Three sources, in order of precedence:

1. the committee's ``DayOverride`` rows — they win, because the State Council announces next
   year's holidays each November, long before a new ``chinesecalendar`` release knows them;
2. ``chinesecalendar`` for the years it knows (statutory holidays off, 调休 make-up days on);
3. for any other year, plain weekends: Saturday and Sunday off, Monday to Friday on.

Deadlines set today routinely fall in a year the package does not know yet (it raises
``NotImplementedError`` there), so nothing in this module may raise for such a year; instead
``missing_years`` tells the committee which years still need their holidays entered. A year
counts as entered once the committee marks its official notice entered (a ``CalendarYear``),
not after its first override: one override says nothing about 春节. Until then the days the law
itself fixes (``FIXED_STATUTORY_HOLIDAYS``) are known to be off, so no reminder goes out on them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

import chinese_calendar

ONE_DAY = datetime.timedelta(days=1)

WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

# Read from the package's own data, not hard-coded, so upgrading chinesecalendar widens the
# range without a code change. This is the same range its ``_validate_date`` accepts.
KNOWN_YEARS = range(
    min(chinese_calendar.holidays).year,
    max(chinese_calendar.holidays).year + 1,
)

# The package stores each holiday as its English name (the ``Holiday`` enum's value).
_CHINESE_HOLIDAY_NAMES = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}

#: The holidays 《全国年节及纪念日放假办法》 (2024 revision) fixes on solar dates, known before the
#: State Council's notice for the year: 元旦 1/1, 劳动节 5/1–5/2, 国庆节 10/1–10/3. (春节, 清明,
#: 端午 and 中秋 follow the lunar calendar or the solar terms, and the notice adds the bridging
#: days and the 调休 working days, so only these can be relied on without it.)
FIXED_STATUTORY_HOLIDAYS: dict[tuple[int, int], str] = {
    (1, 1): "元旦",
    (5, 1): "劳动节",
    (5, 2): "劳动节",
    (10, 1): "国庆节",
    (10, 2): "国庆节",
    (10, 3): "国庆节",
}


def _require_date(d: datetime.date) -> datetime.date:
    """Refuse datetimes: they compare unequal to dates and would silently miss every lookup.

    A UTC ``timezone.now().date()`` can also be the wrong day in Asia/Shanghai, so the caller
    should convert deliberately (``timezone.localdate()``).
    """
    if isinstance(d, datetime.datetime) or not isinstance(d, datetime.date):
        raise TypeError(f"expected a datetime.date, got {type(d).__name__}: {d!r}")
    return d


class WorkCalendar:
    """The working-day calendar with the committee's overrides, read once per instance.

    Build one per computation (or per request/task): it loads every ``DayOverride`` in one
    query on first use and caches each day's answer, so counting a few months of working
    days costs one query and a few hundred dictionary look-ups. Because it is a snapshot,
    do not keep an instance across a calendar change; the module-level functions build a
    fresh one each call for that reason.
    """

    def __init__(
        self,
        overrides: dict[datetime.date, bool] | None = None,
        entered_years: Iterable[int] | None = None,
    ) -> None:
        """``overrides`` injects the committee's corrections (tests, previews of an edit);
        ``None`` means read them from the database when first needed. ``entered_years``
        injects the years marked entered; left out, they are read from the database — unless
        ``overrides`` was injected, which means "no database": then no year is entered."""
        self._overrides = dict(overrides) if overrides is not None else None
        self._notes: dict[datetime.date, str] = {}
        if entered_years is None and overrides is not None:
            entered_years = ()
        self._entered_years = frozenset(entered_years) if entered_years is not None else None
        self._override_years: frozenset[int] | None = None
        self._workday_cache: dict[datetime.date, bool] = {}

    # --- sources -------------------------------------------------------------------------

    @property
    def overrides(self) -> dict[datetime.date, bool]:
        """The committee's overrides, loaded lazily so building a calendar costs nothing."""
        if self._overrides is None:
            from proposals.models import DayOverride  # the model imports nothing from here

            rows = DayOverride.objects.values_list("date", "is_workday", "note")
            self._overrides = {}
            for date, is_workday, note in rows:
                self._overrides[date] = is_workday
                if note:
                    self._notes[date] = note
        return self._overrides

    @property
    def entered_years(self) -> frozenset[int]:
        """The years the committee has marked entered (``CalendarYear``), read lazily."""
        if self._entered_years is None:
            from proposals.models import CalendarYear  # the model imports nothing from here

            self._entered_years = frozenset(CalendarYear.objects.values_list("year", flat=True))
        return self._entered_years

    def is_year_known(self, year: int) -> bool:
        """Whether ``chinesecalendar`` has this year's holidays (it raises outside them)."""
        return year in KNOWN_YEARS

    def has_overrides_for(self, year: int) -> bool:
        """Whether the committee has corrected any day of this year.

        Not the same as entered (``is_year_entered``): an override or two may be typed in
        before the whole notice is.
        """
        if self._override_years is None:
            self._override_years = frozenset(d.year for d in self.overrides)
        return year in self._override_years

    def is_year_entered(self, year: int) -> bool:
        """Whether this year's holidays are complete: the package knows them, or the committee
        has marked the year's official notice entered (``CalendarYear``)."""
        return self.is_year_known(year) or year in self.entered_years

    def missing_years(self, years: Iterable[int]) -> list[int]:
        """The years, sorted, whose holidays are not entered yet: only weekends and the
        committee's overrides count there."""
        return sorted({y for y in years if not self.is_year_entered(y)})

    def fixed_holiday_pending(self, d: datetime.date) -> str | None:
        """The name of the statutory holiday the law fixes on ``d`` when ``d``'s year is not
        entered yet (the calendar may still count it as a working day), else ``None``."""
        _require_date(d)
        name = FIXED_STATUTORY_HOLIDAYS.get((d.month, d.day))
        if name is None or self.is_year_entered(d.year):
            return None
        return name

    def sends_reminders_on(self, d: datetime.date) -> bool:
        """Whether reminders go out on ``d``: a working day that is not a statutory holiday the
        law fixes in a year whose notice is not entered (元旦 2027 before it is announced)."""
        return self.is_workday(d) and self.fixed_holiday_pending(d) is None

    # --- questions about one day ---------------------------------------------------------

    def is_workday(self, d: datetime.date) -> bool:
        """Whether people work on ``d``: override, else the package, else Monday to Friday."""
        _require_date(d)
        cached = self._workday_cache.get(d)
        if cached is not None:
            return cached
        if d in self.overrides:
            result = self.overrides[d]
        elif self.is_year_known(d.year):
            result = chinese_calendar.is_workday(d)
        else:
            result = d.weekday() < 5
        self._workday_cache[d] = result
        return result

    def day_name(self, d: datetime.date) -> str:
        """Why ``d`` is on or off, in Chinese, for the explanation shown with a due date.

        Examples: "周二", "周六", "国庆节", "周日（调休上班）", "春节" (the committee's note
        on a day it turned off), "周三（调整休息）" (such a day without a note).
        """
        weekday_name = WEEKDAY_NAMES[d.weekday()]
        is_weekend = d.weekday() >= 5
        if self.is_workday(d):
            return f"{weekday_name}（调休上班）" if is_weekend else weekday_name
        holiday_name = self._holiday_name(d) or self._override_note(d)
        if holiday_name:
            return holiday_name
        return weekday_name if is_weekend else f"{weekday_name}（调整休息）"

    def _override_note(self, d: datetime.date) -> str | None:
        """The committee's note on its override of ``d`` ("春节"), if it wrote one."""
        return self._notes.get(d) if d in self.overrides else None

    def _holiday_name(self, d: datetime.date) -> str | None:
        """The package's Chinese name for a statutory day off on ``d``, if it has one."""
        if not self.is_year_known(d.year):
            return None
        is_holiday, english_name = chinese_calendar.get_holiday_detail(d)
        if not is_holiday or english_name is None:
            return None
        return _CHINESE_HOLIDAY_NAMES.get(english_name, english_name)

    # --- what a span of days holds, for the explanation of a due date ---------------------

    def holidays_in(
        self, first: datetime.date, last: datetime.date
    ) -> list[tuple[str, datetime.date, datetime.date]]:
        """The holidays within [first, last] as ``(name, from, to)``, one per run of days off.

        A run is a stretch of consecutive days off holding at least one holiday day (named
        by the package, turned off by the committee, or a weekday off); it spans its first
        to its last holiday day, so the weekends inside 国庆 belong to it and a plain weekend
        next to a one-day holiday does not. Names of one run are joined ("国庆节、中秋节");
        a day without a name reads as the committee's note or "调整休息".
        """
        _require_date(first)
        _require_date(last)
        runs: list[tuple[str, datetime.date, datetime.date]] = []
        names: list[str] = []
        span: list[datetime.date] = []
        d = first
        while d <= last + ONE_DAY:  # one day past the end closes a run that reaches it
            if d <= last and not self.is_workday(d):
                name = self._off_day_name(d)
                if name is not None:
                    span.append(d)
                    if name not in names:
                        names.append(name)
            elif span:
                runs.append(("、".join(names), span[0], span[-1]))
                names, span = [], []
            d += ONE_DAY
        return runs

    def makeup_days_in(self, first: datetime.date, last: datetime.date) -> list[datetime.date]:
        """The 调休 days within [first, last]: Saturdays and Sundays that are working days."""
        _require_date(first)
        _require_date(last)
        found = []
        d = first
        while d <= last:
            if d.weekday() >= 5 and self.is_workday(d):
                found.append(d)
            d += ONE_DAY
        return found

    def _off_day_name(self, d: datetime.date) -> str | None:
        """What makes day off ``d`` a holiday rather than a plain weekend, or ``None``."""
        name = self._holiday_name(d)
        if name:
            return name
        if d in self.overrides:
            return self._override_note(d) or "调整休息"
        return "调整休息" if d.weekday() < 5 else None

    # --- counting ------------------------------------------------------------------------

    def next_workday(self, d: datetime.date) -> datetime.date:
        """``d`` if it is a working day, else the first working day after it.

        A due date that falls on a day off moves here (docs/domain.md, "Deadlines").
        """
        _require_date(d)
        while not self.is_workday(d):
            d += ONE_DAY
        return d

    def add_workdays(self, d: datetime.date, n: int) -> datetime.date:
        """The ``n``-th working day after ``d`` (``d`` itself is not counted).

        "15 working days after assignment" starts counting the day after assignment, like
        calendar-day deadlines do. ``n == 0`` gives ``next_workday(d)``, so the result is
        always a working day.
        """
        _require_date(d)
        if n < 0:
            raise ValueError(f"n must be 0 or more, got {n}")
        if n == 0:
            return self.next_workday(d)
        while n:
            d += ONE_DAY
            if self.is_workday(d):
                n -= 1
        return d

    def workdays_between(self, start: datetime.date, end: datetime.date) -> int:
        """How many working days lie in (start, end]; negative when ``end`` is before ``start``.

        Half-open so that ``workdays_between(d, add_workdays(d, n)) == n`` and reminders can
        say "due in N working days" with the same counting as the deadline itself.
        """
        _require_date(start)
        _require_date(end)
        if end < start:
            return -self.workdays_between(end, start)
        count = 0
        d = start
        while d < end:
            d += ONE_DAY
            if self.is_workday(d):
                count += 1
        return count


# --- Module-level shortcuts: each builds a fresh calendar so it sees current overrides. ------


def is_workday(d: datetime.date) -> bool:
    """See ``WorkCalendar.is_workday``."""
    return WorkCalendar().is_workday(d)


def next_workday(d: datetime.date) -> datetime.date:
    """See ``WorkCalendar.next_workday``."""
    return WorkCalendar().next_workday(d)


def add_workdays(d: datetime.date, n: int) -> datetime.date:
    """See ``WorkCalendar.add_workdays``."""
    return WorkCalendar().add_workdays(d, n)


def workdays_between(start: datetime.date, end: datetime.date) -> int:
    """See ``WorkCalendar.workdays_between``."""
    return WorkCalendar().workdays_between(start, end)
