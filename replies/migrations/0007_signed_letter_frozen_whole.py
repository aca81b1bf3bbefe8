"""A signed letter is frozen whole where it is stored, and cannot be deleted.

Migration 0005 froze a list of columns (the text and the signature) on UPDATE only. An outside
probe, connected as the application's role, still changed a signed reply's ``disclosure``,
``state``, ``unit_id``, ``proposal_id``, ``result_label``, ``pdf`` and ``pdf_sha256`` and
deleted it (a gap in 文号): a 不予公开 reply was made 主动公开, published, moved to another unit
and its hash cleared, and the render task printed a new "signed" PDF with the other unit's name.

The trigger function is replaced by one that turns the list around: once the stored row has a
``signed_on``, every column is frozen except what ``replies/freeze.py`` lists (the forward
moves of the transition table and the dates they stamp, the PDF written once, the render's
failure record while there is no PDF, ``last_edited_by`` becoming empty, ``updated_at``). A
column added later is frozen without anyone remembering to add it. The trigger now also fires
BEFORE DELETE and refuses to delete a signed letter. TRUNCATE (Django's test flush) fires no
row trigger and stays possible for the owner; the application's role has no TRUNCATE.

The moves and stamps below are this migration's own copy: a migration must say the same thing
whenever it is run. ``replies/tests/test_signed_freeze.py`` asserts they equal what
``replies.freeze`` derives from today's transition tables; when a table changes, that test fails
until a new migration replaces the function with the new moves.

PostgreSQL only: on SQLite (``make run``) the migration does nothing; ``LetterFields.save``
applies the same rules in Python there.
"""

import importlib
import json

from django.db import migrations

#: (from, to) states a signed letter may still take, per table (``freeze.signed_moves``).
MOVES = {
    "replies_reply": (("sent", "published"), ("signed", "sent")),
    "replies_coopinion": (("signed", "delivered"),),
}
#: The date column each move stamps, and the state it stamps it with (``freeze.STAMPS``).
STAMPS = {
    "replies_reply": {"sent_at": "sent", "published_on": "published"},
    "replies_coopinion": {"delivered_at": "delivered"},
}
#: What the new row must hold to enter a state (``freeze.REQUIRES``): only a 主动公开 reply is
#: published (``publish_reply``).
REQUIRES = {
    "replies_reply": {"published": {"disclosure": "public"}},
    "replies_coopinion": {},
}
WRITE_ONCE = ("pdf", "pdf_sha256", "pdf_size")
WHILE_NO_PDF = ("pdf_attempts", "pdf_error", "pdf_failed_at")
CLEARABLE = ("last_edited_by_id",)
FREE = ("updated_at",)
TABLES = tuple(MOVES)


def _array(values) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


def _table_rules() -> str:
    branches = []
    for keyword, table in zip(["IF"] + ["ELSIF"] * (len(TABLES) - 1), TABLES, strict=True):
        moves = _array(f"{a}>{b}" for a, b in MOVES[table])
        branches.append(
            f"    {keyword} TG_TABLE_NAME = '{table}' THEN\n"
            f"        moves := {moves};\n"
            f"        stamps := '{json.dumps(STAMPS[table])}'::jsonb;\n"
            f"        requires := '{json.dumps(REQUIRES[table])}'::jsonb;"
        )
    return "\n".join(branches) + "\n    END IF;"


FORWARD = f"""
CREATE OR REPLACE FUNCTION replies_signed_letter_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    moves text[] := '{{}}';
    stamps jsonb := '{{}}';
    requires jsonb := '{{}}';
    old_row jsonb;
    new_row jsonb;
    has_pdf boolean;
    col text;
    ok boolean;
    refused text[] := '{{}}';
BEGIN
    IF OLD.signed_on IS NULL THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% row % is a signed letter: it cannot be deleted', TG_TABLE_NAME, OLD.id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Its 文号 would leave a gap. A correction is a new reply that '
                      || 'supersedes it.';
    END IF;
{_table_rules()}
    old_row := to_jsonb(OLD);
    new_row := to_jsonb(NEW);
    has_pdf := EXISTS (
        SELECT 1 FROM unnest({_array(WRITE_ONCE)}) AS c(name)
        WHERE coalesce(old_row ->> c.name, '') <> ''
    );
    FOR col IN
        SELECT n.key FROM jsonb_each(new_row) AS n WHERE n.value IS DISTINCT FROM old_row -> n.key
    LOOP
        IF col = ANY({_array(FREE)}) THEN
            ok := true;
        ELSIF col = 'state' THEN
            ok := (old_row ->> 'state') || '>' || (new_row ->> 'state') = ANY(moves)
                AND NOT EXISTS (
                    SELECT 1
                    FROM jsonb_each_text(coalesce(requires -> (new_row ->> 'state'), '{{}}')) AS r(k, v)
                    WHERE (new_row ->> r.k) IS DISTINCT FROM r.v
                );
        ELSIF stamps ? col THEN
            ok := coalesce(old_row ->> col, '') = ''
                AND (new_row ->> 'state') IS DISTINCT FROM (old_row ->> 'state')
                AND (new_row ->> 'state') = (stamps ->> col);
        ELSIF col = ANY({_array(WRITE_ONCE)}) THEN
            ok := coalesce(old_row ->> col, '') = '';
        ELSIF col = ANY({_array(WHILE_NO_PDF)}) THEN
            ok := NOT has_pdf;
        ELSIF col = ANY({_array(CLEARABLE)}) THEN
            ok := jsonb_typeof(new_row -> col) = 'null';
        ELSE
            ok := false;
        END IF;
        IF NOT ok THEN
            refused := refused || col;
        END IF;
    END LOOP;
    IF cardinality(refused) > 0 THEN
        RAISE EXCEPTION '% row % is a signed letter: refused to change %',
            TG_TABLE_NAME, OLD.id, array_to_string(refused, ', ')
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'After signing only the forward moves of the transition table, their '
                      || 'dates and the PDF (once) may be written. A correction is a new reply '
                      || 'that supersedes this one.';
    END IF;
    RETURN NEW;
END;
$$;
""" + "".join(
    f"""
DROP TRIGGER IF EXISTS replies_signed_letter_frozen ON {table};
CREATE TRIGGER replies_signed_letter_frozen
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION replies_signed_letter_frozen();
"""
    for table in TABLES
)


def _forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def _reverse(apps, schema_editor):
    """Back to 0005's function and its UPDATE-only trigger."""
    if schema_editor.connection.vendor == "postgresql":
        previous = importlib.import_module("replies.migrations.0005_signed_letter_freeze")
        schema_editor.execute(previous.FORWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("replies", "0006_pdf_failure"),
    ]

    operations = [
        migrations.RunPython(_forward, _reverse),
    ]
