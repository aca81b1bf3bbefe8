"""``manage.py grant_app_role [ROLE]``: a PostgreSQL role for the application that owns nothing.

The audit trail's trigger (``proposals/0004``) and the signed-letter freeze (``replies/0005``)
hold against the application only if the application cannot drop them: a table's owner can
drop its triggers, disable them, or TRUNCATE it. So production runs two roles: the owner, which
migrates (``manage.py migrate``, ``purge_audit``, ``backup``, ``restore``), and the application
role this command prepares, which reads and writes rows and nothing more:

- ``CONNECT`` on the database, ``USAGE`` on the schema, ``USAGE, SELECT`` on its sequences;
- ``SELECT, INSERT, UPDATE, DELETE`` on every table, except the append-only ones
  (``APPEND_ONLY``), which get ``SELECT, INSERT`` only;
- never ``TRUNCATE``, ``REFERENCES``, ``TRIGGER`` or ownership.

Run it as the owner after every ``migrate`` (it is idempotent, and new tables need their
grants); ``manage.py restore`` runs the same grants after loading a dump, since ``pg_restore
--no-privileges`` brings none back. The role is created with ``LOGIN`` if it does not exist; its
password comes from the environment variable named by ``--password-env`` (default
``APP_DB_PASSWORD``), never from the command line. The web, worker and beat processes then use
``DATABASE_URL`` with that role.

**One role, one database.** Roles are global to a PostgreSQL cluster, grants are per database:
a role name reused for a second database (one database per district, docs/scaling.md) would
let one district's application read another's. The role therefore defaults to
``<database>_app`` (or ``APP_DB_USER`` when set), and a role that holds any privilege on, or
owns anything in, another database of the cluster is refused. A role that is a superuser,
owns objects here or can become the owner is refused too: it could drop the triggers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, transaction
from psycopg import sql

#: Tables whose rows the application may add and read but never change or remove.
APPEND_ONLY = ("proposals_transition", "proposals_accessevent", "proposals_auditcheckpoint")
#: The default application role of a database is its name with this suffix.
APP_ROLE_SUFFIX = "_app"
#: Every table privilege; the application role holds SELECT, INSERT, UPDATE, DELETE (the first
#: two only on APPEND_ONLY tables) and never the others.
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
#: PostgreSQL truncates longer identifiers silently; a role name must not be cut.
MAX_IDENTIFIER = 63


def app_role_name(database: str, role: str | None = None) -> str:
    """The application role of ``database``: ``role``, else ``APP_DB_USER``, else ``<db>_app``."""
    name = role or os.environ.get("APP_DB_USER") or f"{database}{APP_ROLE_SUFFIX}"
    if len(name.encode()) > MAX_IDENTIFIER:
        raise CommandError(
            f"角色名 {name} 超过 PostgreSQL 的 {MAX_IDENTIFIER} 字节上限，"
            "请用参数指定较短的角色名。"
        )
    return name


def public_tables(cursor: Any) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    return [row[0] for row in cursor.fetchall()]


def other_databases(cursor: Any, role: str) -> list[str]:
    """Databases other than the current one where ``role`` holds a privilege or owns something.

    ``pg_shdepend`` records, cluster-wide, every object a role owns and every ACL entry naming
    it: per database for tables, schemas, sequences …; with ``dbid = 0`` for the databases
    themselves (``GRANT CONNECT ON DATABASE``).
    """
    cursor.execute(
        "SELECT DISTINCT d.datname FROM pg_shdepend s "
        "JOIN pg_database d ON (s.dbid = 0 AND s.classid = 'pg_database'::regclass "
        "AND d.oid = s.objid) OR (s.dbid <> 0 AND d.oid = s.dbid) "
        "WHERE s.refclassid = 'pg_authid'::regclass "
        "AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = %s) "
        "AND d.datname <> current_database() ORDER BY 1",
        [role],
    )
    return [row[0] for row in cursor.fetchall()]


def refuse_unsafe_role(cursor: Any, role: str, owner: str) -> bool:
    """Raise CommandError for a role that must not be the application's; True if it exists."""
    if role == owner:
        raise CommandError("应用角色不能是表的所有者（迁移所用的角色）。")
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
    row = cursor.fetchone()
    if row is None:
        return False
    if row[0]:
        raise CommandError(f"角色 {role} 是超级用户，不能作为应用角色：它可以删除触发器。")
    cursor.execute(
        "SELECT pg_has_role(%s, oid, 'MEMBER') FROM pg_roles WHERE rolname = %s", [role, owner]
    )
    member = cursor.fetchone()
    if member and member[0]:
        raise CommandError(
            f"角色 {role} 是所有者 {owner} 的成员（可 SET ROLE 成为所有者），不能作为应用角色。"
        )
    cursor.execute(
        "SELECT count(*) FROM pg_shdepend WHERE deptype = 'o' "
        "AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = %s)",
        [role],
    )
    if cursor.fetchone()[0]:
        raise CommandError(f"角色 {role} 在本数据库中拥有对象，不能作为应用角色。")
    elsewhere = other_databases(cursor, role)
    if elsewhere:
        raise CommandError(
            f"角色 {role} 已在其他数据库（{'、'.join(elsewhere)}）中有权限或对象；"
            "一个应用角色只能属于一个数据库（每区一库，docs/scaling.md），"
            f"请为本库使用单独的角色，例如 {{数据库名}}{APP_ROLE_SUFFIX}。"
        )
    return True


def grant(cursor: Any, role: str, *, database: str, owner: str, password: str) -> bool:
    """Create (if needed) and grant the application role; returns whether it was created.

    Runs the checks of ``refuse_unsafe_role`` first; run it inside a transaction.
    """
    tables = public_tables(cursor)
    missing = [t for t in APPEND_ONLY if t not in tables]
    if missing:
        raise CommandError(f"数据库尚未迁移：缺少 {', '.join(missing)}。请先运行 migrate。")
    created = not refuse_unsafe_role(cursor, role, owner)
    name = sql.Identifier(role)
    if created:
        cursor.execute(sql.SQL("CREATE ROLE {} LOGIN NOINHERIT").format(name))
    if password:
        cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(name, sql.Literal(password)))
    statements = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), name),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
        sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(name),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            name
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
    ]
    statements += [
        sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(t), name)
        for t in APPEND_ONLY
    ]
    for statement in statements:
        cursor.execute(statement)
    return created


@dataclass
class Verification:
    """What ``verify`` found: problems (empty when the role works) and how it looked."""

    problems: list[str] = field(default_factory=list)
    tables: int = 0
    read_as_role: bool = False


def verify(cursor: Any, role: str) -> Verification:
    """Check that ``role`` can work on every table of the current database, and no more.

    Its privileges are read from the catalogue (``has_*_privilege``); when the session may
    become the role (a superuser, or a member), every table is also read as the role
    (``SET LOCAL ROLE``): that is what the application will do. Run it inside a transaction.
    """
    result = Verification()
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    if cursor.fetchone() is None:
        result.problems.append(f"角色 {role} 不存在")
        return result
    cursor.execute(
        "SELECT has_database_privilege(%s, current_database(), 'CONNECT'), "
        "has_schema_privilege(%s, 'public', 'USAGE')",
        [role, role],
    )
    can_connect, can_use_schema = cursor.fetchone()
    if not (can_connect and can_use_schema):
        result.problems.append(f"角色 {role} 不能连接本数据库或使用 public 模式")
    tables = public_tables(cursor)
    result.tables = len(tables)
    cursor.execute(
        "SELECT t.tablename, k.kind, "
        "has_table_privilege(%s, 'public.' || quote_ident(t.tablename), k.kind) "
        "FROM pg_tables t CROSS JOIN unnest(%s::text[]) AS k(kind) "
        "WHERE t.schemaname = 'public' ORDER BY 1, 2",
        [role, list(TABLE_PRIVILEGES)],
    )
    for table, kind, held in cursor.fetchall():
        wanted = kind in ("SELECT", "INSERT") or (
            kind in ("UPDATE", "DELETE") and table not in APPEND_ONLY
        )
        if held != wanted:
            verb = "缺少" if wanted else "不应有"
            result.problems.append(f"角色 {role} 对表 {table} {verb} {kind} 权限")
    cursor.execute(
        "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' "
        "AND NOT has_sequence_privilege(%s, 'public.' || quote_ident(sequencename), 'USAGE')",
        [role],
    )
    result.problems += [f"角色 {role} 不能使用序列 {row[0]}" for row in cursor.fetchall()]
    cursor.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", [role])
    if cursor.fetchone()[0] and not result.problems:
        # A savepoint: a refused read must not abort the caller's transaction; rolling back to
        # it also ends the SET LOCAL ROLE.
        cursor.execute("SAVEPOINT tracker_verify_app_role")
        table = "（SET ROLE）"
        try:
            cursor.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
            for table in tables:
                cursor.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(table)))
                cursor.fetchall()
        except (psycopg.Error, DatabaseError) as exc:
            result.problems.append(f"以角色 {role} 读取 {table} 失败：{exc}")
        else:
            result.read_as_role = True
        cursor.execute("ROLLBACK TO SAVEPOINT tracker_verify_app_role")
    return result


class Command(BaseCommand):
    help = "为应用创建（或更新）不拥有任何表的数据库角色：可读写数据，审计表只能追加。"

    def add_arguments(self, parser):
        parser.add_argument(
            "role",
            nargs="?",
            help="the application's PostgreSQL role (default: APP_DB_USER, else <database>_app)",
        )
        parser.add_argument(
            "--password-env",
            default="APP_DB_PASSWORD",
            help="environment variable holding the role's password (default APP_DB_PASSWORD)",
        )

    def handle(self, *args, role: str | None, password_env: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("grant_app_role 只适用于 PostgreSQL 数据库。")
        database = connection.settings_dict["NAME"]
        owner = connection.settings_dict["USER"] or ""
        role = app_role_name(database, role)
        password = os.environ.get(password_env, "")
        with transaction.atomic(), connection.cursor() as cursor:
            created = grant(cursor, role, database=database, owner=owner, password=password)
            checked = verify(cursor, role)
            if checked.problems:
                raise CommandError("授权后核对未通过：" + "；".join(checked.problems))
        verb = "已创建" if created else "已更新"
        self.stdout.write(
            f"{verb}角色 {role}（数据库 {database}）：{checked.tables} 张表可读写，"
            f"{len(APPEND_ONLY)} 张审计表只能追加；该角色不拥有任何表，无法删除触发器或清空表。"
        )
        if created and not password:
            self.stderr.write(
                f"注意：角色 {role} 是新建的且未设密码；设置 {password_env} 后再运行一次。"
            )
