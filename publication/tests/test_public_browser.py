"""A citizen on a phone (Debian's Chromium, 375×812): filters the list, searches 加装电梯,
opens the reply, downloads its PDF; axe-core finds no serious or critical violation on the
list and the reply page. Screenshots go to a temporary folder (``SCREENSHOTS_DIR`` set to
docs/screenshots/ refreshes public-*.png)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from publication.tests.conftest import publish
from tracker.tests.browser_support import chromium, screenshots_dir

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
AXE = Path(__file__).with_name("axe.min.js")


def serious_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a',"
        " 'wcag21aa', 'best-practice']})"
    )
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def shot(page, name: str) -> None:
    page.screenshot(path=str(screenshots_dir() / f"public-{name}.png"), full_page=True)


def test_a_citizen_on_a_phone_filters_searches_reads_and_downloads(
    live_server, session, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    replies = {key: publish(key, session) for key in ("lift", "rental", "parking", "business")}
    lift = replies["lift"]
    sha = lift.pdf_sha256
    housing = lift.unit.name
    base = live_server.url

    with chromium() as browser:
        context = browser.new_context(
            viewport=PHONE,
            device_scale_factor=1,
            locale="zh-CN",
            accept_downloads=True,
            bypass_csp=True,  # only so the test can inject axe-core
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.goto(f"{base}/public/")
        page.get_by_role("heading", name="提案办理答复").wait_for()
        assert "共 4 件" in page.inner_text("main")
        list_violations = serious_violations(page)
        shot(page, "01-list")

        page.get_by_label("承办单位").select_option(label=housing)
        page.get_by_role("button", name="检索").click()
        page.wait_for_url("**/public/?*unit=*")
        assert "共 2 件" in page.inner_text("main")
        shot(page, "02-filtered")

        page.get_by_label("关键词").fill("加装电梯")
        page.get_by_role("button", name="检索").click()
        page.wait_for_url("**q=*")
        assert "共 1 件" in page.inner_text("main")
        assert page.locator("mark", has_text="加装电梯").count() >= 1
        shot(page, "03-search")

        page.get_by_role("link", name=lift.title).click()
        page.get_by_role("heading", name=lift.title).wait_for()
        assert lift.doc_number in page.inner_text("main")
        reply_violations = serious_violations(page)
        shot(page, "04-reply")

        with page.expect_download() as info:
            page.get_by_role("link", name="下载 PDF（公开版）").click()
        data = Path(info.value.path()).read_bytes()
        context.close()

    assert list_violations == []
    assert reply_violations == []
    assert hashlib.sha256(data).hexdigest() == sha
