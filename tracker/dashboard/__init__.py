"""The admin's index, 工作台: what the signed-in user has to do, and where things stand.

A unit's clerk or signer sees 我的待办 — assignments to accept, due within five working days,
overdue (red), letters awaiting their signature, co-handling opinions awaiting, feedback
received — and the counts of the unit's assignments by state. The committee (and the
supervision office, which only looks) sees the proposals to file, the reassignment requests, the
counts by status and the overdue assignments per unit. Every line links to its object or to the
filtered list; every query is read through the models' ``visible_to``, so the dashboard never
counts what the lists would not show.

The modules, by subject (the names are importable from here, as before issue 18's split):

    lines    the pieces: ``Section``, ``Line``, ``Count_``, a section's first rows in one query
    board    ``Dashboard``, whose faults and service warnings are read when the page shows them
    unit     a unit's clerk or signer: 我的待办, the unit's assignments by state
    offices  the committee and the supervision office
    faults   what went wrong in the background: PDFs, e-mails, the outbox
"""

from __future__ import annotations

import datetime

from proposals.models import Membership, User
from proposals.models import today as _today
from tracker.dashboard.board import Dashboard
from tracker.dashboard.faults import (
    TASK_LABELS,
    _mail_faults,
    _outbox_faults,
    _pdf_faults,
    _pdf_line,
    faults,
)
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
from tracker.dashboard.offices import _offices
from tracker.dashboard.unit import _opinions_awaiting, _unit

__all__ = [
    "FEEDBACK_DAYS",
    "SECTION_ROWS",
    "TASK_LABELS",
    "Count_",
    "Dashboard",
    "Line",
    "Section",
    "_assignment_line",
    "_days",
    "_feedback_line",
    "_first_rows",
    "_letter_line",
    "_mail_faults",
    "_offices",
    "_opinions_awaiting",
    "_outbox_faults",
    "_pdf_faults",
    "_pdf_line",
    "_section",
    "_start_of",
    "_unit",
    "_url",
    "build",
    "faults",
]


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
