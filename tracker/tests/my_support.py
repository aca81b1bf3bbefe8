"""Builders for the proposer-page tests (tracker/tests/test_my*.py): members with a login, and
a proposal taken through the real workflow to a sent, signed reply with its stored PDF.

Every private thing the workflow can hold gets a canary string when ``canary`` is given, so a
test can fetch every /my/ page and assert none of them leaks.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from proposals import workflow as pwf
from proposals.models import Assignment, Membership, Proposal, Proposer, Unit, User
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.models import Reply

PASSWORD = f.PASSWORD
D = datetime.date


def member(username: str, name: str, *, canary: str = "", sector: str = "") -> User:
    """A member with a login; with ``canary`` in every contact field of theirs."""
    user = f.UserFactory(username=username, full_name=name, is_staff=False)
    contact = {}
    if canary:
        user.email = f"{canary.lower()}-{username}@example.org"
        user.phone = f"{canary}-user-phone"
        user.save(update_fields=["email", "phone"])
        contact = {
            "mobile": f"{canary}-mobile",
            "phone": f"{canary}-phone",
            "email": f"{canary.lower()}-{username}@proposer.example.org",
            "address": f"{canary}-address",
            "postcode": "200050",
        }
    f.ProposerFactory(name=name, user=user, sector=sector, **contact)
    return user


def staff(username: str, name: str, unit: Unit, role: str = Membership.Role.CLERK) -> User:
    user = f.UserFactory(username=username, full_name=name)
    f.MembershipFactory(user=user, unit=unit, role=role)
    return user


@dataclass
class Handling:
    """The units and people who handle proposals in these tests."""

    committee: User
    unit: Unit
    clerk: User
    signer: User
    co_unit: Unit
    co_clerk: User
    co_signer: User


def handling(committee: User) -> Handling:
    unit = f.UnitFactory(
        name="长宁区发展和改革委员会",
        short_name="区发改委",
        organ_name="上海市长宁区发展和改革委员会",
        docno_prefix="长发改",
        address="长宁路599号",
        postcode="200050",
        contact_name="汪骏杰",
        contact_phone="22051162",
    )
    co_unit = f.UnitFactory(name="长宁区商务委员会", short_name="区商务委", docno_prefix="长商务")
    return Handling(
        committee=committee,
        unit=unit,
        clerk=staff("fgw_clerk", "汪骏杰", unit),
        signer=staff("fgw_signer", "叶鹏举", unit, Membership.Role.SIGNER),
        co_unit=co_unit,
        co_clerk=staff("swc_clerk", "钱雪梅", co_unit),
        co_signer=staff("swc_signer", "陶建国", co_unit, Membership.Role.SIGNER),
    )


@dataclass
class Replied:
    proposal: Proposal
    lead: Assignment
    co: Assignment
    reply: Reply
    extra: dict = field(default_factory=dict)


REPLY_BODY = (
    "一、总体情况\n"
    "近年来，我委会同区相关部门，持续推进产业结构优化和营商环境建设。\n"
    "（一）推进重点项目\n"
    "1.加快存量土地资源盘活，推动老旧厂房更新改造。\n"
    "二、下一步工作\n"
    "我们将认真吸收您的建议，进一步完善相关政策措施。"
)


def replied_proposal(
    h: Handling,
    *,
    session,
    lead: Proposer,
    co_proposers: list[Proposer] = (),
    title: str = "关于推进长宁产业发展的建议",
    canary: str = "",
    store_pdf: bool = True,
    merge: list[Proposal] = (),
) -> Replied:
    """Filed (with ``merge`` merged into it), assigned (lead + co-handling unit), accepted,
    contacted, opinion delivered, reply drafted, returned once by the signer, signed, sent;
    its PDF stored."""
    c = canary
    proposal = f.ProposalFactory(
        session=session,
        lead_proposer=lead,
        title=title,
        analysis="长宁区产业发展面临土地资源紧张等问题。",
        suggestions="一、盘活存量土地。二、优化营商环境。",
    )
    for i, p in enumerate(co_proposers, start=1):
        f.CoProposerFactory(proposal=proposal, proposer=p, position=i, confirmed_at=timezone.now())
    pwf.file_proposal(proposal, actor=h.committee, note=f"{c}-file-note" if c else "")
    for other in merge:
        pwf.merge_proposal(other, into=proposal, actor=h.committee)
    today = timezone.localdate()
    lead_a, co_a = pwf.assign_proposal(
        proposal,
        actor=h.committee,
        units=[(h.unit, "lead"), (h.co_unit, "co")],
        assigned_on=today,
        note=f"{c}-assign-note" if c else "",
    )
    pwf.accept_assignment(lead_a, actor=h.clerk)
    pwf.accept_assignment(co_a, actor=h.co_clerk)
    pwf.log_contact(
        lead_a,
        actor=h.clerk,
        contacted_on=today,
        method="meeting",
        proposers=[lead],
        participants=f"{c}-participants" if c else "",
        notes=f"{c}-contact-notes" if c else "座谈，听取意见。",
    )
    opinion = rwf.start_opinion(co_a, actor=h.co_clerk)
    opinion = rwf.edit_opinion(
        opinion,
        actor=h.co_clerk,
        version=opinion.version,
        body=opinion.body + (f"{c}-co-opinion" if c else "同意主办单位意见。"),
    )
    rwf.submit_opinion(opinion, actor=h.co_clerk)
    rwf.sign_opinion(opinion, actor=h.co_signer)
    rwf.deliver_opinion(opinion, actor=h.co_clerk)

    reply = rwf.start_reply(lead_a, actor=h.clerk)
    reply = rwf.edit_reply(
        reply,
        actor=h.clerk,
        version=reply.version,
        result_label="解决或采纳",
        body=reply.body + REPLY_BODY,
    )
    rwf.submit_reply(reply, actor=h.clerk)
    rwf.return_reply(reply, actor=h.signer, comment=f"{c}-return-comment" if c else "请补充。")
    rwf.submit_reply(reply, actor=h.clerk)
    rwf.sign_reply(reply, actor=h.signer)
    rwf.send_reply(reply, actor=h.clerk)
    if store_pdf:
        rwf.store_signed_pdf("reply", reply.pk)
    reply.refresh_from_db()
    lead_a.refresh_from_db()
    proposal.refresh_from_db()
    return Replied(proposal=proposal, lead=lead_a, co=co_a, reply=reply)
