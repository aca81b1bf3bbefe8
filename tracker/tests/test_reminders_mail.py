"""The digest e-mail and the sending machine: one mail per person per day, in Chinese, text and
HTML; a claimed row is nobody else's; failures back off, then fail, and stay failed."""

import datetime
import logging
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from proposals.models import DueDate
from tracker import tasks
from tracker.mail import digests, ledger
from tracker.models import Digest, Reminder
from tracker.tests import clock
from tracker.tests.reminder_support import MONDAY, D, open_item

pytestmark = pytest.mark.django_db


class RefusingBackend(LocmemBackend):
    """An SMTP server that refuses every message, as far as the caller can tell."""

    calls = 0

    def send_messages(self, messages):
        type(self).calls += 1
        raise smtplib.SMTPDataError(554, b"5.7.1 Message refused")


@pytest.fixture
def refusing(settings):
    RefusingBackend.calls = 0
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    return RefusingBackend


@pytest.fixture
def one_digest(people):
    open_item(people.unit_b, due_on=D(2026, 11, 30))
    from tracker import reminders

    (digest,) = reminders.run_scan(today=MONDAY, dispatch=False).digests
    return digest


# --- The digest -----------------------------------------------------------------------------


def test_one_digest_per_person_groups_all_their_items_overdue_first(people, scan, mailoutbox):
    open_item(people.unit_a, due_on=D(2026, 11, 30), number="第061号")
    open_item(people.unit_a, due_on=MONDAY, number="第062号")
    open_item(
        people.unit_a, due_on=D(2026, 11, 16), number="第063号", clock=DueDate.Clock.FIRST_CONTACT
    )

    scan(MONDAY)

    messages = [m for m in mailoutbox if m.to == [people.clerk_a.email]]
    assert len(messages) == 1
    message = messages[0]
    assert message.subject == (
        "提案办理提醒（2026年11月23日）：已逾期1件，今日到期1件，即将到期1件"
    )
    body = message.body
    assert body.startswith("甲联络员：")
    assert body.index("第063号") < body.index("第062号") < body.index("第061号")
    assert "沟通见面" in body and "已逾期5个工作日" in body
    assert "今日到期" in body and "还有5个工作日到期" in body
    assert "/admin/proposals/assignment/" in body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert '<html lang="zh-CN">' in html
    assert "http://127.0.0.1:8000/admin/proposals/assignment/" in html
    assert "第063号" in html and "已逾期5个工作日" in html


def test_the_digest_lists_a_limited_number_of_rows_and_counts_the_rest(
    people, scan, mailoutbox, settings
):
    settings.REMINDER_DIGEST_MAX_ROWS = 2
    for _ in range(5):
        open_item(people.unit_b, due_on=D(2026, 11, 30))

    scan(MONDAY)

    (message,) = mailoutbox
    assert "即将到期1件" not in message.subject and "即将到期5件" in message.subject
    assert "另有 3 件未列出" in message.body
    assert "另有 3 件未列出" in message.alternatives[0][0]


def test_a_publication_reminder_links_the_reply(people, scan, mailoutbox):
    from replies.models import Reply

    assignment = open_item(people.unit_b, due_on=D(2026, 11, 30))
    DueDate.objects.filter(assignment=assignment).update(completed_on=D(2026, 10, 20))
    assignment.state = "replied"
    assignment.save()
    reply = Reply.objects.create(
        assignment=assignment,
        proposal=assignment.proposal,
        unit=people.unit_b,
        title="答复",
        salutation="委员：",
        body="正文",
        state="sent",
        disclosure="public",
        sent_at=datetime.datetime(2026, 10, 26, 9, 0, tzinfo=datetime.UTC),
    )
    # 20 working days after 10-26 is 11-23; one day later the reply is still not published.

    scan(D(2026, 11, 24))

    (message,) = mailoutbox
    assert "主动公开" in message.body and "已逾期1个工作日" in message.body
    assert f"/admin/replies/reply/{reply.pk}/change/" in message.body


def test_the_publication_clock_starts_on_the_shanghai_date_of_sending(people):
    from replies.models import Reply
    from tracker import reminders

    assignment = open_item(people.unit_b, due_on=D(2026, 11, 30), state="replied")
    Reply.objects.create(
        assignment=assignment,
        proposal=assignment.proposal,
        unit=people.unit_b,
        title="答复",
        salutation="委员：",
        body="正文",
        state="sent",
        disclosure="public",
        # Sunday 17:00 UTC is Monday 01:00 in Shanghai: sent on 10-26, due 20 working days on.
        sent_at=datetime.datetime(2026, 10, 25, 17, 0, tzinfo=datetime.UTC),
    )

    plan = reminders.plan_reminders(today=D(2026, 11, 24))

    assert [(i.clock, i.step, i.due_on) for i in plan.items] == [
        ("publication", -1, D(2026, 11, 23))
    ]


@pytest.mark.parametrize(("state", "disclosure"), [("published", "public"), ("sent", "on_request")])
def test_a_published_or_non_public_reply_gets_no_publication_reminder(
    people, scan, mailoutbox, state, disclosure
):
    from replies.models import Reply

    assignment = open_item(people.unit_b, due_on=D(2026, 11, 30), state="replied")
    Reply.objects.create(
        assignment=assignment,
        proposal=assignment.proposal,
        unit=people.unit_b,
        title="答复",
        salutation="委员：",
        body="正文",
        state=state,
        disclosure=disclosure,
        sent_at=datetime.datetime(2026, 10, 26, 9, 0, tzinfo=datetime.UTC),
    )

    scan(D(2026, 11, 24))

    assert mailoutbox == []


# --- Claiming: never twice ------------------------------------------------------------------


def test_a_second_task_for_a_sent_digest_sends_nothing(one_digest, mailoutbox):
    assert digests.deliver_digest(one_digest.pk).status == "sent"
    assert digests.deliver_digest(one_digest.pk).status == "skipped"

    assert len(mailoutbox) == 1
    one_digest.refresh_from_db()
    assert (one_digest.state, one_digest.attempts, one_digest.may_be_duplicate) == (
        "sent",
        1,
        False,
    )
    assert Reminder.objects.get().state == "sent"


def test_a_digest_another_task_is_sending_is_left_to_it(one_digest, mailoutbox):
    assert ledger.claim(Digest, one_digest.pk) is not None

    assert digests.deliver_digest(one_digest.pk).status == "skipped"
    assert mailoutbox == []


def test_a_digest_whose_sender_died_is_sent_again_flagged_and_logged(
    one_digest, mailoutbox, caplog
):
    ledger.claim(Digest, one_digest.pk)  # the worker died after this
    with clock.shift(seconds=600):
        assert ledger.unsent(Digest) == [one_digest.pk]
        with caplog.at_level(logging.WARNING, logger="tracker.mail.ledger"):
            outcome = digests.deliver_digest(one_digest.pk)

    assert outcome.status == "sent"
    assert len(mailoutbox) == 1
    one_digest.refresh_from_db()
    assert (one_digest.attempts, one_digest.may_be_duplicate) == (2, True)
    assert "may receive it twice" in caplog.text


def test_the_sweep_resends_a_digest_whose_message_was_lost_but_not_one_still_queued(
    one_digest, settings
):
    assert ledger.unsent(Digest) == [], "just written: its message is in the queue"

    with clock.shift(seconds=settings.REMINDER_RESEND_AFTER + 1):
        assert ledger.unsent(Digest) == [one_digest.pk]


def test_a_task_for_a_missing_row_does_nothing(db, eager_tasks, mailoutbox):
    assert tasks.send_digest.delay(987654).get() == "skipped"
    assert tasks.send_event_notice.delay(987654).get() == "skipped"
    assert mailoutbox == []


# --- Failures: back off, then fail, and stay failed ----------------------------------------


def test_a_refused_send_backs_off_doubling_until_the_last_attempt_then_fails(
    one_digest, refusing, settings
):
    settings.REMINDER_MAIL_MAX_ATTEMPTS = 3
    settings.REMINDER_MAIL_RETRY_BACKOFF = 60

    first = digests.deliver_digest(one_digest.pk)
    one_digest.refresh_from_db()
    assert (first.status, first.retry_in, one_digest.state) == ("retry", 60, "pending")
    assert "554" in one_digest.last_error
    assert ledger.unsent(Digest) == [], "not before its next attempt is due"

    second = digests.deliver_digest(one_digest.pk)
    third = digests.deliver_digest(one_digest.pk)
    one_digest.refresh_from_db()

    assert (second.status, second.retry_in) == ("retry", 120)
    assert third.status == "failed"
    assert (one_digest.state, one_digest.attempts) == ("failed", 3)
    assert refusing.calls == 3


def test_run_eagerly_the_task_leaves_the_retry_to_the_sweep(
    one_digest, refusing, eager_tasks, settings
):
    assert tasks.send_digest.delay(one_digest.pk).get() == "retry"

    one_digest.refresh_from_db()
    assert (one_digest.state, one_digest.attempts, refusing.calls) == ("pending", 1, 1)
    with clock.shift(seconds=settings.REMINDER_MAIL_RETRY_BACKOFF):
        assert ledger.unsent(Digest) == [one_digest.pk]


def test_a_failed_digest_is_never_retried_on_its_own(one_digest, refusing, settings):
    settings.REMINDER_MAIL_MAX_ATTEMPTS = 1
    digests.deliver_digest(one_digest.pk)

    with clock.shift(days=3):
        assert ledger.unsent(Digest) == []
        assert digests.deliver_digest(one_digest.pk).status == "skipped"
    assert refusing.calls == 1


def test_retrying_a_failed_digest_starts_a_fresh_count(
    one_digest, refusing, settings, django_capture_on_commit_callbacks, eager_tasks, mailoutbox
):
    settings.REMINDER_MAIL_MAX_ATTEMPTS = 1
    digests.deliver_digest(one_digest.pk)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    with django_capture_on_commit_callbacks(execute=True):
        assert ledger.requeue_failed(Digest, [one_digest.pk]) == [one_digest.pk]

    one_digest.refresh_from_db()
    assert (one_digest.state, one_digest.attempts) == ("sent", 1)
    assert len(mail.outbox) == 1


def test_the_backoff_doubles_and_stays_below_the_visibility_timeout(settings):
    settings.REMINDER_MAIL_RETRY_BACKOFF = 60
    delays = [ledger.retry_delay(n) for n in range(1, 12)]

    assert delays[:4] == [60, 120, 240, 480]
    assert max(delays) == settings.REMINDER_MAIL_RETRY_BACKOFF_MAX
    assert max(delays) < settings.CELERY_VISIBILITY_TIMEOUT
