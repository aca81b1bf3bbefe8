"""A co-handling (会办) assignment ends (docs/domain.md, Assignment; issue 19 "Closure").

When the lead unit replies without a co unit's opinion, or the proposal closes, the co unit's
open assignment ends as 未提供会办意见: written in the audit trail, no longer overdue anywhere
(the admin's filter, the dashboard's counts, the statistics, the metrics), no longer chased by
reminders — and one rule decides what is overdue, at the due-date level and the assignment
level alike (``proposals.selectors``).
"""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.db import connection

from proposals import workflow as pwf
from proposals.models import Assignment, AssignmentState, DueDate, Proposal, Transition
from proposals.selectors import (
    ENDED,
    OVERDUE,
    RUNNING,
    WINDOW_CLOSED,
    due_standing,
    filter_due,
    is_past_due,
    past_due,
    running_due_dates,
)
from proposals.tests import factories as f
from tracker import metrics, statistics
from tracker.reminders import plan_reminders

pytestmark = pytest.mark.django_db

D = datetime.date
ASSIGNED_ON = D(2026, 6, 1)
#: Past every clock of an assignment made on ASSIGNED_ON (reply due 2026-09-01), a Monday.
LATER = D(2026, 9, 14)


@pytest.fixture
def assigned(committee, unit_a, unit_b):
    """A proposal assigned to a lead and a co unit on 2026-06-01, both accepted."""
    session = f.SessionFactory()
    proposal = f.ProposalFactory(session=session, status=Proposal.Status.SUBMITTED)
    pwf.file_proposal(proposal, actor=committee)
    lead, co = pwf.assign_proposal(
        proposal,
        actor=committee,
        units=[(unit_a, "lead"), (unit_b, "co")],
        assigned_on=ASSIGNED_ON,
    )
    Assignment.objects.filter(pk__in=[lead.pk, co.pk]).update(state=AssignmentState.ACCEPTED)
    lead.refresh_from_db()
    co.refresh_from_db()
    return proposal, lead, co


def overdue_ids(today: datetime.date) -> set[int]:
    return set(filter_due(Assignment.objects.all(), "overdue", today).values_list("pk", flat=True))


def test_the_co_unit_owes_its_opinion_not_the_first_contact(assigned):
    _, lead, co = assigned
    assert set(co.due_dates.values_list("clock", flat=True)) == {"reassignment", "co_opinion"}
    assert "first_contact" in set(lead.due_dates.values_list("clock", flat=True))


def test_the_lead_replying_first_closes_the_co_assignment(assigned, clerk_a):
    proposal, lead, co = assigned
    assert overdue_ids(LATER) == {lead.pk, co.pk}

    pwf.mark_assignment_replied(lead, actor=clerk_a, on=D(2026, 8, 1))

    co.refresh_from_db()
    proposal.refresh_from_db()
    assert (proposal.status, co.state) == ("replied", "closed_without_opinion")
    row = Transition.objects.get(object_id=co.pk, verb="close_without_opinion")
    assert (row.from_state, row.to_state, row.actor) == ("accepted", co.state, clerk_a)
    assert "未收到会办意见" in row.note
    assert str(row).endswith("结束会办 办理中 → 未提供会办意见")
    # Overdue nowhere: the filter, the per-unit counts, the statistics, metrics, reminders.
    assert overdue_ids(LATER) == set()
    assert statistics.overdue_by_unit(today=LATER) == {}
    figures = statistics.compute(session=proposal.session_id, today=LATER)
    assert figures.total.overdue == 0
    assert sum(metrics.overdue_due_dates(LATER).values()) == 0
    assert [i for i in plan_reminders(today=LATER).items if i.assignment_id == co.pk] == []


def test_a_signed_opinion_can_still_be_delivered_late(assigned, clerk_a):
    _, lead, co = assigned
    pwf.mark_assignment_replied(lead, actor=clerk_a, on=D(2026, 8, 1))

    pwf.mark_opinion_sent(co, actor=None, on=D(2026, 8, 3))

    co.refresh_from_db()
    assert co.state == "opinion_sent"
    due = co.due_dates.get(clock="co_opinion")
    assert due.completed_on == D(2026, 8, 3) > due.due_on  # on record as late


def test_closing_the_proposal_ends_every_open_assignment(assigned, committee):
    proposal, lead, co = assigned
    # A state the workflow no longer produces (a lead that replied before this release):
    # closing the proposal still ends the co unit's assignment.
    Assignment.objects.filter(pk=lead.pk).update(state=AssignmentState.REPLIED)
    Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.REPLIED)

    pwf.close_proposal(proposal, actor=committee, note="征询意见已收回")

    co.refresh_from_db()
    assert co.state == "closed_without_opinion"
    assert Transition.objects.filter(object_id=co.pk, verb="close_without_opinion").exists()


def test_a_lead_reply_leaves_a_delivered_opinion_alone(assigned, clerk_a):
    _, lead, co = assigned
    pwf.mark_opinion_sent(co, actor=None, on=D(2026, 6, 20))
    pwf.mark_assignment_replied(lead, actor=clerk_a, on=D(2026, 8, 1))
    co.refresh_from_db()
    assert co.state == "opinion_sent"
    assert not Transition.objects.filter(verb="close_without_opinion").exists()


def test_how_a_due_date_stands(assigned, clerk_a):
    _, lead, co = assigned
    window = lead.due_dates.get(clock="reassignment")
    reply = lead.due_dates.get(clock="reply")
    # An optional window passed after the unit accepted is closed, not overdue …
    assert due_standing(window, LATER) == WINDOW_CLOSED
    # … but a unit that has not even signed for the proposal is late.
    Assignment.objects.filter(pk=lead.pk).update(state=AssignmentState.PENDING)
    window = lead.due_dates.select_related("assignment").get(clock="reassignment")
    assert due_standing(window, LATER) == OVERDUE
    assert due_standing(reply, ASSIGNED_ON) == RUNNING
    Assignment.objects.filter(pk=lead.pk).update(state=AssignmentState.ACCEPTED)

    pwf.mark_assignment_replied(lead, actor=clerk_a, on=D(2026, 8, 1))
    opinion = co.due_dates.select_related("assignment").get(clock="co_opinion")
    assert due_standing(opinion, LATER) == ENDED


def test_the_row_rule_and_the_query_rule_agree(assigned):
    """``is_past_due`` (one row read) and ``past_due`` (the query) over every day around the
    due dates: the same answer for each running due date."""
    _, lead, co = assigned
    dues = list(running_due_dates().filter(assignment__in=[lead, co]))
    assert dues
    for offset in range(-2, 95):
        today = ASSIGNED_ON + datetime.timedelta(days=offset)
        in_query = set(past_due(running_due_dates(), today).values_list("pk", flat=True))
        by_row = {d.pk for d in dues if is_past_due(d.due_on, d.completed_on, today)}
        assert by_row == in_query, today


def test_the_migration_closes_co_assignments_left_open(assigned, clerk_a):
    """Rows written before the closure existed: a replied lead, a co unit still 办理中 with a
    first-contact clock it never owed. The data migration ends the one and drops the other."""
    proposal, lead, co = assigned
    Assignment.objects.filter(pk=lead.pk).update(state=AssignmentState.REPLIED)
    Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.REPLIED)
    f.DueDateFactory(assignment=co, clock="first_contact", due_on=D(2026, 6, 22))
    untouched = f.AssignmentFactory(role="co", state=AssignmentState.ACCEPTED)

    migration = importlib.import_module("proposals.migrations.0012_co_handling_closure")
    with connection.schema_editor() as editor:
        migration.close_stale_co_assignments(django_apps, editor)

    co.refresh_from_db()
    untouched.refresh_from_db()
    assert (co.state, untouched.state) == ("closed_without_opinion", "accepted")
    assert not DueDate.objects.filter(assignment=co, clock="first_contact").exists()
    row = Transition.objects.get(object_id=co.pk, verb="close_without_opinion")
    assert row.row_hash  # sealed into the audit chain
    from proposals import audit

    assert audit.verify().intact
