"""The Excel import writes through the workflow: each proposal is entered, submitted and filed
by workflow calls (three audit rows), and who may co-sign is the workflow's one rule."""

from __future__ import annotations

import pytest

from proposals import workflow as pwf
from proposals.models import CoProposer, Proposal, Transition
from proposals.tests import factories as f
from tracker.importing import import_filed_proposals

pytestmark = pytest.mark.django_db


def test_each_imported_proposal_is_entered_submitted_and_filed_with_confirmed_signatures(
    committee, session
):
    lead = f.ProposerFactory(name="林静")
    co = f.ProposerFactory(name="张晓钟")
    result = import_filed_proposals(
        [{"title": "关于甲的建议", "lead_proposer": "林静", "coproposers": "张晓钟"}],
        actor=committee,
        session=session,
    )
    assert result.ok, result.errors
    [proposal] = result.proposals
    assert (proposal.lead_proposer, proposal.status) == (lead, "filed")
    verbs = Transition.objects.filter(proposal=proposal).order_by("id")
    assert [t.verb for t in verbs] == ["enter", "submit", "file"]
    link = CoProposer.objects.get(proposal=proposal)
    assert (link.proposer, link.confirmed_at is not None) == (co, True)


def test_a_co_proposer_refused_by_the_workflow_rule_names_the_row(committee, session):
    lead = f.ProposerFactory(name="林静")
    co = f.ProposerFactory(name="张晓钟")
    rows = [
        {"title": "关于甲的建议", "lead_proposer": "林静", "coproposers": "张晓钟"},
        {"title": "关于乙的建议", "lead_proposer": "林静", "coproposers": "张晓钟、林静"},
        {"title": "关于丙的建议", "lead_proposer": "林静", "coproposers": "张晓钟、张晓钟"},
    ]
    result = import_filed_proposals(rows, actor=committee, session=session)
    messages = {(e.row, e.field): e.message for e in result.errors}
    # The very refusals of the workflow's rule (clean_coproposers), not a second copy.
    with pytest.raises(pwf.InvalidInput) as as_lead:
        pwf.clean_coproposers(lead, [co, lead])
    with pytest.raises(pwf.InvalidInput) as twice:
        pwf.clean_coproposers(lead, [co, co])
    assert messages == {
        (2, "coproposers"): as_lead.value.message,
        (3, "coproposers"): twice.value.message,
    }
    assert not Proposal.objects.exists()
    assert not Transition.objects.exists()
