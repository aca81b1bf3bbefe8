"""A worker SIGKILLed in the middle of a batch, then restarted: every digest ends sent, none is
lost, at most one goes out twice — and that one is flagged in the ledger and logged.

The worker is a real ``celery -A tracker worker`` subprocess on the test database (its name
taken from the live connection, so xdist's ``test_<name>_gw0`` works) and on this test's own
Redis queue; it writes mails with the file backend, which pauses after each write so that the
kill finds it between sending a mail and marking it sent.
"""

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from proposals.models import Membership
from proposals.tests import factories as f
from tracker import reminders
from tracker.mail import ledger
from tracker.models import Digest
from tracker.tests.reminder_support import MONDAY, D, open_item, read_mail_dir, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CLERKS = 8
LEASE = 2.0


def database_url() -> str:
    s = connection.settings_dict
    auth = f"{quote(s['USER'] or '')}:{quote(s['PASSWORD'] or '')}@"
    return f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(queue: str, mail_dir: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_BACKEND": "tracker.tests.reminder_support.SlowFileBackend",
        "TRACKER_TEST_MAIL_DIR": str(mail_dir),
        "TRACKER_TEST_MAIL_PAUSE": "0.4",
        "REMINDER_SEND_LEASE": str(LEASE),
        "CONN_MAX_AGE": "0",
    }
    celery = Path(sys.executable).with_name("celery")
    command = [
        str(celery),
        "-A",
        "tracker",
        "worker",
        "--pool=solo",
        f"--queues={queue}",
        f"--hostname={queue}-{time.monotonic_ns()}@%h",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        "--loglevel=INFO",
    ]
    return subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def alive_until(process: subprocess.Popen, log: Path, predicate):
    """``predicate``, failing at once with the worker's log if the worker has exited."""

    def check() -> bool:
        if predicate():
            return True
        if process.poll() is not None:
            pytest.fail(f"the worker exited ({process.returncode}):\n{log.read_text()}")
        return False

    return check


def stop(process: subprocess.Popen, sig: int) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_a_worker_killed_mid_batch_and_restarted_loses_nothing_and_logs_its_one_duplicate(
    people, unit_b, celery_queue, tmp_path
):
    clerks = [people.clerk_b]
    for n in range(CLERKS - 1):
        user = f.UserFactory(username=f"kill_clerk{n}", email=f"kill_clerk{n}@example.org")
        f.MembershipFactory(user=user, unit=unit_b, role=Membership.Role.CLERK)
        clerks.append(user)
    open_item(unit_b, due_on=D(2026, 11, 30))
    mail_dir, log = tmp_path / "mail", tmp_path / "worker.log"
    mail_dir.mkdir()

    report = reminders.run_scan(today=MONDAY)  # commits: 8 digests wait in the queue
    assert len(report.digests) == CLERKS

    first = start_worker(celery_queue, mail_dir, log)
    try:
        three_sent = alive_until(first, log, lambda: len(read_mail_dir(mail_dir)) >= 3)
        assert wait_until(three_sent, timeout=60, every=0.02), log.read_text(errors="replace")
    finally:
        stop(first, signal.SIGKILL)
    sent_before_restart = Digest.objects.filter(state="sent").count()
    assert 0 < sent_before_restart < CLERKS, "killed in the middle of the batch"
    # The digest the worker held when it died: its mail may or may not have gone out.
    in_flight = set(Digest.objects.filter(state="sending").values_list("email", flat=True))
    assert len(in_flight) <= 1

    second = start_worker(celery_queue, mail_dir, log)
    try:
        # What the hourly beat job does (``tasks.retry_unsent``), every second and from here,
        # where the tasks are routed to this test's queue: re-enqueue what is still owed.
        finished = wait_until(
            alive_until(second, log, lambda: Digest.objects.filter(state="sent").count() == CLERKS),
            timeout=60,
            every=1.0,
            then=lambda: ledger.enqueue(Digest, ledger.unsent(Digest)),
        )
    finally:
        stop(second, signal.SIGTERM)
    worker_log = log.read_text(errors="replace")
    assert finished, worker_log

    mails = collections.Counter(message["To"] for message in read_mail_dir(mail_dir))
    assert set(mails) == {c.email for c in clerks}, "every reminder was sent, none lost"
    duplicates = {address: n for address, n in mails.items() if n > 1}
    assert sum(mails.values()) - CLERKS <= 1, duplicates
    assert set(duplicates) <= in_flight, "only the interrupted digest can go out twice"
    flagged = set(Digest.objects.filter(may_be_duplicate=True).values_list("email", flat=True))
    assert flagged == in_flight, "the interrupted digest is flagged in the ledger"
    for address in in_flight:
        assert f"so {address} may receive it twice" in worker_log, "and logged"
    print(f"in flight at the kill: {in_flight}; sent twice: {duplicates}")
