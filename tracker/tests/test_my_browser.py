"""The proposer pages in a real browser: Debian's Chromium, headless, at 375×812 (a phone).

A member signs in, opens a proposal, reads its reply, downloads the signed PDF and gives
feedback; another member drafts a joint proposal, the co-proposer confirms it from their own
/my/, and the lead submits it. Screenshots of each page go to a
temporary folder (``make screenshots`` refreshes docs/screenshots/my-*.png).

The data is built before the browser starts and checked after it closes: Playwright's sync API
runs an event loop in this thread, where Django refuses database calls.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from proposals import events
from proposals.models import CoProposer, Proposal
from replies import tasks as reply_tasks
from replies.models import Feedback
from tracker.tests.browser_support import chromium, screenshots_dir
from tracker.tests.my_support import PASSWORD, handling, member, replied_proposal

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}


@pytest.fixture(autouse=True)
def _quiet(settings, tmp_path, monkeypatch):
    """Stored files go to a temporary directory; nobody is e-mailed and no PDF task is queued
    (these tests commit, so on-commit work would run): the PDF is stored in the test."""
    settings.MEDIA_ROOT = tmp_path
    not_queued = SimpleNamespace(delay=lambda *args, **kwargs: None)
    monkeypatch.setattr(reply_tasks, "render_signed_pdf", not_queued)
    with events.silenced():
        yield


@contextlib.contextmanager
def phone_browser():
    with chromium() as browser:

        def new_context():
            context = browser.new_context(
                viewport=PHONE, device_scale_factor=1, locale="zh-CN", accept_downloads=True
            )
            context.set_default_timeout(10_000)
            return context

        yield new_context


def shot(page, name: str) -> None:
    page.screenshot(path=str(screenshots_dir() / f"my-{name}.png"), full_page=True)


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/my/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("heading", name="我的提案").wait_for()


def test_a_member_reads_the_reply_downloads_the_pdf_and_gives_feedback(
    live_server, committee, session
):
    h = handling(committee)
    p1 = member("zhangxiaozhong", "张晓钟")
    p3 = member("linjing", "林静")
    done = replied_proposal(h, session=session, lead=p1.proposer, co_proposers=[p3.proposer])
    title, reply_pk, sha = done.proposal.title, done.reply.pk, done.reply.pdf_sha256
    base = live_server.url

    with phone_browser() as new_context:
        page = new_context().new_page()
        page.goto(f"{base}/my/")
        assert "/my/login/" in page.url
        shot(page, "login")
        sign_in(page, base, "zhangxiaozhong")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "proposals")

        page.get_by_role("link", name=title).click()
        page.get_by_role("heading", name="办理进程").wait_for()
        assert page.get_by_text("答复送达").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "proposal")

        page.get_by_role("link", name="阅读答复").click()
        page.get_by_role("heading", name="的答复").wait_for()
        assert page.get_by_text("加快存量土地资源盘活").is_visible()
        shot(page, "reply")

        with page.expect_download() as download:
            page.get_by_role("link", name="下载PDF（签发件）").click()
        data = Path(download.value.path()).read_bytes()
        assert data.startswith(b"%PDF")
        assert hashlib.sha256(data).hexdigest() == sha

        page.get_by_role("link", name="反馈意见").first.click()
        page.get_by_role("heading", name="对答复的意见").wait_for()
        assert page.get_by_text("选择“不满意”后会怎样？").is_visible()
        page.locator("fieldset", has_text="总体评价").get_by_label("满意", exact=True).check()
        page.locator("fieldset", has_text="对办理工作").get_by_label("满意", exact=True).check()
        page.get_by_label("意见和建议（可选）").fill("答复具体，措施可行，感谢！")
        shot(page, "feedback")
        page.get_by_role("button", name="提交意见").click()
        page.get_by_role("heading", name="已收到您的意见").wait_for()
        shot(page, "feedback-received")

        page.goto(f"{base}/my/replies/{reply_pk}/feedback/")
        assert page.get_by_role("heading", name="已收到您的意见").is_visible()
        assert page.get_by_role("button", name="提交意见").count() == 0

    fb = Feedback.objects.get()
    assert (fb.proposer_id, fb.rating, fb.on_work, fb.channel) == (
        p1.proposer.pk,
        "satisfied",
        "satisfied",
        "online",
    )


def test_a_member_submits_a_joint_proposal_after_the_cosigner_confirms(live_server, session):
    session.name = "十五届三次会议"
    session.save(update_fields=["name"])
    member("qianjianfeng", "钱建峰", sector="经济界")
    member("shimeifang", "施美芳", sector="经济界")
    for i, (name, sector) in enumerate(
        [("沈汕", "民建"), ("施彧", "民建"), ("陈铸", "科技界"), ("瞿子涵", "教育界")]
    ):
        member(f"m{i}", name, sector=sector)
    base = live_server.url
    title = "关于加强社区嵌入式养老服务的建议"

    with phone_browser() as new_context:
        lead = new_context().new_page()
        sign_in(lead, base, "qianjianfeng")
        lead.get_by_role("link", name="＋ 新建提案").click()
        lead.get_by_label("案由").fill(title)
        lead.get_by_label("类别").select_option(label="社会民生")
        lead.get_by_label("情况分析").fill(
            "我区60岁以上户籍老年人口占比超过38%，社区养老服务设施分布不均，"
            "部分街道日间照料中心服务能力不足。"
        )
        lead.get_by_label("具体建议").fill(
            "一、按15分钟生活圈布局社区嵌入式养老服务设施。\n二、完善日间照料中心运营补贴。"
        )
        lead.locator("details.picker > summary").click()
        lead.get_by_label("施美芳（经济界）").check()
        shot(lead, "new")
        lead.get_by_role("button", name="保存草稿").click()
        lead.get_by_text("尚待以下联名提案人确认").wait_for()
        assert lead.get_by_role("button", name="提交").is_disabled()
        shot(lead, "draft")

        co = new_context().new_page()
        sign_in(co, base, "shimeifang")
        co.get_by_role("heading", name="待您确认的联名").wait_for()
        co.get_by_role("link", name=title).first.click()
        co.get_by_role("button", name="确认联名").wait_for()
        shot(co, "invitation")
        co.get_by_role("button", name="确认联名").click()
        co.get_by_text("您已确认联名").first.wait_for()
        co.get_by_role("button", name="退出").click()
        co.get_by_role("heading", name="委员登录").wait_for()

        lead.reload()
        lead.get_by_role("button", name="提交").click()
        lead.get_by_text("已提交，提案委员会审查后将告知结果").wait_for()
        shot(lead, "submitted")

    proposal = Proposal.objects.get(title=title)
    assert proposal.status == "submitted"
    link = CoProposer.objects.get(proposal=proposal)
    assert link.proposer.name == "施美芳" and link.confirmed_at is not None
