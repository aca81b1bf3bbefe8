"""The audit trail becomes a hash chain (``proposals/audit.py``), existing rows included.

1. Every ``Transition`` row gets ``prev_hash`` and ``row_hash``; ``AuditCheckpoint`` records
   where ``purge_audit`` cut the chain.
2. The rows already there are sealed in id order with the key the application uses
   (``AUDIT_CHAIN_KEY``, else derived from ``SECRET_KEY``: run ``migrate`` with the same
   settings as the application). The append-only trigger refuses every UPDATE, so on
   PostgreSQL this migration disables it for its own transaction and enables it again before
   committing: the migration runs as the table's owner (who could drop the trigger anyway);
   ``ALTER TABLE`` also holds the table's exclusive lock, so no row is written meanwhile. The
   trigger's function is not widened: no UPDATE path is left open afterwards.
3. A check constraint then requires every row to be sealed (``row_hash`` not empty), and
   checkpoints get their own append-only trigger.

Reversible: going back drops the columns, the constraint and the checkpoints.
"""

from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone

BATCH = 5000

CHECKPOINT_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION proposals_auditcheckpoint_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'proposals_auditcheckpoint is append-only: % of row % refused', TG_OP, OLD.id
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

DROP TRIGGER IF EXISTS proposals_auditcheckpoint_append_only ON proposals_auditcheckpoint;
CREATE TRIGGER proposals_auditcheckpoint_append_only
    BEFORE UPDATE OR DELETE ON proposals_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION proposals_auditcheckpoint_append_only();
"""

CHECKPOINT_APPEND_ONLY_REVERSE = """
DROP TRIGGER IF EXISTS proposals_auditcheckpoint_append_only ON proposals_auditcheckpoint;
DROP FUNCTION IF EXISTS proposals_auditcheckpoint_append_only();
"""


def _write_batch(schema_editor, model, sealed):
    """Store ``(id, prev_hash, row_hash)`` triples: one UPDATE … FROM (VALUES …) per batch on
    PostgreSQL, ``bulk_update`` elsewhere."""
    if schema_editor.connection.vendor == "postgresql":
        values = ", ".join(["(%s::bigint, %s, %s)"] * len(sealed))
        params = [value for triple in sealed for value in triple]
        schema_editor.execute(
            "UPDATE proposals_transition AS t SET prev_hash = v.prev, row_hash = v.hash "
            f"FROM (VALUES {values}) AS v(id, prev, hash) WHERE t.id = v.id",
            params=params,
        )
    else:
        rows = [model(id=pk, prev_hash=prev, row_hash=digest) for pk, prev, digest in sealed]
        model.objects.bulk_update(rows, ["prev_hash", "row_hash"])


def seal_existing_rows(apps, schema_editor):
    from proposals.audit import SEALED_COLUMNS, Sealer

    Transition = apps.get_model("proposals", "Transition")
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute(
            "ALTER TABLE proposals_transition DISABLE TRIGGER proposals_transition_append_only"
        )
    sealer = Sealer()
    prev = ""
    last = 0
    while True:
        batch = list(
            Transition.objects.filter(id__gt=last)
            .order_by("id")
            .values_list(*SEALED_COLUMNS)[:BATCH]
        )
        if not batch:
            break
        sealed = []
        for values in batch:
            digest = sealer.seal(values, prev)
            sealed.append((values[0], prev, digest))
            prev = digest
        _write_batch(schema_editor, Transition, sealed)
        last = batch[-1][0]
    if postgresql:
        schema_editor.execute(
            "ALTER TABLE proposals_transition ENABLE TRIGGER proposals_transition_append_only"
        )


def _run_on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0010_task_outbox"),
    ]

    operations = [
        migrations.AddField(
            model_name="transition",
            name="prev_hash",
            field=models.CharField(
                blank=True, editable=False, max_length=64, verbose_name="前一条校验值"
            ),
        ),
        migrations.AddField(
            model_name="transition",
            name="row_hash",
            field=models.CharField(
                blank=True, editable=False, max_length=64, verbose_name="校验值"
            ),
        ),
        migrations.CreateModel(
            name="AuditCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "row_id",
                    models.PositiveBigIntegerField(
                        db_index=True, verbose_name="清理后首条记录编号"
                    ),
                ),
                ("after_id", models.PositiveBigIntegerField(verbose_name="其前一条保留记录编号")),
                ("prev_hash", models.CharField(max_length=64, verbose_name="其前一条校验值")),
                ("purged", models.PositiveIntegerField(verbose_name="本段清理条数")),
                ("at", models.DateTimeField(default=timezone.now, verbose_name="时间")),
                ("seal", models.CharField(max_length=64, verbose_name="校验值")),
            ],
            options={
                "verbose_name": "审计链检查点",
                "verbose_name_plural": "审计链检查点",
                "ordering": ["row_id", "id"],
            },
        ),
        migrations.RunPython(seal_existing_rows, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="transition",
            constraint=models.CheckConstraint(
                condition=~Q(row_hash=""), name="transition_is_sealed"
            ),
        ),
        migrations.RunPython(
            _run_on_postgresql(CHECKPOINT_APPEND_ONLY),
            _run_on_postgresql(CHECKPOINT_APPEND_ONLY_REVERSE),
        ),
    ]
