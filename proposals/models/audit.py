"""The audit record: transitions (hash-chained, append-only), checkpoints and access events.

Part of ``proposals.models`` (split by subject in issue 18); import from there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from proposals.models.people import User
from proposals.models.proposals import VERB_LABELS, Proposal, state_change_label

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    pass


# --- Audit ----------------------------------------------------------------------------------


class AppendOnlyError(RuntimeError):
    pass


class TransitionQuerySet(models.QuerySet["Transition"]):
    def bulk_create(self, objs, *args, **kwargs):
        """Many rows at once go through the chain too (``proposals.audit.append``); the options
        of ``bulk_create`` (conflicts, batch size) do not apply to an append-only trail."""
        from proposals import audit

        return audit.append(objs, using=self.db)


class Transition(models.Model):
    """One row per successful workflow call: who did what to which object, from where to where.

    Rows are written once and never changed; the proposal link makes a proposal's timeline one
    indexed query. Each row is sealed into a hash chain with the row before it
    (``proposals.audit``; ``manage.py verify_audit`` checks it).
    """

    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("操作人")
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("对象类型")
    )
    object_id = models.PositiveBigIntegerField(_("对象编号"))
    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.PROTECT,
        null=True,
        related_name="transitions",
        verbose_name=_("提案"),
    )
    verb = models.CharField(_("操作"), max_length=40)
    from_state = models.CharField(_("原状态"), max_length=30, blank=True)
    to_state = models.CharField(_("新状态"), max_length=30, blank=True)
    note = models.TextField(_("说明"), blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    # The hash chain (proposals/audit.py): set by ``audit.append``, never by hand.
    prev_hash = models.CharField(_("前一条校验值"), max_length=64, blank=True, editable=False)
    row_hash = models.CharField(_("校验值"), max_length=64, blank=True, editable=False)

    objects = TransitionQuerySet.as_manager()

    class Meta:
        verbose_name = _("操作记录")
        verbose_name_plural = _("操作记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="transition_object")]
        constraints = [
            models.CheckConstraint(condition=~Q(row_hash=""), name="transition_is_sealed")
        ]

    def __str__(self) -> str:
        # As the admin shows it everywhere: Beijing time (TIME_ZONE), in words.
        when = timezone.localtime(self.at).strftime("%Y-%m-%d %H:%M")
        verb = VERB_LABELS.get(self.verb, self.verb)
        return f"{when} {verb} {state_change_label(self.from_state, self.to_state)}".rstrip()

    def save(self, *args, using=None, **kwargs):
        """A new row is appended to the chain (``proposals.audit.append``); an old one never
        saves again."""
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("Transition rows are append-only.")
        from proposals import audit

        audit.append([self], using=using)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Transition rows are append-only.")


class AuditCheckpoint(models.Model):
    """Where ``manage.py purge_audit`` cut the audit chain, sealed with the chain's key.

    Purging removes old rows, so the first row kept after each removed run links to a hash no
    remaining row has. The checkpoint records that link: ``row_id`` (the row kept), the
    ``prev_hash`` it carries and ``after_id``, the row now before it (0: none). Written in the
    purge's transaction; ``verify_audit`` accepts the link only with a checkpoint whose seal
    verifies, so a deletion without the key stays visible.
    """

    row_id = models.PositiveBigIntegerField(_("清理后首条记录编号"), db_index=True)
    after_id = models.PositiveBigIntegerField(_("其前一条保留记录编号"))
    prev_hash = models.CharField(_("其前一条校验值"), max_length=64)
    purged = models.PositiveIntegerField(_("本段清理条数"))
    at = models.DateTimeField(_("时间"), default=timezone.now)
    seal = models.CharField(_("校验值"), max_length=64)

    class Meta:
        verbose_name = _("审计链检查点")
        verbose_name_plural = _("审计链检查点")
        ordering = ["row_id", "id"]

    def __str__(self) -> str:
        return f"{self.after_id} … {self.row_id}"

    def message(self) -> bytes:
        from proposals import audit

        return audit.checkpoint_message(
            self.row_id, self.after_id, self.prev_hash, self.purged, self.at
        )


class AccessEvent(models.Model):
    """Sign-ins, failures, lockouts and refusals (等保: every access decision is audited).

    Written by ``proposals.security``; like the transition trail, never changed or deleted.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", _("登录")
        LOGOUT = "logout", _("退出")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOCKED_OUT = "locked_out", _("账号锁定")
        REFUSED = "refused", _("拒绝访问")
        # A route that exists answered 404: a missing object, or one the user may not see
        # (the two look alike to the user, on purpose; the audit keeps the probe).
        NOT_FOUND = "not_found", _("对象不存在或无权查看")

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, db_index=True)
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("用户"),
    )
    username = models.CharField(_("用户名"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    method = models.CharField(_("请求方法"), max_length=10, blank=True)
    path = models.CharField(_("路径"), max_length=300, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("访问记录")
        verbose_name_plural = _("访问记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        # Beijing time (TIME_ZONE), as every other record the admin shows.
        when = timezone.localtime(self.at)
        return f"{when:%Y-%m-%d %H:%M} {self.get_kind_display()} {self.username}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("AccessEvent rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("AccessEvent rows are append-only.")
