"""The daily scan: which items are due for whom, on which working days, and only once."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals import workflow as pwf
from proposals.models import Assignment, DueDate
from proposals.tests import factories as f
from proposals.workdays import WorkCalendar
from tracker import reminders
from tracker.models import Digest, NotificationPreference, Reminder, ReminderClock, ScanRun
from tracker.tests import clock
from tracker.tests.reminder_support import (
    MONDAY,
    D,
    mails_per_recipient,
    open_item,
    recipients_of_day,
)

pytestmark = pytest.mark.django_db

ONE_DAY = datetime.timedelta(days=1)


def days(first: datetime.date, last: datetime.date):
    d = first
    while d <= last:
        yield d
        d += ONE_DAY


def plan_steps(day: datetime.date) -> list[tuple[str, int]]:
    return [(i.clock, i.step) for i in reminders.plan_reminders(today=day).items]


def mail_days(scan, mailoutbox, first, last) -> dict[datetime.date, int]:
    """Run the scan every day from ``first`` to ``last``; how many mails each day sent."""
    sent = {}
    for day in days(first, last):
        before = len(mailoutbox)
        scan(day)
        if len(mailoutbox) > before:
            sent[day] = len(mailoutbox) - before
    return sent


# --- Steps before, on the day, once each ----------------------------------------------------


def test_a_reply_due_in_five_working_days_reminds_the_units_clerks(people, scan, mailoutbox):
    open_item(people.unit_a, due_on=D(2026, 11, 30))  # Monday 11-23 + 5 working days

    report = scan(MONDAY)

    assert report.items == 1
    assert recipients_of_day() == {people.clerk_a.email, people.clerk_a2.email}
    reminder = Reminder.objects.get()
    assert (reminder.clock, reminder.step, reminder.state) == ("reply", 5, "sent")


def test_each_step_goes_out_once_five_days_before_one_day_before_and_on_the_day(
    people, scan, mailoutbox
):
    open_item(people.unit_b, due_on=D(2026, 11, 30))

    sent = mail_days(scan, mailoutbox, D(2026, 11, 20), D(2026, 11, 30))

    assert sent == {D(2026, 11, 23): 1, D(2026, 11, 27): 1, D(2026, 11, 30): 1}
    assert sorted(Reminder.objects.values_list("step", flat=True)) == [0, 1, 5]


def test_a_step_the_scan_missed_is_caught_up_once_before_the_next_step(people, scan, mailoutbox):
    open_item(people.unit_b, due_on=D(2026, 11, 30))

    scan(D(2026, 11, 25))  # the scan did not run on 11-23 and 11-24: 3 working days left
    scan(D(2026, 11, 26))

    assert len(mailoutbox) == 1
    reminder = Reminder.objects.get()
    assert (reminder.step, reminder.scanned_on) == (5, D(2026, 11, 25))
    assert "还有3个工作日到期" in mailoutbox[0].body, "the mail counts from its own date"
    assert "到期日：2026年11月30日" in mailoutbox[0].body


def test_nothing_is_planned_on_a_day_off(people):
    open_item(people.unit_b, due_on=D(2026, 11, 30))

    plan = reminders.plan_reminders(today=D(2026, 11, 28))  # Saturday

    assert (plan.is_workday, plan.items) == (False, [])


def test_reminders_around_guoqing_fall_on_working_days_including_the_makeup_saturday(
    people, scan, mailoutbox
):
    # 2025: 10-01…10-08 off (国庆, 中秋), 09-28 (Sunday) and 10-11 (Saturday) worked.
    open_item(people.unit_b, due_on=D(2025, 10, 9))

    sent = mail_days(scan, mailoutbox, D(2025, 9, 20), D(2025, 10, 13))

    calendar = WorkCalendar()
    assert all(calendar.is_workday(day) for day in sent)
    steps = dict(Reminder.objects.values_list("scanned_on", "step"))
    assert steps == {
        D(2025, 9, 25): 5,
        D(2025, 9, 30): 1,
        D(2025, 10, 9): 0,
        D(2025, 10, 10): -1,
        D(2025, 10, 11): -2,  # the make-up Saturday is a working day
        D(2025, 10, 13): -3,
    }


def test_reminders_around_chunjie_fall_on_working_days(people, scan, mailoutbox):
    # 2026: 02-15…02-23 off (春节), 02-14 and 02-28 (Saturdays) worked.
    open_item(people.unit_b, due_on=D(2026, 2, 24))

    sent = mail_days(scan, mailoutbox, D(2026, 2, 5), D(2026, 3, 2))

    calendar = WorkCalendar()
    assert all(calendar.is_workday(day) for day in sent)
    steps = dict(Reminder.objects.values_list("scanned_on", "step"))
    assert steps[D(2026, 2, 10)] == 5
    assert steps[D(2026, 2, 14)] == 1, "the day before 春节 ends is the make-up Saturday"
    assert steps[D(2026, 2, 24)] == 0
    assert steps[D(2026, 2, 28)] == -4
    assert not any(D(2026, 2, 15) <= day <= D(2026, 2, 23) for day in steps)


def test_a_due_date_on_a_day_off_counts_from_the_next_working_day(people):
    open_item(people.unit_b, due_on=D(2026, 11, 29))  # a Sunday (an extension may land there)

    assert plan_steps(D(2026, 11, 27)) == [("reply", 1)]
    assert plan_steps(D(2026, 11, 30)) == [("reply", 0)]


def test_the_steps_are_settings(people, settings):
    settings.REMINDER_STEPS_BEFORE = [3]
    open_item(people.unit_b, due_on=D(2026, 11, 30))

    assert plan_steps(D(2026, 11, 23)) == []
    assert plan_steps(D(2026, 11, 25)) == [("reply", 3)]


# --- Overdue and escalation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "overdue", "who"),
    [
        (D(2026, 11, 24), 1, {"clerk_a", "clerk_a2"}),
        (D(2026, 11, 27), 4, {"clerk_a", "clerk_a2"}),
        (D(2026, 11, 30), 5, {"clerk_a", "clerk_a2", "signer_a"}),
        (D(2026, 12, 4), 9, {"clerk_a", "clerk_a2", "signer_a"}),
        (D(2026, 12, 7), 10, {"clerk_a", "clerk_a2", "signer_a", "committee", "supervisor"}),
    ],
)
def test_overdue_notices_escalate_from_clerks_to_the_signer_to_the_offices(
    people, scan, mailoutbox, today, overdue, who
):
    open_item(people.unit_a, due_on=MONDAY)

    scan(today)

    reminder = Reminder.objects.get()
    assert reminder.step == -overdue
    assert recipients_of_day() == {getattr(people, name).email for name in who}
    assert f"已逾期{overdue}个工作日" in mailoutbox[0].body


def test_an_overdue_item_is_in_the_digest_every_working_day(people, scan, mailoutbox):
    open_item(people.unit_b, due_on=D(2026, 11, 20))

    sent = mail_days(scan, mailoutbox, D(2026, 11, 23), D(2026, 11, 29))

    assert sorted(sent) == [D(2026, 11, d) for d in (23, 24, 25, 26, 27)]


def test_the_escalation_steps_are_settings(people, scan, settings):
    settings.REMINDER_ESCALATE_TO_SIGNER_AFTER = 2
    settings.REMINDER_ESCALATE_TO_OFFICES_AFTER = 3
    open_item(people.unit_a, due_on=MONDAY)

    scan(D(2026, 11, 26))

    assert people.committee.email in recipients_of_day()


# --- The clocks -----------------------------------------------------------------------------


def test_a_pending_assignment_is_reminded_to_accept_by_the_end_of_the_window_and_escalates(
    people,
):
    open_item(
        people.unit_b,
        due_on=D(2026, 11, 30),
        clock=DueDate.Clock.REASSIGNMENT,
        state=Assignment.State.PENDING,
    )

    assert plan_steps(MONDAY) == [("accept", 5)]
    assert plan_steps(D(2026, 12, 1)) == [("accept", -1)]


def test_the_reassignment_window_reminds_an_accepted_unit_but_never_escalates(people):
    open_item(people.unit_b, due_on=D(2026, 11, 30), clock=DueDate.Clock.REASSIGNMENT)

    assert plan_steps(MONDAY) == [("reassignment", 5)]
    assert plan_steps(D(2026, 11, 30)) == [("reassignment", 0)]
    assert plan_steps(D(2026, 12, 1)) == []


def test_a_unit_that_asked_for_reassignment_hears_nothing_about_the_window(people):
    open_item(
        people.unit_b,
        due_on=D(2026, 11, 30),
        clock=DueDate.Clock.REASSIGNMENT,
        state=Assignment.State.RETURN_REQUESTED,
    )

    assert plan_steps(MONDAY) == []


@pytest.mark.parametrize(
    "clock",
    [DueDate.Clock.FIRST_CONTACT, DueDate.Clock.CO_OPINION, DueDate.Clock.REHANDLING_REPLY],
)
def test_every_clock_of_an_assignment_gets_reminders(people, clock):
    open_item(people.unit_b, due_on=D(2026, 11, 30), clock=clock)

    assert plan_steps(MONDAY) == [(clock, 5)]


def test_only_the_current_rounds_due_dates_count(people):
    assignment = open_item(people.unit_b, due_on=D(2026, 11, 30))
    Assignment.objects.filter(pk=assignment.pk).update(round=2)

    assert plan_steps(MONDAY) == []


# --- Nothing for what is done, withdrawn or extended ----------------------------------------


def test_a_done_item_gets_nothing(people, committee, scan, mailoutbox):
    contacted = open_item(people.unit_b, due_on=MONDAY, clock=DueDate.Clock.FIRST_CONTACT)
    DueDate.objects.filter(assignment=contacted).update(completed_on=D(2026, 11, 20))
    open_item(people.unit_b, due_on=MONDAY, state=Assignment.State.REPLIED)
    open_item(people.unit_b, due_on=MONDAY, state=Assignment.State.WITHDRAWN)
    open_item(people.unit_b, due_on=MONDAY, state=Assignment.State.OPINION_SENT)

    report = scan(MONDAY)

    assert report.items == 0
    assert (Reminder.objects.count(), mailoutbox) == (0, [])


def test_a_co_handling_unit_is_not_chased_once_the_lead_has_replied(people):
    co = open_item(people.unit_b, due_on=D(2026, 11, 20), clock=DueDate.Clock.CO_OPINION, role="co")
    lead = f.AssignmentFactory(
        proposal=co.proposal, unit=people.unit_a, role="lead", state=Assignment.State.ACCEPTED
    )
    co.proposal.status = "assigned"
    co.proposal.save(update_fields=["status"])
    assert plan_steps(MONDAY) == [("co_opinion", -1)]

    pwf.mark_assignment_replied(lead, actor=None, on=D(2026, 11, 27))

    co.refresh_from_db()
    assert co.state == Assignment.State.CLOSED_WITHOUT_OPINION
    assert plan_steps(MONDAY) == []


def test_an_extension_silences_the_old_due_date(people, committee, scan, mailoutbox):
    assignment = open_item(people.unit_b, due_on=D(2026, 11, 30))
    DueDate.objects.filter(assignment=assignment).update(start_on=D(2026, 8, 30))
    pwf.extend_assignment(
        assignment, actor=committee, new_due_on=D(2026, 12, 31), reason="需协调市级部门"
    )

    sent = mail_days(scan, mailoutbox, D(2026, 11, 23), D(2026, 12, 1))

    assert sent == {}
    assert plan_steps(D(2026, 12, 24)) == [("reply", 5)]


def test_an_extension_after_the_scan_cancels_the_waiting_reminder(
    people, committee, scan, mailoutbox
):
    assignment = open_item(people.unit_b, due_on=D(2026, 11, 30))
    DueDate.objects.filter(assignment=assignment).update(start_on=D(2026, 8, 30))
    report = scan(MONDAY, dispatch=False)
    pwf.extend_assignment(
        assignment, actor=committee, new_due_on=D(2026, 12, 31), reason="需协调市级部门"
    )

    from tracker.mail import digests

    outcome = digests.deliver_digest(report.digest_ids[0])

    assert outcome.status == "cancelled"
    assert mailoutbox == []
    assert Reminder.objects.get().state == "cancelled"
    assert Digest.objects.get().state == "cancelled"


def test_a_unit_without_anyone_to_tell_is_recorded_as_such(people, unit_b, scan, mailoutbox):
    people.clerk_b.email = ""
    people.clerk_b.save()
    open_item(unit_b, due_on=D(2026, 11, 30))

    scan(MONDAY)

    assert Reminder.objects.get().state == "no_recipient"
    assert mailoutbox == []


# --- Muting ---------------------------------------------------------------------------------


def test_a_muted_clock_is_not_sent_but_overdue_notices_always_are(people, scan, mailoutbox):
    NotificationPreference.objects.create(
        user=people.clerk_b, muted=[c for c in ReminderClock.values]
    )
    open_item(people.unit_b, due_on=D(2026, 11, 30))
    open_item(people.unit_b, due_on=D(2026, 11, 20), clock=DueDate.Clock.FIRST_CONTACT)

    scan(MONDAY)

    (message,) = mailoutbox
    assert message.to == [people.clerk_b.email]
    assert "沟通见面" in message.body and "已逾期1个工作日" in message.body
    assert "还有5个工作日到期" not in message.body


def test_muting_one_clock_leaves_the_others(people):
    NotificationPreference.objects.create(user=people.clerk_b, muted=["first_contact"])
    open_item(people.unit_b, due_on=D(2026, 11, 30))
    open_item(people.unit_b, due_on=D(2026, 11, 30), clock=DueDate.Clock.FIRST_CONTACT)

    plan = reminders.plan_reminders(today=MONDAY)

    assert {item.clock: users for item, users in zip(plan.items, plan.recipients, strict=True)} == {
        "reply": (people.clerk_b.pk,),
        "first_contact": (),
    }


# --- Once a day, once per person, the same cost for many items ------------------------------


def test_the_scan_run_twice_on_one_day_sends_one_digest_per_person(people, scan, mailoutbox):
    open_item(people.unit_a, due_on=D(2026, 11, 30))
    open_item(people.unit_a, due_on=MONDAY)
    open_item(people.unit_b, due_on=D(2026, 11, 24))

    first = scan(MONDAY)
    second = scan(MONDAY)

    assert len(first.digests) == 3 and second.digests == []
    assert mails_per_recipient() == {
        people.clerk_a.email: 1,
        people.clerk_a2.email: 1,
        people.clerk_b.email: 1,
    }
    assert Digest.objects.filter(state="sent").count() == 3
    assert set(Reminder.objects.values_list("state", flat=True)) == {"sent"}


def test_an_item_that_appears_later_in_the_day_gets_a_second_part(people, scan, mailoutbox):
    open_item(people.unit_b, due_on=D(2026, 11, 30))
    scan(MONDAY)
    open_item(people.unit_b, due_on=D(2026, 11, 24))

    scan(MONDAY)

    assert list(Digest.objects.order_by("part").values_list("part", "state")) == [
        (1, "sent"),
        (2, "sent"),
    ]
    assert len(mailoutbox) == 2
    assert "今日补充提醒" in mailoutbox[1].body


def test_a_scan_that_fails_half_way_leaves_nothing_behind_and_the_next_run_sends(
    people, scan, mailoutbox, monkeypatch
):
    open_item(people.unit_b, due_on=D(2026, 11, 30))

    def crash(*args, **kwargs):
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(Digest.objects, "bulk_create", crash)
        with pytest.raises(RuntimeError):
            scan(MONDAY)
    assert not Reminder.objects.exists()

    scan(MONDAY)

    assert len(mailoutbox) == 1
    assert Reminder.objects.get().state == "sent"


def test_both_ways_of_writing_the_ledger_write_the_same_rows(people, monkeypatch):
    open_item(people.unit_a, due_on=D(2026, 11, 30))
    open_item(people.unit_b, due_on=D(2026, 11, 16))
    open_item(people.unit_b, due_on=D(2026, 11, 30), clock=DueDate.Clock.FIRST_CONTACT)
    fields = ("assignment_id", "clock", "step", "due_on", "recipients", "undelivered", "state")

    def written(inserter) -> list[tuple]:
        Reminder.objects.all().delete()
        Digest.objects.all().delete()
        ScanRun.objects.all().delete()
        monkeypatch.setitem(reminders.INSERTERS, connection.vendor, inserter)
        reminders.run_scan(today=MONDAY, dispatch=False)
        reminders.run_scan(today=MONDAY, dispatch=False)  # the second run writes nothing
        return list(Reminder.objects.order_by(*fields).values_list(*fields))

    by_orm = written(reminders.insert_with_orm)
    assert len(by_orm) == 3
    if connection.vendor == "postgresql":
        assert written(reminders.insert_with_unnest) == by_orm


def _scan_queries(count: int, unit) -> int:
    for n in range(count):
        open_item(unit, due_on=D(2026, 11, 20) + datetime.timedelta(days=n % 14))
    with CaptureQueriesContext(connection) as queries:
        reminders.run_scan(today=MONDAY, dispatch=False)
    Reminder.objects.all().delete()
    Digest.objects.all().delete()
    return len(queries)


def test_the_scan_costs_the_same_number_of_queries_for_3_and_30_items(people):
    few = _scan_queries(3, people.unit_a)
    many = _scan_queries(30, people.unit_b)

    assert few == many
    assert few <= 20


# --- Time zone ------------------------------------------------------------------------------


def test_the_scan_takes_today_in_shanghai(people):
    open_item(people.unit_b, due_on=D(2026, 11, 30))
    # 16:30 UTC on Sunday 11-22 is 00:30 on Monday 11-23 in Shanghai.
    utc = datetime.datetime(2026, 11, 22, 16, 30, tzinfo=datetime.UTC)

    with clock.travel(utc):
        plan = reminders.plan_reminders()

    assert plan.today == MONDAY
    assert [(i.clock, i.step) for i in plan.items] == [("reply", 5)]
