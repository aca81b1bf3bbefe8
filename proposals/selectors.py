"""Due-date queries on assignments, for every page that lists what is due or overdue.

They live in the base app, beside the models they read, so the admin's filter and the
dashboard (``tracker.dashboard``) ask the same functions without the dashboard importing an
admin module.
"""

from __future__ import annotations

import datetime

from django.db.models import OuterRef, QuerySet, Subquery

from proposals.models import OPEN_ASSIGNMENT_STATES, DueDate
from proposals.workdays import WorkCalendar

#: The clock whose date is "the" deadline of an assignment (its reply, or a co-unit's opinion).
REPLY_CLOCKS = (DueDate.Clock.REPLY, DueDate.Clock.REHANDLING_REPLY, DueDate.Clock.CO_OPINION)

#: How far ahead "due soon" looks, in working days (the dashboard's 即将到期).
DUE_SOON_WORKDAYS = 5


def with_current_due(queryset: QuerySet) -> QuerySet:
    """Annotate each assignment with its current round's reply (or opinion) due date:
    ``reply_due_on`` and, once met, ``reply_done_on``."""
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
    """Open assignments by their current due date (on a ``with_current_due`` queryset):
    ``overdue`` past it, ``soon`` within ``DUE_SOON_WORKDAYS`` working days, ``open`` all."""
    open_ = queryset.filter(state__in=OPEN_ASSIGNMENT_STATES, reply_done_on__isnull=True)
    if which == "overdue":
        return open_.filter(reply_due_on__lt=today)
    if which == "soon":
        return open_.filter(reply_due_on__gte=today, reply_due_on__lte=due_soon_limit(today))
    if which == "open":
        return open_
    return queryset
