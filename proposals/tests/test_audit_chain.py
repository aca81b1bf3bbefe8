"""The audit trail is a hash chain: a forged, changed or removed row is found (issue 17, row 6).

The probe, connected as the application's PostgreSQL role, inserted audit rows of its own: the
append-only trigger lets the role INSERT. Here the same role forges rows (with a made-up hash,
and with the chain columns copied from a neighbour), the tables' owner changes and deletes rows
with the trigger off, and ``manage.py verify_audit`` must name the right row each time; a purge
past retention must still verify. PostgreSQL only.
"""

from __future__ import annotations

import datetime
import importlib
import itertools
import threading

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from proposals import audit
from proposals import workflow as pwf
from proposals.models import AuditCheckpoint, Transition, Unit, User
from proposals.models import today as _today
from proposals.tests import factories as f
from proposals.tests.pg_roles import as_owner_without_triggers, make_app_role

pytestmark = pytest.mark.django_db
COLUMNS = (
    "actor_id, content_type_id, object_id, proposal_id, verb, from_state, to_state, note, at, "
    "prev_hash, row_hash"
)


@pytest.fixture(autouse=True)
def _postgresql_only(db):
    if connection.vendor != "postgresql":
        pytest.fail("the audit's guarantees live in PostgreSQL: run with DATABASE_URL=postgres://")


@pytest.fixture
def app_role(db):
    return make_app_role()


@pytest.fixture
def trail(committee, session) -> list[Transition]:
    """A few real workflow steps: filing and assigning a proposal."""
    unit = f.UnitFactory()
    proposal = f.ProposalFactory(session=session)
    pwf.file_proposal(proposal, actor=committee)
    (assignment,) = pwf.assign_proposal(proposal, actor=committee, units=[(unit, "lead")])
    pwf.accept_assignment(assignment, actor=committee)
    return list(Transition.objects.order_by("id"))


def audit_row(actor: User, *, days_ago: int = 0, note: str = "") -> Transition:
    return Transition.objects.create(
        actor=actor,
        content_type=ContentType.objects.get_for_model(User),
        object_id=actor.pk,
        verb="test",
        note=note,
        at=timezone.now() - datetime.timedelta(days=days_ago),
    )


def broken(**options) -> tuple[str, CommandError]:
    """Run verify_audit expecting a break: (its message, the error)."""
    with pytest.raises(CommandError) as info:
        call_command("verify_audit", **options)
    assert info.value.returncode == 1
    return str(info.value), info.value


def intact(capsys) -> str:
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "哈希链完好" in out and "每秒" in out
    return out


def forge(role, values: dict) -> int:
    """INSERT a row as the application's role, as the probe did; returns its id."""
    role.execute(
        f"INSERT INTO proposals_transition ({COLUMNS}) VALUES "
        "(%(actor_id)s, %(content_type_id)s, %(object_id)s, %(proposal_id)s, %(verb)s, "
        "%(from_state)s, %(to_state)s, %(note)s, %(at)s, %(prev_hash)s, %(row_hash)s)",
        values,
    )
    return Transition.objects.order_by("-id").values_list("id", flat=True)[0]


def row_values(row: Transition) -> dict:
    return {
        name: getattr(row, name)
        for name in (
            "actor_id",
            "content_type_id",
            "object_id",
            "proposal_id",
            "verb",
            "from_state",
            "to_state",
            "note",
            "at",
            "prev_hash",
            "row_hash",
        )
    }


# --- Every row is sealed and linked -------------------------------------------------------------


def test_workflow_rows_are_sealed_into_one_chain_that_verifies(trail, capsys):
    assert len(trail) >= 3
    assert trail[0].prev_hash == ""
    for before, row in itertools.pairwise(trail):
        assert row.prev_hash == before.row_hash
        assert len(row.row_hash) == 64
    out = intact(capsys)
    assert f"编号 {trail[-1].pk}，校验值 {trail[-1].row_hash}" in out
    # Each seal covers the row's fields and its link: recomputed here from the stored values.
    sealer = audit.Sealer()
    for row in trail:
        assert sealer.seal(audit.sealed_values(row), row.prev_hash) == row.row_hash


def test_bulk_created_rows_are_sealed_too_and_keep_given_ids(committee):
    kind = ContentType.objects.get_for_model(User)
    first = audit_row(committee)
    rows = Transition.objects.bulk_create(
        [Transition(actor=committee, content_type=kind, object_id=i, verb="file") for i in range(3)]
        + [Transition(id=first.pk + 100, content_type=kind, object_id=9, verb="bench")]
    )
    assert [r.prev_hash for r in rows[1:]] == [r.row_hash for r in rows[:-1]]
    assert rows[0].prev_hash == first.row_hash and rows[-1].pk == first.pk + 100
    assert audit.verify().intact


def test_an_insert_without_a_seal_is_refused(app_role, committee):
    audit_row(committee)
    values = row_values(audit_row(committee)) | {"prev_hash": "", "row_hash": ""}
    with pytest.raises(IntegrityError, match="transition_is_sealed"):
        forge(app_role, values)


# --- Forged rows are found ----------------------------------------------------------------------


def test_a_forged_row_with_a_made_up_hash_is_found(app_role, trail, committee):
    last = trail[-1]
    forged = forge(
        app_role,
        row_values(last)
        | {"verb": "sign", "note": "伪造的签发", "prev_hash": last.row_hash, "row_hash": "f" * 64},
    )
    audit_row(committee, note="after the forgery")  # the chain goes on from the forged row
    message, _error = broken()
    assert f"哈希链在记录 {forged} 处断裂" in message
    assert "内容与其校验值不符" in message and "另有" not in message


def test_a_forged_row_with_its_neighbours_chain_columns_is_found(app_role, trail):
    neighbour = trail[-1]
    forged = forge(app_role, row_values(neighbour) | {"note": "伪造"})
    message, _error = broken()
    assert f"哈希链在记录 {forged} 处断裂" in message
    assert f"与前一条记录（编号 {neighbour.pk}）的链接断开" in message
    # Even an exact copy of the neighbour, fields and all, does not verify.
    as_owner_without_triggers("DELETE FROM proposals_transition WHERE id = %s", [forged])
    copy = forge(app_role, row_values(neighbour))
    message, _error = broken()
    assert f"哈希链在记录 {copy} 处断裂" in message


# --- Rows changed or removed by the owner are found ---------------------------------------------


def test_a_changed_middle_row_is_found(trail):
    middle = trail[len(trail) // 2]
    as_owner_without_triggers(
        "UPDATE proposals_transition SET note = '改过的说明' WHERE id = %s", [middle.pk]
    )
    message, _error = broken()
    assert f"哈希链在记录 {middle.pk} 处断裂" in message and "被改动或伪造" in message


def test_a_changed_seal_is_found(trail):
    middle = trail[len(trail) // 2]
    as_owner_without_triggers(
        "UPDATE proposals_transition SET row_hash = %s WHERE id = %s", ["0" * 64, middle.pk]
    )
    message, _error = broken()
    assert f"哈希链在记录 {middle.pk} 处断裂" in message


def test_a_deleted_middle_row_is_found_at_the_row_after_it(trail):
    before, middle, after = trail[0], trail[1], trail[2]
    as_owner_without_triggers("DELETE FROM proposals_transition WHERE id = %s", [middle.pk])
    message, _error = broken()
    assert f"哈希链在记录 {after.pk} 处断裂" in message
    assert f"与前一条记录（编号 {before.pk}）的链接断开" in message


def test_deleting_the_first_rows_is_found(trail):
    as_owner_without_triggers("DELETE FROM proposals_transition WHERE id = %s", [trail[0].pk])
    message, _error = broken()
    assert f"哈希链在记录 {trail[1].pk} 处断裂" in message and "更早的记录被删除" in message


def test_another_key_verifies_nothing(trail, settings):
    settings.AUDIT_CHAIN_KEY = "another-key"
    message, _error = broken()
    assert f"记录 {trail[0].pk} 处断裂（另有 {len(trail) - 1} 处断裂）" in message
    assert "AUDIT_CHAIN_KEY" in message


# --- Purging keeps the chain verifiable ----------------------------------------------------------


@pytest.fixture
def aged(committee):
    """Old and young rows interleaved; one old row stays because an e-mail notice points at it."""
    from tracker.models import EventNotice

    rows = {
        "old1": audit_row(committee, days_ago=400),
        "old2": audit_row(committee, days_ago=300),
        "young1": audit_row(committee, days_ago=10),
        "old3": audit_row(committee, days_ago=250),
        "old4": audit_row(committee, days_ago=240),
        "young2": audit_row(committee),
    }
    EventNotice.objects.create(email="a@example.com", event="reply_sent", transition=rows["old3"])
    return rows


def purge() -> None:
    before = _today() - datetime.timedelta(days=200)
    call_command("purge_audit", before=f"{before:%Y-%m-%d}")


def test_after_a_purge_the_chain_still_verifies(aged, capsys):
    purge()
    left = set(Transition.objects.values_list("id", flat=True))
    assert {aged[k].pk for k in ("young1", "old3", "young2")} <= left
    assert not {aged[k].pk for k in ("old1", "old2", "old4")} & left
    cuts = {(c.row_id, c.after_id, c.purged) for c in AuditCheckpoint.objects.all()}
    assert cuts == {(aged["young1"].pk, 0, 2), (aged["young2"].pk, aged["old3"].pk, 1)}
    assert "清理检查点" in intact(capsys)
    # A second purge (nothing new to remove) and more rows keep it so.
    purge()
    audit_row(User.objects.get(username="committee"))
    assert audit.verify().intact


def test_a_deletion_dressed_as_a_purge_is_found(aged):
    """The owner removes an old row the way purge_audit does, but without the key it cannot
    write the checkpoint."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL tracker.audit_purge = 'on'")
        cursor.execute("DELETE FROM proposals_transition WHERE id = %s", [aged["old2"].pk])
    message, _error = broken()
    assert f"哈希链在记录 {aged['young1'].pk} 处断裂" in message


def test_a_forged_or_removed_checkpoint_is_found(aged):
    purge()
    checkpoint = AuditCheckpoint.objects.get(row_id=aged["young2"].pk)
    as_owner_without_triggers(
        "UPDATE proposals_auditcheckpoint SET after_id = 0 WHERE id = %s", [checkpoint.pk]
    )
    message, _error = broken()
    assert "检查点" in message and "被改动或伪造" in message
    as_owner_without_triggers(
        "DELETE FROM proposals_auditcheckpoint WHERE id = %s", [checkpoint.pk]
    )
    message, _error = broken()
    assert f"哈希链在记录 {aged['young2'].pk} 处断裂" in message


def test_checkpoints_are_append_only(aged):
    purge()
    checkpoint = AuditCheckpoint.objects.first()
    for statement in (
        "UPDATE proposals_auditcheckpoint SET purged = 0 WHERE id = %s",
        "DELETE FROM proposals_auditcheckpoint WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(statement, [checkpoint.pk])


# --- The migration seals the rows that were there before ----------------------------------------


def test_the_migration_seals_existing_rows_and_leaves_the_trail_append_only(committee, monkeypatch):
    """Rows from before the chain (no seal) are sealed in id order with the application's key;
    the append-only trigger, disabled for that, is on again afterwards."""
    migration = importlib.import_module("proposals.migrations.0011_transition_hash_chain")
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE proposals_transition DROP CONSTRAINT transition_is_sealed")
    kind = ContentType.objects.get_for_model(Unit).pk
    with connection.cursor() as cursor:
        for n in range(7):
            cursor.execute(
                "INSERT INTO proposals_transition (actor_id, content_type_id, object_id, verb, "
                "from_state, to_state, note, at, prev_hash, row_hash) "
                "VALUES (%s, %s, %s, 'file', '', 'filed', %s, now(), '', '')",
                [committee.pk, kind, n, f"旧记录{n}"],
            )
    monkeypatch.setattr(migration, "BATCH", 3)  # several batches
    with connection.cursor() as cursor:
        # The inserts' deferred foreign-key checks, which ALTER TABLE would refuse to leave.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with connection.schema_editor() as editor:
        migration.seal_existing_rows(apps, editor)
    rows = list(Transition.objects.order_by("id"))
    assert all(r.row_hash for r in rows) and rows[0].prev_hash == ""
    assert audit.verify().intact
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        connection.cursor().execute("UPDATE proposals_transition SET note = 'x'")


# --- Concurrent writers keep one linear chain ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_the_chain_linear():
    """Four threads append 25 rows each, each row in its own transaction, all at once: the
    advisory lock queues them, and the chain verifies with every row in it."""
    unit = f.UnitFactory()
    start = threading.Barrier(4)
    errors = []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(25):
                with transaction.atomic():
                    pwf.record_transition(unit, actor=None, verb="test", note=f"{n}-{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = audit.verify()
    assert result.intact and result.rows == 100
