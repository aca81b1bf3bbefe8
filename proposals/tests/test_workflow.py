"""The proposal and assignment lifecycle: every allowed transition and the refused ones.

Each success writes exactly one audit row for the object it moves; each refusal raises a
WorkflowError with a Chinese message and leaves every row as it was.
"""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import serializers

from proposals import workflow as wf
from proposals.models import (
    AppendOnlyError,
    Assignment,
    ContactRecord,
    DueDate,
    Extension,
    Proposal,
    Session,
    Transition,
)
from proposals.tests import factories as f

pytestmark = pytest.mark.django_db

D = datetime.date


def snapshot(*objs):
    """Serialized rows of the objects, plus the audit count: what must not change on refusal."""
    rows = []
    for obj in objs:
        fresh = type(obj).objects.filter(pk=obj.pk)
        rows.append(serializers.serialize("json", fresh))
    return rows, Transition.objects.count(), Assignment.objects.count(), DueDate.objects.count()


def assert_refused(call, *objs, error=wf.WorkflowError):
    before = snapshot(*objs)
    with pytest.raises(error) as info:
        call()
    assert info.value.message, "a refusal says why"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.message), "in Chinese"
    assert snapshot(*objs) == before, "nothing changed on refusal"
    return info.value


def audit_rows(obj):
    return Transition.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    )


def make_proposal(session, status=Proposal.Status.SUBMITTED, **kw):
    return f.ProposalFactory(session=session, status=status, **kw)


# --- Proposals ------------------------------------------------------------------------------


def test_a_proposer_submits_a_draft(session, proposer_user):
    p = make_proposal(session, Proposal.Status.DRAFT, lead_proposer=proposer_user.proposer)
    wf.submit_proposal(p, actor=proposer_user)
    p.refresh_from_db()
    assert p.status == "submitted"
    assert p.submitted_at is not None
    assert audit_rows(p).get().to_state == "submitted"


def test_another_member_cannot_submit_someone_elses_draft(session, proposer_user):
    p = make_proposal(session, Proposal.Status.DRAFT)
    assert_refused(lambda: wf.submit_proposal(p, actor=proposer_user), p, error=wf.NotAllowed)


def test_submitting_twice_is_refused(session, committee):
    p = make_proposal(session)
    assert_refused(lambda: wf.submit_proposal(p, actor=committee), p, error=wf.WrongState)


def test_the_committee_returns_a_proposal_for_revision_and_the_proposer_resubmits(
    session, committee, proposer_user
):
    p = make_proposal(session, lead_proposer=proposer_user.proposer)
    wf.return_proposal(p, actor=committee, reason="请补充情况分析")
    p.refresh_from_db()
    assert (p.status, p.review_note) == ("returned", "请补充情况分析")
    wf.resubmit_proposal(p, actor=proposer_user)
    p.refresh_from_db()
    assert p.status == "submitted"
    assert list(audit_rows(p).values_list("verb", flat=True)) == ["return", "resubmit"]


def test_returning_needs_a_reason(session, committee):
    p = make_proposal(session)
    e = assert_refused(lambda: wf.return_proposal(p, actor=committee, reason="  "), p)
    assert e.field == "reason"


def test_a_unit_clerk_cannot_file_or_return(session, clerk_a):
    p = make_proposal(session)
    assert_refused(lambda: wf.file_proposal(p, actor=clerk_a), p, error=wf.NotAllowed)
    assert_refused(lambda: wf.return_proposal(p, actor=clerk_a, reason="x"), p, error=wf.NotAllowed)


def test_the_supervision_office_sees_all_but_cannot_file(session, supervisor):
    p = make_proposal(session)
    assert_refused(lambda: wf.file_proposal(p, actor=supervisor), p, error=wf.NotAllowed)


def test_filing_takes_the_next_serial_and_formats_the_number(session, committee):
    first, second = make_proposal(session), make_proposal(session)
    wf.file_proposal(first, actor=committee)
    wf.file_proposal(second, actor=committee)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.serial, first.number) == (1, "第001号")
    assert (second.serial, second.number) == (2, "第002号")
    assert first.filed_at is not None
    assert audit_rows(first).get().verb == "file"


def test_filing_a_draft_or_a_filed_proposal_is_refused(session, committee):
    draft = make_proposal(session, Proposal.Status.DRAFT)
    assert_refused(lambda: wf.file_proposal(draft, actor=committee), draft, session)
    p = make_proposal(session)
    wf.file_proposal(p, actor=committee)
    session.refresh_from_db()
    assert_refused(lambda: wf.file_proposal(p, actor=committee), p, session)


def test_a_refused_filing_does_not_use_up_a_serial(session, committee, clerk_a):
    p = make_proposal(session)
    assert_refused(lambda: wf.file_proposal(p, actor=clerk_a), p, session)
    wf.file_proposal(p, actor=committee)
    p.refresh_from_db()
    assert p.serial == 1


def test_not_filing_needs_a_disposition(session, committee):
    p = make_proposal(session)
    assert_refused(lambda: wf.not_file_proposal(p, actor=committee, disposition=""), p)
    wf.not_file_proposal(p, actor=committee, disposition="social_info", note="转社情民意")
    p.refresh_from_db()
    assert (p.status, p.disposition, p.serial) == ("not_filed", "social_info", None)


def test_merging_into_a_filed_proposal_of_the_same_session(session, committee):
    target = make_proposal(session)
    wf.file_proposal(target, actor=committee)
    p = make_proposal(session)
    wf.merge_proposal(p, into=target, actor=committee)
    p.refresh_from_db()
    assert (p.status, p.merged_into_id) == ("merged", target.pk)


def test_merging_is_refused_into_itself_another_session_or_an_unfiled_proposal(session, committee):
    p = make_proposal(session)
    other_session = f.SessionFactory(meeting=3)
    elsewhere = make_proposal(other_session)
    wf.file_proposal(elsewhere, actor=committee)
    unfiled = make_proposal(session)
    for target in (p, elsewhere, unfiled):
        assert_refused(lambda t=target: wf.merge_proposal(p, into=t, actor=committee), p)


def filed(session, committee, **kw):
    p = make_proposal(session, **kw)
    wf.file_proposal(p, actor=committee)
    p.refresh_from_db()
    return p


def test_assigning_a_lead_and_a_co_unit_computes_their_due_dates(
    session, committee, unit_a, unit_b
):
    p = filed(session, committee)
    lead, co = wf.assign_proposal(
        p,
        actor=committee,
        units=[(unit_a, "lead"), (unit_b, "co")],
        assigned_on=D(2024, 3, 1),
    )
    p.refresh_from_db()
    assert p.status == "assigned"
    assert (lead.state, co.state) == ("pending", "pending")
    lead_dues = {d.clock: d for d in lead.due_dates.all()}
    assert set(lead_dues) == {"reassignment", "first_contact", "reply"}
    assert lead_dues["reply"].due_on == D(2024, 6, 3)
    assert lead_dues["reply"].explanation == (
        "交办 2024-03-01 + 3个月 = 2024-06-01 周六 → 顺延 2024-06-03"
    )
    assert lead_dues["reassignment"].due_on == D(2024, 3, 11)
    co_dues = {d.clock: d.due_on for d in co.due_dates.all()}
    # 沟通见面 is the lead's duty, not the co-handling unit's (docs/domain.md, Deadlines).
    assert set(co_dues) == {"reassignment", "co_opinion"}
    assert co_dues["co_opinion"] == D(2024, 4, 1)
    assert audit_rows(lead).get().verb == "assign"
    assert audit_rows(p).filter(verb="assign").count() == 1


def test_a_key_proposal_uses_its_own_reply_period(session, committee, unit_a):
    p = filed(session, committee, is_key=True, key_reply_months=2)
    (lead,) = wf.assign_proposal(
        p, actor=committee, units=[(unit_a, "lead")], assigned_on=D(2024, 3, 1)
    )
    assert lead.due(DueDate.Clock.REPLY).due_on == D(2024, 5, 6)  # 5-1..5-5 劳动节


def test_several_separate_units_may_share_a_proposal(session, committee, unit_a, unit_b):
    p = filed(session, committee)
    created = wf.assign_proposal(
        p, actor=committee, units=[(unit_a, "separate"), (unit_b, "separate")]
    )
    assert [a.role for a in created] == ["separate", "separate"]


@pytest.mark.parametrize(
    "roles",
    [
        [],
        ["co"],
        ["lead", "lead"],
        ["lead", "separate"],
        ["lead", "bogus"],
    ],
)
def test_assignment_rules_are_enforced(session, committee, roles):
    p = filed(session, committee)
    units = [(f.UnitFactory(), role) for role in roles]
    assert_refused(lambda: wf.assign_proposal(p, actor=committee, units=units), p)


def test_the_same_unit_cannot_be_assigned_twice(session, committee, unit_a):
    p = filed(session, committee)
    assert_refused(
        lambda: wf.assign_proposal(p, actor=committee, units=[(unit_a, "lead"), (unit_a, "co")]),
        p,
    )


def test_an_inactive_unit_cannot_be_assigned(session, committee):
    p = filed(session, committee)
    unit = f.UnitFactory(is_active=False)
    assert_refused(lambda: wf.assign_proposal(p, actor=committee, units=[(unit, "lead")]), p)


def test_only_the_committee_assigns_and_only_filed_proposals(session, committee, clerk_a, unit_a):
    p = filed(session, committee)
    assert_refused(
        lambda: wf.assign_proposal(p, actor=clerk_a, units=[(unit_a, "lead")]),
        p,
        error=wf.NotAllowed,
    )
    submitted = make_proposal(session)
    assert_refused(
        lambda: wf.assign_proposal(submitted, actor=committee, units=[(unit_a, "lead")]),
        submitted,
        error=wf.WrongState,
    )


@pytest.fixture
def assigned(session, committee, unit_a, unit_b):
    """A filed proposal assigned on 2024-03-01 to unit A (lead) and unit B (co)."""
    p = filed(session, committee)
    lead, co = wf.assign_proposal(
        p,
        actor=committee,
        units=[(unit_a, "lead"), (unit_b, "co")],
        assigned_on=D(2024, 3, 1),
    )
    return p, lead, co


def test_the_units_clerk_accepts(assigned, clerk_a):
    _p, lead, _co = assigned
    wf.accept_assignment(lead, actor=clerk_a)
    lead.refresh_from_db()
    assert lead.state == "accepted"
    assert lead.accepted_at is not None
    assert list(audit_rows(lead).values_list("verb", flat=True)) == ["assign", "accept"]


def test_another_units_clerk_cannot_accept(assigned, clerk_b):
    _p, lead, _co = assigned
    assert_refused(lambda: wf.accept_assignment(lead, actor=clerk_b), lead, error=wf.NotAllowed)


def test_accepting_twice_is_refused(assigned, clerk_a):
    _p, lead, _co = assigned
    wf.accept_assignment(lead, actor=clerk_a)
    assert_refused(lambda: wf.accept_assignment(lead, actor=clerk_a), lead, error=wf.WrongState)


def test_a_reassignment_request_within_the_window_is_recorded(assigned, clerk_a):
    _p, lead, _co = assigned
    wf.request_reassignment(lead, actor=clerk_a, reason="不属于本单位职责", on=D(2024, 3, 11))
    lead.refresh_from_db()
    assert (lead.state, lead.return_reason) == ("return_requested", "不属于本单位职责")


def test_a_reassignment_request_after_the_window_is_refused(assigned, clerk_a):
    _p, lead, _co = assigned
    e = assert_refused(
        lambda: wf.request_reassignment(lead, actor=clerk_a, reason="晚了", on=D(2024, 3, 12)),
        lead,
        error=wf.WrongState,
    )
    assert "2024年3月11日" in e.message


def test_a_reassignment_request_needs_a_reason_and_the_right_unit(assigned, clerk_a, clerk_b):
    _p, lead, _co = assigned
    assert_refused(
        lambda: wf.request_reassignment(lead, actor=clerk_a, reason="", on=D(2024, 3, 2)), lead
    )
    assert_refused(
        lambda: wf.request_reassignment(lead, actor=clerk_b, reason="x", on=D(2024, 3, 2)),
        lead,
        error=wf.NotAllowed,
    )


def test_approving_a_reassignment_withdraws_and_the_committee_assigns_another_lead(
    assigned, committee, clerk_a
):
    p, lead, _co = assigned
    wf.request_reassignment(lead, actor=clerk_a, reason="职责不符", on=D(2024, 3, 5))
    wf.approve_reassignment(lead, actor=committee)
    lead.refresh_from_db()
    assert lead.state == "withdrawn"
    p.refresh_from_db()
    assert p.status == "assigned"  # the co unit still holds it
    new_unit = f.UnitFactory()
    (new_lead,) = wf.assign_proposal(
        p, actor=committee, units=[(new_unit, "lead")], assigned_on=D(2024, 3, 8)
    )
    assert new_lead.due(DueDate.Clock.REPLY).due_on == D(2024, 6, 11)


def test_when_the_only_unit_is_withdrawn_the_proposal_waits_to_be_assigned_again(
    session, committee, clerk_a, unit_a
):
    p = filed(session, committee)
    (lead,) = wf.assign_proposal(p, actor=committee, units=[(unit_a, "lead")])
    wf.request_reassignment(lead, actor=clerk_a, reason="职责不符")
    wf.approve_reassignment(lead, actor=committee)
    p.refresh_from_db()
    assert p.status == "filed"
    assert list(audit_rows(p).values_list("verb", flat=True))[-1] == "unassign"


def test_refusing_a_reassignment_puts_the_unit_back_to_work(assigned, committee, clerk_a):
    _p, lead, _co = assigned
    wf.request_reassignment(lead, actor=clerk_a, reason="职责不符", on=D(2024, 3, 5))
    assert_refused(lambda: wf.refuse_reassignment(lead, actor=committee, note=""), lead)
    wf.refuse_reassignment(lead, actor=committee, note="属于你单位职责")
    lead.refresh_from_db()
    assert lead.state == "accepted"


def test_only_the_committee_decides_on_reassignment(assigned, clerk_a):
    _p, lead, _co = assigned
    wf.request_reassignment(lead, actor=clerk_a, reason="职责不符", on=D(2024, 3, 5))
    assert_refused(lambda: wf.approve_reassignment(lead, actor=clerk_a), lead, error=wf.NotAllowed)
    assert_refused(
        lambda: wf.refuse_reassignment(lead, actor=clerk_a, note="x"), lead, error=wf.NotAllowed
    )


def test_deciding_without_a_request_is_refused(assigned, committee):
    _p, lead, _co = assigned
    assert_refused(
        lambda: wf.approve_reassignment(lead, actor=committee), lead, error=wf.WrongState
    )


def test_an_extension_moves_the_reply_date_and_is_recorded(assigned, committee):
    _p, lead, _co = assigned
    ext = wf.extend_assignment(
        lead, actor=committee, new_due_on=D(2024, 7, 31), reason="涉及多部门协调"
    )
    due = lead.due(DueDate.Clock.REPLY)
    due.refresh_from_db()
    assert (due.due_on, due.is_fixed) == (D(2024, 7, 31), True)
    assert (ext.old_due_on, ext.new_due_on) == (D(2024, 6, 3), D(2024, 7, 31))
    assert audit_rows(lead).filter(verb="extend").count() == 1


def test_an_extension_never_goes_past_six_months_after_assignment(assigned, committee):
    _p, lead, _co = assigned
    e = assert_refused(
        lambda: wf.extend_assignment(
            lead, actor=committee, new_due_on=D(2024, 9, 2), reason="再延"
        ),
        lead,
        lead.due(DueDate.Clock.REPLY),
    )
    assert "2024-09-01" in e.message
    assert Extension.objects.count() == 0


def test_an_extension_must_move_the_date_later_and_give_a_reason(assigned, committee, clerk_a):
    _p, lead, _co = assigned
    due = lead.due(DueDate.Clock.REPLY)
    assert_refused(
        lambda: wf.extend_assignment(lead, actor=committee, new_due_on=D(2024, 6, 1), reason="x"),
        lead,
        due,
    )
    assert_refused(
        lambda: wf.extend_assignment(lead, actor=committee, new_due_on=D(2024, 7, 1), reason=""),
        lead,
        due,
    )
    assert_refused(
        lambda: wf.extend_assignment(lead, actor=clerk_a, new_due_on=D(2024, 7, 1), reason="x"),
        lead,
        due,
        error=wf.NotAllowed,
    )


def test_logging_the_first_contact_meets_its_clock(assigned, clerk_a):
    p, lead, _co = assigned
    wf.accept_assignment(lead, actor=clerk_a)
    record = wf.log_contact(
        lead,
        actor=clerk_a,
        contacted_on=D(2024, 3, 15),
        method="meeting",
        proposers=[p.lead_proposer],
        notes="当面听取意见",
    )
    assert list(record.proposers.all()) == [p.lead_proposer]
    assert lead.due(DueDate.Clock.FIRST_CONTACT).completed_on == D(2024, 3, 15)
    assert audit_rows(lead).filter(verb="log_contact").count() == 1


def test_a_contact_is_refused_before_acceptance_or_with_bad_details(assigned, clerk_a, clerk_b):
    _p, lead, _co = assigned
    ok = {"contacted_on": D(2024, 3, 15), "method": "phone"}
    assert_refused(lambda: wf.log_contact(lead, actor=clerk_a, **ok), lead, error=wf.WrongState)
    wf.accept_assignment(lead, actor=clerk_a)
    lead.refresh_from_db()
    assert_refused(lambda: wf.log_contact(lead, actor=clerk_b, **ok), lead, error=wf.NotAllowed)
    bad = [
        {**ok, "method": "fax"},
        {**ok, "contacted_on": D(2024, 2, 1)},
        {**ok, "contacted_on": D(2099, 1, 1)},
        {**ok, "proposers": [f.ProposerFactory()]},
    ]
    for kwargs in bad:
        assert_refused(lambda k=kwargs: wf.log_contact(lead, actor=clerk_a, **k), lead)
    assert ContactRecord.objects.count() == 0


def test_the_proposal_is_replied_when_every_replying_unit_has_replied(
    session, committee, clerk_a, unit_a, unit_b
):
    p = filed(session, committee)
    a, b = wf.assign_proposal(
        p, actor=committee, units=[(unit_a, "separate"), (unit_b, "separate")]
    )
    for x in (a, b):
        wf.accept_assignment(x, actor=committee)
    wf.mark_assignment_replied(a, actor=clerk_a, on=D(2024, 5, 1))
    p.refresh_from_db()
    assert p.status == "assigned"
    wf.mark_assignment_replied(b, actor=committee, on=D(2024, 5, 2))
    p.refresh_from_db()
    assert p.status == "replied"
    assert a.due(DueDate.Clock.REPLY).completed_on == D(2024, 5, 1)


def test_a_co_unit_sends_an_opinion_but_never_a_reply(assigned, committee):
    _p, _lead, co = assigned
    wf.accept_assignment(co, actor=committee)
    assert_refused(lambda: wf.mark_assignment_replied(co, actor=committee), co)
    wf.mark_opinion_sent(co, actor=committee, on=D(2024, 3, 20))
    co.refresh_from_db()
    assert co.state == "opinion_sent"
    assert co.due(DueDate.Clock.CO_OPINION).completed_on == D(2024, 3, 20)


def test_not_satisfied_feedback_reopens_for_a_new_round(assigned, committee):
    p, lead, _co = assigned
    wf.accept_assignment(lead, actor=committee)
    wf.mark_assignment_replied(lead, actor=committee, on=D(2024, 5, 1))
    p.refresh_from_db()
    assert p.status == "replied"
    wf.reopen_assignment(lead, actor=None, reason="提案者不满意", on=D(2024, 5, 20))
    lead.refresh_from_db()
    p.refresh_from_db()
    assert (lead.state, lead.round, p.status) == ("accepted", 2, "assigned")
    rehandling = lead.due(DueDate.Clock.REHANDLING_REPLY)
    assert rehandling.due_on == D(2024, 8, 20)
    assert rehandling.explanation.startswith("不满意反馈 2024-05-20 + 3个月")


def test_closing_needs_a_replied_proposal_and_the_committee(assigned, committee, clerk_a):
    p, lead, _co = assigned
    assert_refused(lambda: wf.close_proposal(p, actor=committee), p, error=wf.WrongState)
    wf.accept_assignment(lead, actor=clerk_a)
    wf.mark_assignment_replied(lead, actor=clerk_a, on=D(2024, 5, 1))
    p.refresh_from_db()
    assert_refused(lambda: wf.close_proposal(p, actor=clerk_a), p, error=wf.NotAllowed)
    wf.close_proposal(p, actor=committee, note="提案者满意")
    p.refresh_from_db()
    assert p.status == "closed"


def test_the_audit_trail_is_append_only(assigned):
    row = Transition.objects.first()
    row.note = "changed"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()


# --- The calendar and due dates -------------------------------------------------------------


def test_an_override_recomputes_open_due_dates_but_not_extended_ones(
    session, committee, unit_a, unit_b
):
    p = filed(session, committee)
    (lead,) = wf.assign_proposal(
        p, actor=committee, units=[(unit_a, "lead")], assigned_on=D(2024, 3, 1)
    )
    q = filed(session, committee)
    (other,) = wf.assign_proposal(
        q, actor=committee, units=[(unit_b, "lead")], assigned_on=D(2024, 3, 1)
    )
    reply = lead.due(DueDate.Clock.REPLY)
    assert reply.due_on == D(2024, 6, 3)
    # The committee declares 2024-06-03 a day off: the open due date moves to 06-04.
    _override, moved = wf.set_day_override(
        actor=committee, date=D(2024, 6, 3), is_workday=False, note="临时调整"
    )
    reply.refresh_from_db()
    assert reply.due_on == D(2024, 6, 4)
    assert "2024-06-04" in reply.explanation
    assert moved >= 2
    # A date fixed by an approved extension stays where the committee put it.
    wf.extend_assignment(other, actor=committee, new_due_on=D(2024, 7, 1), reason="协调")
    wf.set_day_override(actor=committee, date=D(2024, 7, 1), is_workday=False)
    fixed = other.due(DueDate.Clock.REPLY)
    fixed.refresh_from_db()
    assert fixed.due_on == D(2024, 7, 1)
    # Removing the override moves the open date back.
    wf.delete_day_override(actor=committee, date=D(2024, 6, 3))
    reply.refresh_from_db()
    assert reply.due_on == D(2024, 6, 3)


def test_due_dates_of_finished_work_are_not_recomputed(session, committee, unit_a):
    p = filed(session, committee)
    (lead,) = wf.assign_proposal(
        p, actor=committee, units=[(unit_a, "lead")], assigned_on=D(2024, 3, 1)
    )
    wf.accept_assignment(lead, actor=committee)
    wf.mark_assignment_replied(lead, actor=committee, on=D(2024, 5, 1))
    wf.set_day_override(actor=committee, date=D(2024, 6, 3), is_workday=False)
    assert lead.due(DueDate.Clock.REPLY).due_on == D(2024, 6, 3)


def test_only_the_committee_edits_the_calendar(clerk_a):
    with pytest.raises(wf.NotAllowed):
        wf.set_day_override(actor=clerk_a, date=D(2024, 6, 3), is_workday=False)


# --- Numbering ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("district", "term", "meeting", "year", "template", "serial", "expected"),
    [
        ("长宁", 15, 2, 2024, "第{serial:03d}号", 61, "第061号"),
        ("普陀", 15, 2, 2023, "第{term}{meeting}{serial:03d}号", 45, "第152045号"),
        ("宝山", 9, 2, 2023, "{term_cn}{meeting_letter}{serial:03d}", 111, "9B111"),
        ("杨浦", 15, 2, 2023, "{meeting_letter}{serial:03d}", 131, "B131"),
        ("嘉定", 7, 3, 2024, "{year2}-{serial:03d}", 105, "24-105"),
    ],
)
def test_the_five_numbering_schemes(
    committee, district, term, meeting, year, template, serial, expected
):
    session = Session.objects.create(
        district=district,
        term=term,
        meeting=meeting,
        name=f"{term}届{meeting}次",
        year=year,
        number_template=template,
        last_serial=serial - 1,
    )
    p = make_proposal(session)
    wf.file_proposal(p, actor=committee)
    p.refresh_from_db()
    assert p.number == expected


def test_a_numbering_template_without_a_serial_is_rejected():
    from django.core.exceptions import ValidationError

    from proposals.models import validate_number_template

    for bad in ("第{term}号", "{serial:03d}{bogus}", "{serial:q}"):
        with pytest.raises(ValidationError):
            validate_number_template(bad)
    validate_number_template("第{serial:03d}号")
