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
from typing import Any

from django.db.models import Count, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from proposals.admin import DUE_SOON_WORKDAYS, filter_due, with_current_due
from proposals.models import (
    Assignment,
    AssignmentState,
    ExtensionRequest,
    Membership,
    Proposal,
    ProposalStatus,
    Unit,
    User,
)
from proposals.models import today as _today
from replies.models import CoOpinion, Feedback, OpinionState, Reply, ReplyState
from tracker import statistics

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

    @property
    def todo_total(self) -> int:
        return sum(s.count for s in self.sections)


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
    signer_units = {m.unit_id for m in memberships if m.role == Membership.Role.SIGNER}
    board = Dashboard(
        role="unit", today=today, unit_names=sorted({str(m.unit) for m in memberships})
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
    board = Dashboard(role="committee" if user.is_committee else "supervisor", today=today)
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
