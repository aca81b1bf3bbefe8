"""What is due and what is overdue: the one definition, for every page, figure and reminder.

Two levels, one rule:

- a **due date is running** (``running_due_dates``) while it belongs to its assignment's
  current round, is not met (``completed_on`` empty) and the assignment is open (待签收, 办理中,
  申请退回) — a replied, delivered, withdrawn or closed (未提供会办意见) assignment owes nothing;
- a running due date is **past due** the day after its date (``is_past_due`` says the same of
  one row already read);
- an **assignment is overdue** when its running reply clock (答复, 重新办理答复, or for a 会办
  unit its 会办意见) is past due (``overdue_exists`` / ``filter_due(…, "overdue", …)``).

The statistics, the dashboard, the admin's filter, the metrics, the reminder scan and the
proposer's pages all ask these functions; none restates the rule.
"""

from __future__ import annotations

import datetime

from django.db.models import Exists, F, OuterRef, QuerySet, Subquery

from proposals.models import OPEN_ASSIGNMENT_STATES, DueDate
from proposals.workdays import WorkCalendar

#: The clock whose date is "the" deadline of an assignment (its reply, or a co-unit's opinion).
REPLY_CLOCKS = (DueDate.Clock.REPLY, DueDate.Clock.REHANDLING_REPLY, DueDate.Clock.CO_OPINION)

#: How far ahead "due soon" looks, in working days (the dashboard's 即将到期).
DUE_SOON_WORKDAYS = 5


def running_due_dates() -> QuerySet:
    """Due dates still running: the current round's, not met, of an open assignment."""
    return DueDate.objects.filter(
        completed_on__isnull=True,
        round=F("assignment__round"),
        assignment__state__in=list(OPEN_ASSIGNMENT_STATES),
    )


def past_due(due_dates: QuerySet, today: datetime.date) -> QuerySet:
    """The running due dates of ``due_dates`` whose day has passed."""
    return due_dates.filter(due_on__lt=today)


def is_past_due(due_on: datetime.date, completed_on: datetime.date | None, today: datetime.date):
    """The same rule for one due date already read (its assignment known to be open)."""
    return completed_on is None and due_on < today


def _running_reply_due() -> QuerySet:
    return running_due_dates().filter(assignment=OuterRef("pk"), clock__in=REPLY_CLOCKS)


def overdue_exists(today: datetime.date) -> Exists:
    """An expression, true for an assignment whose running reply (or opinion) clock is past
    due: filter or annotate an assignment queryset with it."""
    return Exists(past_due(_running_reply_due(), today))


def with_current_due(queryset: QuerySet) -> QuerySet:
    """Annotate each assignment with its current round's reply (or opinion) due date:
    ``reply_due_on`` and, once met, ``reply_done_on`` (for display; filtering is
    ``filter_due``'s)."""
    due = DueDate.objects.filter(
        assignment=OuterRef("pk"), round=OuterRef("round"), clock__in=REPLY_CLOCKS
    ).order_by("due_on")
    return queryset.annotate(
        reply_due_on=Subquery(due.values("due_on")[:1]),
        reply_done_on=Subquery(due.values("completed_on")[:1]),
    )


def due_soon_limit(today: datetime.date) -> datetime.date:
    return WorkCalendar().add_workdays(today, DUE_SOON_WORKDAYS)


def filter_due(queryset: QuerySet, which: str, today: datetime.date) -> QuerySet:
    """Assignments by their running reply clock: ``overdue`` past it, ``soon`` due within
    ``DUE_SOON_WORKDAYS`` working days, ``open`` every open assignment; anything else: all."""
    if which == "overdue":
        return queryset.filter(overdue_exists(today))
    if which == "soon":
        window = _running_reply_due().filter(due_on__gte=today, due_on__lte=due_soon_limit(today))
        return queryset.filter(Exists(window))
    if which == "open":
        return queryset.filter(state__in=list(OPEN_ASSIGNMENT_STATES))
    return queryset


#: How one due date stands, for the tables that show it (``due_standing``).
DONE, DONE_LATE, ENDED, WINDOW_CLOSED, OVERDUE, DUE_TODAY, RUNNING = (
    "done",
    "done_late",
    "ended",
    "window_closed",
    "overdue",
    "today",
    "running",
)


def due_standing(due: DueDate, today: datetime.date) -> str:
    """Where one due date stands: met (on time or late); ended unmet because its assignment no
    longer owes it (replied, withdrawn, closed without opinion, an earlier round); an optional
    window (申请退回) passed after the unit accepted — closed, not overdue; else past due, due
    today or running. ``due.assignment`` is read (prefetch it)."""
    if due.completed_on is not None:
        return DONE_LATE if due.completed_on > due.due_on else DONE
    assignment = due.assignment
    if assignment.state not in OPEN_ASSIGNMENT_STATES or due.round != assignment.round:
        return ENDED
    if due.due_on < today:
        optional = due.clock == DueDate.Clock.REASSIGNMENT
        return WINDOW_CLOSED if optional and assignment.state != "pending" else OVERDUE
    return DUE_TODAY if due.due_on == today else RUNNING
