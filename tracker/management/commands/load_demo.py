"""``manage.py load_demo``: the demo data (see ``tracker.demo``), then the demo logins."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from proposals.workflow import WorkflowError
from tracker.demo import UNITS, DemoReport, load_demo

URL_PATHS = (
    ("管理后台", "/admin/"),
    ("提案者页面", "/my/"),
    ("API 文档", "/api/docs/"),
)

WHAT = {
    "group": "用户组",
    "unit": "承办单位",
    "user": "用户",
    "membership": "单位成员",
    "session": "届次会议",
    "proposer": "提案者",
    "proposal": "提案",
    "contact": "沟通记录",
    "extension": "延期",
}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


class Command(BaseCommand):
    help = (
        "载入演示数据：四封样例答复函的提案、承办单位和提案者，一个含各种状态提案的届次会议，"
        "以及各角色的演示账号。可重复运行：已有的数据不会重复创建，也不会被修改。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="把已存在的演示账号的密码恢复为下表所列（默认只为新建的账号设置密码）。",
        )
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="打印网址时使用的地址（默认 http://127.0.0.1:8000）。",
        )

    def handle(self, *args, **options):
        try:
            report = load_demo(reset_passwords=options["reset_passwords"])
        except WorkflowError as exc:
            raise CommandError(f"演示数据载入失败，已全部撤销：{exc.message}") from exc
        self.print_report(report, options["base_url"].rstrip("/"), options["reset_passwords"])

    def print_report(self, report: DemoReport, base_url: str, reset_passwords: bool) -> None:
        out = self.stdout
        created = "，".join(f"{WHAT.get(k, k)} {n}" for k, n in report.created.items() if n)
        if not created:
            created = "无" if reset_passwords else "无（数据已存在，未作改动）"
        out.write(f"演示数据已载入。本次新建：{created}。")
        if reset_passwords:
            out.write("演示账号的密码已恢复为下表所列。")
        out.write("")

        unit_names = {u.code: u.short_name for u in UNITS}
        rows = [("用户名", "密码", "角色", "单位")]
        for spec, _password_set in report.users:
            role = spec.role
            if spec.proposer:
                role = f"{spec.role}（{spec.proposer[1]}）"
            rows.append((spec.username, spec.password, role, unit_names.get(spec.unit, "—")))
        for line in format_table(rows):
            out.write(line)
        if any(not password_set for _spec, password_set in report.users):
            out.write("")
            out.write(
                "已存在的账号未重置密码；若密码已被修改，可用 --reset-passwords 恢复为上表所列。"
            )
        out.write("")
        for label, path in URL_PATHS:
            out.write(f"{_pad(label, 12)}{base_url}{path}")
        if not settings.DEBUG:
            self.warn_published_passwords()

    def warn_published_passwords(self) -> None:
        """The passwords above are public: without DEBUG nobody signs in with them
        (``proposals.passwords``). Said on stderr, so it is seen even when the report is not."""
        self.stderr.write(
            self.style.WARNING(
                _(
                    "注意：当前未开启 DEBUG。上表的演示账号密码是公开的，只有在 DEBUG=true 时"
                    "（如 make run）才能用来登录；在其他环境中使用这些账号，须先由管理员重设密码"
                    "（python manage.py changepassword 用户名）。"
                )
            )
        )
