"""The application's own PostgreSQL role owns nothing and cannot thin the audit (SECURITY.md);
it belongs to one database only (one database per district, docs/scaling.md)."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from psycopg import sql

from tracker.management.commands.grant_app_role import verify
from tracker.tests.pg_support import temporary_database

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


def drop_role(role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone():
            cursor.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            cursor.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def table_acl_names(role: str) -> list[str]:
    """Tables of this database whose ACL names the role."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c, aclexplode(c.relacl) a "
            "WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = %s)",
            [role],
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def other_database():
    """A second database in the same cluster (another district's), dropped afterwards."""
    with temporary_database("district") as params:
        yield params


def test_the_role_defaults_to_the_database_name_with_app(monkeypatch):
    monkeypatch.delenv("APP_DB_USER", raising=False)
    role = f"{connection.settings_dict['NAME']}_app"
    drop_role(role)
    try:
        call_command("grant_app_role")
        assert "proposals_proposal" in table_acl_names(role)
    finally:
        drop_role(role)


def test_a_role_of_another_database_is_refused_and_nothing_is_granted(other_database):
    """The same role name on two districts' databases would let one district read the other's."""
    role = f"tracker_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**other_database, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        # What grant_app_role did there: CONNECT on that database and rows of its tables.
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(other_database["dbname"]), sql.Identifier(role)
            )
        )
    try:
        with pytest.raises(CommandError, match=other_database["dbname"]):
            call_command("grant_app_role", role)
        assert table_acl_names(role) == []
    finally:
        with psycopg.connect(**other_database, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        drop_role(role)


def test_a_role_with_table_grants_in_another_database_is_refused(other_database):
    role = f"tracker_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**other_database, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute("CREATE TABLE district_rows (id int)")
        conn.execute(sql.SQL("GRANT SELECT ON district_rows TO {}").format(sql.Identifier(role)))
    try:
        with pytest.raises(CommandError, match="一个应用角色只能属于一个数据库"):
            call_command("grant_app_role", role)
    finally:
        with psycopg.connect(**other_database, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        drop_role(role)


@pytest.mark.parametrize("kind", ["superuser", "member of the owner"])
def test_a_role_that_could_drop_the_triggers_is_refused(kind):
    role = f"tracker_app_{uuid.uuid4().hex[:8]}"
    owner = connection.settings_dict["USER"]
    with connection.cursor() as cursor:
        if kind == "superuser":
            cursor.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER").format(sql.Identifier(role)))
        else:
            cursor.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
            cursor.execute(
                sql.SQL("GRANT {} TO {}").format(sql.Identifier(owner), sql.Identifier(role))
            )
    try:
        with pytest.raises(CommandError, match="不能作为应用角色"):
            call_command("grant_app_role", role)
        assert table_acl_names(role) == []
    finally:
        drop_role(role)


def test_verify_reports_a_role_that_lost_its_grants(app_role):
    """What pg_restore --no-privileges leaves: the role exists but reads nothing."""
    role = app_role.info.user
    with transaction.atomic(), connection.cursor() as cursor:
        checked = verify(cursor, role)
        assert checked.problems == [] and checked.read_as_role
        cursor.execute(
            sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(
                sql.Identifier(role)
            )
        )
        found = verify(cursor, role)
    assert any("proposals_proposal" in p and "SELECT" in p for p in found.problems)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app_role.execute("SELECT 1 FROM proposals_proposal")
