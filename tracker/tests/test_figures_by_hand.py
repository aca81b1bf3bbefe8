"""The figures of one session built by hand through the workflow, against numbers counted here
from the rows — at both levels — and the story's own numbers, so that neither can drift.

The session (十五届三次, assigned 2025-03-03: replies due 2025-06-03, opinions 2025-04-03;
today 2025-08-01):

====  ============  ============================================================================
P1    经济建设      主办 甲 replies 05-06 without 乙's opinion (override): 会办 乙 ends as
                    未提供会办意见; the proposer is 满意
P2    城市建设      主办 甲 (见面 03-10) replies 05-08; 会办 丙 delivers its opinion 03-20 (on
                    time); the proposer is 不满意 (round 1) → re-handled, round-2 reply 07-01,
                    基本满意: first round 0/1, final 1/1
P3    科教文卫      a key proposal: 主办 乙 (见面) replies 06-20, late; then 办结
P4    科教文卫      filed, then merged into P3
P5    社会民生      分办 丙 (never replies: overdue) and 丁 (replies 05-20)
P6    其他          filed, never assigned
P7    经济建设      assigned 06-16: 主办 丁 (due 09-16, running), 会办 甲 (due 07-16: overdue —
                    甲's own figure, not the proposal's)
P8    —             submitted, never filed
====  ============  ============================================================================
"""

from __future__ import annotations

import datetime
import io
import re
from collections import defaultdict

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from proposals import workflow as pwf
from proposals.models import (
    OPEN_ASSIGNMENT_STATES,
    Assignment,
    AssignmentState,
    ContactRecord,
    DueDate,
    Membership,
    Proposal,
    ProposalStatus,
    Session,
)
from proposals.tests import factories as f
from replies.models import Feedback, Reply
from replies.tests.factories import CoOpinionFactory, FeedbackFactory, ReplyFactory
from tracker import statistics
from tracker.statistics import GroupBy
from tracker.tests import admin_data as d
from tracker.tests import clock

pytestmark = pytest.mark.django_db

D = datetime.date
ASSIGNED_ON = D(2025, 3, 3)
TODAY = D(2025, 8, 1)
C = Proposal.Category
SATISFIED = {Feedback.Rating.SATISFIED, Feedback.Rating.BASICALLY_SATISFIED}
REPLYING = {Assignment.Role.LEAD, Assignment.Role.SEPARATE}


def _proposal(session, committee, category: str, **fields) -> Proposal:
    proposal = f.ProposalFactory(
        session=session, status=Proposal.Status.SUBMITTED, category=category, **fields
    )
    with clock.travel(D(2025, 2, 20)):
        pwf.file_proposal(proposal, actor=committee)
    return Proposal.objects.get(pk=proposal.pk)


def _clerk(assignment: Assignment):
    """The unit's clerk (``admin_data.staffed_unit`` made one per unit)."""
    return assignment.unit.memberships.get(role=Membership.Role.CLERK).user


def _assign(proposal, committee, units, on=ASSIGNED_ON) -> list[Assignment]:
    """交办 on ``on``, and each unit signs for its share (签收) the same day."""
    with clock.travel(on):
        made = pwf.assign_proposal(proposal, actor=committee, units=units, assigned_on=on)
        for a in made:
            pwf.accept_assignment(a, actor=_clerk(a))
    return [Assignment.objects.get(pk=a.pk) for a in made]


def _meet(assignment: Assignment, on: datetime.date) -> None:
    with clock.travel(on):
        pwf.log_contact(
            assignment,
            actor=_clerk(assignment),
            contacted_on=on,
            method=ContactRecord.Method.MEETING,
        )


@pytest.fixture
def story(committee):
    units = {
        short: d.staffed_unit(f"{short}区局", short, prefix).unit
        for short, prefix in (("甲", "jia"), ("乙", "yi"), ("丙", "bing"), ("丁", "ding"))
    }
    jia, yi, bing, ding = (units[k] for k in "甲乙丙丁")
    session = f.SessionFactory(term=15, meeting=3, name="十五届三次会议", year=2025)
    lead, co, separate = "lead", "co", "separate"

    p1 = _proposal(session, committee, C.ECONOMY)
    a1, co1 = _assign(p1, committee, [(jia, lead), (yi, co)])
    r1 = ReplyFactory(assignment=a1, sent=True, on=D(2025, 5, 6))
    FeedbackFactory(reply=r1, rating=Feedback.Rating.SATISFIED, on=D(2025, 5, 10))

    p2 = _proposal(session, committee, C.URBAN)
    a2, co2 = _assign(p2, committee, [(jia, lead), (bing, co)])
    _meet(a2, D(2025, 3, 10))
    CoOpinionFactory(assignment=co2, delivered=True, on=D(2025, 3, 20))
    r2 = ReplyFactory(assignment=a2, sent=True, on=D(2025, 5, 8))
    FeedbackFactory(reply=r2, rating=Feedback.Rating.NOT_SATISFIED, on=D(2025, 5, 12))
    a2.refresh_from_db()
    r2b = ReplyFactory(assignment=a2, sent=True, on=D(2025, 7, 1))
    FeedbackFactory(reply=r2b, rating=Feedback.Rating.BASICALLY_SATISFIED, on=D(2025, 7, 5))

    p3 = _proposal(session, committee, C.EDUCATION, is_key=True)
    (a3,) = _assign(p3, committee, [(yi, lead)])
    p4 = _proposal(session, committee, C.EDUCATION)
    with clock.travel(D(2025, 3, 5)):
        pwf.merge_proposal(p4, into=p3, actor=committee)
    _meet(a3, D(2025, 3, 12))
    ReplyFactory(assignment=a3, sent=True, on=D(2025, 6, 20))
    with clock.travel(D(2025, 7, 1)):
        pwf.close_proposal(p3, actor=committee)

    p5 = _proposal(session, committee, C.SOCIETY)
    _a5_bing, a5_ding = _assign(p5, committee, [(bing, separate), (ding, separate)])
    ReplyFactory(assignment=a5_ding, sent=True, on=D(2025, 5, 20))

    _proposal(session, committee, C.OTHER)  # P6
    p7 = _proposal(session, committee, C.ECONOMY)
    _assign(p7, committee, [(ding, lead), (jia, co)], on=D(2025, 6, 16))
    f.ProposalFactory(session=session, status=Proposal.Status.SUBMITTED)  # P8
    return {"session": session, "units": units, "p2": p2, "p3": p3, "co1": co1}


# --- Counting by hand, from the rows ---------------------------------------------------------


def _assignment_rows(session) -> list[dict]:
    """Every active assignment of the session with what the figures read, row by row."""
    rows = []
    for a in Assignment.objects.active().filter(proposal__session=session):
        dues = {(x.clock, x.round): x for x in DueDate.objects.filter(assignment=a)}
        first = dues.get((DueDate.Clock.REPLY, 1)) or dues.get((DueDate.Clock.CO_OPINION, 1))
        current = [
            x
            for (clock_, round_), x in dues.items()
            if round_ == a.round
            and clock_
            in (DueDate.Clock.REPLY, DueDate.Clock.REHANDLING_REPLY, DueDate.Clock.CO_OPINION)
        ]
        sent = list(
            Reply.objects.filter(assignment=a, state__in=["sent", "published"]).order_by("sent_at")
        )
        answers: dict[int, list[Feedback]] = defaultdict(list)
        for fb in Feedback.objects.filter(reply__assignment=a).order_by("received_at"):
            answers[fb.proposer_id].append(fb)
        rows.append(
            {
                "a": a,
                "replying": a.role in REPLYING,
                "replied": first.completed_on is not None,
                "on_time": first.completed_on is not None and first.completed_on <= first.due_on,
                "opinion_on_time": a.role == "co"
                and first.completed_on is not None
                and first.completed_on <= first.due_on,
                "overdue": a.state in OPEN_ASSIGNMENT_STATES
                and any(x.completed_on is None and x.due_on < TODAY for x in current),
                "met": a.contacts.filter(method=ContactRecord.Method.MEETING).exists(),
                "result": sent[-1].result_class if sent else None,
                "first": [
                    [x for x in fbs if x.reply.round == 1][-1].rating
                    for fbs in answers.values()
                    if any(x.reply.round == 1 for x in fbs)
                ],
                "final": [fbs[-1].rating for fbs in answers.values()],
            }
        )
    return rows


def _tally(rows: list[dict], *, per_proposal: bool) -> dict:
    """The figures of ``rows``: by proposal (all its assignments together) or one each."""
    items: dict = defaultdict(list)
    for r in rows:
        items[r["a"].proposal_id if per_proposal else r["a"].pk].append(r)
    n: dict = defaultdict(int)
    n["results"] = dict.fromkeys("ABCD", 0)
    for group in items.values():
        replying = [r for r in group if r["replying"]]
        cos = [r for r in group if not r["replying"]]
        if replying:
            n["assigned"] += 1
            n["replied"] += all(r["replied"] for r in replying)
            n["replied_on_time"] += all(r["on_time"] for r in replying)
            n["met"] += any(r["met"] for r in group)
            n["rehandled"] += any(r["a"].round > 1 for r in replying)
        n["overdue"] += any(r["overdue"] for r in (replying or cos))
        for r in replying:
            if r["result"]:
                n["results"][r["result"]] += 1
                n["sent"] += 1
            n["feedback_first"] += len(r["first"])
            n["satisfied_first"] += sum(x in SATISFIED for x in r["first"])
            n["feedback"] += len(r["final"])
            n["satisfied"] += sum(x in SATISFIED for x in r["final"])
        for r in cos:
            n["co_assigned"] += 1
            n["co_done"] += r["a"].state == AssignmentState.OPINION_SENT
            n["co_on_time"] += r["opinion_on_time"]
            n["co_missing"] += r["a"].state == AssignmentState.CLOSED_WITHOUT_OPINION
    if not per_proposal:
        n["filed"] = len({r["a"].proposal_id for r in rows if r["replying"]})
    return dict(n)


def _figures(fig, names) -> dict:
    return {name: getattr(fig, name) for name in names}


# --- The tests -------------------------------------------------------------------------------


def test_the_sessions_figures_per_proposal_are_the_rows_counted_by_hand(story):
    session = story["session"]
    stats = statistics.compute(session=session, today=TODAY)
    by_hand = _tally(_assignment_rows(session), per_proposal=True)
    proposals = Proposal.objects.filter(session=session)
    by_hand["filed"] = proposals.filter(serial__isnull=False).count()
    by_hand["merged"] = proposals.filter(status=ProposalStatus.MERGED).count()
    by_hand["unassigned"] = proposals.filter(status=ProposalStatus.FILED).count()
    # The story's own numbers, which the rows must tell too.
    story_numbers = {
        "filed": 7,  # P1–P7 (P4 merged, P6 unassigned); P8 never filed
        "merged": 1,
        "unassigned": 1,
        "assigned": 5,  # P1, P2, P3, P5, P7
        "replied": 3,  # P1, P2, P3; P5 waits for 丙, P7 for 丁
        "replied_on_time": 2,  # P3 was late
        "met": 2,  # P2, P3
        "feedback_first": 2,  # P1 满意, P2 不满意
        "satisfied_first": 1,
        "feedback": 2,  # P1 满意, P2 基本满意 (its round-2 answer replaces the first)
        "satisfied": 2,
        "rehandled": 1,  # P2
        "overdue": 1,  # P5 (丙); P7's late opinion is 甲's, not the proposal's
        "sent": 4,
        "results": {"A": 4, "B": 0, "C": 0, "D": 0},
        "co_assigned": 3,  # P1 乙, P2 丙, P7 甲
        "co_done": 1,  # 丙
        "co_on_time": 1,
        "co_missing": 1,  # 乙, closed when 甲 replied without its opinion
    }
    assert {k: by_hand.get(k, 0) for k in story_numbers} == story_numbers
    assert _figures(stats.total, story_numbers) == story_numbers
    total = stats.total
    assert total.filed == total.assigned + total.merged + total.unassigned
    assert total.satisfaction_rate_first == pytest.approx(1 / 2)
    assert total.satisfaction_rate_final == total.satisfaction_rate == pytest.approx(1)
    assert total.co_on_time_rate == pytest.approx(1 / 3)
    assert total.on_time_rate == pytest.approx(2 / 5)


def test_a_rehandled_proposal_reads_first_round_0_of_1_and_final_1_of_1(story):
    p2 = story["p2"]
    answers = Feedback.objects.filter(proposal=p2).order_by("received_at")
    # Every answer of every round is kept, dated, and its round is the reply's.
    assert [(fb.round, fb.rating, fb.received_at.date()) for fb in answers] == [
        (1, "not_satisfied", D(2025, 5, 12)),
        (2, "basically_satisfied", D(2025, 7, 5)),
    ]
    total = statistics.compute(
        session=story["session"], category=C.URBAN, today=TODAY
    ).total  # P2 alone
    assert (total.satisfied_first, total.feedback_first) == (0, 1)
    assert (total.satisfied, total.feedback) == (1, 1)
    assert total.rehandled == 1


def test_per_unit_rows_are_each_units_assignments_counted_by_hand(story):
    session, units = story["session"], story["units"]
    stats = statistics.compute(session=session, group_by=GroupBy.UNIT, today=TODAY)
    assert stats.level == "assignment" and stats.total_level == "proposal"
    rows = _assignment_rows(session)
    names = [n for n in statistics.COUNT_FIELDS if n not in ("merged", "unassigned")]
    names.append("results")
    by_unit = {r.key: r for r in stats.rows}
    assert set(by_unit) == {u.pk for u in units.values()}
    for short, unit in units.items():
        by_hand = _tally([r for r in rows if r["a"].unit_id == unit.pk], per_proposal=False)
        assert _figures(by_unit[unit.pk], names) == {
            k: by_hand.get(k, 0 if k != "results" else dict.fromkeys("ABCD", 0)) for k in names
        }, short
    jia, yi, bing = (by_unit[units[k].pk] for k in "甲乙丙")
    # 甲: two lead replies on time, one re-handled (first 1/2, final 2/2), P7's opinion overdue.
    assert (jia.assigned, jia.replied_on_time, jia.rehandled, jia.overdue) == (2, 2, 1, 1)
    assert (jia.satisfied_first, jia.feedback_first, jia.satisfied, jia.feedback) == (1, 2, 2, 2)
    # 乙's missing opinion counts against 乙 (未提供会办意见), never as P1 overdue.
    assert (yi.co_assigned, yi.co_on_time, yi.co_missing, yi.overdue) == (1, 0, 1, 0)
    assert yi.co_on_time_rate == 0
    # 丙: its opinion on time, its separate share overdue.
    assert (bing.co_on_time_rate, bing.overdue, bing.assigned, bing.replied) == (1, 1, 1, 0)


def test_the_grouped_tables_total_is_the_ungrouped_figures(story):
    session = story["session"]
    ungrouped = statistics.compute(session=session, today=TODAY).total.as_dict()
    for group_by in (GroupBy.UNIT, GroupBy.SESSION, GroupBy.CATEGORY, GroupBy.MONTH):
        stats = statistics.compute(session=session, group_by=group_by, today=TODAY)
        assert stats.total.as_dict() == ungrouped, group_by
        summed = statistics.Figures(level=stats.level)
        for row in stats.rows:
            summed.add(row)
        if group_by == GroupBy.UNIT:
            # Another level: the sum is given as its own row, labelled so.
            assert stats.rows_total.as_dict() == {
                **summed.as_dict(),
                "label": "各单位之和（按交办计）",
            }
            assert stats.rows_total.assigned == 6 > stats.total.assigned == 5  # P5 twice
        else:
            # Per proposal, the rows add up to the total.
            for name in statistics.COUNT_FIELDS:
                assert getattr(summed, name) == ungrouped[name], (group_by, name)
            assert summed.results == ungrouped["results"]
            assert stats.rows_total is None


def test_the_page_the_workbook_and_the_api_show_the_same_totals(story, client, committee):
    session = story["session"]
    client.force_login(committee)
    with clock.travel(TODAY):
        page = client.get("/admin/tools/statistics/", {"session": session.pk, "group_by": "unit"})
        book = client.get(
            "/admin/tools/statistics/",
            {"session": session.pk, "group_by": "unit", "format": "xlsx"},
        )
        api = client.get("/api/v1/statistics/", {"session": session.pk, "group_by": "unit"})
        flat = client.get("/admin/tools/statistics/", {"session": session.pk, "group_by": ""})
    html = page.content.decode()
    # The grouped page's 合计 row is the ungrouped page's, cell for cell.
    total_row = re.compile(r"<tr><td>合计（按提案计）</td>(.*?)</tr>")
    assert total_row.findall(html) == total_row.findall(flat.content.decode()) != []
    assert "合计（按提案计）" in html and "各单位之和（按交办计）" in html and "指标说明" in html
    assert "立案 7 件：已交办 5 件，并案 1 件，待交办 1 件。" in html
    ws = load_workbook(io.BytesIO(book.content))["办理统计"]
    table = [list(r) for r in ws.iter_rows(min_row=3, values_only=True)]
    header = table[0]
    by_label = {r[0]: dict(zip(header, r, strict=False)) for r in table[1:]}
    total = by_label["合计（按提案计）"]
    assert (total["立案数"], total["交办件数"], total["逾期"]) == (7, 5, 1)
    assert (total["满意率（首轮）"], total["满意率（最终）"]) == (0.5, 1)
    data = api.json()
    assert data["total"]["filed"] == 7 and data["rows_total"]["assigned"] == 6
    assert data["total"]["satisfaction_rate_first"] == 0.5
    assert {d["label"] for d in data["definitions"]} >= {"会办意见按期率", "满意率（首轮）"}


def test_on_the_demo_data_overdue_counts_no_replied_or_closed_proposal():
    from tracker.demo import DEMO_TODAY

    call_command("load_demo", stdout=io.StringIO())
    late: dict[int, set[int]] = defaultdict(set)
    for a in Assignment.objects.active().filter(
        role__in=REPLYING, state__in=OPEN_ASSIGNMENT_STATES
    ):
        running = DueDate.objects.filter(
            assignment=a,
            round=a.round,
            completed_on__isnull=True,
            clock__in=[DueDate.Clock.REPLY, DueDate.Clock.REHANDLING_REPLY],
            due_on__lt=DEMO_TODAY,
        )
        if running.exists():
            late[a.proposal.session_id].add(a.proposal_id)
    statuses = set(
        Proposal.objects.filter(pk__in=set().union(*late.values())).values_list("status", flat=True)
    )
    assert statuses and not statuses & {ProposalStatus.REPLIED, ProposalStatus.CLOSED}
    for session in Session.objects.all():
        total = statistics.compute(session=session, today=DEMO_TODAY).total
        assert total.overdue == len(late.get(session.pk, ())), str(session)

    # The reminder scan of the next working day (the digests): a co-handling unit is chased for
    # its opinion (or its 签收) only — never for the lead's first contact or reply — and nothing
    # of a replied or closed proposal is chased but the publication of its replies.
    from tracker.reminders import plan_reminders

    plan = plan_reminders(today=datetime.date(2026, 11, 23))
    assert plan.is_workday and plan.items
    co = set(Assignment.objects.filter(role=Assignment.Role.CO).values_list("pk", flat=True))
    done = set(
        Assignment.objects.filter(
            proposal__status__in=[ProposalStatus.REPLIED, ProposalStatus.CLOSED]
        ).values_list("pk", flat=True)
    )
    co_clocks = {"co_opinion", "accept", "reassignment"}
    assert [i for i in plan.items if i.assignment_id in co and i.clock not in co_clocks] == []
    assert [i for i in plan.items if i.assignment_id in done and i.clock != "publication"] == []
