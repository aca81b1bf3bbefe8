"""The audit trail's hash chain: every ``Transition`` row seals its own fields and the row before.

The append-only trigger (migration ``proposals/0004``) stops the application's database role
from changing or removing audit rows, but not from *adding* them: a role that may INSERT can
write a forged step, and the table's owner can do anything. So each row carries

- ``prev_hash``: the ``row_hash`` of the row before it (by id; ``""`` for the very first), and
- ``row_hash``: HMAC-SHA256, keyed with ``AUDIT_CHAIN_KEY`` (by default derived from
  ``SECRET_KEY``), over a canonical serialisation of the row's fields and ``prev_hash``.

Someone with the database's credentials but not the application's secrets can insert, change
or delete rows, but cannot make them verify: ``manage.py verify_audit`` walks the chain and
reports the first broken link. ``append`` is the one function that writes audit rows
(``Transition.save`` and ``Transition.objects.bulk_create`` both call it): it takes a
transaction-scoped advisory lock, reads the last row's hash and inserts under that lock, so
concurrent writers queue and the chain stays linear. ``manage.py purge_audit`` removes old
rows and records, in an ``AuditCheckpoint`` sealed with the same key, which hash the first
row after each removed run links to, so the trail still verifies after a purge.

This module imports no model at load time: the chain's migration uses its functions.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

#: Bumped if the serialisation ever changes; part of every sealed message.
CHAIN_VERSION = "tracker-audit-v1"
#: The advisory lock (one 64-bit key, "audit" in ASCII) that writers of the trail queue on.
CHAIN_LOCK = 0x6175646974
#: The columns a row's hash covers, in the order they are serialised (``prev_hash`` last).
SEALED_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "content_type_id",
    "object_id",
    "proposal_id",
    "verb",
    "from_state",
    "to_state",
    "note",
)


def chain_key() -> bytes:
    """``AUDIT_CHAIN_KEY``, or when it is empty a key derived from ``SECRET_KEY``.

    Derived, not ``SECRET_KEY`` itself, so the chain's key can be kept when the secret key is
    rotated: set ``AUDIT_CHAIN_KEY`` to the derived value first (SECURITY.md).
    """
    key = getattr(settings, "AUDIT_CHAIN_KEY", "")
    if key:
        return key.encode()
    return derived_key(settings.SECRET_KEY).encode()


def derived_key(secret_key: str) -> str:
    """The chain key used while ``AUDIT_CHAIN_KEY`` is unset (hex, printable for the operator)."""
    return hmac.new(secret_key.encode(), b"tracker.audit-chain", hashlib.sha256).hexdigest()


def _timestamp(value: Any) -> str:
    """``2024-05-08T01:02:03.000004+00:00``: UTC, to the microsecond, as both PostgreSQL and
    SQLite store it (``TIMESTAMP_SQL`` writes the same text in PostgreSQL)."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


#: ``_timestamp`` of a timestamptz column, computed by PostgreSQL (``verify`` streams it so).
TIMESTAMP_SQL = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def canonical(values: Sequence[Any], prev_hash: str) -> bytes:
    """The bytes a row's hash covers: ``values`` in ``SEALED_COLUMNS`` order, then the link.

    JSON with a fixed order and no whitespace; the time as ``_timestamp`` writes it; text as
    stored (the caller passes what was written).
    """
    row = list(values)
    row[1] = _timestamp(row[1])
    return _formatted(row, prev_hash)


def _formatted(row: Sequence[Any], prev_hash: str) -> bytes:
    """``canonical`` of a row whose time is already ``_timestamp``'s text."""
    return _ENCODER.encode([CHAIN_VERSION, *row, prev_hash]).encode()


class Sealer:
    """HMAC-SHA256 with the chain key, keyed once (``verify_audit`` seals a million rows)."""

    def __init__(self, key: bytes | None = None):
        self._keyed = hmac.new(key if key is not None else chain_key(), digestmod=hashlib.sha256)

    def seal(self, values: Sequence[Any], prev_hash: str) -> str:
        mac = self._keyed.copy()
        mac.update(canonical(values, prev_hash))
        return mac.hexdigest()

    def seal_formatted(self, row: Sequence[Any], prev_hash: str) -> str:
        """``seal`` of a row whose time is already ``_timestamp``'s text."""
        mac = self._keyed.copy()
        mac.update(_formatted(row, prev_hash))
        return mac.hexdigest()

    def seal_message(self, message: bytes) -> str:
        mac = self._keyed.copy()
        mac.update(message)
        return mac.hexdigest()


def sealed_values(row: Any) -> tuple[Any, ...]:
    """A model instance's sealed fields in ``SEALED_COLUMNS`` order."""
    return tuple(getattr(row, column) for column in SEALED_COLUMNS)


def _normalise(row: Any) -> None:
    """Store exactly what is hashed: plain strings (a lazy translation or a TextChoices member
    becomes its text) and an integer object id."""
    for name in ("verb", "from_state", "to_state", "note"):
        setattr(row, name, str(getattr(row, name) or ""))
    row.object_id = int(row.object_id)
    row.at = type(row)._meta.get_field("at").to_python(row.at)
    if timezone.is_naive(row.at):
        # What DateTimeField does on save: a naive time is in the default time zone.
        row.at = timezone.make_aware(row.at, timezone.get_default_timezone())


def _lock_and_read_head(model: Any, using: str, count: int) -> tuple[int, str, list[int]]:
    """Queue behind every other writer of the trail, then read the last row and take ``count``
    fresh ids: (last id, its row_hash, the ids).

    On PostgreSQL the ids come from the table's sequence, in the same statement as the last
    row (one round trip less while the lock is held). That statement must follow the lock's,
    not share it: a statement's snapshot is taken when it starts, and only a snapshot taken
    after the lock was granted sees the row the previous holder committed. SQLite (make run)
    has one writer at a time; its transactions queue on the file, and ids follow the last.
    """
    connection = connections[using]
    table = connection.ops.quote_name(model._meta.db_table)
    if connection.vendor != "postgresql":
        head = model._base_manager.using(using).order_by("-id").values_list("id", "row_hash")
        head_id, head_hash = head.first() or (0, "")
        return head_id, head_hash, list(range(head_id + 1, head_id + 1 + count))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        cursor.execute(
            "SELECT h.id, h.row_hash, ARRAY(SELECT nextval(pg_get_serial_sequence(%s, %s)) "
            "FROM generate_series(1, %s)) "
            f"FROM (SELECT 1) AS one LEFT JOIN (SELECT id, row_hash FROM {table} "
            "ORDER BY id DESC LIMIT 1) AS h ON true",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        head_id, head_hash, ids = cursor.fetchone()
    return head_id or 0, head_hash or "", sorted(ids)


def append(rows: Iterable[Any], *, using: str | None = None) -> list[Any]:
    """Write new audit rows at the end of the chain, sealed; the one way rows are written.

    Inside the caller's transaction (a savepoint of it): the advisory lock is held until that
    transaction ends, so the next writer reads this row as its predecessor only once it is
    committed, and a rolled-back row leaves no gap. Rows given an id (the benchmark's data
    generator) keep it; it must come after the last row's.
    """
    rows = list(rows)
    if not rows:
        return rows
    model = type(rows[0])
    using = using or router.db_for_write(model)
    with transaction.atomic(using=using, savepoint=False):
        missing = sum(1 for row in rows if row.id is None)
        head_id, prev, ids = _lock_and_read_head(model, using, missing)
        fresh = iter(ids)
        sealer = Sealer()
        last_id = head_id
        for row in rows:
            if row.id is None:
                row.id = next(fresh)
            if row.id <= last_id:
                raise ValueError(f"audit row id {row.id} does not follow {last_id}")
            last_id = row.id
            _normalise(row)
            row.prev_hash = prev
            row.row_hash = sealer.seal(sealed_values(row), prev)
            prev = row.row_hash
        # The plain QuerySet's bulk_create: Transition's own calls back into this function.
        QuerySet(model, using=using).bulk_create(rows)
    return rows


def checkpoint_message(row_id: int, after_id: int, prev_hash: str, purged: int, at: Any) -> bytes:
    """What an ``AuditCheckpoint``'s seal covers."""
    return json.dumps(
        [CHAIN_VERSION, "checkpoint", row_id, after_id, prev_hash, purged, _timestamp(at)],
        separators=(",", ":"),
    ).encode()


def lock(using: str) -> None:
    """Hold the chain's lock until the transaction ends (``purge_audit`` computes its
    checkpoints under it, so no row is appended meanwhile)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])


def hold_before_row_locks(using: str = DEFAULT_DB_ALIAS) -> None:
    """Take the chain's lock at the start of a workflow transaction, before its row locks.

    ``append`` takes the lock at a transaction's first audit row and holds it to the commit. A
    transaction that wrote an audit row and then locks a proposal (``approve_reassignment``
    does) would otherwise deadlock with one that locked that proposal first and now waits to
    append. Taking the chain first everywhere a workflow verb locks its rows gives one lock
    order: chain, then rows. Workflow transactions are short (no rendering inside them), so
    queueing them on one lock costs little at a district's scale.
    """
    lock(using)


def checkpoints_for(model: Any, doomed: set[int], *, using: str) -> list[dict[str, Any]]:
    """The links a purge of ``doomed`` ids cuts: for each row kept right after a removed run,
    its id, the kept row now before it (0: none), the hash it links to, and the run's length.

    One pass over the rows up to the last removed one, in id order, plus the row after it.
    """
    if not doomed:
        return []
    last_doomed = max(doomed)
    rows = model._base_manager.using(using).order_by("id").values_list("id", "prev_hash")
    cuts: list[dict[str, Any]] = []
    kept_before = 0
    run = 0
    upto = rows.filter(id__lte=last_doomed).iterator(chunk_size=5000)
    following = rows.filter(id__gt=last_doomed)[:1]
    for pk, prev_hash in itertools.chain(upto, following):
        if pk in doomed:
            run += 1
            continue
        if run:
            cut = {"row_id": pk, "after_id": kept_before, "prev_hash": prev_hash, "purged": run}
            cuts.append(cut)
            run = 0
        kept_before = pk
    return cuts


class Break:
    """The first broken link ``verify`` found: the row's id and what is wrong with it."""

    def __init__(self, row_id: int, problem: str):
        self.row_id = row_id
        self.problem = problem

    def __repr__(self) -> str:
        return f"Break({self.row_id}, {self.problem!r})"


class Verification:
    """What ``verify`` found: rows checked, time taken, the first break and how many."""

    def __init__(self) -> None:
        self.rows = 0
        self.seconds = 0.0
        self.first: Break | None = None
        self.breaks = 0
        self.head: tuple[int, str] = (0, "")
        self.checkpoints = 0

    @property
    def intact(self) -> bool:
        return self.breaks == 0

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def add(self, row_id: int, problem: str) -> None:
        self.breaks += 1
        if self.first is None:
            self.first = Break(row_id, problem)


def _stream(model: Any, using: str, chunk_size: int):
    """Every row in id order as ``SEALED_COLUMNS`` + (prev_hash, row_hash), the time already as
    ``_timestamp``'s text. On PostgreSQL a server-side cursor with the time formatted by the
    database (parsing a million timestamps in Python was a third of the walk); elsewhere the
    ORM's iterator."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        rows = model._base_manager.using(using).order_by("id")
        for row in rows.values_list(*SEALED_COLUMNS, "prev_hash", "row_hash").iterator(
            chunk_size=chunk_size
        ):
            yield (row[0], _timestamp(row[1]), *row[2:])
        return
    quote = connection.ops.quote_name
    columns = [
        TIMESTAMP_SQL.format(quote(c)) if c == "at" else quote(c)
        for c in (*SEALED_COLUMNS, "prev_hash", "row_hash")
    ]
    sql = f"SELECT {', '.join(columns)} FROM {quote(model._meta.db_table)} ORDER BY id"
    with transaction.atomic(using=using), connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while batch := cursor.fetchmany(chunk_size):
            yield from batch


def verify(*, using: str | None = None, chunk_size: int = 10000) -> Verification:
    """Walk the whole chain in id order and check every row's link and seal.

    Streams the rows (a server-side cursor on PostgreSQL), so memory stays flat for millions
    of rows. A row is broken when it has no seal, when its ``prev_hash`` is not the hash of the
    row before it (rows were deleted or inserted between them) and no sealed checkpoint of a
    purge explains the gap, or when its seal does not match its fields (changed or forged). The
    walk goes on after a break, linking from the stored hash, to count the others.
    """
    from proposals.models import AuditCheckpoint, Transition

    using = using or router.db_for_read(Transition)
    result = Verification()
    started = time.perf_counter()
    sealer = Sealer()
    cuts: dict[int, set[tuple[int, str]]] = {}
    for cp in AuditCheckpoint.objects.using(using).order_by("id").iterator():
        result.checkpoints += 1
        if not hmac.compare_digest(sealer.seal_message(cp.message()), cp.seal):
            result.add(
                cp.row_id,
                _("审计链检查点 %(cp)s（记录 %(row)s）的校验值不符：检查点被改动或伪造。")
                % {"cp": cp.pk, "row": cp.row_id},
            )
            continue
        cuts.setdefault(cp.row_id, set()).add((cp.after_id, cp.prev_hash))
    before_id, before_hash = 0, ""
    for row in _stream(Transition, using, chunk_size):
        result.rows += 1
        values, prev_hash, row_hash = row[:-2], row[-2], row[-1]
        pk = values[0]
        if not row_hash:
            result.add(pk, _("记录 %(id)s 没有校验值：它不是经由本系统写入的。") % {"id": pk})
        elif prev_hash != before_hash and (before_id, prev_hash) not in cuts.get(pk, ()):
            if before_id:
                problem = _(
                    "记录 %(id)s 与前一条记录（编号 %(before)s）的链接断开：其间有记录被删除"
                    "或插入，或本条的链接值被改动。"
                ) % {"id": pk, "before": before_id}
            else:
                problem = _(
                    "记录 %(id)s 是现存的第一条记录，却链接到一条已不存在的记录，且没有清理"
                    "检查点说明：更早的记录被删除了。"
                ) % {"id": pk}
            result.add(pk, problem)
        elif not hmac.compare_digest(sealer.seal_formatted(values, prev_hash), row_hash):
            problem = _("记录 %(id)s 的内容与其校验值不符：该记录被改动或伪造。") % {"id": pk}
            if result.rows == 1:
                problem += _(
                    "如果每条记录都不符，请核对 AUDIT_CHAIN_KEY（未设置时为 SECRET_KEY）"
                    "是否与写入时相同。"
                )
            result.add(pk, problem)
        before_id, before_hash = pk, row_hash
    result.head = (before_id, before_hash)
    result.seconds = time.perf_counter() - started
    return result
