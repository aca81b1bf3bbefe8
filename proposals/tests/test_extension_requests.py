"""申请延期: a unit asks for a later reply date, the committee grants or refuses it.

Each call is one workflow function, audited; a refusal changes nothing; at most one request is
pending per assignment; the admin offers the buttons only where they apply.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from proposals import workflow as wf
from proposals.models import DueDate, Extension, ExtensionRequest
from proposals.tests.test_workflow import assert_refused, audit_rows, filed

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def assigned(session, committee, unit_a, unit_b):
    """A filed proposal assigned on 2024-03-01 to unit A (lead, reply due 2024-06-03) and B."""
    p = filed(session, committee)
    lead, co = wf.assign_proposal(
        p, actor=committee, units=[(unit_a, "lead"), (unit_b, "co")], assigned_on=D(2024, 3, 1)
    )
    return p, lead, co


def reply_due(assignment) -> DueDate:
    return assignment.due_dates.get(clock=DueDate.Clock.REPLY, round=assignment.round)


def test_a_unit_asks_and_the_committee_grants_the_date_asked_for(assigned, clerk_a, committee):
    _p, lead, _co = assigned
    assert reply_due(lead).due_on == D(2024, 6, 3)
    request = wf.request_extension(
        lead, actor=clerk_a, new_due_on=D(2024, 7, 15), reason="涉及多部门协调"
    )
    assert (request.state, request.due_on_then, request.requested_by) == (
        "pending",
        D(2024, 6, 3),
        clerk_a,
    )
    assert reply_due(lead).due_on == D(2024, 6, 3), "asking moves nothing"
    assert audit_rows(lead).filter(verb="request_extension").count() == 1

    ext = wf.approve_extension(lead, actor=committee, note="同意")
    request.refresh_from_db()
    assert request.state == "approved" and request.extension == ext
    assert request.decided_by == committee and request.decided_at is not None
    assert (ext.old_due_on, ext.new_due_on) == (D(2024, 6, 3), D(2024, 7, 15))
    assert "涉及多部门协调" in ext.reason
    due = reply_due(lead)
    assert (due.due_on, due.is_fixed) == (D(2024, 7, 15), True)
    assert audit_rows(lead).filter(verb="extend").count() == 1


def test_the_committee_refuses_with_a_reason_and_the_date_stays(assigned, clerk_a, committee):
    _p, lead, _co = assigned
    request = wf.request_extension(lead, actor=clerk_a, new_due_on=D(2024, 7, 1), reason="x")
    assert_refused(lambda: wf.refuse_extension(lead, actor=committee, note=""), lead, request)
    wf.refuse_extension(lead, actor=committee, note="请按期答复")
    request.refresh_from_db()
    assert (request.state, request.decision_note) == ("refused", "请按期答复")
    assert reply_due(lead).due_on == D(2024, 6, 3)
    assert not Extension.objects.exists()
    assert audit_rows(lead).filter(verb="refuse_extension").get().note == "请按期答复"
    # Refused, the unit may ask again.
    wf.request_extension(lead, actor=clerk_a, new_due_on=D(2024, 6, 20), reason="补充材料")


def test_a_direct_extension_by_the_committee_answers_a_pending_request(
    assigned, clerk_a, committee
):
    _p, lead, _co = assigned
    request = wf.request_extension(lead, actor=clerk_a, new_due_on=D(2024, 8, 1), reason="x")
    ext = wf.extend_assignment(lead, actor=committee, new_due_on=D(2024, 7, 1), reason="延一个月")
    request.refresh_from_db()
    assert (request.state, request.extension) == ("approved", ext)


def test_one_pending_request_at_a_time(assigned, clerk_a):
    _p, lead, _co = assigned
    wf.request_extension(lead, actor=clerk_a, new_due_on=D(2024, 7, 1), reason="x")
    assert_refused(
        lambda: wf.request_extension(lead, actor=clerk_a, new_due_on=D(2024, 7, 9), reason="y"),
        lead,
        error=wf.WrongState,
    )
    # The database holds the rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        ExtensionRequest.objects.create(
            assignment=lead, due_on_then=D(2024, 6, 3), requested_due_on=D(2024, 7, 2), reason="z"
        )


def test_requests_are_checked_like_extensions(assigned, clerk_a, clerk_b, committee):
    _p, lead, _co = assigned
    cases = [
        (clerk_a, D(2024, 6, 1), "x", wf.InvalidInput),  # not later
        (clerk_a, D(2024, 9, 2), "x", wf.InvalidInput),  # past six months
        (clerk_a, D(2024, 7, 1), " ", wf.InvalidInput),  # no reason
        (clerk_b, D(2024, 7, 1), "x", wf.NotAllowed),  # another unit
    ]
    for actor, day, reason, error in cases:
        assert_refused(
            lambda a=actor, d=day, r=reason: wf.request_extension(
                lead, actor=a, new_due_on=d, reason=r
            ),
            lead,
            reply_due(lead),
            error=error,
        )
    assert not ExtensionRequest.objects.exists()


def test_only_the_committee_decides_and_only_on_a_pending_request(assigned, clerk_a, committee):
    _p, lead, _co = assigned
    assert_refused(lambda: wf.approve_extension(lead, actor=committee), lead, error=wf.WrongState)
    assert_refused(
        lambda: wf.refuse_extension(lead, actor=committee, note="x"), lead, error=wf.WrongState
    )
    request = wf.request_extension(lead, actor=clerk_a, new_due_on=D(2024, 7, 1), reason="x")
    assert_refused(
        lambda: wf.approve_extension(lead, actor=clerk_a), lead, request, error=wf.NotAllowed
    )
    assert_refused(
        lambda: wf.refuse_extension(lead, actor=clerk_a, note="x"),
        lead,
        request,
        error=wf.NotAllowed,
    )


def _buttons(client: Client, assignment) -> set[str]:
    page = client.get(reverse("admin:proposals_assignment_change", args=[assignment.pk]))
    assert page.status_code == 200
    return {b["label"] for b in page.context["verb_buttons"]}


def test_the_admin_offers_asking_then_deciding(assigned, clerk_a, committee):
    _p, lead, _co = assigned
    wf.accept_assignment(lead, actor=clerk_a)
    clerk, office = Client(), Client()
    clerk.force_login(clerk_a)
    office.force_login(committee)
    assert "申请延期" in _buttons(clerk, lead)
    assert not {"同意延期", "不同意延期"} & _buttons(office, lead)

    url = reverse("admin:proposals_assignment_verb", args=[lead.pk, "request_extension"])
    form = clerk.get(url)
    assert form.status_code == 200 and "申请延期理由" in form.content.decode()
    bad = clerk.post(url, {"apply": "1", "new_due_on": "2024-09-30", "reason": "协调"})
    assert "答复最迟不得超过" in bad.content.decode()
    assert not ExtensionRequest.objects.exists()
    done = clerk.post(url, {"apply": "1", "new_due_on": "2024-07-15", "reason": "需跨部门协调"})
    assert done.status_code == 302
    assert ExtensionRequest.objects.get().requested_due_on == D(2024, 7, 15)

    assert "申请延期" not in _buttons(clerk, lead)
    assert {"同意延期", "不同意延期"} <= _buttons(office, lead)
    dashboard = office.get(reverse("admin:index")).content.decode()
    assert "申请延期待审批" in dashboard and "需跨部门协调" in dashboard
    listed = office.get(reverse("admin:proposals_assignment_changelist") + "?extension=pending")
    assert list(listed.context["cl"].result_list) == [lead]

    approve = reverse("admin:proposals_assignment_verb", args=[lead.pk, "approve_extension"])
    assert "申请延期至 2024-07-15" in office.get(approve).content.decode()
    assert office.post(approve, {"apply": "1", "note": ""}).status_code == 302
    assert reply_due(lead).due_on == D(2024, 7, 15)
    assert ExtensionRequest.objects.get().state == "approved"
