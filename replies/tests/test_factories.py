"""The reply factories reach each state through the workflow: the audit trail, the 文号, the
assignment's move and the dates of ``on`` are the workflow's, never written by hand."""

from __future__ import annotations

import datetime

import pytest

from proposals.models import AssignmentState, Transition
from replies.models import CoOpinion, Feedback, Reply
from replies.tests.factories import TINY_PDF, CoOpinionFactory, FeedbackFactory, ReplyFactory

pytestmark = pytest.mark.django_db


def verbs(obj) -> list[str]:
    rows = Transition.objects.filter(
        object_id=obj.pk, content_type__model=type(obj)._meta.model_name
    )
    return list(rows.order_by("pk").values_list("verb", flat=True))


@pytest.mark.parametrize(
    ("traits", "state", "trail"),
    [
        ({}, Reply.State.DRAFT, ["start", "edit"]),
        ({"pending": True}, Reply.State.PENDING_SIGNATURE, ["start", "edit", "submit"]),
        ({"signed": True}, Reply.State.SIGNED, ["start", "edit", "submit", "sign"]),
        ({"sent": True}, Reply.State.SENT, ["start", "edit", "submit", "sign", "send"]),
        (
            {"published": True},
            Reply.State.PUBLISHED,
            ["start", "edit", "submit", "sign", "send", "publish"],
        ),
    ],
)
def test_a_reply_reaches_its_state_through_the_workflow(traits, state, trail):
    reply = ReplyFactory(**traits)
    assert reply.state == state
    assert verbs(reply) == trail


def test_a_sent_reply_is_dated_on_its_day_numbered_by_its_unit_and_replies_the_assignment():
    day = datetime.date(2024, 5, 20)
    reply = ReplyFactory(sent=True, on=day, assignment__unit__docno_prefix="测发")

    assert (reply.signed_on, reply.sent_at.date()) == (day, day)
    assert reply.doc_number == "测发〔2024〕1号"
    assert reply.pdf_sha256 and reply.pdf_size == len(TINY_PDF)
    reply.assignment.refresh_from_db()
    assert reply.assignment.state == AssignmentState.REPLIED


def test_a_signed_reply_waits_for_its_render_unless_asked_for_a_pdf():
    assert ReplyFactory(signed=True).pdf_sha256 == ""
    assert ReplyFactory(signed=True, pdf=True).pdf_size == len(TINY_PDF)


def test_an_unknown_stage_is_refused():
    with pytest.raises(ValueError, match="stage"):
        ReplyFactory(stage="mailed")


def test_a_delivered_opinion_closes_its_co_assignment():
    opinion = CoOpinionFactory(delivered=True)
    assert opinion.state == CoOpinion.State.DELIVERED
    assert verbs(opinion) == ["start", "edit", "submit", "sign", "deliver"]
    opinion.assignment.refresh_from_db()
    assert opinion.assignment.state == AssignmentState.OPINION_SENT


def test_feedback_not_satisfied_reopens_the_assignment_as_the_app_does():
    fb = FeedbackFactory(rating=Feedback.Rating.NOT_SATISFIED)
    assert fb.reply.state == Reply.State.SENT
    assert verbs(fb) == ["feedback"]
    fb.reply.assignment.refresh_from_db()
    assert fb.reply.assignment.state == AssignmentState.ACCEPTED
    assert fb.reply.assignment.round == 2
