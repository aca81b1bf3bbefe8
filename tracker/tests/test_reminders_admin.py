"""The ledgers in the admin, the reminder settings, and ``manage.py send_reminders``."""

import smtplib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from proposals.workflow import record_transition
from tracker import reminders
from tracker.mail import digests
from tracker.models import Digest, EventNotice, NotificationPreference, Reminder, ScanRun
from tracker.tests.reminder_support import MONDAY, D, open_item

pytestmark = pytest.mark.django_db


def url(model: str, view: str = "changelist", *args) -> str:
    return reverse(f"admin:tracker_{model}_{view}", args=args)


@pytest.fixture
def failed_digest(people, settings, monkeypatch):
    open_item(people.unit_b, due_on=D(2026, 11, 30), number="第088号")
    (digest,) = reminders.run_scan(today=MONDAY, dispatch=False).digests
    settings.REMINDER_MAIL_MAX_ATTEMPTS = 1

    def refuse(self):
        raise smtplib.SMTPSenderRefused(554, b"5.7.1 Sender refused", "noreply@localhost")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    assert digests.deliver_digest(digest.pk).status == "failed"
    monkeypatch.undo()
    digest.refresh_from_db()
    return digest


def test_the_committee_sees_failed_digests_with_their_attempts_and_error(
    client, people, failed_digest
):
    client.force_login(people.committee)

    response = client.get(url("digest"), {"state__exact": "failed"})

    page = response.content.decode()
    assert response.status_code == 200
    assert failed_digest.email in page
    assert "发送失败" in page and "554" in page
    assert "重新发送所选的发送失败邮件" in page
    detail = client.get(url("digest", "change", failed_digest.pk)).content.decode()
    assert "第088号" in detail and "SMTPSenderRefused" in detail


def test_the_committee_puts_failed_digests_back_in_the_queue(
    client, people, failed_digest, eager_tasks, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(people.committee)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("digest"),
            {"action": "retry_failed", "_selected_action": [failed_digest.pk]},
            follow=True,
        )

    assert "已重新排队 1 封邮件" in response.content.decode()
    failed_digest.refresh_from_db()
    assert (failed_digest.state, failed_digest.attempts) == ("sent", 1)
    assert len(mailoutbox) == 1


def test_the_supervision_office_looks_but_cannot_retry(client, people, failed_digest):
    client.force_login(people.supervisor)

    response = client.get(url("digest"))

    assert response.status_code == 200
    assert "重新发送所选的发送失败邮件" not in response.content.decode()


@pytest.mark.parametrize("model", ["digest", "reminder", "eventnotice", "scanrun"])
def test_a_units_clerk_cannot_see_the_ledgers(client, people, failed_digest, model):
    client.force_login(people.clerk_b)

    assert client.get(url(model)).status_code == 403


@pytest.mark.parametrize(
    "model", ["digest", "reminder", "eventnotice", "scanrun", "notificationpreference"]
)
def test_every_ledger_page_answers_for_the_committee(client, people, failed_digest, model):
    NotificationPreference.objects.create(user=people.clerk_a, muted=["reply"])
    transition = record_transition(people.unit_a, actor=people.committee, verb="assign")
    EventNotice.objects.create(
        event="assignment_created", transition=transition, email=people.clerk_a.email
    )
    client.force_login(people.committee)

    assert client.get(url(model)).status_code == 200
    obj = type(failed_digest)._meta.apps.get_model("tracker", model).objects.first()
    assert client.get(url(model, "change", obj.pk)).status_code == 200


def test_a_clerk_mutes_a_class_of_reminders_for_themselves_only(client, people):
    NotificationPreference.objects.create(user=people.clerk_a, muted=["reply"])
    client.force_login(people.clerk_b)

    form = client.get(url("notificationpreference", "add")).content.decode()
    response = client.post(
        url("notificationpreference", "add"), {"muted": ["first_contact", "co_opinion"]}
    )

    assert response.status_code == 302
    mine = NotificationPreference.objects.get(user=people.clerk_b)
    assert sorted(mine.muted) == ["co_opinion", "first_contact"]
    assert "逾期通知总会发送，不能关闭" in form
    assert 'value="overdue"' not in form
    listing = client.get(url("notificationpreference")).content.decode()
    assert "甲联络员" not in listing


# --- send_reminders -------------------------------------------------------------------------


def test_the_dry_run_prints_who_gets_what_and_writes_nothing(people, mailoutbox):
    open_item(people.unit_a, due_on=D(2026, 11, 30), number="第061号")
    out = StringIO()

    call_command("send_reminders", "--dry-run", "--today", "2026-11-23", stdout=out)

    text = out.getvalue()
    assert "试运行" in text and "到期事项 1 件" in text
    assert "甲联络员" in text and people.clerk_a.email in text
    assert "第061号·区发改委 答复 还有5个工作日到期" in text
    assert (Reminder.objects.count(), Digest.objects.count(), mailoutbox) == (0, 0, [])


def test_the_command_runs_the_scan_sends_and_prints_the_table(
    people, eager_tasks, mailoutbox, django_capture_on_commit_callbacks
):
    open_item(people.unit_b, due_on=D(2026, 11, 30), number="第061号")
    out = StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders", "--today", "2026-11-23", stdout=out)

    text = out.getvalue()
    assert "新邮件 1 封" in text
    assert "乙联络员" in text and "第061号·区商务委 答复 还有5个工作日到期" in text
    assert len(mailoutbox) == 1
    assert ScanRun.objects.get(on=MONDAY).runs == 1


def test_the_command_says_when_the_day_is_off(people):
    out = StringIO()

    call_command("send_reminders", "--dry-run", "--today", "2026-10-01", stdout=out)

    assert "不是工作日" in out.getvalue()


def test_the_command_refuses_a_malformed_date(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_reminders", "--today", "23/11/2026")
