"""The public answers (the API's reply list and detail, the public pages) served from the cache.

Every cached answer is keyed by a *stamp* — a token that changes in the same transaction as
every publication or correction (``publication.models.PublicState``, registered here by the
``publication`` app as ``STAMP``) — and by the database's name (several districts may share one
Redis). A commit that changes what the public sees therefore makes every cached copy stale at
once; a request that raced it reads the old stamp and caches under the old key, never the new.

The stamp also gives the conditional GET: ``Last-Modified`` is when it last changed and the
ETag hashes it with the request's address, so a proxy revalidating a page gets a 304 without a
query beyond the stamp's. With no stamp registered (``replies`` on its own) nothing is cached.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

#: ``() -> (token, changed_at)``; set by ``publication.hooks.register``.
STAMP: Callable[[], tuple[str, datetime.datetime]] | None = None
#: How long an entry may stay in the cache: a new stamp makes it unreachable long before.
CACHE_TIMEOUT = 24 * 3600


def stamp() -> tuple[str, datetime.datetime] | None:
    return STAMP() if STAMP is not None else None


def key_for(request: HttpRequest, token: str, *, part: str = "") -> str:
    database = settings.DATABASES["default"].get("NAME", "")
    raw = "|".join(
        [str(database), token, part, request.get_full_path(), request.headers.get("Accept", "")]
    )
    return "public:" + hashlib.sha256(raw.encode()).hexdigest()


def etag_for(key: str) -> str:
    return '"' + key.removeprefix("public:")[:32] + '"'


def not_modified(
    request: HttpRequest, key: str, changed_at: datetime.datetime
) -> HttpResponseBase | None:
    """A 304 when the client's copy carries this stamp's ETag (or is as new as it)."""
    return get_conditional_response(
        request, etag=etag_for(key), last_modified=int(changed_at.timestamp())
    )


def add_validators(response: HttpResponseBase, key: str, changed_at: datetime.datetime) -> None:
    response["ETag"] = etag_for(key)
    response["Last-Modified"] = http_date(int(changed_at.timestamp()))


def get(key: str) -> Any:
    return cache.get(key)


def put(key: str, value: Any) -> None:
    cache.set(key, value, CACHE_TIMEOUT)
