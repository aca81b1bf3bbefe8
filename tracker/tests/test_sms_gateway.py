"""短信 (issue 21, part 3): the HTTP gateway backend against a fake gateway this test starts on
127.0.0.1 (``http.server`` in a thread), which answers 500 once and then 200 — the ledger
retries, with the same attempts and backoff as an e-mail — and the console backend."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import TestCase

from proposals import workflow as pwf
from proposals.tests import factories as f
from tracker import sms
from tracker.mail import members
from tracker.members import tasks as member_tasks
from tracker.models import MemberNotice, MemberPreference
from tracker.sms import SmsError, SmsMessage, get_backend

pytestmark = pytest.mark.django_db


class FakeGateway:
    """Answers each POST with the next status of ``statuses`` (the last one repeats)."""

    def __init__(self, statuses: list[int], delay: float = 0.0) -> None:
        self.statuses = list(statuses)
        self.received: list[dict] = []
        self.headers: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                gateway.received.append(json.loads(self.rfile.read(length)))
                gateway.headers.append(dict(self.headers))
                if delay:
                    threading.Event().wait(delay)
                status = (
                    gateway.statuses.pop(0) if len(gateway.statuses) > 1 else gateway.statuses[0]
                )
                body = json.dumps({"ok": status == 200}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def gateway_settings(settings):
    settings.SMS_BACKEND = "tracker.sms.backends.http.SmsBackend"
    settings.SMS_SIGNATURE = "区政协提案"
    settings.SMS_TEMPLATES = {"filed": "SMS_1001", "replied": "SMS_1006"}
    settings.SMS_TIMEOUT = 2.0
    settings.SMS_API_KEY = "test-key"
    return settings


def sms_notice(committee, session) -> MemberNotice:
    """A member who chose 短信; their proposal filed; the sweep writes one 短信 to send."""
    p = f.ProposerFactory(name="钱建峰", mobile="13900000009", email="")
    MemberPreference.objects.create(proposer=p, channels="sms")
    proposal = f.ProposalFactory(session=session, lead_proposer=p, title="关于社区食堂的建议")
    pwf.file_proposal(proposal, actor=committee)
    members.sweep()  # queues nothing outside captureOnCommitCallbacks
    return MemberNotice.objects.get(channel="sms")


def test_the_gateway_gets_a_short_signed_message_and_its_500_is_retried(
    committee, session, gateway_settings
):
    notice = sms_notice(committee, session)
    with FakeGateway([500, 200]) as gateway:
        gateway_settings.SMS_GATEWAY_URL = gateway.url
        first = members.deliver_member_notice(notice.pk)
        notice.refresh_from_db()
        assert first.status == "retry" and first.retry_in == 60.0
        assert (notice.state, notice.attempts) == ("pending", 1)
        assert "gateway answered 500" in notice.last_error
        assert notice.next_attempt_at is not None

        second = members.deliver_member_notice(notice.pk)
        notice.refresh_from_db()
        assert second.status == "sent"
        assert (notice.state, notice.attempts) == ("sent", 2)

        assert members.deliver_member_notice(notice.pk).status == "skipped"
    assert len(gateway.received) == 2
    body = gateway.received[-1]
    assert body["phone"] == "13900000009" and body["sign"] == "区政协提案"
    assert body["template"] == "SMS_1001"
    assert body["params"]["event"] == "立案" and body["params"]["title"] == "关于社区食堂的建议"
    assert body["text"].startswith("【区政协提案】钱建峰：您的提案《关于社区食堂的建议》立案")
    assert body["text"].endswith(f"/my/proposals/{notice.transition.proposal_id}/")
    assert len(body["text"]) <= 140
    assert gateway.headers[-1]["Authorization"] == "Bearer test-key"


def test_through_the_task_a_500_leaves_the_message_owed_for_the_sweep(
    committee, session, gateway_settings, eager_tasks
):
    """The Celery path (eager, as ``make run``): the task does not block for the backoff; the
    ledger keeps the next attempt, and the minutely sweep sends it."""
    notice = sms_notice(committee, session)
    with FakeGateway([500, 200]) as gateway:
        gateway_settings.SMS_GATEWAY_URL = gateway.url
        assert member_tasks.send_member_notice.delay(notice.pk).get() == "retry"
        MemberNotice.objects.filter(pk=notice.pk).update(next_attempt_at=notice.created_at)
        with TestCase.captureOnCommitCallbacks(execute=True):
            member_tasks.sweep_member_notices()
    notice.refresh_from_db()
    assert notice.state == "sent" and len(gateway.received) == 2


def test_a_gateway_that_keeps_failing_marks_the_message_failed(
    committee, session, gateway_settings
):
    gateway_settings.REMINDER_MAIL_MAX_ATTEMPTS = 3
    notice = sms_notice(committee, session)
    with FakeGateway([500]) as gateway:
        gateway_settings.SMS_GATEWAY_URL = gateway.url
        outcomes = [members.deliver_member_notice(notice.pk).status for _ in range(4)]
    notice.refresh_from_db()
    assert outcomes == ["retry", "retry", "failed", "skipped"]
    assert notice.state == "failed" and len(gateway.received) == 3


def test_a_slow_gateway_times_out_as_an_error_to_retry(gateway_settings):
    gateway_settings.SMS_TIMEOUT = 0.3
    with FakeGateway([200], delay=1.5) as gateway:
        gateway_settings.SMS_GATEWAY_URL = gateway.url
        with pytest.raises(SmsError, match="unreachable"):
            get_backend().send_messages([SmsMessage(to="13900000001", text="测试")])


def test_a_refusal_in_a_200_answer_is_an_error(gateway_settings):
    with FakeGateway([201]) as gateway:  # {"ok": false}
        gateway_settings.SMS_GATEWAY_URL = gateway.url
        with pytest.raises(SmsError, match="refused"):
            get_backend().send_messages([SmsMessage(to="13900000001", text="测试")])


def test_the_console_backend_prints_the_signed_message(settings):
    settings.SMS_SIGNATURE = "区政协提案"
    stream = io.StringIO()
    backend = get_backend("tracker.sms.backends.console.SmsBackend", stream=stream)
    assert backend.send_messages([SmsMessage(to="13900000001", text="您的提案已立案")]) == 1
    assert stream.getvalue() == "SMS to 13900000001: 【区政协提案】您的提案已立案\n"


def test_the_locmem_backend_keeps_the_messages(settings):
    settings.SMS_BACKEND = "tracker.sms.backends.locmem.SmsBackend"
    sms.outbox.clear()
    sms.send_sms(SmsMessage(to="13900000001", text="测试"))
    assert [m.to for m in sms.outbox] == ["13900000001"]
    sms.outbox.clear()
