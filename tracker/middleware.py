"""The request id: every request gets one, every log line of the request carries it.

A sane ``X-Request-ID`` from the proxy in front (letters, digits, ``-_.:``, at most 64
characters) is kept, so the proxy's log and ours share it; anything else is replaced by a new
random id. The id is echoed in the response's ``X-Request-ID``, set in a context variable that
``tracker.logging.ContextFilter`` adds to every record (and ``tracker.celery`` copies into the
headers of a task the request queues), tagged on a Sentry report, and left in the WSGI environ
for gunicorn's access log, with the client's address.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tracker.logging import (
    CLIENT_IP_ENVIRON,
    REQUEST_ID_ENVIRON,
    client_ip_var,
    request_id_var,
)

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def request_id_from(value: str | None) -> str:
    """The incoming id when it is sane, else a new one (32 hex digits)."""
    if value and _SANE.fullmatch(value):
        return value
    return uuid.uuid4().hex


@functools.cache
def _client_ip_function() -> Callable[[HttpRequest], str | None] | None:
    """``proposals.client_ip.client_ip`` (the address behind the trusted proxies), if the
    project has it."""
    try:
        from proposals.client_ip import client_ip
    except ImportError:
        return None
    return client_ip


def client_address(request: HttpRequest) -> str | None:
    """The client's address: ``proposals.client_ip.client_ip`` when it exists, else
    ``REMOTE_ADDR``."""
    function = _client_ip_function()
    if function is not None:
        try:
            return function(request) or None
        except Exception:  # an address is never worth a failed request
            pass
    return request.META.get("REMOTE_ADDR") or None


def resolves_forwarded_addresses() -> bool:
    """Whether ``client_address`` looks behind proxies (``proposals.client_ip`` exists)."""
    return _client_ip_function() is not None


class RequestIdMiddleware:
    """First in ``MIDDLEWARE``: the request id and client address for everything after it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get(HEADER))
        address = client_address(request)
        request.request_id = request_id  # type: ignore[attr-defined]  # ours, for views
        request.META[REQUEST_ID_ENVIRON] = request_id
        request.META[CLIENT_IP_ENVIRON] = address
        id_token = request_id_var.set(request_id)
        ip_token = client_ip_var.set(address)
        if settings.SENTRY_DSN:
            # An error report names the request id of the log lines around it.
            import sentry_sdk

            sentry_sdk.set_tag("request_id", request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(id_token)
            client_ip_var.reset(ip_token)
        response[HEADER] = request_id
        return response
