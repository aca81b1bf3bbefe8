"""An audit row reads the way the admin shows it: Beijing time and words, not UTC and codes
(issue 18: "2026-12-06 18:14 submit draft→submitted" was what its title said)."""

import datetime

import pytest

from proposals.models import EDITABLE_PROPOSAL_STATES, PROPOSAL_TRANSITIONS, Transition

pytestmark = pytest.mark.django_db


def test_an_audit_row_reads_in_beijing_time_and_in_chinese(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    # 18:14 UTC is 02:14 the next day in Beijing.
    at = datetime.datetime(2026, 12, 6, 18, 14, tzinfo=datetime.UTC)
    row = Transition(verb="submit", from_state="draft", to_state="submitted", at=at)
    assert str(row) == "2026-12-07 02:14 提交 草稿 → 已提交"
    signed = Transition(verb="sign", from_state="pending_signature", to_state="signed", at=at)
    assert str(signed) == "2026-12-07 02:14 签发 待签发 → 已签发"
    extended = Transition(verb="extend", from_state="accepted", to_state="accepted", at=at)
    assert str(extended).endswith(" 办理中")


def test_the_editable_states_are_those_the_transition_table_lets_a_proposer_revise_in():
    assert PROPOSAL_TRANSITIONS["revise"][0] == EDITABLE_PROPOSAL_STATES
    assert {"draft", "returned"} == set(EDITABLE_PROPOSAL_STATES)
