"""The admin's index, 工作台: what the signed-in user has to do, and where things stand.

A unit's clerk or signer sees 我的待办 — assignments to accept, due within five working days,
overdue (red), letters awaiting their signature, co-handling opinions awaiting, feedback
received — and the counts of the unit's assignments by state. The committee (and the
supervision office, which only looks) sees the proposals to file, the reassignment requests, the
counts by status and the overdue assignments per unit. Every line links to its object or to the
filtered list; every query is read through the models' ``visible_to``, so the dashboard never
counts what the lists would not show.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import Count, Q, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals import permissions
from proposals.models import (
    Assignment,
    AssignmentState,
    ExtensionRequest,
    Membership,
    OutboxMessage,
    Proposal,
    ProposalStatus,
    Unit,
    User,
    unit_ids_of,
)
from proposals.models import today as _today
from proposals.outbox import OUTBOX_ALERT_ATTEMPTS
from proposals.selectors import DUE_SOON_WORKDAYS, filter_due, with_current_due
from replies.models import CoOpinion, Feedback, OpinionState, Reply, ReplyState
from replies.workflow import RENDER_GRACE
from tracker import statistics
from tracker.models import Digest, EventNotice, Outgoing

#: How many lines a section lists before it links to the full list.
SECTION_ROWS = 8
#: Feedback this recent counts as "received" on the dashboard.
FEEDBACK_DAYS = 30


@dataclass
class Line:
    """One line of a section: what it is, where it links, and how it should stand out."""

    text: str
    url: str
    detail: str = ""
    tone: str = ""  # "" | "danger" | "warn" | "ok"
    #: A verb the line offers (重新生成签发件): its confirmation page, and the button's label.
    action_url: str = ""
    action_label: str = ""


@dataclass
class Section:
    key: str
    title: str
    count: int
    lines: list[Line] = field(default_factory=list)
    more_url: str = ""
    tone: str = ""
    empty: str = ""


@dataclass
class Count_:
    label: str
    count: int
    url: str
    tone: str = ""


@dataclass
class Dashboard:
    role: str  # "unit" | "committee" | "supervisor" | "none"
    today: datetime.date
    sections: list[Section] = field(default_factory=list)
    counts: list[Count_] = field(default_factory=list)
    counts_title: str = ""
    unit_overdue: list[Count_] = field(default_factory=list)
    unit_names: list[str] = field(default_factory=list)
    user: User | None = field(default=None, repr=False, compare=False)

    @property
    def todo_total(self) -> int:
        return sum(s.count for s in self.sections)

    @cached_property
    def faults(self) -> list[Section]:
        """What went wrong in the background and needs a person, read when the page shows it
        (``faults``): the unit's and the committee's letters whose PDF failed or is late, and
        for the committee the e-mails that failed and the tasks waiting in the outbox. Only
        the sections that hold something."""
        if self.user is None or self.role not in ("unit", "committee"):
            return []
        return [s for s in faults(self.user, committee=self.role == "committee") if s.count]

    @cached_property
    def service_warnings(self) -> list[str]:
        """Redis or the broker unreachable from this process, as this process last saw it."""
        if self.role != "committee":
            return []
        from proposals import outbox
        from tracker import cache

        warnings = []
        if cache.degraded():
            warnings.append(
                _(
                    "缓存服务（Redis）暂时无法连接：本进程改用内存缓存，接口限流按进程计算，后台任务进度暂不可见。"
                )
            )
        if outbox.broker_down():
            warnings.append(
                _("消息队列（Redis）暂时无法连接：新的后台任务暂存在数据库中，恢复后自动投递。")
            )
        return warnings


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _url(name: str, *args: Any, query: dict[str, Any] | None = None) -> str:
    url = reverse(f"admin:{name}", args=args)
    return f"{url}?{urlencode(query)}" if query else url


def _days(due: datetime.date | None, today: datetime.date) -> tuple[str, str]:
    if due is None:
        return "", ""
    days = (due - today).days
    if days < 0:
        return _("逾期 %(n)d 天（%(d)s）") % {"n": -days, "d": f"{due:%Y-%m-%d}"}, "danger"
    if days == 0:
        return _("今天到期"), "warn"
    return _("%(d)s 到期，剩 %(n)d 天") % {"d": f"{due:%Y-%m-%d}", "n": days}, "warn"


def _assignment_line(a: Assignment, today: datetime.date, *, tone: str = "") -> Line:
    detail, due_tone = _days(getattr(a, "reply_due_on", None), today)
    return Line(
        text=f"{a.proposal.number or '-'} {a.proposal.title}",
        url=_url("proposals_assignment_change", a.pk),
        detail=f"{a.unit} · {a.get_role_display()} · {detail}".rstrip(" ·"),
        tone=tone or due_tone,
    )


def _first_rows(queryset, limit: int = SECTION_ROWS) -> tuple[list, int]:
    """The first ``limit`` rows of ``queryset`` and how many there are, in one query: the count
    rides on the rows as a window (``COUNT(*) OVER ()``, taken before the LIMIT). One query
    per section, whatever the numbers."""
    rows = list(queryset.annotate(_section_total=Window(Count("pk")))[:limit])
    return rows, (rows[0]._section_total if rows else 0)


def _section(
    key: str,
    title: str,
    queryset,
    make_line,
    *,
    more_url: str,
    tone: str = "",
    empty: str = "",
) -> Section:
    rows, count = _first_rows(queryset)
    return Section(
        key=key,
        title=title,
        count=count,
        lines=[make_line(r) for r in rows],
        more_url=more_url if count > SECTION_ROWS else "",
        tone=tone if count else "",
        empty=empty,
    )


def build(user: User, *, today: datetime.date | None = None) -> Dashboard:
    today = today or _today()
    if not (user.is_authenticated and user.is_active):
        return Dashboard(role="none", today=today)
    if user.sees_everything:
        return _offices(user, today)
    memberships = list(Membership.objects.filter(user=user).select_related("unit"))
    if memberships:
        return _unit(user, today, memberships)
    return Dashboard(role="none", today=today)


# --- A unit's clerk or signer ---------------------------------------------------------------


def _unit(user: User, today: datetime.date, memberships: list[Membership]) -> Dashboard:
    unit_ids = {m.unit_id for m in memberships}
    signer_units = permissions.signer_unit_ids(user, memberships)
    board = Dashboard(
        role="unit",
        today=today,
        unit_names=sorted({str(m.unit) for m in memberships}),
        user=user,
    )
    mine = with_current_due(
        Assignment.objects.visible_to(user).select_related("proposal", "unit")
    ).order_by("reply_due_on", "pk")

    def line(a: Assignment) -> Line:
        return _assignment_line(a, today)

    board.sections.append(
        _section(
            "overdue",
            _("已逾期"),
            filter_due(mine, "overdue", today),
            line,
            more_url=_url("proposals_assignment_changelist", query={"due": "overdue"}),
            tone="danger",
            empty=_("没有逾期的交办件。"),
        )
    )
    board.sections.append(
        _section(
            "to_accept",
            _("待签收"),
            mine.filter(state=AssignmentState.PENDING),
            line,
            more_url=_url("proposals_assignment_changelist", query={"state__exact": "pending"}),
            tone="warn",
            empty=_("没有待签收的交办件。"),
        )
    )
    board.sections.append(
        _section(
            "due_soon",
            _("%(n)d个工作日内到期") % {"n": DUE_SOON_WORKDAYS},
            filter_due(mine, "soon", today),
            line,
            more_url=_url("proposals_assignment_changelist", query={"due": "soon"}),
            tone="warn",
            empty=_("近期没有到期的交办件。"),
        )
    )
    if signer_units:
        pending = (
            Reply.objects.visible_to(user)
            .filter(state=ReplyState.PENDING_SIGNATURE, unit_id__in=signer_units)
            .select_related("proposal", "unit")
            .order_by("updated_at")
        )
        opinions = (
            CoOpinion.objects.visible_to(user)
            .filter(state=OpinionState.PENDING_SIGNATURE, unit_id__in=signer_units)
            .select_related("proposal", "unit")
            .order_by("updated_at")
        )
        pending_rows, pending_count = _first_rows(pending)
        opinion_rows, opinion_count = _first_rows(opinions)
        letters = [*pending_rows, *opinion_rows]
        board.sections.append(
            Section(
                key="to_sign",
                title=_("待我签发"),
                count=pending_count + opinion_count,
                lines=[_letter_line(x) for x in letters[:SECTION_ROWS]],
                more_url=_url(
                    "replies_reply_changelist", query={"state__exact": "pending_signature"}
                ),
                tone="warn",
                empty=_("没有待签发的答复或会办意见。"),
            )
        )
    drafts = (
        Reply.objects.visible_to(user)
        .filter(state=ReplyState.DRAFT, unit_id__in=unit_ids)
        .select_related("proposal", "unit")
        .order_by("-updated_at")
    )
    board.sections.append(
        _section(
            "drafts",
            _("草稿（待提交签发）"),
            drafts,
            _letter_line,
            more_url=_url("replies_reply_changelist", query={"state__exact": "draft"}),
            empty=_("没有草稿。"),
        )
    )
    board.sections.append(_opinions_awaiting(user, unit_ids, today))
    since = _start_of(today - datetime.timedelta(days=FEEDBACK_DAYS))
    feedback = (
        Feedback.objects.visible_to(user)
        .filter(reply__unit_id__in=unit_ids, received_at__gte=since)
        .select_related("proposal", "proposer", "reply")
        .order_by("-received_at")
    )
    board.sections.append(
        _section(
            "feedback",
            _("收到的征询意见（近%(n)d天）") % {"n": FEEDBACK_DAYS},
            feedback,
            _feedback_line,
            more_url=_url("replies_feedback_changelist"),
            empty=_("近期没有收到征询意见。"),
        )
    )
    board.counts_title = _("本单位交办件")
    by_state = dict(
        Assignment.objects.filter(unit_id__in=unit_ids)
        .order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
    )
    for value, label in AssignmentState.choices:
        board.counts.append(
            Count_(
                label=str(label),
                count=by_state.get(value, 0),
                url=_url("proposals_assignment_changelist", query={"state__exact": value}),
                tone="warn" if value == AssignmentState.PENDING and by_state.get(value) else "",
            )
        )
    return board


def _letter_line(letter: Reply | CoOpinion) -> Line:
    is_reply = isinstance(letter, Reply)
    name = "replies_reply_change" if is_reply else "replies_coopinion_change"
    kind = letter.get_kind_display() if is_reply else _("会办意见")
    note = ""
    if letter.return_comment:
        note = _("（签发人退回：%(c)s）") % {"c": letter.return_comment}
    return Line(
        text=f"{letter.proposal.number or '-'} {letter.title}",
        url=_url(name, letter.pk),
        detail=f"{letter.unit} · {kind} · {letter.get_state_display()}{note}",
        tone="warn" if note else "",
    )


def _feedback_line(fb: Feedback) -> Line:
    bad = fb.rating == Feedback.Rating.NOT_SATISFIED
    return Line(
        text=f"{fb.proposal.number or '-'} {fb.proposer}：{fb.get_rating_display()}",
        url=_url("replies_reply_change", fb.reply_id),
        detail=f"{timezone.localtime(fb.received_at):%Y-%m-%d} · {fb.comment[:40]}".rstrip(" ·"),
        tone="danger" if bad else "ok",
    )


def _opinions_awaiting(user: User, unit_ids: set[int], today: datetime.date) -> Section:
    """Co-handling opinions: those the user's unit owes (as 会办), and those its lead
    assignments still wait for from other units."""
    owed = (
        with_current_due(
            Assignment.objects.visible_to(user).filter(
                role=Assignment.Role.CO,
                state__in=[AssignmentState.PENDING, AssignmentState.ACCEPTED],
            )
        )
        .select_related("proposal", "unit")
        .order_by("reply_due_on", "pk")
    )
    leading = Assignment.objects.active().filter(
        unit_id__in=unit_ids,
        role__in=[Assignment.Role.LEAD],
        state__in=[AssignmentState.PENDING, AssignmentState.ACCEPTED],
    )
    awaited = (
        with_current_due(
            Assignment.objects.filter(
                proposal_id__in=leading.values("proposal_id"),
                role=Assignment.Role.CO,
                state__in=[AssignmentState.PENDING, AssignmentState.ACCEPTED],
            )
        )
        .select_related("proposal", "unit")
        .order_by("reply_due_on", "pk")
    )
    owed_rows, owed_count = _first_rows(owed)
    awaited_rows, awaited_count = _first_rows(awaited)
    lines = [
        Line(
            text=f"{a.proposal.number or '-'} {a.proposal.title}",
            url=_url("proposals_assignment_change", a.pk),
            detail=_("本单位会办，待出具 · %(due)s") % {"due": _days(a.reply_due_on, today)[0]},
            tone=_days(a.reply_due_on, today)[1],
        )
        for a in owed_rows
    ]
    lead_of = dict(leading.values_list("proposal_id", "pk"))
    lines += [
        Line(
            text=f"{a.proposal.number or '-'} {a.proposal.title}",
            url=_url("proposals_assignment_change", lead_of.get(a.proposal_id, a.pk)),
            detail=_("待 %(unit)s 送来会办意见 · %(due)s")
            % {"unit": a.unit, "due": _days(a.reply_due_on, today)[0]},
            tone="danger" if a.reply_due_on and a.reply_due_on < today else "",
        )
        for a in awaited_rows
    ]
    count = owed_count + awaited_count
    return Section(
        key="opinions",
        title=_("会办意见"),
        count=count,
        lines=lines[:SECTION_ROWS],
        more_url=_url("replies_coopinion_changelist") if count > SECTION_ROWS else "",
        empty=_("没有等待中的会办意见。"),
    )


# --- The committee and the supervision office -----------------------------------------------


def _offices(user: User, today: datetime.date) -> Dashboard:
    board = Dashboard(
        role="committee" if user.is_committee else "supervisor", today=today, user=user
    )
    submitted = (
        Proposal.objects.filter(status=ProposalStatus.SUBMITTED)
        .select_related("lead_proposer", "session")
        .order_by("submitted_at", "pk")
    )
    board.sections.append(
        _section(
            "to_file",
            _("待审查立案"),
            submitted,
            lambda p: Line(
                text=p.title,
                url=_url("proposals_proposal_change", p.pk),
                detail=f"{p.session} · {p.lead_proposer}",
            ),
            more_url=_url("proposals_proposal_changelist", query={"status__exact": "submitted"}),
            tone="warn",
            empty=_("没有待审查的提案。"),
        )
    )
    to_assign = (
        Proposal.objects.filter(status=ProposalStatus.FILED)
        .select_related("session")
        .order_by("session", "serial")
    )
    board.sections.append(
        _section(
            "to_assign",
            _("已立案待交办"),
            to_assign,
            lambda p: Line(
                text=f"{p.number} {p.title}",
                url=_url("proposals_proposal_change", p.pk),
                detail=str(p.session),
            ),
            more_url=_url("proposals_proposal_changelist", query={"status__exact": "filed"}),
            empty=_("没有待交办的提案。"),
        )
    )
    requests = with_current_due(
        Assignment.objects.filter(state=AssignmentState.RETURN_REQUESTED).select_related(
            "proposal", "unit"
        )
    ).order_by("pk")
    board.sections.append(
        _section(
            "reassignment",
            _("申请退回待审批"),
            requests,
            lambda a: Line(
                text=f"{a.proposal.number or '-'} {a.proposal.title}",
                url=_url("proposals_assignment_change", a.pk),
                detail=f"{a.unit} · {a.return_reason[:40]}",
                tone="warn",
            ),
            more_url=_url(
                "proposals_assignment_changelist", query={"state__exact": "return_requested"}
            ),
            tone="warn",
            empty=_("没有待审批的申请。"),
        )
    )
    extension_requests = ExtensionRequest.objects.filter(
        state=ExtensionRequest.State.PENDING
    ).select_related("assignment__proposal", "assignment__unit")
    board.sections.append(
        _section(
            "extension",
            _("申请延期待审批"),
            extension_requests.order_by("requested_at", "pk"),
            lambda r: Line(
                text=f"{r.assignment.proposal.number or '-'} {r.assignment.proposal.title}",
                url=_url("proposals_assignment_change", r.assignment_id),
                detail=_("%(unit)s · %(old)s → %(new)s · %(reason)s")
                % {
                    "unit": r.assignment.unit,
                    "old": f"{r.due_on_then:%Y-%m-%d}",
                    "new": f"{r.requested_due_on:%Y-%m-%d}",
                    "reason": r.reason[:40],
                },
                tone="warn",
            ),
            more_url=_url("proposals_assignment_changelist", query={"extension": "pending"}),
            tone="warn",
            empty=_("没有待审批的延期申请。"),
        )
    )
    everything = with_current_due(Assignment.objects.select_related("proposal", "unit")).order_by(
        "reply_due_on", "pk"
    )
    board.sections.append(
        _section(
            "overdue",
            _("已逾期"),
            filter_due(everything, "overdue", today),
            lambda a: _assignment_line(a, today),
            more_url=_url("proposals_assignment_changelist", query={"due": "overdue"}),
            tone="danger",
            empty=_("没有逾期的交办件。"),
        )
    )
    since = _start_of(today - datetime.timedelta(days=FEEDBACK_DAYS))
    unhappy = (
        Feedback.objects.filter(rating=Feedback.Rating.NOT_SATISFIED, received_at__gte=since)
        .select_related("proposal", "proposer", "reply")
        .order_by("-received_at")
    )
    board.sections.append(
        _section(
            "feedback",
            _("不满意反馈（近%(n)d天）") % {"n": FEEDBACK_DAYS},
            unhappy,
            _feedback_line,
            more_url=_url("replies_feedback_changelist", query={"rating__exact": "not_satisfied"}),
            tone="danger",
            empty=_("近期没有不满意反馈。"),
        )
    )
    board.counts_title = _("提案状态")
    by_status = dict(Proposal.objects.order_by().values_list("status").annotate(n=Count("pk")))
    for value, label in ProposalStatus.choices:
        board.counts.append(
            Count_(
                label=str(label),
                count=by_status.get(value, 0),
                url=_url("proposals_proposal_changelist", query={"status__exact": value}),
            )
        )
    overdue = statistics.overdue_by_unit(today=today)
    units = {u.pk: u for u in Unit.objects.filter(pk__in=overdue)}
    for unit_id, n in sorted(overdue.items(), key=lambda kv: (-kv[1], str(units.get(kv[0])))):
        board.unit_overdue.append(
            Count_(
                label=str(units.get(unit_id, unit_id)),
                count=n,
                url=_url(
                    "proposals_assignment_changelist",
                    query={"due": "overdue", "unit__id__exact": unit_id},
                ),
                tone="danger",
            )
        )
    return board


# --- Faults: what went wrong in the background ----------------------------------------------

#: What the outbox's task names mean to a person.
TASK_LABELS = {
    "replies.tasks.render_signed_pdf": gettext_lazy("生成签发件"),
    "tracker.tasks.send_event_notice": gettext_lazy("发送事件通知"),
    "tracker.tasks.send_digest": gettext_lazy("发送提醒邮件"),
}


def faults(user: User, *, committee: bool, now: datetime.datetime | None = None) -> list[Section]:
    """The fault sections of a unit's member (their units' letters) or of the committee (every
    letter, the failed e-mails, the outbox). Each list is one query, whatever the numbers."""
    now = now or timezone.now()
    sections = [_pdf_faults(user, committee=committee, now=now)]
    if committee:
        sections += [_mail_faults(), _outbox_faults()]
    return sections


def _pdf_faults(user: User, *, committee: bool, now: datetime.datetime) -> Section:
    """Signed letters without their PDF: 生成失败 (danger), or late past ``RENDER_GRACE``."""
    missing = Q(signed_at__isnull=False, pdf_sha256="") & (
        Q(pdf_failed_at__isnull=False) | Q(signed_at__lt=now - RENDER_GRACE)
    )
    rows: list[Reply | CoOpinion] = []
    count = 0
    for model in (Reply, CoOpinion):
        qs = model.objects.visible_to(user).filter(missing)
        if not committee:
            qs = qs.filter(unit_id__in=unit_ids_of(user))
        found, n = _first_rows(
            qs.select_related("proposal", "unit").order_by("pdf_failed_at", "signed_at", "pk")
        )
        rows += found
        count += n
    rows.sort(key=lambda x: (x.pdf_failed_at is None, x.signed_at))
    lines = [_pdf_line(letter, now) for letter in rows[:SECTION_ROWS]]
    return Section(
        key="pdf_failed",
        title=_("签发件未能生成"),
        count=count,
        lines=lines,
        more_url=_url("replies_reply_changelist", query={"pdf": "missing"})
        if count > SECTION_ROWS
        else "",
        tone="danger",
        empty=_("没有生成失败的签发件。"),
    )


def _pdf_line(letter: Reply | CoOpinion, now: datetime.datetime) -> Line:
    is_reply = isinstance(letter, Reply)
    name = "replies_reply" if is_reply else "replies_coopinion"
    signed = timezone.localtime(letter.signed_at)
    if letter.pdf_failed_at is not None:
        detail = _("生成失败（%(n)d次）：%(reason)s") % {
            "n": letter.pdf_attempts,
            "reason": letter.pdf_error,
        }
        tone = "danger"
    else:
        minutes = int((now - letter.signed_at).total_seconds() // 60)
        detail = _("签发 %(m)d 分钟后仍未生成（后台任务可能未运行）") % {"m": minutes}
        tone = "warn"
    return Line(
        text=f"{letter.doc_number or letter.title} {letter.title}",
        url=_url(f"{name}_change", letter.pk),
        detail=f"{letter.unit} · {signed:%Y-%m-%d %H:%M}签发 · {detail}",
        tone=tone,
        action_url=_url(f"{name}_verb", letter.pk, "rerender"),
        action_label=_("重新生成签发件"),
    )


def _mail_faults() -> Section:
    """E-mails the ledger gave up on (发送失败): the committee puts them back in the queue."""
    rows: list[Outgoing] = []
    count = 0
    for model in (EventNotice, Digest):
        found, n = _first_rows(
            model.objects.filter(state=Outgoing.State.FAILED).order_by("-created_at", "-pk")
        )
        rows += found
        count += n
    rows.sort(key=lambda r: r.created_at, reverse=True)

    def line(row: Outgoing) -> Line:
        name = "tracker_eventnotice" if isinstance(row, EventNotice) else "tracker_digest"
        what = row.get_event_display() if isinstance(row, EventNotice) else _("提醒邮件")
        return Line(
            text=f"{what} → {row.email}",
            url=_url(f"{name}_change", row.pk),
            detail=_("%(at)s · 尝试%(n)d次 · %(error)s")
            % {
                "at": f"{timezone.localtime(row.created_at):%Y-%m-%d %H:%M}",
                "n": row.attempts,
                "error": row.last_error[:80],
            },
            tone="danger",
        )

    return Section(
        key="mail_failed",
        title=_("邮件发送失败"),
        count=count,
        lines=[line(r) for r in rows[:SECTION_ROWS]],
        more_url=_url("tracker_eventnotice_changelist", query={"state__exact": "failed"})
        if count
        else "",
        tone="danger",
        empty=_("没有发送失败的邮件。"),
    )


def _outbox_faults() -> Section:
    """Tasks kept in the outbox while the broker was unreachable; those that failed
    ``OUTBOX_ALERT_ATTEMPTS`` times or more are undeliverable so far (danger)."""
    rows, count = _first_rows(OutboxMessage.objects.order_by("-attempts", "created_at", "pk"))
    index = reverse("admin:index")

    def line(row: OutboxMessage) -> Line:
        url = f"{index}#fault-outbox"
        args = list(row.args)
        if row.task == "replies.tasks.render_signed_pdf" and len(args) == 2:
            kind, pk = args
            url = _url(
                "replies_reply_change" if kind == "reply" else "replies_coopinion_change", pk
            )
        elif row.task == "tracker.tasks.send_event_notice" and args:
            url = _url("tracker_eventnotice_change", args[0])
        elif row.task == "tracker.tasks.send_digest" and args:
            url = _url("tracker_digest_change", args[0])
        stuck = row.attempts >= OUTBOX_ALERT_ATTEMPTS
        return Line(
            text=f"{TASK_LABELS.get(row.task, row.task)} {', '.join(map(str, args))}",
            url=url,
            detail=_("%(at)s起待投递 · 尝试%(n)d次 · %(error)s")
            % {
                "at": f"{timezone.localtime(row.created_at):%Y-%m-%d %H:%M}",
                "n": row.attempts,
                "error": row.last_error[:80],
            },
            tone="danger" if stuck else "warn",
        )

    return Section(
        key="outbox",
        title=_("待投递的后台任务（消息队列曾不可用）"),
        count=count,
        lines=[line(r) for r in rows],
        tone="danger" if any(r.attempts >= OUTBOX_ALERT_ATTEMPTS for r in rows) else "warn",
        empty=_("没有待投递的后台任务。"),
    )
