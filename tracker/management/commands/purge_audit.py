"""``manage.py purge_audit --before YYYY-MM-DD [--dry-run]``: drop audit rows past retention.

The audit trail (``proposals.Transition``) is append-only in PostgreSQL: a trigger refuses
every UPDATE, and every DELETE except of rows older than 180 days inside a transaction that
set ``tracker.audit_purge`` (migration ``proposals/0004_transition_append_only``). This command
is that transaction. It refuses a date later than today − ``AUDIT_RETENTION_DAYS`` (never
less than 180), keeps rows that other records still point at (e-mail notices), and leaves a
row of its own in the trail saying what it removed.

The trail is a hash chain (``proposals/audit.py``): the first row kept after each removed run
links to a hash that is gone. So, under the chain's lock and in the same transaction as the
DELETE, the command records each such link in an ``AuditCheckpoint`` sealed with the chain's
key, and ``manage.py verify_audit`` still passes afterwards.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from proposals import audit
from proposals.models import AuditCheckpoint, Transition
from proposals.models import today as _today

logger = logging.getLogger(__name__)

#: The floor the database trigger holds, whatever the setting says (等保2.0: ≥ 6 months).
MIN_RETENTION_DAYS = 180


def retention_days() -> int:
    return max(int(getattr(settings, "AUDIT_RETENTION_DAYS", 180)), MIN_RETENTION_DAYS)


def latest_purge_date(today: datetime.date | None = None) -> datetime.date:
    """The latest ``--before`` date allowed today."""
    return (today or _today()) - datetime.timedelta(days=retention_days())


def purgeable(before: datetime.date):
    """Rows older than ``before`` (local midnight) that no other record references."""
    cutoff = timezone.make_aware(datetime.datetime.combine(before, datetime.time.min))
    qs = Transition.objects.filter(at__lt=cutoff)
    # include_hidden: the notices point here with related_name="+", which related_objects skips.
    for rel in Transition._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete) or rel.field.model is Transition:
            continue
        referenced = rel.related_model._base_manager.filter(
            **{f"{rel.field.name}__isnull": False}
        ).values(rel.field.attname)
        qs = qs.exclude(pk__in=referenced)
    return cutoff, qs


#: Ids per DELETE statement (SQLite allows 32,766 parameters).
PURGE_BATCH = 10000


def record_checkpoints(cuts: list[dict]) -> list[AuditCheckpoint]:
    """One sealed ``AuditCheckpoint`` per link the purge cut (``audit.checkpoints_for``)."""
    sealer = audit.Sealer()
    now = timezone.now()
    rows = []
    for cut in cuts:
        row = AuditCheckpoint(at=now, **cut)
        row.seal = sealer.seal_message(row.message())
        rows.append(row)
    return AuditCheckpoint.objects.bulk_create(rows)


class Command(BaseCommand):
    help = "删除早于指定日期且已过保留期（至少 180 天）的操作记录。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--before",
            required=True,
            metavar="YYYY-MM-DD",
            help="删除此日期（含当天零点）之前的记录；不得晚于今天减去保留天数",
        )
        parser.add_argument("--dry-run", action="store_true", help="只统计，不删除")

    def handle(self, *args, before: str, dry_run: bool, **options):
        try:
            day = datetime.date.fromisoformat(before)
        except ValueError as exc:
            raise CommandError(f"日期格式应为 YYYY-MM-DD：{before}") from exc
        latest = latest_purge_date()
        if day > latest:
            raise CommandError(
                f"操作记录至少保留 {retention_days()} 天：--before 不得晚于 {latest:%Y-%m-%d}。"
            )
        cutoff, qs = purgeable(day)
        older = Transition.objects.filter(at__lt=cutoff).count()
        count = qs.count()
        kept = older - count
        if dry_run:
            self.stdout.write(
                f"[试运行] 将删除 {count} 条 {day:%Y-%m-%d} 之前的操作记录"
                f"（另有 {kept} 条仍被通知记录引用，保留）。"
            )
            return
        with transaction.atomic():
            # No row is appended while the cuts are computed and the rows removed.
            audit.lock(connection.alias)
            doomed = set(qs.values_list("pk", flat=True))
            cuts = audit.checkpoints_for(Transition, doomed, using=connection.alias)
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET LOCAL tracker.audit_purge = 'on'")
                table = connection.ops.quote_name(Transition._meta.db_table)
                pk = connection.ops.quote_name(Transition._meta.pk.column)
                deleted = 0
                ids = sorted(doomed)
                for start in range(0, len(ids), PURGE_BATCH):
                    batch = ids[start : start + PURGE_BATCH]
                    marks = ", ".join(["%s"] * len(batch))
                    cursor.execute(f"DELETE FROM {table} WHERE {pk} IN ({marks})", batch)
                    deleted += cursor.rowcount
                if connection.vendor == "postgresql":
                    # Closed again at once, should a caller's transaction go on after ours.
                    cursor.execute("SET LOCAL tracker.audit_purge = 'off'")
            record_checkpoints(cuts)
            days = retention_days()
            note = f"删除 {deleted} 条 {day:%Y-%m-%d} 之前的操作记录（保留期 {days} 天）"
            Transition.objects.create(
                actor=None,
                content_type=ContentType.objects.get_for_model(Transition),
                object_id=0,
                verb="purge_audit",
                note=note,
            )
        logger.warning("purge_audit: %s", note)
        self.stdout.write(
            f"已{note}；{kept} 条仍被通知记录引用，保留；记录了 {len(cuts)} 个审计链检查点。"
        )
