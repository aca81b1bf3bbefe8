"""Full-text search over published replies, on the database's own engine.

The words come from jieba (``publication.segment``); the engine is PostgreSQL's (a generated
``tsvector`` over the ``simple`` configuration, GIN-indexed, ranked by ``ts_rank`` with the
title and unit weighted over the body; ``ts_rank_cd``'s cover density cost twice the time over
100,000 replies for the same top results, ``bench/search.py``) or SQLite's FTS5 (``bm25``
with the same weights) for ``make run``. One code path: ``connection.vendor`` picks the SQL,
nothing else differs.

A query is tried with every coarse word required (老旧小区 AND 加装电梯); when that finds
nothing, with any fine word (老旧 OR 小区 OR 加装 OR 电梯), still ranked.

The entry of a reply is written in the transaction that publishes it or that sends the
correction superseding it (``publication.hooks``), so a search right after either sees it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from publication import segment
from publication.models import PublicText, SearchEntry
from replies.models import Reply

#: At most this many ranked ids come back from one query (pages slice them).
MAX_RESULTS = 1000
#: Characters of context a snippet shows around its best match.
SNIPPET_CHARS = 90
#: Weights: title, proposal title and unit names (A) count more than the body (B).
HEAD_WEIGHT, BODY_WEIGHT = 4.0, 1.0


def public_texts(reply: Reply) -> dict[str, str]:
    """The texts the public reads: the masked public text once there is one, else the reply's."""
    try:
        public = reply.public_text
    except PublicText.DoesNotExist:
        public = None
    source = public or reply
    return {
        "title": source.title,
        "salutation": source.salutation,
        "body": source.body,
        "closing": source.closing,
    }


def index_reply(reply: Reply) -> None:
    """Write (or remove) the search entry of ``reply``: present exactly while it is public."""
    if not Reply.objects.published().filter(pk=reply.pk).exists():
        SearchEntry.objects.filter(reply_id=reply.pk).delete()
        return
    unit = reply.unit
    segment.add_words([unit.name, unit.short_name, unit.organ_name])
    texts = public_texts(reply)
    head = " ".join(
        [
            texts["title"],
            reply.proposal.title,
            unit.name,
            unit.short_name,
            unit.organ_name,
            reply.doc_number,
        ]
    )
    SearchEntry.objects.update_or_create(
        reply_id=reply.pk,
        defaults={
            "head": segment.index_words(head),
            "body": segment.index_words(texts["body"] + "\n" + texts["closing"]),
            # A reply written as published without its dates (an import, a repair by hand) is
            # still indexed: the day it was indexed stands in for them.
            "published_on": reply.published_on or reply.signed_on or timezone.localdate(),
        },
    )


def _pg(words: list[str], operator: str) -> tuple[str, list]:
    query = f" {operator} ".join("'" + w.replace("'", "") + "'" for w in words)
    sql = (
        "SELECT e.reply_id FROM publication_searchentry e, to_tsquery('simple', %s) q "
        "WHERE e.document @@ q "
        "ORDER BY ts_rank('{0.1, 0.2, %s, %s}', e.document, q) DESC, "
        "e.published_on DESC, e.reply_id DESC LIMIT %s"
    )
    return sql, [query, BODY_WEIGHT / HEAD_WEIGHT, 1.0, MAX_RESULTS]


def _sqlite(words: list[str], operator: str) -> tuple[str, list]:
    query = f" {operator} ".join('"' + w.replace('"', "") + '"' for w in words)
    sql = (
        "SELECT e.reply_id FROM publication_fts f "
        "JOIN publication_searchentry e ON e.id = f.rowid "
        "WHERE publication_fts MATCH %s "
        "ORDER BY bm25(publication_fts, %s, %s), e.published_on DESC, e.reply_id DESC LIMIT %s"
    )
    return sql, [query, HEAD_WEIGHT, BODY_WEIGHT, MAX_RESULTS]


def _run(words: list[str], operator: str) -> list[int]:
    if not words:
        return []
    if connection.vendor == "postgresql":
        sql, params = _pg(words, "&" if operator == "AND" else "|")
    else:
        sql, params = _sqlite(words, operator)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class Query:
    text: str
    words: tuple[str, ...]


def parse(text: str) -> Query:
    text = (text or "").strip()[:100]
    return Query(text=text, words=tuple(segment.query_words(text)) if text else ())


def search_ids(text: str) -> tuple[list[int], Query]:
    """The ids of the public replies matching ``text``, best first, and the parsed query."""
    query = parse(text)
    if not query.words:
        return [], query
    ids = _run(list(query.words), "AND")
    if not ids:
        fine = segment.fine_words(query.text)
        ids = _run(fine, "OR")
        query = Query(text=query.text, words=tuple(dict.fromkeys([*query.words, *fine])))
    return ids, query


def snippet(text: str, words: tuple[str, ...], *, width: int = SNIPPET_CHARS) -> SafeString:
    """A stretch of ``text`` around its densest match, escaped, the matches in ``<mark>``."""
    flat = re.sub(r"\s+", " ", text).strip()
    terms = sorted({w for w in words if w}, key=len, reverse=True)
    if not terms:
        return mark_safe(html.escape(flat[:width]))
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    hits = [m.start() for m in pattern.finditer(flat)]
    start = 0
    if hits:
        best = max(
            hits, key=lambda h: len({m.group(0) for m in pattern.finditer(flat, h, h + width)})
        )
        start = max(0, best - width // 4)
    piece = flat[start : start + width]
    out, last = [], 0
    for m in pattern.finditer(piece):
        out.append(html.escape(piece[last : m.start()]))
        out.append(f"<mark>{html.escape(m.group(0))}</mark>")
        last = m.end()
    out.append(html.escape(piece[last:]))
    prefix = "…" if start else ""
    suffix = "…" if start + width < len(flat) else ""
    return mark_safe(prefix + "".join(out) + suffix)
