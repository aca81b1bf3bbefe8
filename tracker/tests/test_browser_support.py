"""The browser helper leaves no database connection behind (the test database's teardown
failed with "being accessed by other users" while one was open)."""

from __future__ import annotations

import time

import pytest
from django.db import connection, connections

from proposals.models import User
from tracker.tests.browser_support import chromium

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 1


def test_a_connection_opened_while_the_browser_runs_is_closed_with_it():
    assert connection.vendor == "postgresql"  # as make test runs; pg_stat_activity tells
    outer = connection.connection or connection.ensure_connection() or connection.connection
    with chromium():
        User.objects.count()
        inner = connections["default"]
        # The reason for the helper: inside Playwright's block this is another connection.
        assert inner.connection is not outer
        pid = inner.connection.info.backend_pid
        assert backend_alive(pid)
    deadline = time.monotonic() + 5
    while backend_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not backend_alive(pid)
