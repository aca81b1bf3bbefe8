"""Builders for the API tests (tracker/tests/test_api*.py).

``world`` takes proposals through the real workflow — returned and revised, filed, assigned to a
lead and a co-handling unit, contacted, the co-handling opinion delivered, the reply drafted,
returned by the signer, signed, sent and published — and plants a canary string in every private
thing along the way: proposers' phones and e-mails, the committee's review note, contact notes,
the signer's return comment, the co-handling opinion, drafts, and the replies that must stay
internal (依申请公开, 不予公开, sent but not published). ``bulk_published`` makes many published
replies at once (``bulk_create``), for query counts.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from proposals import workflow as pwf
from proposals.models import (
    Assignment,
    AssignmentState,
    CoProposer,
    Membership,
    Proposal,
    ProposalStatus,
    Proposer,
    Session,
    Unit,
    User,
)
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.models import Disclosure, Reply, ReplyState, result_class_for

CANARY = "KANARIE"
D = datetime.date
PUBLISHED_ON = D(2024, 5, 10)

REPLY_BODY = (
    "一、总体情况\n"
    "我委会同区相关部门，持续推进产业结构优化和营商环境建设。\n"
    "二、下一步工作\n"
    "我们将认真吸收您的建议，进一步完善相关政策措施。"
)


def member(username: str, name: str) -> User:
    """A member who signs in, with a canary in every contact field of theirs."""
    user = f.UserFactory(
        username=username,
        full_name=name,
        is_staff=False,
        email=f"{CANARY.lower()}-{username}@user.example.org",
        phone=f"{CANARY}-user-phone-{username}",
    )
    f.ProposerFactory(
        name=name,
        user=user,
        mobile=f"{CANARY}-mobile-{username}",
        phone=f"{CANARY}-phone-{username}",
        email=f"{CANARY.lower()}-{username}@proposer.example.org",
        address=f"{CANARY}-address-{username}",
        postcode="200050",
    )
    return user


def token_for(user: User) -> str:
    return Token.objects.get_or_create(user=user)[0].key


def token_client(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {token_for(user)}")


def staff(username: str, unit: Unit, role: str = Membership.Role.CLERK) -> User:
    user = f.UserFactory(username=username, full_name=f"{username}姓名")
    f.MembershipFactory(user=user, unit=unit, role=role)
    return user


@dataclass
class Handling:
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
        contact_name="汪骏杰",
        contact_phone="22051162",
    )
    co_unit = f.UnitFactory(
        name="长宁区商务委员会",
        short_name="区商务委",
        organ_name="上海市长宁区商务委员会",
        docno_prefix="长商务",
    )
    return Handling(
        committee=committee,
        unit=unit,
        clerk=staff("api_clerk", unit),
        signer=staff("api_signer", unit, Membership.Role.SIGNER),
        co_unit=co_unit,
        co_clerk=staff("api_co_clerk", co_unit),
        co_signer=staff("api_co_signer", co_unit, Membership.Role.SIGNER),
    )


@dataclass
class Handled:
    proposal: Proposal
    lead: Assignment
    co: Assignment
    reply: Reply
    extra: dict = field(default_factory=dict)


def handled(
    h: Handling,
    *,
    session: Session,
    lead: Proposer,
    coproposers: tuple[Proposer, ...] = (),
    title: str = "关于推进长宁产业发展的建议",
    disclosure: str = Disclosure.PUBLIC,
    publish: bool = True,
    store_pdf: bool = False,
    body_extra: str = "",
) -> Handled:
    """A proposal taken through the workflow to a sent (and, if public, published) reply."""
    c = CANARY
    proposal = f.ProposalFactory(
        session=session,
        lead_proposer=lead,
        title=title,
        analysis="产业发展面临土地资源紧张等问题。",
        suggestions="盘活存量土地，优化营商环境。",
    )
    for i, p in enumerate(coproposers, start=1):
        f.CoProposerFactory(proposal=proposal, proposer=p, position=i, confirmed_at=timezone.now())
    pwf.return_proposal(proposal, actor=h.committee, reason=f"{c}-review-note")
    pwf.resubmit_proposal(proposal, actor=h.committee)
    pwf.file_proposal(proposal, actor=h.committee, note=f"{c}-file-note")
    today = timezone.localdate()
    lead_a, co_a = pwf.assign_proposal(
        proposal,
        actor=h.committee,
        units=[(h.unit, "lead"), (h.co_unit, "co")],
        assigned_on=today - datetime.timedelta(days=20),
        note=f"{c}-assign-note",
    )
    pwf.accept_assignment(lead_a, actor=h.clerk)
    pwf.accept_assignment(co_a, actor=h.co_clerk)
    pwf.log_contact(
        lead_a,
        actor=h.clerk,
        contacted_on=today - datetime.timedelta(days=10),
        method="meeting",
        proposers=[lead],
        participants=f"{c}-participants",
        notes=f"{c}-contact-notes",
    )
    opinion = rwf.start_opinion(co_a, actor=h.co_clerk)
    opinion = rwf.edit_opinion(
        opinion, actor=h.co_clerk, version=opinion.version, body=f"{c}-co-opinion-body"
    )
    rwf.submit_opinion(opinion, actor=h.co_clerk)
    rwf.return_opinion(opinion, actor=h.co_signer, comment=f"{c}-opinion-return-comment")
    rwf.submit_opinion(opinion, actor=h.co_clerk)
    rwf.sign_opinion(opinion, actor=h.co_signer)
    rwf.deliver_opinion(opinion, actor=h.co_clerk)

    reply = rwf.start_reply(lead_a, actor=h.clerk)
    reply = rwf.edit_reply(
        reply,
        actor=h.clerk,
        version=reply.version,
        result_label="解决或采纳",
        disclosure=disclosure,
        body=reply.body + REPLY_BODY + body_extra,
    )
    rwf.submit_reply(reply, actor=h.clerk)
    rwf.return_reply(reply, actor=h.signer, comment=f"{c}-return-comment")
    rwf.submit_reply(reply, actor=h.clerk)
    rwf.sign_reply(reply, actor=h.signer)
    rwf.send_reply(reply, actor=h.clerk)
    if publish and disclosure == Disclosure.PUBLIC:
        rwf.publish_reply(reply, actor=h.clerk)
    if store_pdf:
        rwf.store_signed_pdf("reply", reply.pk)
    for obj in (reply, lead_a, proposal):
        obj.refresh_from_db()
    return Handled(proposal=proposal, lead=lead_a, co=co_a, reply=reply)


def draft_reply_with_canary(h: Handling, assignment: Assignment) -> Reply:
    """A follow-up reply left as a draft, its text a canary."""
    reply = rwf.start_reply(assignment, actor=h.clerk, kind=Reply.Kind.FOLLOW_UP)
    return rwf.edit_reply(
        reply, actor=h.clerk, version=reply.version, body=f"{CANARY}-draft-body", title="再次答复稿"
    )


# --- Many rows at once ---------------------------------------------------------------------


def bulk_published(
    n: int,
    *,
    session: Session,
    units: list[Unit],
    lead: Proposer,
    start_serial: int = 1000,
    published_on: datetime.date = PUBLISHED_ON,
    coproposers: tuple[Proposer, ...] = (),
) -> list[Reply]:
    """``n`` published replies (with their filed proposals and lead assignments), written with
    ``bulk_create``: the state a long-running portal reaches, without the workflow's cost."""
    now = timezone.now()
    proposals = Proposal.objects.bulk_create(
        Proposal(
            session=session,
            serial=start_serial + i,
            number=session.format_number(start_serial + i),
            title=f"关于第{start_serial + i}项民生工作的建议",
            lead_proposer=lead,
            status=ProposalStatus.REPLIED,
            submitted_at=now,
            filed_at=now,
        )
        for i in range(n)
    )
    CoProposer.objects.bulk_create(
        CoProposer(proposal=p, proposer=co, position=j, confirmed_at=now)
        for p in proposals
        for j, co in enumerate(coproposers, start=1)
    )
    assignments = Assignment.objects.bulk_create(
        Assignment(
            proposal=p,
            unit=units[i % len(units)],
            role=Assignment.Role.LEAD,
            state=AssignmentState.REPLIED,
            assigned_on=published_on - datetime.timedelta(days=90),
        )
        for i, p in enumerate(proposals)
    )
    labels = ["解决或采纳", "列入计划拟解决", "因条件限制暂不能解决", "留作参考"]
    at = timezone.make_aware(datetime.datetime.combine(published_on, datetime.time(9)))
    return Reply.objects.bulk_create(
        Reply(
            assignment=a,
            proposal=a.proposal,
            unit=a.unit,
            title=f"对区政协{session.name}{a.proposal.number}提案的答复",
            salutation=f"{lead.name}委员：",
            body=REPLY_BODY,
            closing="感谢对我们工作的关心和支持。",
            result_label=labels[i % 4],
            result_class=result_class_for(labels[i % 4]),
            disclosure=Disclosure.PUBLIC,
            state=ReplyState.PUBLISHED,
            docno_prefix=a.unit.docno_prefix,
            docno_year=published_on.year,
            docno_number=start_serial + i,
            signer_name="叶鹏举",
            signed_on=published_on - datetime.timedelta(days=7 + i % 5),
            signed_at=at,
            sent_at=at,
            published_on=published_on - datetime.timedelta(days=i % 3),
        )
        for i, a in enumerate(assignments)
    )
