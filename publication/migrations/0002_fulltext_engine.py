"""The database's own full-text engine over ``SearchEntry`` (``publication.search``).

PostgreSQL: a generated ``tsvector`` (title and unit weighted A, body B, the ``simple``
configuration over jieba's words) with a GIN index. SQLite: an FTS5 table over the same two
columns, kept by triggers. Other backends get neither (the search then finds nothing).
"""

from django.db import migrations

POSTGRES = [
    """
    ALTER TABLE publication_searchentry ADD COLUMN document tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', head), 'A') || setweight(to_tsvector('simple', body), 'B')
    ) STORED
    """,
    "CREATE INDEX publication_search_document ON publication_searchentry USING gin (document)",
]
POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS publication_search_document",
    "ALTER TABLE publication_searchentry DROP COLUMN IF EXISTS document",
]
SQLITE = [
    """
    CREATE VIRTUAL TABLE publication_fts USING fts5(
        head, body, content='publication_searchentry', content_rowid='id'
    )
    """,
    """
    CREATE TRIGGER publication_fts_insert AFTER INSERT ON publication_searchentry BEGIN
        INSERT INTO publication_fts(rowid, head, body) VALUES (new.id, new.head, new.body);
    END
    """,
    """
    CREATE TRIGGER publication_fts_delete AFTER DELETE ON publication_searchentry BEGIN
        INSERT INTO publication_fts(publication_fts, rowid, head, body)
        VALUES ('delete', old.id, old.head, old.body);
    END
    """,
    """
    CREATE TRIGGER publication_fts_update AFTER UPDATE ON publication_searchentry BEGIN
        INSERT INTO publication_fts(publication_fts, rowid, head, body)
        VALUES ('delete', old.id, old.head, old.body);
        INSERT INTO publication_fts(rowid, head, body) VALUES (new.id, new.head, new.body);
    END
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS publication_fts_update",
    "DROP TRIGGER IF EXISTS publication_fts_delete",
    "DROP TRIGGER IF EXISTS publication_fts_insert",
    "DROP TABLE IF EXISTS publication_fts",
]


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("publication", "0001_public_text_flags_search")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        )
    ]
