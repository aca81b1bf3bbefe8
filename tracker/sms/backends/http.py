"""An SMS gateway over HTTP: one JSON POST per message to ``SMS_GATEWAY_URL``.

The body carries the number, the signature (``SMS_SIGNATURE``, shown as 【…】 by the
operator), the template id of the message's kind (``SMS_TEMPLATES``, e.g.
``{"filed": "SMS_1001"}``) with its parameters, and the full signed text for gateways that send
free text. ``SMS_API_KEY``, when set, goes in the ``Authorization: Bearer`` header. A 2xx answer
whose JSON (if any) does not say ``"ok": false`` is delivered; anything else — a 5xx, a refusal,
a timeout after ``SMS_TIMEOUT`` seconds, no connection — raises ``SmsError`` for the ledger to
retry.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence

from django.conf import settings

from tracker.sms import SmsError, SmsMessage
from tracker.sms.backends.base import BaseSmsBackend


class SmsBackend(BaseSmsBackend):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.url = kwargs.get("url") or getattr(settings, "SMS_GATEWAY_URL", "")
        self.timeout = float(kwargs.get("timeout") or getattr(settings, "SMS_TIMEOUT", 10.0))
        self.templates = dict(getattr(settings, "SMS_TEMPLATES", {}) or {})
        self.api_key = kwargs.get("api_key") or getattr(settings, "SMS_API_KEY", "")

    def payload(self, message: SmsMessage) -> dict:
        return {
            "phone": message.to,
            "sign": getattr(settings, "SMS_SIGNATURE", ""),
            "template": self.templates.get(message.kind, ""),
            "params": message.params,
            "text": message.signed_text(),
        }

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        if not self.url:
            raise SmsError("SMS_GATEWAY_URL is not set")
        for message in messages:
            self._post(self.payload(message))
        return len(messages)

    def _post(self, payload: dict) -> None:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(
            self.url, data=json.dumps(payload).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(4096)
        except urllib.error.HTTPError as exc:
            raise SmsError(f"gateway answered {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise SmsError(f"gateway unreachable: {exc}") from exc
        try:
            answer = json.loads(body or b"{}")
        except ValueError:
            return
        if isinstance(answer, dict) and answer.get("ok") is False:
            raise SmsError(f"gateway refused: {answer.get('error') or answer}")
