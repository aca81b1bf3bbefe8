"""``manage.py backup [--output-dir backups/]``: the database and the media files in one archive.

The archive ``tracker-backup-YYYYmmdd-HHMMSS.tar.gz`` holds

- ``database.dump``: ``pg_dump -Fc`` of the configured PostgreSQL database;
- ``media/…``: every file under ``MEDIA_ROOT`` (signed letters, attachments);
- ``manifest.json``: what a restore must find again — the row count of every table, the
  SHA-256 of every signed PDF (``Reply.pdf``, ``CoOpinion.pdf``), a digest of the audit trail,
  the applied migrations, and the size and SHA-256 of every media file.

The dump and the manifest's figures come from one snapshot: the command opens a REPEATABLE READ
transaction, exports its snapshot, and runs ``pg_dump --snapshot`` inside it, so row counts
match the dump even while the system is in use. ``manage.py restore`` checks the manifest after
restoring. The archive holds personal data: it is written readable by its owner only.

The helpers below are shared with ``restore``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import django
import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone
from psycopg import sql

from proposals.models import Transition
from replies.models import CoOpinion, Reply

FORMAT = "tracker-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA_PREFIX = "media/"

#: OPTIONS of a Django PostgreSQL database that are libpq connection parameters too.
_LIBPQ_OPTIONS = {
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslpassword",
    "passfile",
    "service",
    "connect_timeout",
    "options",
    "application_name",
    "target_session_attrs",
    "gssencmode",
}
#: libpq parameter → the environment variable pg_dump and pg_restore read it from.
_LIBPQ_ENV = {
    "host": "PGHOST",
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "dbname": "PGDATABASE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "gssencmode": "PGGSSENCMODE",
}
#: The signed letters whose PDFs the manifest vouches for.
LETTER_MODELS = (Reply, CoOpinion)


# --- The database -----------------------------------------------------------------------------


def require_postgresql(alias: str = "default") -> None:
    vendor = connections[alias].vendor
    if vendor != "postgresql":
        raise CommandError(
            f"备份与恢复只支持 PostgreSQL（当前数据库：{vendor}）。"
            "SQLite 开发库请直接复制 db.sqlite3 与 media/ 目录。"
        )


def connection_params(alias: str = "default") -> dict[str, Any]:
    """The libpq parameters of a configured database (what psycopg and pg_dump need)."""
    db = connections[alias].settings_dict
    params: dict[str, Any] = {
        "dbname": db.get("NAME"),
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": db.get("PORT"),
    }
    params.update({k: v for k, v in (db.get("OPTIONS") or {}).items() if k in _LIBPQ_OPTIONS})
    return {k: str(v) for k, v in params.items() if v not in (None, "")}


def tool_env(params: dict[str, Any]) -> dict[str, str]:
    """The environment for pg_dump/pg_restore: the password never appears on a command line."""
    env = dict(os.environ)
    for key, value in params.items():
        env[_LIBPQ_ENV[key]] = str(value)
    return env


def describe(params: dict[str, Any]) -> str:
    return (
        f"{params.get('dbname', '?')}@{params.get('host', 'localhost')}:{params.get('port', 5432)}"
    )


def find_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CommandError(
            f"找不到 {name}：请安装 PostgreSQL 客户端"
            "（Debian：apt-get install postgresql-client）。"
        )
    return path


def run_tool(args: list[str], params: dict[str, Any]) -> None:
    result = subprocess.run(args, env=tool_env(params), capture_output=True, text=True)
    if result.returncode != 0:
        raise CommandError(
            f"{Path(args[0]).name} 失败（{result.returncode}）：{result.stderr.strip()}"
        )


def table_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Rows of every table, keyed ``table`` (public schema) or ``schema.table``."""
    tables = conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' "
        "AND table_schema NOT IN ('pg_catalog', 'information_schema') "
        "AND table_schema NOT LIKE 'pg_toast%' ORDER BY 1, 2"
    ).fetchall()
    counts = {}
    for schema, table in tables:
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        key = table if schema == "public" else f"{schema}.{table}"
        counts[key] = conn.execute(query).fetchone()[0]
    return counts


def signed_letters(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every signed reply and co-handling opinion: its PDF and the hash recorded at signing."""
    letters = []
    for model in LETTER_MODELS:
        query = sql.SQL(
            "SELECT id, pdf, pdf_sha256 FROM {} WHERE signed_on IS NOT NULL ORDER BY id"
        ).format(sql.Identifier(model._meta.db_table))
        for pk, pdf, recorded in conn.execute(query):
            letters.append(
                {"model": model._meta.label_lower, "pk": pk, "pdf": pdf, "recorded": recorded}
            )
    return letters


def migration_state(conn: psycopg.Connection) -> dict[str, list[str]]:
    state: dict[str, list[str]] = {}
    for app, name in conn.execute("SELECT app, name FROM django_migrations ORDER BY app, name"):
        state.setdefault(app, []).append(name)
    return state


def audit_digest(conn: psycopg.Connection) -> dict[str, Any]:
    """A SHA-256 over every audit row in id order: one changed, missing or added row changes it."""
    columns = [f.column for f in Transition._meta.concrete_fields]
    query = sql.SQL("SELECT {} FROM {} ORDER BY id").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.Identifier(Transition._meta.db_table),
    )
    digest = hashlib.sha256()
    rows = 0
    last_id = None
    with conn.cursor(name="tracker_audit_digest") as cursor:
        cursor.execute(query)
        for row in cursor:
            values = [
                v.astimezone(datetime.UTC).isoformat() if isinstance(v, datetime.datetime) else v
                for v in row
            ]
            digest.update(json.dumps(values, ensure_ascii=False, default=str).encode() + b"\n")
            rows += 1
            last_id = row[0]
    return {"rows": rows, "last_id": last_id, "sha256": digest.hexdigest()}


def database_facts(conn: psycopg.Connection) -> dict[str, Any]:
    return {
        "tables": table_counts(conn),
        "migrations": migration_state(conn),
        "audit": audit_digest(conn),
        "letters": signed_letters(conn),
    }


# --- Files ------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def media_inventory(root: Path) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of every regular file under ``root``, keyed by its POSIX path in it."""
    files: dict[str, dict[str, Any]] = {}
    if not root.is_dir():
        return files
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(root).as_posix()
            files[rel] = {"size": path.stat().st_size, "sha256": file_sha256(path)}
    return files


def letter_hashes(letters: list[dict[str, Any]], media_root: Path) -> list[dict[str, Any]]:
    """The manifest's entry of each signed letter: where its PDF is and the file's SHA-256."""
    out = []
    for letter in letters:
        path = media_root / letter["pdf"] if letter["pdf"] else None
        sha = file_sha256(path) if path is not None and path.is_file() else None
        out.append({**letter, "sha256": sha})
    return out


# --- Verification (used by restore) -------------------------------------------------------------


def compare(manifest: dict[str, Any], facts: dict[str, Any], media_root: Path) -> list[str]:
    """What differs between a manifest and a restored database and media: one line each."""
    problems: list[str] = []
    expected, found = manifest["tables"], facts["tables"]
    for table, rows in expected.items():
        if found.get(table) != rows:
            problems.append(f"表 {table}：应有 {rows} 行，实有 {found.get(table, '（缺表）')}")
    if facts["migrations"] != manifest["migrations"]:
        problems.append("迁移状态与备份时不同")
    if facts["audit"] != manifest["audit"]:
        problems.append(
            f"操作记录不一致：应有 {manifest['audit']['rows']} 条（摘要 "
            f"{manifest['audit']['sha256'][:12]}），实有 {facts['audit']['rows']} 条（摘要 "
            f"{facts['audit']['sha256'][:12]}）"
        )
    restored = {(x["model"], x["pk"]): x for x in letter_hashes(facts["letters"], media_root)}
    for letter in manifest["signed_pdfs"]:
        key = (letter["model"], letter["pk"])
        now = restored.pop(key, None)
        label = f"{letter['model']} #{letter['pk']}"
        if now is None:
            problems.append(f"签发件 {label} 缺失")
        elif (now["pdf"], now["recorded"], now["sha256"]) != (
            letter["pdf"],
            letter["recorded"],
            letter["sha256"],
        ):
            problems.append(f"签发件 {label} 的 PDF 或其 SHA-256 与备份时不同")
    problems += [f"签发件 {m} #{pk} 是备份中没有的" for m, pk in restored]
    for rel, info in manifest["media"]["files"].items():
        path = media_root / rel
        if not path.is_file():
            problems.append(f"媒体文件 {rel} 缺失")
        elif file_sha256(path) != info["sha256"]:
            problems.append(f"媒体文件 {rel} 的 SHA-256 与备份时不同")
    return problems


# --- The command --------------------------------------------------------------------------------


class Command(BaseCommand):
    help = "备份数据库（pg_dump）与媒体文件到一个带日期的归档，并附清单（manifest.json）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir", default="backups", help="归档写入的目录（默认 backups/）"
        )

    def handle(self, *args, output_dir: str, **options):
        require_postgresql()
        pg_dump = find_tool("pg_dump")
        params = connection_params()
        media_root = Path(settings.MEDIA_ROOT)
        out_dir = Path(output_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        archive = out_dir / f"tracker-backup-{stamp}.tar.gz"
        if archive.exists():
            raise CommandError(f"{archive} 已存在。")

        with tempfile.TemporaryDirectory(prefix="tracker-backup-") as tmp:
            dump = Path(tmp) / DUMP
            with psycopg.connect(**params, autocommit=False) as conn:
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                conn.read_only = True
                with conn.transaction():
                    snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
                    run_tool(
                        [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={dump}"],
                        params,
                    )
                    facts = database_facts(conn)
                    server = conn.execute("SHOW server_version").fetchone()[0]
            media = media_inventory(media_root)
            letters = letter_hashes(facts["letters"], media_root)
            for letter in letters:
                if letter["sha256"] is None:
                    self.stderr.write(
                        f"注意：签发件 {letter['model']} #{letter['pk']} 尚无 PDF 文件。"
                    )
                elif letter["recorded"] and letter["sha256"] != letter["recorded"]:
                    self.stderr.write(
                        f"警告：签发件 {letter['model']} #{letter['pk']} 的 PDF 与签发时的"
                        " SHA-256 不符。"
                    )
            manifest = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created_at": timezone.localtime().isoformat(),
                "django": django.get_version(),
                "database": {
                    "vendor": "postgresql",
                    "name": params.get("dbname"),
                    "server": server,
                },
                "tables": facts["tables"],
                "migrations": facts["migrations"],
                "audit": facts["audit"],
                "signed_pdfs": letters,
                "media": {"files": media, "bytes": sum(f["size"] for f in media.values())},
            }
            manifest_path = Path(tmp) / MANIFEST
            manifest_path.write_text(
                json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
            )
            partial = archive.with_name(archive.name + ".partial")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with (
                os.fdopen(fd, "wb") as raw,
                tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar,
            ):
                tar.add(manifest_path, arcname=MANIFEST)
                tar.add(dump, arcname=DUMP)
                for rel in media:
                    tar.add(media_root / rel, arcname=MEDIA_PREFIX + rel)
            os.replace(partial, archive)

        size = archive.stat().st_size
        self.stdout.write(
            f"已备份 {describe(params)} → {archive}（{size / 1024 / 1024:.1f} MB）："
            f"{len(manifest['tables'])} 张表，操作记录 {manifest['audit']['rows']} 条，"
            f"签发件 {len(letters)} 份，媒体文件 {len(media)} 个。"
        )
