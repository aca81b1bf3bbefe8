"""The ledgers of reminders and notices: what is due for whom, and which e-mail carried it.

Three ledgers, each the source of truth that Celery only executes:

- ``Reminder``: one row per item and step — unique per (assignment, clock, step, due date) —
  written by the daily scan (``tracker.reminders``). Because the key holds the due date, an
  extension (a new date) starts a new series and the old date's rows are simply never
  written again; because it holds the step, a scan that runs twice writes nothing new.
- ``Digest``: the e-mail that carries a person's reminders of one day, one per person per day
  (``part`` > 1 only when a later run of the same day found something new). It is the unit
  that is sent, retried and failed. It lists its reminders' ids rather than having a link
  table: the scan writes hundreds of thousands of (person, item) pairs on a large day, and a
  digest is written once and read whole; each reminder counts the digests still owed it
  (``undelivered``) and is sent when that reaches 0.
- ``EventNotice``: one e-mail per event and recipient, keyed by the audit row of the event,
  so a notice is never sent twice for one event.

Digests and notices share the sending machine of ``Outgoing``: pending → sending → sent, or
failed after the last attempt (or cancelled when nothing is left to say). The task that sends
one takes a lease on the row, so a second task for the same row does nothing while the first
is at work, and a worker killed mid-send leaves a lease that expires and is picked up again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from proposals.models import Assignment, DueDate, Proposer, Transition
from replies.models import Reply


class ReminderClock(models.TextChoices):
    """The classes of reminders, one per clock (docs/domain.md, Deadlines), plus 签收."""

    ACCEPT = "accept", _("签收")
    REASSIGNMENT = "reassignment", _("申请退回期限")
    FIRST_CONTACT = "first_contact", _("沟通见面")
    CO_OPINION = "co_opinion", _("会办意见")
    REPLY = "reply", _("答复")
    REHANDLING_REPLY = "rehandling_reply", _("重新办理答复")
    PUBLICATION = "publication", _("主动公开")


class Reminder(models.Model):
    """One item due for a notice at one step: ``step`` working days before its due date
    (5, 1), on the day (0), or overdue (-1, -2 …: a notice every working day, escalating)."""

    Clock = ReminderClock

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        CANCELLED = "cancelled", _("已取消（已办结或已改期）")
        NO_RECIPIENT = "no_recipient", _("无收件人")

    # The ledger's references are not database constraints, and only the unique key is an
    # index: a large day writes tens of thousands of rows, and checking three foreign keys per
    # row at commit cost a third of the whole scan (bench/scan.py). The rows are written only by
    # the scan, from rows it read in the same transaction; deletions go through the ORM, which
    # cascades from the assignment as declared (its due dates and replies go with it).
    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("交办"),
        db_constraint=False,
        db_index=False,  # the unique key starts with it
    )
    due_date = models.ForeignKey(
        DueDate,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("到期日记录"),
        db_constraint=False,
        db_index=False,
    )
    reply = models.ForeignKey(
        Reply,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("答复"),
        help_text=_("主动公开提醒所指的答复。"),
        db_constraint=False,
        db_index=False,
    )
    clock = models.CharField(_("提醒类别"), max_length=20, choices=ReminderClock.choices)
    step = models.SmallIntegerField(
        _("提醒节点"), help_text=_("距到期日的工作日数：正数为到期前，0 为当日，负数为逾期。")
    )
    due_on = models.DateField(_("到期日"))
    scanned_on = models.DateField(_("生成日期"))
    batch = models.PositiveSmallIntegerField(
        _("扫描批次"), default=1, help_text=_("当天第几次扫描写入的。")
    )
    recipients = models.JSONField(_("收件人"), default=list, help_text=_("用户编号"))
    undelivered = models.PositiveSmallIntegerField(
        _("未送达人数"), default=0, help_text=_("尚未发出的提醒邮件数；为 0 时即已发送。")
    )
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)

    class Meta:
        verbose_name = _("提醒事项")
        verbose_name_plural = _("提醒事项")
        ordering = ["-scanned_on", "step", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "clock", "step", "due_on"], name="reminder_once_per_step"
            )
        ]
        indexes = [models.Index(fields=["scanned_on", "batch"], name="reminder_scan_batch")]

    def __str__(self) -> str:
        return f"{self.get_clock_display()} {self.due_on:%Y-%m-%d} {self.step_label}"

    @property
    def is_overdue(self) -> bool:
        return self.step < 0

    @property
    def step_label(self) -> str:
        return step_label(self.step)


def step_label(step: int) -> str:
    if step > 0:
        return str(_("还有%(n)s个工作日到期") % {"n": step})
    if step == 0:
        return str(_("今日到期"))
    return str(_("已逾期%(n)s个工作日") % {"n": -step})


class Outgoing(models.Model):
    """An e-mail the system owes someone, and how delivering it went."""

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        CANCELLED = "cancelled", _("已取消")

    email = models.EmailField(_("收件邮箱"))
    state = models.CharField(
        _("状态"),
        max_length=10,
        choices=State.choices,
        default=State.PENDING,
        editable=False,
        db_index=True,
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0, editable=False)
    last_error = models.TextField(_("最近错误"), blank=True, editable=False)
    lease_until = models.DateTimeField(
        _("发送租约到期"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("发送中的任务在此之前独占本条；过期仍未发送，视为中断，重新发送。"),
    )
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True, editable=False)
    may_be_duplicate = models.BooleanField(
        _("可能重复"),
        default=False,
        editable=False,
        help_text=_("上次发送在确认前中断，已重新发送，收件人可能收到两封。"),
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        abstract = True


class Digest(Outgoing):
    """The daily e-mail of one person: every reminder due for them that day, grouped."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reminder_digests",
        verbose_name=_("收件人"),
    )
    on = models.DateField(_("日期"))
    part = models.PositiveSmallIntegerField(
        _("份次"), default=1, help_text=_("同一天补发新增事项时为 2、3…")
    )
    reminder_ids = models.JSONField(_("提醒事项"), default=list, editable=False)
    item_count = models.PositiveIntegerField(_("事项数"), default=0, editable=False)

    class Meta:
        verbose_name = _("提醒邮件")
        verbose_name_plural = _("提醒邮件")
        ordering = ["-on", "user", "part"]
        constraints = [
            models.UniqueConstraint(fields=["user", "on", "part"], name="digest_once_per_day")
        ]
        indexes = [
            models.Index(
                fields=["state", "next_attempt_at"],
                condition=Q(state__in=["pending", "sending"]),
                name="digest_unsent",
            )
        ]

    def __str__(self) -> str:
        suffix = f"（{self.part}）" if self.part > 1 else ""
        return f"{self.on:%Y-%m-%d} {self.user}{suffix}"


class NoticeEvent(models.TextChoices):
    """The events that get a notice (``proposals.events``)."""

    ASSIGNMENT_CREATED = "assignment_created", _("交办到单位")
    REASSIGNMENT_DECIDED = "reassignment_decided", _("退回申请已处理")
    EXTENSION_DECIDED = "extension_decided", _("延期申请已处理")
    COPROPOSAL_INVITED = "coproposal_invited", _("邀请联名")
    AWAITING_SIGNATURE = "awaiting_signature", _("待签发")
    REPLY_SENT = "reply_sent", _("答复已送达")
    FEEDBACK_NOT_SATISFIED = "feedback_not_satisfied", _("提案者不满意")
    OPINION_DELIVERED = "opinion_delivered", _("会办意见已送达")


class EventNotice(Outgoing):
    """One notice of one event to one address."""

    Event = NoticeEvent

    event = models.CharField(_("事件"), max_length=30, choices=NoticeEvent.choices)
    transition = models.ForeignKey(
        Transition, on_delete=models.PROTECT, related_name="+", verbose_name=_("操作记录")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("收件用户"),
    )
    proposer = models.ForeignKey(
        Proposer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("收件提案者"),
    )

    class Meta:
        verbose_name = _("事件通知")
        verbose_name_plural = _("事件通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["transition", "email"], name="notice_once_per_event")
        ]
        indexes = [
            models.Index(
                fields=["state", "next_attempt_at"],
                condition=Q(state__in=["pending", "sending"]),
                name="notice_unsent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} → {self.email}"


class LoginLinkMail(Outgoing):
    """One e-mailed sign-in link of ``/my/`` to one member (``tracker.my.login_links``).

    The request that asked for it only queued the address; the task found the member and
    wrote this row, keyed by that request, so a task run twice writes it once. The link itself
    is not kept: the task that sends the mail makes its token, so no working link is ever
    stored in the database.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("收件用户"),
        db_index=False,  # the index of recent links starts with it
    )
    request_key = models.CharField(_("申请编号"), max_length=32, editable=False)
    client_ip = models.GenericIPAddressField(
        _("申请来源地址"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("登录链接邮件")
        verbose_name_plural = _("登录链接邮件")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request_key", "user"], name="login_link_once_per_request"
            )
        ]
        indexes = [
            models.Index(
                fields=["state", "next_attempt_at"],
                condition=Q(state__in=["pending", "sending"]),
                name="login_link_unsent",
            ),
            models.Index(fields=["user", "created_at"], name="login_link_recent"),
        ]

    def __str__(self) -> str:
        return self.email


class ScanRun(models.Model):
    """The daily scan of one date. Its row is locked while a scan runs, so two scans of the
    same day (beat and an operator) take turns instead of both linking the same reminders."""

    on = models.DateField(_("日期"), unique=True)
    runs = models.PositiveSmallIntegerField(_("运行次数"), default=0)
    started_at = models.DateTimeField(_("最近开始"), null=True)
    finished_at = models.DateTimeField(_("最近完成"), null=True)
    items = models.PositiveIntegerField(_("到期事项"), default=0)
    reminders_created = models.PositiveIntegerField(_("新增提醒"), default=0)
    digests_created = models.PositiveIntegerField(_("新增邮件"), default=0)

    class Meta:
        verbose_name = _("每日扫描")
        verbose_name_plural = _("每日扫描")
        ordering = ["-on"]

    def __str__(self) -> str:
        return f"{self.on:%Y-%m-%d}"


class NotificationPreference(models.Model):
    """Which classes of reminders a person does not want. Overdue notices always go out."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("用户"),
    )
    muted = models.JSONField(
        _("不接收的提醒"),
        default=list,
        blank=True,
        help_text=_("到期前和到期当日的提醒可以关闭；逾期通知不能关闭。"),
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("提醒设置")
        verbose_name_plural = _("提醒设置")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def muted_clocks(self) -> set[str]:
        return {c for c in self.muted if c in ReminderClock.values}


class Heartbeat(models.Model):
    """The last sign of life of a background process, written to the database so that it
    outlives a Redis restart: beat queues ``tracker.health.heartbeat`` every minute and the
    worker that runs it writes ``beat_at``; /healthz fails when it is older than
    ``HEALTH_HEARTBEAT_MAX_AGE`` (tracker/health.py)."""

    name = models.CharField(_("名称"), max_length=40, unique=True)
    beat_at = models.DateTimeField(_("最近心跳"))

    class Meta:
        verbose_name = _("心跳")
        verbose_name_plural = _("心跳")

    def __str__(self) -> str:
        return f"{self.name} {timezone.localtime(self.beat_at):%Y-%m-%d %H:%M:%S}"


# Members' accounts and notices (issue 21), in a module of their own.
from tracker.models_members import (  # noqa: E402
    Invitation,
    Member,
    MemberChannel,
    MemberEvent,
    MemberNotice,
    MemberPreference,
    NoticeCursor,
    SessionRoll,
)

__all__ = [
    "Digest",
    "EventNotice",
    "Heartbeat",
    "Invitation",
    "LoginLinkMail",
    "Member",
    "MemberChannel",
    "MemberEvent",
    "MemberNotice",
    "MemberPreference",
    "NoticeCursor",
    "NoticeEvent",
    "NotificationPreference",
    "Outgoing",
    "Reminder",
    "ReminderClock",
    "ScanRun",
    "SessionRoll",
    "step_label",
]
