"""The public answers (the API's reply list and detail, the public pages) served from the cache.

Every cached answer is keyed by a *stamp* — a token that changes in the same transaction as
every publication or correction (``publication.models.PublicState``, registered here by the
``publication`` app as ``STAMP``) — and by the database's name (several districts may share one
Redis). A commit that changes what the public sees therefore makes every cached copy stale at
once; a request that raced it reads the old stamp and caches under the old key, never the new.

The stamp also gives the conditional GET: ``Last-Modified`` is when it last changed and the
ETag hashes it with the request's address, so a proxy revalidating a page gets a 304 without a
query beyond the stamp's. With no stamp registered (``replies`` on its own) nothing is cached.

In front of Django, ``tracker.fastcache`` serves the hits of these answers without the middleware
stack. It reads the stamp from a copy of it in the cache (``stamp_key``), in the same round trip
as the answer: the copy lives ``STAMP_TTL`` seconds, is read again from the database when gone,
and is replaced after the commit of every change (``publish_stamp``, which ``publication`` runs
on commit). Its answers (``fast_key``) carry the stamp the view used, which ``key_for`` leaves
in the request's environ (``STAMP_ENVIRON``).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

logger = logging.getLogger(__name__)

#: ``() -> (token, changed_at)``; set by ``publication.hooks.register``.
STAMP: Callable[[], tuple[str, datetime.datetime]] | None = None
#: How long an entry may stay in the cache: a new stamp makes it unreachable long before.
CACHE_TIMEOUT = 24 * 3600
#: Seconds the stamp's copy for the fast path is trusted (issue 24: a publication is visible
#: within a second even if its commit's ``publish_stamp`` never ran).
STAMP_TTL = 1
#: Where ``key_for`` leaves the stamp of the view's answer (the WSGI environ is ``META``).
STAMP_ENVIRON = "tracker.public_stamp"


def stamp() -> tuple[str, datetime.datetime] | None:
    return STAMP() if STAMP is not None else None


def key_for(request: HttpRequest, token: str, *, part: str = "") -> str:
    request.META[STAMP_ENVIRON] = token  # the answer's stamp, for tracker.fastcache's copy
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


# --- The fast path's keys (tracker.fastcache) ---------------------------------------------------


def stamp_key() -> str:
    """The stamp's copy, one per database (several districts may share one Redis)."""
    database = settings.DATABASES["default"].get("NAME", "")
    return "public:stamp:" + hashlib.sha256(str(database).encode()).hexdigest()[:32]


def fast_key(request: HttpRequest, salt: str) -> str:
    """A whole answer (status, headers, body) of the fast path; its stamp is inside it, the
    ``salt`` is its process's start (the headers come from that code and those settings)."""
    database = settings.DATABASES["default"].get("NAME", "")
    raw = "|".join(
        [
            salt,
            str(database),
            str(request.scheme),
            request.get_full_path(),
            request.META.get("HTTP_ACCEPT", ""),
        ]
    )
    return "public:fast:" + hashlib.sha256(raw.encode()).hexdigest()


def publish_stamp() -> None:
    """After a commit that changed the stamp: the fast path's copy of it, at once. Never an
    error for the commit's caller: without it the old copy still dies within ``STAMP_TTL``."""
    try:
        current = stamp()
        if current is not None:
            cache.set(stamp_key(), current[0], STAMP_TTL)
    except Exception:
        logger.warning("the public stamp's copy was not replaced", exc_info=True)


def copy_stamp(token: str) -> None:
    """The stamp just read from the database, for the next ``STAMP_TTL`` seconds — unless a
    commit's ``publish_stamp`` put a newer one there meanwhile."""
    cache.add(stamp_key(), token, STAMP_TTL)
