"""The admin in a real browser (Debian's chromium, headless, 1366×768), as people use it:

a unit's clerk signs in, sees only the unit's work, accepts an assignment, logs a contact,
drafts a reply and previews its PDF; the unit's signer signs it; the committee imports an Excel
list of 20 proposals with 2 bad rows (clear errors, nothing imported), fixes them and imports.
Each step leaves a screenshot in a temporary folder
(``make screenshots`` refreshes docs/screenshots/admin-*.png).
"""

from __future__ import annotations

import datetime
import io
import os
import shutil

import pytest
from openpyxl import Workbook

from proposals import workflow as pwf
from proposals.models import Assignment, ContactRecord, Membership, Proposal
from proposals.tests import factories as f
from proposals.tests.factories import PASSWORD
from replies.models import Reply
from tracker.tests.browser_support import CHROMIUM, chromium, screenshots_dir

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian's chromium"),
]


@pytest.fixture
def browser_page():
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": 1366, "height": 768},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            accept_downloads=True,
        )
        context.set_default_timeout(20000)
        page = context.new_page()
        yield page
        context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(screenshots_dir() / f"admin-{name}.png"))


def sign_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def committee_list(rows: list[list]) -> bytes:
    book = Workbook()
    ws = book.active
    ws.append(["序号", "案由", "第一提案人", "联名提案人", "类别"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def office(db, eager_tasks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the signed letter's PDF is stored on signing
    committee = f.CommitteeFactory(username="committee", full_name="王敏")
    session = f.SessionFactory(term=15, meeting=2, name="十五届二次会议", year=2024)
    unit_a = f.UnitFactory(
        name="长宁区发展和改革委员会",
        short_name="区发改委",
        organ_name="上海市长宁区发展和改革委员会",
        docno_prefix="长发改",
        contact_name="汪骏杰",
        contact_phone="22051162",
    )
    unit_b = f.UnitFactory(name="长宁区商务委员会", short_name="区商务委", docno_prefix="长商务")
    people = {}
    for username, name, unit, role in (
        ("clerk_a", "汪骏杰", unit_a, Membership.Role.CLERK),
        ("signer_a", "叶鹏举", unit_a, Membership.Role.SIGNER),
        ("clerk_b", "乙联络员", unit_b, Membership.Role.CLERK),
    ):
        people[username] = f.UserFactory(username=username, full_name=name)
        f.MembershipFactory(user=people[username], unit=unit, role=role)
    zhang = f.ProposerFactory(name="张文浩")
    for name in ("张晓钟", "林静", "瞿子涵", "钱建峰", "施美芳"):
        f.ProposerFactory(name=name)
    today = datetime.date.today()
    mine = f.ProposalFactory(
        session=session,
        title="关于推进长宁产业高质量发展的建议",
        lead_proposer=zhang,
        category=Proposal.Category.ECONOMY,
        reason="产业结构需要优化。",
    )
    theirs = f.ProposalFactory(session=session, title="关于繁荣夜间经济的建议")
    for p, unit in ((mine, unit_a), (theirs, unit_b)):
        pwf.file_proposal(p, actor=committee)
        pwf.assign_proposal(
            p, actor=committee, units=[(unit, Assignment.Role.LEAD)], assigned_on=today
        )
    return {"session": session, "mine": mine, "theirs": theirs, **people}


def test_a_clerk_a_signer_and_the_committee_do_their_days_work(live_server, browser_page, office):
    page, base = browser_page, live_server.url
    mine = Assignment.objects.get(proposal=office["mine"])

    # The clerk signs in: the to-do shows the unit's assignment, never the other unit's.
    sign_in(page, base, "clerk_a")
    assert page.locator("h1", has_text="我的待办").is_visible()
    todo = page.locator("#todo-to_accept")
    assert todo.get_by_text("关于推进长宁产业高质量发展的建议").is_visible()
    assert page.get_by_text("关于繁荣夜间经济的建议").count() == 0
    shot(page, "01-clerk-dashboard")
    page.goto(f"{base}/admin/proposals/assignment/")
    assert page.locator("#result_list tbody tr").count() == 1
    assert page.get_by_text("关于繁荣夜间经济的建议").count() == 0
    shot(page, "02-clerk-only-own-unit")

    # Accept: one button, behind the browser's confirm (dismissed, nothing is posted).
    todo_link = f"{base}/admin/proposals/assignment/{mine.pk}/change/"
    page.goto(todo_link)
    shot(page, "03-accept-confirm")
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="签收", exact=True).click()
    page.wait_for_timeout(300)
    mine.refresh_from_db()
    assert asked and "签收" in asked[0] and mine.state == Assignment.State.PENDING
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="签收", exact=True).click()
    assert page.url == todo_link
    assert page.locator(".messagelist").get_by_text("已签收").is_visible()
    mine.refresh_from_db()
    assert mine.state == Assignment.State.ACCEPTED

    # Log a contact with the proposer: the form asks for the method; the date picker speaks
    # Chinese (the admin's JS catalogue is loaded).
    page.get_by_role("link", name="登记沟通…").click()
    page.locator(".datetimeshortcuts a", has_text="今天").first.wait_for()
    page.get_by_label("见面").check()
    page.fill("#id_participants", "汪骏杰、张文浩")
    page.fill("#id_notes", "上门走访，听取意见。")
    shot(page, "04-log-contact")
    page.get_by_role("button", name="确认登记沟通").click()
    page.wait_for_url(todo_link)
    assert ContactRecord.objects.filter(assignment=mine, method="meeting").exists()

    # Draft the reply from the assignment page, write the body, save, preview.
    page.get_by_role("link", name="起草答复").click()
    page.get_by_role("button", name="起草答复").click()
    page.wait_for_url(f"{base}/admin/replies/reply/*/change/")
    reply = Reply.objects.get(assignment=mine)
    page.select_option("#id_result_label", "采纳")
    body = (
        "您提出的《关于推进长宁产业高质量发展的建议》的提案收悉，经研究，现将办理情况答复如下：\n"
        "一、基本情况\n我委高度重视，会同相关部门开展专题研究。\n"
        "二、下一步工作\n（一）完善工作机制\n1.加强统筹协调，明确责任分工。"
    )
    page.fill("#id_body", body)
    page.get_by_role("button", name="保存并继续编辑").first.click()
    page.wait_for_url(f"{base}/admin/replies/reply/{reply.pk}/change/")
    assert page.locator(".messagelist").is_visible()
    reply.refresh_from_db()
    assert reply.body.startswith("您提出的") and reply.version == 2
    with page.expect_response(
        lambda r: "/preview/" in r.url and r.request.method == "POST"
    ) as preview:
        page.locator("#preview-typed").click()
    assert preview.value.status == 200
    assert preview.value.header_value("content-type") == "application/pdf"
    pdf = page.request.get(f"{base}/admin/replies/reply/{reply.pk}/preview/")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    page.wait_for_timeout(600)
    shot(page, "05-reply-editor-with-pdf")

    # Submit for signature: one button (no co-handling opinion is missing), confirmed.
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="提交签发", exact=True).click()
    assert page.url == f"{base}/admin/replies/reply/{reply.pk}/change/"
    reply.refresh_from_db()
    assert reply.state == Reply.State.PENDING_SIGNATURE

    # The signer finds it on the to-do and signs: the 文号 is shown before it is taken.
    sign_in(page, base, "signer_a")
    page.locator("#todo-to_sign").get_by_role("link").first.click()
    page.get_by_role("link", name="签发…").click()
    assert f"长发改〔{datetime.date.today().year}〕1号" in page.inner_text("#content-main")
    shot(page, "06-signer-signs")
    page.get_by_role("button", name="确认签发").click()
    page.wait_for_url(f"{base}/admin/replies/reply/{reply.pk}/change/")
    reply.refresh_from_db()
    assert reply.state == Reply.State.SIGNED and reply.docno_number == 1
    assert page.locator("textarea#id_body").count() == 0  # read-only once signed

    # The committee imports the session's list: two bad rows, nothing imported; then fixed.
    sign_in(page, base, "committee")
    shot(page, "07-committee-dashboard")
    rows = [
        [i + 1, f"关于第{i + 1}项民生实事的建议", "张晓钟", "林静、瞿子涵", "社会民生"]
        for i in range(20)
    ]
    rows[3][2] = "查无此人"
    rows[12][1] = ""
    before = Proposal.objects.count()
    page.goto(f"{base}/admin/tools/import/")
    page.select_option("#id_session", str(office["session"].pk))
    page.set_input_files(
        "#id_file",
        files=[
            {
                "name": "立案提案.xlsx",
                "mimeType": "application/vnd.ms-excel",
                "buffer": committee_list(rows),
            }
        ],
    )
    page.get_by_role("button", name="上传并校验").click()
    page.wait_for_selector("#import-summary")
    assert page.get_by_text("有 2 处错误，未导入任何提案").is_visible()
    assert page.locator("tr.row-error").count() == 2
    summary = page.inner_text("#import-summary")
    assert "第 5 行：第一提案人“查无此人”不在提案者名单中。" in summary
    assert "第 14 行：请填写案由。" in summary
    page.locator("tr.row-error").first.scroll_into_view_if_needed()
    shot(page, "08-import-errors")
    assert Proposal.objects.count() == before

    rows[3][2], rows[12][1] = "钱建峰", "关于第13项民生实事的建议"
    page.goto(f"{base}/admin/tools/import/")
    page.select_option("#id_session", str(office["session"].pk))
    page.set_input_files(
        "#id_file",
        files=[
            {
                "name": "立案提案.xlsx",
                "mimeType": "application/vnd.ms-excel",
                "buffer": committee_list(rows),
            }
        ],
    )
    page.get_by_role("button", name="上传并校验").click()
    page.wait_for_selector("#confirm-import")
    shot(page, "09-import-preview")
    page.locator("#confirm-import").click()
    page.wait_for_selector("text=已导入并立案 20 件提案")
    shot(page, "10-import-done")
    assert Proposal.objects.count() == before + 20
    numbers = set(Proposal.objects.values_list("number", flat=True))
    assert {"第003号", "第022号"} <= numbers  # after the two filed in the fixture, gapless

    page.goto(f"{base}/admin/tools/statistics/?group_by=unit")
    assert page.locator("svg").count() >= 1
    shot(page, "11-statistics")
    assert os.path.getsize(screenshots_dir() / "admin-05-reply-editor-with-pdf.png") < 400_000
