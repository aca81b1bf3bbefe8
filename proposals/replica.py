"""Reads of the public API from a read replica, when one is configured.

The district portal's traffic is public, read-only and tolerant of a second's replication lag;
the staff's is neither. With ``DATABASE_PORTAL_URL`` set (tracker/settings.py adds the database
alias ``portal`` and this router), every read made while a public API view runs —
``proposals.api.common.PublicAPIView``: the published replies, their PDFs, sessions, units,
statistics — goes to that alias; everything else, and every write (the access audit of a 404
included), goes to ``default``. Nothing is migrated on the replica: it follows the primary.
docs/scaling.md says when to turn it on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

PORTAL = "portal"

_portal_reads: ContextVar[bool] = ContextVar("portal_reads", default=False)


@contextlib.contextmanager
def portal_reads() -> Iterator[None]:
    """Within this block, reads go to the replica (when the router is installed)."""
    token = _portal_reads.set(True)
    try:
        yield
    finally:
        _portal_reads.reset(token)


class PortalReplicaRouter:
    def db_for_read(self, model, **hints):
        return PORTAL if _portal_reads.get() else None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same rows on both: the replica is a copy of the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != PORTAL
