"""Assignments to handling units: their states, due dates, extensions and contact records.

Part of ``proposals.models`` (split by subject in issue 18); import from there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from proposals.models.people import Unit, User, unit_ids_of
from proposals.models.proposals import STATE_LABELS, Proposal
from proposals.models.sessions import Proposer

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    pass


# --- Assignments ----------------------------------------------------------------------------


class AssignmentState(models.TextChoices):
    PENDING = "pending", _("待签收")
    ACCEPTED = "accepted", _("办理中")
    RETURN_REQUESTED = "return_requested", _("申请退回")
    WITHDRAWN = "withdrawn", _("已退回")
    REPLIED = "replied", _("已答复")
    OPINION_SENT = "opinion_sent", _("已会办")
    # The lead unit replied first (with the reason it went ahead recorded): the co-handling
    # unit's share ends, counted against its own opinion figures, never as the proposal late.
    CLOSED_WITHOUT_OPINION = "closed_without_opinion", _("未提供会办意见")


STATE_LABELS.update(AssignmentState.choices)

A = AssignmentState
#: verb -> (states it may start from, state it leads to).
ASSIGNMENT_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({A.PENDING}), A.ACCEPTED),
    "request_reassignment": (frozenset({A.PENDING, A.ACCEPTED}), A.RETURN_REQUESTED),
    "approve_reassignment": (frozenset({A.RETURN_REQUESTED}), A.WITHDRAWN),
    "refuse_reassignment": (frozenset({A.RETURN_REQUESTED}), A.ACCEPTED),
    "extend": (frozenset({A.PENDING, A.ACCEPTED, A.RETURN_REQUESTED}), ""),
    # A unit asks; the committee grants it as an extension (approve_extension) or refuses.
    "request_extension": (frozenset({A.PENDING, A.ACCEPTED}), ""),
    "approve_extension": (frozenset({A.PENDING, A.ACCEPTED, A.RETURN_REQUESTED}), ""),
    "refuse_extension": (frozenset({A.PENDING, A.ACCEPTED, A.RETURN_REQUESTED}), ""),
    "log_contact": (frozenset({A.ACCEPTED, A.REPLIED, A.OPINION_SENT}), ""),
    "mark_replied": (frozenset({A.ACCEPTED}), A.REPLIED),
    # An opinion already signed when the lead replied may still be delivered, late.
    "mark_opinion_sent": (frozenset({A.ACCEPTED, A.CLOSED_WITHOUT_OPINION}), A.OPINION_SENT),
    "close_without_opinion": (
        frozenset({A.PENDING, A.ACCEPTED, A.RETURN_REQUESTED}),
        A.CLOSED_WITHOUT_OPINION,
    ),
    "reopen": (frozenset({A.REPLIED}), A.ACCEPTED),
}
del A
#: States in which a unit still has work to do on an assignment.
OPEN_ASSIGNMENT_STATES = frozenset(
    {AssignmentState.PENDING, AssignmentState.ACCEPTED, AssignmentState.RETURN_REQUESTED}
)


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def active(self) -> AssignmentQuerySet:
        """Assignments that count: everything but those withdrawn after reassignment."""
        return self.exclude(state=AssignmentState.WITHDRAWN)

    def open(self) -> AssignmentQuerySet:
        return self.filter(state__in=OPEN_ASSIGNMENT_STATES)

    def visible_to(self, user: User) -> AssignmentQuerySet:
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_everything:
            return self
        # A withdrawn assignment is no longer the unit's (``involved_proposal_ids``).
        return self.active().filter(unit_id__in=unit_ids_of(user))


class Assignment(models.Model):
    """One unit's share of a proposal: lead 主办, co-handling 会办 or separate 分办."""

    class Role(models.TextChoices):
        LEAD = "lead", _("主办")
        CO = "co", _("会办")
        SEPARATE = "separate", _("分办")

    State = AssignmentState

    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("提案")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("承办单位")
    )
    role = models.CharField(_("办理方式"), max_length=10, choices=Role.choices)
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=1, editable=False)
    state = models.CharField(
        _("状态"),
        max_length=24,
        choices=AssignmentState.choices,
        default=AssignmentState.PENDING,
        editable=False,
        db_index=True,
    )
    assigned_on = models.DateField(_("交办日期"))
    assigned_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("交办人")
    )
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True, editable=False)
    return_reason = models.TextField(_("申请退回理由"), blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("交办")
        verbose_name_plural = _("交办")
        ordering = ["proposal", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal"],
                condition=Q(role="lead") & ~Q(state="withdrawn"),
                name="assignment_one_lead_per_proposal",
            ),
            models.UniqueConstraint(
                fields=["proposal", "unit"],
                condition=~Q(state="withdrawn"),
                name="assignment_unit_once_per_proposal",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.proposal.number or self.proposal_id} · {self.unit} · {self.get_role_display()}"
        )

    def due(self, clock: str) -> DueDate | None:
        for d in self.due_dates.all():
            if d.clock == clock and d.round == self.round:
                return d
        return None


class DueDate(models.Model):
    """A deadline of one assignment's clock, with the explanation of how it was computed."""

    class Clock(models.TextChoices):
        REASSIGNMENT = "reassignment", _("申请退回期限")
        FIRST_CONTACT = "first_contact", _("沟通见面期限")
        CO_OPINION = "co_opinion", _("会办意见期限")
        REPLY = "reply", _("答复期限")
        REHANDLING_REPLY = "rehandling_reply", _("重新办理答复期限")

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="due_dates", verbose_name=_("交办")
    )
    clock = models.CharField(_("时限"), max_length=20, choices=Clock.choices)
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=1)
    start_on = models.DateField(_("起算日期"))
    rule = models.CharField(_("规则"), max_length=20, help_text=_("例如 3,months"))
    due_on = models.DateField(_("到期日"), db_index=True)
    explanation = models.CharField(_("计算说明"), max_length=200)
    is_fixed = models.BooleanField(
        _("已延期固定"), default=False, help_text=_("经批准延期的到期日，不随日历调整重算。")
    )
    completed_on = models.DateField(_("完成日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("到期日")
        verbose_name_plural = _("到期日")
        ordering = ["due_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "clock", "round"], name="duedate_unique_clock_round"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_clock_display()} {self.due_on:%Y-%m-%d}"


class Extension(models.Model):
    """An approved extension 延期 of a reply deadline."""

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="extensions", verbose_name=_("交办")
    )
    old_due_on = models.DateField(_("原到期日"))
    new_due_on = models.DateField(_("延期至"))
    reason = models.TextField(_("延期理由"))
    approved_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("批准人")
    )
    approved_at = models.DateTimeField(_("批准时间"), default=timezone.now)

    class Meta:
        verbose_name = _("延期")
        verbose_name_plural = _("延期")
        ordering = ["-approved_at"]

    def __str__(self) -> str:
        return f"{self.old_due_on} → {self.new_due_on}"


class ExtensionRequest(models.Model):
    """A unit's request 申请延期 for a later reply date; the committee decides (docs/domain.md:
    "approves reassignment and extension"). At most one is pending per assignment."""

    class State(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已同意")
        REFUSED = "refused", _("不同意")

    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.CASCADE,
        related_name="extension_requests",
        verbose_name=_("交办"),
    )
    due_on_then = models.DateField(_("申请时到期日"))
    requested_due_on = models.DateField(_("申请延期至"))
    reason = models.TextField(_("申请理由"))
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("申请人")
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.TextField(_("审批意见"), blank=True)
    extension = models.OneToOneField(
        Extension,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="request",
        verbose_name=_("批准的延期"),
    )

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(state="pending"),
                name="extension_request_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.due_on_then} → {self.requested_due_on}（{self.get_state_display()}）"


class ContactRecordQuerySet(models.QuerySet["ContactRecord"]):
    def visible_to(self, user: User) -> ContactRecordQuerySet:
        """The contacts of the assignments ``user`` may see (a unit's own, or all for the
        committee and the supervision office)."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_everything:
            return self
        return self.filter(assignment__in=Assignment.objects.visible_to(user).values("pk"))


class ContactRecord(models.Model):
    """A contact 沟通 between a unit and the proposers of an assigned proposal."""

    class Method(models.TextChoices):
        MEETING = "meeting", _("见面")
        PHONE = "phone", _("电话")
        WRITTEN = "written", _("书面")
        OTHER = "other", _("其他")

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("交办")
    )
    contacted_on = models.DateField(_("沟通日期"))
    method = models.CharField(_("方式"), max_length=10, choices=Method.choices)
    proposers = models.ManyToManyField(
        Proposer, blank=True, related_name="+", verbose_name=_("沟通的提案者")
    )
    participants = models.CharField(_("参与人员"), max_length=200, blank=True)
    notes = models.TextField(_("内部记录"), blank=True)
    recorded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("记录人")
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ContactRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("沟通记录")
        verbose_name_plural = _("沟通记录")
        ordering = ["-contacted_on", "-id"]

    def __str__(self) -> str:
        return f"{self.contacted_on} {self.get_method_display()}"
