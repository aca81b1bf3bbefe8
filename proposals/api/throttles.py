"""The API's throttles (``REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]``).

A module of its own: DRF imports the throttle classes while it defines ``APIView``, so this
module may import nothing that imports ``rest_framework.views``.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from proposals.client_ip import client_ip


class _RateFromSettings:
    """Read the rate when a request comes, not when the class is defined, so settings (and
    tests) can change it; a scope without a rate is not throttled. A client is known by its
    address (``proposals.client_ip``, ``TRUSTED_PROXIES``), not DRF's ``NUM_PROXIES``."""

    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request) -> str:
        return client_ip(request) or request.META.get("REMOTE_ADDR") or ""


class AnonThrottle(_RateFromSettings, AnonRateThrottle):
    """Anonymous clients, per client address (behind the proxy too)."""

    scope = "anon"


class UserThrottle(_RateFromSettings, UserRateThrottle):
    """Signed-in members, per user; anonymous requests are the anon throttle's."""

    scope = "user"

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class IntegrationThrottle(UserThrottle):
    scope = "integration"
