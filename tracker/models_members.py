"""Members' accounts and what they are told (issue 21): the session rolls of 委员, the
invitations that open an account, the notices of their proposals' steps, and how each member
wants to be reached. Part of ``tracker.models`` (imported there); import from there.

- ``SessionRoll``: the 委员 of a session, as the committee imported or chose them; it tells
  which district's sessions a member may submit to.
- ``Invitation``: the e-mail with a one-time link to set a password, one per account
  (``generation`` > 1 only when the committee sends it again on purpose), on the ledger
  (``tracker.mail.ledger``) like every other mail.
- ``MemberNotice``: one message per audited step of a proposal, proposer and channel — keyed by
  the audit row, so a step is told once (``tracker.mail.members``).
- ``MemberPreference``: e-mail, 短信, both or nothing.
- ``NoticeCursor``: how far the sweep of the audit trail has read.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from proposals.models import Proposer, Session, Transition
from tracker.models import Outgoing


class Member(Proposer):
    """The committee's view of proposers as members with accounts (the admin's 委员账号)."""

    class Meta:
        proxy = True
        verbose_name = _("委员账号")
        verbose_name_plural = _("委员账号")


class SessionRoll(models.Model):
    """One 委员 on the list of one session."""

    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="+", verbose_name=_("届次会议")
    )
    proposer = models.ForeignKey(
        Proposer, on_delete=models.CASCADE, related_name="session_rolls", verbose_name=_("委员")
    )
    added_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("委员名单")
        verbose_name_plural = _("委员名单")
        constraints = [
            models.UniqueConstraint(fields=["session", "proposer"], name="roll_once_per_session")
        ]

    def __str__(self) -> str:
        return f"{self.session} · {self.proposer}"


class Invitation(Outgoing):
    """The invitation of one account: an e-mail with a link to set a password."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("账号"),
        db_index=False,  # the unique key starts with it
    )
    proposer = models.ForeignKey(
        Proposer, on_delete=models.CASCADE, related_name="+", verbose_name=_("委员")
    )
    generation = models.PositiveSmallIntegerField(
        _("第几次邀请"), default=1, editable=False, help_text=_("重新发送邀请时为 2、3…")
    )
    accepted_at = models.DateTimeField(_("设置密码时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("账号邀请")
        verbose_name_plural = _("账号邀请")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "generation"], name="invitation_once")
        ]
        indexes = [
            models.Index(
                fields=["state", "next_attempt_at"],
                condition=Q(state__in=["pending", "sending"]),
                name="invitation_unsent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.proposer} → {self.email}"


class MemberChannel(models.TextChoices):
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")


class MemberEvent(models.TextChoices):
    """The steps of a proposal its proposers are told about."""

    FILED = "filed", _("立案")
    NOT_FILED = "not_filed", _("不予立案")
    RETURNED = "returned", _("退回修改")
    MERGED = "merged", _("并案")
    ASSIGNED = "assigned", _("交办")
    REPLIED = "replied", _("答复")
    REHANDLING = "rehandling", _("重新办理")


class MemberNotice(Outgoing):
    """One message about one step of a proposal to one proposer, by e-mail or 短信."""

    Channel = MemberChannel
    Event = MemberEvent

    email = models.EmailField(_("收件邮箱"), blank=True)
    phone = models.CharField(_("手机号码"), max_length=30, blank=True)
    channel = models.CharField(_("渠道"), max_length=5, choices=MemberChannel.choices)
    event = models.CharField(_("事项"), max_length=20, choices=MemberEvent.choices)
    transition = models.ForeignKey(
        Transition, on_delete=models.PROTECT, related_name="+", verbose_name=_("操作记录")
    )
    proposer = models.ForeignKey(
        Proposer, on_delete=models.CASCADE, related_name="+", verbose_name=_("提案者")
    )

    class Meta:
        verbose_name = _("委员通知")
        verbose_name_plural = _("委员通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transition", "proposer", "channel"], name="member_notice_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["state", "next_attempt_at"],
                condition=Q(state__in=["pending", "sending"]),
                name="member_notice_unsent",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} → {self.email or self.phone}"


class MemberPreference(models.Model):
    """How a member wants to hear about their proposals."""

    class Channels(models.TextChoices):
        EMAIL = "email", _("电子邮件")
        SMS = "sms", _("短信")
        BOTH = "both", _("电子邮件和短信")
        NONE = "none", _("不接收通知")

    proposer = models.OneToOneField(
        Proposer,
        on_delete=models.CASCADE,
        related_name="notice_preference",
        verbose_name=_("委员"),
    )
    channels = models.CharField(
        _("通知方式"), max_length=5, choices=Channels.choices, default=Channels.EMAIL
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("委员通知设置")
        verbose_name_plural = _("委员通知设置")

    def __str__(self) -> str:
        return f"{self.proposer}：{self.get_channels_display()}"

    @property
    def wanted(self) -> set[str]:
        email, sms = str(MemberChannel.EMAIL), str(MemberChannel.SMS)
        chosen: dict[str, set[str]] = {
            self.Channels.EMAIL: {email},
            self.Channels.SMS: {sms},
            self.Channels.BOTH: {email, sms},
        }
        return chosen.get(str(self.channels), set())


class NoticeCursor(models.Model):
    """How far a sweep of the audit trail has read (the id of the last row it handled)."""

    name = models.CharField(_("名称"), max_length=40, unique=True)
    last_transition_id = models.PositiveBigIntegerField(_("已读到的操作记录"), default=0)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("通知进度")
        verbose_name_plural = _("通知进度")

    def __str__(self) -> str:
        return f"{self.name}: {self.last_transition_id}"
