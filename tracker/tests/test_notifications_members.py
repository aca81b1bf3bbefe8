"""What a member hears about their proposal (issue 21, part 2): 立案 with the number, 不予立案
with the disposition and reason, 退回修改 with the reason, 并案 with the proposal it joined,
交办 with the units and the due date, 答复, 重新办理 — once per step (asserted through the
ledger, the sweep run twice), by the channel the member chose, listed on their /my/ timeline;
and the lead unit's clerks when a 会办意见 arrives."""

from __future__ import annotations

import smtplib

import pytest
from django.core.mail import EmailMultiAlternatives
from django.test import Client, TestCase

from proposals import workflow as pwf
from proposals.models import Proposer, Transition
from proposals.tests import factories as f
from replies import workflow as rwf
from tracker import sms
from tracker.mail import members
from tracker.models import EventNotice, MemberNotice, MemberPreference, NoticeCursor
from tracker.tests.my_support import handling, member, replied_proposal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def sms_locmem(settings):
    settings.SMS_BACKEND = "tracker.sms.backends.locmem.SmsBackend"
    settings.SMS_SIGNATURE = "区政协提案"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def h(committee):
    people = handling(committee)
    people.clerk.email = "fgw-clerk@example.org"
    people.clerk.save(update_fields=["email"])
    return people


@pytest.fixture
def lead(db):
    user = member("lead", "张文浩")
    p = user.proposer
    p.email, p.mobile = "zhangwh@example.org", "13900000001"
    p.save(update_fields=["email", "mobile"])
    return p


def sweep() -> list[int]:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return members.sweep()


def told(proposer: Proposer, event: str, channel: str = "email") -> list[MemberNotice]:
    return list(MemberNotice.objects.filter(proposer=proposer, event=event, channel=channel))


def mails_to(outbox, address: str) -> list:
    return [m for m in outbox if m.to == [address]]


def test_each_step_is_told_once_with_what_the_member_needs(
    h, lead, session, eager_tasks, mailoutbox
):
    proposal = f.ProposalFactory(session=session, lead_proposer=lead, title="关于加装电梯的建议")
    pwf.return_proposal(proposal, actor=h.committee, reason="请补充老旧小区的数量。")
    sweep()
    (returned,) = mails_to(mailoutbox, "zhangwh@example.org")
    assert returned.subject == "【退回修改】关于加装电梯的建议"
    assert "退回理由：请补充老旧小区的数量。" in returned.body
    assert f"/my/proposals/{proposal.pk}/" in returned.body

    pwf.resubmit_proposal(proposal, actor=h.committee)
    pwf.file_proposal(proposal, actor=h.committee)
    proposal.refresh_from_db()
    pwf.assign_proposal(proposal, actor=h.committee, units=[(h.unit, "lead"), (h.co_unit, "co")])
    sweep()
    sweep()  # a second sweep finds nothing new

    mails = mails_to(mailoutbox, "zhangwh@example.org")
    assert [m.subject.split("】")[0] for m in mails] == ["【退回修改", "【立案", "【交办"]
    assert f"已立案，提案号为{proposal.number}。" in mails[1].body
    assert "长宁区发展和改革委员会（主办）、长宁区商务委员会（会办）" in mails[2].body
    assert "答复期限为" in mails[2].body
    for event in ("returned", "filed", "assigned"):
        (row,) = told(lead, event)
        assert row.state == "sent"
    assert sms.outbox == [], "e-mail only unless the member chose 短信"


def test_not_filed_names_the_disposition_and_the_reason(h, lead, session, eager_tasks, mailoutbox):
    proposal = f.ProposalFactory(session=session, lead_proposer=lead, title="关于路灯的建议")
    pwf.not_file_proposal(
        proposal, actor=h.committee, disposition="member_letter", note="属个案诉求。"
    )
    sweep()
    (message,) = mailoutbox
    assert message.subject == "【不予立案】关于路灯的建议"
    assert "处理方式：转委员来信。" in message.body and "理由：属个案诉求。" in message.body


def test_merged_names_the_proposal_it_joined(h, lead, session, eager_tasks, mailoutbox):
    target = f.ProposalFactory(session=session, title="关于交通拥堵的建议")
    pwf.file_proposal(target, actor=h.committee)
    target.refresh_from_db()
    mine = f.ProposalFactory(session=session, lead_proposer=lead, title="关于信号灯的建议")
    sweep()
    mailoutbox.clear()
    pwf.merge_proposal(mine, into=target, actor=h.committee)
    sweep()
    (message,) = mails_to(mailoutbox, "zhangwh@example.org")
    assert f"已并入{target.number}提案《关于交通拥堵的建议》一并办理" in message.body


def test_reply_and_rehandling_reach_the_member_once_and_the_lead_unit_hears_of_the_opinion(
    h, lead, session, eager_tasks, mailoutbox, sms_locmem
):
    MemberPreference.objects.create(proposer=lead, channels="both")
    done = replied_proposal(h, session=session, lead=lead.user.proposer, store_pdf=False)
    sweep()
    # The reply's e-mail is the reply_sent event notice; here it adds the 短信.
    (replied,) = told(lead, "replied", "sms")
    assert replied.state == "sent" and told(lead, "replied", "email") == []
    texts = [m.text for m in sms_locmem if "答复" in m.text]
    assert texts == [
        f"张文浩：您的提案《关于推进长宁产业发展的建议》答复，详见 http://127.0.0.1:8000/my/replies/{done.reply.pk}/"
    ]
    assert sms_locmem[0].signed_text().startswith("【区政协提案】")
    # The co unit's opinion was delivered: the lead unit's clerk was told, once.
    (opinion,) = EventNotice.objects.filter(event="opinion_delivered")
    assert opinion.email == h.clerk.email and opinion.state == "sent"
    assert "会办意见" in mails_to(mailoutbox, h.clerk.email)[-1].subject

    rwf.record_feedback(
        done.reply, actor=lead.user, proposer=lead.user.proposer, rating="not_satisfied"
    )
    sweep()
    sweep()
    assert len(told(lead, "rehandling")) == 1
    mail = mails_to(mailoutbox, "zhangwh@example.org")[-1]
    assert mail.subject.startswith("【重新办理】")
    assert "长宁区发展和改革委员会将重新办理" in mail.body and "答复期限为" in mail.body
    by_channel = {
        channel: sorted(
            MemberNotice.objects.filter(proposer=lead, channel=channel).values_list(
                "event", flat=True
            )
        )
        for channel in ("email", "sms")
    }
    assert by_channel == {
        "email": ["assigned", "filed", "rehandling"],
        "sms": ["assigned", "filed", "rehandling", "replied"],
    }


def test_a_member_who_chose_sms_gets_no_email_and_one_who_chose_none_gets_nothing(
    h, lead, session, eager_tasks, mailoutbox, sms_locmem
):
    MemberPreference.objects.create(proposer=lead, channels="sms")
    quiet = f.ProposerFactory(name="林静", email="lin@example.org", mobile="13900000002")
    MemberPreference.objects.create(proposer=quiet, channels="none")
    proposal = f.ProposalFactory(session=session, lead_proposer=lead, title="关于公园的建议")
    f.CoProposerFactory(proposal=proposal, proposer=quiet)
    pwf.file_proposal(proposal, actor=h.committee)
    sweep()
    assert mailoutbox == []
    assert [m.to for m in sms_locmem] == ["13900000001"]
    assert not MemberNotice.objects.filter(proposer=quiet).exists()


def test_a_group_is_told_through_its_conveners(h, session, eager_tasks, mailoutbox):
    convener = f.ProposerFactory(name="召集人", email="conv@example.org")
    group = f.ProposerFactory(name="民建界别组", kind=Proposer.Kind.SECTOR_GROUP, email="")
    group.conveners.set([convener])
    proposal = f.ProposalFactory(session=session, lead_proposer=group, title="关于营商的建议")
    pwf.file_proposal(proposal, actor=h.committee)
    sweep()
    assert [m.to for m in mailoutbox] == [["conv@example.org"]]


def test_a_notice_that_cannot_be_sent_is_retried_then_shown_failed_on_the_timeline(
    h, lead, session, eager_tasks, mailoutbox, settings, monkeypatch
):
    settings.REMINDER_MAIL_MAX_ATTEMPTS = 2

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("connection closed")

    monkeypatch.setattr(EmailMultiAlternatives, "send", refuse)
    proposal = f.ProposalFactory(session=session, lead_proposer=lead, title="关于绿化的建议")
    pwf.file_proposal(proposal, actor=h.committee)
    sweep()
    (row,) = told(lead, "filed")
    assert (row.state, row.attempts) == (
        "pending",
        1,
    ) and "SMTPServerDisconnected" in row.last_error
    members.deliver_member_notice(row.pk)
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("failed", 2)

    c = Client()
    c.force_login(lead.user)
    page = c.get(f"/my/proposals/{proposal.pk}/").content.decode()
    assert "电子邮件通知发送失败" in page


def test_the_timeline_lists_what_the_member_was_sent(h, lead, session, eager_tasks, mailoutbox):
    proposal = f.ProposalFactory(session=session, lead_proposer=lead, title="关于停车的建议")
    pwf.file_proposal(proposal, actor=h.committee)
    sweep()
    c = Client()
    c.force_login(lead.user)
    page = c.get(f"/my/proposals/{proposal.pk}/").content.decode()
    assert "已通过电子邮件通知您" in page


def test_history_loaded_before_skip_history_is_not_announced(h, lead, session, mailoutbox):
    proposal = f.ProposalFactory(session=session, lead_proposer=lead)
    pwf.file_proposal(proposal, actor=h.committee)
    last = members.skip_history()
    assert NoticeCursor.objects.get(name=members.CURSOR).last_transition_id == last
    assert last == Transition.objects.order_by("-id").first().pk
    assert sweep() == [] and not MemberNotice.objects.exists()
