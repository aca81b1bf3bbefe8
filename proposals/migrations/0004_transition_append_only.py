"""The audit trail (``proposals_transition``) becomes append-only where it is stored.

``Transition.save``/``delete`` already refuse in Python, but a queryset ``update()``/``delete()``,
a raw cursor or psql reach the table directly, and REVOKE cannot help: the application's role
owns the table. So a trigger refuses every UPDATE, and every DELETE except the purge of rows
older than 180 days inside a transaction that said ``SET LOCAL tracker.audit_purge = 'on'``
(``manage.py purge_audit``, the only caller). The 180 days are the floor 等保2.0 asks for; the
setting ``AUDIT_RETENTION_DAYS`` can only lengthen it.

TRUNCATE is not blocked: Django's ``flush`` (and so every transactional test) uses it, and a
role that may TRUNCATE the table also owns it and could drop the trigger. Against the owner
the answer is a separate, non-owning application role (SECURITY.md).

PostgreSQL only: on SQLite (``make run``) the migration does nothing.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION proposals_transition_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND coalesce(current_setting('tracker.audit_purge', true), '') = 'on'
       AND OLD.at < now() - interval '180 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'proposals_transition is append-only: % of row % refused', TG_OP, OLD.id
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Only rows older than 180 days can be removed, with manage.py purge_audit.';
END;
$$;

DROP TRIGGER IF EXISTS proposals_transition_append_only ON proposals_transition;
CREATE TRIGGER proposals_transition_append_only
    BEFORE UPDATE OR DELETE ON proposals_transition
    FOR EACH ROW EXECUTE FUNCTION proposals_transition_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS proposals_transition_append_only ON proposals_transition;
DROP FUNCTION IF EXISTS proposals_transition_append_only();
"""


def _run_on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("proposals", "0003_proposer_conveners"),
    ]

    operations = [
        migrations.RunPython(_run_on_postgresql(FORWARD), _run_on_postgresql(REVERSE)),
    ]
