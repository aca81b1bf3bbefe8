"""The proposer pages (/my/) through Django's test client: who sees what, feedback once,
online submission with co-proposers, CSRF on every form, and nothing private on any page."""

from __future__ import annotations

import datetime
import hashlib
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from proposals import workflow as pwf
from proposals.models import CoProposer, Proposal, Proposer
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.models import Feedback, Reply
from tracker.tests.my_support import PASSWORD, handling, member, replied_proposal

pytestmark = pytest.mark.django_db

CANARY = "CANARY7Q"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(committee, session):
    h = handling(committee)
    p1 = member("p1", "张晓钟", canary=CANARY)
    p2 = member("p2", "林静", canary=CANARY)
    p3 = member("p3", "瞿子涵", canary=CANARY)
    done = replied_proposal(
        h, session=session, lead=p1.proposer, co_proposers=[p3.proposer], canary=CANARY
    )
    return h, p1, p2, p3, done


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def text(response) -> str:
    return response.content.decode()


# --- Signing in -----------------------------------------------------------------------------


def test_a_visitor_is_sent_to_sign_in_and_comes_back(proposer_user):
    response = Client().get("/my/")
    assert response.status_code == 302
    assert response["Location"].startswith("/my/login/?next=/my/")

    c = Client()
    page = c.get("/my/login/")
    assert "用户名" in text(page) and "密码" in text(page)
    response = c.post(
        "/my/login/", {"username": "member", "password": PASSWORD, "next": "/my/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/my/"
    assert "我的提案" in text(response)


def test_a_wrong_password_is_refused_with_a_message(proposer_user):
    response = Client().post("/my/login/", {"username": "member", "password": "nope"})
    assert response.status_code == 200
    assert "msg-error" in text(response)
    assert "_auth_user_id" not in Client().session


def test_staff_visiting_my_get_a_polite_chinese_note(clerk_a):
    response = client_for(clerk_a).get("/my/")
    assert response.status_code == 403
    assert "此页面供提案者使用" in text(response)
    assert 'href="/admin/"' in text(response)


def test_signing_out_takes_a_post(proposer_user):
    c = client_for(proposer_user)
    assert c.get("/my/logout/").status_code == 405
    assert c.post("/my/logout/").status_code == 302
    assert c.get("/my/").status_code == 302


def test_a_member_changes_their_password(proposer_user):
    c = client_for(proposer_user)
    assert "旧密码" in text(c.get("/my/password/"))
    response = c.post(
        "/my/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "Changning-2026-proposal",
            "new_password2": "Changning-2026-proposal",
        },
        follow=True,
    )
    assert "密码已修改" in text(response)
    proposer_user.refresh_from_db()
    assert proposer_user.check_password("Changning-2026-proposal")
    assert c.get("/my/").status_code == 200, "the session survives the change"


# --- 我的提案 -----------------------------------------------------------------------------------


def test_my_proposals_lists_led_cosigned_and_convened_and_nothing_else(world, session):
    _h, p1, p2, p3, done = world
    other = f.ProposalFactory(
        session=session, lead_proposer=p2.proposer, title="关于他人提案的建议"
    )
    group = f.ProposerFactory(kind=Proposer.Kind.SECTOR_GROUP, name="经济界别组")
    group.conveners.add(p3.proposer)
    group_filed = f.ProposalFactory(session=session, lead_proposer=group, title="关于界别组的建议")
    group_draft = f.ProposalFactory(
        session=session, lead_proposer=group, title="关于界别组草稿的建议", status="draft"
    )

    page1 = text(client_for(p1).get("/my/"))
    assert done.proposal.title in page1
    assert "领衔" in page1
    assert done.proposal.number in page1
    assert "长宁区发展和改革委员会" in page1 and "主办" in page1 and "会办" in page1
    assert other.title not in page1 and group_filed.title not in page1

    page3 = text(client_for(p3).get("/my/"))
    assert done.proposal.title in page3 and "联名" in page3
    assert group_filed.title in page3 and "召集" in page3
    assert group_draft.title not in page3, "a group's draft is not the convener's to read"

    page2 = text(client_for(p2).get("/my/"))
    assert other.title in page2
    assert done.proposal.title not in page2


def test_a_proposal_page_shows_progress_units_due_dates_and_the_sent_reply(world):
    _h, p1, _p2, _p3, done = world
    page = text(client_for(p1).get(f"/my/proposals/{done.proposal.pk}/"))
    for step in ("提交", "立案", "交办", "签收", "沟通", "答复送达", "已答复"):
        assert step in page, step
    assert "长宁区发展和改革委员会（主办）" in page
    assert "见面" in page
    assert "答复期限" in page and "沟通见面期限" in page
    assert done.reply.doc_number in page
    assert reverse("my:reply_pdf", args=[done.reply.pk]) in page
    assert reverse("my:feedback", args=[done.reply.pk]) in page
    assert 'aria-current="step"' in page


def test_the_reply_reads_as_text_and_the_pdf_is_the_stored_signed_file(world):
    _h, p1, _p2, _p3, done = world
    c = client_for(p1)
    page = text(c.get(f"/my/replies/{done.reply.pk}/"))
    assert "对区政协" in page and "的答复" in page
    assert "加快存量土地资源盘活" in page
    assert done.reply.doc_number in page
    assert "上海市长宁区发展和改革委员会" in page

    response = c.get(f"/my/replies/{done.reply.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    assert data.startswith(b"%PDF")
    assert hashlib.sha256(data).hexdigest() == done.reply.pdf_sha256


def test_a_cosigner_reads_the_reply_too(world):
    _h, _p1, _p2, p3, done = world
    c = client_for(p3)
    assert c.get(f"/my/replies/{done.reply.pk}/").status_code == 200
    assert c.get(f"/my/replies/{done.reply.pk}/pdf/").status_code == 200


def test_another_member_gets_404_for_the_proposal_reply_pdf_and_feedback(world):
    _h, _p1, p2, _p3, done = world
    c = client_for(p2)
    pk, rpk = done.proposal.pk, done.reply.pk
    for url in (
        f"/my/proposals/{pk}/",
        f"/my/proposals/{pk}/edit/",
        f"/my/replies/{rpk}/",
        f"/my/replies/{rpk}/pdf/",
        f"/my/replies/{rpk}/feedback/",
    ):
        assert c.get(url).status_code == 404, url
    for url in (
        f"/my/proposals/{pk}/submit/",
        f"/my/proposals/{pk}/confirm/",
        f"/my/proposals/{pk}/decline/",
        f"/my/replies/{rpk}/feedback/",
    ):
        assert c.post(url, {"rating": "satisfied"}).status_code == 404, url
    assert not Feedback.objects.exists()


def test_unsent_replies_are_404_even_for_the_proposer(world):
    h, p1, _p2, _p3, done = world
    follow_up = rwf.start_reply(done.lead, actor=h.clerk, kind=Reply.Kind.FOLLOW_UP)
    c = client_for(p1)
    assert c.get(f"/my/replies/{follow_up.pk}/").status_code == 404
    assert c.get(f"/my/replies/{follow_up.pk}/pdf/").status_code == 404


def test_a_merged_proposals_proposer_reads_the_reply_of_the_proposal_it_joined(committee, session):
    h = handling(committee)
    p1, p2 = member("p1", "张晓钟"), member("p2", "林静")
    merged = f.ProposalFactory(session=session, lead_proposer=p2.proposer, title="关于并案的建议")
    done = replied_proposal(h, session=session, lead=p1.proposer, merge=[merged])
    c = client_for(p2)
    page = text(c.get(f"/my/proposals/{merged.pk}/"))
    assert "并入" in page and done.proposal.number in page
    assert reverse("my:reply", args=[done.reply.pk]) in page
    assert c.get(f"/my/replies/{done.reply.pk}/").status_code == 200
    assert c.get(f"/my/proposals/{done.proposal.pk}/").status_code == 404
    assert reverse("my:feedback", args=[done.reply.pk]) in page, "the reply answers them too"


# --- Feedback ---------------------------------------------------------------------------------


def test_feedback_is_taken_once_and_a_second_attempt_is_told_it_was_received(world):
    _h, p1, _p2, _p3, done = world
    c = client_for(p1)
    url = f"/my/replies/{done.reply.pk}/feedback/"
    form = text(c.get(url))
    assert "满意" in form and "基本满意" in form and "不满意" in form
    assert "重新办理" in form and "3个月" in form

    response = c.post(
        url,
        {"rating": "satisfied", "on_work": "satisfied", "on_result": "", "comment": "感谢。"},
        follow=True,
    )
    assert "已收到您的意见" in text(response)
    fb = Feedback.objects.get()
    assert (fb.proposer, fb.rating, fb.on_work, fb.channel) == (
        p1.proposer,
        "satisfied",
        "satisfied",
        "online",
    )

    again = c.post(url, {"rating": "not_satisfied"}, follow=True)
    assert "已收到您的意见" in text(again)
    assert Feedback.objects.count() == 1
    assert "已收到您的意见" in text(c.get(url))
    page = text(c.get(f"/my/proposals/{done.proposal.pk}/"))
    assert "您的反馈：满意" in page


def test_not_satisfied_opens_a_new_round_and_says_what_happens_next(world):
    _h, p1, _p2, _p3, done = world
    c = client_for(p1)
    response = c.post(
        f"/my/replies/{done.reply.pk}/feedback/", {"rating": "not_satisfied"}, follow=True
    )
    assert "重新办理" in text(response) and "3个月" in text(response)
    done.lead.refresh_from_db()
    assert done.lead.round == 2 and done.lead.state == "accepted"
    page = text(c.get(f"/my/proposals/{done.proposal.pk}/"))
    assert "第2轮办理" in page
    assert "重新办理答复期限" in page


def test_feedback_without_a_rating_shows_the_form_again(world):
    _h, p1, _p2, _p3, done = world
    response = client_for(p1).post(f"/my/replies/{done.reply.pk}/feedback/", {"rating": ""})
    assert response.status_code == 200
    assert "该字段是必填项" in text(response)
    assert not Feedback.objects.exists()


# --- Online submission ---------------------------------------------------------------------------


def test_a_member_drafts_a_joint_proposal_the_cosigner_confirms_and_it_is_submitted(
    session, committee
):
    lead = member("lead", "钱建峰")
    co = member("co", "施美芳", sector="经济界")
    c = client_for(lead)
    form = text(c.get("/my/proposals/new/"))
    for label in ("届次会议", "案由", "情况分析", "具体建议", "联名提案人", "施美芳（经济界）"):
        assert label in form
    response = c.post(
        "/my/proposals/new/",
        {
            "session": session.pk,
            "title": "关于加强社区养老服务的建议",
            "category": "society",
            "analysis": "老龄化程度高。",
            "suggestions": "一、增加日间照料中心。",
            "coproposers": [co.proposer.pk],
        },
        follow=True,
    )
    proposal = Proposal.objects.get(title="关于加强社区养老服务的建议")
    assert proposal.status == "draft" and proposal.lead_proposer == lead.proposer
    assert "尚待以下联名提案人确认" in text(response)

    refused = c.post(f"/my/proposals/{proposal.pk}/submit/", follow=True)
    assert "确认" in text(refused)
    proposal.refresh_from_db()
    assert proposal.status == "draft"

    co_client = client_for(co)
    assert "待您确认的联名" in text(co_client.get("/my/"))
    invitation = text(co_client.get(f"/my/proposals/{proposal.pk}/"))
    assert "增加日间照料中心" in invitation and "确认联名" in invitation
    co_client.post(f"/my/proposals/{proposal.pk}/confirm/")
    assert CoProposer.objects.get(proposal=proposal).confirmed_at is not None

    done = c.post(f"/my/proposals/{proposal.pk}/submit/", follow=True)
    assert "已提交" in text(done)
    proposal.refresh_from_db()
    assert proposal.status == "submitted"
    assert c.get(f"/my/proposals/{proposal.pk}/edit/", follow=True).redirect_chain


def test_a_returned_proposal_is_revised_and_resubmitted(session, committee):
    lead = member("lead", "钱建峰")
    proposal = pwf.draft_proposal(
        actor=lead, session=session, title="关于道路的建议", analysis="a", suggestions="b"
    )
    pwf.submit_proposal(proposal, actor=lead)
    pwf.return_proposal(proposal, actor=committee, reason="请补充近三年的事故数据。")
    c = client_for(lead)
    page = text(c.get(f"/my/proposals/{proposal.pk}/"))
    assert "退回修改" in page and "重新提交" in page
    # Issue 21: the committee writes the return reason for the proposer, who reads it here
    # (it was withheld before, and members had to telephone the committee; SECURITY.md).
    assert "退回理由：请补充近三年的事故数据。" in page
    c.post(
        f"/my/proposals/{proposal.pk}/edit/",
        {
            "title": "关于改善道路交通的建议",
            "category": "urban",
            "analysis": "补充了数据。",
            "suggestions": "一、优化信号灯。",
        },
    )
    c.post(f"/my/proposals/{proposal.pk}/submit/")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.title) == ("submitted", "关于改善道路交通的建议")


def test_a_cosigner_may_decline_and_leaves_the_proposal(session):
    lead = member("lead", "钱建峰")
    co = member("co", "施美芳")
    proposal = pwf.draft_proposal(
        actor=lead, session=session, title="关于X的建议", coproposers=[co.proposer]
    )
    c = client_for(co)
    c.post(f"/my/proposals/{proposal.pk}/decline/")
    assert not proposal.coproposer_links.exists()
    assert c.get(f"/my/proposals/{proposal.pk}/").status_code == 404


def test_a_cosigner_cannot_edit_or_submit_the_leads_draft(session):
    lead = member("lead", "钱建峰")
    co = member("co", "施美芳")
    proposal = pwf.draft_proposal(
        actor=lead, session=session, title="关于X的建议", coproposers=[co.proposer]
    )
    c = client_for(co)
    assert c.get(f"/my/proposals/{proposal.pk}/edit/").status_code == 404
    assert c.post(f"/my/proposals/{proposal.pk}/submit/").status_code == 404


# --- CSRF ---------------------------------------------------------------------------------------


def test_every_form_refuses_a_post_without_its_csrf_token(world, session):
    _h, p1, _p2, p3, done = world
    draft = pwf.draft_proposal(
        actor=p1, session=session, title="关于Y的建议", coproposers=[p3.proposer]
    )
    uid_url = _login_link_url(p1)
    anonymous = Client(enforce_csrf_checks=True)
    for url in ("/my/login/", "/my/login/link/", uid_url):
        assert anonymous.post(url, {"username": "p1", "password": PASSWORD}).status_code == 403
    member_client = Client(enforce_csrf_checks=True)
    member_client.force_login(p1)
    cosigner_client = Client(enforce_csrf_checks=True)
    cosigner_client.force_login(p3)
    posts = [
        (member_client, "/my/proposals/new/"),
        (member_client, f"/my/proposals/{draft.pk}/edit/"),
        (member_client, f"/my/proposals/{draft.pk}/submit/"),
        (cosigner_client, f"/my/proposals/{draft.pk}/confirm/"),
        (cosigner_client, f"/my/proposals/{draft.pk}/decline/"),
        (member_client, f"/my/replies/{done.reply.pk}/feedback/"),
        (member_client, "/my/password/"),
        (member_client, "/my/logout/"),
    ]
    for c, url in posts:
        assert c.post(url, {"rating": "satisfied", "title": "x"}).status_code == 403, url
    assert not Feedback.objects.exists()
    assert CoProposer.objects.get(proposal=draft).confirmed_at is None
    draft.refresh_from_db()
    assert draft.status == "draft"
    # …and every form on the pages carries the token.
    for page in ("/my/", f"/my/proposals/{draft.pk}/", f"/my/replies/{done.reply.pk}/feedback/"):
        html = text(member_client.get(page))
        assert html.count("<form") == html.count("csrfmiddlewaretoken"), page


def _login_link_url(user) -> str:
    from tracker.my.signin import login_link_path

    return login_link_path(user)


# --- Nothing private, anywhere -----------------------------------------------------------------


def test_no_page_shows_contact_details_internal_notes_opinions_or_drafts(world, session):
    """Canary strings sit in every private field the workflow keeps; no /my/ page prints one."""
    h, p1, p2, p3, done = world
    # A second proposal of P1's: its reply is signed but not sent.
    unsent = replied_proposal_signed_only(h, session=session, lead=p1.proposer)
    # A follow-up draft on the replied proposal, and an extension with a reason.
    follow_up = rwf.start_reply(done.lead, actor=h.clerk, kind=Reply.Kind.FOLLOW_UP)
    rwf.edit_reply(
        follow_up,
        actor=h.clerk,
        version=follow_up.version,
        title=f"{CANARY}-draft-title",
        body=f"{CANARY}-draft-body",
    )
    # The co-signer's feedback comment is theirs, not P1's.
    rwf.record_feedback(
        done.reply, actor=p3, proposer=p3.proposer, rating="satisfied", comment=f"{CANARY}-fb"
    )
    # Proposals P1 does not follow: another member's, and one returned / not filed with notes.
    other = f.ProposalFactory(session=session, lead_proposer=p2.proposer, title=f"{CANARY}-other")
    returned = f.ProposalFactory(session=session, lead_proposer=p1.proposer, title="关于退回的建议")
    # The return reason is written for the proposer and shown to them (issue 21, SECURITY.md):
    # no canary in it; the not-filing note below stays internal.
    pwf.return_proposal(returned, actor=h.committee, reason="请补充数据。")
    refused = f.ProposalFactory(session=session, lead_proposer=p1.proposer, title="关于不予立案")
    pwf.not_file_proposal(
        refused, actor=h.committee, disposition="member_letter", note=f"{CANARY}-review-note"
    )
    draft = pwf.draft_proposal(
        actor=p1, session=session, title="关于Z的建议", coproposers=[p3.proposer]
    )
    assert other.pk and unsent.pk

    for user in (p1, p3):
        c = client_for(user)
        pages = _every_page(c, user)
        assert len(pages) >= 8
        for url, html in pages.items():
            assert CANARY.lower() not in html.lower(), f"{user.username}: {url}"
        # The unsent reply, the draft and another member's proposal are not reachable.
        assert c.get(f"/my/replies/{unsent.pk}/").status_code == 404
        assert c.get(f"/my/replies/{follow_up.pk}/").status_code == 404
        assert c.get(f"/my/proposals/{other.pk}/").status_code == 404
    assert draft.pk


def replied_proposal_signed_only(h, *, session, lead) -> Reply:
    proposal = f.ProposalFactory(session=session, lead_proposer=lead, title="关于签发未送达的建议")
    pwf.file_proposal(proposal, actor=h.committee)
    today = timezone.localdate()
    (a,) = pwf.assign_proposal(
        proposal,
        actor=h.committee,
        units=[(h.unit, "lead")],
        assigned_on=today - datetime.timedelta(days=5),
    )
    pwf.accept_assignment(a, actor=h.clerk)
    reply = rwf.start_reply(a, actor=h.clerk)
    reply = rwf.edit_reply(
        reply,
        actor=h.clerk,
        version=reply.version,
        result_label="留作参考",
        body=f"{CANARY}-unsent-body",
    )
    rwf.submit_reply(reply, actor=h.clerk)
    rwf.sign_reply(reply, actor=h.signer)
    return reply


def _every_page(c: Client, user) -> dict[str, str]:
    """Every page reachable from /my/ by following its links (GET), plus the forms."""
    seen: dict[str, str] = {}
    queue = ["/my/", "/my/proposals/new/", "/my/password/", "/my/login/link/"]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        response = c.get(url)
        if response.status_code != 200:
            continue
        if response.get("Content-Type", "").startswith("application/pdf"):
            seen[url] = ""
            continue
        html = text(response)
        seen[url] = html
        for link in re.findall(r'href="(/my/[^"]*)"', html):
            if link not in seen:
                queue.append(link)
    return seen
