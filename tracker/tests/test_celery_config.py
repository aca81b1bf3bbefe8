"""The Celery configuration that at-least-once delivery with idempotent tasks relies on."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab
from django.conf import settings

from tracker import tasks
from tracker.celery import app

MAIL_TASKS = (tasks.send_digest, tasks.send_event_notice)
IDEMPOTENT_TASKS = (*MAIL_TASKS, tasks.scan_reminders, tasks.retry_unsent)


def route(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def test_tasks_are_acknowledged_after_they_ran_one_message_at_a_time():
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_only_idempotent_tasks_ask_to_be_requeued_when_their_worker_dies():
    assert app.conf.task_reject_on_worker_lost is False
    for task in IDEMPOTENT_TASKS:
        assert task.acks_late is True, task.name
        assert task.reject_on_worker_lost is True, task.name


def test_every_limit_and_pause_stays_below_the_brokers_visibility_timeout():
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility == settings.CELERY_VISIBILITY_TIMEOUT
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit < visibility
    for task in MAIL_TASKS:
        assert task.soft_time_limit < task.time_limit < visibility
        # A live task never loses its lease; a dead one's lease runs out long before Redis
        # would redeliver its message.
        assert task.time_limit < settings.REMINDER_SEND_LEASE < visibility
    assert settings.REMINDER_SMTP_TIMEOUT < settings.REMINDER_MAIL_SOFT_TIME_LIMIT
    assert visibility > settings.REMINDER_MAIL_RETRY_BACKOFF_MAX


def test_mail_and_pdf_have_queues_of_their_own():
    assert route("tracker.tasks.send_digest") == "mail"
    assert route("tracker.tasks.send_event_notice") == "mail"
    assert route("replies.tasks.render_signed_pdf") == "pdf"
    assert route("tracker.tasks.scan_reminders") == "celery"
    assert route("tracker.tasks.retry_unsent") == "celery"


def test_beat_scans_daily_at_half_past_eight_in_shanghai_and_retries_hourly():
    schedule = app.conf.beat_schedule
    daily = schedule["daily-reminder-scan"]
    hourly = schedule["hourly-retry-unsent"]
    assert daily["task"] == tasks.scan_reminders.name
    assert daily["schedule"] == crontab(hour=8, minute=30)
    assert hourly["task"] == tasks.retry_unsent.name
    assert hourly["schedule"] == crontab(minute=15)
    assert app.timezone == ZoneInfo("Asia/Shanghai")


def test_stored_signed_letters_are_verified_again_every_night_with_the_pdfs():
    nightly = app.conf.beat_schedule["nightly-verify-signed-letters"]
    assert nightly["task"] == "signing.tasks.check_stored_letters"
    assert nightly["schedule"] == crontab(hour=2, minute=50)
    assert route("signing.tasks.check_stored_letters") == "pdf"
    app.loader.import_default_modules()  # what a worker imports at start (autodiscovery)
    assert "signing.tasks.check_stored_letters" in app.tasks


@pytest.mark.parametrize(
    ("now_utc", "next_utc"),
    [
        # Sunday 23:00 in Shanghai → Monday 08:30 in Shanghai, i.e. 00:30 UTC.
        (datetime.datetime(2026, 11, 22, 15, 0), datetime.datetime(2026, 11, 23, 0, 30)),
        # 08:31 in Shanghai → tomorrow.
        (datetime.datetime(2026, 11, 23, 0, 31), datetime.datetime(2026, 11, 24, 0, 30)),
    ],
)
def test_the_daily_scan_fires_at_half_past_eight_shanghai_time(now_utc, next_utc):
    now = now_utc.replace(tzinfo=datetime.UTC)
    daily = crontab(hour=8, minute=30, app=app, nowfun=lambda: now.astimezone(app.timezone))

    remaining = daily.remaining_estimate(now.astimezone(app.timezone))

    assert (now + remaining).astimezone(datetime.UTC) == next_utc.replace(tzinfo=datetime.UTC)


def test_a_worker_process_is_replaced_once_it_grows_past_half_a_gigabyte():
    from tracker.celery import app

    assert app.conf.worker_max_memory_per_child == 512_000
