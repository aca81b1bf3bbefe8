"""factory_boy factories for replies, co-handling opinions and feedback.

Unlike ``proposals.tests.factories`` these never write a state: every letter is started,
edited, submitted, signed, sent and published by the public functions of ``replies.workflow``,
as a unit's clerk and signer would, so each row has its audit trail, its 文号 from the unit's
counter and the assignment moves that go with it. A trait names how far to go::

    ReplyFactory()                   # 草稿 of an accepted lead assignment
    ReplyFactory(pending=True)       # 待签发
    ReplyFactory(signed=True)        # 已签发, its PDF not rendered yet (the render is queued)
    ReplyFactory(sent=True)          # 已送达, with a stored (stand-in) PDF
    ReplyFactory(published=True)     # 已公开
    ReplyFactory(sent=True, on=datetime.date(2024, 5, 20))   # 签发/送达 dated that day

No PDF is really rendered: the render queued on commit never runs inside a test transaction
(as in ``tracker.tests.access_support``), and where a PDF must exist (送达 requires it, or
``pdf=True``) the renderer is replaced by ``TINY_PDF`` for that one call. ``on`` moves the clock
(``tracker.tests.clock``) for the whole walk, so every date the workflow stamps is that day.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
from collections.abc import Iterator
from unittest import mock

import factory

import replies.pdf
from proposals.models import Assignment, AssignmentState, Membership, Unit, User
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.models import CoOpinion, Disclosure, Feedback, Reply
from tracker.tests import clock

#: A one-page, valid, empty PDF: what the stand-in renderer returns.
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)

REPLY_STAGES = ("draft", "pending", "signed", "sent", "published")
OPINION_STAGES = ("draft", "pending", "signed", "delivered")
BODY = "一、基本情况\n已经办理。"

_staff_serial = itertools.count(1)


def unit_staff(unit: Unit, role: str) -> User:
    """An active member of ``unit`` who may act in ``role``: a signer for 签发, anyone of the
    unit for drafting and sending (the workflow's own rule). Made when the unit has none."""
    members = Membership.objects.filter(unit=unit, user__is_active=True).select_related("user")
    if role == Membership.Role.SIGNER:
        members = members.filter(role=Membership.Role.SIGNER)
    found = members.order_by("pk").first()
    if found is not None:
        return found.user
    n = next(_staff_serial)
    user = f.UserFactory(username=f"rf_{role}_{unit.pk}_{n}", full_name=f"{unit.short_name}{n}")
    f.MembershipFactory(user=user, unit=unit, role=role)
    return user


@contextlib.contextmanager
def stand_in_renderer() -> Iterator[None]:
    """Signed PDFs rendered as ``TINY_PDF`` (the real renderer takes a second a letter)."""
    with mock.patch.object(replies.pdf, "render_letter_pdf", lambda letter: TINY_PDF):
        yield


def _on(on: datetime.date | datetime.datetime | None):
    return clock.travel(on) if on is not None else contextlib.nullcontext()


def _stage(stages: tuple[str, ...], stage: str) -> int:
    """How far to go, as an index into ``stages`` (a trait sets ``stage``)."""
    if stage not in stages:
        raise ValueError(f"stage {stage!r} is not one of {', '.join(stages)}")
    return stages.index(stage)


class AcceptedAssignmentFactory(f.AssignmentFactory):
    """An assignment its unit has signed for (签收): where drafting starts."""

    state = AssignmentState.ACCEPTED


class ReplyFactory(factory.Factory):
    """A reply walked through the workflow to the stage its trait names (draft by default).

    Fields a clerk may edit (``title``, ``body``, ``result_label``, ``disclosure``, …) are saved
    with ``edit_reply`` before submitting; ``kind`` is passed to ``start_reply``.
    """

    class Meta:
        model = Reply

    assignment = factory.SubFactory(AcceptedAssignmentFactory, role=Assignment.Role.LEAD)
    kind = Reply.Kind.REPLY
    result_label = "解决或采纳"
    disclosure = Disclosure.PUBLIC
    body = BODY
    stage = "draft"
    #: The day (or moment) the walk happens on; None: now.
    on = None
    #: Store the (stand-in) PDF; None: when sent, which requires it.
    pdf = None

    @classmethod
    def _create(cls, model_class, *, assignment, kind, stage, on, pdf, **fields) -> Reply:
        stage = _stage(REPLY_STAGES, stage)
        clerk = unit_staff(assignment.unit, Membership.Role.CLERK)
        with _on(on):
            reply = rwf.start_reply(assignment, actor=clerk, kind=kind)
            if "body" in fields:
                fields["body"] = f"{reply.body}{fields['body']}"
            reply = rwf.edit_reply(reply, actor=clerk, version=reply.version, **fields)
            if stage >= REPLY_STAGES.index("pending"):
                rwf.submit_reply(reply, actor=clerk, override_reason="会办意见另行送达")
            if stage >= REPLY_STAGES.index("signed"):
                signer = unit_staff(assignment.unit, Membership.Role.SIGNER)
                rwf.sign_reply(reply, actor=signer)
                if pdf or (pdf is None and stage >= REPLY_STAGES.index("sent")):
                    with stand_in_renderer():
                        rwf.store_signed_pdf("reply", reply.pk)
            if stage >= REPLY_STAGES.index("sent"):
                rwf.send_reply(reply, actor=clerk)
            if stage >= REPLY_STAGES.index("published"):
                rwf.publish_reply(reply, actor=clerk)
        return Reply.objects.get(pk=reply.pk)

    class Params:
        pending = factory.Trait(stage="pending")
        signed = factory.Trait(stage="signed")
        sent = factory.Trait(stage="sent")
        published = factory.Trait(stage="published")


class CoOpinionFactory(factory.Factory):
    """A co-handling opinion walked through the workflow: draft, ``pending``, ``signed`` or
    ``delivered`` (送主办单位, which closes the co assignment as 已会办)."""

    class Meta:
        model = CoOpinion

    assignment = factory.SubFactory(AcceptedAssignmentFactory, role=Assignment.Role.CO)
    body = BODY
    stage = "draft"
    on = None
    #: Store the (stand-in) PDF once signed (送主办单位 does not require it).
    pdf = False

    @classmethod
    def _create(cls, model_class, *, assignment, stage, on, pdf, **fields) -> CoOpinion:
        stage = _stage(OPINION_STAGES, stage)
        clerk = unit_staff(assignment.unit, Membership.Role.CLERK)
        with _on(on):
            opinion = rwf.start_opinion(assignment, actor=clerk)
            if "body" in fields:
                fields["body"] = f"{opinion.body}{fields['body']}"
            opinion = rwf.edit_opinion(opinion, actor=clerk, version=opinion.version, **fields)
            if stage >= OPINION_STAGES.index("pending"):
                rwf.submit_opinion(opinion, actor=clerk)
            if stage >= OPINION_STAGES.index("signed"):
                signer = unit_staff(assignment.unit, Membership.Role.SIGNER)
                rwf.sign_opinion(opinion, actor=signer)
                if pdf:
                    with stand_in_renderer():
                        rwf.store_signed_pdf("opinion", opinion.pk)
            if stage >= OPINION_STAGES.index("delivered"):
                rwf.deliver_opinion(opinion, actor=clerk)
        return CoOpinion.objects.get(pk=opinion.pk)

    class Params:
        pending = factory.Trait(stage="pending")
        signed = factory.Trait(stage="signed")
        delivered = factory.Trait(stage="delivered")


class FeedbackFactory(factory.Factory):
    """A proposer's feedback on a sent reply, recorded by ``record_feedback`` (as the committee
    would enter one received on paper, unless ``actor`` says who). 不满意 reopens the
    assignment, as it does in the app."""

    class Meta:
        model = Feedback

    reply = factory.SubFactory(ReplyFactory, sent=True)
    proposer = factory.LazyAttribute(lambda o: o.reply.proposal.lead_proposer)
    rating = Feedback.Rating.SATISFIED
    channel = Feedback.Channel.PAPER
    actor = factory.SubFactory(f.CommitteeFactory)
    on = None

    @classmethod
    def _create(cls, model_class, *, reply, proposer, actor, on, **fields) -> Feedback:
        with _on(on):
            return rwf.record_feedback(reply, actor=actor, proposer=proposer, **fields)
