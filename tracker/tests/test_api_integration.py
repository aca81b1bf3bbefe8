"""The integration API: the committee's systems import filed proposals and read everything,
with a token of an account in the 接口对接 group — and nobody else."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from proposals.models import CoProposer, Proposal, ProposalStatus, Proposer, Transition
from proposals.tests import factories as f
from proposals.workflow import NotAllowed
from tracker.api.integration import INTEGRATION_GROUP
from tracker.importing import import_filed_proposals
from tracker.tests import api_support as s

pytestmark = pytest.mark.django_db
IMPORT = "/api/v1/integration/proposals/import/"


@pytest.fixture(autouse=True)
def _api(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}


@pytest.fixture
def integrator(db):
    user = f.CommitteeFactory(username="integration", full_name="对接账号")
    user.groups.add(Group.objects.get_or_create(name=INTEGRATION_GROUP)[0])
    return user


@pytest.fixture
def members(db):
    return {
        name: f.ProposerFactory(name=name)
        for name in ("张晓钟", "林静", "瞿子涵", "沈汕", "施彧", "陈铸")
    } | {"民建界别组": f.ProposerFactory(name="民建界别组", kind=Proposer.Kind.SECTOR_GROUP)}


def rows(n: int = 3) -> list[dict]:
    return [
        {
            "title": f"关于第{i}项工作的建议",
            "lead_proposer": "张晓钟" if i % 2 else "民建界别组",
            "coproposers": ["林静", "瞿子涵"] if i % 2 else [],
            "category": "经济建设" if i % 2 else "urban",
            "analysis": "情况分析",
            "suggestions": "具体建议",
        }
        for i in range(1, n + 1)
    ]


def post(client, data):
    return client.post(IMPORT, data, content_type="application/json")


def test_a_session_s_filed_proposals_are_imported_and_numbered_in_order(
    integrator, members, session
):
    session.last_serial = 60
    session.save()
    data = rows(3)
    data[0]["number"] = "第061号"
    response = post(s.token_client(integrator), {"session": session.pk, "rows": data})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] == 3
    assert [p["number"] for p in body["proposals"]] == ["第061号", "第062号", "第063号"]
    first = Proposal.objects.get(number="第061号")
    assert first.status == ProposalStatus.FILED
    assert first.category == "economy"
    assert first.lead_proposer == members["张晓钟"]
    assert [c.proposer.name for c in first.coproposer_links.all()] == ["林静", "瞿子涵"]
    assert all(c.confirmed_at for c in CoProposer.objects.all())
    assert list(
        Transition.objects.filter(proposal=first).values_list("verb", "actor__username")
    ) == [("enter", "integration"), ("submit", "integration"), ("file", "integration")]


def test_one_bad_row_imports_nothing_and_every_error_names_its_row(integrator, members, session):
    data = rows(5)
    data[1]["lead_proposer"] = "不存在的人"
    data[3]["title"] = ""
    data[3]["coproposers"] = ["林静", "林静", "张晓钟"]
    data[4]["category"] = "体育"
    data[4]["number"] = "第999号"
    response = post(s.token_client(integrator), {"session": session.pk, "rows": data})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "import_invalid"
    assert body["message"] == "导入未执行：3 行有误，请修改后重新导入。"
    assert set(body["fields"]) == {
        "rows.2.lead_proposer",
        "rows.4.title",
        "rows.4.coproposers",
        "rows.5.category",
        "rows.5.number",
    }
    assert "不存在的人" in body["fields"]["rows.2.lead_proposer"][0]
    assert not Proposal.objects.exists()
    session.refresh_from_db()
    assert session.last_serial == 0


def test_importing_the_same_list_twice_is_refused(integrator, members, session):
    client = s.token_client(integrator)
    assert post(client, {"session": session.pk, "rows": rows(2)}).status_code == 201
    again = post(client, {"session": session.pk, "rows": rows(2)})
    assert again.status_code == 400
    assert "rows.1.title" in again.json()["fields"]
    assert Proposal.objects.count() == 2


def test_the_import_function_is_all_or_nothing_for_the_admin_too(integrator, members, session):
    result = import_filed_proposals(
        [{"title": "关于A的建议", "lead_proposer": "沈汕", "coproposers": "施彧、陈铸"}],
        actor=integrator,
        session=session,
    )
    assert result.ok
    calls = []
    import_filed_proposals(
        [
            {"title": "关于C的建议", "lead_proposer": "沈汕"},
            {"title": "关于D的建议", "lead_proposer": "施彧"},
        ],
        actor=integrator,
        session=session,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 2), (2, 2)]
    assert [c.proposer.name for c in result.proposals[0].coproposer_links.all()] == ["施彧", "陈铸"]
    result = import_filed_proposals(
        [{"title": "关于B的建议", "lead_proposer": "沈汕"}, {"title": "", "lead_proposer": ""}],
        actor=integrator,
        session=session,
        first_row=2,
    )
    assert not result.ok
    assert {(e.row, e.field) for e in result.errors} == {(3, "title"), (3, "lead_proposer")}
    assert Proposal.objects.count() == 3
    with pytest.raises(NotAllowed):
        import_filed_proposals(rows(1), actor=f.UserFactory(), session=session)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"session": 1},
        {"session": "x", "rows": []},
        {"rows": [{"title": "关于A的建议"}]},
        {"session": 1, "rows": "x"},
    ],
)
def test_a_malformed_import_is_a_400(integrator, members, body):
    response = post(s.token_client(integrator), body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_an_unknown_session_is_a_400(integrator, members):
    response = post(s.token_client(integrator), {"session": 9999, "rows": rows(1)})
    assert response.status_code == 400
    assert "session" in response.json()["fields"]


def test_only_a_token_of_the_integration_group_s_committee_account_is_accepted(
    integrator, members, session, committee, clerk_a
):
    data = {"session": session.pk, "rows": rows(1)}
    assert post(Client(), data).status_code == 401
    # The same account signed in with a session: not enough for bulk work.
    browser = Client()
    browser.force_login(integrator)
    assert post(browser, data).status_code == 401
    # A committee token without the scope, a clerk in the group: refused.
    assert post(s.token_client(committee), data).status_code == 403
    clerk_a.groups.add(Group.objects.get(name=INTEGRATION_GROUP))
    response = post(s.token_client(clerk_a), data)
    assert response.status_code == 403
    assert "接口对接" in response.json()["message"]
    for url in ("proposals/", "replies/", "feedback/"):
        assert s.token_client(committee).get(f"/api/v1/integration/{url}").status_code == 403
    assert not Proposal.objects.exists()


def test_reporting_reads_every_proposal_reply_and_feedback(integrator, committee, session):
    h = s.handling(committee)
    p1 = s.member("p1", "张文浩")
    done = s.handled(h, session=session, lead=p1.proposer, publish=False)
    s.draft_reply_with_canary(h, done.lead)
    client = s.token_client(integrator)
    proposals = client.get("/api/v1/integration/proposals/").json()["results"]
    assert [p["id"] for p in proposals] == [done.proposal.pk]
    assert {a["role"] for a in proposals[0]["assignments"]} == {"lead", "co"}
    replies = client.get("/api/v1/integration/replies/").json()["results"]
    assert {r["state"] for r in replies} == {"sent", "draft"}
    states = client.get("/api/v1/integration/replies/", {"state": "draft"}).json()["results"]
    assert len(states) == 1
    client.post(
        f"/api/v1/me/replies/{done.reply.pk}/feedback/",
        {"rating": "satisfied"},
        content_type="application/json",
    )
    s.token_client(p1).post(
        f"/api/v1/me/replies/{done.reply.pk}/feedback/",
        {"rating": "satisfied"},
        content_type="application/json",
    )
    feedback = client.get("/api/v1/integration/feedback/").json()["results"]
    assert [(x["proposer"], x["rating"]) for x in feedback] == [("张文浩", "satisfied")]
    text = str(proposals) + str(replies) + str(feedback)
    assert s.CANARY not in text and s.CANARY.lower() not in text


def test_reporting_lists_take_the_same_number_of_queries_for_10_and_100(
    integrator, session, committee
):
    h = s.handling(committee)
    lead = f.ProposerFactory(name="王五")
    co = f.ProposerFactory(name="赵六")
    client = s.token_client(integrator)
    urls = ["/api/v1/integration/proposals/", "/api/v1/integration/replies/"]

    def counts() -> list[tuple[int, int]]:
        out = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url, {"page_size": 200})
            out.append((len(response.json()["results"]), len(ctx.captured_queries)))
        return out

    s.bulk_published(10, session=session, units=[h.unit], lead=lead, coproposers=(co,))
    ten = counts()
    s.bulk_published(
        90, session=session, units=[h.unit], lead=lead, coproposers=(co,), start_serial=4000
    )
    hundred = counts()
    assert [n for n, _q in ten] == [10, 10] and [n for n, _q in hundred] == [100, 100]
    assert [q for _n, q in ten] == [q for _n, q in hundred]
