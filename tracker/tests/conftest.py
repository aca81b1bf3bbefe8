"""Fixtures of the reminder and Celery tests (tracker/tests/test_reminders*, test_celery_*)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from proposals.models import Membership
from proposals.tests import factories as f
from tracker.tests.reminder_support import with_email


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in-process, as ``make run`` does without ``REDIS_URL``."""
    from tracker.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def axes_on(settings):
    """django-axes as in production (the root conftest turns it off for speed)."""
    from axes.models import AccessAttempt
    from django.core.cache import cache

    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    cache.clear()
    AccessAttempt.objects.all().delete()
    return settings


@pytest.fixture
def people(committee, supervisor, unit_a, unit_b, clerk_a, signer_a, clerk_b):
    """Two units with their staff, the committee and the supervision office, all with e-mail."""
    clerk_a2 = f.UserFactory(username="clerk_a2", full_name="甲联络员二")
    f.MembershipFactory(user=clerk_a2, unit=unit_a, role=Membership.Role.CLERK)
    signer_b = f.UserFactory(username="signer_b", full_name="乙签发人")
    f.MembershipFactory(user=signer_b, unit=unit_b, role=Membership.Role.SIGNER)
    for user in (committee, supervisor, clerk_a, clerk_a2, signer_a, clerk_b, signer_b):
        with_email(user)
    return SimpleNamespace(
        committee=committee,
        supervisor=supervisor,
        unit_a=unit_a,
        unit_b=unit_b,
        clerk_a=clerk_a,
        clerk_a2=clerk_a2,
        signer_a=signer_a,
        clerk_b=clerk_b,
        signer_b=signer_b,
    )


@pytest.fixture
def scan(eager_tasks, django_capture_on_commit_callbacks, mailoutbox):
    """``scan(day)``: the daily scan of ``day``, its digests sent on commit (locmem)."""
    from tracker import reminders

    def run(day, **options):
        with django_capture_on_commit_callbacks(execute=True):
            return reminders.run_scan(today=day, **options)

    return run


# --- A real broker and a real worker --------------------------------------------------------


def _redis():
    import redis
    from django.conf import settings

    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (make test sets it): the Celery tests use a real Redis")
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis at {settings.REDIS_URL} is not answering: {exc}")
    return client


def _reroute(app) -> None:
    """Make the app route by ``task_routes`` as it stands now (Celery caches its router)."""
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)


@pytest.fixture
def celery_queue():
    """A queue of this test's own on the real Redis: every tracker task goes there.

    Other tests, other xdist workers and other people's test runs on the same Redis use other
    names, so no worker here takes their messages or they ours. Removed afterwards, with any
    message a killed worker left unacknowledged.
    """
    import json
    import os
    import uuid

    from tracker.celery import app

    client = _redis()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"test-tracker-{worker}-{uuid.uuid4().hex[:10]}"
    saved = (app.conf.task_routes, app.conf.task_always_eager)
    app.conf.task_routes = {"tracker.tasks.*": {"queue": name}}
    app.conf.task_always_eager = False
    _reroute(app)
    yield name
    app.conf.task_routes, app.conf.task_always_eager = saved
    _reroute(app)
    client.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
    for tag, raw in client.hgetall("unacked").items():
        try:
            routing_key = json.loads(raw)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == name:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


@pytest.fixture
def celery_worker(celery_queue):
    """A Celery worker in threads of this process (4 at once), consuming ``celery_queue``.

    Each task closes its thread's database connection when it ends, so the test database can
    be flushed and dropped afterwards.
    """
    from tracker.celery import app
    from tracker.tests.celery_support import threaded_worker

    with threaded_worker(app, [celery_queue], concurrency=4) as worker:
        yield worker
