"""The interface every SMS backend has (``tracker.sms``)."""

from __future__ import annotations

from collections.abc import Sequence

from tracker.sms import SmsMessage


class BaseSmsBackend:
    def __init__(self, **kwargs) -> None:
        self.options = kwargs

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        """Send the messages; return how many went. Raise ``tracker.sms.SmsError`` when one
        could not be sent (the caller's ledger retries it)."""
        raise NotImplementedError
