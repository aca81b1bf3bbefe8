"""Issue 21 in a real browser (Debian's Chromium, headless, 390×844): a member invited by e-mail
sets a password, is signed in, reads the committee's reason for returning a proposal,
resubmits it, and reads the reply to another. Screenshots ``members-*.png`` go to a temporary
folder (``SCREENSHOTS_DIR=docs/screenshots`` keeps them).

The data is built before the browser starts and checked after it closes (Playwright's sync API
runs an event loop in this thread, where Django refuses database calls)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from django.core import mail

from proposals import events
from proposals import workflow as pwf
from proposals.models import ProposalStatus
from proposals.tests import factories as f
from replies import tasks as reply_tasks
from tracker.mail import members
from tracker.members import invitations
from tracker.models import Invitation
from tracker.tests.browser_support import chromium, screenshots_dir
from tracker.tests.my_support import handling, replied_proposal

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
NEW_PASSWORD = "Chang-Ning-Lu-599"


@pytest.fixture(autouse=True)
def _quiet(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    not_queued = SimpleNamespace(delay=lambda *args, **kwargs: None)
    monkeypatch.setattr(reply_tasks, "render_signed_pdf", not_queued)


def shot(page, name: str) -> None:
    page.screenshot(path=str(screenshots_dir() / f"members-{name}.png"), full_page=True)


def test_an_invited_member_sets_a_password_reads_the_return_reason_resubmits_and_reads_a_reply(
    live_server, committee, session, eager_tasks
):
    h = handling(committee)
    me = f.ProposerFactory(name="张晓钟", email="zhangxz@example.org", sector="经济界", user=None)
    with events.silenced():
        done = replied_proposal(
            h, session=session, lead=me, title="关于推进长宁产业发展的建议", store_pdf=False
        )
        returned = f.ProposalFactory(
            session=session,
            lead_proposer=me,
            title="关于改善虹桥路交通的建议",
            analysis="早晚高峰拥堵。",
            suggestions="一、优化信号灯配时。",
        )
        pwf.return_proposal(
            returned,
            actor=committee,
            reason="请补充近三年的事故和拥堵数据，并说明建议涉及的路段。",
        )
    members.sweep()  # the 退回修改 notice, listed on the timeline
    invitations.invite_members([me], actor=committee)
    (message,) = [m for m in mail.outbox if "设置密码" in m.subject]
    (path,) = re.findall(r"https?://[^/\s]+(/my/invitation/[^\s]+/)", message.body)
    base = live_server.url

    with chromium() as browser:
        context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
        context.set_default_timeout(10_000)
        page = context.new_page()

        page.goto(f"{base}{path}")
        page.get_by_role("heading", name="设置密码").wait_for()
        assert "set-password" in page.url
        page.locator("#id_new_password1").fill(NEW_PASSWORD)
        page.locator("#id_new_password2").fill(NEW_PASSWORD)
        shot(page, "set-password")
        page.get_by_role("button", name="设置密码并登录").click()
        page.get_by_role("heading", name="我的提案").wait_for()
        assert page.get_by_text("密码已设置").is_visible()
        for name in ("修改密码", "退出"):
            box = page.get_by_role(
                "link" if name == "修改密码" else "button", name=name
            ).bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44, (name, box)
        shot(page, "signed-in")

        page.get_by_role("link", name="关于改善虹桥路交通的建议").click()
        page.get_by_text("退回理由：请补充近三年的事故和拥堵数据").wait_for()
        assert page.get_by_text("已通过电子邮件通知您").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "return-reason")
        page.get_by_role("button", name="重新提交").click()
        page.get_by_text("已提交，提案委员会审查后将告知结果。").wait_for()
        shot(page, "resubmitted")

        page.goto(f"{base}/my/proposals/{done.proposal.pk}/")
        page.get_by_role("link", name="阅读答复").click()
        page.get_by_role("heading", name="的答复").wait_for()
        assert page.get_by_text("加快存量土地资源盘活").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "reply")
        context.close()

    returned.refresh_from_db()
    assert returned.status == ProposalStatus.SUBMITTED
    invitation = Invitation.objects.get(proposer=me)
    assert invitation.accepted_at is not None
    assert invitation.user.check_password(NEW_PASSWORD)
