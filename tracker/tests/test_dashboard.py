"""The admin's index as a to-do list: what each person sees, and that every line leads somewhere."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals.models import Assignment, Proposal
from proposals.tests import factories as f
from proposals.workdays import WorkCalendar
from replies.models import CoOpinion, Feedback, Reply
from tracker import dashboard
from tracker.tests import admin_data as d

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2024, 7, 1)  # a Monday


@pytest.fixture
def world(session):
    a = d.staffed_unit("甲单位", "甲", "jia")
    b = d.staffed_unit("乙单位", "乙", "yi")
    cal = WorkCalendar()
    soon = cal.add_workdays(TODAY, 3)
    late = TODAY - datetime.timedelta(days=10)
    far = TODAY + datetime.timedelta(days=60)

    def item(unit, title, **kw):
        p = d.filed_proposal(session, title=title)
        return d.assign(p, unit, **kw)

    pending = item(a.unit, "甲待签收", state=Assignment.State.PENDING, due_on=far)
    overdue = item(a.unit, "甲已逾期", due_on=late)
    due_soon = item(a.unit, "甲即将到期", due_on=soon)
    draft = d.reply(item(a.unit, "甲草稿", due_on=far), state=Reply.State.DRAFT, title="甲的草稿")
    to_sign = d.reply(
        item(a.unit, "甲待签发", due_on=far), state=Reply.State.PENDING_SIGNATURE, title="甲待签"
    )
    sent = d.reply(
        item(a.unit, "甲已答复", state=Assignment.State.REPLIED, due_on=far, done_on=TODAY),
        state=Reply.State.SENT,
        result=d.RESULT_A,
        sent_on=TODAY,
    )
    d.feedback(sent, sent.proposal.lead_proposer, Feedback.Rating.NOT_SATISFIED, TODAY)
    # 甲 leads, 乙 co-handles and has not sent its opinion yet.
    waiting = item(a.unit, "甲等会办", due_on=far)
    d.assign(waiting.proposal, b.unit, role=Assignment.Role.CO, due_on=late)
    # 乙's own work, which 甲 must never see.
    item(b.unit, "乙已逾期", due_on=late)
    item(b.unit, "乙待签收", state=Assignment.State.PENDING, due_on=far)
    d.reply(item(b.unit, "乙待签发", due_on=far), state=Reply.State.PENDING_SIGNATURE)
    f.ProposalFactory(session=session, title="待立案的提案")  # submitted
    return locals()


def texts(section) -> list[str]:
    return [line.text for line in section.lines]


def sections(board) -> dict:
    return {s.key: s for s in board.sections}


def test_a_clerk_sees_the_units_to_do_and_nothing_of_another_unit(world):
    board = dashboard.build(world["a"].clerk, today=TODAY)
    s = sections(board)
    assert board.role == "unit" and board.unit_names == ["甲"]
    assert [t.split(" ", 1)[1] for t in texts(s["to_accept"])] == ["甲待签收"]
    assert [t.split(" ", 1)[1] for t in texts(s["overdue"])] == ["甲已逾期"]
    assert s["overdue"].lines[0].tone == "danger" and "逾期 10 天" in s["overdue"].lines[0].detail
    assert [t.split(" ", 1)[1] for t in texts(s["due_soon"])] == ["甲即将到期"]
    assert "to_sign" not in s  # a clerk signs nothing
    assert [line.text.endswith("甲的草稿") for line in s["drafts"].lines] == [True]
    assert s["feedback"].count == 1 and s["feedback"].lines[0].tone == "danger"
    opinions = s["opinions"].lines
    assert len(opinions) == 1 and "待 乙 送来会办意见" in opinions[0].detail
    everything = " ".join(line.text for sec in board.sections for line in sec.lines)
    assert "乙已逾期" not in everything and "乙待签收" not in everything
    counts = {c.label: c.count for c in board.counts}
    assert counts["待签收"] == 1 and counts["已答复"] == 1
    assert board.unit_overdue == []


def test_the_signer_sees_the_letters_awaiting_signature(world):
    board = dashboard.build(world["a"].signer, today=TODAY)
    to_sign = sections(board)["to_sign"]
    assert to_sign.count == 1 and to_sign.lines[0].text.endswith("甲待签")
    assert to_sign.lines[0].url == reverse("admin:replies_reply_change", args=[world["to_sign"].pk])


def test_the_co_handling_unit_sees_the_opinion_it_owes(world):
    board = dashboard.build(world["b"].clerk, today=TODAY)
    opinions = sections(board)["opinions"]
    assert [line.detail.startswith("本单位会办，待出具") for line in opinions.lines] == [True]
    assert opinions.lines[0].tone == "danger"


def test_the_committee_sees_filing_reassignment_and_overdue_per_unit(world, committee):
    world["pending"].state = Assignment.State.RETURN_REQUESTED
    world["pending"].return_reason = "不属于本单位职责"
    world["pending"].save()
    board = dashboard.build(committee, today=TODAY)
    s = sections(board)
    assert texts(s["to_file"]) == ["待立案的提案"]
    assert s["reassignment"].count == 1 and "不属于本单位职责" in s["reassignment"].lines[0].detail
    per_unit = {c.label: c.count for c in board.unit_overdue}
    assert per_unit == {"甲": 1, "乙": 2}  # 乙's own and its late co-handling opinion
    assert board.unit_overdue[0].url.endswith(f"?due=overdue&unit__id__exact={world['b'].unit.pk}")
    counts = {c.label: c.count for c in board.counts}
    assert counts["已提交"] == 1 and counts["已交办"] >= 8


def test_the_index_page_lists_the_to_do_and_every_line_opens(client, world):
    clerk = world["a"].clerk
    client.force_login(clerk)
    page = client.get(reverse("admin:index"))
    html = page.content.decode()
    assert page.status_code == 200 and "我的待办" in html
    assert "甲待签收" in html and "乙待签收" not in html
    board = dashboard.build(clerk)
    urls = {line.url for s in board.sections for line in s.lines}
    urls |= {c.url for c in board.counts}
    assert urls
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_the_overdue_list_link_filters_the_assignment_list_the_same_way(client, world):
    client.force_login(world["a"].clerk)
    board = dashboard.build(world["a"].clerk)
    overdue = sections(board)["overdue"]
    page = client.get(reverse("admin:proposals_assignment_changelist") + "?due=overdue")
    assert page.context["cl"].result_count == overdue.count


def test_the_index_takes_a_constant_number_of_queries(client, world, committee, session):
    def count(user) -> int:
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("admin:index")).status_code == 200
        return len(queries)

    before = (count(world["a"].clerk), count(world["a"].signer), count(committee))
    for i in range(6):
        p = d.filed_proposal(session, title=f"新增{i}")
        a = d.assign(p, world["a"].unit, state=Assignment.State.PENDING, due_on=TODAY)
        d.reply(a, state=Reply.State.PENDING_SIGNATURE)
        d.opinion(
            d.assign(p, world["b"].unit, role=Assignment.Role.CO), state=CoOpinion.State.DRAFT
        )
    f.ProposalFactory(session=session, status=Proposal.Status.SUBMITTED)
    after = (count(world["a"].clerk), count(world["a"].signer), count(committee))
    assert after == before
    assert max(after) <= 40


def test_someone_without_an_office_or_a_unit_gets_an_empty_dashboard(client, db):
    nobody = f.UserFactory(username="nobody")
    assert dashboard.build(nobody).role == "none"
    client.force_login(nobody)
    assert client.get(reverse("admin:index")).status_code == 200
