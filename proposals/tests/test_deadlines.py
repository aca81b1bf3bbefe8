"""Due dates: rules from settings, the three units, rolling off days off, and explanations."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings

from proposals.checks import check_proposal_deadlines
from proposals.deadlines import (
    Due,
    add_months,
    compute_due,
    max_reply_due,
    parse_rule,
    rule_for,
)
from proposals.models import CalendarYear, DayOverride
from proposals.workdays import WorkCalendar

D = datetime.date

GOOD_DEADLINES = {
    "reassignment": (10, "days"),
    "first_contact": ("15", "workdays"),
    "co_opinion": (1, "months"),
    "reply": (3, "months"),
    "rehandling_reply": (3, "months"),
    "publication": (20, "workdays"),
}


@pytest.fixture
def calendar() -> WorkCalendar:
    """A calendar with no overrides, injected so these tests need no database."""
    return WorkCalendar(overrides={})


# --- parse_rule / rule_for -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [(10, "days"), ("10", "days"), "10,days", " 10 , days ", ["10", "days"], "(10,days)"],
)
def test_parse_rule_accepts_a_tuple_strings_from_the_environment_and_a_comma_string(value):
    assert parse_rule(value) == (10, "days")


@pytest.mark.parametrize(
    "value",
    [
        (10, "weeks"),
        ("ten", "days"),
        (0, "days"),
        (-3, "months"),
        (2.5, "months"),
        (True, "days"),
        "10",
        "10,days,extra",
        (10,),
        None,
        10,
    ],
)
def test_parse_rule_rejects_a_bad_value_with_a_clear_message(value):
    with pytest.raises(ValueError, match="deadline"):
        parse_rule(value)


def test_rule_for_reads_the_named_clock_from_settings():
    with override_settings(PROPOSAL_DEADLINES=GOOD_DEADLINES):
        assert rule_for("first_contact") == (15, "workdays")
        assert rule_for("reply") == (3, "months")
        with pytest.raises(KeyError, match="nonexistent"):
            rule_for("nonexistent")


# --- add_months ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2024, 8, 31), 1, D(2024, 9, 30)),
        (D(2024, 3, 15), 3, D(2024, 6, 15)),
        (D(2024, 11, 30), 3, D(2025, 2, 28)),
        (D(2024, 8, 31), 6, D(2025, 2, 28)),
        (D(2024, 3, 31), -1, D(2024, 2, 29)),
        (D(2024, 3, 15), 0, D(2024, 3, 15)),
    ],
)
def test_add_months_clamps_to_the_last_day_of_a_shorter_month(start, months, expected):
    assert add_months(start, months) == expected


# --- compute_due: each unit ----------------------------------------------------------------


def test_a_days_rule_counts_calendar_days(calendar):
    due = compute_due(D(2025, 3, 3), (10, "days"), calendar=calendar)
    assert due == Due(
        due_on=D(2025, 3, 13),
        raw_on=D(2025, 3, 13),
        explanation="交办 2025-03-03 + 10天 = 2025-03-13",
    )


def test_a_workdays_rule_counts_working_days(calendar):
    due = compute_due(D(2025, 1, 24), (5, "workdays"), calendar=calendar)
    assert due.due_on == due.raw_on == D(2025, 2, 7)
    assert due.explanation == (
        "交办 2025-01-24 + 5个工作日 = 2025-02-07；跳过 春节 01-28至02-04；调休上班 01-26"
    )


def test_a_months_rule_counts_calendar_months(calendar):
    due = compute_due(D(2024, 3, 3), (3, "months"), calendar=calendar)
    assert due.due_on == due.raw_on == D(2024, 6, 3)
    assert due.explanation == "交办 2024-03-03 + 3个月 = 2024-06-03"


def test_compute_due_accepts_a_rule_as_settings_give_it(calendar):
    due = compute_due(D(2024, 3, 3), ("3", "months"), calendar=calendar)
    assert due.due_on == D(2024, 6, 3)


def test_the_label_names_the_start_event(calendar):
    due = compute_due(D(2025, 3, 3), (10, "days"), label="反馈", calendar=calendar)
    assert due.explanation.startswith("反馈 2025-03-03 + 10天")


# --- compute_due: rolling forward ----------------------------------------------------------


def test_a_due_date_on_a_saturday_moves_to_monday_and_says_so(calendar):
    due = compute_due(D(2024, 3, 1), (3, "months"), calendar=calendar)
    assert due.raw_on == D(2024, 6, 1)
    assert due.due_on == D(2024, 6, 3)
    assert due.explanation == "交办 2024-03-01 + 3个月 = 2024-06-01 周六 → 顺延 2024-06-03"


def test_a_due_date_on_national_day_moves_past_the_holiday_and_says_so(calendar):
    due = compute_due(D(2024, 7, 1), (3, "months"), calendar=calendar)
    assert due.raw_on == D(2024, 10, 1)
    assert due.due_on == D(2024, 10, 8)
    assert due.explanation == "交办 2024-07-01 + 3个月 = 2024-10-01 国庆节 → 顺延 2024-10-08"


def test_a_days_rule_landing_on_a_holiday_moves_too(calendar):
    due = compute_due(D(2025, 1, 20), (10, "days"), calendar=calendar)
    assert due.raw_on == D(2025, 1, 30)
    assert due.due_on == D(2025, 2, 5)
    assert due.explanation == "交办 2025-01-20 + 10天 = 2025-01-30 春节 → 顺延 2025-02-05"


def test_a_due_date_on_a_make_up_working_day_stays(calendar):
    due = compute_due(D(2024, 9, 19), (10, "days"), calendar=calendar)
    assert due.due_on == due.raw_on == D(2024, 9, 29)


@pytest.mark.django_db
def test_compute_due_without_a_calendar_reads_the_overrides():
    DayOverride.objects.create(date=D(2024, 6, 3), is_workday=False)
    due = compute_due(D(2024, 3, 1), (3, "months"))
    assert due.due_on == D(2024, 6, 4)


# --- compute_due: years the package does not know ------------------------------------------


def test_a_due_date_in_an_unknown_year_carries_a_note(calendar):
    due = compute_due(D(2026, 12, 15), (1, "months"), calendar=calendar)
    assert due.due_on == D(2027, 1, 15)
    assert due.explanation == (
        "交办 2026-12-15 + 1个月 = 2027-01-15（2027年节假日尚未录入，仅按周末计算）"
    )


def test_a_due_date_rolled_in_an_unknown_year_carries_the_note_after_the_move(calendar):
    due = compute_due(D(2026, 10, 16), (3, "months"), calendar=calendar)
    assert due.explanation == (
        "交办 2026-10-16 + 3个月 = 2027-01-16 周六 → 顺延 2027-01-18"
        "（2027年节假日尚未录入，仅按周末计算）"
    )


def test_a_rule_crossing_two_unknown_years_names_both(calendar):
    due = compute_due(D(2026, 12, 1), (400, "days"), calendar=calendar)
    assert due.explanation.endswith("（2027、2028年节假日尚未录入，仅按周末计算）")


@pytest.mark.django_db
def test_the_note_disappears_once_the_committee_enters_the_year():
    DayOverride.objects.create(date=D(2027, 1, 1), is_workday=False)
    due = compute_due(D(2026, 12, 1), (1, "months"))
    # 2027-01-01 is now a day off, so the due date moves to Monday 01-04; one override does
    # not make the year entered (issue 19), marking its notice entered does.
    assert due.explanation == (
        "交办 2026-12-01 + 1个月 = 2027-01-01 周五（调整休息） → 顺延 2027-01-04"
        "（2027年节假日尚未录入，仅按周末计算）"
    )
    CalendarYear.objects.create(year=2027, source="国务院办公厅关于2027年部分节假日安排的通知")
    assert "尚未录入" not in compute_due(D(2026, 12, 15), (1, "months")).explanation


def test_a_known_year_has_no_note(calendar):
    due = compute_due(D(2026, 1, 5), (3, "months"), calendar=calendar)
    assert "尚未录入" not in due.explanation


# --- max_reply_due -------------------------------------------------------------------------


@override_settings(PROPOSAL_MAX_REPLY_MONTHS=6)
def test_max_reply_due_is_six_months_and_is_not_moved_off_a_day_off():
    # 2024-04-01 + 6 months = 2024-10-01, 国庆节: a hard limit stays where it is.
    assert max_reply_due(D(2024, 4, 1)) == D(2024, 10, 1)
    assert max_reply_due(D(2024, 8, 31)) == D(2025, 2, 28)


# --- system check --------------------------------------------------------------------------


def test_the_system_check_passes_with_good_settings():
    with override_settings(PROPOSAL_DEADLINES=GOOD_DEADLINES):
        assert check_proposal_deadlines(None) == []


def test_the_system_check_passes_with_the_project_settings():
    assert check_proposal_deadlines(None) == []


def test_the_system_check_reports_a_bad_setting_by_name():
    bad = {**GOOD_DEADLINES, "reply": ("3", "month")}
    with override_settings(PROPOSAL_DEADLINES=bad):
        errors = check_proposal_deadlines(None)
    assert [error.id for error in errors] == ["proposals.E001"]
    assert "'reply'" in errors[0].msg


def test_the_system_check_reports_a_missing_clock_by_name():
    missing = {k: v for k, v in GOOD_DEADLINES.items() if k != "publication"}
    with override_settings(PROPOSAL_DEADLINES=missing):
        errors = check_proposal_deadlines(None)
    assert [error.id for error in errors] == ["proposals.E001"]
    assert "'publication'" in errors[0].msg


def test_the_system_check_is_registered_with_django():
    from django.core.checks import registry

    assert check_proposal_deadlines in registry.registry.get_checks()
