"""The cache backend of a deployment: Redis, and the process's own memory while Redis is gone.

``CACHES["default"]`` (``tracker/settings.py``) names ``FallbackRedisCache`` when ``REDIS_URL``
is set. It is Django's ``RedisCache`` until a call fails to reach Redis (connection refused,
host unknown, a timeout); then that call, and every call in the next ``RETRY_AFTER`` seconds,
goes to a ``LocMemCache`` of this process instead, and the first call after that tries Redis
again. So with Redis stopped:

- the API's throttles (DRF keeps each client's history in the cache) still count, per process
  — a client may get a few times its rate across the web workers, never an error;
- the admin's jobs (``tracker.jobs``) cannot be shared with the worker; they ask
  ``degraded()`` and say so rather than start a job nobody will see;
- nothing answers 500 because the cache is down.

What is written to the fallback stays in that process; what Redis held before the outage is
read again once it is back. The outage is logged as a warning at most once a minute
(``WARN_EVERY``), and its end once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

#: What a call that cannot reach Redis raises (``BusyLoadingError``, Redis reading its
#: append-only file after a restart, is a ``ConnectionError`` too).
try:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    UNREACHABLE: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError)
except ImportError:  # pragma: no cover - redis is a dependency
    UNREACHABLE = (ConnectionError, TimeoutError)

#: Seconds the fallback is used after a failure before Redis is tried again.
RETRY_AFTER = 5.0
#: At most one warning per this many seconds while Redis stays unreachable.
WARN_EVERY = 60.0
#: Entries the fallback holds before it culls (per process).
FALLBACK_MAX_ENTRIES = 5000


@dataclass
class _Health:
    """Shared by every thread of the process (Django makes one backend per thread)."""

    lock: threading.Lock
    down_until: float = 0.0
    down_since: float | None = None
    last_warning: float = float("-inf")
    failures: int = 0
    last_error: str = ""


_HEALTH: dict[str, _Health] = {}
_HEALTH_LOCK = threading.Lock()


def _health(location: str) -> _Health:
    with _HEALTH_LOCK:
        return _HEALTH.setdefault(location, _Health(lock=threading.Lock()))


class FallbackRedisCache(RedisCache):
    """``RedisCache`` that degrades to a per-process ``LocMemCache`` while Redis is unreachable.

    ``OPTIONS`` may carry ``RETRY_AFTER`` and ``WARN_EVERY`` (seconds) and
    ``FALLBACK_MAX_ENTRIES`` besides the connection pool's own options (give the pool
    ``socket_connect_timeout`` and ``socket_timeout``, so that an unreachable host fails fast).
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(options.pop("RETRY_AFTER", RETRY_AFTER))
        self.warn_every = float(options.pop("WARN_EVERY", WARN_EVERY))
        max_entries = int(options.pop("FALLBACK_MAX_ENTRIES", FALLBACK_MAX_ENTRIES))
        params["OPTIONS"] = options
        super().__init__(server, params)
        self.location = server if isinstance(server, str) else ",".join(server)
        # The same name in every thread: LocMemCache shares its storage by name.
        self.fallback = LocMemCache(
            f"tracker-cache-fallback:{self.location}",
            {**params, "OPTIONS": {"MAX_ENTRIES": max_entries}},
        )
        self.health = _health(self.location)

    # --- The switch ---

    @property
    def degraded(self) -> bool:
        """True while calls go to the fallback (Redis failed less than RETRY_AFTER ago)."""
        return time.monotonic() < self.health.down_until

    def _redis_failed(self, exc: BaseException) -> None:
        health = self.health
        now = time.monotonic()
        with health.lock:
            health.down_until = now + self.retry_after
            health.failures += 1
            health.last_error = f"{type(exc).__name__}: {exc}"
            if health.down_since is None:
                health.down_since = now
            warn = now - health.last_warning >= self.warn_every
            if warn:
                health.last_warning = now
        if warn:
            logger.warning(
                "Redis cache at %s is unreachable (%s); using this process's memory cache, "
                "retrying Redis every %gs",
                _safe(self.location),
                health.last_error,
                self.retry_after,
            )

    def _redis_answered(self) -> None:
        health = self.health
        if health.down_since is None:
            return
        with health.lock:
            since, health.down_since = health.down_since, None
            health.down_until = 0.0
        if since is not None:
            logger.warning(
                "Redis cache at %s is back after %.0fs",
                _safe(self.location),
                time.monotonic() - since,
            )

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if not self.degraded:
            try:
                result = getattr(RedisCache, name)(self, *args, **kwargs)
            except UNREACHABLE as exc:
                self._redis_failed(exc)
            else:
                self._redis_answered()
                return result
        return getattr(self.fallback, name)(*args, **kwargs)

    # --- Every operation of the cache API goes through the switch ---

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("add", *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("get", *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("set", *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("touch", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("get_many", *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("incr", *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._call("delete_many", *args, **kwargs)

    def clear(self) -> Any:
        return self._call("clear")


def _safe(location: str) -> str:
    """The location without a password (``redis://:secret@host`` → ``redis://***@host``)."""
    scheme, sep, rest = location.partition("://")
    if sep and "@" in rest:
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return location


def degraded(alias: str = "default") -> bool:
    """Whether the cache ``alias`` currently runs on this process's memory instead of Redis
    (always False for a cache without a fallback). Cheap: asks nothing of Redis."""
    backend = caches[alias]
    return bool(getattr(backend, "degraded", False))


def reachable(alias: str = "default") -> bool:
    """Whether Redis answers now (one round trip, or the fallback's verdict while it lasts):
    for code that must not start work the worker cannot see, such as the admin's jobs."""
    backend = caches[alias]
    if not isinstance(backend, FallbackRedisCache):
        return True
    backend.has_key("tracker:cache:probe")
    return not backend.degraded
