"""Backup and restore: what ``manage.py backup`` writes, ``manage.py restore`` puts back whole.

The round trip goes through a real, fresh PostgreSQL database: the restore runs as an operator
would run it, in its own process with ``DATABASE_URL`` pointing at the scratch database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from psycopg import sql

from proposals import events
from proposals import workflow as pwf
from proposals.models import Membership, Transition
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.models import CoOpinion, Reply
from tracker.management.commands.backup import (
    compare,
    database_facts,
    file_sha256,
)
from tracker.tests.pg_support import temporary_database

pytestmark = pytest.mark.slow

BASE_DIR = Path(settings.BASE_DIR)
TRANSITION_COLUMNS = [f.column for f in Transition._meta.concrete_fields]


@pytest.fixture
def postgresql(transactional_db):
    if connection.vendor != "postgresql":
        pytest.fail(f"Backups are pg_dump archives: run on PostgreSQL (here: {connection.vendor}).")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def eager_celery():
    """The signed PDF is rendered on commit by a Celery task: run it here, in-process."""
    from tracker.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def scratch_database():
    """A fresh, empty PostgreSQL database, dropped afterwards with its application role."""
    with temporary_database("restore", drop_roles=("{name}_app",)) as params:
        yield params


def database_url(params: dict) -> str:
    user = quote(params.get("user", ""), safe="")
    password = quote(params.get("password", ""), safe="")
    host = params.get("host", "127.0.0.1")
    port = params.get("port", "5432")
    return f"postgres://{user}:{password}@{host}:{port}/{params['dbname']}"


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    inherited = {k: v for k, v in os.environ.items() if k not in ("APP_DB_USER", "APP_DB_PASSWORD")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def staff(unit, role, username):
    user = f.UserFactory(username=username)
    f.MembershipFactory(user=user, unit=unit, role=role)
    return user


def minimal_pdf() -> bytes:
    from tracker.tests.test_attachments import minimal_pdf as build

    return build()


@pytest.fixture
def history(postgresql, media, eager_celery, committee, session):
    """A proposal handled to the end: a co-handling opinion and a reply, both signed (with their
    PDFs rendered and stored), the reply sent and published, and a scanned original attached."""
    unit_a = f.UnitFactory(name="长宁区发展和改革委员会", docno_prefix="长发改")
    unit_b = f.UnitFactory(name="长宁区商务委员会", docno_prefix="长商务")
    clerk_a = staff(unit_a, Membership.Role.CLERK, "bk_clerk_a")
    signer_a = staff(unit_a, Membership.Role.SIGNER, "bk_signer_a")
    clerk_b = staff(unit_b, Membership.Role.CLERK, "bk_clerk_b")
    signer_b = staff(unit_b, Membership.Role.SIGNER, "bk_signer_b")
    proposal = f.ProposalFactory(session=session, title="关于推进产业内循环招商的建议")
    with events.silenced():
        pwf.file_proposal(proposal, actor=committee)
        lead, co = pwf.assign_proposal(
            proposal, actor=committee, units=[(unit_a, "lead"), (unit_b, "co")]
        )
        pwf.accept_assignment(lead, actor=clerk_a)
        pwf.accept_assignment(co, actor=clerk_b)
        opinion = rwf.start_opinion(co, actor=clerk_b)
        rwf.edit_opinion(opinion, actor=clerk_b, version=opinion.version, body="同意主办意见。")
        rwf.submit_opinion(opinion, actor=clerk_b)
        rwf.sign_opinion(opinion, actor=signer_b)
        rwf.deliver_opinion(opinion, actor=clerk_b)
        reply = rwf.start_reply(lead, actor=clerk_a)
        rwf.edit_reply(
            reply, actor=clerk_a, version=reply.version, result_label="采纳", body="经研究，采纳。"
        )
        rwf.submit_reply(reply, actor=clerk_a)
        rwf.sign_reply(reply, actor=signer_a)
        rwf.send_reply(reply, actor=clerk_a)
        rwf.publish_reply(reply, actor=clerk_a)
        pwf.add_attachment(
            proposal, actor=clerk_a, file=SimpleUploadedFile("原件.pdf", minimal_pdf()), name=""
        )
    for kind, pk in (("reply", reply.pk), ("opinion", opinion.pk)):
        rwf.store_signed_pdf(kind, pk)  # a no-op when the task already ran on commit
    return {
        "reply": Reply.objects.get(pk=reply.pk),
        "opinion": CoOpinion.objects.get(pk=opinion.pk),
    }


def source_row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def target_row_counts(conn: psycopg.Connection, tables) -> dict[str, int]:
    return {
        t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]
        for t in tables
    }


def signed_pdf_hashes(rows, media_root: Path) -> dict[tuple[str, int], tuple[str, str]]:
    """(model, pk) → (hash recorded at signing, SHA-256 of the stored file)."""
    return {
        (model, pk): (recorded, file_sha256(media_root / path))
        for model, pk, path, recorded in rows
    }


def test_backup_then_restore_into_a_fresh_database_gives_back_everything(
    history, media, tmp_path, scratch_database
):
    assert history["reply"].pdf_sha256 and history["opinion"].pdf_sha256
    out_dir = tmp_path / "backups"

    call_command("backup", output_dir=str(out_dir))

    (archive,) = out_dir.glob("tracker-backup-*.tar.gz")
    assert archive.stat().st_mode & 0o077 == 0, "the archive holds personal data"

    # The source as it is, read through Django.
    counts = source_row_counts()
    source_pdfs = signed_pdf_hashes(
        [("reply", r.pk, r.pdf.name, r.pdf_sha256) for r in Reply.objects.filter(pdf__gt="")]
        + [
            ("opinion", o.pk, o.pdf.name, o.pdf_sha256)
            for o in CoOpinion.objects.filter(pdf__gt="")
        ],
        media,
    )
    assert all(recorded == actual for recorded, actual in source_pdfs.values())
    source_audit = list(Transition.objects.order_by("id").values_list(*TRANSITION_COLUMNS))
    assert len(source_audit) > 20

    # The restore, as an operator runs it, into the scratch database.
    restored_media = tmp_path / "restored-media"
    app_role, app_password = f"{scratch_database['dbname']}_app", uuid.uuid4().hex
    env = {
        "DATABASE_URL": database_url(scratch_database),
        "MEDIA_ROOT": str(restored_media),
        "APP_DB_PASSWORD": app_password,
    }
    result = manage("restore", str(archive), env=env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "全部与备份清单一致" in result.stdout
    assert f"应用角色：{app_role}（新建" in result.stdout

    # The application connects as its own role (pg_restore --no-privileges brought no grant
    # back: restore granted them) and reads and writes what it needs, and no more.
    as_app = {**scratch_database, "user": app_role, "password": app_password}
    with psycopg.connect(**as_app, autocommit=True) as conn:
        assert target_row_counts(conn, counts) == counts
        conn.execute(
            "INSERT INTO django_session (session_key, session_data, expire_date) "
            "VALUES ('restore-test', 'x', now())"
        )
        assert conn.execute("DELETE FROM django_session WHERE session_key = 'restore-test'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM proposals_transition")
    # That role belongs to the scratch database: granting it on this one is refused.
    with pytest.raises(CommandError, match=scratch_database["dbname"]):
        call_command("grant_app_role", app_role)

    with psycopg.connect(**scratch_database) as conn:
        assert target_row_counts(conn, counts) == counts
        rows = [
            ("reply", *r)
            for r in conn.execute("SELECT id, pdf, pdf_sha256 FROM replies_reply WHERE pdf <> ''")
        ] + [
            ("opinion", *r)
            for r in conn.execute(
                "SELECT id, pdf, pdf_sha256 FROM replies_coopinion WHERE pdf <> ''"
            )
        ]
        assert signed_pdf_hashes(rows, restored_media) == source_pdfs
        columns = sql.SQL(", ").join(map(sql.Identifier, TRANSITION_COLUMNS))
        restored_audit = conn.execute(
            sql.SQL("SELECT {} FROM proposals_transition ORDER BY id").format(columns)
        ).fetchall()
        assert restored_audit == source_audit
        # The restored audit trail is append-only too: the trigger came back with the table.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE proposals_transition SET note = 'x'")

    # A second restore into the now-used database is refused without --force.
    again = manage("restore", str(archive), env=env)
    assert again.returncode != 0
    assert "已有数据" in again.stderr

    # The verification is not vacuous: a changed signed PDF is reported.
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    letter = history["reply"].pdf.name
    (restored_media / letter).write_bytes(b"%PDF-1.4 forged")
    with psycopg.connect(**scratch_database) as conn, conn.transaction():
        problems = compare(manifest, database_facts(conn), restored_media)
    assert any("签发件" in p for p in problems) and any(letter in p for p in problems)


def test_restore_refuses_a_database_that_holds_data(history, tmp_path):
    call_command("backup", output_dir=str(tmp_path))
    (archive,) = tmp_path.glob("tracker-backup-*.tar.gz")
    before = Transition.objects.count()
    with pytest.raises(CommandError, match="已有数据"):
        call_command("restore", str(archive))
    assert Transition.objects.count() == before


def test_backup_and_restore_say_plainly_that_sqlite_is_not_supported(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}", "MEDIA_ROOT": str(tmp_path)}
    for args in (("backup", "--output-dir", str(tmp_path)), ("restore", "x.tar.gz")):
        result = manage(*args, env=env)
        assert result.returncode != 0
        assert "只支持 PostgreSQL" in result.stderr


def test_restore_refuses_an_application_role_of_another_database_before_touching_anything(
    postgresql, tmp_path, scratch_database
):
    """The role is checked first: a restore never leaves a database half-done over it."""
    role = f"{connection.settings_dict['NAME']}_other_app"
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        cursor.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(connection.settings_dict["NAME"]), sql.Identifier(role)
            )
        )
    try:
        env = {"DATABASE_URL": database_url(scratch_database), "MEDIA_ROOT": str(tmp_path)}
        result = manage("restore", str(tmp_path / "missing.tar.gz"), "--app-role", role, env=env)
        assert result.returncode != 0
        assert "一个应用角色只能属于一个数据库" in result.stderr
        assert "找不到备份文件" not in result.stderr
    finally:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            cursor.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
