"""``manage.py annual_report --session <id> -o FILE.docx``: the session's 提案办理工作情况报告,
the same document as the statistics page's button (``tracker.reports.annual``)."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from proposals.models import Session
from proposals.models import today as _today
from tracker.reports import annual


def _session(value: str) -> Session:
    try:
        pk = int(value)
    except ValueError as exc:
        raise CommandError(f"届次会议编号应为数字，收到“{value}”。") from exc
    try:
        return Session.objects.get(pk=pk)
    except Session.DoesNotExist as exc:
        known = "、".join(f"{s.pk}（{s}）" for s in Session.objects.all()[:20]) or "无"
        raise CommandError(f"找不到编号为 {pk} 的届次会议。现有届次会议：{known}。") from exc


def _date(value: str | None) -> datetime.date:
    if not value:
        return _today()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期“{value}”无效，应为 YYYY-MM-DD。") from exc


class Command(BaseCommand):
    help = "生成一届次会议的提案办理工作情况报告（可编辑的 Word 文档）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--session", required=True, help="届次会议的编号（主键）")
        parser.add_argument("-o", "--output", required=True, help="输出的 .docx 文件")
        parser.add_argument(
            "--as-of", dest="as_of", help="统计截至的日期 YYYY-MM-DD（默认今天，北京时间）"
        )

    def handle(self, *args, session: str, output: str, as_of: str | None, **options) -> None:
        target = _session(session)
        today = _date(as_of)
        path = Path(output)
        if not path.parent.is_dir():
            raise CommandError(f"目录“{path.parent}”不存在。")
        data = annual.build(target, today)
        path.write_bytes(data)
        self.stdout.write(
            f"已写入 {path}（{target}，截至 {today:%Y-%m-%d}，{len(data) // 1024} KB）"
        )
