"""The one way tests move the clock: ``time_machine``, through ``travel`` and ``shift``.

Before this, tests read the time four ways: patching ``timezone.now``, patching a module's own
``_now`` seam (``replies.workflow``, ``tracker.mail.ledger``, the sign-in link tokens), and
handing dates in. A patched seam covers one module only (and breaks when the module is split);
``time_machine`` moves ``datetime``, ``time`` and so Django's ``timezone.now``/``localdate``
everywhere in the process at once, as a real later hour would. PostgreSQL's ``now()`` does not
move: no code under test reads it for a business date.

Dates without a time are taken at 09:00 in Beijing (the working day the app counts in); naive
datetimes are Beijing wall-clock time; every moment is given to time_machine in Beijing's zone.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

BEIJING = ZoneInfo("Asia/Shanghai")


def moment(when: datetime.date | datetime.datetime) -> datetime.datetime:
    """``when`` as an aware datetime (a date at 09:00 Beijing, a naive datetime in Beijing)."""
    if not isinstance(when, datetime.datetime):
        when = datetime.datetime.combine(when, datetime.time(9))
    if timezone.is_naive(when):
        when = when.replace(tzinfo=BEIJING)
    # In Beijing's ZoneInfo: time_machine then keeps the process's local zone (Django sets it to
    # TIME_ZONE), so naive ``datetime.now()`` (token timestamps) stays Beijing wall time.
    return when.astimezone(BEIJING)


def travel(when: datetime.date | datetime.datetime, *, tick: bool = False) -> time_machine.travel:
    """Stand at ``when`` (a context manager or decorator); the clock stays still unless
    ``tick``, so two reads in a test agree."""
    return time_machine.travel(moment(when), tick=tick)


def shift(**delta: float) -> time_machine.travel:
    """Stand ``delta`` (``timedelta`` keywords) after now: a lease expired, a link gone stale."""
    return travel(timezone.now() + datetime.timedelta(**delta))
