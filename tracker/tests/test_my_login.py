"""The e-mailed one-time sign-in link of /my/: sent only to a registered address, works once,
expires, and the answer never tells whether an address is registered."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client, TestCase

from tracker.tests import clock
from tracker.tests.my_support import member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tasks_in_process(eager_tasks, settings):
    """The mail is sent by tasks (tracker.my.login_links): here they run in the request; the
    throttle counts in a cache of this test's own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-my-login-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture
def p1(db):
    user = member("p1", "张晓钟")
    user.proposer.email = "zhang@example.org"
    user.proposer.save(update_fields=["email"])
    return user


def request_link(email: str) -> Client:
    c = Client()
    # What the task queues on commit (the sending) runs at once.
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = c.post("/my/login/link/", {"email": email})
    assert response.status_code == 302
    assert response["Location"] == "/my/login/link/sent/"
    return c


def link_in(message) -> str:
    (path,) = re.findall(r"https?://[^/\s]+(/my/login/link/[^\s]+/)", message.body)
    return path


def test_a_registered_address_gets_a_link_that_signs_in_once(p1, mailoutbox):
    request_link("Zhang@Example.org")
    (message,) = mailoutbox
    assert message.to == ["zhang@example.org"], "to the address as registered"
    assert "登录链接" in message.subject
    assert "15 分钟" in message.body
    path = link_in(message)

    c = Client()
    page = c.get(path)
    assert page.status_code == 200 and "确认登录" in page.content.decode()
    assert "_auth_user_id" not in c.session, "opening the link alone does not sign in"
    response = c.post(path)
    assert response.status_code == 302 and response["Location"] == "/my/"
    assert c.get("/my/").status_code == 200

    again = Client()
    assert again.get(path).status_code == 400
    assert again.post(path).status_code == 400
    assert "_auth_user_id" not in again.session


def test_the_account_address_works_too(p1, mailoutbox):
    p1.email = "account@example.org"
    p1.save(update_fields=["email"])
    request_link("account@example.org")
    assert len(mailoutbox) == 1


def test_an_unknown_address_gets_the_same_answer_and_no_mail(p1, clerk_a, mailoutbox):
    clerk_a.email = "clerk@example.org"
    clerk_a.save(update_fields=["email"])
    request_link("nobody@example.org")
    request_link("clerk@example.org")  # staff sign in at /admin/, not by link
    assert mailoutbox == []


def test_a_link_expires(p1, mailoutbox):
    request_link("zhang@example.org")
    path = link_in(mailoutbox[0])
    with clock.shift(minutes=16):
        response = Client().post(path)
    assert response.status_code == 400
    assert "链接已失效" in response.content.decode()


def test_a_forged_link_is_refused(p1):
    c = Client()
    assert c.post("/my/login/link/MQ/abc-123/").status_code == 400
    assert c.post("/my/login/link/!!/abc-123/").status_code == 400
