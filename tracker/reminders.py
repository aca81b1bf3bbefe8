"""The daily scan: record the reminders due today (``tracker.reminder_plan``) in the ledger,
one digest per person, then send them.

The rules of who is reminded of what, and when, are ``tracker.reminder_plan``'s; this module
writes what the plan finds. The scan is set-based: a fixed number of queries whatever the
number of items (the due dates in one query, the people in three, the ledger in bulk inserts),
so 100,000 open assignments cost what 10 do in queries (``bench/scan.py``).

The plan's names are importable from here too (``reminders.plan_reminders``,
``reminders.DONE_PROPOSAL_STATES`` …), as they were before the module was split (issue 18).
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from proposals.models import today as local_today
from tracker.mail import ledger
from tracker.models import Digest, Reminder, ScanRun
from tracker.reminder_plan import (
    DONE_PROPOSAL_STATES,
    ESCALATING_CLOCKS,
    ONE_DAY,
    Countdown,
    DueItem,
    People,
    Plan,
    _previous_workday,
    _publication_dues,
    _reminder_clock,
    _step_table,
    _tier,
    plan_reminders,
    steps_before,
)

__all__ = [
    "DONE_PROPOSAL_STATES",
    "ESCALATING_CLOCKS",
    "INSERTERS",
    "ONE_DAY",
    "Countdown",
    "DueItem",
    "NewRow",
    "People",
    "Plan",
    "ScanReport",
    "_previous_workday",
    "_publication_dues",
    "_reminder_clock",
    "_step_table",
    "_tier",
    "enqueue_digests",
    "insert_with_orm",
    "insert_with_unnest",
    "plan_reminders",
    "run_scan",
    "steps_before",
]


# --- Writing the ledger ---------------------------------------------------------------------


@dataclass
class ScanReport:
    today: datetime.date
    is_workday: bool
    items: int = 0
    digests: list[Digest] = field(default_factory=list)
    reminders_linked: int = 0

    @property
    def digest_ids(self) -> list[int]:
        return [d.pk for d in self.digests]


def run_scan(*, today: datetime.date | None = None, dispatch: bool = True) -> ScanReport:
    """The daily scan: record today's reminders and one digest per person, then send them.

    Safe to run any number of times a day: the ledger's unique keys make a second run write
    nothing new (so it makes no digest), and runs of the same day take turns on the
    ``ScanRun`` row. Reminders and digests are written in one transaction, so a crash leaves
    neither. The digests are enqueued when it commits (``dispatch=False`` leaves them to the
    hourly retry, or to a caller that sends them itself).
    """
    today = today or local_today()
    with transaction.atomic():
        run = _lock_scan_run(today)
        run.runs += 1
        plan = plan_reminders(today=today)
        new: list[NewRow] = []
        if plan.items:
            insert = INSERTERS.get(connection.vendor, insert_with_orm)
            new = insert(plan, batch=run.runs)
        digests = _digest_new_reminders(plan, new)
        recorded = len(new)
        run.finished_at = timezone.now()
        run.items = len(plan.items)
        run.reminders_created += recorded
        run.digests_created += len(digests)
        run.save(
            update_fields=[
                "runs", "started_at", "finished_at", "items", "reminders_created", "digests_created"
            ]
        )  # fmt: skip
        if dispatch and digests:
            ids = [d.pk for d in digests]
            transaction.on_commit(lambda: enqueue_digests(ids), robust=True)
    return ScanReport(
        today=today,
        is_workday=plan.is_workday,
        items=len(plan.items),
        digests=digests,
        reminders_linked=recorded,
    )


NewRow = tuple[int, int, str, int, datetime.date]  # id, assignment, clock, step, due date


def insert_with_orm(plan: Plan, *, batch: int) -> list[NewRow]:
    """Record the plan's reminders that are not in the ledger yet; return the new rows.

    Any database: a bulk insert that skips the keys already there, then the rows of this batch
    (those that were there keep the batch that wrote them).
    """
    pending, silent = Reminder.State.PENDING, Reminder.State.NO_RECIPIENT
    now = timezone.now()
    Reminder.objects.bulk_create(
        [
            Reminder(
                assignment_id=item.assignment_id,
                due_date_id=item.due_date_id,
                reply_id=item.reply_id,
                clock=item.clock,
                step=item.step,
                due_on=item.due_on,
                scanned_on=plan.today,
                batch=batch,
                recipients=list(users),
                undelivered=len(users),
                state=pending if users else silent,
                created_at=now,
            )
            for item, users in zip(plan.items, plan.recipients, strict=True)
        ],
        ignore_conflicts=True,
    )
    return list(
        Reminder.objects.filter(scanned_on=plan.today, batch=batch).values_list(
            "id", "assignment_id", "clock", "step", "due_on"
        )
    )


def insert_with_unnest(plan: Plan, *, batch: int) -> list[NewRow]:
    """``insert_with_orm`` for PostgreSQL, in one statement.

    On a large day (55,000 reminders for 100,000 assignments) building a model instance per row
    and quoting its values cost more than PostgreSQL takes to insert them, so each column goes
    as one comma-separated string, unpacked by ``string_to_array``; the recipients, shared by
    many rows, go once as a JSON list of lists and each row points into it.
    ``RETURNING`` gives the rows that were new.
    """
    sets: dict[tuple[int, ...], int] = {}
    columns: list[list[str]] = [[], [], [], [], [], [], []]
    a, d, r, c, st, due, rs = columns
    for item, users in zip(plan.items, plan.recipients, strict=True):
        a.append(str(item.assignment_id))
        d.append("" if item.due_date_id is None else str(item.due_date_id))
        r.append("" if item.reply_id is None else str(item.reply_id))
        c.append(item.clock)
        st.append(str(item.step))
        due.append(item.due_on.isoformat())
        rs.append(str(sets.setdefault(users, len(sets))))
    meta = Reminder._meta
    quote = connection.ops.quote_name

    def col(name: str) -> str:
        return quote(meta.get_field(name).column)

    targets = [
        "assignment", "due_date", "reply", "clock", "step", "due_on", "recipients",
        "undelivered", "state", "scanned_on", "batch", "created_at",
    ]  # fmt: skip
    sql = f"""
        WITH sets AS (
            SELECT n - 1 AS n, value FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS j(value, n)
        )
        INSERT INTO {quote(meta.db_table)} ({", ".join(col(t) for t in targets)})
        SELECT t.a, t.d, t.r, t.c, t.st, t.due, sets.value, jsonb_array_length(sets.value),
               CASE WHEN jsonb_array_length(sets.value) > 0 THEN %s ELSE %s END, %s, %s, %s
        FROM unnest(
            string_to_array(%s, ',', '')::bigint[],
            string_to_array(%s, ',', '')::bigint[],
            string_to_array(%s, ',', '')::bigint[],
            string_to_array(%s, ',')::varchar[],
            string_to_array(%s, ',')::smallint[],
            string_to_array(%s, ',')::date[],
            string_to_array(%s, ',')::integer[]
        ) AS t(a, d, r, c, st, due, rs)
        JOIN sets ON sets.n = t.rs
        ON CONFLICT DO NOTHING
        RETURNING {col("id")}, {col("assignment")}, {col("clock")}, {col("step")}, {col("due_on")}
    """  # noqa: E501
    params = [
        json.dumps([list(users) for users in sets]),
        Reminder.State.PENDING.value,
        Reminder.State.NO_RECIPIENT.value,
        plan.today,
        batch,
        timezone.now(),
        *(",".join(values) for values in columns),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


INSERTERS: dict[str, Callable[..., list[NewRow]]] = {"postgresql": insert_with_unnest}


def _lock_scan_run(today: datetime.date) -> ScanRun:
    ScanRun.objects.bulk_create([ScanRun(on=today)], ignore_conflicts=True)
    run = ScanRun.objects.select_for_update().get(on=today)
    run.started_at = timezone.now()
    return run


def _digest_new_reminders(plan: Plan, new: list[NewRow]) -> list[Digest]:
    """One digest per recipient of the reminders this run wrote (those already in the ledger
    were digested by the run that wrote them). A person's first of the day, or a further part
    when a later run of the same day found something new: a digest never changes once
    written, so the task sending the first cannot miss an item added later."""
    recipients = {item.key: users for item, users in zip(plan.items, plan.recipients, strict=True)}
    by_user: dict[int, list[int]] = defaultdict(list)
    for reminder_id, *key in new:
        for user_id in recipients.get(tuple(key), ()):
            by_user[user_id].append(reminder_id)
    if not by_user:
        return []
    parts: dict[int, int] = {}
    for user_id, part in Digest.objects.filter(on=plan.today).values_list("user_id", "part"):
        parts[user_id] = max(part, parts.get(user_id, 0))
    # PostgreSQL and SQLite ≥ 3.35 return the new ids from the bulk insert.
    return Digest.objects.bulk_create(
        [
            Digest(
                user_id=user_id,
                on=plan.today,
                part=parts.get(user_id, 0) + 1,
                email=plan.people.emails[user_id],
                reminder_ids=sorted(ids),
                item_count=len(ids),
            )
            for user_id, ids in sorted(by_user.items())
        ]
    )


def enqueue_digests(ids: Iterable[int]) -> None:
    ledger.enqueue(Digest, ids)
