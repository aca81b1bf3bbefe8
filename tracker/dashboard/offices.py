"""The dashboard of the committee and the supervision office: what waits for filing,
assigning and approval, the counts by status and the overdue assignments per unit."""

from __future__ import annotations

import datetime

from django.db.models import Count
from django.utils.translation import gettext as _

from proposals.models import (
    Assignment,
    AssignmentState,
    ExtensionRequest,
    Proposal,
    ProposalStatus,
    Unit,
    User,
)
from proposals.selectors import filter_due, with_current_due
from replies.models import Feedback
from tracker import statistics
from tracker.dashboard.board import Dashboard
from tracker.dashboard.lines import (
    FEEDBACK_DAYS,
    Count_,
    Line,
    _assignment_line,
    _feedback_line,
    _section,
    _start_of,
    _url,
)


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
