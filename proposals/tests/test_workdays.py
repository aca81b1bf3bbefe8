"""The working-day calendar: chinesecalendar, the committee's overrides, and unknown years."""

from __future__ import annotations

import datetime

import pytest

from proposals import workdays
from proposals.models import CalendarYear, DayOverride
from proposals.workdays import WorkCalendar

D = datetime.date


@pytest.fixture
def calendar() -> WorkCalendar:
    """A calendar with no overrides, injected so these tests need no database."""
    return WorkCalendar(overrides={})


# --- is_workday ----------------------------------------------------------------------------


def test_spring_festival_2025_make_up_sunday_and_saturday_are_working_days(calendar):
    assert D(2025, 1, 26).weekday() == 6
    assert D(2025, 2, 8).weekday() == 5
    assert calendar.is_workday(D(2025, 1, 26))
    assert calendar.is_workday(D(2025, 2, 8))


def test_national_day_2025_from_october_1_to_8_is_off(calendar):
    for day in range(1, 9):
        assert not calendar.is_workday(D(2025, 10, day)), day
    assert calendar.is_workday(D(2025, 10, 9))


def test_an_ordinary_saturday_is_not_a_working_day(calendar):
    assert not calendar.is_workday(D(2025, 3, 15))
    assert calendar.is_workday(D(2025, 3, 14))


def test_a_datetime_is_refused_rather_than_silently_misread(calendar):
    with pytest.raises(TypeError):
        calendar.is_workday(datetime.datetime(2025, 3, 14, 9, 0))


# --- next_workday / add_workdays -----------------------------------------------------------


def test_next_workday_keeps_a_working_day_and_skips_a_holiday(calendar):
    assert calendar.next_workday(D(2025, 3, 14)) == D(2025, 3, 14)
    assert calendar.next_workday(D(2025, 10, 1)) == D(2025, 10, 9)


def test_add_workdays_across_spring_festival_2025_counts_the_make_up_days(calendar):
    # From Fri 01-24: Sat 01-25 off; Sun 01-26 make-up (1); Mon 01-27 (2);
    # 01-28..02-04 holiday; Wed 02-05 (3), Thu 02-06 (4), Fri 02-07 (5), Sat 02-08 make-up (6).
    assert calendar.add_workdays(D(2025, 1, 24), 5) == D(2025, 2, 7)
    assert calendar.add_workdays(D(2025, 1, 24), 6) == D(2025, 2, 8)


def test_add_workdays_across_national_day_2024_counts_the_make_up_days(calendar):
    # From Fri 09-27: Sat 09-28 off; Sun 09-29 make-up (1); Mon 09-30 (2);
    # 10-01..10-07 holiday; Tue 10-08 (3), 10-09 (4), 10-10 (5), 10-11 (6), Sat 10-12 make-up (7).
    assert calendar.add_workdays(D(2024, 9, 27), 3) == D(2024, 10, 8)
    assert calendar.add_workdays(D(2024, 9, 27), 7) == D(2024, 10, 12)


def test_add_zero_workdays_is_the_next_working_day(calendar):
    assert calendar.add_workdays(D(2025, 3, 14), 0) == D(2025, 3, 14)
    assert calendar.add_workdays(D(2025, 3, 15), 0) == D(2025, 3, 17)


def test_add_workdays_does_not_count_the_start_day(calendar):
    assert calendar.add_workdays(D(2025, 3, 10), 1) == D(2025, 3, 11)


def test_add_workdays_refuses_a_negative_count(calendar):
    with pytest.raises(ValueError):
        calendar.add_workdays(D(2025, 3, 10), -1)


# --- workdays_between ----------------------------------------------------------------------


def test_workdays_between_counts_the_half_open_interval(calendar):
    assert calendar.workdays_between(D(2025, 3, 10), D(2025, 3, 10)) == 0
    assert calendar.workdays_between(D(2025, 3, 10), D(2025, 3, 11)) == 1
    # Mon 03-10 → Mon 03-17: Tue..Fri and the next Monday.
    assert calendar.workdays_between(D(2025, 3, 10), D(2025, 3, 17)) == 5
    assert calendar.workdays_between(D(2024, 9, 27), D(2024, 10, 12)) == 7


def test_workdays_between_is_negative_and_symmetric_when_end_is_before_start(calendar):
    start, end = D(2024, 9, 27), D(2024, 10, 12)
    assert calendar.workdays_between(end, start) == -calendar.workdays_between(start, end) == -7


def test_workdays_between_undoes_add_workdays(calendar):
    start = D(2025, 1, 20)
    for n in (1, 5, 15, 20, 60):
        assert calendar.workdays_between(start, calendar.add_workdays(start, n)) == n


# --- day_name ------------------------------------------------------------------------------


def test_day_name_says_why_a_day_is_off_or_on(calendar):
    assert calendar.day_name(D(2025, 3, 15)) == "周六"
    assert calendar.day_name(D(2025, 3, 16)) == "周日"
    assert calendar.day_name(D(2025, 3, 17)) == "周一"
    assert calendar.day_name(D(2024, 10, 1)) == "国庆节"
    assert calendar.day_name(D(2025, 1, 29)) == "春节"
    assert calendar.day_name(D(2025, 1, 26)) == "周日（调休上班）"


def test_day_name_of_an_override_shows_the_committee_change():
    calendar = WorkCalendar(overrides={D(2025, 3, 12): False, D(2025, 3, 15): True})
    assert calendar.day_name(D(2025, 3, 12)) == "周三（调整休息）"
    assert calendar.day_name(D(2025, 3, 15)) == "周六（调休上班）"


# --- overrides -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_override_turns_a_working_day_off_and_a_weekend_day_on():
    wednesday, saturday = D(2025, 3, 12), D(2025, 3, 15)
    DayOverride.objects.create(date=wednesday, is_workday=False)
    DayOverride.objects.create(date=saturday, is_workday=True)

    assert not workdays.is_workday(wednesday)
    assert workdays.is_workday(saturday)
    # From Tue 03-11: Wed off, Thu (1), Fri (2), Sat on (3).
    assert workdays.add_workdays(D(2025, 3, 11), 3) == saturday
    assert workdays.next_workday(wednesday) == D(2025, 3, 13)
    assert workdays.workdays_between(D(2025, 3, 10), D(2025, 3, 17)) == 5


@pytest.mark.django_db
def test_an_override_wins_over_a_statutory_holiday():
    DayOverride.objects.create(date=D(2025, 10, 8), is_workday=True)
    assert WorkCalendar().is_workday(D(2025, 10, 8))


@pytest.mark.django_db
def test_the_calendar_reads_all_overrides_in_one_query(django_assert_num_queries):
    DayOverride.objects.create(date=D(2025, 3, 12), is_workday=False)
    calendar = WorkCalendar()
    with django_assert_num_queries(1):
        calendar.add_workdays(D(2025, 1, 1), 60)
        calendar.workdays_between(D(2025, 1, 1), D(2025, 6, 30))
        calendar.has_overrides_for(2025)


@pytest.mark.django_db
def test_the_module_functions_see_an_override_added_after_a_previous_call():
    day = D(2025, 3, 12)
    assert workdays.is_workday(day)
    DayOverride.objects.create(date=day, is_workday=False)
    assert not workdays.is_workday(day)


# --- years the package does not know ------------------------------------------------------


def test_the_package_range_is_read_from_its_data_and_covers_2004_to_2026(calendar):
    assert calendar.is_year_known(2004)
    assert calendar.is_year_known(2026)
    assert not calendar.is_year_known(2027)


def test_an_unknown_year_counts_weekends_only_and_never_raises(calendar):
    assert calendar.is_workday(D(2027, 1, 1))  # a Friday; 元旦 is not entered yet
    assert not calendar.is_workday(D(2027, 1, 2))
    assert not calendar.is_workday(D(2027, 1, 3))
    assert calendar.day_name(D(2027, 1, 2)) == "周六"
    assert calendar.add_workdays(D(2026, 12, 30), 3) == D(2027, 1, 4)
    assert calendar.workdays_between(D(2026, 12, 25), D(2027, 1, 8)) == 10


def test_an_unknown_year_is_missing_until_the_committee_marks_it_entered():
    assert WorkCalendar(overrides={}).missing_years([2026, 2028, 2027]) == [2027, 2028]
    calendar = WorkCalendar(overrides={D(2027, 2, 6): False})
    assert calendar.has_overrides_for(2027)
    assert not calendar.has_overrides_for(2028)
    assert calendar.missing_years([2026, 2027, 2028]) == [2027, 2028], "an override is not all"
    calendar = WorkCalendar(overrides={D(2027, 2, 6): False}, entered_years=[2027])
    assert calendar.missing_years([2026, 2027, 2028]) == [2028]


@pytest.mark.django_db
def test_an_override_in_an_unknown_year_is_read_from_the_database():
    DayOverride.objects.create(date=D(2027, 10, 1), is_workday=False)
    calendar = WorkCalendar()
    assert not calendar.is_workday(D(2027, 10, 1))
    assert calendar.has_overrides_for(2027)
    assert calendar.missing_years([2027]) == [2027]
    CalendarYear.objects.create(year=2027, source="国务院办公厅关于2027年部分节假日安排的通知")
    assert WorkCalendar().missing_years([2027]) == []
