"""Redis stopped and started again under a running system: the cache falls back to the process's
memory, tasks that cannot be queued wait in the outbox, and everything resumes once it is back.

Each test starts its own ``redis-server`` (no persistence) on this module's port —
``OUTAGE_REDIS_PORT``, 6391 by default; xdist workers take turns through a file lock — points
the cache and the Celery broker at it, and stops and starts it as the test needs. A real
Celery worker (threads of this process) consumes from it where a test needs the work done, so
those tests commit (``transaction=True``).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from django.core import mail
from django.core.cache import caches
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from proposals import outbox
from proposals import workflow as pwf
from proposals.models import OutboxMessage
from proposals.tests import factories as f
from replies import tasks as reply_tasks
from replies import workflow as rwf
from replies.models import Reply
from tracker import cache as fallback_cache
from tracker import dashboard, jobs
from tracker import tasks as tracker_tasks
from tracker.celery import app
from tracker.models import EventNotice
from tracker.tests import api_support as s
from tracker.tests.celery_support import threaded_worker
from tracker.tests.reminder_support import wait_until, with_email

pytestmark = pytest.mark.slow

LIST = "/api/v1/replies/"


#: This module's own port (other modules' outage tests have theirs); xdist workers take turns.
PORT = int(os.environ.get("OUTAGE_REDIS_PORT", "6391"))


class OwnRedis:
    """A redis-server of the test's own, stopped and started at will (its data goes with it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None
        # No retries: redis-py's default retries a refused connection for seconds.
        self.client = redis.Redis(
            host="127.0.0.1", port=port, socket_timeout=2, retry=Retry(NoBackoff(), 0)
        )

    def answers(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.exceptions.ConnectionError:
            return False

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed (scripts/bootstrap installs it)"
        assert not self.answers(), f"something already listens on port {self.port}"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        assert wait_until(self.answers, timeout=10, every=0.05), "redis-server did not start"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        assert wait_until(lambda: not self.answers(), timeout=10, every=0.05)
        # Nothing listens on the port any more: a connection is refused, not left hanging.
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 1):
            pytest.fail("the port still accepts connections")

    def queue_length(self, queue: str) -> int:
        return int(self.client.llen(queue))


def _reset_broker_connections() -> None:
    """Drop the app's connection and producer pools, so that it connects to the broker URL it
    has now (kombu keeps its pools in a registry of its own)."""
    from kombu import pools

    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    pools.reset()


@pytest.fixture
def own_redis(settings, monkeypatch) -> Iterator[OwnRedis]:
    """Our redis-server, with the cache and the Celery broker pointed at it; one test at a
    time on the port, whatever the xdist worker (a file lock)."""
    with open(f"/tmp/tracker-test-redis-{PORT}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield from own_redis_on(PORT, settings, monkeypatch)


def own_redis_on(port: int, settings, monkeypatch) -> Iterator[OwnRedis]:
    """A redis-server on ``port`` (the caller holds the port's lock), with the cache and the
    Celery broker pointed at it, put back as they were afterwards."""
    server = OwnRedis(port)
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "tracker.cache.FallbackRedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1, "RETRY_AFTER": 0.2},
        }
    }
    fallback_cache._HEALTH.clear()
    # The tasks (shared tasks) are those of the current app: make it ours, whatever app an
    # earlier test created in this process.
    app.set_current()
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url = server.url
    app.conf.task_always_eager = False
    _reset_broker_connections()
    monkeypatch.setattr(outbox, "BROKER_RETRY_AFTER", 0.2)
    outbox.reset()
    try:
        yield server
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
        _reset_broker_connections()
        outbox.reset()
        fallback_cache._HEALTH.clear()
        if server.process is not None:
            server.stop()


@contextlib.contextmanager
def worker(*queues: str):
    """A Celery worker in threads of this process, on our Redis; each task closes its thread's
    database connection when it ends."""
    with threaded_worker(app, list(queues), concurrency=2) as w:
        yield w


def pending_reply(committee, session) -> tuple[s.Handling, Reply]:
    """A reply of the lead unit awaiting its signature (committed, as the worker must see it)."""
    h = s.handling(committee)
    for user in (h.clerk, h.signer):
        with_email(user)
    proposal = f.ProposalFactory(session=session, title="关于推进长宁产业发展的建议")
    pwf.file_proposal(proposal, actor=committee)
    (lead,) = pwf.assign_proposal(proposal, actor=committee, units=[(h.unit, "lead")])
    pwf.accept_assignment(lead, actor=h.clerk)
    reply = rwf.start_reply(lead, actor=h.clerk)
    reply = rwf.edit_reply(
        reply,
        actor=h.clerk,
        version=reply.version,
        result_label="解决或采纳",
        body=reply.body + s.REPLY_BODY,
    )
    return h, rwf.submit_reply(reply, actor=h.clerk)


# --- The cache -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_public_api_answers_with_redis_stopped_and_still_throttles_per_process(
    own_redis, committee, session, settings, tmp_path, caplog
):
    settings.MEDIA_ROOT = tmp_path
    p1 = s.member("p1", "张文浩")
    reply = s.handled(s.handling(committee), session=session, lead=p1.proposer).reply
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "8/min"},
    }
    client = Client(REMOTE_ADDR="198.51.100.7")
    assert client.get(LIST).status_code == 200
    assert own_redis.client.keys("*throttle_anon_198.51.100.7*")  # counted in Redis

    own_redis.stop()
    caplog.set_level(logging.WARNING, logger="tracker.cache")
    started = time.monotonic()
    urls = [LIST, f"{LIST}{reply.pk}/"] * 4 + [LIST]
    statuses = [client.get(url).status_code for url in urls]
    elapsed = time.monotonic() - started
    # The 8/min budget counts afresh in this process's memory (what Redis counted before is
    # out of reach): 8 answers, then 429.
    assert statuses == [200] * 8 + [429], statuses
    assert Client(REMOTE_ADDR="192.0.2.77").get(LIST).status_code == 200  # another client
    # Still on the fallback: Redis has not answered since it went down. (Not ``degraded()``,
    # which is true only until the next retry, 0.2 s here: a loaded machine can pass that.)
    assert caches["default"].health.down_since is not None
    warnings = [r for r in caplog.records if r.name == "tracker.cache"]
    assert len(warnings) == 1 and "unreachable" in warnings[0].getMessage()
    assert elapsed < 5, f"{elapsed:.1f}s for 9 requests with Redis stopped"

    own_redis.start()
    time.sleep(0.3)  # RETRY_AFTER
    assert Client(REMOTE_ADDR="203.0.113.5").get(LIST).status_code == 200
    assert not fallback_cache.degraded()
    assert own_redis.client.keys("*throttle_anon_203.0.113.5*")  # back in Redis
    assert any("is back" in r.getMessage() for r in caplog.records if r.name == "tracker.cache")


@pytest.mark.django_db
def test_the_admins_jobs_say_in_chinese_that_their_progress_cannot_be_read(
    own_redis, committee, session, client
):
    client.force_login(committee)
    job_id = jobs.create("session_pdfs", user_id=committee.pk, payload={"session_id": session.pk})
    status_url = reverse("tracker_admin:job_status", args=[job_id])
    assert client.get(status_url).status_code == 200

    own_redis.stop()
    response = client.get(status_url)
    assert response.status_code == 503
    assert response.json()["message"].startswith(
        "缓存服务（Redis）暂时无法连接，暂时无法读取任务进度"
    )
    page = client.get(reverse("tracker_admin:job", args=[job_id]))
    assert page.status_code == 503 and "暂时无法读取任务进度" in page.content.decode()
    started = client.post(reverse("tracker_admin:render_pdfs"), {"session": session.pk})
    assert started.status_code == 503
    assert "后台任务无法启动" in started.content.decode()
    assert not OutboxMessage.objects.exists()  # no job, so nothing queued for nobody

    own_redis.start()
    time.sleep(0.3)
    assert client.get(status_url).status_code == 404  # Redis came back empty: the job is gone


# --- Tasks while the broker is down ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_signing_with_redis_stopped_answers_normally_and_the_pdf_follows_once_it_is_back(
    own_redis, committee, session, settings, tmp_path, caplog
):
    settings.MEDIA_ROOT = tmp_path
    h, reply = pending_reply(committee, session)
    own_redis.stop()

    client = Client()
    client.force_login(h.signer)
    response = client.post(
        reverse("admin:replies_reply_verb", args=[reply.pk, "sign"]),
        {"apply": "1", "confirm": "on"},
    )
    assert response.status_code == 302
    reply.refresh_from_db()
    assert reply.state == Reply.State.SIGNED and reply.doc_number.startswith("长发改〔")
    (kept,) = OutboxMessage.objects.filter(task=reply_tasks.render_signed_pdf.name)
    assert (kept.args, kept.kwargs, kept.attempts) == (["reply", reply.pk], {}, 1)
    assert f"127.0.0.1:{own_redis.port}" in kept.last_error
    # The committee sees it waiting (and that the broker is down).
    board = dashboard.build(committee)
    outbox_section = {s.key: s for s in board.faults}["outbox"]
    assert outbox_section.count >= 1 and "生成签发件" in outbox_section.lines[-1].text
    # A sweep while Redis is still down keeps it, one more attempt counted.
    time.sleep(0.3)
    assert tracker_tasks.deliver_outbox() == 0
    assert OutboxMessage.objects.get(pk=kept.pk).attempts == 2

    own_redis.start()
    assert tracker_tasks.deliver_outbox() >= 1  # the five-minute beat task
    assert not OutboxMessage.objects.filter(task=reply_tasks.render_signed_pdf.name).exists()
    assert own_redis.queue_length("pdf") == 1
    assert tracker_tasks.deliver_outbox() == 0  # sent once: nothing left to send again

    with worker("pdf"):
        assert wait_until(lambda: Reply.objects.get(pk=reply.pk).pdf_sha256 != "", timeout=60)
    reply.refresh_from_db()
    assert reply.pdf.read(5) == b"%PDF-" and not reply.pdf_failed


@pytest.mark.django_db(transaction=True)
def test_the_web_process_delivers_the_outbox_on_its_first_publish_after_the_outage(
    own_redis, committee, session, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    h, first = pending_reply(committee, session)
    own_redis.stop()
    rwf.sign_reply(first, actor=h.signer)  # commits; its render goes to the outbox
    assert OutboxMessage.objects.filter(task=reply_tasks.render_signed_pdf.name).count() == 1

    own_redis.start()
    _reset_broker_connections()
    time.sleep(0.3)  # the breaker's pause
    assert outbox.enqueue(reply_tasks.render_signed_pdf, "reply", 0)  # any publish that works
    assert not OutboxMessage.objects.exists()
    assert own_redis.queue_length("pdf") == 2  # the kept render, then the new message


@pytest.mark.django_db(transaction=True)
def test_a_notice_queued_while_redis_was_down_is_delivered_once_after_it_returns(
    own_redis, committee, session, settings, mailoutbox
):
    settings.REMINDER_RESEND_AFTER = 0.0  # the hourly sweep re-sends anything still pending
    h, reply = pending_reply(committee, session)
    signer_notices = EventNotice.objects.filter(event="awaiting_signature", email=h.signer.email)
    signer_notices.delete()
    mail.outbox.clear()
    own_redis.stop()

    rwf.return_reply(reply, actor=h.signer, comment="请补充数据")
    rwf.submit_reply(reply, actor=h.clerk)  # "awaiting signature" for the signer: a notice
    (notice,) = signer_notices
    assert notice.state == "pending"
    assert OutboxMessage.objects.filter(
        task=tracker_tasks.send_event_notice.name, args=[notice.pk]
    ).exists()
    assert mailoutbox == []

    own_redis.start()
    _reset_broker_connections()
    # Both ways the notice can come back: the outbox, and the hourly sweep of the ledger.
    tracker_tasks.deliver_outbox()
    tracker_tasks.retry_unsent()
    assert own_redis.queue_length("mail") >= 2
    with worker("mail"):
        assert wait_until(lambda: EventNotice.objects.get(pk=notice.pk).state == "sent")
        wait_until(lambda: own_redis.queue_length("mail") == 0, timeout=10)
        time.sleep(0.5)  # let a second message for it run, if any
    to_signer = [m for m in mailoutbox if h.signer.email in m.to]
    assert len(to_signer) == 1 and "待签发" in to_signer[0].subject
    notice.refresh_from_db()
    assert (notice.attempts, notice.may_be_duplicate) == (1, False)
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_send_each_kept_task_once(own_redis, committee, session):
    own_redis.stop()
    for pk in range(1, 31):
        reply_tasks.render_signed_pdf.delay("reply", pk)  # nothing to render: ids only
    assert OutboxMessage.objects.count() == 30
    own_redis.start()
    _reset_broker_connections()
    time.sleep(0.3)

    barrier = threading.Barrier(4)
    sent: list[int] = []

    def sweep():
        barrier.wait()
        try:
            sent.append(outbox.deliver().sent)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(sent) == 30 and not OutboxMessage.objects.exists()
    assert own_redis.queue_length("pdf") == 30


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_starts_asks_for_the_outbox_to_be_sent(own_redis):
    from celery.signals import worker_ready

    worker_ready.send(sender=None)
    assert own_redis.queue_length("celery") == 1
    raw = own_redis.client.lindex("celery", 0)
    assert tracker_tasks.deliver_outbox.name.encode() in raw


# --- A render that fails, with a real worker ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_failing_render_is_retried_with_backoff_by_the_worker_then_is_generation_failed(
    own_redis, committee, session, settings, tmp_path, monkeypatch
):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    settings.MEDIA_ROOT = blocker / "media"  # the worker cannot write the PDF
    monkeypatch.setattr(reply_tasks, "PDF_RETRY_BACKOFF", 1)
    monkeypatch.setattr(reply_tasks, "PDF_RETRY_BACKOFF_MAX", 1)
    h, reply = pending_reply(committee, session)
    before = timezone.now()
    rwf.sign_reply(reply, actor=h.signer)  # commits: the render is queued on commit

    with worker("pdf"):
        assert wait_until(lambda: Reply.objects.get(pk=reply.pk).pdf_failed, timeout=60)
    reply.refresh_from_db()
    assert reply.pdf_attempts == reply_tasks.PDF_MAX_ATTEMPTS
    assert "Not a directory" in reply.pdf_error and reply.pdf_failed_at > before
    assert reply.state == Reply.State.SIGNED and reply.doc_number.startswith("长发改〔")
    # Shown to the unit and the committee, with its reason and 重新生成.
    for user in (h.clerk, committee):
        (line,) = {s.key: s for s in dashboard.build(user).faults}["pdf_failed"].lines
        assert "Not a directory" in line.detail and line.action_url.endswith("/do/rerender/")
    # 送达 is refused.
    with pytest.raises(pwf.WrongState):
        rwf.send_reply(reply, actor=h.clerk)

    settings.MEDIA_ROOT = tmp_path / "media"  # fixed
    rwf.rerender_pdf(reply, actor=h.clerk)
    with worker("pdf"):
        assert wait_until(lambda: Reply.objects.get(pk=reply.pk).pdf_sha256 != "", timeout=60)
    assert not dashboard.build(h.clerk).faults


def test_the_render_task_retries_below_the_visibility_timeout_and_beat_delivers_the_outbox():
    from celery.schedules import crontab
    from django.conf import settings

    visibility = app.conf.broker_transport_options["visibility_timeout"]
    task = reply_tasks.render_signed_pdf
    assert task.acks_late and task.reject_on_worker_lost
    assert task.max_retries == reply_tasks.PDF_MAX_ATTEMPTS - 1
    assert task.soft_time_limit < task.time_limit < visibility
    assert reply_tasks.PDF_RETRY_BACKOFF < reply_tasks.PDF_RETRY_BACKOFF_MAX < visibility
    assert max(reply_tasks.retry_countdown(n) for n in range(20) for _ in range(20)) <= 1800
    for t in (task, tracker_tasks.send_digest, tracker_tasks.send_event_notice):
        assert isinstance(t, outbox.OutboxTask), t.name
    entry = settings.CELERY_BEAT_SCHEDULE["deliver-outbox"]
    assert entry["task"] == tracker_tasks.deliver_outbox.name
    assert entry["schedule"] == crontab(minute="*/5")
    assert (
        tracker_tasks.deliver_outbox.acks_late
        and tracker_tasks.deliver_outbox.reject_on_worker_lost
    )


@pytest.mark.django_db
def test_the_committee_sees_failed_mail_and_undeliverable_tasks(committee, unit_a, clerk_a, client):
    transition = pwf.record_transition(unit_a, actor=committee, verb="test")
    failed = EventNotice.objects.create(
        event="reply_sent",
        transition=transition,
        email="member@example.org",
        state="failed",
        attempts=5,
        last_error="SMTPRecipientsRefused: 550 mailbox unavailable",
    )
    OutboxMessage.objects.create(
        task="tracker.tasks.send_event_notice",
        args=[failed.pk],
        attempts=outbox.OUTBOX_ALERT_ATTEMPTS,
        last_error="OperationalError: Error 111 connecting to redis:6379. Connection refused.",
    )
    OutboxMessage.objects.create(task="tracker.tasks.send_digest", args=[7], attempts=1)
    board = {s.key: s for s in dashboard.build(committee).faults}
    (mail_line,) = board["mail_failed"].lines
    assert "member@example.org" in mail_line.text and "550 mailbox" in mail_line.detail
    assert mail_line.url == reverse("admin:tracker_eventnotice_change", args=[failed.pk])
    lines = board["outbox"].lines
    assert [line.tone for line in lines] == ["danger", "warn"]  # past N attempts first
    assert "发送事件通知" in lines[0].text and "Connection refused" in lines[0].detail
    assert board["outbox"].tone == "danger" and board["outbox"].count == 2
    assert lines[0].url == reverse("admin:tracker_eventnotice_change", args=[failed.pk])
    assert "发送提醒邮件 7" in lines[1].text
    client.force_login(committee)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'id="fault-mail_failed"' in html and 'id="fault-outbox"' in html
    # A unit's clerk sees none of it.
    assert dashboard.build(clerk_a).faults == []
