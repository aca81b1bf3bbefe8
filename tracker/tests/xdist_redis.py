"""Each pytest-xdist worker gets its own Redis database (loaded with ``-p``, see pyproject).

Several tests empty the cache (``cache.clear()`` is Redis's FLUSHDB: the whole database, key
prefix or not) — the lockout tests, the proxy throttle tests. With both workers on one database,
one worker's clear wiped the other's admin job or throttle counters mid-test, now and then. So
before Django reads its settings, ``REDIS_URL``'s database number is moved up by the worker's
index (``gw0`` keeps it, ``gw1`` takes the next, …), for the cache and the Celery broker alike.
"""

from __future__ import annotations

import os
import re

_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_url = os.environ.get("REDIS_URL", "")
_match = re.fullmatch(r"(redis://[^/]+)/(\d+)", _url)
if _worker.startswith("gw") and _match:
    _db = (int(_match.group(2)) + int(_worker[2:])) % 16
    os.environ["REDIS_URL"] = f"{_match.group(1)}/{_db}"
