"""No reminder on the holidays the law fixes while the year's notice is not entered (issue 19).

2027 is a year ``chinesecalendar`` does not know: its working days are weekends plus the
committee's overrides, so 2027-01-01 (a Friday) counts as a working day until the State Council's
notice is typed in — yet 元旦, 劳动节 (05-01, 05-02) and 国庆 (10-01…10-03) are days off by law
(《全国年节及纪念日放假办法》, 2024 revision), and nobody should be chased on them.
"""

from __future__ import annotations

import pytest

from proposals.models import CalendarYear, DayOverride
from proposals.workdays import WorkCalendar
from tracker import reminders
from tracker.tests.reminder_support import D, open_item

pytestmark = pytest.mark.django_db

NOTICE = "国务院办公厅关于2027年部分节假日安排的通知"


@pytest.mark.parametrize("day", [D(2027, 1, 1), D(2027, 5, 1), D(2027, 10, 1)])
def test_nothing_goes_out_on_a_fixed_holiday_of_an_unentered_year(people, day):
    open_item(people.unit_a, due_on=day)  # due that very day: step 0 would go out

    plan = reminders.plan_reminders(today=day)

    assert (plan.is_workday, plan.items) == (False, [])


def test_the_days_around_still_send(people):
    open_item(people.unit_a, due_on=D(2027, 1, 4))

    assert [i.step for i in reminders.plan_reminders(today=D(2026, 12, 28)).items] == [5]
    assert [i.step for i in reminders.plan_reminders(today=D(2027, 1, 4)).items] == [0]
    # 2027-10-01 is a Friday the calendar counts as working until the year is entered.
    assert WorkCalendar().is_workday(D(2027, 10, 1))
    assert not WorkCalendar().sends_reminders_on(D(2027, 10, 1))
    assert WorkCalendar().sends_reminders_on(D(2027, 10, 4))


def test_one_override_does_not_lift_the_rule_for_the_other_fixed_holidays(people):
    DayOverride.objects.create(date=D(2027, 1, 1), is_workday=False)
    open_item(people.unit_a, due_on=D(2027, 10, 1))

    assert reminders.plan_reminders(today=D(2027, 10, 1)).items == []


def test_a_scan_over_new_year_sends_nothing_on_the_first(people, scan, mailoutbox):
    open_item(people.unit_b, due_on=D(2027, 1, 4))

    sent = {}
    for day in (D(2026, 12, 28), D(2026, 12, 31), D(2027, 1, 1), D(2027, 1, 4)):
        before = len(mailoutbox)
        scan(day)
        sent[day] = len(mailoutbox) - before

    assert sent[D(2027, 1, 1)] == 0
    assert sent[D(2027, 1, 4)] == 1


def test_once_the_year_is_entered_its_calendar_decides(people):
    CalendarYear.objects.create(year=2027, source=NOTICE)
    open_item(people.unit_a, due_on=D(2027, 10, 1))

    plan = reminders.plan_reminders(today=D(2027, 10, 1))

    # No override made 10-01 a day off in this test: the entered calendar rules, the law's
    # fixed dates no longer stand in for it (entering a real notice requires them off).
    assert plan.is_workday and [i.step for i in plan.items] == [0]


def test_a_known_year_is_not_affected(people):
    open_item(people.unit_a, due_on=D(2026, 1, 5))
    assert WorkCalendar().sends_reminders_on(D(2026, 1, 5))
    assert not WorkCalendar().sends_reminders_on(D(2026, 1, 1)), "元旦 2026 is in the package"
