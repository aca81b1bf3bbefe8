"""The daily digest of reminders: one person's e-mail of the reminders the scan
(``tracker.reminders``) wrote for them, each re-checked when the mail is built, so that what was
done, withdrawn, published or moved since the scan is left out (and its reminder cancelled).
Sent through the ledger (``tracker.mail.ledger``) by ``tracker.tasks.send_digest``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _

from proposals.models import OPEN_ASSIGNMENT_STATES, Assignment, AssignmentState, User
from proposals.workdays import WorkCalendar
from replies.models import Reply, ReplyState
from tracker.mail.ledger import Outcome, admin_url, deliver, long_date, render_message, site_url
from tracker.models import Digest, Reminder, ReminderClock, step_label
from tracker.reminders import DONE_PROPOSAL_STATES


@dataclass
class DigestLine:
    number: str
    title: str
    unit: str
    clock: str
    due_on: datetime.date
    step: int
    url: str

    @property
    def due_text(self) -> str:
        return long_date(self.due_on)

    @property
    def status(self) -> str:
        return step_label(self.step)


@dataclass
class DigestSection:
    title: str
    lines: list[DigestLine]
    total: int
    more_url: str

    @property
    def hidden(self) -> int:
        return self.total - len(self.lines)


_ITEM_FIELDS = (
    "id",
    "clock",
    "step",
    "due_on",
    "assignment_id",
    "reply_id",
    "assignment__state",
    "assignment__round",
    "assignment__proposal__number",
    "assignment__proposal__title",
    "assignment__proposal__status",
    "assignment__unit__name",
    "assignment__unit__short_name",
    "due_date__completed_on",
    "due_date__due_on",
    "due_date__round",
    "reply__state",
    "reply__superseded_by",
)


def still_due(item: dict[str, Any]) -> bool:
    """Whether a reminder still stands when its mail goes out: not done, withdrawn,
    published, or moved to another date since the scan."""
    clock = item["clock"]
    if clock == ReminderClock.PUBLICATION:
        return item["reply__state"] == ReplyState.SENT and item["reply__superseded_by"] is None
    state = item["assignment__state"]
    if state not in OPEN_ASSIGNMENT_STATES:
        return False
    if item["assignment__proposal__status"] in DONE_PROPOSAL_STATES:
        return False
    if clock == ReminderClock.ACCEPT and state != AssignmentState.PENDING:
        return False
    if clock == ReminderClock.REASSIGNMENT and state != AssignmentState.ACCEPTED:
        return False
    return (
        item["due_date__completed_on"] is None
        and item["due_date__due_on"] == item["due_on"]
        and item["due_date__round"] == item["assignment__round"]
    )


def _line(item: dict[str, Any]) -> DigestLine:
    """One row of the digest; ``item["left"]`` is the working days left on the digest's date."""
    if item["clock"] == ReminderClock.PUBLICATION:
        url = admin_url(Reply, item["reply_id"])
    else:
        url = admin_url(Assignment, item["assignment_id"])
    return DigestLine(
        number=item["assignment__proposal__number"] or _("（未编号）"),
        title=item["assignment__proposal__title"],
        unit=item["assignment__unit__short_name"] or item["assignment__unit__name"],
        clock=str(ReminderClock(item["clock"]).label),
        due_on=item["due_on"],
        step=item["left"],
        url=url,
    )


def digest_sections(items: list[dict[str, Any]]) -> list[DigestSection]:
    """Overdue first (the longest overdue on top), then due today, then coming up."""
    limit = int(settings.REMINDER_DIGEST_MAX_ROWS)
    more_url = site_url(reverse("admin:proposals_assignment_changelist"))
    groups = (
        (_("已逾期"), [i for i in items if i["left"] < 0], lambda i: (i["left"], i["due_on"])),
        (_("今日到期"), [i for i in items if i["left"] == 0], lambda i: i["due_on"]),
        (_("即将到期"), [i for i in items if i["left"] > 0], lambda i: (i["due_on"], i["left"])),
    )
    sections = []
    for title, group, key in groups:
        if not group:
            continue
        group.sort(
            key=lambda i, key=key: (key(i), i["assignment__proposal__number"] or "", i["id"])
        )
        sections.append(
            DigestSection(
                title=str(title),
                lines=[_line(i) for i in group[:limit]],
                total=len(group),
                more_url=more_url,
            )
        )
    return sections


def digest_subject(on: datetime.date, sections: list[DigestSection]) -> str:
    counts = "，".join(f"{s.title}{s.total}件" for s in sections)
    return _("提案办理提醒（%(date)s）：%(counts)s") % {"date": long_date(on), "counts": counts}


def build_digest(digest: Digest) -> EmailMultiAlternatives | None:
    """The digest's e-mail from the reminders that still stand; None when none do."""
    items = list(Reminder.objects.filter(pk__in=digest.reminder_ids).values(*_ITEM_FIELDS))
    live = [i for i in items if still_due(i)]
    stale = [i["id"] for i in items if not still_due(i)]
    if stale:
        Reminder.objects.filter(pk__in=stale, state=Reminder.State.PENDING).update(
            state=Reminder.State.CANCELLED
        )
    if not live:
        return None
    _count_working_days_left(live, digest.on)
    user = User.objects.get(pk=digest.user_id)
    sections = digest_sections(live)
    context = {
        "name": user.full_name or user.username,
        "date": long_date(digest.on),
        "part": digest.part,
        "sections": sections,
        "total": len(live),
        "site_url": settings.SITE_URL,
        "preferences_url": site_url(reverse("admin:tracker_notificationpreference_changelist")),
    }
    return render_message(
        subject=digest_subject(digest.on, sections),
        template="emails/digest",
        context=context,
        to=digest.email,
    )


def _count_working_days_left(items: list[dict[str, Any]], on: datetime.date) -> None:
    """The mail says how many working days are left on its date: a step caught up late (the
    "5 days" reminder sent with 3 left) says 3. Overdue steps are exact already."""
    ahead = [i for i in items if i["step"] > 0]
    calendar = WorkCalendar() if ahead else None
    for item in items:
        item["left"] = item["step"]
    for item in ahead:
        item["left"] = calendar.workdays_between(on, calendar.next_workday(item["due_on"]))


def mark_reminders_sent(digest: Digest) -> None:
    """A reminder is sent once the digests of all its recipients are: each sent digest counts
    down its reminders' ``undelivered`` (once: only the attempt that marked it sent gets here)."""
    mine = Reminder.objects.filter(pk__in=digest.reminder_ids, state=Reminder.State.PENDING)
    mine.filter(undelivered__gt=0).update(undelivered=F("undelivered") - 1)
    mine.filter(undelivered=0).update(state=Reminder.State.SENT)


def deliver_digest(digest_id: int) -> Outcome:
    return deliver(Digest, digest_id, build_digest, after_sent=mark_reminders_sent)
