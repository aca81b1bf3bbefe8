"""With a real Redis and a real Celery worker (threads of this process): the scan twice a day
sends one digest per person; ten enqueues of one digest send one mail; a mail server that
refuses gets a few attempts with growing pauses, then the digest is failed, shown in the admin,
and left alone."""

import threading

import pytest
from celery.signals import task_postrun
from django.urls import reverse

from tracker import reminders, tasks
from tracker.mail import ledger
from tracker.models import Digest
from tracker.tests.reminder_support import (
    MONDAY,
    D,
    RefusingSMTPServer,
    mails_per_recipient,
    open_item,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def all_sent(count: int) -> bool:
    return Digest.objects.filter(state="sent").count() == count


def test_the_scan_run_twice_on_one_day_sends_one_digest_per_recipient(
    people, celery_worker, mailoutbox
):
    open_item(people.unit_a, due_on=D(2026, 11, 30))
    open_item(people.unit_a, due_on=MONDAY)
    open_item(people.unit_b, due_on=D(2026, 11, 18))

    first = reminders.run_scan(today=MONDAY)
    assert wait_until(lambda: all_sent(3)), list(Digest.objects.values_list("state", "last_error"))
    second = reminders.run_scan(today=MONDAY)
    tasks.retry_unsent.delay()
    wait_until(lambda: False, timeout=0.5)  # let anything stray arrive

    assert (len(first.digests), len(second.digests)) == (3, 0)
    assert mails_per_recipient() == {
        people.clerk_a.email: 1,
        people.clerk_a2.email: 1,
        people.clerk_b.email: 1,
    }


def test_ten_concurrent_enqueues_of_one_digest_send_one_mail(people, celery_worker, mailoutbox):
    open_item(people.unit_b, due_on=D(2026, 11, 30))
    (digest,) = reminders.run_scan(today=MONDAY, dispatch=False).digests
    done: list[str] = []

    def count(sender=None, retval=None, **kwargs):
        if sender.name == tasks.send_digest.name:
            done.append(retval)

    task_postrun.connect(count, weak=False)
    start = threading.Barrier(10)

    def enqueue():
        start.wait()
        tasks.send_digest.delay(digest.pk)

    try:
        threads = [threading.Thread(target=enqueue) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert wait_until(lambda: len(done) == 10)
    finally:
        task_postrun.disconnect(count)

    assert len(mailoutbox) == 1
    assert sorted(done).count("sent") == 1
    digest.refresh_from_db()
    assert (digest.state, digest.attempts, digest.may_be_duplicate) == ("sent", 1, False)


def test_a_refusing_mail_server_gets_backed_off_attempts_then_the_digest_fails_for_good(
    people, celery_worker, settings, client
):
    settings.REMINDER_MAIL_MAX_ATTEMPTS = 3
    settings.REMINDER_MAIL_RETRY_BACKOFF = 0.4
    open_item(people.unit_b, due_on=D(2026, 11, 30), number="第099号")

    with RefusingSMTPServer() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_USE_TLS = False
        (digest,) = reminders.run_scan(today=MONDAY).digests
        assert wait_until(lambda: Digest.objects.get(pk=digest.pk).state == "failed")
        # No retry loop: the hourly sweep leaves a failed digest alone.
        assert ledger.unsent(Digest) == []
        tasks.retry_unsent.delay()
        wait_until(lambda: False, timeout=1.0)
        sessions = list(sink.sessions)

    assert len(sessions) == 3
    first_pause, second_pause = sessions[1] - sessions[0], sessions[2] - sessions[1]
    assert first_pause >= 0.4 and second_pause >= 0.8
    digest.refresh_from_db()
    assert (digest.state, digest.attempts) == ("failed", 3)
    assert "554" in digest.last_error and "SMTPSenderRefused" in digest.last_error

    client.force_login(people.committee)
    page = client.get(
        reverse("admin:tracker_digest_changelist"), {"state__exact": "failed"}
    ).content.decode()
    assert people.clerk_b.email in page and "发送失败" in page and "554" in page
