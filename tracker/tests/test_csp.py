"""The Content-Security-Policy (django-csp, ``CONTENT_SECURITY_POLICY`` in tracker/settings.py).

Through the test client: every kind of page (admin, /my/, the API and its docs) carries the
policy; an inline <script> or <style> carries the request's nonce and no page has one without
it, nor an ``on…=`` handler or a ``style`` attribute; the letter frames may be framed by the
admin only; a download keeps its own ``sandbox`` policy. In Chromium: the admin, /my/ and
/api/docs/ load with no CSP violation at all.
"""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from proposals import workflow as pwf
from proposals.models import Session
from replies.models import Reply
from tracker import admin_tasks, jobs
from tracker.tests import admin_data
from tracker.tests.browser_support import chromium
from tracker.tests.my_support import PASSWORD, handling, member, replied_proposal

EXPECTED = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'nonce-*'"],
    "style-src": ["'self'", "'nonce-*'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
NONCE = re.compile(r"'nonce-([^']+)'")
TAG = re.compile(r"<(script|style)\b([^>]*)>", re.I)


def policy(response) -> dict[str, list[str]]:
    """The header as {directive: sources}, each nonce written as 'nonce-*'."""
    header = response["Content-Security-Policy"]
    parsed = {}
    for part in filter(None, (p.strip() for p in header.split(";"))):
        name, *sources = part.split()
        parsed[name] = sorted(NONCE.sub("'nonce-*'", s) for s in sources)
    return parsed


def expected(**changes: list[str]) -> dict[str, list[str]]:
    return {k: sorted(v) for k, v in {**EXPECTED, **changes}.items()}


def header_nonce(response) -> str | None:
    match = NONCE.search(response["Content-Security-Policy"])
    return match.group(1) if match else None


def inline_problems(html: str, nonce: str | None) -> list[str]:
    """Inline scripts and styles without the request's nonce, handlers, style attributes."""
    problems = []
    for tag, attrs in TAG.findall(html):
        if tag.lower() == "script" and re.search(r"\bsrc=", attrs):
            continue
        if re.search(r'type="application/(ld\+)?json"', attrs):
            continue  # data, not script
        found = re.search(r'\bnonce="([^"]+)"', attrs)
        if not found or found.group(1) != nonce:
            problems.append(f"<{tag}{attrs}> without the nonce")
    problems += [f"handler {m}" for m in re.findall(r"<[^>]*\s(on[a-z]+)=", html)]
    problems += [f"style attribute {m}" for m in re.findall(r'<[^>]*\sstyle="([^"]*)"', html)]
    return problems


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world(db, committee, session):
    h = handling(committee)
    proposer = member("csp_member", "张晓钟")
    done = replied_proposal(h, session=session, lead=proposer.proposer)
    return h, proposer, done


def draft_reply(h):
    """A draft reply of the unit, on a proposal of its own."""
    proposal = admin_data.filed_proposal(Session.objects.first())
    return admin_data.reply(admin_data.assign(proposal, h.unit), state=Reply.State.DRAFT)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def pages(world):
    h, proposer, done = world
    anonymous = Client()
    return [
        (anonymous, "/admin/login/"),
        (anonymous, "/my/login/"),
        (anonymous, "/my/login/link/"),
        (anonymous, "/api/docs/"),
        (anonymous, "/api/v1/sessions/"),
        (anonymous, "/api/v1/replies/"),
        (signed_in(h.committee), "/admin/"),
        (signed_in(h.committee), "/admin/proposals/proposal/"),
        (signed_in(h.committee), f"/admin/proposals/proposal/{done.proposal.pk}/change/"),
        (signed_in(h.committee), "/admin/tools/statistics/"),
        (signed_in(h.clerk), "/admin/replies/reply/"),
        (signed_in(h.clerk), f"/admin/replies/reply/{done.reply.pk}/change/"),
        (signed_in(proposer), "/my/"),
        (signed_in(proposer), f"/my/proposals/{done.proposal.pk}/"),
        (signed_in(proposer), f"/my/replies/{done.reply.pk}/"),
        (signed_in(proposer), "/my/proposals/new/"),
        (signed_in(proposer), "/api/v1/me/proposals/"),
    ]


@pytest.mark.django_db
def test_admin_my_and_api_pages_carry_the_policy_and_nothing_inline_without_the_nonce(world):
    for client, path in pages(world):
        response = client.get(path)
        assert response.status_code == 200, path
        got = policy(response)
        got.pop("script-src"), got.pop("style-src")  # with or without a nonce, below
        want = expected()
        want.pop("script-src"), want.pop("style-src")
        assert got == want, path
        assert policy(response)["script-src"][-1] in ("'self'", "'nonce-*'")
        if response["Content-Type"].startswith("text/html"):
            problems = inline_problems(response.content.decode(), header_nonce(response))
            assert not problems, (path, problems)


@pytest.mark.django_db
def test_the_nonce_on_the_page_is_the_one_in_the_header_and_new_for_each_request(world):
    h, _proposer, _done = world
    client = signed_in(h.committee)
    job_id = jobs.create(admin_tasks.SESSION_PDFS, user_id=h.committee.pk, payload={})
    seen = set()
    for _ in range(2):
        response = client.get(f"/admin/tools/jobs/{job_id}/")
        assert response.status_code == 200
        html = response.content.decode()
        # The progress poller is a static file now, not an inline script.
        assert "/static/tracker_admin/progress.js" in html
        assert not inline_problems(html, header_nonce(response))
    # A page with an inline <style> (the preview frame's error message) carries the nonce.
    draft = draft_reply(h)
    for _ in range(2):
        response = signed_in(h.clerk).post(
            f"/admin/replies/reply/{draft.pk}/preview/", {"title": ""}
        )
        assert response.status_code == 200
        nonce = header_nonce(response)
        assert nonce and f'<style nonce="{nonce}">' in response.content.decode()
        assert policy(response)["style-src"] == sorted(["'self'", "'nonce-*'"])
        seen.add(nonce)
    assert len(seen) == 2


@pytest.mark.django_db
def test_the_lockout_page_styles_itself_with_the_nonce(world, settings):
    settings.AXES_ENABLED = True  # the root conftest turns it off
    settings.AXES_FAILURE_LIMIT = 5
    _h, proposer, _done = world
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/my/login/", {"username": proposer.username, "password": "x"})
    response = client.post("/my/login/", {"username": proposer.username, "password": PASSWORD})
    assert response.status_code == 429
    nonce = header_nonce(response)
    assert nonce and f'<style nonce="{nonce}">' in response.content.decode()
    assert not inline_problems(response.content.decode(), nonce)


@pytest.mark.django_db
def test_the_api_docs_page_has_no_inline_script_and_loads_its_start_up_script_separately():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in html
    assert "'nonce-" not in response["Content-Security-Policy"]  # it needs none
    assert '<script src="/api/docs/?script="></script>' in html
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert "/api/schema/" in script.content.decode()


@pytest.mark.django_db
def test_the_letter_frames_may_be_framed_by_the_admin_and_other_pages_by_nobody(world, eager_tasks):
    h, _proposer, done = world
    clerk = signed_in(h.clerk)
    change = clerk.get(f"/admin/replies/reply/{done.reply.pk}/change/")
    assert policy(change)["frame-ancestors"] == ["'none'"]
    assert change["X-Frame-Options"] == "DENY"
    framed = clerk.get(f"/admin/replies/reply/{done.reply.pk}/download/?inline=1")
    assert framed.status_code == 200
    assert framed["Content-Type"] == "application/pdf"
    assert framed["X-Frame-Options"] == "SAMEORIGIN"
    nonce_free = {"script-src": ["'self'"], "style-src": ["'self'"]}  # nothing asked for one
    assert policy(framed) == expected(**{"frame-ancestors": ["'self'"]}, **nonce_free)
    draft = draft_reply(h)
    preview = clerk.get(f"/admin/replies/reply/{draft.pk}/preview/")
    assert preview.status_code == 200
    assert preview["Content-Type"] == "application/pdf"
    assert policy(preview)["frame-ancestors"] == ["'self'"]


@pytest.mark.django_db
def test_a_download_keeps_its_own_sandbox_policy(world):
    h, proposer, done = world
    attachment = pwf.add_attachment(
        done.proposal,
        actor=h.clerk,
        file=SimpleUploadedFile("a.png", _png(), content_type="image/png"),
        name="原件",
    )
    response = signed_in(h.clerk).get(f"/files/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    letter = signed_in(proposer).get(f"/my/replies/{done.reply.pk}/pdf/")
    assert letter.status_code == 200
    assert letter["Content-Type"] == "application/pdf"
    assert letter["Content-Disposition"].startswith("attachment")


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, "PNG")
    return out.getvalue()


# --- In Chromium --------------------------------------------------------------------------

LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
  e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));
"""


@pytest.fixture
def browser_context():
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        context.set_default_timeout(20000)
        context.add_init_script(LISTEN)
        yield context
        context.close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_admin_my_pages_and_api_docs_load_in_chromium_with_no_csp_violation(
    live_server, browser_context, committee, session
):
    h = handling(committee)
    proposer = member("csp_member", "张晓钟")
    done = replied_proposal(h, session=session, lead=proposer.proposer)
    draft = draft_reply(h)
    job_id = jobs.create(admin_tasks.SESSION_PDFS, user_id=committee.pk, payload={})
    base = live_server.url
    violations: list[str] = []
    page = browser_context.new_page()
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )

    def visit(path: str, ready: str = "body") -> None:
        page.goto(base + path)
        page.wait_for_selector(ready)
        page.wait_for_timeout(300)
        violations.extend(f"{path}: {v}" for v in page.evaluate("window.__csp"))

    def sign_in(login: str, user, landing: str) -> None:
        browser_context.clear_cookies()
        page.goto(base + login)
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("[type=submit]")
        page.wait_for_url(base + landing)
        violations.extend(page.evaluate("window.__csp"))

    sign_in("/admin/login/", committee, "/admin/")
    visit("/admin/proposals/proposal/", "#result_list")
    visit(f"/admin/proposals/proposal/{done.proposal.pk}/change/", "#content-main")
    visit("/admin/tools/statistics/", "#statistics-table")
    visit(f"/admin/tools/jobs/{job_id}/", "#job-progress")
    page.wait_for_timeout(1200)  # the poller's first round trip (static progress.js)
    assert page.text_content("#job-message")
    sign_in("/admin/login/", h.clerk, "/admin/")
    visit("/admin/replies/reply/", "#result_list")
    visit(f"/admin/replies/reply/{draft.pk}/change/", "#letter-preview")  # PDF in a frame
    sign_in("/my/login/", proposer, "/my/")
    visit("/my/", "main")
    visit(f"/my/proposals/{done.proposal.pk}/", "main")
    visit(f"/my/replies/{done.reply.pk}/", "main")
    browser_context.clear_cookies()
    visit("/api/docs/", ".swagger-ui .opblock")  # Swagger UI ran: its script was allowed
    assert page.locator(".opblock").count() > 5
    assert violations == []
