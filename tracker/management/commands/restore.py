"""``manage.py restore ARCHIVE [--force]``: put a backup back into the configured database.

Restores the ``pg_dump`` of the archive with ``pg_restore --clean --if-exists`` in a single
transaction (all or nothing), copies its media files into ``MEDIA_ROOT``, then checks the
result against the archive's manifest — row counts of every table, the SHA-256 of every signed
PDF, the audit trail's digest, the migrations, every media file — and prints what it found.
It exits non-zero when anything differs.

The dump is restored with ``--no-owner --no-privileges``: the tables belong to the role that
restores (the owner) and no grant of the source comes back. So the restore then grants the
application role (``grant_app_role``: ``--app-role``, default ``APP_DB_USER`` or
``<database>_app``, created if missing, its password from ``APP_DB_PASSWORD``) and checks that it
can work on every table — read as that role when the session may become it. Without a working
application role the restore fails (non-zero exit): a database the application cannot read is
not restored.

It refuses a database that holds data (anything beyond what ``migrate`` writes by itself)
unless ``--force`` is given: restoring replaces the tables it contains. Stop the web server and
the Celery workers first, so that nothing writes while the restore runs.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from psycopg import sql

from tracker.management.commands import grant_app_role
from tracker.management.commands.backup import (
    DUMP,
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MEDIA_PREFIX,
    compare,
    connection_params,
    database_facts,
    describe,
    find_tool,
    require_postgresql,
    run_tool,
)

#: Tables ``migrate`` fills on an empty database: rows there do not make it "in use".
MIGRATE_FILLS = {"django_migrations", "django_content_type", "auth_permission"}


def tables_with_rows(conn: psycopg.Connection) -> list[str]:
    tables = conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' "
        "AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
    ).fetchall()
    used = []
    for schema, table in tables:
        if schema == "public" and table in MIGRATE_FILLS:
            continue
        query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {}.{})").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        if conn.execute(query).fetchone()[0]:
            used.append(table if schema == "public" else f"{schema}.{table}")
    return used


def read_archive(archive: Path, into: Path) -> dict[str, Any]:
    """Unpack the archive safely (no absolute paths, no links out) and return its manifest."""
    if not archive.is_file():
        raise CommandError(f"找不到备份文件 {archive}。")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = [
                m
                for m in tar.getmembers()
                if m.name in (MANIFEST, DUMP) or m.name.startswith(MEDIA_PREFIX)
            ]
            tar.extractall(into, members=members, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise CommandError(f"无法读取备份文件 {archive}：{exc}") from exc
    try:
        manifest = json.loads((into / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"备份文件中没有可读的 {MANIFEST}。") from exc
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise CommandError("这不是本系统的备份文件（或版本不受支持）。")
    if not (into / DUMP).is_file():
        raise CommandError(f"备份文件中缺少 {DUMP}。")
    return manifest


def restore_media(source: Path, media_root: Path, files: dict[str, Any]) -> int:
    copied = 0
    for rel in files:
        src = source / rel
        if not src.is_file():
            continue  # reported by the verification
        dst = media_root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
        copied += 1
    return copied


class Command(BaseCommand):
    help = "从备份归档恢复数据库与媒体文件，并按清单校验恢复结果。"
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("archive", help="manage.py backup 生成的 .tar.gz 文件")
        parser.add_argument(
            "--force", action="store_true", help="目标数据库已有数据时仍然恢复（覆盖其中的表）"
        )
        parser.add_argument(
            "--app-role",
            help="应用连接数据库所用的角色，恢复后为其授权（默认 APP_DB_USER，否则 <库名>_app）",
        )
        parser.add_argument(
            "--password-env",
            default="APP_DB_PASSWORD",
            help="新建应用角色时其密码所在的环境变量（默认 APP_DB_PASSWORD）",
        )

    def handle(self, *args, archive: str, force: bool, app_role: str | None, **options):
        require_postgresql()
        pg_restore = find_tool("pg_restore")
        params = connection_params()
        media_root = Path(settings.MEDIA_ROOT)
        target = describe(params)
        role = grant_app_role.app_role_name(params["dbname"], app_role)
        password = os.environ.get(options["password_env"], "")
        with psycopg.connect(**params, autocommit=True) as conn, conn.cursor() as cursor:
            # Before anything is replaced: a role that may not be this database's is refused.
            grant_app_role.refuse_unsafe_role(cursor, role, params.get("user", ""))

        with tempfile.TemporaryDirectory(prefix="tracker-restore-") as tmp:
            unpacked = Path(tmp)
            manifest = read_archive(Path(archive), unpacked)
            self.stdout.write(
                f"备份时间 {manifest['created_at']}，来自数据库 {manifest['database']['name']}；"
                f"恢复到 {target}。"
            )
            with psycopg.connect(**params, autocommit=True) as conn:
                used = tables_with_rows(conn)
            if used and not force:
                shown = "、".join(used[:5]) + ("……" if len(used) > 5 else "")
                raise CommandError(
                    f"目标数据库 {target} 已有数据（{shown}），未恢复。确认要覆盖时请加 --force。"
                )
            connections.close_all()  # nothing of ours holds a lock while the tables are replaced
            run_tool(
                [
                    pg_restore,
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    f"--dbname={params['dbname']}",
                    str(unpacked / DUMP),
                ],
                params,
            )
            self.stdout.write("数据库已恢复。")
            copied = restore_media(
                unpacked / MEDIA_PREFIX.rstrip("/"), media_root, manifest["media"]["files"]
            )
            self.stdout.write(f"媒体文件已恢复 {copied} 个到 {media_root}。")

            with psycopg.connect(**params, autocommit=False) as conn, conn.transaction():
                facts = database_facts(conn)
            problems = compare(manifest, facts, media_root)

            # pg_restore --no-privileges brought no grant back: the application role gets its
            # grants again, and is checked, before the restore may say it succeeded.
            try:
                with psycopg.connect(**params, autocommit=False) as conn:
                    with conn.transaction(), conn.cursor() as cursor:
                        created = grant_app_role.grant(
                            cursor,
                            role,
                            database=params["dbname"],
                            owner=params.get("user", ""),
                            password=password,
                        )
                    with conn.transaction(), conn.cursor() as cursor:
                        checked = grant_app_role.verify(cursor, role)
            except (CommandError, psycopg.Error) as exc:
                raise CommandError(
                    f"数据库已恢复，但没能为应用角色 {role} 授权（{exc}）：应用现在读不到数据。"
                    f"请以所有者身份运行 manage.py grant_app_role {role}。"
                ) from exc
            problems += checked.problems

        self.stdout.write("校验结果：")
        self.stdout.write(f"  表行数：{len(manifest['tables'])} 张表")
        self.stdout.write(
            f"  操作记录：{manifest['audit']['rows']} 条，摘要 {manifest['audit']['sha256'][:16]}"
        )
        self.stdout.write(f"  签发件 PDF：{len(manifest['signed_pdfs'])} 份")
        self.stdout.write(f"  媒体文件：{len(manifest['media']['files'])} 个")
        self.stdout.write(f"  迁移：{sum(len(v) for v in manifest['migrations'].values())} 个")
        how = "已以该角色逐表读取" if checked.read_as_role else "已核对其权限"
        new = "新建，" if created else ""
        self.stdout.write(f"  应用角色：{role}（{new}已授权 {checked.tables} 张表，{how}）")
        if created and not password:
            self.stderr.write(
                f"  注意：角色 {role} 是新建的且未设密码；应用连接前请设置 "
                f"{options['password_env']} 并运行 manage.py grant_app_role {role}。"
            )
        if problems:
            for line in problems:
                self.stderr.write(f"  ✗ {line}")
            raise CommandError(
                f"恢复后校验未通过：{len(problems)} 处与备份清单不符或应用角色不可用（见上）。"
            )
        self.stdout.write(self.style.SUCCESS("  ✓ 全部与备份清单一致，应用角色可以读写。"))
