"""The editor's preview in a real browser (Debian's chromium, headless) with a real worker: a
clerk clicks 预览当前内容, the frame shows the letter's first page while the worker lays out the
rest (held back here, so the order is certain), and then the whole letter takes its place —
the page's script runs under the site's Content-Security-Policy (issue 24). The screenshot of
the first page shown is left with the others (``make screenshots``)."""

from __future__ import annotations

import time

import pytest

from proposals.tests.factories import PASSWORD
from tracker.tests.browser_support import chromium, screenshots_dir
from tracker.tests.test_preview_first_page import BODY, slow_whole_render  # noqa: F401
from tracker.tests.test_preview_worker import (  # noqa: F401 - fixtures
    draft_reply,
    preview_queue,
    worker_heartbeat,
)

# Not skipped without Chromium: scripts/bootstrap installs Debian's chromium, and a machine
# without it should fail here rather than pass having proved nothing.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_the_frame_shows_the_first_page_then_the_whole_letter(
    live_server,
    preview_queue,  # noqa: F811
    celery_worker,
    slow_whole_render,  # noqa: F811
    session,
    committee,
    unit_a,
    clerk_a,
):
    worker_heartbeat()
    reply = draft_reply(session, committee, unit_a, clerk_a, body=BODY)
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
        page.set_default_timeout(60_000)
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else 0)
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", clerk_a.username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")
        page.goto(f"{live_server.url}/admin/replies/reply/{reply.pk}/change/")
        page.wait_for_load_state("networkidle")  # the saved draft's own preview

        whole: list[float] = []
        page.on(
            "response",
            lambda r: (
                whole.append(time.monotonic())
                if "/preview/" in r.url
                and "page=1" not in r.url
                and r.headers.get("content-type", "").startswith("application/pdf")
                else None
            ),
        )
        page.fill("textarea[name=body]", BODY + "\n补充一句。")
        with page.expect_response(lambda r: "page=1" in r.url) as first:
            page.click("#preview-typed")
        assert first.value.headers["content-type"] == "application/pdf"
        shown = time.monotonic()
        frame = page.frame(name="letter-preview")
        assert frame is not None
        frame.wait_for_selector("text=完整预览生成中")
        page.wait_for_timeout(1500)  # the PDF viewer draws the page (the rest is held back 4 s)
        assert not whole
        page.screenshot(path=str(screenshots_dir() / "admin-preview-first-page.png"))

        deadline = time.monotonic() + 60
        while not whole and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        assert whole, "the whole letter never replaced the first page"
        assert whole[0] - shown > 1.0  # after the held-back render, not with the first page
        page.wait_for_timeout(300)
        assert page.frame(name="letter-preview").url.endswith(f"?preview={_token(first)}")
        assert refused == []


def _token(first) -> str:
    return first.value.url.split("preview=")[1].split("&")[0]
