"""Calendars per year and reply caps (issue 19, parts 4 and 5).

A year the package does not know counts as entered only once the committee marks its official
notice entered; entering it recomputes the open due dates and lists those that moved. Every
reply is capped at 6 months from assignment, key proposals included; a changed key-proposal
period moves nothing until the committee asks. 计算说明 names the holidays a working-day count
skipped and the 调休 days it counted.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.test import override_settings
from django.urls import reverse

from proposals import workflow as wf
from proposals.admin.calendar_years import parse_day_lines, reply_period_url
from proposals.deadlines import compute_due, max_reply_due
from proposals.models import CalendarYear, DayOverride, DueDate, Proposal, Transition
from proposals.tests import factories as f
from proposals.workdays import WorkCalendar
from proposals.workflow.calendar import (
    enter_calendar_year,
    recompute_reply_due,
    stale_reply_dues,
    withdraw_calendar_year,
)

pytestmark = pytest.mark.django_db

D = datetime.date
NOTICE = "国务院办公厅关于2027年部分节假日安排的通知"
WARNING = "2027年节假日尚未录入"

#: A plausible 2027 notice: days off (with the law's fixed dates among them) and 调休 days.
DAYS_2027 = [
    (D(2027, 1, 1), False, "元旦"),
    *[(D(2027, 2, day), False, "春节") for day in range(5, 12)],
    (D(2027, 2, 20), True, "春节调休"),
    *[(D(2027, 5, day), False, "劳动节") for day in range(1, 6)],
    *[(D(2027, 10, day), False, "国庆节") for day in range(1, 8)],
]


def filed(session, committee, **kw) -> Proposal:
    p = f.ProposalFactory(session=session, status=Proposal.Status.SUBMITTED, **kw)
    wf.file_proposal(p, actor=committee)
    p.refresh_from_db()
    return p


def assigned(session, committee, unit, on: datetime.date, **kw):
    (lead,) = wf.assign_proposal(
        filed(session, committee, **kw), actor=committee, units=[(unit, "lead")], assigned_on=on
    )
    return lead


# --- a year is entered by its notice, not by one override ---------------------------------


def test_one_override_in_2027_does_not_take_the_warning_away(session, committee, unit_a):
    lead = assigned(session, committee, unit_a, D(2026, 12, 1))
    wf.set_day_override(actor=committee, date=D(2027, 1, 1), is_workday=False, note="元旦")

    reply = lead.due(DueDate.Clock.REPLY)
    assert reply.due_on == D(2027, 3, 1)
    assert WARNING in reply.explanation
    assert WorkCalendar().missing_years([2026, 2027]) == [2027]
    assert WARNING in compute_due(D(2026, 12, 15), (1, "months")).explanation


def test_entering_2027_recomputes_lists_what_moved_and_leaves_extended_dates(
    session, committee, unit_a, unit_b
):
    # 2026-11-05 + 3 months = Friday 2027-02-05, which the notice makes 春节.
    moving = assigned(session, committee, unit_a, D(2026, 11, 5))
    extended = assigned(session, committee, unit_b, D(2026, 11, 5))
    wf.extend_assignment(extended, actor=committee, new_due_on=D(2027, 2, 10), reason="协调")
    staying = assigned(session, committee, unit_a, D(2026, 12, 1))  # 2027-03-01, a Monday

    entry, moved = enter_calendar_year(actor=committee, year=2027, source=NOTICE, days=DAYS_2027)

    assert [(m.due.pk, m.old_due_on, m.new_due_on) for m in moved] == [
        (moving.due(DueDate.Clock.REPLY).pk, D(2027, 2, 5), D(2027, 2, 12))
    ]
    assert str(moved[0]).endswith("答复期限 2027-02-05 → 2027-02-12")
    assert moving.proposal.number in str(moved[0])
    reply = moving.due(DueDate.Clock.REPLY)
    assert reply.explanation == "交办 2026-11-05 + 3个月 = 2027-02-05 春节 → 顺延 2027-02-12"
    fixed = extended.due(DueDate.Clock.REPLY)
    assert (fixed.due_on, fixed.is_fixed) == (D(2027, 2, 10), True), "an extension stays"
    kept = staying.due(DueDate.Clock.REPLY)
    assert kept.due_on == D(2027, 3, 1)
    assert WARNING not in kept.explanation, "the warning left the dates that did not move too"
    assert (entry.year, entry.source, entry.entered_by) == (2027, NOTICE, committee)
    assert WorkCalendar().missing_years([2027]) == []
    audit = Transition.objects.filter(verb="enter_calendar_year").get()
    assert (audit.actor, audit.note) == (committee, f"2027：{NOTICE}")
    assert Transition.objects.filter(verb="set_day_override").count() == len(DAYS_2027)
    assert DayOverride.objects.get(date=D(2027, 2, 20)).is_workday


def test_days_typed_in_before_need_not_be_typed_again(session, committee, unit_a):
    for date, is_workday, note in DAYS_2027:
        wf.set_day_override(actor=committee, date=date, is_workday=is_workday, note=note)
    lead = assigned(session, committee, unit_a, D(2026, 12, 1))
    assert WARNING in lead.due(DueDate.Clock.REPLY).explanation

    _entry, moved = enter_calendar_year(actor=committee, year=2027, source=NOTICE)

    assert moved == [], "the overrides already moved what they move"
    assert WARNING not in lead.due(DueDate.Clock.REPLY).explanation


def test_a_year_whose_fixed_holidays_are_still_working_days_is_refused(committee):
    spring_only = [d for d in DAYS_2027 if d[2] == "春节"]
    before = Transition.objects.count()

    with pytest.raises(wf.InvalidInput) as refused:
        enter_calendar_year(actor=committee, year=2027, source=NOTICE, days=spring_only)

    assert "01-01 元旦" in refused.value.message
    assert "10-01 国庆节" in refused.value.message
    assert not CalendarYear.objects.exists()
    assert not DayOverride.objects.exists()
    assert Transition.objects.count() == before


@pytest.mark.parametrize(
    ("year", "source", "days", "message"),
    [
        (2027, "  ", DAYS_2027, "请填写依据"),
        (2099, NOTICE, (), "年份须在"),
        (2027, NOTICE, [(D(2028, 1, 1), False, "元旦")], "不在 2027 年"),
        (2027, NOTICE, [*DAYS_2027, (D(2027, 1, 1), False, "")], "填写了两次"),
    ],
)
def test_bad_input_is_refused_in_chinese(committee, year, source, days, message):
    with pytest.raises(wf.InvalidInput, match=message):
        enter_calendar_year(actor=committee, year=year, source=source, days=days)
    assert not CalendarYear.objects.exists()


def test_only_the_committee_enters_and_a_year_is_entered_once(committee, clerk_a):
    with pytest.raises(wf.NotAllowed):
        enter_calendar_year(actor=clerk_a, year=2027, source=NOTICE, days=DAYS_2027)
    enter_calendar_year(actor=committee, year=2027, source=NOTICE, days=DAYS_2027)
    with pytest.raises(wf.InvalidInput, match="已录入"):
        enter_calendar_year(actor=committee, year=2027, source=NOTICE)


def test_withdrawing_a_year_brings_the_warning_back(session, committee, unit_a):
    enter_calendar_year(actor=committee, year=2027, source=NOTICE, days=DAYS_2027)
    lead = assigned(session, committee, unit_a, D(2026, 12, 1))
    assert WARNING not in lead.due(DueDate.Clock.REPLY).explanation

    assert withdraw_calendar_year(actor=committee, year=2027) == []

    assert WARNING in lead.due(DueDate.Clock.REPLY).explanation
    assert Transition.objects.filter(verb="withdraw_calendar_year").count() == 1
    with pytest.raises(wf.InvalidInput):
        withdraw_calendar_year(actor=committee, year=2027)


# --- 计算说明 --------------------------------------------------------------------------------


def test_a_working_day_count_names_the_holidays_it_skipped_and_the_makeup_days(
    session, committee, unit_a
):
    # 2026: 中秋 09-25…09-27, 国庆 10-01…10-07; 09-20 (Sunday) and 10-10 (Saturday) worked.
    lead = assigned(session, committee, unit_a, D(2026, 9, 15))

    contact = lead.due(DueDate.Clock.FIRST_CONTACT)

    assert contact.due_on == D(2026, 10, 12)
    assert contact.explanation == (
        "交办 2026-09-15 + 15个工作日 = 2026-10-12；跳过 中秋 09-25至09-27，国庆节 "
        "10-01至10-07；调休上班 09-20、10-10"
    )


def test_a_count_without_holidays_says_nothing_more():
    due = compute_due(D(2026, 11, 2), (15, "workdays"), calendar=WorkCalendar(overrides={}))
    assert due.explanation == "交办 2026-11-02 + 15个工作日 = 2026-11-23"


def test_a_long_explanation_is_cut_to_fit_and_keeps_the_warning():
    off = {D(2026, 11, day): False for day in range(2, 28) if D(2026, 11, day).weekday() < 5}
    calendar = WorkCalendar(overrides=off)
    due = compute_due(D(2026, 11, 1), (40, "workdays"), calendar=calendar)
    assert len(due.explanation) <= DueDate._meta.get_field("explanation").max_length
    assert due.explanation.endswith("（2027年节假日尚未录入，仅按周末计算）")


# --- the 6-month cap -------------------------------------------------------------------------


@override_settings(PROPOSAL_MAX_REPLY_MONTHS=6)
def test_a_key_proposals_reply_is_capped_at_six_months(session, committee, unit_a):
    lead = assigned(session, committee, unit_a, D(2026, 3, 2), is_key=True, key_reply_months=8)

    reply = lead.due(DueDate.Clock.REPLY)

    assert reply.due_on == D(2026, 9, 2)
    assert reply.rule == "8,months", "the period is kept as set; the cap limits the date"
    assert reply.explanation == "交办 2026-03-02 + 8个月 = 2026-11-02；超过6个月上限，取 2026-09-02"


@override_settings(PROPOSAL_MAX_REPLY_MONTHS=6)
def test_the_cap_is_not_moved_off_a_day_off():
    # 2026-03-05 + 6 months = Saturday 09-05, the limit: a later date stops there, unmoved.
    start = D(2026, 3, 5)
    calendar = WorkCalendar(overrides={})
    due = compute_due(start, (7, "months"), calendar=calendar, limit=max_reply_due(start))
    assert (due.due_on, due.capped) == (D(2026, 9, 5), True)
    assert due.explanation.endswith("；超过6个月上限，取 2026-09-05 周六（不顺延）")


def test_a_period_within_the_cap_is_not_touched(session, committee, unit_a):
    lead = assigned(session, committee, unit_a, D(2026, 3, 2), is_key=True, key_reply_months=4)
    reply = lead.due(DueDate.Clock.REPLY)
    assert reply.due_on == D(2026, 7, 2)
    assert "上限" not in reply.explanation


# --- a key proposal's period changed: recomputed on request only ---------------------------


def test_changing_key_months_recomputes_only_when_the_committee_asks(session, committee, unit_a):
    lead = assigned(session, committee, unit_a, D(2026, 3, 2), is_key=True, key_reply_months=2)
    proposal = lead.proposal
    assert lead.due(DueDate.Clock.REPLY).due_on == D(2026, 5, 6)  # 05-02 劳动节 → 05-06

    wf.edit_proposal(proposal, actor=committee, fields={"key_reply_months": 4})
    wf.set_day_override(actor=committee, date=D(2026, 12, 31), is_workday=False)  # any edit

    reply = lead.due(DueDate.Clock.REPLY)
    assert (reply.due_on, reply.rule) == (D(2026, 5, 6), "2,months"), "nothing moved by itself"
    assert [d.pk for d in stale_reply_dues(proposal)] == [reply.pk]
    with pytest.raises(wf.NotAllowed):
        recompute_reply_due(proposal, actor=f.UserFactory())

    moved = recompute_reply_due(proposal, actor=committee)

    reply.refresh_from_db()
    assert (reply.due_on, reply.rule) == (D(2026, 7, 2), "4,months")
    assert [(m.old_due_on, m.new_due_on) for m in moved] == [(D(2026, 5, 6), D(2026, 7, 2))]
    audit = Transition.objects.get(verb="recompute_reply_due")
    assert audit.proposal == proposal
    assert "4个月" in audit.note and "2026-05-06 → 2026-07-02" in audit.note
    assert stale_reply_dues(proposal) == []
    with pytest.raises(wf.WrongState):
        recompute_reply_due(proposal, actor=committee)


def test_a_recomputed_key_period_is_capped_too(session, committee, unit_a):
    lead = assigned(session, committee, unit_a, D(2026, 3, 2), is_key=True, key_reply_months=2)
    wf.edit_proposal(lead.proposal, actor=committee, fields={"key_reply_months": 9})
    recompute_reply_due(lead.proposal, actor=committee)
    reply = lead.due(DueDate.Clock.REPLY)
    assert (reply.due_on, reply.rule) == (D(2026, 9, 2), "9,months")
    assert "超过6个月上限" in reply.explanation


# --- the admin ------------------------------------------------------------------------------


def test_the_notice_is_typed_as_it_reads():
    days = parse_day_lines("2027-02-05至2027-02-07 春节\n\n2027-1-1 元旦", is_workday=False)
    assert days == [
        (D(2027, 2, 5), False, "春节"),
        (D(2027, 2, 6), False, "春节"),
        (D(2027, 2, 7), False, "春节"),
        (D(2027, 1, 1), False, "元旦"),
    ]
    with pytest.raises(Exception, match="第 1 行无法识别"):
        parse_day_lines("2027-02-30", is_workday=True)


def _lines(days, is_workday):
    return "\n".join(f"{d:%Y-%m-%d} {note}" for d, w, note in days if w == is_workday)


def test_the_admin_enters_a_year_and_shows_what_moved(client, committee, session, unit_a):
    client.force_login(committee)
    lead = assigned(session, committee, unit_a, D(2026, 11, 5))
    changelist = reverse("admin:proposals_calendaryear_changelist")
    warned = [str(m) for m in get_messages(client.get(changelist).wsgi_request)]
    assert any("2027 年的节假日安排尚未录入" in m for m in warned)

    response = client.post(
        reverse("admin:proposals_calendaryear_add"),
        {
            "year": "2027",
            "source": NOTICE,
            "days_off": _lines(DAYS_2027, False),
            "makeup_days": _lines(DAYS_2027, True),
        },
        follow=True,
    )

    shown = " ".join(str(m) for m in response.context["messages"])
    assert "已登记 2027 年节假日安排；1 个在办到期日变动" in shown
    assert "答复期限 2027-02-05 → 2027-02-12" in shown
    assert lead.due(DueDate.Clock.REPLY).due_on == D(2027, 2, 12)
    entry = CalendarYear.objects.get()
    page = client.get(reverse("admin:proposals_calendaryear_change", args=[entry.pk]))
    assert page.status_code == 200 and NOTICE in page.content.decode()


def test_the_admin_form_shows_a_refusal_and_saves_nothing(client, committee):
    client.force_login(committee)
    response = client.post(
        reverse("admin:proposals_calendaryear_add"),
        {"year": "2027", "source": NOTICE, "days_off": "2027-02-05至2027-02-11 春节"},
    )
    assert response.status_code == 200
    assert "仍是工作日" in response.content.decode()
    assert not CalendarYear.objects.exists() and not DayOverride.objects.exists()


def test_the_admin_offers_the_recomputation_of_a_changed_key_period(
    client, committee, clerk_a, session, unit_a
):
    lead = assigned(session, committee, unit_a, D(2026, 3, 2), is_key=True, key_reply_months=2)
    wf.edit_proposal(lead.proposal, actor=committee, fields={"key_reply_months": 4})
    url = reply_period_url(lead.proposal)
    client.force_login(clerk_a)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403

    client.force_login(committee)
    offered = [
        str(m)
        for m in get_messages(
            client.get(reverse("admin:proposals_calendaryear_changelist")).wsgi_request
        )
    ]
    assert any(url.replace("&", "&amp;") in m for m in offered)
    page = client.get(url).content.decode()
    assert "2026-05-06 → 2026-07-02" in page
    assert lead.due(DueDate.Clock.REPLY).due_on == D(2026, 5, 6), "a GET changes nothing"

    response = client.post(url, follow=True)

    assert "已重算答复期限；1 个在办到期日变动" in " ".join(
        str(m) for m in response.context["messages"]
    )
    assert lead.due(DueDate.Clock.REPLY).due_on == D(2026, 7, 2)


@override_settings(PROPOSAL_MAX_REPLY_MONTHS=6)
def test_a_date_set_before_the_cap_is_offered_and_capped(client, committee, session, unit_a):
    lead = assigned(session, committee, unit_a, D(2026, 3, 2), is_key=True, key_reply_months=8)
    reply = lead.due(DueDate.Clock.REPLY)
    # As the rows computed before the cap read: 8 months, unclipped.
    DueDate.objects.filter(pk=reply.pk).update(due_on=D(2026, 11, 2), explanation="旧")
    assert [d.pk for d in stale_reply_dues(lead.proposal)] == [reply.pk]
    client.force_login(committee)
    offered = get_messages(
        client.get(reverse("admin:proposals_calendaryear_changelist")).wsgi_request
    )
    assert any(lead.proposal.number in str(m) for m in offered)

    moved = recompute_reply_due(lead.proposal, actor=committee)

    assert [(m.old_due_on, m.new_due_on) for m in moved] == [(D(2026, 11, 2), D(2026, 9, 2))]
    assert stale_reply_dues(lead.proposal) == []
