"""``manage.py send_reminders [--dry-run] [--today YYYY-MM-DD]``: what beat runs every morning.

Runs the daily scan (``tracker.reminders.run_scan``): records today's reminders, one digest per
person, and sends them (through the ``mail`` queue, or at once without ``REDIS_URL``); then
re-sends whatever earlier runs left unsent, like the hourly beat job. Prints who gets what.
``--dry-run`` writes and sends nothing: it shows what the scan finds due today.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Iterable

from django.core.management.base import BaseCommand, CommandError

from proposals.models import Assignment, User
from tracker import reminders
from tracker.mail import ledger
from tracker.models import Digest, EventNotice, Reminder, ReminderClock, step_label

SAMPLE = 3


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _numbers(assignment_ids: Iterable[int]) -> dict[int, str]:
    rows = Assignment.objects.filter(pk__in=set(assignment_ids)).values_list(
        "pk", "proposal__number", "unit__short_name", "unit__name"
    )
    return {pk: f"{number or '（未编号）'}·{short or name}" for pk, number, short, name in rows}


def _summary(items: list[tuple[int, str, int]], numbers: dict[int, str]) -> str:
    """'第061号·区发改委 答复 逾期3日；…等N件' from (assignment, clock, step) triples."""
    items = sorted(items, key=lambda i: i[2])
    shown = [
        f"{numbers.get(a, a)} {ReminderClock(c).label} {step_label(s)}"
        for a, c, s in items[:SAMPLE]
    ]
    more = f" 等{len(items)}件" if len(items) > SAMPLE else ""
    return "；".join(shown) + more


class Command(BaseCommand):
    help = (
        "每日提醒扫描（与定时任务相同）：找出今日到期前、到期当日和逾期的事项，"
        "每人每天一封汇总邮件，并补发此前未发出的邮件。--dry-run 只列出，不记录也不发送。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只列出今日的提醒，不发送。")
        parser.add_argument(
            "--today", help="按这一天扫描（YYYY-MM-DD，默认今天，上海时间）。", default=None
        )

    def handle(self, *args, **options):
        today = None
        if options["today"]:
            try:
                today = datetime.date.fromisoformat(options["today"])
            except ValueError as exc:
                raise CommandError(f"日期格式应为 YYYY-MM-DD：{options['today']}") from exc
        if options["dry_run"]:
            self.dry_run(today)
        else:
            self.run(today)

    def dry_run(self, today: datetime.date | None) -> None:
        plan = reminders.plan_reminders(today=today)
        out = self.stdout
        if not plan.is_workday:
            out.write(f"{plan.today:%Y-%m-%d} 不是工作日，不发送提醒。")
            return
        by_user = plan.by_recipient()
        out.write(
            f"{plan.today:%Y-%m-%d}（试运行，不记录、不发送）：到期事项 {len(plan.items)} 件，"
            f"收件人 {len(by_user)} 人。"
        )
        unreached = sum(1 for users in plan.recipients if not users)
        if unreached:
            out.write(f"其中 {unreached} 件没有可通知的人（单位无联络员或未填邮箱）。")
        if not by_user:
            return
        sent_keys = set(
            Reminder.objects.filter(due_on__in={i.due_on for i in plan.items})
            .exclude(state=Reminder.State.PENDING)
            .values_list("assignment_id", "clock", "step", "due_on")
        )
        done = sum(1 for i in plan.items if i.key in sent_keys)
        if done:
            out.write(f"其中 {done} 件此前已记录，正式运行时不会重复发送。")
        numbers = _numbers(i.assignment_id for i in plan.items)
        users = self._users(by_user)
        rows = [("收件人", "邮箱", "件数", "事项")]
        for user_id, items in sorted(by_user.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            name, _email = users.get(user_id, (str(user_id), ""))
            triples = [(i.assignment_id, i.clock, i.step) for i in items]
            rows.append(
                (
                    name,
                    plan.people.emails.get(user_id, ""),
                    str(len(items)),
                    _summary(triples, numbers),
                )
            )
        for line in format_table(rows):
            out.write(line)

    def run(self, today: datetime.date | None) -> None:
        report = reminders.run_scan(today=today)
        out = self.stdout
        if not report.is_workday:
            out.write(f"{report.today:%Y-%m-%d} 不是工作日，不发送提醒。")
        else:
            out.write(
                f"{report.today:%Y-%m-%d}：到期事项 {report.items} 件，新记录提醒 "
                f"{report.reminders_linked} 条，新邮件 {len(report.digests)} 封。"
            )
        if report.digests:
            ids = {pk for d in report.digests for pk in d.reminder_ids}
            keys = {
                pk: (assignment_id, clock, step)
                for pk, assignment_id, clock, step in Reminder.objects.filter(
                    pk__in=ids
                ).values_list("pk", "assignment_id", "clock", "step")
            }
            per_digest = {d.pk: [keys[pk] for pk in d.reminder_ids] for d in report.digests}
            numbers = _numbers(a for items in per_digest.values() for a, _c, _s in items)
            users = self._users(d.user_id for d in report.digests)
            states = dict(
                Digest.objects.filter(pk__in=report.digest_ids).values_list("pk", "state")
            )
            rows = [("收件人", "邮箱", "件数", "状态", "事项")]
            for digest in sorted(report.digests, key=lambda d: (-d.item_count, d.user_id)):
                items = per_digest.get(digest.pk, [])
                rows.append(
                    (
                        users.get(digest.user_id, (str(digest.user_id), ""))[0],
                        digest.email,
                        str(len(items)),
                        str(Digest.State(states.get(digest.pk, digest.state)).label),
                        _summary(items, numbers),
                    )
                )
            for line in format_table(rows):
                out.write(line)
        resent = 0
        just_queued = set(report.digest_ids)
        for model in (Digest, EventNotice):
            ids = [pk for pk in ledger.unsent(model) if not (model is Digest and pk in just_queued)]
            ledger.enqueue(model, ids)
            resent += len(ids)
        if resent:
            out.write(f"补发此前未发出的邮件 {resent} 封。")

    @staticmethod
    def _users(ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        rows = User.objects.filter(pk__in=set(ids)).values_list(
            "pk", "full_name", "username", "email"
        )
        return {pk: (full or username, email) for pk, full, username, email in rows}
