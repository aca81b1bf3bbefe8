"""Builders for the reminder tests: people with e-mail addresses, open items with due dates,
and what the outbox holds. Plain functions; the fixtures that use them are in ``conftest``."""

from __future__ import annotations

import datetime
import email
import email.message
import itertools
import os
import socketserver
import threading
import time
from collections import Counter
from pathlib import Path

from django.core import mail
from django.core.mail.backends import filebased

from proposals.models import Assignment, DueDate, User
from proposals.tests import factories as f

D = datetime.date
#: A Monday without holidays around it: the "today" of most tests.
MONDAY = D(2026, 11, 23)

_numbers = itertools.count(1)


def with_email(user: User, email: str | None = None) -> User:
    user.email = email or f"{user.username}@example.org"
    user.save(update_fields=["email"])
    return user


def open_item(
    unit,
    *,
    due_on: datetime.date,
    clock: str = DueDate.Clock.REPLY,
    state: str = Assignment.State.ACCEPTED,
    role: str = Assignment.Role.LEAD,
    number: str | None = None,
) -> Assignment:
    """An assignment of ``unit`` in ``state`` with one open due date of ``clock``."""
    assignment = f.AssignmentFactory(
        unit=unit,
        state=state,
        role=role,
        proposal__number=number or f"第{next(_numbers):03d}号",
    )
    f.DueDateFactory(
        assignment=assignment,
        clock=clock,
        due_on=due_on,
        start_on=due_on - datetime.timedelta(days=90),
    )
    return assignment


def mails_per_recipient() -> Counter:
    return Counter(address for message in mail.outbox for address in message.to)


def recipients_of_day() -> set[str]:
    return {address for message in mail.outbox for address in message.to}


# --- Helpers of the Celery tests ------------------------------------------------------------


def wait_until(predicate, *, timeout: float = 20.0, every: float = 0.1, then=None) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` passes (False); ``then`` runs
    after each failed poll (e.g. the hourly sweep, run faster)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if then is not None:
            then()
        time.sleep(every)
    return bool(predicate())


class RefusingSMTPHandler(socketserver.StreamRequestHandler):
    """A mail server on loopback that talks SMTP and refuses every sender with 554."""

    def handle(self):
        self.server.sessions.append(time.monotonic())
        self.wfile.write(b"220 sink.local ESMTP refusing\r\n")
        for line in self.rfile:
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 sink.local\r\n")
            elif verb == b"MAIL":
                self.wfile.write(b"554 5.7.1 Service refused\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class RefusingSMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), RefusingSMTPHandler)
        self.sessions: list[float] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class SlowFileBackend(filebased.EmailBackend):
    """Django's file backend into ``$TRACKER_TEST_MAIL_DIR``, pausing after each write.

    For the subprocess worker of the kill test: the files are what every process sent, and the
    pause after writing is where a SIGKILL finds the worker — sent, not yet marked sent.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("file_path", os.environ["TRACKER_TEST_MAIL_DIR"])
        super().__init__(*args, **kwargs)

    def send_messages(self, messages):
        count = super().send_messages(messages)
        time.sleep(float(os.environ.get("TRACKER_TEST_MAIL_PAUSE", "0")))
        return count


def read_mail_dir(path: Path) -> list[email.message.Message]:
    """The messages the file backend wrote into ``path`` (several per file possible)."""
    found = []
    for file in sorted(path.glob("*.log")):
        for chunk in file.read_bytes().split(b"-" * 79):
            if chunk.strip():
                found.append(email.message_from_bytes(chunk.strip()))
    return found
