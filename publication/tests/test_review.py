"""The redaction review between 送达 and 公开: refused while undecided, every decision audited,
the public text and the public PDF free of what was masked, the signed original unchanged."""

from __future__ import annotations

import io

import pdfplumber
import pytest
from django.test import Client

from proposals.models import Membership, Transition
from proposals.workflow import InvalidInput, NotAllowed, WrongState
from publication import rendering, review
from publication.models import PublicText, RedactionFlag
from publication.tests.corpus import CORPUS, paragraph
from replies import workflow as rwf
from replies.models import Reply
from replies.tests.factories import ReplyFactory, unit_staff

pytestmark = pytest.mark.django_db

PLANTED = [CORPUS[0], CORPUS[9], CORPUS[18]]  # a mobile, an ID number, a home address
LOOK_ALIKES = [CORPUS[3], CORPUS[5]]


@pytest.fixture
def sent(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    body = "\n".join(paragraph(raw)[0] for raw in [*PLANTED, *LOOK_ALIKES])
    return ReplyFactory(sent=True, body=body)


def clerk_of(reply: Reply):
    return unit_staff(reply.unit, Membership.Role.CLERK)


def test_publishing_is_refused_until_every_flag_is_decided_and_nothing_changes(sent):
    clerk = clerk_of(sent)
    with pytest.raises(WrongState, match="3 处疑似个人信息"):
        rwf.publish_reply(sent, actor=clerk)
    sent.refresh_from_db()
    assert sent.state == "sent" and sent.published_on is None
    assert not PublicText.objects.exists()
    flags = review.flag_reply(sent)
    assert [(f.kind, f.decision) for f in flags] == [
        ("mobile", "pending"),
        ("id_card", "pending"),
        ("address", "pending"),
    ]


def test_keeping_needs_a_reason_and_another_unit_may_not_decide(sent, clerk_b):
    flag = review.flag_reply(sent)[0]
    with pytest.raises(InvalidInput):
        review.decide_flag(flag, actor=clerk_of(sent), decision="keep", reason=" ")
    with pytest.raises(NotAllowed):
        review.decide_flag(flag, actor=clerk_b, decision="mask")
    flag.refresh_from_db()
    assert flag.decision == "pending"


def test_masked_items_are_gone_from_the_public_text_and_pdf_and_each_decision_is_audited(sent):
    clerk = clerk_of(sent)
    mobile, id_card, address = review.flag_reply(sent)
    review.decide_flag(mobile, actor=clerk, decision="mask")
    review.decide_flag(id_card, actor=clerk, decision="mask")
    review.decide_flag(address, actor=clerk, decision="keep", reason="系单位办公地址")
    rwf.publish_reply(sent, actor=clerk)
    public = PublicText.objects.get(reply=sent)
    assert public.masked == 2
    assert mobile.text not in public.body and id_card.text not in public.body
    assert address.text in public.body
    original = Reply.objects.get(pk=sent.pk)
    assert mobile.text in original.body  # the signed letter never changes
    verbs = list(
        Transition.objects.filter(object_id=sent.pk, verb__startswith="redaction").values_list(
            "verb", flat=True
        )
    )
    assert verbs.count("redaction_mask") == 2
    assert verbs.count("redaction_keep") == 1
    review_note = Transition.objects.get(object_id=sent.pk, verb="redaction_review").note
    assert "发现3处，遮蔽2处，保留1处" in review_note
    with pytest.raises(WrongState):
        review.decide_flag(address, actor=clerk, decision="mask")

    assert rendering.store_public_pdf(sent.pk) is True
    public.refresh_from_db()
    with public.pdf.open("rb") as handle, pdfplumber.open(io.BytesIO(handle.read())) as pdf:
        text = "".join(page.extract_text() or "" for page in pdf.pages).replace(" ", "")
    assert "老旧小区" in text
    for item in (mobile.text, id_card.text):
        assert item not in text
    assert rendering.store_public_pdf(sent.pk) is False  # stored once
    # Both public addresses serve the masked rendition, never the signed original.
    for url in (f"/public/replies/{sent.pk}.pdf", f"/api/v1/replies/{sent.pk}/pdf"):
        response = Client().get(url)
        assert response["ETag"] == f'"{public.pdf_sha256}"', url
        assert b"".join(response.streaming_content)[:4] == b"%PDF"


def test_a_reply_with_nothing_flagged_publishes_its_text_unmasked(db):
    reply = ReplyFactory(sent=True, body="\n".join(paragraph(raw)[0] for raw in LOOK_ALIKES))
    rwf.publish_reply(reply, actor=clerk_of(reply))
    assert not RedactionFlag.objects.filter(reply=reply).exists()
    public = PublicText.objects.get(reply=reply)
    assert (public.masked, public.body) == (0, Reply.objects.get(pk=reply.pk).body)
