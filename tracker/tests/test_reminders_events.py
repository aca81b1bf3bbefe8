"""Event notices: sent when the workflow's transaction commits, never on a rollback, once per
event and recipient, in Chinese, to whoever must act next."""

import datetime

import pytest
from django.db import transaction

from proposals import events
from proposals import workflow as pwf
from proposals.models import Membership, Proposal
from proposals.tests import factories as f
from replies import workflow as rwf
from tracker.mail import notices as mail_notices
from tracker.models import EventNotice

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


@pytest.fixture
def notices(eager_tasks, django_capture_on_commit_callbacks, mailoutbox):
    """``with notices():`` — run the block's on-commit callbacks, as a commit would."""

    def capture():
        return django_capture_on_commit_callbacks(execute=True)

    return capture


@pytest.fixture
def proposal(people, session):
    lead = f.ProposerFactory(name="张文浩", email="zhangwh@example.org")
    proposal = f.ProposalFactory(
        session=session, lead_proposer=lead, title="关于加强社区养老服务的建议"
    )
    f.CoProposerFactory(proposal=proposal, proposer=f.ProposerFactory(name="林静", email=""))
    f.CoProposerFactory(
        proposal=proposal, proposer=f.ProposerFactory(name="瞿子涵", email="quzh@example.org")
    )
    pwf.file_proposal(proposal, actor=people.committee)
    return proposal


@pytest.fixture
def assignment(proposal, people):
    (a,) = pwf.assign_proposal(
        proposal,
        actor=people.committee,
        units=[(people.unit_a, "lead")],
        assigned_on=datetime.date(2026, 11, 2),
    )
    pwf.accept_assignment(a, actor=people.clerk_a)
    return a


@pytest.fixture
def signed_reply(assignment, people):
    reply = rwf.start_reply(assignment, actor=people.clerk_a)
    reply = rwf.edit_reply(
        reply,
        actor=people.clerk_a,
        version=reply.version,
        result_label="采纳",
        body=reply.body + "一、具体措施。",
    )
    rwf.submit_reply(reply, actor=people.clerk_a)
    return rwf.sign_reply(reply, actor=people.signer_a)


def to(mailoutbox) -> set[str]:
    return {address for m in mailoutbox for address in m.to}


def test_an_assignment_notifies_the_units_clerks_when_it_commits(
    proposal, people, notices, mailoutbox
):
    with notices() as callbacks:
        (a,) = pwf.assign_proposal(
            proposal,
            actor=people.committee,
            units=[(people.unit_a, "lead")],
            assigned_on=datetime.date(2026, 11, 2),
        )

    assert len(callbacks) >= 1
    assert to(mailoutbox) == {people.clerk_a.email, people.clerk_a2.email}
    message = mailoutbox[0]
    number = Proposal.objects.get(pk=proposal.pk).number
    assert message.subject == f"新交办提案：{number} 关于加强社区养老服务的建议"
    assert "主办" in message.body and "申请退回期限" in message.body
    assert f"/admin/proposals/assignment/{a.pk}/change/" in message.body
    assert message.alternatives[0][1] == "text/html"
    assert set(EventNotice.objects.values_list("event", "state")) == {
        ("assignment_created", "sent")
    }


def test_a_rolled_back_assignment_notifies_nobody(proposal, people, notices, mailoutbox):
    with notices() as callbacks, pytest.raises(Rollback), transaction.atomic():
        pwf.assign_proposal(proposal, actor=people.committee, units=[(people.unit_a, "lead")])
        raise Rollback

    assert callbacks == []
    assert mailoutbox == []
    assert not EventNotice.objects.exists()


@pytest.mark.parametrize("approve", [True, False])
def test_a_reassignment_decision_notifies_the_unit(
    assignment, people, notices, mailoutbox, approve
):
    pwf.request_reassignment(
        assignment, actor=people.clerk_a, reason="不属于本单位职责", on=datetime.date(2026, 11, 3)
    )

    with notices():
        if approve:
            pwf.approve_reassignment(assignment, actor=people.committee)
        else:
            pwf.refuse_reassignment(assignment, actor=people.committee, note="属于本单位职责")

    assert to(mailoutbox) == {people.clerk_a.email, people.clerk_a2.email}
    expected = "已同意" if approve else "未获同意"
    assert mailoutbox[0].subject.startswith(f"退回申请{expected}")
    if not approve:
        assert "属于本单位职责" in mailoutbox[0].body


def test_a_reply_submitted_for_signing_notifies_the_signer(assignment, people, notices, mailoutbox):
    reply = rwf.start_reply(assignment, actor=people.clerk_a)
    reply = rwf.edit_reply(
        reply, actor=people.clerk_a, version=reply.version, result_label="采纳", body="正文"
    )

    with notices():
        rwf.submit_reply(reply, actor=people.clerk_a)

    assert to(mailoutbox) == {people.signer_a.email}
    assert mailoutbox[0].subject.endswith("提案的答复")
    assert mailoutbox[0].subject.startswith("待签发：")
    assert f"/admin/replies/reply/{reply.pk}/change/" in mailoutbox[0].body


def test_an_opinion_submitted_for_signing_notifies_the_co_units_signer(
    proposal, people, notices, mailoutbox
):
    _lead, co = pwf.assign_proposal(
        proposal,
        actor=people.committee,
        units=[(people.unit_b, "lead"), (people.unit_a, "co")],
    )
    pwf.accept_assignment(co, actor=people.clerk_a)
    opinion = rwf.start_opinion(co, actor=people.clerk_a)

    with notices():
        rwf.submit_opinion(opinion, actor=people.clerk_a)

    assert to(mailoutbox) == {people.signer_a.email}
    assert "会办意见" in mailoutbox[0].subject


def test_a_sent_reply_notifies_every_proposer_with_an_email_and_links_their_page(
    signed_reply, people, notices, mailoutbox
):
    with notices():
        rwf.send_reply(signed_reply, actor=people.clerk_a)

    assert to(mailoutbox) == {"zhangwh@example.org", "quzh@example.org"}
    message = next(m for m in mailoutbox if m.to == ["zhangwh@example.org"])
    assert message.body.startswith("张文浩：")
    assert "http://127.0.0.1:8000/my/" in message.body
    assert signed_reply.doc_number in message.body


def test_not_satisfied_feedback_notifies_the_unit_and_the_committee(
    signed_reply, people, notices, mailoutbox
):
    rwf.send_reply(signed_reply, actor=people.clerk_a)
    lead = signed_reply.proposal.lead_proposer

    with notices():
        rwf.record_feedback(
            signed_reply,
            actor=people.committee,
            proposer=lead,
            rating="not_satisfied",
            comment="希望增加日间照料中心",
        )

    assert to(mailoutbox) == {
        people.clerk_a.email,
        people.clerk_a2.email,
        people.signer_a.email,
        people.committee.email,
    }
    assert "不满意" in mailoutbox[0].subject
    assert "希望增加日间照料中心" in mailoutbox[0].body


def test_satisfied_feedback_notifies_nobody(signed_reply, people, notices, mailoutbox):
    rwf.send_reply(signed_reply, actor=people.clerk_a)

    with notices():
        rwf.record_feedback(
            signed_reply,
            actor=people.committee,
            proposer=signed_reply.proposal.lead_proposer,
            rating="satisfied",
        )

    assert mailoutbox == []


def test_an_event_handled_twice_sends_one_notice_per_recipient(
    assignment, people, eager_tasks, mailoutbox, django_capture_on_commit_callbacks
):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            mail_notices.record_event_notices("assignment_created", assignment_id=assignment.pk)

    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [people.clerk_a.email, people.clerk_a2.email]
    )
    assert EventNotice.objects.count() == 2


def test_a_unit_without_clerks_hears_through_its_signer(proposal, people, notices, mailoutbox):
    Membership.objects.filter(unit=people.unit_b, role="clerk").delete()

    with notices():
        pwf.assign_proposal(proposal, actor=people.committee, units=[(people.unit_b, "lead")])

    assert to(mailoutbox) == {people.signer_b.email}


def test_silenced_events_notify_nobody(proposal, people, notices, mailoutbox):
    with notices() as callbacks, events.silenced():
        pwf.assign_proposal(proposal, actor=people.committee, units=[(people.unit_a, "lead")])

    assert callbacks == []
    assert mailoutbox == []


def test_a_failing_handler_is_logged_and_does_not_undo_the_workflow_call(
    proposal, people, django_capture_on_commit_callbacks, caplog, eager_tasks, mailoutbox
):
    def broken(**ids):
        raise RuntimeError("broken handler")

    events.register("assignment_created", broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            (a,) = pwf.assign_proposal(
                proposal, actor=people.committee, units=[(people.unit_a, "lead")]
            )
    finally:
        events.unregister("assignment_created", broken)

    a.refresh_from_db()
    assert a.state == "pending"
    assert "broken handler" in caplog.text
    assert len(mailoutbox) == 2, "the other handlers still ran"


def test_tracker_handles_every_event_the_workflow_emits():
    for event in EventNotice.Event.values:
        assert mail_notices.HANDLERS[event] in events.handlers_for(event)


@pytest.mark.parametrize("approve", [True, False])
def test_an_extension_decision_notifies_the_unit(assignment, people, notices, mailoutbox, approve):
    from proposals.models import DueDate

    due = assignment.due_dates.get(clock=DueDate.Clock.REPLY, round=assignment.round)
    wanted = due.due_on + datetime.timedelta(days=14)
    pwf.request_extension(
        assignment, actor=people.clerk_a, new_due_on=wanted, reason="需跨部门协调"
    )

    with notices():
        if approve:
            pwf.approve_extension(assignment, actor=people.committee)
        else:
            pwf.refuse_extension(assignment, actor=people.committee, note="请按期答复")

    assert to(mailoutbox) == {people.clerk_a.email, people.clerk_a2.email}
    expected = "已同意" if approve else "未获同意"
    assert mailoutbox[0].subject.startswith(f"延期申请{expected}")
    assert f"{wanted.year}年{wanted.month}月{wanted.day}日" in mailoutbox[0].body
    if not approve:
        assert "请按期答复" in mailoutbox[0].body


def test_co_proposers_are_invited_by_e_mail_and_asked_again_after_a_change(
    session, notices, mailoutbox
):
    from proposals.models import CoProposer
    from tracker.tests.my_support import member

    lead = member("lead", "张文浩")
    co = f.ProposerFactory(name="瞿子涵", email="quzh@example.org")
    quiet = f.ProposerFactory(name="林静", email="")

    with notices():
        proposal = pwf.draft_proposal(
            actor=lead,
            session=session,
            title="关于加强社区养老服务的建议",
            analysis="分析",
            suggestions="建议",
            coproposers=[co, quiet],
        )
    assert to(mailoutbox) == {"quzh@example.org"}  # whoever has an address
    first = mailoutbox[0]
    assert first.subject == "邀请您联名提案：关于加强社区养老服务的建议"
    assert "张文浩邀请您作为联名提案人" in first.body
    assert f"/my/proposals/{proposal.pk}/" in first.body

    # Confirmed, then the lead changes the text: the confirmation is cleared, asked again.
    CoProposer.objects.filter(proposal=proposal).update(confirmed_at="2026-11-20T10:00+08:00")
    mailoutbox.clear()
    with notices():
        pwf.revise_proposal(
            proposal,
            actor=lead,
            title="关于加强社区养老服务的建议",
            analysis="分析（修改）",
            suggestions="建议",
            coproposers=[co, quiet],
        )
    assert to(mailoutbox) == {"quzh@example.org"}
    assert mailoutbox[0].subject.startswith("联名提案已修改，请再次确认")

    # A change of category only keeps the confirmations: nobody is asked again.
    CoProposer.objects.filter(proposal=proposal).update(confirmed_at="2026-11-21T10:00+08:00")
    mailoutbox.clear()
    with notices():
        pwf.revise_proposal(
            proposal,
            actor=lead,
            title="关于加强社区养老服务的建议",
            analysis="分析（修改）",
            suggestions="建议",
            category=Proposal.Category.SOCIETY,
            coproposers=[co, quiet],
        )
    assert mailoutbox == []


def test_a_draft_without_co_proposers_sends_nothing(session, notices, mailoutbox):
    from tracker.tests.my_support import member

    with notices():
        pwf.draft_proposal(actor=member("solo", "张文浩"), session=session, title="独立提案")
    assert mailoutbox == []


def _decide_reassignment(assignment, people):
    from proposals.models import PendingEvent

    # The fixtures' own events (the assignment) never committed in this test: not ours.
    PendingEvent.objects.all().delete()
    pwf.request_reassignment(
        assignment, actor=people.clerk_a, reason="不属于本单位职责", on=datetime.date(2026, 11, 3)
    )
    pwf.refuse_reassignment(assignment, actor=people.committee, note="属于本单位职责")


def test_a_delivered_event_leaves_nothing_pending(assignment, people, notices, mailoutbox):
    from proposals.models import PendingEvent

    with notices():
        _decide_reassignment(assignment, people)
    assert len(mailoutbox) == 2
    assert not PendingEvent.objects.exists()


def test_an_event_whose_process_died_after_the_commit_is_delivered_by_the_sweep(
    assignment, people, eager_tasks, django_capture_on_commit_callbacks, mailoutbox
):
    from proposals.models import PendingEvent
    from tracker import tasks

    # The commit happened; the process died before its on-commit callbacks ran.
    with django_capture_on_commit_callbacks(execute=False):
        _decide_reassignment(assignment, people)
    assert PendingEvent.objects.get().name == "reassignment_decided"
    assert not EventNotice.objects.exists() and mailoutbox == []

    assert events.redeliver(older_than=datetime.timedelta(hours=1)) == 0  # too young yet
    with django_capture_on_commit_callbacks(execute=True):
        assert events.redeliver(older_than=datetime.timedelta(0)) == 1
    assert to(mailoutbox) == {people.clerk_a.email, people.clerk_a2.email}
    assert not PendingEvent.objects.exists()
    # Once only: the hourly task finds nothing more, and a second run writes no new notice.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.retry_unsent()
    assert len(mailoutbox) == 2 and EventNotice.objects.count() == 2


def test_a_failing_handler_leaves_the_event_for_the_sweep(
    assignment, people, notices, mailoutbox, monkeypatch
):
    from proposals.models import PendingEvent

    working = list(events.handlers_for("reassignment_decided"))

    def broken(**ids):
        raise RuntimeError("SMTP relay down")

    monkeypatch.setitem(events._handlers, "reassignment_decided", [broken])
    with notices():
        _decide_reassignment(assignment, people)  # the workflow call itself succeeds
    assert PendingEvent.objects.count() == 1 and mailoutbox == []

    monkeypatch.setitem(events._handlers, "reassignment_decided", working)
    with notices():
        assert events.redeliver(older_than=datetime.timedelta(0)) == 1
    assert len(mailoutbox) == 2 and not PendingEvent.objects.exists()
