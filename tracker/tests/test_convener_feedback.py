"""A group's convener 召集人 gives the group's feedback on /my/ (and through the API): a reply to
a 界别组 or 党派 proposal is answered once, for the group, by one of its conveners; other
members, and conveners of other groups, may not."""

from __future__ import annotations

import pytest
from django.test import Client

from proposals import workflow as pwf
from proposals.models import Proposer
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.models import Feedback
from tracker.tests import api_support
from tracker.tests.my_support import handling, member, replied_proposal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def group_reply(committee, session):
    group = f.ProposerFactory(name="经济界别组", kind=Proposer.Kind.SECTOR_GROUP)
    convener = member("convener", "李召集")
    group.conveners.add(convener.proposer)
    other_group = f.ProposerFactory(name="教育界别组", kind=Proposer.Kind.SECTOR_GROUP)
    other_convener = member("other", "王召集")
    other_group.conveners.add(other_convener.proposer)
    done = replied_proposal(handling(committee), session=session, lead=group, store_pdf=False)
    return done.reply, group, convener, other_convener


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_convener_answers_for_the_group_on_my(group_reply):
    reply, group, convener, _other = group_reply
    c = _client(convener)
    page = c.get(f"/my/replies/{reply.pk}/").content.decode()
    assert "代表经济界别组反馈意见" in page
    form = c.get(f"/my/replies/{reply.pk}/feedback/").content.decode()
    assert "您作为召集人，代表经济界别组反馈意见" in form
    response = c.post(
        f"/my/replies/{reply.pk}/feedback/",
        {"rating": "satisfied", "on_work": "satisfied", "on_result": "satisfied", "comment": ""},
    )
    assert response.status_code == 302
    fb = Feedback.objects.get(reply=reply)
    assert (fb.proposer, fb.recorded_by) == (group, convener)
    received = c.get(f"/my/replies/{reply.pk}/feedback/").content.decode()
    assert "经济界别组的意见" in received
    again = c.post(f"/my/replies/{reply.pk}/feedback/", {"rating": "not_satisfied"})
    assert again.status_code == 200 and Feedback.objects.count() == 1


def test_a_convener_of_another_group_and_another_member_cannot(group_reply):
    reply, group, _convener, other_convener = group_reply
    outsider = member("outsider", "赵委员")
    for user in (other_convener, outsider):
        assert _client(user).get(f"/my/replies/{reply.pk}/feedback/").status_code == 404
    with pytest.raises(pwf.NotAllowed):
        rwf.record_feedback(reply, actor=other_convener, proposer=group, rating="satisfied")
    assert not Feedback.objects.exists()


def test_the_convener_answers_for_the_group_through_the_api(group_reply):
    reply, group, convener, _other = group_reply
    client = api_support.token_client(convener)
    response = client.post(
        f"/api/v1/me/replies/{reply.pk}/feedback/",
        {"rating": "not_satisfied", "comment": "措施不够具体"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    fb = Feedback.objects.get(reply=reply)
    assert fb.proposer == group and fb.rating == "not_satisfied"
