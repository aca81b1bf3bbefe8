"""Events and Celery messages written in the transaction that causes them.

Part of ``proposals.models`` (split by subject in issue 18); import from there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    pass


class PendingEvent(models.Model):
    """An announced event (``proposals.events``) whose handlers have not finished yet.

    Written in the workflow's own transaction and deleted once its handlers ran after the
    commit, so an event survives a process that dies between the two: the hourly sweep
    (``proposals.events.redeliver``) runs what is left. Handlers are idempotent.
    """

    name = models.CharField(_("事件"), max_length=40)
    ids = models.JSONField(_("对象"), default=dict)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("待处理事件")
        verbose_name_plural = _("待处理事件")

    def __str__(self) -> str:
        return f"{self.name} {self.ids}"


class OutboxMessage(models.Model):
    """A Celery task that could not be queued: the broker (Redis) was unreachable.

    Written by ``proposals.outbox`` in place of the message, so that what a user did (a
    signature's PDF, a notice) is not lost with the broker; sent by ``outbox.deliver`` once the
    broker answers again (the sweep every few minutes, the worker's start, the web process's
    next successful enqueue), and deleted in the same transaction that sent it. ``attempts``
    counts the tries that failed, the first one included; after ``OUTBOX_ALERT_ATTEMPTS`` of
    them the row shows on the committee's dashboard.
    """

    task = models.CharField(_("任务"), max_length=200)
    args = models.JSONField(_("位置参数"), default=list)
    kwargs = models.JSONField(_("关键字参数"), default=dict)
    options = models.JSONField(_("投递选项"), default=dict, help_text=_("队列等"))
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    last_attempt_at = models.DateTimeField(_("最近尝试"), null=True, blank=True)

    class Meta:
        verbose_name = _("待投递的后台任务")
        verbose_name_plural = _("待投递的后台任务")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"
