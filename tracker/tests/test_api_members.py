"""The member API (me/…): own proposals, online submission, feedback — and nobody else's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from proposals.models import AssignmentState, Proposal, ProposalStatus, Proposer
from proposals.tests import factories as f
from replies.models import Feedback
from tracker.tests import api_support as s

pytestmark = pytest.mark.django_db
MINE = "/api/v1/me/proposals/"


@pytest.fixture(autouse=True)
def _api(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}


@pytest.fixture
def h(committee):
    return s.handling(committee)


@pytest.fixture
def people(db):
    return {
        "p1": s.member("p1", "张文浩"),
        "p2": s.member("p2", "钱建峰"),
        "p3": s.member("p3", "施美芳"),
    }


@pytest.fixture
def done(h, session, people):
    """P1's proposal, co-signed by P3, replied and published."""
    return s.handled(
        h, session=session, lead=people["p1"].proposer, coproposers=(people["p3"].proposer,)
    )


@pytest.fixture
def others(h, session, people):
    """P2's own proposal, replied and published."""
    return s.handled(h, session=session, lead=people["p2"].proposer, title="关于社区养老的建议")


def post(client: Client, url: str, data: dict):
    return client.post(url, data, content_type="application/json")


def test_a_member_lists_what_they_lead_cosign_or_convene_and_nothing_else(
    done, others, people, session
):
    group = f.ProposerFactory(kind=Proposer.Kind.SECTOR_GROUP, name="经济界别组")
    group.conveners.add(people["p3"].proposer)
    convened = f.ProposalFactory(session=session, lead_proposer=group, title="关于集体提案的建议")
    response = s.token_client(people["p3"]).get(MINE)
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert set(rows) == {done.proposal.pk, convened.pk}
    assert rows[done.proposal.pk]["my_role"] == "co"
    assert rows[convened.pk]["my_role"] == "convener"
    assert [u["role"] for u in rows[done.proposal.pk]["units"]] == ["lead", "co"]
    assert response["Cache-Control"] == "private, no-store"
    mine = s.token_client(people["p1"]).get(MINE).json()["results"]
    assert [(row["id"], row["my_role"]) for row in mine] == [(done.proposal.pk, "lead")]


def test_a_proposal_page_shows_status_units_due_dates_timeline_and_sent_replies(done, people):
    data = s.token_client(people["p1"]).get(f"{MINE}{done.proposal.pk}/").json()
    assert data["status"] == "replied"
    assert data["status_label"] == "已答复"
    assert [u["unit"]["name"] for u in data["units"]] == [
        "长宁区发展和改革委员会",
        "长宁区商务委员会",
    ]
    assert [d["label"] for d in data["due_dates"]] == ["沟通见面期限", "答复期限"]
    labels = [step["label"] for step in data["timeline"]]
    for label in ("退回修改", "重新提交", "立案", "交办", "签收", "沟通", "答复送达", "答复公开"):
        assert label in labels
    assert all(step["at"].endswith("+08:00") for step in data["timeline"])
    (reply,) = data["replies"]
    assert reply["id"] == done.reply.pk
    assert reply["can_give_feedback"] is True
    assert reply["my_feedback"] is None
    assert reply["feedback_url"].endswith(f"/api/v1/me/replies/{done.reply.pk}/feedback/")
    assert [(p["name"], p["is_lead"]) for p in data["proposers"]] == [
        ("张文浩", True),
        ("施美芳", False),
    ]


def test_another_member_gets_404_for_the_proposal_and_its_reply_s_feedback(done, others, people):
    p2 = s.token_client(people["p2"])
    response = p2.get(f"{MINE}{done.proposal.pk}/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "未找到。", "fields": {}}
    response = post(p2, f"/api/v1/me/replies/{done.reply.pk}/feedback/", {"rating": "satisfied"})
    assert response.status_code == 404
    assert not Feedback.objects.exists()
    # P2's own proposal and reply answer as usual.
    assert p2.get(f"{MINE}{others.proposal.pk}/").status_code == 200


def test_staff_without_a_proposer_see_no_proposals(done, h):
    client = s.token_client(h.committee)
    assert client.get(MINE).json()["results"] == []
    assert client.get(f"{MINE}{done.proposal.pk}/").status_code == 404


def test_without_credentials_the_member_api_answers_401(done):
    response = Client().get(MINE)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"
    bad = Client(HTTP_AUTHORIZATION="Token nonsense").get(MINE)
    assert bad.status_code == 401
    assert bad.json()["code"] == "authentication_failed"


def test_a_session_works_and_a_write_without_its_csrf_token_is_refused(people, session):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["p1"])
    assert client.get(MINE).status_code == 200
    response = post(client, MINE, {"session": session.pk, "title": "关于加强垃圾分类的建议"})
    assert response.status_code == 403
    assert not Proposal.objects.exists()


def test_submitting_online_files_a_proposal_led_by_the_member(people, session):
    response = post(
        s.token_client(people["p1"]),
        MINE,
        {
            "session": session.pk,
            "title": "关于加强垃圾分类的建议",
            "category": "ecology",
            "analysis": "情况分析",
            "suggestions": "具体建议",
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "submitted"
    assert response["Location"] == data["url"]
    proposal = Proposal.objects.get(pk=data["id"])
    assert proposal.lead_proposer == people["p1"].proposer
    assert (proposal.category, proposal.analysis) == ("ecology", "情况分析")
    assert [step["label"] for step in data["timeline"]][-1] == "提交"


def test_with_coproposers_it_stays_a_draft_until_they_confirm(people, session):
    response = post(
        s.token_client(people["p1"]),
        MINE,
        {
            "session": session.pk,
            "title": "关于加强垃圾分类的建议",
            "coproposers": [people["p3"].proposer.pk, people["p2"].proposer.pk],
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "draft"
    assert [(p["name"], p["confirmed"]) for p in data["proposers"]] == [
        ("张文浩", True),
        ("施美芳", False),
        ("钱建峰", False),
    ]


def test_extra_fields_in_a_submission_are_ignored(people, session, h):
    other_session = f.SessionFactory(term=15, meeting=9, name="十五届九次会议")
    response = post(
        s.token_client(people["p1"]),
        MINE,
        {
            "session": session.pk,
            "title": "关于加强垃圾分类的建议",
            "status": "filed",
            "number": "第999号",
            "serial": 999,
            "文号": "长发改〔2024〕1号",
            "unit": h.unit.pk,
            "units": [h.unit.pk],
            "version": 7,
            "proposer": people["p2"].proposer.pk,
            "lead_proposer": people["p2"].proposer.pk,
            "is_key": True,
            "review_note": "x",
            "id": 12345,
            "session_id": other_session.pk,
        },
    )
    assert response.status_code == 201, response.content
    proposal = Proposal.objects.get(pk=response.json()["id"])
    assert proposal.pk != 12345
    assert proposal.status == ProposalStatus.SUBMITTED
    assert (proposal.number, proposal.serial, proposal.is_key) == ("", None, False)
    assert proposal.lead_proposer == people["p1"].proposer
    assert proposal.session == session
    assert proposal.review_note == ""
    assert not proposal.assignments.exists()


@pytest.mark.parametrize(
    ("data", "field", "status"),
    [
        ({"session": "missing", "title": "关于X的建议"}, "session", 400),
        ({"session": None, "title": "关于X的建议"}, "session", 400),
        ({"session": 0, "title": "关于X的建议"}, "session", 400),
        ({"session": 987654, "title": "关于X的建议"}, "session", 400),
        ({"session": "S", "title": "关于X的建议"}, "session", 400),
        ({"title": ""}, "title", 400),
        ({"title": "   "}, "title", 400),
        ({"title": "关" * 201}, "title", 400),
        ({"title": "关于X的建议", "category": "sports"}, "category", 400),
        ({"title": "关于X的建议", "coproposers": "p3"}, "coproposers", 400),
        ({"title": "关于X的建议", "coproposers": ["self"]}, "coproposers", 400),
    ],
)
def test_an_invalid_submission_is_a_400_and_writes_nothing(people, session, data, field, status):
    data = {"session": session.pk, **data}
    if data["session"] == "missing":
        del data["session"]
    if data.get("coproposers") == ["self"]:
        data["coproposers"] = [people["p1"].proposer.pk]
    response = post(s.token_client(people["p1"]), MINE, data)
    assert response.status_code == status, response.content
    body = response.json()
    assert field in body["fields"], body
    assert body["message"]
    assert not Proposal.objects.exists()


def test_a_user_who_is_not_a_proposer_cannot_submit(h, session):
    response = post(s.token_client(h.clerk), MINE, {"session": session.pk, "title": "关于X的建议"})
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
    assert not Proposal.objects.exists()


def test_feedback_is_recorded_for_the_member_once(done, people):
    url = f"/api/v1/me/replies/{done.reply.pk}/feedback/"
    client = s.token_client(people["p1"])
    response = post(
        client,
        url,
        {
            "rating": "satisfied",
            "on_work": "basically_satisfied",
            "comment": "办理认真",
            # ignored: the member answers for themselves, online, on this reply
            "proposer": people["p3"].proposer.pk,
            "channel": "paper",
            "reply": 999,
            "recorded_by": 1,
        },
    )
    assert response.status_code == 201, response.content
    feedback = Feedback.objects.get()
    assert feedback.proposer == people["p1"].proposer
    assert (feedback.channel, feedback.reply_id) == ("online", done.reply.pk)
    assert response.json()["received_at"].endswith("+08:00")
    again = post(client, url, {"rating": "not_satisfied"})
    assert again.status_code == 409
    assert again.json()["code"] == "wrong_state"
    assert "只能反馈一次" in again.json()["message"]
    page = client.get(f"{MINE}{done.proposal.pk}/").json()
    assert page["replies"][0]["my_feedback"]["rating"] == "satisfied"
    assert page["replies"][0]["can_give_feedback"] is False


def test_not_satisfied_feedback_reopens_the_handling(done, people):
    response = post(
        s.token_client(people["p3"]),
        f"/api/v1/me/replies/{done.reply.pk}/feedback/",
        {"rating": "not_satisfied", "comment": "未解决"},
    )
    assert response.status_code == 201
    done.lead.refresh_from_db()
    assert (done.lead.state, done.lead.round) == (AssignmentState.ACCEPTED, 2)


@pytest.mark.parametrize(
    "data", [{}, {"rating": "great"}, {"rating": "satisfied", "on_result": "meh"}, []]
)
def test_invalid_feedback_is_a_400(done, people, data):
    response = post(
        s.token_client(people["p1"]), f"/api/v1/me/replies/{done.reply.pk}/feedback/", data
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Feedback.objects.exists()


def test_feedback_on_an_unsent_reply_is_404(h, session, people):
    done = s.handled(h, session=session, lead=people["p1"].proposer)
    draft = s.draft_reply_with_canary(h, done.lead)
    response = post(
        s.token_client(people["p1"]),
        f"/api/v1/me/replies/{draft.pk}/feedback/",
        {"rating": "satisfied"},
    )
    assert response.status_code == 404


def test_the_member_list_takes_the_same_number_of_queries_for_10_and_100(people, session, h):
    p1 = people["p1"]
    units = [h.unit, h.co_unit]
    s.bulk_published(
        10, session=session, units=units, lead=p1.proposer, coproposers=(people["p3"].proposer,)
    )
    client = s.token_client(p1)

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(MINE, {"page_size": 100})
        return len(response.json()["results"]), len(ctx.captured_queries)

    ten = count()
    s.bulk_published(
        90,
        session=session,
        units=units,
        lead=p1.proposer,
        coproposers=(people["p3"].proposer,),
        start_serial=3000,
    )
    hundred = count()
    assert (ten[0], hundred[0]) == (10, 100)
    assert ten[1] == hundred[1]


def test_the_member_list_of_names_has_no_contacts(people, h):
    client = s.token_client(people["p1"])
    data = client.get("/api/v1/me/proposers/", {"q": "钱"}).json()
    assert data["results"] == [{"id": people["p2"].proposer.pk, "name": "钱建峰", "sector": ""}]
    assert s.token_client(h.clerk).get("/api/v1/me/proposers/").json()["results"] == []
