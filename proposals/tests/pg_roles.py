"""The application's PostgreSQL role inside a test's transaction, for the probe's raw SQL.

``manage.py grant_app_role`` makes the role production runs as: it owns nothing, may SELECT,
INSERT, UPDATE and DELETE the working tables and only SELECT and INSERT the audit. Here the
role is created and granted inside the test's own transaction (roles and grants are
transactional in PostgreSQL), so it sees the test's uncommitted rows and disappears with the
rollback; each statement runs under ``SET LOCAL ROLE`` in a savepoint of its own.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction


class AppRole:
    def __init__(self, name: str):
        self.name = name

    def execute(self, sql: str, params=()) -> int:
        """Run one statement as the role; returns the row count. A refusal raises (a Django
        ``DatabaseError``) and rolls back to the savepoint, role switch included."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'SET LOCAL ROLE "{self.name}"')
            cursor.execute(sql, params)
            count = cursor.rowcount
            cursor.execute("RESET ROLE")
        return count


def make_app_role() -> AppRole:
    """The role, made by ``grant_app_role``'s own ``grant`` inside the current transaction."""
    if connection.vendor != "postgresql":
        pytest.fail("the application role is a PostgreSQL feature: run the tests on PostgreSQL")
    from tracker.management.commands.grant_app_role import grant

    name = f"tracker_app_{uuid.uuid4().hex[:8]}"
    settings = connection.settings_dict
    with connection.cursor() as cursor:
        grant(cursor, name, database=settings["NAME"], owner=settings["USER"], password="")
    return AppRole(name)


def as_owner_without_triggers(sql: str, params=()) -> int:
    """Run a statement as the tables' owner would, with every trigger off for it
    (``session_replication_role = replica``: a superuser's switch). What someone holding the
    owner's credentials can do, and what the hash chain must still reveal."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        count = cursor.rowcount
        cursor.execute("SET LOCAL session_replication_role = origin")
    return count
