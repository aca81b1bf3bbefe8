"""Online drafting and co-proposers' confirmation: a joint proposal goes to the committee only
when every co-proposer has confirmed; each verb is audited and a refusal changes nothing."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import serializers

from proposals import workflow as wf
from proposals.models import CoProposer, Proposal, Proposer, Transition
from proposals.tests import factories as f

pytestmark = pytest.mark.django_db


def member(username: str, name: str):
    user = f.UserFactory(username=username, full_name=name, is_staff=False)
    f.ProposerFactory(name=name, user=user)
    return user


@pytest.fixture
def lead(db):
    return member("lead", "钱建峰")


@pytest.fixture
def co(db):
    return member("co", "施美芳")


@pytest.fixture
def co2(db):
    return member("co2", "张晓钟")


def verbs(proposal):
    return list(
        Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(Proposal), object_id=proposal.pk
        ).values_list("verb", flat=True)
    )


def snapshot(proposal):
    return (
        serializers.serialize("json", Proposal.objects.filter(pk=proposal.pk)),
        serializers.serialize("json", CoProposer.objects.filter(proposal=proposal)),
        Transition.objects.count(),
    )


def assert_refused(call, proposal, error=wf.WorkflowError):
    before = snapshot(proposal)
    with pytest.raises(error) as info:
        call()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.message)
    assert snapshot(proposal) == before
    return info.value


def draft(session, lead, *cos, **kw):
    return wf.draft_proposal(
        actor=lead,
        session=session,
        title=kw.pop("title", "关于加强社区养老服务的建议"),
        analysis="老龄化程度高。",
        suggestions="一、增加日间照料中心。",
        coproposers=[c.proposer for c in cos],
        **kw,
    )


def test_a_member_drafts_a_proposal_they_lead_with_invited_coproposers(session, lead, co, co2):
    p = draft(session, lead, co, co2, category="society")
    assert p.status == "draft"
    assert p.lead_proposer == lead.proposer
    assert p.category == "society"
    links = list(p.coproposer_links.order_by("position"))
    assert [(x.proposer, x.position, x.confirmed_at) for x in links] == [
        (co.proposer, 1, None),
        (co2.proposer, 2, None),
    ]
    assert verbs(p) == ["draft"]


def test_a_draft_with_unconfirmed_coproposers_cannot_be_submitted_by_the_lead(session, lead, co):
    p = draft(session, lead, co)
    error = assert_refused(lambda: wf.submit_proposal(p, actor=lead), p, error=wf.WrongState)
    assert "施美芳" in error.message
    assert error.code == "unconfirmed_coproposers"


def test_once_every_coproposer_confirmed_the_lead_submits(session, lead, co, co2):
    p = draft(session, lead, co, co2)
    link = wf.confirm_coproposal(p, actor=co)
    assert link.confirmed_at is not None
    assert_refused(lambda: wf.submit_proposal(p, actor=lead), p)
    wf.confirm_coproposal(p, actor=co2)
    wf.submit_proposal(p, actor=lead)
    p.refresh_from_db()
    assert p.status == "submitted"
    assert verbs(p) == ["draft", "confirm_coproposal", "confirm_coproposal", "submit"]


def test_the_committee_entering_a_paper_proposal_is_not_held_to_online_confirmation(
    session, committee, co
):
    p = f.ProposalFactory(session=session, status=Proposal.Status.DRAFT)
    f.CoProposerFactory(proposal=p, proposer=co.proposer)
    wf.submit_proposal(p, actor=committee)
    p.refresh_from_db()
    assert p.status == "submitted"


def test_confirming_twice_or_as_a_stranger_is_refused(session, lead, co, co2):
    p = draft(session, lead, co)
    wf.confirm_coproposal(p, actor=co)
    assert_refused(lambda: wf.confirm_coproposal(p, actor=co), p, error=wf.WrongState)
    assert_refused(lambda: wf.confirm_coproposal(p, actor=co2), p, error=wf.NotAllowed)
    assert_refused(lambda: wf.confirm_coproposal(p, actor=lead), p, error=wf.NotAllowed)


def test_confirming_after_submission_is_refused(session, lead, co, committee):
    p = draft(session, lead, co)
    wf.submit_proposal(p, actor=committee)
    assert_refused(lambda: wf.confirm_coproposal(p, actor=co), p, error=wf.WrongState)
    assert_refused(lambda: wf.decline_coproposal(p, actor=co), p, error=wf.WrongState)


def test_a_coproposer_declines_and_leaves_the_list(session, lead, co, co2):
    p = draft(session, lead, co, co2)
    wf.confirm_coproposal(p, actor=co2)
    wf.decline_coproposal(p, actor=co)
    assert [x.proposer for x in p.coproposer_links.all()] == [co2.proposer]
    wf.submit_proposal(p, actor=lead)
    assert verbs(p)[-2:] == ["decline_coproposal", "submit"]


def test_changing_the_text_clears_the_confirmations(session, lead, co):
    p = draft(session, lead, co)
    wf.confirm_coproposal(p, actor=co)
    wf.revise_proposal(
        p,
        actor=lead,
        title="关于加强社区养老服务的建议",
        analysis="老龄化程度高，补充数据。",
        suggestions="一、增加日间照料中心。",
    )
    # The co-proposer was dropped by passing none: so pass them to keep them.
    assert not p.coproposer_links.exists()

    p2 = draft(session, lead, co, title="关于B的建议")
    wf.confirm_coproposal(p2, actor=co)
    wf.revise_proposal(
        p2,
        actor=lead,
        title="关于B的建议（修改）",
        analysis="老龄化程度高。",
        suggestions="一、增加日间照料中心。",
        coproposers=[co.proposer],
    )
    assert p2.coproposer_links.get().confirmed_at is None
    assert verbs(p2)[-1] == "revise"


def test_changing_only_the_category_or_adding_a_coproposer_keeps_confirmations(
    session, lead, co, co2
):
    p = draft(session, lead, co)
    wf.confirm_coproposal(p, actor=co)
    wf.revise_proposal(
        p,
        actor=lead,
        title=p.title,
        analysis=p.analysis,
        suggestions=p.suggestions,
        category="urban",
        coproposers=[co.proposer, co2.proposer],
    )
    links = {x.proposer_id: x for x in p.coproposer_links.all()}
    assert links[co.proposer.pk].confirmed_at is not None
    assert links[co2.proposer.pk].confirmed_at is None


def test_a_revision_that_changes_nothing_writes_no_audit_row(session, lead, co):
    p = draft(session, lead, co)
    before = Transition.objects.count()
    wf.revise_proposal(
        p,
        actor=lead,
        title=p.title,
        analysis=p.analysis,
        suggestions=p.suggestions,
        category=p.category,
        coproposers=[co.proposer],
    )
    assert Transition.objects.count() == before


def test_only_the_lead_revises_and_only_while_draft_or_returned(session, lead, co, committee):
    p = draft(session, lead, co)
    kwargs = {"title": "关于C的建议", "analysis": "", "suggestions": ""}
    assert_refused(lambda: wf.revise_proposal(p, actor=co, **kwargs), p, error=wf.NotAllowed)
    wf.confirm_coproposal(p, actor=co)
    wf.submit_proposal(p, actor=lead)
    assert_refused(lambda: wf.revise_proposal(p, actor=lead, **kwargs), p, error=wf.WrongState)


def test_a_returned_proposal_is_revised_reconfirmed_and_resubmitted(session, lead, co, committee):
    p = draft(session, lead, co)
    wf.confirm_coproposal(p, actor=co)
    wf.submit_proposal(p, actor=lead)
    wf.return_proposal(p, actor=committee, reason="请补充调研数据。")
    wf.revise_proposal(
        p,
        actor=lead,
        title=p.title,
        analysis="补充了调研数据。",
        suggestions=p.suggestions,
        coproposers=[co.proposer],
    )
    assert_refused(lambda: wf.resubmit_proposal(p, actor=lead), p, error=wf.WrongState)
    wf.confirm_coproposal(p, actor=co)
    wf.resubmit_proposal(p, actor=lead)
    p.refresh_from_db()
    assert p.status == "submitted"


@pytest.mark.parametrize(
    "case",
    ["lead_as_co", "twice", "group", "inactive", "no_title", "bad_category", "bad_session"],
)
def test_a_draft_with_wrong_input_is_refused_and_nothing_is_written(session, lead, co, case):
    group = f.ProposerFactory(kind=Proposer.Kind.SECTOR_GROUP, name="经济界别组")
    gone = f.ProposerFactory(name="离任委员", is_active=False)
    kwargs = {"actor": lead, "session": session, "title": "关于D的建议", "coproposers": []}
    match case:
        case "lead_as_co":
            kwargs["coproposers"] = [lead.proposer]
        case "twice":
            kwargs["coproposers"] = [co.proposer, co.proposer]
        case "group":
            kwargs["coproposers"] = [group]
        case "inactive":
            kwargs["coproposers"] = [gone]
        case "no_title":
            kwargs["title"] = "  "
        case "bad_category":
            kwargs["category"] = "nonsense"
        case "bad_session":
            kwargs["session"] = 999999
    before = (Proposal.objects.count(), CoProposer.objects.count(), Transition.objects.count())
    with pytest.raises(wf.InvalidInput):
        wf.draft_proposal(**kwargs)
    after = (Proposal.objects.count(), CoProposer.objects.count(), Transition.objects.count())
    assert after == before


def test_only_a_proposer_with_a_login_drafts_online(session, clerk_a):
    with pytest.raises(wf.NotAllowed):
        wf.draft_proposal(actor=clerk_a, session=session, title="关于E的建议")


def test_a_convener_follows_the_groups_submitted_proposals_but_not_its_drafts(session, lead):
    group = f.ProposerFactory(kind=Proposer.Kind.SECTOR_GROUP, name="经济界别组")
    group.conveners.add(lead.proposer)
    filed = f.ProposalFactory(session=session, lead_proposer=group)
    drafted = f.ProposalFactory(session=session, lead_proposer=group, status="draft")
    cosigned = f.ProposalFactory(session=session)
    f.CoProposerFactory(proposal=cosigned, proposer=group)
    other = f.ProposalFactory(session=session)
    mine = set(Proposal.objects.for_proposer(lead.proposer))
    assert filed in mine and cosigned in mine
    assert drafted not in mine and other not in mine
    assert not Proposal.objects.for_proposer(None).exists()
