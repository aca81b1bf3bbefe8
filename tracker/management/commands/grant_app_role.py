"""``manage.py grant_app_role ROLE``: a PostgreSQL role for the application that owns nothing.

The audit trail's trigger (``proposals/0004``) and the signed-letter freeze (``replies/0005``)
hold against the application only if the application cannot drop them: a table's owner can
drop its triggers, disable them, or TRUNCATE it. So production runs two roles: the owner, which
migrates (``manage.py migrate``, ``purge_audit``, ``restore``), and the application role this
command prepares, which reads and writes rows and nothing more:

- ``CONNECT`` on the database, ``USAGE`` on the schema, ``USAGE, SELECT`` on its sequences;
- ``SELECT, INSERT, UPDATE, DELETE`` on every table, except the append-only ones
  (``APPEND_ONLY``), which get ``SELECT, INSERT`` only;
- never ``TRUNCATE``, ``REFERENCES``, ``TRIGGER`` or ownership.

Run it as the owner after every ``migrate`` (it is idempotent, and new tables need their
grants). The role is created with ``LOGIN`` if it does not exist; its password comes from the
environment variable named by ``--password-env`` (default ``APP_DB_PASSWORD``), never from the
command line. The web, worker and beat processes then use ``DATABASE_URL`` with that role.
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg import sql

#: Tables whose rows the application may add and read but never change or remove.
APPEND_ONLY = ("proposals_transition", "proposals_accessevent")


class Command(BaseCommand):
    help = "为应用创建（或更新）不拥有任何表的数据库角色：可读写数据，审计表只能追加。"

    def add_arguments(self, parser):
        parser.add_argument("role", help="the application's PostgreSQL role")
        parser.add_argument(
            "--password-env",
            default="APP_DB_PASSWORD",
            help="environment variable holding the role's password (default APP_DB_PASSWORD)",
        )

    def handle(self, *args, role: str, password_env: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("grant_app_role 只适用于 PostgreSQL 数据库。")
        owner = connection.settings_dict["USER"] or ""
        if role == owner:
            raise CommandError("应用角色不能是表的所有者（迁移所用的角色）。")
        password = os.environ.get(password_env, "")
        tables = connection.introspection.table_names()
        missing = [t for t in APPEND_ONLY if t not in tables]
        if missing:
            raise CommandError(f"数据库尚未迁移：缺少 {', '.join(missing)}。请先运行 migrate。")
        name = sql.Identifier(role)
        database = sql.Identifier(connection.settings_dict["NAME"])
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            created = cursor.fetchone() is None
            if created:
                cursor.execute(sql.SQL("CREATE ROLE {} LOGIN NOINHERIT").format(name))
            if password:
                cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(name), [password])
            statements = [
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, name),
                sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name),
                sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}").format(name),
                sql.SQL(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
                ).format(name),
                sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
            ]
            statements += [
                sql.SQL("REVOKE UPDATE, DELETE ON {} FROM {}").format(sql.Identifier(t), name)
                for t in APPEND_ONLY
            ]
            for statement in statements:
                cursor.execute(statement)
        verb = "已创建" if created else "已更新"
        self.stdout.write(
            f"{verb}角色 {role}：{len(tables)} 张表可读写，"
            f"{len(APPEND_ONLY)} 张审计表只能追加；该角色不拥有任何表，无法删除触发器或清空表。"
        )
