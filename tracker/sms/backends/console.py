"""Prints each message (development)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tracker.sms import SmsMessage
from tracker.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        stream = self.options.get("stream") or sys.stdout
        for m in messages:
            stream.write(f"SMS to {m.to}: {m.signed_text()}\n")
        stream.flush()
        return len(messages)
