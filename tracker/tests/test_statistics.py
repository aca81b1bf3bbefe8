"""``tracker.statistics.compute`` against figures worked out by hand on a fixed data set.

The data set (session 十五届二次, today 2024-07-01; 交办 2024-03-01, reply due 2024-06-03):

====  =========  ==============================================================================
P1    经济建设   主办 U1: replied 05-20 (on time), a 见面 contact; two replies — the first (B,
                 sent) drew 不满意 from 张一, the re-handling one (round 2; A, published) 满意
                 from 张一;
                 会办 U2: opinion sent
P2    经济建设   主办 U1: replied 06-10 (late), a phone contact only; reply B sent; 李二 不满意
P3    城市建设   主办 U2: open, due 06-03 → overdue; a 见面 contact
P4    城市建设   分办 U1: replied 05-20, reply A published, 王三 基本满意; 分办 U3: pending, due
                 08-01 (not yet overdue)
P5    其他       filed, not assigned
P6    其他       主办 U3 withdrawn; 主办 U2 (交办 04-01), accepted, due 09-01; filed in March
P7    —          submitted, never filed
P8    经济建设   another session: 主办 U1, replied on time, reply C sent
====  =========  ==============================================================================
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals.models import Assignment, ContactRecord, Proposal
from proposals.tests import factories as f
from replies.models import Feedback, Reply
from tracker import statistics
from tracker.statistics import GroupBy
from tracker.tests import admin_data as d

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2024, 7, 1)
ECONOMY, URBAN, OTHER = (
    Proposal.Category.ECONOMY,
    Proposal.Category.URBAN,
    Proposal.Category.OTHER,
)


@pytest.fixture
def data(session):
    u1 = f.UnitFactory(name="甲单位", short_name="甲")
    u2 = f.UnitFactory(name="乙单位", short_name="乙")
    u3 = f.UnitFactory(name="丙单位", short_name="丙")
    zhang, li, wang = (f.ProposerFactory(name=n) for n in ("张一", "李二", "王三"))
    p1 = d.filed_proposal(session, category=ECONOMY, lead=zhang)
    p2 = d.filed_proposal(session, category=ECONOMY, lead=li)
    p3 = d.filed_proposal(session, category=URBAN)
    p4 = d.filed_proposal(session, category=URBAN, lead=wang)
    d.filed_proposal(session, category=OTHER, status=Proposal.Status.FILED)
    p6 = d.filed_proposal(session, category=OTHER, filed_on=datetime.date(2024, 3, 20))
    f.ProposalFactory(session=session, status=Proposal.Status.SUBMITTED)  # P7

    replied = Assignment.State.REPLIED
    a1 = d.assign(p1, u1, state=replied, done_on=datetime.date(2024, 5, 20))
    d.contact(a1, ContactRecord.Method.MEETING, datetime.date(2024, 3, 10))
    first = d.reply(
        a1, state=Reply.State.SENT, result=d.RESULT_B, sent_on=datetime.date(2024, 5, 20)
    )
    d.feedback(first, zhang, Feedback.Rating.NOT_SATISFIED, datetime.date(2024, 5, 25))
    # 不满意 reopened the assignment (round 2); the re-handling reply answers that round.
    Assignment.objects.filter(pk=a1.pk).update(round=2)
    a1.refresh_from_db()
    again = d.reply(
        a1,
        state=Reply.State.PUBLISHED,
        result=d.RESULT_A,
        sent_on=datetime.date(2024, 6, 15),
        kind=Reply.Kind.REHANDLING,
    )
    d.feedback(again, zhang, Feedback.Rating.SATISFIED, datetime.date(2024, 6, 20))
    d.assign(
        p1,
        u2,
        role=Assignment.Role.CO,
        state=Assignment.State.OPINION_SENT,
        done_on=datetime.date(2024, 4, 1),
    )

    a2 = d.assign(p2, u1, state=replied, done_on=datetime.date(2024, 6, 10))
    d.contact(a2, ContactRecord.Method.PHONE, datetime.date(2024, 3, 12))
    r2 = d.reply(a2, state=Reply.State.SENT, result=d.RESULT_B, sent_on=datetime.date(2024, 6, 10))
    d.feedback(r2, li, Feedback.Rating.NOT_SATISFIED)

    a3 = d.assign(p3, u2)
    d.contact(a3, ContactRecord.Method.MEETING, datetime.date(2024, 3, 15))

    separate = Assignment.Role.SEPARATE
    a4 = d.assign(p4, u1, role=separate, state=replied, done_on=datetime.date(2024, 5, 20))
    r4 = d.reply(a4, state=Reply.State.PUBLISHED, result=d.RESULT_A)
    d.feedback(r4, wang, Feedback.Rating.BASICALLY_SATISFIED)
    d.assign(
        p4,
        u3,
        role=separate,
        state=Assignment.State.PENDING,
        due_on=datetime.date(2024, 8, 1),
    )

    d.assign(p6, u3, state=Assignment.State.WITHDRAWN)
    d.assign(p6, u2, assigned_on=datetime.date(2024, 4, 1), due_on=datetime.date(2024, 9, 1))

    other = f.SessionFactory(term=15, meeting=3, name="十五届三次会议", year=2025)
    p8 = d.filed_proposal(other, category=ECONOMY)
    a8 = d.assign(p8, u1, state=replied, done_on=datetime.date(2024, 5, 1))
    d.reply(a8, state=Reply.State.SENT, result=d.RESULT_C)
    return {"session": session, "other": other, "u1": u1, "u2": u2, "u3": u3}


def figures(fig) -> dict:
    return {
        "filed": fig.filed,
        "assigned": fig.assigned,
        "replied": fig.replied,
        "on_time": fig.replied_on_time,
        "met": fig.met,
        "feedback": fig.feedback,
        "satisfied": fig.satisfied,
        "results": fig.results,
        "overdue": fig.overdue,
        "sent": fig.sent,
        "published": fig.published,
    }


def test_the_sessions_figures_count_proposals_as_worked_out_by_hand(data):
    stats = statistics.compute(session=data["session"], today=TODAY)
    assert stats.level == "proposal" and stats.rows == []
    assert figures(stats.total) == {
        "filed": 6,  # P1–P6; P7 was never filed
        "assigned": 5,  # P1, P2, P3, P4, P6 (P5 not assigned)
        "replied": 2,  # P1, P2; P4 still waits for U3
        "on_time": 1,  # P1; P2 was late
        "met": 2,  # P1 (U1), P3 (U2); P2 by phone only
        "feedback": 3,  # 张一's latest (满意), 李二 (不满意), 王三 (基本满意)
        "satisfied": 2,
        "results": {"A": 2, "B": 1, "C": 0, "D": 0},  # P1's latest reply A, P2 B, P4-U1 A
        "overdue": 1,  # P3
        "sent": 3,
        "published": 2,
    }
    # The first round: 张一 不满意 (P1), 李二 不满意, 王三 基本满意; P1 was re-handled.
    total = stats.total
    assert (total.feedback_first, total.satisfied_first, total.rehandled) == (3, 1, 1)
    assert total.satisfaction_rate_first == pytest.approx(1 / 3)
    assert (total.merged, total.unassigned) == (0, 1)  # P5 waits to be assigned
    assert (total.co_assigned, total.co_done, total.co_on_time) == (1, 1, 1)
    assert total.reply_rate == pytest.approx(2 / 5)
    assert total.on_time_rate == pytest.approx(1 / 5)
    assert total.meeting_rate == pytest.approx(2 / 5)
    assert total.satisfaction_rate == pytest.approx(2 / 3)
    assert total.public_rate == pytest.approx(2 / 3)
    assert total.result_shares == pytest.approx({"A": 2 / 3, "B": 1 / 3, "C": 0, "D": 0})


def test_per_unit_figures_count_each_units_lead_and_separate_assignments(data):
    stats = statistics.compute(session=data["session"], group_by=GroupBy.UNIT, today=TODAY)
    assert stats.level == "assignment"
    rows = {r.label: r for r in stats.rows}
    assert list(rows) == ["丙", "乙", "甲"]  # ordered by the units' full names (丙单位 …)
    assert figures(rows["甲"]) == {
        "filed": 3,
        "assigned": 3,
        "replied": 3,
        "on_time": 2,
        "met": 1,
        "feedback": 3,
        "satisfied": 2,
        "results": {"A": 2, "B": 1, "C": 0, "D": 0},
        "overdue": 0,
        "sent": 3,
        "published": 2,
    }
    u2 = rows["乙"]
    assert (u2.assigned, u2.replied, u2.met, u2.overdue) == (2, 0, 1, 1)
    assert (u2.co_assigned, u2.co_done) == (1, 1)
    u3 = rows["丙"]
    assert (u3.assigned, u3.replied, u3.overdue, u3.filed) == (1, 0, 0, 1)  # withdrawn P6 gone
    # The rows count assignments: their sum is given apart, the total is the ungrouped one.
    summed = stats.rows_total
    assert (summed.assigned, summed.replied, summed.replied_on_time, summed.met) == (6, 3, 2, 2)
    # P4 is handled separately by 甲 and 丙: one proposal filed, counted by each unit.
    assert (summed.overdue, summed.co_assigned, summed.filed) == (1, 1, 6)
    assert summed.reply_rate == pytest.approx(0.5)
    assert summed.label == "各单位之和（按交办计）"
    ungrouped = statistics.compute(session=data["session"], today=TODAY)
    assert stats.total_level == "proposal" and stats.total.label == "合计（按提案计）"
    assert stats.total.as_dict() == ungrouped.total.as_dict()


def test_one_units_figures_are_its_own_assignments(data):
    stats = statistics.compute(unit=data["u2"], today=TODAY)
    assert stats.level == "assignment"
    assert (stats.total.assigned, stats.total.overdue, stats.total.co_assigned) == (2, 1, 1)


def test_per_category_and_per_session_groupings(data):
    by_category = statistics.compute(
        session=data["session"], group_by=GroupBy.CATEGORY, today=TODAY
    )
    rows = {r.key: r for r in by_category.rows}
    assert [r.key for r in by_category.rows] == [ECONOMY, URBAN, OTHER]
    assert (rows[ECONOMY].filed, rows[ECONOMY].assigned, rows[ECONOMY].replied) == (2, 2, 2)
    assert (rows[ECONOMY].replied_on_time, rows[ECONOMY].met) == (1, 1)
    assert (rows[URBAN].assigned, rows[URBAN].replied, rows[URBAN].overdue) == (2, 0, 1)
    assert (rows[OTHER].filed, rows[OTHER].assigned) == (2, 1)
    assert rows[ECONOMY].label == "经济建设"

    by_session = statistics.compute(group_by=GroupBy.SESSION, today=TODAY)
    sessions = {r.key: r for r in by_session.rows}
    second = sessions[data["other"].pk]
    assert (second.filed, second.assigned, second.replied, second.replied_on_time) == (1, 1, 1, 1)
    assert second.results["C"] == 1
    assert by_session.total.filed == 7 and by_session.total.assigned == 6


def test_a_period_selects_assignments_by_their_date_and_filing_by_its_date(data):
    stats = statistics.compute(
        session=data["session"], date_from=datetime.date(2024, 3, 15), today=TODAY
    )
    assert (stats.total.filed, stats.total.assigned) == (1, 1)  # P6 only
    by_month = statistics.compute(session=data["session"], group_by=GroupBy.MONTH, today=TODAY)
    months = {r.key: r for r in by_month.rows}
    assert (months["2024-02"].filed, months["2024-02"].assigned) == (5, 0)
    assert (months["2024-03"].filed, months["2024-03"].assigned) == (1, 4)
    assert months["2024-04"].assigned == 1
    assert months["2024-03"].label == "2024年3月"


def test_the_figures_take_a_constant_number_of_queries(data, session):
    def count(**kwargs) -> int:
        with CaptureQueriesContext(connection) as queries:
            statistics.compute(session=session, today=TODAY, **kwargs)
        return len(queries)

    before = {g: count(group_by=g) for g in (GroupBy.TOTAL, GroupBy.UNIT)}
    for _ in range(5):
        p = d.filed_proposal(session)
        a = d.assign(p, f.UnitFactory())
        d.contact(a, ContactRecord.Method.MEETING, datetime.date(2024, 3, 20))
    after = {g: count(group_by=g) for g in (GroupBy.TOTAL, GroupBy.UNIT)}
    assert after == before
    assert max(after.values()) <= 4


def test_nothing_to_divide_gives_no_rate_and_the_result_serialises(db):
    stats = statistics.compute(today=TODAY)
    assert stats.total.reply_rate is None and statistics.percent(None) == "—"
    data = stats.as_dict()
    assert data["total"]["assigned"] == 0 and data["total"]["satisfaction_rate"] is None
