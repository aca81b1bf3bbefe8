"""The review page in the admin: the unit's clerk decides each flag and publishes; publishing
with an undecided flag is refused with the reason; another unit's clerk gets a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from publication.models import PublicText, RedactionFlag
from publication.review import flag_reply
from publication.tests.corpus import CORPUS, paragraph
from replies.models import Reply
from replies.tests.factories import AcceptedAssignmentFactory, ReplyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(clerk_a, unit_a):
    body = "\n".join(paragraph(raw)[0] for raw in (CORPUS[0], CORPUS[3]))
    return ReplyFactory(sent=True, body=body, assignment=AcceptedAssignmentFactory(unit=unit_a))


def test_the_clerk_masks_the_flag_and_publishes_from_the_review_page(client, clerk_a, sent):
    client.force_login(clerk_a)
    queue = client.get(reverse("admin:publication_publicationqueue_changelist"))
    assert sent.title in queue.content.decode()
    url = reverse("admin:publication_review", args=[sent.pk])
    page = client.get(url).content.decode()
    (flag,) = RedactionFlag.objects.filter(reply=sent)
    assert f"<mark>{flag.text}</mark>" in page

    refused = client.post(url, {"publish": "1"}, follow=True)
    assert "疑似个人信息" in refused.content.decode()
    assert Reply.objects.get(pk=sent.pk).state == "sent"

    client.post(url, {f"decision-{flag.pk}": "mask", "publish": "1"})
    assert Reply.objects.get(pk=sent.pk).state == "published"
    assert flag.text not in PublicText.objects.get(reply=sent).body


def test_keeping_without_a_reason_is_refused_and_nothing_is_published(client, clerk_a, sent):
    client.force_login(clerk_a)
    url = reverse("admin:publication_review", args=[sent.pk])
    client.get(url)
    (flag,) = RedactionFlag.objects.filter(reply=sent)
    response = client.post(url, {f"decision-{flag.pk}": "keep", "publish": "1"}, follow=True)
    assert "须说明理由" in response.content.decode()
    flag.refresh_from_db()
    assert flag.decision == "pending"
    assert Reply.objects.get(pk=sent.pk).state == "sent"


def test_another_unit_s_clerk_gets_404(client, clerk_b, sent):
    client.force_login(clerk_b)
    assert client.get(reverse("admin:publication_review", args=[sent.pk])).status_code == 404


def test_the_queue_reads_every_reply_s_flags_in_a_fixed_number_of_queries(
    client, clerk_a, unit_a, django_assert_max_num_queries
):
    """The 疑似个人信息 column was a query per row (21 for ten replies)."""
    body = "\n".join(paragraph(raw)[0] for raw in (CORPUS[0], CORPUS[3]))
    replies = [
        ReplyFactory(sent=True, body=body, assignment=AcceptedAssignmentFactory(unit=unit_a))
        for _ in range(12)
    ]
    for reply in replies:
        flag_reply(reply)  # as sending does
    client.force_login(clerk_a)
    with django_assert_max_num_queries(15):
        queue = client.get(reverse("admin:publication_publicationqueue_changelist"))
    page = queue.content.decode()
    assert all(reply.title in page for reply in replies)
    assert page.count("待确认") >= 12
