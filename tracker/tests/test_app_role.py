"""The application's own PostgreSQL role owns nothing and cannot thin the audit (SECURITY.md)."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app_role():
    if connection.vendor != "postgresql":
        pytest.fail("the application role is a PostgreSQL feature: run the tests on PostgreSQL")
    role = f"tracker_app_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    os.environ["APP_DB_PASSWORD_TEST"] = password
    try:
        call_command("grant_app_role", role, password_env="APP_DB_PASSWORD_TEST")
        settings = connection.settings_dict
        conn = psycopg.connect(
            host=settings["HOST"] or "127.0.0.1",
            port=settings["PORT"] or 5432,
            dbname=settings["NAME"],
            user=role,
            password=password,
            autocommit=True,
        )
        yield conn
        conn.close()
    finally:
        os.environ.pop("APP_DB_PASSWORD_TEST", None)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')


def privilege(conn, table: str, kind: str) -> bool:
    return conn.execute("SELECT has_table_privilege(%s, %s)", [table, kind]).fetchone()[0]


@pytest.mark.parametrize("table", ["proposals_transition", "proposals_accessevent"])
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {t} SET id = id",
        "DELETE FROM {t}",
        "TRUNCATE {t}",
        "ALTER TABLE {t} DISABLE TRIGGER ALL",
        "DROP TABLE {t}",
    ],
)
def test_the_application_role_cannot_change_remove_or_unguard_the_audit(app_role, table, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app_role.execute(statement.format(t=table))
    assert privilege(app_role, table, "SELECT") and privilege(app_role, table, "INSERT")


def test_the_application_role_cannot_drop_the_triggers(app_role):
    for trigger, table in (
        ("proposals_transition_append_only", "proposals_transition"),
        ("replies_signed_letter_frozen", "replies_reply"),
        ("replies_signed_letter_frozen", "replies_coopinion"),
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app_role.execute(f"DROP TRIGGER {trigger} ON {table}")


def test_the_application_role_reads_and_writes_the_working_tables(app_role):
    for table in ("proposals_proposal", "proposals_assignment", "replies_reply", "django_session"):
        for kind in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            assert privilege(app_role, table, kind), (table, kind)
        assert not privilege(app_role, table, "TRUNCATE")
    # A real write through the role: a session row in and out.
    app_role.execute(
        "INSERT INTO django_session (session_key, session_data, expire_date) "
        "VALUES ('grant-test', 'x', now())"
    )
    assert app_role.execute("DELETE FROM django_session WHERE session_key = 'grant-test'").rowcount


def test_the_owner_cannot_be_made_the_application_role():
    with pytest.raises(CommandError, match="所有者"):
        call_command("grant_app_role", connection.settings_dict["USER"])
