"""The calendar: the committee's day overrides, and recomputing the open due dates."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from proposals import deadlines
from proposals.models import (
    OPEN_ASSIGNMENT_STATES,
    DayOverride,
    DueDate,
    User,
)
from proposals.workdays import WorkCalendar
from proposals.workflow.errors import InvalidInput
from proposals.workflow.guards import (
    record_transition,
    require_committee,
)


@transaction.atomic
def set_day_override(
    *, actor: User, date: datetime.date, is_workday: bool, note: str = ""
) -> tuple[DayOverride, int]:
    """The committee corrects the calendar for one day; open due dates are recomputed.

    Returns the override and how many due dates moved.
    """
    require_committee(actor)
    override, _created = DayOverride.objects.update_or_create(
        date=date, defaults={"is_workday": is_workday, "note": note.strip(), "updated_by": actor}
    )
    record_transition(
        override,
        actor=actor,
        verb="set_day_override",
        to_state="workday" if is_workday else "day_off",
        note=f"{date:%Y-%m-%d} {note}".strip(),
    )
    moved = recompute_open_due_dates()
    return override, moved


@transaction.atomic
def delete_day_override(*, actor: User, date: datetime.date) -> int:
    require_committee(actor)
    override = DayOverride.objects.filter(date=date).first()
    if override is None:
        raise InvalidInput(_("该日期没有调整记录。"), field="date")
    record_transition(override, actor=actor, verb="delete_day_override", note=f"{date:%Y-%m-%d}")
    override.delete()
    return recompute_open_due_dates()


def recompute_open_due_dates() -> int:
    """Recompute every due date that is still open and was not fixed by an extension."""
    calendar = WorkCalendar()
    open_dues = (
        DueDate.objects.select_for_update()
        .filter(completed_on__isnull=True, is_fixed=False)
        .filter(assignment__state__in=list(OPEN_ASSIGNMENT_STATES))
        .select_related("assignment")
    )
    changed: list[DueDate] = []
    for due in open_dues:
        amount, unit = deadlines.parse_rule(due.rule)
        label = _("不满意反馈") if due.clock == DueDate.Clock.REHANDLING_REPLY else _("交办")
        result = deadlines.compute_due(due.start_on, (amount, unit), label=label, calendar=calendar)
        if result.due_on != due.due_on or result.explanation != due.explanation:
            due.due_on = result.due_on
            due.explanation = result.explanation
            changed.append(due)
    DueDate.objects.bulk_update(changed, ["due_on", "explanation"], batch_size=500)
    return len(changed)
