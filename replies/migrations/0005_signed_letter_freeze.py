"""A signed letter is frozen where it is stored, not only in ``LetterFields.save``.

``LetterFields.save`` refuses an ORM save that would change a signed letter's text or signature,
but a queryset ``update()``, a raw cursor or psql go around it. A trigger on both letter tables
refuses any UPDATE that changes one of ``LetterFields.FROZEN_FIELDS`` once the stored row has a
``signed_on``. State, PDF and publication fields stay writable: sending, storing the rendered
PDF and publishing happen after signing. A correction is a new letter (``supersede_reply``).

PostgreSQL only: on SQLite (``make run``) the migration does nothing.
"""

from django.db import migrations

FROZEN = (
    "title",
    "salutation",
    "body",
    "closing",
    "contact_person",
    "contact_phone",
    "contact_address",
    "contact_postcode",
    "cc",
    "signer_id",
    "signer_name",
    "docno_prefix",
    "docno_year",
    "docno_number",
    "signed_on",
    "signed_at",
)
TABLES = ("replies_reply", "replies_coopinion")

_changed = "\n        OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in FROZEN)

FORWARD = f"""
CREATE OR REPLACE FUNCTION replies_signed_letter_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.signed_on IS NOT NULL AND (
        {_changed}
    ) THEN
        RAISE EXCEPTION '% row % is a signed letter: its text and signature cannot change',
            TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'A correction is a new reply that supersedes this one.';
    END IF;
    RETURN NEW;
END;
$$;
""" + "".join(
    f"""
DROP TRIGGER IF EXISTS replies_signed_letter_frozen ON {table};
CREATE TRIGGER replies_signed_letter_frozen
    BEFORE UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION replies_signed_letter_frozen();
"""
    for table in TABLES
)

REVERSE = (
    "".join(
        f"DROP TRIGGER IF EXISTS replies_signed_letter_frozen ON {table};\n" for table in TABLES
    )
    + "DROP FUNCTION IF EXISTS replies_signed_letter_frozen();\n"
)


def _run_on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("replies", "0004_reply_public_list_indexes"),
    ]

    operations = [
        migrations.RunPython(_run_on_postgresql(FORWARD), _run_on_postgresql(REVERSE)),
    ]
