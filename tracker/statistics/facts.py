"""The rows the figures are counted from: a handful of set-based queries (one per kind of
record, never one per row), so the same counting serves every grouping and level.

- ``assignment_facts``: one row per active assignment in scope, with its first-round due date
  (the reply's, or for 会办 the opinion's) and when it was met, whether it is overdue (the one
  rule, ``proposals.selectors.overdue_exists``), whether a unit met the proposers, its round;
- ``latest_replies``: each assignment's latest sent reply (result class, state);
- ``feedback_facts``: every proposer's answers, with the round of the reply they answer;
- ``filed_facts``: the filed proposals (立案), with their status (并案, 待交办).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, F, FilteredRelation, OuterRef, Q, QuerySet

from proposals.models import Assignment, ContactRecord, DueDate, Proposal
from proposals.selectors import overdue_exists
from replies.models import Feedback, Reply, ReplyState


def assignments_in_scope(
    *,
    session_id: int | None,
    unit_id: int | None,
    category: str | None,
    date_from: datetime.date | None,
    date_to: datetime.date | None,
) -> QuerySet:
    """The active assignments in scope, unordered (the counting does not depend on order)."""
    qs = Assignment.objects.active().order_by()
    if session_id:
        qs = qs.filter(proposal__session_id=session_id)
    if category:
        qs = qs.filter(proposal__category=category)
    if date_from:
        qs = qs.filter(assigned_on__gte=date_from)
    if date_to:
        qs = qs.filter(assigned_on__lte=date_to)
    if unit_id:
        qs = qs.filter(unit_id=unit_id)
    return qs


def assignment_facts(qs: QuerySet, today: datetime.date) -> list[dict[str, Any]]:
    """One row per assignment of ``qs``, with every flag the figures need.

    Each row's latest sent reply comes from a second query (``latest_replies``), merged here:
    two subqueries per row for it made the statement expensive enough at a district's scale for
    PostgreSQL to compile it (JIT), which cost more than the query itself."""
    # The first-round due date of the assignment's duty — the reply (主办, 分办) or the opinion
    # (会办), never both — is unique per assignment (duedate_unique_clock_round): one LEFT JOIN
    # rather than a subquery per row for each of its two dates.
    first_due = FilteredRelation(
        "due_dates",
        condition=Q(
            due_dates__clock__in=[DueDate.Clock.REPLY, DueDate.Clock.CO_OPINION],
            due_dates__round=1,
        ),
    )
    met = ContactRecord.objects.filter(
        assignment=OuterRef("pk"), method=ContactRecord.Method.MEETING
    )
    rows = list(
        qs.annotate(
            first_due=first_due,
            due_on=F("first_due__due_on"),
            done_on=F("first_due__completed_on"),
            overdue=overdue_exists(today),
            met=Exists(met),
        ).values(
            "pk",
            "proposal_id",
            "unit_id",
            "unit__name",
            "unit__short_name",
            "role",
            "state",
            "round",
            "assigned_on",
            "due_on",
            "done_on",
            "overdue",
            "met",
            "proposal__session_id",
            "proposal__category",
            "proposal__serial",
        )
    )
    latest = latest_replies(qs) if rows else {}
    for row in rows:
        row["result"], row["reply_state"] = latest.get(row["pk"], (None, None))
    return rows


def latest_replies(assignments: QuerySet) -> dict[int, tuple[str, str]]:
    """The result class and state of each assignment's latest sent (or published) reply."""
    rows = (
        Reply.objects.filter(
            assignment_id__in=assignments.values("pk"),
            state__in=[ReplyState.SENT, ReplyState.PUBLISHED],
        )
        .order_by("assignment_id", F("sent_at").desc(nulls_last=True), "-pk")
        .values_list("assignment_id", "result_class", "state")
    )
    latest: dict[int, tuple[str, str]] = {}
    for assignment_id, result, state in rows:
        latest.setdefault(assignment_id, (result, state))
    return latest


@dataclass
class Answers:
    """The ratings counted for one assignment: each proposer's answer to the first round
    (``first``) and each proposer's latest answer of any round (``final``)."""

    first: list[str] = field(default_factory=list)
    final: list[str] = field(default_factory=list)


def feedback_facts(assignments: QuerySet) -> dict[int, Answers]:
    """Every answer of every round, read once and chosen by round, by assignment.

    A Feedback row is kept per reply and proposer, dated (``received_at``); its round is the
    round of the reply it answers (``Reply.round``, the assignment's round when the reply was
    started: a re-handling reply is round 2). A proposer's first-round answer is their latest
    answer to a round-1 reply (a corrected reply may be answered again), their final answer
    their latest of all. ``assignments`` is a queryset, read as a subquery: a list of ids would
    make a statement of tens of thousands of parameters at a district's scale."""
    rows = (
        Feedback.objects.filter(reply__assignment_id__in=assignments.values("pk"))
        .order_by("reply__assignment_id", "proposer_id", "-received_at", "-pk")
        .values_list("reply__assignment_id", "proposer_id", "reply__round", "rating")
    )
    first: dict[tuple[int, int], str] = {}
    final: dict[tuple[int, int], str] = {}
    for assignment_id, proposer_id, round_, rating in rows:
        final.setdefault((assignment_id, proposer_id), rating)
        if round_ == 1:
            first.setdefault((assignment_id, proposer_id), rating)
    by_assignment: dict[int, Answers] = {}
    for (assignment_id, _proposer), rating in first.items():
        by_assignment.setdefault(assignment_id, Answers()).first.append(rating)
    for (assignment_id, _proposer), rating in final.items():
        by_assignment.setdefault(assignment_id, Answers()).final.append(rating)
    return by_assignment


def filed_facts(
    *,
    session_id: int | None,
    category: str | None,
    date_from: datetime.date | None,
    date_to: datetime.date | None,
) -> list[dict[str, Any]]:
    """The filed proposals in scope (a number given), by the date of filing."""
    qs = Proposal.objects.filter(serial__isnull=False).order_by()
    if session_id:
        qs = qs.filter(session_id=session_id)
    if category:
        qs = qs.filter(category=category)
    if date_from:
        qs = qs.filter(Q(filed_at__isnull=True) | Q(filed_at__date__gte=date_from))
    if date_to:
        qs = qs.filter(Q(filed_at__isnull=True) | Q(filed_at__date__lte=date_to))
    return list(qs.values("pk", "session_id", "category", "filed_at", "status"))
