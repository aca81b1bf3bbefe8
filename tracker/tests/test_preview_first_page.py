"""The editor's preview shows the first page while the worker lays out the rest (issue 24).

With a real Redis, a real worker (threads of this process, each render in a child of its own)
and the admin: the answer to 预览 is the first page in a frame as soon as the child has it; the
page asks the state URL until the whole PDF is stored and then takes it. The whole render is
slowed down here (in the child) so that the order is certain, not a race.
"""

from __future__ import annotations

import codecs
import io
import re
import time

import pdfplumber
import pytest
from django.test import Client

import replies.pdf
from replies import pdf_first_page
from tracker.tests.test_preview_worker import (  # noqa: F401 - fixtures
    MODEL_BACKEND,
    draft_reply,
    form_data,
    preview_queue,
    preview_url,
    status_url,
    worker_heartbeat,
)

pytestmark = pytest.mark.slow

#: How long the child's whole render is held back after its first page.
HELD_BACK = 4
BODY = "\n".join(
    f"{i}.我区规划资源部门提出处置原则，推进国企存量土地资源高质量利用。" * 3 for i in range(40)
)


@pytest.fixture
def slow_whole_render(monkeypatch):
    real = replies.pdf.render_letter_pdf

    def render(letter):
        if not getattr(pdf_first_page._state, "first_only", False):
            time.sleep(HELD_BACK)
        return real(letter)

    monkeypatch.setattr(replies.pdf, "render_letter_pdf", render)


def texts(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() for page in pdf.pages]


def first_page_page(client: Client, answer) -> str:
    """The page that shows the first page: the answer itself, or where the waiting page leads
    (on a busy machine the first page may take longer than the answer waits)."""
    deadline = time.monotonic() + 60
    page = answer.content.decode()
    while "正在生成预览" in page:
        assert time.monotonic() < deadline, "the first page never came"
        page = client.get(status_url(page)).content.decode()
    assert "完整预览生成中" in page, page
    return page


def attribute(html: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]+)"', html)
    assert match, html
    return match.group(1).replace("&amp;", "&")


@pytest.mark.django_db(transaction=True)
def test_the_first_page_shows_before_the_whole_letter_which_then_replaces_it(
    preview_queue,  # noqa: F811
    celery_worker,
    slow_whole_render,
    session,
    committee,
    unit_a,
    clerk_a,
):
    worker_heartbeat()
    reply = draft_reply(session, committee, unit_a, clerk_a, body="一、总体情况\n具体措施。")
    client = Client()
    client.force_login(clerk_a, backend=MODEL_BACKEND)
    answer = client.post(preview_url(reply), form_data(reply, body=BODY, title="改过的标题"))
    assert answer["Content-Type"].startswith("text/html")
    assert "no-store" in answer["Cache-Control"]
    page = first_page_page(client, answer)  # while the whole render is held back

    first = client.get(attribute(page, "iframe src"))
    assert first["Content-Type"] == "application/pdf"
    first_texts = texts(first.content)
    assert len(first_texts) == 1 and "改过的标题" in first_texts[0]

    escaped = re.search(r'stateUrl = "([^"]+)"', page).group(1)
    state_url = codecs.decode(escaped, "unicode_escape")  # as the script reads it
    deadline = time.monotonic() + 60
    while not client.get(state_url).json()["ended"]:
        assert time.monotonic() < deadline, "the whole preview never came"
    whole = client.get(state_url.replace("&state=1", ""))  # where the page goes then
    assert whole["Content-Type"] == "application/pdf"
    whole_texts = texts(whole.content)
    assert len(whole_texts) > 1 and whole_texts[0] == first_texts[0]


@pytest.mark.django_db(transaction=True)
def test_another_user_gets_neither_the_first_page_nor_the_state(
    preview_queue,  # noqa: F811
    celery_worker,
    slow_whole_render,
    session,
    committee,
    unit_a,
    clerk_a,
    django_user_model,
):
    worker_heartbeat()
    reply = draft_reply(session, committee, unit_a, clerk_a, body="一、总体情况\n具体措施。")
    client = Client()
    client.force_login(clerk_a, backend=MODEL_BACKEND)
    page = first_page_page(client, client.post(preview_url(reply), form_data(reply, body=BODY)))
    first_url = attribute(page, "iframe src")
    state_url = first_url.replace("&page=1", "&state=1")
    other = Client()
    other.force_login(committee, backend=MODEL_BACKEND)  # sees the reply, did not ask
    assert other.get(first_url).status_code == 404
    assert other.get(state_url).status_code == 404
    assert client.get(first_url).status_code == 200
