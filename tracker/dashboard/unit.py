"""The dashboard of a unit's clerk or signer: 我的待办 and the counts of the unit's
assignments by state."""

from __future__ import annotations

import datetime

from django.db.models import Count
from django.utils.translation import gettext as _

from proposals import permissions
from proposals.models import Assignment, AssignmentState, Membership, User
from proposals.selectors import DUE_SOON_WORKDAYS, filter_due, with_current_due
from replies.models import CoOpinion, Feedback, OpinionState, Reply, ReplyState
from tracker.dashboard.board import Dashboard
from tracker.dashboard.lines import (
    FEEDBACK_DAYS,
    SECTION_ROWS,
    Count_,
    Line,
    Section,
    _assignment_line,
    _days,
    _feedback_line,
    _first_rows,
    _letter_line,
    _section,
    _start_of,
    _url,
)


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
