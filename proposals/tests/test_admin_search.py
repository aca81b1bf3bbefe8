"""The clerks' search and guard rails (issue 19, part 6): the proposal and assignment lists
found by 提案号, 文号, title, proposer and unit, within what the user may see; the unit,
deadline and result-class filters; the units grouped by district in the assign form, with a
reason asked and recorded for another district's unit; the 并案 target found by search.
"""

from __future__ import annotations

import datetime
import importlib
import json
import re

import pytest
from django.urls import reverse

from proposals import workflow as wf
from proposals.forms import AssignProposalForm
from proposals.models import Assignment, Membership, Proposal, Transition, Unit
from proposals.tests import factories as f
from proposals.tests.test_admin import apply_action, messages_of, run_action
from replies.tests.factories import ReplyFactory, unit_staff
from tracker.tests import clock

pytestmark = pytest.mark.django_db

ASSIGNED_ON = datetime.date(2026, 3, 2)
REPLIED_ON = datetime.date(2026, 4, 10)
#: After the reply due dates of what was assigned on ``ASSIGNED_ON`` (3 months).
LATE = datetime.date(2026, 7, 15)


def changelist(client, model: str, **params) -> list:
    response = client.get(reverse(f"admin:proposals_{model}_changelist"), params)
    assert response.status_code == 200, response.status_code
    return list(response.context["cl"].result_list)


def found(client, q: str, model: str = "proposal") -> set:
    return {row.pk for row in changelist(client, model, q=q)}


def as_user(client, user):
    client.force_login(user)
    return client


def _accept_and_reply(assignment: Assignment, label: str) -> None:
    wf.accept_assignment(assignment, actor=unit_staff(assignment.unit, Membership.Role.CLERK))
    ReplyFactory(assignment=assignment, sent=True, on=REPLIED_ON, result_label=label)


@pytest.fixture
def housing(db):
    return f.UnitFactory(
        name="长宁区住房保障和房屋管理局",
        short_name="区房管局",
        organ_name="上海市长宁区住房保障和房屋管理局",
        docno_prefix="长房管",
    )


@pytest.fixture
def putuo(db):
    return f.UnitFactory(
        name="普陀区发展和改革委员会",
        short_name="普陀区发改委",
        organ_name="上海市普陀区发展和改革委员会",
        docno_prefix="普发改委",
    )


@pytest.fixture
def clerk_housing(housing):
    user = f.UserFactory(username="clerk_housing", full_name="房管联络员")
    f.MembershipFactory(user=user, unit=housing, role=Membership.Role.CLERK)
    return user


@pytest.fixture
def world(session, committee, unit_a, unit_b, housing):
    """第061号 (徐燕 leads; 区房管局, replied D), 第062号 (李明 leads, 徐燕 and 徐静 co-sign;
    区发改委 leads and replied A, 区商务委 co-handles), 第063号 (filed, not assigned),
    第064号 (区商务委 leads, no reply: overdue at ``LATE``), 第065号 (区商务委, assigned
    late: open, not overdue). Both replies are numbered 〔2026〕1号 by their units."""
    session.last_serial = 60
    session.save(update_fields=["last_serial"])
    xu = f.ProposerFactory(name="徐燕", mobile="13911112222")
    p = {}
    p[61] = f.ProposalFactory(session=session, title="关于老旧小区加装电梯的建议", lead_proposer=xu)
    p[62] = f.ProposalFactory(
        session=session,
        title="关于优化营商环境的建议",
        lead_proposer=f.ProposerFactory(name="李明"),
    )
    f.CoProposerFactory(proposal=p[62], proposer=xu)
    f.CoProposerFactory(proposal=p[62], proposer=f.ProposerFactory(name="徐静"))
    p[63] = f.ProposalFactory(session=session, title="关于垃圾分类的建议")
    p[64] = f.ProposalFactory(session=session, title="关于缓解停车难的建议")
    p[65] = f.ProposalFactory(session=session, title="关于社区食堂的建议")
    for n in sorted(p):
        wf.file_proposal(p[n], actor=committee)
    lead, co = Assignment.Role.LEAD, Assignment.Role.CO
    plan = {
        61: ([(housing, lead)], ASSIGNED_ON),
        62: ([(unit_a, lead), (unit_b, co)], ASSIGNED_ON),
        64: ([(unit_b, lead)], ASSIGNED_ON),
        65: ([(unit_b, lead)], datetime.date(2026, 7, 1)),
    }
    for n, (units, on) in plan.items():
        wf.assign_proposal(p[n], actor=committee, units=units, assigned_on=on)
    _accept_and_reply(Assignment.objects.get(proposal=p[61]), "留作参考")
    _accept_and_reply(Assignment.objects.get(proposal=p[62], unit=unit_a), "解决或采纳")
    for proposal in p.values():
        proposal.refresh_from_db()
    return p


def assign_note(proposal: Proposal) -> str:
    """The note of the proposal's own 交办 transition (each assignment has one too)."""
    moves = Transition.objects.filter(object_id=proposal.pk, verb="assign")
    return moves.get(content_type__model="proposal").note


def pks(*proposals: Proposal) -> set[int]:
    return {x.pk for x in proposals}


# --- Search -------------------------------------------------------------------------------


def test_the_world_is_numbered_and_its_letters_share_a_doc_number(world):
    assert [world[n].number for n in sorted(world)] == [f"第0{n}号" for n in sorted(world)]
    docs = {r.doc_number for p in (world[61], world[62]) for r in p.replies.all()}
    assert docs == {"长房管〔2026〕1号", "长发改〔2026〕1号"}


@pytest.mark.parametrize("term", ["061", "第061号", "61号", "第61号"])
def test_the_committee_finds_a_proposal_by_its_number_whole_or_in_part(
    client, committee, world, term
):
    assert found(as_user(client, committee), term) == pks(world[61])


def test_a_partial_number_finds_every_number_containing_it(client, committee, world):
    assert found(as_user(client, committee), "06") == pks(*world.values())


def test_the_committee_finds_by_doc_number_in_part_and_whole(client, committee, world):
    client = as_user(client, committee)
    assert found(client, "2026〕1") == pks(world[61], world[62])
    assert found(client, "[2026]1") == pks(world[61], world[62]), "typed brackets"
    assert found(client, "长发改〔2026〕1号") == pks(world[62])
    assert found(client, "〔2027〕") == set()


def test_the_committee_finds_by_title_proposer_and_unit(client, committee, world):
    client = as_user(client, committee)
    assert found(client, "加装电梯") == pks(world[61])
    assert found(client, "徐燕") == pks(world[61], world[62]), "lead and co-proposer"
    assert found(client, "徐静") == pks(world[62])
    assert found(client, "区房管局") == pks(world[61]), "short name"
    assert found(client, "住房保障和房屋管理局") == pks(world[61]), "name"
    assert found(client, "区商务委") == pks(world[62], world[64], world[65])


def test_terms_narrow_each_other(client, committee, world):
    assert found(as_user(client, committee), "徐燕 区发改委") == pks(world[62])


def test_a_proposal_matching_twice_is_listed_once_and_counted_once(client, committee, world):
    """徐燕 and 徐静 both co-sign 第062号: one row, and the count agrees."""
    response = as_user(client, committee).get(
        reverse("admin:proposals_proposal_changelist"), {"q": "徐"}
    )
    rows = [p.pk for p in response.context["cl"].result_list]
    assert sorted(rows) == sorted(pks(world[61], world[62]))
    assert response.context["cl"].result_count == 2


def test_the_search_never_reads_proposers_contact_details(client, committee, world):
    client = as_user(client, committee)
    assert found(client, "13911112222") == set()
    response = client.get(
        reverse("admin:proposals_proposal_changelist"), {"lead_proposer__mobile": "13911112222"}
    )
    assert response.status_code == 400


def test_a_clerk_finds_only_the_units_own_proposals(client, clerk_a, world):
    """区发改委 handles 第062号 only: searching another unit's name, number or 文号 finds
    nothing of that unit's, though the rows exist."""
    client = as_user(client, clerk_a)
    assert found(client, "区房管局") == set()
    assert found(client, "061") == set()
    assert found(client, "加装电梯") == set()
    assert found(client, "徐燕") == pks(world[62])
    assert found(client, "2026〕1") == pks(world[62])
    assert found(client, "长房管〔2026〕1号") == set()


def test_another_units_clerk_finds_its_own_by_the_same_terms(client, clerk_housing, world):
    client = as_user(client, clerk_housing)
    assert found(client, "区房管局") == pks(world[61])
    assert found(client, "2026〕1") == pks(world[61])
    assert found(client, "徐燕") == pks(world[61])
    assert found(client, "062") == set()


def test_the_assignment_list_is_searched_the_same_way(
    client, committee, clerk_a, world, unit_a, unit_b, housing
):
    def rows(q):
        return {(a.proposal_id, a.unit_id) for a in changelist(client, "assignment", q=q)}

    client = as_user(client, committee)
    assert rows("第061号") == {(world[61].pk, housing.pk)}
    assert rows("区房管局") == {(world[61].pk, housing.pk)}
    assert rows("徐燕") == {
        (world[61].pk, housing.pk),
        (world[62].pk, unit_a.pk),
        (world[62].pk, unit_b.pk),
    }
    # The letters' own assignment: 区商务委 co-handles 第062号 but wrote no letter.
    assert rows("2026〕1") == {(world[61].pk, housing.pk), (world[62].pk, unit_a.pk)}
    assert rows("优化营商") == {(world[62].pk, unit_a.pk), (world[62].pk, unit_b.pk)}

    client = as_user(client, clerk_a)
    assert rows("徐燕") == {(world[62].pk, unit_a.pk)}
    assert rows("区房管局") == set()
    assert rows("区商务委") == set(), "the co unit's assignment is not the clerk's"


def test_an_unsent_reply_of_another_unit_is_not_found_by_its_doc_number(
    client, committee, clerk_b, session, unit_a, unit_b
):
    """A signed reply is numbered; the co unit learns its 文号 only once it is sent."""
    p = f.ProposalFactory(session=session)
    wf.file_proposal(p, actor=committee)
    lead, _co = wf.assign_proposal(
        p,
        actor=committee,
        units=[(unit_a, Assignment.Role.LEAD), (unit_b, Assignment.Role.CO)],
        assigned_on=ASSIGNED_ON,
    )
    wf.accept_assignment(lead, actor=unit_staff(unit_a, Membership.Role.CLERK))
    reply = ReplyFactory(assignment=lead, signed=True, on=REPLIED_ON)
    assert found(as_user(client, committee), reply.doc_number) == {p.pk}
    assert found(as_user(client, clerk_b), reply.doc_number) == set()
    assert found(client, p.title) == {p.pk}, "the proposal itself is the co unit's to see"


# --- Filters ------------------------------------------------------------------------------


def test_the_proposal_list_filters_by_unit(client, committee, clerk_a, world, housing, unit_b):
    client = as_user(client, committee)
    assert {p.pk for p in changelist(client, "proposal", unit=housing.pk)} == pks(world[61])
    got = {p.pk for p in changelist(client, "proposal", unit=unit_b.pk)}
    assert got == pks(world[62], world[64], world[65])
    assert changelist(client, "proposal", unit="x") == []

    client = as_user(client, clerk_a)
    assert changelist(client, "proposal", unit=housing.pk) == []


def test_the_unit_filter_offers_the_units_grouped_by_district(client, committee, world):
    client = as_user(client, committee)
    response = client.get(reverse("admin:proposals_proposal_changelist"))
    specs = response.context["cl"].filter_specs
    unit_filter = next(s for s in specs if getattr(s, "parameter_name", "") == "unit")
    labels = [label for _value, label in unit_filter.lookup_choices]
    assert labels == ["区发改委（长宁）", "区商务委（长宁）", "区房管局（长宁）"]


def test_the_proposal_list_filters_by_deadline_with_the_one_overdue_rule(
    client, committee, clerk_a, world
):
    client = as_user(client, committee)
    with clock.travel(LATE):
        overdue = {p.pk for p in changelist(client, "proposal", due="overdue")}
        still_open = {p.pk for p in changelist(client, "proposal", due="open")}
    # 第062号's co unit was closed when the lead replied: nothing of 062 is overdue.
    assert overdue == pks(world[64])
    assert still_open == pks(world[64], world[65])

    client = as_user(client, clerk_a)
    with clock.travel(LATE):
        assert changelist(client, "proposal", due="overdue") == []


def test_the_assignment_list_keeps_its_deadline_filter(client, committee, world, unit_b):
    client = as_user(client, committee)
    with clock.travel(LATE):
        rows = changelist(client, "assignment", due="overdue")
    assert [(a.proposal_id, a.unit_id) for a in rows] == [(world[64].pk, unit_b.pk)]


def test_the_lists_filter_by_the_result_class_of_the_latest_reply_sent(
    client, committee, world, unit_a, unit_b
):
    client = as_user(client, committee)
    assert {p.pk for p in changelist(client, "proposal", result="A")} == pks(world[62])
    assert {p.pk for p in changelist(client, "proposal", result="D")} == pks(world[61])
    assert changelist(client, "proposal", result="B") == []
    assert changelist(client, "proposal", result="Z") == []
    # An assignment's own reply, or for the co unit the lead's.
    rows = changelist(client, "assignment", result="A")
    assert {(a.proposal_id, a.unit_id) for a in rows} == {
        (world[62].pk, unit_a.pk),
        (world[62].pk, unit_b.pk),
    }


def test_the_result_class_is_the_latest_reply_sent_not_the_first(
    client, committee, session, unit_a
):
    p = f.ProposalFactory(session=session)
    wf.file_proposal(p, actor=committee)
    (a,) = wf.assign_proposal(
        p, actor=committee, units=[(unit_a, Assignment.Role.LEAD)], assigned_on=ASSIGNED_ON
    )
    _accept_and_reply(a, "留作参考")
    ReplyFactory(
        assignment=Assignment.objects.get(pk=a.pk),
        kind="follow_up",
        sent=True,
        on=datetime.date(2026, 5, 20),
        result_label="列入计划拟解决",
    )
    client = as_user(client, committee)
    assert {x.pk for x in changelist(client, "proposal", result="B")} == {p.pk}
    assert changelist(client, "proposal", result="D") == []


# --- The assign form: units by district, and the cross-district reason ---------------------


def _option_groups(html: str, name: str) -> list[tuple[str, list[str]]]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    groups = re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select[1], re.S)
    return [(label, re.findall(r"<option [^>]*>([^<]*)</option>", body)) for label, body in groups]


def test_the_assign_form_groups_units_by_district_the_sessions_first(
    client, committee, session, unit_a, unit_b, housing, putuo
):
    f.UnitFactory(name="上海市某市级单位", short_name="市级单位", organ_name="上海市某市级单位")
    f.UnitFactory(name="长宁区已停用局", organ_name="上海市长宁区已停用局", is_active=False)
    p = f.ProposalFactory(session=session)
    wf.file_proposal(p, actor=committee)
    page = run_action(as_user(client, committee), "proposal", "assign", [p]).content.decode()
    expected = [
        ("长宁", ["区发改委", "区商务委", "区房管局"]),
        ("普陀", ["【普陀】普陀区发改委"]),
        ("未标明所属区", ["市级单位"]),
    ]
    assert _option_groups(page, "lead_unit") == expected
    assert _option_groups(page, "co_units") == expected
    assert "本届次会议所属区：长宁" in page and "跨区交办理由" in page


def test_a_putuo_session_puts_its_own_units_first(session, putuo, unit_a):
    p = f.ProposalFactory(session=f.SessionFactory(district="普陀", term=15, meeting=9))
    groups = AssignProposalForm(objects=[p]).fields["lead_unit"].choices
    assert [label for label, _units in groups[1:]] == ["普陀", "长宁"]
    assert groups[2][1] == [(unit_a.pk, "【长宁】区发改委")]


def test_units_get_their_district_from_the_letterhead_unless_typed(db):
    assert f.UnitFactory(name="长宁区民政局", organ_name="上海市长宁区民政局").district == "长宁"
    assert f.UnitFactory(name="浦东新区某局", organ_name="上海市浦东新区某局").district == "浦东"
    assert f.UnitFactory(name="某市级单位", organ_name="上海市某委员会").district == ""
    typed = f.UnitFactory(name="长宁区某中心", organ_name="上海市长宁区某中心", district="普陀")
    assert Unit.objects.get(pk=typed.pk).district == "普陀"


def test_assigning_to_another_districts_unit_needs_a_reason(committee, session, unit_a, putuo):
    p = f.ProposalFactory(session=session)
    wf.file_proposal(p, actor=committee)
    units = [(unit_a, Assignment.Role.LEAD), (putuo, Assignment.Role.CO)]
    with pytest.raises(wf.InvalidInput) as refused:
        wf.assign_proposal(p, actor=committee, units=units, cross_district_reason="  ")
    assert refused.value.message == "普陀区发改委（普陀） 不属于长宁，跨区交办须填写理由。"
    assert not Assignment.objects.filter(proposal=p).exists()

    wf.assign_proposal(p, actor=committee, units=units, cross_district_reason="涉及两区交界道路")
    note = assign_note(p)
    assert note.endswith("；跨区交办理由：涉及两区交界道路")


def test_a_reason_is_not_recorded_when_no_unit_is_outside(committee, session, unit_a):
    p = f.ProposalFactory(session=session)
    wf.file_proposal(p, actor=committee)
    wf.assign_proposal(
        p, actor=committee, units=[(unit_a, Assignment.Role.LEAD)], cross_district_reason="无"
    )
    note = assign_note(p)
    assert "跨区" not in note


def test_the_assign_form_shows_the_refusal_then_records_the_reason(
    client, committee, session, putuo
):
    p = f.ProposalFactory(session=session)
    wf.file_proposal(p, actor=committee)
    client = as_user(client, committee)
    data = {"lead_unit": putuo.pk, "assigned_on": "2026-11-02", "note": ""}
    response = apply_action(client, "proposal", "assign", [p], **data)
    assert "普陀区发改委（普陀） 不属于长宁，跨区交办须填写理由。" in messages_of(response)
    assert 'name="cross_district_reason"' in response.content.decode()
    assert not Assignment.objects.filter(proposal=p).exists()

    data["cross_district_reason"] = "市里指定由普陀区发改委牵头"
    apply_action(client, "proposal", "assign", [p], **data)
    p.refresh_from_db()
    assert p.status == Proposal.Status.ASSIGNED
    note = assign_note(p)
    assert "跨区交办理由：市里指定由普陀区发改委牵头" in note


# --- The 并案 target ------------------------------------------------------------------------


def test_the_merge_form_asks_the_target_by_search(client, committee, world):
    page = as_user(client, committee).get(
        reverse("admin:proposals_proposal_verb", args=[world[63].pk, "merge"])
    )
    html = page.content.decode()
    assert "admin-autocomplete" in html
    url = reverse("admin:proposals_proposal_merge_targets")
    assert (
        f'data-ajax--url="{url}?session={world[63].session_id}&amp;exclude={world[63].pk}"' in html
    )
    assert "关于老旧小区加装电梯的建议" not in html, "no dropdown of every filed proposal"


def _targets(client, **params) -> list[str]:
    response = client.get(reverse("admin:proposals_proposal_merge_targets"), params)
    assert response.status_code == 200
    return [r["text"] for r in json.loads(response.content)["results"]]


def test_the_merge_target_lookup_finds_the_sessions_filed_or_assigned_proposals(
    client, committee, world
):
    elsewhere = f.ProposalFactory(title="别届的缓解停车难提案", status=Proposal.Status.FILED)
    client = as_user(client, committee)
    base = {"session": world[63].session_id, "exclude": world[63].pk}
    assert _targets(client, **base, term="064") == ["第064号 关于缓解停车难的建议"]
    assert _targets(client, **base, term="停车") == ["第064号 关于缓解停车难的建议"]
    assert _targets(client, **base, term="区商务委") == [
        "第064号 关于缓解停车难的建议",
        "第065号 关于社区食堂的建议",
    ]
    # 061 and 062 are replied: no longer targets; 063 is the one being merged.
    assert _targets(client, **base, term="061") == []
    assert _targets(client, **base, term="") == [
        "第064号 关于缓解停车难的建议",
        "第065号 关于社区食堂的建议",
    ]
    assert elsewhere.pk not in {p.pk for p in world.values()}
    assert _targets(client, session=elsewhere.session_id, term="停车") == [elsewhere.title]


def test_the_merge_target_lookup_is_the_committees(client, clerk_a, world):
    response = as_user(client, clerk_a).get(
        reverse("admin:proposals_proposal_merge_targets"), {"session": world[63].session_id}
    )
    assert response.status_code == 403


def test_merging_into_a_target_found_by_search(client, committee, world):
    client = as_user(client, committee)
    (target,) = json.loads(
        client.get(
            reverse("admin:proposals_proposal_merge_targets"),
            {"session": world[63].session_id, "exclude": world[63].pk, "term": "停车"},
        ).content
    )["results"]
    client.post(
        reverse("admin:proposals_proposal_verb", args=[world[63].pk, "merge"]),
        {"apply": "1", "target": target["id"], "note": ""},
    )
    world[63].refresh_from_db()
    assert (world[63].status, world[63].merged_into_id) == ("merged", world[64].pk)


def test_the_migration_fills_the_districts_the_letterheads_state(db):
    from django.apps import apps

    migration = importlib.import_module("proposals.migrations.0014_unit_district")
    rows = [
        Unit(name="长宁区民政局", organ_name="上海市长宁区民政局"),
        Unit(name="普陀区财政局", organ_name="上海市普陀区财政局"),
        Unit(name="某市级单位", organ_name="上海市某委员会"),
        Unit(name="长宁区另一局", organ_name="上海市长宁区另一局", district="徐汇"),
    ]
    Unit.objects.bulk_create(rows)  # bulk: as rows from before the field, without save()
    Unit.objects.filter(name__in=["长宁区民政局", "普陀区财政局"]).update(district="")
    migration.fill_districts(apps, None)
    districts = dict(Unit.objects.values_list("name", "district"))
    assert districts == {
        "长宁区民政局": "长宁",
        "普陀区财政局": "普陀",
        "某市级单位": "",
        "长宁区另一局": "徐汇",
    }
