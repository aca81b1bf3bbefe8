"""Every changelist runs the same number of queries for 10 rows as for 100 (and at most 15),
for the committee and for a unit's clerk. Measured with the rows on one page."""

from __future__ import annotations

import datetime

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from proposals.models import (
    AccessEvent,
    Assignment,
    CalendarYear,
    ContactRecord,
    CoProposer,
    DayOverride,
    DueDate,
    Membership,
    Proposal,
    Proposer,
    Session,
    Transition,
    Unit,
    User,
)
from replies.models import CoOpinion, DocNumberCounter, Feedback, Reply
from tracker.tests import admin_data as d

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15
SMALL, LARGE = 10, 100


def grow(n: int, *, session, unit, co_unit, committee) -> None:
    """``n`` more rows of every kind the admins list (in bulk); unit's clerk sees the unit's."""
    k = Proposal.objects.count()
    leads = Proposer.objects.bulk_create(Proposer(name=f"委员{k + i}") for i in range(n))
    cos = Proposer.objects.bulk_create(Proposer(name=f"联名{k + i}") for i in range(n))
    first = session.last_serial + 1
    session.last_serial += n
    session.save(update_fields=["last_serial"])
    proposals = Proposal.objects.bulk_create(
        Proposal(
            session=session,
            serial=first + i,
            number=session.format_number(first + i),
            title=f"关于第{k + i}项的建议",
            lead_proposer=leads[i],
            status=Proposal.Status.REPLIED,
        )
        for i in range(n)
    )
    CoProposer.objects.bulk_create(
        CoProposer(proposal=p, proposer=cos[i]) for i, p in enumerate(proposals)
    )
    on = datetime.date(2024, 3, 1)
    replied, co = Assignment.State.REPLIED, Assignment.Role.CO
    leads_a = Assignment.objects.bulk_create(
        Assignment(proposal=p, unit=unit, role="lead", state=replied, assigned_on=on)
        for p in proposals
    )
    cos_a = Assignment.objects.bulk_create(
        Assignment(proposal=p, unit=co_unit, role=co, assigned_on=on) for p in proposals
    )
    DueDate.objects.bulk_create(
        DueDate(
            assignment=a,
            clock=DueDate.Clock.REPLY if a.role == "lead" else DueDate.Clock.CO_OPINION,
            start_on=on,
            rule="3,months",
            due_on=datetime.date(2024, 6, 3),
            explanation="交办 + 3个月",
        )
        for a in [*leads_a, *cos_a]
    )
    contacts = ContactRecord.objects.bulk_create(
        ContactRecord(assignment=a, contacted_on=on, method="meeting") for a in leads_a
    )
    ContactRecord.proposers.through.objects.bulk_create(
        ContactRecord.proposers.through(contactrecord=c, proposer=leads[i])
        for i, c in enumerate(contacts)
    )
    sent_at = timezone.now()
    letter = {"salutation": "委员：", "body": "正文", "title": "答复"}
    replies = Reply.objects.bulk_create(
        Reply(
            assignment=a,
            proposal=a.proposal,
            unit=unit,
            state=Reply.State.SENT,
            sent_at=sent_at,
            result_label=d.RESULT_A,
            result_class="A",
            **letter,
        )
        for a in leads_a
    )
    Feedback.objects.bulk_create(
        Feedback(
            reply=r, proposal=r.proposal, proposer=leads[i], rating="satisfied", received_at=sent_at
        )
        for i, r in enumerate(replies)
    )
    CoOpinion.objects.bulk_create(
        CoOpinion(
            assignment=a,
            proposal=a.proposal,
            unit=co_unit,
            state=CoOpinion.State.DELIVERED,
            delivered_at=sent_at,
            **letter,
        )
        for a in cos_a
    )
    kind = ContentType.objects.get_for_model(Proposal)
    Transition.objects.bulk_create(
        Transition(actor=committee, content_type=kind, object_id=p.pk, verb="file", proposal=p)
        for p in proposals
    )
    units = Unit.objects.bulk_create(
        Unit(name=f"其他单位{k + i}", organ_name="机关", docno_prefix=f"其{k + i}")
        for i in range(n)
    )
    users = User.objects.bulk_create(
        User(username=f"staff{k + i}", full_name=f"人员{k + i}", is_staff=True) for i in range(n)
    )
    Membership.objects.bulk_create(
        Membership(user=users[i], unit=u, role="clerk") for i, u in enumerate(units)
    )
    Session.objects.bulk_create(
        Session(term=10, meeting=k + i + 1, name=f"十届{k + i + 1}次", year=2020) for i in range(n)
    )
    DayOverride.objects.bulk_create(
        DayOverride(
            date=datetime.date(2031, 1, 1) + datetime.timedelta(days=k + i),
            is_workday=False,
            updated_by=committee,
        )
        for i in range(n)
    )
    CalendarYear.objects.bulk_create(
        CalendarYear(year=2100 + k + i, source=f"{2100 + k + i}年节假日安排", entered_by=committee)
        for i in range(n)
    )
    DocNumberCounter.objects.bulk_create(
        DocNumberCounter(unit=u, year=2024, last_number=i + 1) for i, u in enumerate(units)
    )
    AccessEvent.objects.bulk_create(
        AccessEvent(kind="login", user=users[i], username=users[i].username, ip_address="10.0.0.1")
        for i in range(n)
    )


def changelists() -> list[str]:
    names = []
    for model in admin.site._registry:
        if model._meta.app_label in ("proposals", "replies"):
            names.append(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return sorted(names)


CLERK_LISTS = [
    "admin:proposals_proposal_changelist",
    "admin:proposals_assignment_changelist",
    "admin:proposals_contactrecord_changelist",
    "admin:replies_reply_changelist",
    "admin:replies_coopinion_changelist",
    "admin:replies_feedback_changelist",
]


def test_changelists_run_a_constant_number_of_queries(
    client, session, committee, clerk_a, unit_a, unit_b
):
    assert set(CLERK_LISTS) <= set(changelists())

    def measure(*, warm: bool) -> dict[tuple[str, str], tuple[int, int]]:
        found = {}
        for user, names in ((committee, changelists()), (clerk_a, CLERK_LISTS)):
            client.force_login(user)
            for name in names:
                url = reverse(name)
                if warm:
                    client.get(url)  # the content-type and permission caches, once
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(url)
                assert response.status_code == 200, (user.username, name)
                rows = len(response.context["cl"].result_list)
                found[(user.username, name)] = (len(queries), rows)
        return found

    people = dict(session=session, unit=unit_a, co_unit=unit_b, committee=committee)
    grow(SMALL, **people)
    small = measure(warm=True)
    grow(LARGE - SMALL, **people)
    large = measure(warm=False)
    for key, (count, rows) in large.items():
        assert rows >= LARGE, (key, rows)
        assert count == small[key][0], (key, small[key][0], count)
        assert count <= MAX_QUERIES, (key, count)
    report = {f"{user}:{name.split(':')[1]}": n for (user, name), (n, _r) in large.items()}
    print("queries per changelist with 100 rows:", report)


# --- What issue 10's benchmark (bench/admin.py) found, kept from coming back ------------------


def _queries(fn) -> tuple[list[dict], object]:
    with CaptureQueriesContext(connection) as queries:
        result = fn()
    return list(queries.captured_queries), result


def test_the_dashboard_reads_each_section_in_one_query(
    session, committee, clerk_a, signer_a, unit_a, unit_b
):
    """Each list's lines and count come from one query (the count as a window): the
    committee's board is 6 sections and 3 counts; a clerk's 7 lists in 6 sections, the
    memberships, the calendar, the lead assignments and the counts by state; a signer's two
    more lists (待我签发) — whatever the numbers."""
    from tracker import dashboard

    people = dict(session=session, unit=unit_a, co_unit=unit_b, committee=committee)
    today = datetime.date(2024, 6, 10)  # the co-handling opinions grown are overdue by then
    grow(SMALL, **people)

    def counts() -> dict[str, int]:
        return {
            u.username: len(_queries(lambda u=u: dashboard.build(u, today=today))[0])
            for u in (committee, clerk_a, signer_a)
        }

    small = counts()
    grow(LARGE - SMALL, **people)
    large = counts()
    assert large == small
    assert large["committee"] <= 9, large
    assert large["clerk_a"] <= 11, large
    assert large["signer_a"] <= 13, large


def test_the_statistics_statements_do_not_grow_with_the_data(session, committee, unit_a, unit_b):
    """The feedback of the assignments in scope is read through a subquery, not a list of their
    ids (tens of thousands of parameters at a district's scale): the SQL is the same text at
    10 proposals as at 100. The facts query takes no subquery per row for the first due date
    nor for the latest reply (read apart, once): at a district's scale those made PostgreSQL
    compile the statement (JIT), which cost more than running it."""
    from tracker import statistics

    people = dict(session=session, unit=unit_a, co_unit=unit_b, committee=committee)

    def statements() -> list[str]:
        queries, _stats = _queries(lambda: statistics.compute(group_by="unit"))
        return [q["sql"] for q in queries]

    grow(SMALL, **people)
    small = statements()
    grow(LARGE - SMALL, **people)
    large = statements()
    assert len(large) == len(small) <= 4
    assert [len(sql) for sql in large] == [len(sql) for sql in small]
    facts = large[0]
    assert facts.count('"proposals_duedate"') <= 2, facts  # the join, and the current round's
    assert '"replies_reply"' not in facts, facts


def test_the_start_list_of_a_reply_reads_one_query_without_the_proposals_texts(
    rf, session, committee, clerk_a, unit_a, unit_b
):
    """起草答复 lists every replied assignment of the unit (hundreds): one query, which reads the
    numbers and titles it shows, not the proposals' texts."""
    from replies.models import Reply

    grow(LARGE, session=session, unit=unit_a, co_unit=unit_b, committee=committee)
    request = rf.get("/admin/replies/reply/")
    request.user = clerk_a
    queries, groups = _queries(lambda: admin.site._registry[Reply].start_choices(request))
    assert sum(len(choices) for _label, choices in groups) >= LARGE
    unit_queries = [q for q in queries if "proposals_membership" not in q["sql"]]
    assert len(unit_queries) == 1, [q["sql"] for q in queries]
    assert '"proposals_proposal"."reason"' not in unit_queries[0]["sql"]
    assert '"proposals_proposal"."number"' in unit_queries[0]["sql"]
