"""短信, pluggable like Django's e-mail backends (issue 21, part 3).

``SMS_BACKEND`` names a class with ``send_messages(messages) -> int``:

- ``tracker.sms.backends.console.SmsBackend`` — prints (development; the default);
- ``tracker.sms.backends.locmem.SmsBackend`` — keeps them in ``tracker.sms.outbox`` (tests);
- ``tracker.sms.backends.http.SmsBackend`` — a gateway over HTTP: ``SMS_GATEWAY_URL``, the
  signature ``SMS_SIGNATURE`` (printed as 【…】), template ids per kind ``SMS_TEMPLATES``,
  ``SMS_TIMEOUT`` seconds, an optional ``SMS_API_KEY``.

A message that cannot be delivered raises ``SmsError``; the ledger (``tracker.mail.ledger``)
retries it with the same backoff and attempts as an e-mail, and marks it failed after the last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "tracker.sms.backends.console.SmsBackend"

#: What the locmem backend has "sent" (tests read and clear it).
outbox: list[SmsMessage] = []


class SmsError(Exception):
    """The gateway refused the message or could not be reached."""


@dataclass
class SmsMessage:
    """One short message: the number, the text (without the signature), and what a gateway
    that sends by template needs — the template's kind and its parameters."""

    to: str
    text: str
    kind: str = ""
    params: dict[str, str] = field(default_factory=dict)

    def signed_text(self) -> str:
        signature = str(getattr(settings, "SMS_SIGNATURE", "") or "")
        return f"【{signature}】{self.text}" if signature else self.text


def get_backend(path: str | None = None, **kwargs):
    name = path or getattr(settings, "SMS_BACKEND", "") or DEFAULT_BACKEND
    return import_string(name)(**kwargs)


def send_sms(message: SmsMessage) -> int:
    """Send one message through ``SMS_BACKEND``; raises ``SmsError`` when it did not go."""
    return get_backend().send_messages([message])
