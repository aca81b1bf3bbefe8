"""Celery wrappers of the members' mail and 短信: each takes an id, calls one function, and can
run twice without harm (the ledger rows make a second run a no-op). Same options and retry
policy as ``tracker.tasks``' mail tasks; registered here as the senders of their ledgers
(``TrackerConfig.ready`` imports this module)."""

from __future__ import annotations

from celery import shared_task

from tracker.mail import ledger, members
from tracker.members import invitations
from tracker.models import Invitation, MemberNotice
from tracker.tasks import MAIL_TASK_OPTIONS, _finish


@shared_task(**MAIL_TASK_OPTIONS)
def send_invitation(self, invitation_id: int) -> str:
    """Send one invitation, its link made now (queue ``mail``)."""
    return _finish(self, invitations.deliver_invitation(invitation_id))


@shared_task(**MAIL_TASK_OPTIONS)
def send_member_notice(self, notice_id: int) -> str:
    """Send one notice to a member, by e-mail or 短信 (queue ``mail``)."""
    return _finish(self, members.deliver_member_notice(notice_id))


ledger.register_sender(Invitation, send_invitation)
ledger.register_sender(MemberNotice, send_member_notice)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sweep_member_notices() -> int:
    """Every minute (beat): the notices of the steps audited since the last sweep, then every
    invitation and notice still owed (never the failed ones)."""
    count = len(members.sweep())
    for model in (Invitation, MemberNotice):
        ids = ledger.unsent(model)
        ledger.enqueue(model, ids)
        count += len(ids)
    return count
