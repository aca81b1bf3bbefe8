"""The portal's burst: cache hits of the public answers served in front of Django (issue 24).

The public answers — the portal's pages (``/public/``, a reply's page, the Atom feed,
``/sitemap.xml``) and the API's list and detail of the published replies — are cached by the
public stamp (``replies.api.public_cache``). A hit still cost a millisecond of CPU, most of it
Django's middleware stack and the view's dispatch. ``FastCache`` wraps Django's WSGI handler
(``tracker/wsgi.py``) and answers such a hit itself, from a copy of the *whole* answer the
stack gave: status, every header (the security headers, the Content-Security-Policy, the
framing rules of ``PUBLIC_EMBED_ORIGINS``, Vary, ETag, Last-Modified, Cache-Control) and body.

- Which requests: GET and HEAD of those paths, with no ``Authorization`` header, no cookie but
  a well-formed CSRF one (a session or messages cookie makes the answer someone's own), no
  ``If-Match``/``If-Unmodified-Since``, on an allowed host. Everything else goes to Django,
  untouched.
- One Redis round trip (MGET): the copy of the public stamp (``public_cache.stamp_key``) and
  the answer (``public_cache.fast_key``: database, scheme — HSTS is only sent over HTTPS —,
  path and query, Accept, and this process's start, since the headers are this code's and
  these settings'). The answer is served when the stamp it was built with is the current one.
  The stamp's copy is replaced after the commit of every publication or correction
  (``publish_stamp``, on commit) and lives ``STAMP_TTL`` (1 s): when it is gone the stamp is
  read from the database as the views read it (the API's from the portal's replica when there
  is one) and copied again. So the request after a commit misses and goes to Django, as
  before; a change whose ``publish_stamp`` did not run (rows written in bulk, a process killed
  between commit and callback) shows within a second.
- A miss goes to Django; when Django's answer to a GET without cookies is a public one (status
  200 or 410, ``Cache-Control: public``, an ETag, no ``Set-Cookie``, no CSP nonce, Vary at most
  Accept and Cookie), it is copied with the stamp its view used (``key_for`` leaves it in the
  environ): a copy is never older than its stamp. A 304 is copied the same way under the key
  plus ``:304`` — Django's 304 carries fewer headers than its 200 — and served when Django's
  own ``get_conditional_response`` says the client's ETag or date is current.
- Per request the fast path still makes a new ``X-Request-ID`` (or keeps the proxy's, as
  ``tracker.middleware`` does), leaves it and the client's address in the environ for
  gunicorn's access log, counts the request in django-prometheus' request, response, status
  and latency metrics and in ``tracker_public_fastcache_responses_total``, and asks the API's
  anonymous throttle (``proposals.api.throttles``, when a rate is set) before an API answer.
- Anything unusual — no stamp registered, the cache not on Redis (a process's own cache would
  miss another worker's commit), Redis unreachable (``FallbackRedisCache`` degraded: Django
  then answers from its fallback), a database error, any exception — goes to Django.

``PUBLIC_FASTCACHE=0`` in the environment turns it off (``tracker/wsgi.py``).
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisSerializer
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import connections
from django.http import HttpResponse
from django.http.cookie import parse_cookie
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe
from prometheus_client import Counter

from replies.api import public_cache
from tracker.cache import UNREACHABLE, FallbackRedisCache
from tracker.logging import CLIENT_IP_ENVIRON, REQUEST_ID_ENVIRON
from tracker.middleware import client_address, request_id_from

logger = logging.getLogger(__name__)

#: The portal's pages, their feed and sitemap (publication.urls, tracker.urls).
PAGE_PATH = re.compile(r"/public/(?:replies/[0-9]+/|feed\.atom)?|/sitemap\.xml")
#: The API's list and detail of the published replies (replies.api.urls).
API_PATH = re.compile(r"/api/v1/replies/(?:[^/.]+/)?")
#: Request headers that make a request something other than an anonymous read.
_REFUSED_HEADERS = ("HTTP_AUTHORIZATION", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")
_CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")
#: What a copied answer may vary on: the key has the Accept header, and cookies are refused.
_VARY_ALLOWED = frozenset({"accept", "cookie"})
_REQUEST_ID = "x-request-id"
#: The CSRF cookie's secret as Django writes it (32 letters and digits; 64 before Django 4.1).
_CSRF_SECRET = re.compile(r"[A-Za-z0-9]{32}|[A-Za-z0-9]{64}")

StartResponse = Callable[..., Any]
#: A copied answer: ``(stamp, status line, headers, body, ETag, Last-Modified as a timestamp)``;
#: the X-Request-ID header's value is left empty and filled per request.
Entry = tuple[str, str, list[tuple[str, str]], bytes, str, int | None]

PUBLIC_FASTCACHE = Counter(
    "tracker_public_fastcache_responses",
    "Public answers served from the cache in front of Django (tracker/fastcache.py), by status.",
    ["status"],
)


class FastCache:
    """WSGI middleware in front of Django's handler; see the module's docstring."""

    def __init__(self, app: Callable[[dict, StartResponse], Iterable[bytes]]) -> None:
        self.app = app
        # The copies are this code's and these settings' headers: a restart starts afresh.
        self.salt = uuid.uuid4().hex

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        plan = _eligible(environ)
        if plan is None:
            return self.app(environ, start_response)
        started = time.perf_counter()
        try:
            lookup = self._lookup(environ, plan)
        except DisallowedHost:
            return self.app(environ, start_response)  # Django's 400
        except Exception:  # the stack answers whatever made the fast path fail
            _failed("public fast path failed")
            return self.app(environ, start_response)
        if lookup is None:
            return self.app(environ, start_response)
        request, key, answer = lookup
        if answer is not None:
            try:
                served = self._serve(environ, start_response, request, plan, answer, started)
            except Exception:
                _failed("public fast path failed")
                served = None
            if served is not None:
                return served
        return self._through(environ, start_response, key, plan)

    # --- A hit ---

    def _lookup(self, environ: dict, plan: str) -> tuple[Any, str, Entry | None] | None:
        """``(request, key, the answer to serve or None)``; None: not for the fast path."""
        if public_cache.STAMP is None or getattr(cache, "degraded", False):
            return None
        # On a copy: a WSGIRequest writes the decoded path into its META, and Django's own
        # request, made from the environ after a miss, must read the path as the server gave it.
        request = WSGIRequest(dict(environ))
        request.get_host()  # DisallowedHost (Django's 400) for a host not allowed
        key, stamp_key = public_cache.fast_key(request, self.salt), public_cache.stamp_key()
        conditional = any(environ.get(name) for name in _CONDITIONAL_HEADERS)
        # One round trip: the stamp's copy, the answer and (for a conditional GET) its 304.
        found = _get_many([stamp_key, key, key + ":304"] if conditional else [stamp_key, key])
        if found is None:  # Redis failed during the read
            return None
        token = found.get(stamp_key)
        if token is None:  # the copy expired: the database's, as the views read it
            _close_old_connections()
            with _reads(plan):
                current = public_cache.stamp()
            if current is None:
                return None
            token = current[0]
            public_cache.copy_stamp(token)
        entry = found.get(key)
        if entry is None or entry[0] != token:
            return request, key, None
        if not conditional:
            return request, key, entry
        answer = get_conditional_response(request, etag=entry[4], last_modified=entry[5])
        if answer is None:
            return request, key, entry
        # A 304 with the headers Django gave the last one, or Django answers (and it is copied).
        not_modified = found.get(key + ":304")
        current_304 = not_modified is not None and not_modified[0] == token
        return request, key, not_modified if answer.status_code == 304 and current_304 else None

    def _serve(
        self,
        environ: dict,
        start_response: StartResponse,
        request: Any,
        plan: str,
        entry: Entry,
        started: float,
    ) -> Iterable[bytes] | None:
        if plan == "api" and not _throttle_allows(request):
            return None  # DRF answers the 429 (the throttle recorded nothing)
        _, status, headers, body, _, _ = entry
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        environ[REQUEST_ID_ENVIRON] = request_id
        environ[CLIENT_IP_ENVIRON] = client_address(request)
        start_response(
            status, [(k, request_id) if k.lower() == _REQUEST_ID else (k, v) for k, v in headers]
        )
        _count(environ, request.scheme, status, time.perf_counter() - started)
        return [body]

    # --- A miss: Django answers, and a public answer is copied ---

    def _through(
        self, environ: dict, start_response: StartResponse, key: str, plan: str
    ) -> Iterable[bytes]:
        copyable = environ.get("REQUEST_METHOD") == "GET" and not environ.get("HTTP_COOKIE")
        if not copyable:
            return self.app(environ, start_response)
        seen: list = []

        def recording(status: str, headers: list, exc_info: Any = None) -> Any:
            seen[:] = [status, headers]
            if exc_info is not None:
                return start_response(status, headers, exc_info)
            return start_response(status, headers)

        environ.pop(public_cache.STAMP_ENVIRON, None)
        response = self.app(environ, recording)
        try:
            _copy(key, environ.get(public_cache.STAMP_ENVIRON), seen, response)
        except Exception:  # a copy not made is only a later miss
            _failed("public answer not copied")
        return response


def wrap(app: Callable[[dict, StartResponse], Iterable[bytes]]) -> FastCache:
    return FastCache(app)


# --- Helpers ----------------------------------------------------------------------------------

#: A failure of the fast path is logged at most once a minute (Django answered each request).
WARN_EVERY = 60.0
_last_warning = [float("-inf")]


def _failed(message: str) -> None:
    now = time.monotonic()
    if now - _last_warning[0] >= WARN_EVERY:
        _last_warning[0] = now
        logger.warning("%s; Django answered", message, exc_info=True)


def _eligible(environ: dict) -> str | None:
    """ "page" or "api" for an anonymous GET or HEAD of a public answer, else None."""
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return None
    path = environ.get("PATH_INFO", "")
    if PAGE_PATH.fullmatch(path):
        plan = "page"
    elif API_PATH.fullmatch(path):
        plan = "api"
    else:
        return None
    if any(environ.get(name) for name in _REFUSED_HEADERS):
        return None
    cookies = environ.get("HTTP_COOKIE")
    if cookies and not _only_csrf_cookie(cookies):
        return None
    return plan


def _only_csrf_cookie(header: str) -> bool:
    """Only a well-formed CSRF cookie, which Django leaves alone (a malformed one it replaces,
    with a ``Set-Cookie``)."""
    cookies = parse_cookie(header)
    if set(cookies) != {settings.CSRF_COOKIE_NAME}:
        return not cookies
    return _CSRF_SECRET.fullmatch(cookies[settings.CSRF_COOKIE_NAME]) is not None


_serializer = RedisSerializer()


def _get_many(names: list[str]) -> dict[str, Any] | None:
    """``cache.get_many(names)`` in one MGET; None without Redis (``CACHES`` not on Redis, or
    Redis not answering: the cache then uses its fallback for ``RETRY_AFTER`` seconds, as for
    any call of its own). Through one client kept on the cache: Django's makes a new
    ``redis.Redis`` for every call, which costs more than the MGET."""
    backend = caches["default"]
    if not isinstance(backend, FallbackRedisCache) or backend.degraded:
        return None  # a process's own cache: another worker's commit would not reach its copy
    client = backend.__dict__.get("_fastcache_client")
    if client is None:
        client = backend._fastcache_client = backend._cache.get_client(None, write=False)  # type: ignore[attr-defined]
    keys = [backend.make_and_validate_key(name) for name in names]
    try:
        values = client.mget(keys)
    except UNREACHABLE as exc:
        backend._redis_failed(exc)
        return None
    backend._redis_answered()
    return {
        name: _serializer.loads(v) for name, v in zip(names, values, strict=True) if v is not None
    }


def _close_old_connections() -> None:
    """What ``request_started`` does (CONN_MAX_AGE, a connection broken by an error), but
    never inside a transaction (a test's)."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def _reads(plan: str):
    """The API's views read from the portal's replica (``proposals.replica``): so does the
    stamp of their key, so a copy is never newer than what its view would read."""
    if plan != "api":
        return contextlib.nullcontext()
    from proposals.replica import portal_reads

    return portal_reads()


def _throttle_allows(request: Any) -> bool:
    from proposals.api.common import PublicAPIView

    request.user = None  # anonymous: DRF's AnonRateThrottle keys on the client's address
    return all(
        throttle().allow_request(request, None) for throttle in PublicAPIView.throttle_classes
    )


def _copy(key: str, token: str | None, seen: list, response: Any) -> None:
    """Copy Django's answer under ``key`` with the stamp its view used (``token``) when it is a
    public one (see the module)."""
    if token is None or not seen or not isinstance(response, HttpResponse):  # a file, a stream
        return
    status, headers = seen
    code = int(status.split(None, 1)[0])
    if code not in (200, 304, 410):
        return
    found = {k.lower(): v for k, v in headers}
    control = {part.strip().split("=", 1)[0] for part in found.get("cache-control", "").split(",")}
    vary = {part.strip().lower() for part in found.get("vary", "").split(",") if part.strip()}
    if (
        "set-cookie" in found
        or "public" not in control
        or control & {"private", "no-store", "no-cache"}
        or not vary <= _VARY_ALLOWED
        or "'nonce-" in found.get("content-security-policy", "")
        or "etag" not in found
    ):
        return
    stored = [(k, "") if k.lower() == _REQUEST_ID else (k, v) for k, v in headers]
    last_modified = parse_http_date_safe(found.get("last-modified", ""))
    entry: Entry = (token, status, stored, bytes(response.content), found["etag"], last_modified)
    public_cache.put(key + ":304" if code == 304 else key, entry)


# --- Metrics ----------------------------------------------------------------------------------

_children: dict[tuple[str, str, str], tuple] = {}


def _count(environ: dict, transport: str, status: str, seconds: float) -> None:
    """django-prometheus' counts of a request that never reached its middleware, and ours."""
    try:
        method = environ.get("REQUEST_METHOD", "")
        code = status.split(None, 1)[0]
        labelled = _children.get((method, code, transport))
        if labelled is None:
            labelled = _children[(method, code, transport)] = _labelled(method, code, transport)
        for counter in labelled[:-1]:
            counter.inc()
        labelled[-1].observe(seconds)
    except Exception:  # a metric is never worth a failed answer
        _failed("fast path metrics failed")


def _labelled(method: str, code: str, transport: str) -> tuple:
    from django_prometheus.middleware import Metrics

    metrics = Metrics.get_instance()
    return (
        metrics.requests_total,
        metrics.responses_total,
        metrics.requests_by_method.labels(method),
        metrics.requests_by_transport.labels(transport),
        metrics.responses_by_status.labels(code),
        PUBLIC_FASTCACHE.labels(code),
        metrics.requests_latency_before,
    )
