"""Keeps each message in ``tracker.sms.outbox`` (tests)."""

from __future__ import annotations

from collections.abc import Sequence

from tracker import sms
from tracker.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def send_messages(self, messages: Sequence[sms.SmsMessage]) -> int:
        sms.outbox.extend(messages)
        return len(messages)
