"""The plan of the daily scan: which items are due for a notice on a given day, and for whom.

Reads only. ``tracker.reminders`` writes the plan to the ledger (``run_scan``), and
``send_reminders --dry-run`` prints it.

Rules (docs/domain.md, "Deadlines"; settings ``REMINDER_*``):

- Every open due date of an open assignment gets a reminder ``REMINDER_STEPS_BEFORE`` working
  days before it (default 5 and 1) and on the day (step 0). Working days are those of
  ``proposals.workdays.WorkCalendar``: the scan does nothing on a day off, so no reminder ever
  lands on a weekend, 春节 or 国庆, and a due date on a day off counts from the next working day.
- A step missed (the scan did not run that day, or the item appeared late) is sent on the next
  scan that falls between it and the next step: an item first seen 3 working days before its
  date gets the "5 days" reminder then, saying 3 days. Each step goes out once.
- After the date, an overdue notice every working day: to the unit's clerks from the first
  overdue day, plus its signers from ``REMINDER_ESCALATE_TO_SIGNER_AFTER`` working days, plus
  the committee and the supervision office from ``REMINDER_ESCALATE_TO_OFFICES_AFTER``.
  Overdue notices cannot be muted; the other steps can, per clock (``NotificationPreference``).
- The clocks: first contact, co-handling opinion, reply, re-handling reply (the assignment's
  ``DueDate`` rows of its current round); publication (20 working days after a 主动公开 reply
  was sent, until it is published); and two read from the reassignment window:

  * **accept 签收** — a pending assignment is due to be accepted by the end of the reassignment
    window: after it the unit can no longer hand the proposal back, so an unaccepted assignment
    is late and escalates like any other;
  * **reassignment window** — an accepted unit is told, before and on the last day, that the
    window to ask for reassignment closes; it is a window, not a duty, so it never escalates.

- Nothing for what is done (``completed_on``), withdrawn, replied (the assignment, or the whole
  proposal: a co-handling unit is not chased once the answer went out), published, or moved by
  an extension: the ledger key holds the due date, so a new date starts a new series and the old
  one is never written again (and ``tracker.mail.digests`` re-checks each item when it sends).

The plan is set-based: a fixed number of queries whatever the number of items (the due dates
in one query, the people in three), so 100,000 open assignments cost what 10 do in queries
(``bench/scan.py``).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from proposals import deadlines
from proposals.models import (
    AssignmentState,
    DueDate,
    Membership,
    ProposalStatus,
    User,
)
from proposals.models import today as local_today
from proposals.selectors import running_due_dates
from proposals.workdays import WorkCalendar
from replies.models import Disclosure, Reply, ReplyState
from tracker.models import NotificationPreference, ReminderClock

ONE_DAY = datetime.timedelta(days=1)

#: A proposal in these states is answered: its remaining open assignments get no reminders.
DONE_PROPOSAL_STATES = (ProposalStatus.REPLIED, ProposalStatus.CLOSED)
#: Clocks whose overdue notices escalate. The reassignment window only closes.
ESCALATING_CLOCKS = frozenset(set(ReminderClock.values) - {ReminderClock.REASSIGNMENT.value})


def steps_before() -> tuple[int, ...]:
    """The configured steps, ascending, always with 0 (the day itself)."""
    return tuple(sorted({int(s) for s in settings.REMINDER_STEPS_BEFORE if int(s) >= 0} | {0}))


# --- Working days, counted once -------------------------------------------------------------


class Countdown:
    """Working days from ``today`` to any due date, after one pass over the calendar.

    ``until(due)`` equals ``WorkCalendar.workdays_between(today, next_workday(due))``: 5 means
    five working days before, 0 the day itself (a date on a day off counts from the next
    working day), -1 the first overdue working day. A numbering of the days in [``first``,
    ``last``] makes it a dictionary look-up, so 100,000 items cost no more than the few
    hundred dates they share.
    """

    def __init__(
        self,
        calendar: WorkCalendar,
        today: datetime.date,
        first: datetime.date,
        last: datetime.date,
    ) -> None:
        self.calendar = calendar
        self.today = today
        self._ordinal: dict[datetime.date, int] = {}
        first = min(first, today)
        n = 0
        d = first
        while d <= last:
            if calendar.is_workday(d):
                n += 1
            self._ordinal[d] = n
            d += ONE_DAY
        self._cache: dict[datetime.date, int] = {}

    def until(self, due_on: datetime.date) -> int:
        k = self._cache.get(due_on)
        if k is None:
            effective = self.calendar.next_workday(due_on)
            k = self._ordinal[effective] - self._ordinal[self.today]
            self._cache[due_on] = k
        return k


def _previous_workday(calendar: WorkCalendar, day: datetime.date) -> datetime.date:
    """The last working day before ``day``: a due date before it is overdue whatever day off
    lies between."""
    day -= ONE_DAY
    while not calendar.is_workday(day):
        day -= ONE_DAY
    return day


def _step_table(steps: tuple[int, ...]) -> list[int]:
    """For k = 0…max working days left, the step whose reminder is due: the nearest step at or
    above k (a missed step is caught up until the next one is reached)."""
    return [min(s for s in steps if s >= k) for k in range(max(steps) + 1)]


# --- Who gets what --------------------------------------------------------------------------


@dataclass
class People:
    """Everyone who can receive a reminder, read in three queries."""

    clerks: dict[int, list[int]] = field(default_factory=dict)
    signers: dict[int, list[int]] = field(default_factory=dict)
    offices: list[int] = field(default_factory=list)
    emails: dict[int, str] = field(default_factory=dict)
    muted: dict[int, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> People:
        people = cls()
        clerks: dict[int, list[int]] = defaultdict(list)
        signers: dict[int, list[int]] = defaultdict(list)
        members = (
            Membership.objects.filter(user__is_active=True)
            .exclude(user__email="")
            .order_by("unit_id", "role", "user_id")
            .values_list("unit_id", "user_id", "role", "user__email")
        )
        for unit_id, user_id, role, email in members:
            (clerks if role == Membership.Role.CLERK else signers)[unit_id].append(user_id)
            people.emails[user_id] = email
        people.clerks = dict(clerks)
        people.signers = dict(signers)
        offices = (
            User.objects.filter(
                is_active=True, office__in=[User.Office.COMMITTEE, User.Office.SUPERVISION]
            )
            .exclude(email="")
            .order_by("office", "id")
            .values_list("id", "email")
        )
        for user_id, email in offices:
            people.offices.append(user_id)
            people.emails[user_id] = email
        for user_id, muted in NotificationPreference.objects.values_list("user_id", "muted"):
            if muted:
                people.muted[user_id] = frozenset(muted)
        return people

    def recipients(self, *, unit_id: int, clock: str, step: int) -> tuple[int, ...]:
        """Who is told about an item of ``unit_id`` at ``step`` (see the module's rules)."""
        clerks = self.clerks.get(unit_id, [])
        if step >= 0:
            return tuple(u for u in clerks if clock not in self.muted.get(u, ()))
        overdue = -step
        found = list(clerks)
        if overdue >= settings.REMINDER_ESCALATE_TO_SIGNER_AFTER:
            found += self.signers.get(unit_id, [])
        if overdue >= settings.REMINDER_ESCALATE_TO_OFFICES_AFTER:
            found += self.offices
        return tuple(dict.fromkeys(found))


# --- The plan of one day ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueItem:
    """One item due for a notice today."""

    assignment_id: int
    unit_id: int
    clock: str
    step: int
    due_on: datetime.date
    due_date_id: int | None = None
    reply_id: int | None = None

    @property
    def key(self) -> tuple[int, str, int, datetime.date]:
        return (self.assignment_id, self.clock, self.step, self.due_on)


@dataclass
class Plan:
    """What the scan of ``today`` finds: the items and, in the same order, their recipients."""

    today: datetime.date
    is_workday: bool
    items: list[DueItem] = field(default_factory=list)
    recipients: list[tuple[int, ...]] = field(default_factory=list)
    people: People = field(default_factory=People)

    def by_recipient(self) -> dict[int, list[DueItem]]:
        found: dict[int, list[DueItem]] = defaultdict(list)
        for item, users in zip(self.items, self.recipients, strict=True):
            for user_id in users:
                found[user_id].append(item)
        return dict(found)


def _reminder_clock(due_clock: str, state: str) -> str | None:
    """The reminder class of a due date, given the assignment's state (None: no reminder)."""
    if due_clock == DueDate.Clock.REASSIGNMENT:
        if state == AssignmentState.PENDING:
            return ReminderClock.ACCEPT.value
        if state == AssignmentState.ACCEPTED:
            return ReminderClock.REASSIGNMENT.value
        return None  # a request is with the committee
    return due_clock


def plan_reminders(
    *, today: datetime.date | None = None, calendar: WorkCalendar | None = None
) -> Plan:
    """Every item due for a notice on ``today`` (Asia/Shanghai by default), with recipients.

    Reads only; ``run_scan`` writes the ledger from it and ``send_reminders --dry-run`` prints it.
    """
    today = today or local_today()
    calendar = calendar or WorkCalendar()
    # Nor on 元旦, 劳动节, 国庆 of a year whose holiday notice is not entered yet: the law fixes
    # them off though the calendar cannot count them yet (proposals.workdays).
    if not calendar.sends_reminders_on(today):
        return Plan(today=today, is_workday=False)
    steps = steps_before()
    step_for = _step_table(steps)
    horizon = calendar.add_workdays(today, steps[-1])

    dues = list(
        running_due_dates()
        .filter(due_on__lte=horizon)
        # A reassignment window that has closed matters only to a unit that has not accepted.
        .exclude(
            Q(clock=DueDate.Clock.REASSIGNMENT, due_on__lt=_previous_workday(calendar, today))
            & ~Q(assignment__state=AssignmentState.PENDING)
        )
        .values_list(
            "id", "assignment_id", "assignment__unit_id", "assignment__state", "clock", "due_on"
        )
    )
    publications = _publication_dues(today=today, horizon=horizon, calendar=calendar)
    first = min((row[5] for row in dues), default=today)
    first = min([first, *(due_on for *_, due_on in publications)])
    countdown = Countdown(calendar, today, first, horizon)

    def step_of(clock: str, due_on: datetime.date) -> int | None:
        k = countdown.until(due_on)
        if k > steps[-1]:
            return None
        if k >= 0:
            return step_for[k]
        return k if clock in ESCALATING_CLOCKS else None

    items: list[DueItem] = []
    for due_id, assignment_id, unit_id, state, due_clock, due_on in dues:
        clock = _reminder_clock(due_clock, state)
        step = step_of(clock, due_on) if clock else None
        if step is not None:
            items.append(DueItem(assignment_id, unit_id, clock, step, due_on, due_date_id=due_id))
    for reply_id, assignment_id, unit_id, due_on in publications:
        step = step_of(ReminderClock.PUBLICATION.value, due_on)
        if step is not None:
            items.append(
                DueItem(
                    assignment_id,
                    unit_id,
                    ReminderClock.PUBLICATION.value,
                    step,
                    due_on,
                    None,
                    reply_id,
                )
            )

    people = People.load()
    cache: dict[tuple, tuple[int, ...]] = {}
    recipients: list[tuple[int, ...]] = []
    for item in items:
        bucket = (item.unit_id, item.clock, _tier(item.step))
        users = cache.get(bucket)
        if users is None:
            users = people.recipients(unit_id=item.unit_id, clock=item.clock, step=item.step)
            cache[bucket] = users
        recipients.append(users)
    return Plan(today=today, is_workday=True, items=items, recipients=recipients, people=people)


def _tier(step: int) -> int:
    """Which people a step reaches: 0 before and on the day, then the escalation tiers 1–3
    (recipients are the same within a tier, so the scan works them out once per unit)."""
    if step >= 0:
        return 0
    if -step >= settings.REMINDER_ESCALATE_TO_OFFICES_AFTER:
        return 3
    if -step >= settings.REMINDER_ESCALATE_TO_SIGNER_AFTER:
        return 2
    return 1


def _publication_dues(
    *, today: datetime.date, horizon: datetime.date, calendar: WorkCalendar
) -> list[tuple[int, int, int, datetime.date]]:
    """(reply, assignment, unit, due date) of sent 主动公开 replies not yet published.

    The due date is the publication rule applied to the date the reply was sent, in Shanghai.
    Replies superseded by a correction are left to the correction.
    """
    rule = deadlines.rule_for("publication")
    amount, unit = rule
    # A rule of n days, working days or months is at least n (or 28·n) calendar days long, so a
    # reply sent after this date cannot be due by the horizon.
    shortest = amount * (28 if unit == deadlines.MONTHS else 1)
    cutoff = horizon - datetime.timedelta(days=shortest) + ONE_DAY
    sent_before = timezone.make_aware(datetime.datetime.combine(cutoff, datetime.time()))
    rows = (
        Reply.objects.filter(
            state=ReplyState.SENT,
            disclosure=Disclosure.PUBLIC,
            superseded_by__isnull=True,
            sent_at__lt=sent_before,
        )
        .values_list("id", "assignment_id", "unit_id", "sent_at")
        .order_by("id")
    )
    dues: dict[datetime.date, datetime.date] = {}
    found = []
    for reply_id, assignment_id, unit_id, sent_at in rows:
        sent_on = timezone.localdate(sent_at)
        due_on = dues.get(sent_on)
        if due_on is None:
            due_on = deadlines.compute_due(sent_on, rule, label="", calendar=calendar).due_on
            dues[sent_on] = due_on
        if due_on <= horizon:
            found.append((reply_id, assignment_id, unit_id, due_on))
    return found
