"""``manage.py verify_audit``: check the audit trail's hash chain (``proposals/audit.py``).

Walks every ``Transition`` row in id order and reports the first broken link — the row's id
and what is wrong with it (no seal, a link to a row that is not the one before it, fields that
do not match the seal) — and how many others it found. Exit status 0 only when the chain is
intact; 1 otherwise. It also prints the last row's id and hash: kept somewhere else (the
backup log, a ticket), they show later whether rows were cut off the end, which the chain
alone cannot (SECURITY.md).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from proposals import audit


class Command(BaseCommand):
    help = "核对操作记录的哈希链：报告第一处断裂（记录编号和原因）；完好时退出码为 0。"

    def add_arguments(self, parser):
        parser.add_argument("--database", default=None, help="database alias (default: routed)")

    def handle(self, *args, database: str | None, **options):
        result = audit.verify(using=database)
        head_id, head_hash = result.head
        self.stdout.write(
            _(
                "已核对 %(rows)d 条操作记录、%(cps)d 个清理检查点，"
                "用时 %(s).2f 秒（每秒 %(rate)d 条）。"
            )
            % {
                "rows": result.rows,
                "cps": result.checkpoints,
                "s": result.seconds,
                "rate": round(result.rate),
            }
        )
        if head_id:
            self.stdout.write(
                _("最后一条记录：编号 %(id)s，校验值 %(hash)s") % {"id": head_id, "hash": head_hash}
            )
        if result.intact:
            self.stdout.write(_("哈希链完好。"))
            return
        first = result.first
        assert first is not None  # a break was counted, so the first one was kept
        others = result.breaks - 1
        more = _("（另有 %(n)d 处断裂）") % {"n": others} if others else ""
        raise CommandError(
            _("哈希链在记录 %(id)s 处断裂%(more)s：%(problem)s")
            % {"id": first.row_id, "more": more, "problem": first.problem},
            returncode=1,
        )
