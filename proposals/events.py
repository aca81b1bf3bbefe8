"""Events the workflow announces, for whoever must act next, without importing that someone.

The base apps (``proposals``, ``replies``) must not import ``tracker`` (dependencies run
``tracker`` → ``replies`` → ``proposals``), yet ``tracker`` sends the notices: "an assignment
reached your unit", "a draft awaits your signature". So a workflow function says, in one line,
``events.emit("reply_sent", reply_id=reply.pk)``, and ``tracker.apps.TrackerConfig.ready``
registers the handler that turns it into e-mails.

Why not Django signals (``post_save`` and friends):

- explicit: an event is named by the verb that caused it and emitted at exactly one call site,
  inside the workflow function. ``grep 'emit("reply_sent"'`` finds the cause; a ``post_save``
  receiver fires on every save (factories, migrations, the admin) and must guess why;
- on commit: handlers run only after the workflow's transaction commits
  (``transaction.on_commit``), never on a rollback, and never see half-written rows. A
  handler that fails is logged and cannot undo the committed workflow call (``robust``);
- durable: ``emit`` writes a ``PendingEvent`` row in the workflow's transaction and the
  handlers delete it once they all ran, so an event whose process died after the commit, or
  whose handler failed, is delivered by the hourly ``redeliver`` (``tracker.tasks.retry_unsent``);
- ids only: handlers receive primary keys and load what they need, like Celery tasks do.

Events and their ids (keep this list in step with the ``emit`` calls):

=========================  =====================================  =================================
event                      emitted by                              ids
=========================  =====================================  =================================
``coproposal_invited``     ``draft_proposal``, ``revise_proposal``  ``proposal_id``
                           (co-proposers left to confirm)
``assignment_created``     ``proposals.workflow.assign_proposal``  ``assignment_id``
``reassignment_decided``   ``approve_reassignment``,               ``assignment_id``
                           ``refuse_reassignment``
``extension_decided``      ``extend_assignment`` (answering a      ``assignment_id``
                           pending request), ``refuse_extension``
``awaiting_signature``     ``replies.workflow.submit_reply``,      ``reply_id`` or ``opinion_id``
                           ``submit_opinion``
``reply_sent``             ``replies.workflow.send_reply``         ``reply_id``
``feedback_not_satisfied`` ``replies.workflow.record_feedback``    ``feedback_id``
=========================  =====================================  =================================
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

Handler = Callable[..., None]

_handlers: dict[str, list[Handler]] = {}
_silenced: ContextVar[bool] = ContextVar("proposals_events_silenced", default=False)


def register(name: str, handler: Handler) -> None:
    """Call ``handler(**ids)`` after the commit of every transaction that emits ``name``.

    Registering the same handler twice is a no-op, so an ``AppConfig.ready`` that runs twice
    (as it may in tests) does not double the notices.
    """
    handlers = _handlers.setdefault(name, [])
    if handler not in handlers:
        handlers.append(handler)


def unregister(name: str, handler: Handler) -> None:
    with contextlib.suppress(KeyError, ValueError):
        _handlers[name].remove(handler)


def handlers_for(name: str) -> tuple[Handler, ...]:
    return tuple(_handlers.get(name, ()))


def emit(name: str, **ids: int) -> None:
    """Announce ``name``: each registered handler runs once the current transaction commits.

    Outside a transaction (autocommit) the handlers run at once. Inside ``silenced()`` nothing
    is announced.
    """
    if _silenced.get():
        return
    if not handlers_for(name):
        return
    from proposals.models import PendingEvent  # models import this module

    pending = PendingEvent.objects.create(name=name, ids=ids)
    transaction.on_commit(_bind(pending.pk, name, ids), robust=True)


def _run_handlers(name: str, ids: dict[str, int]) -> bool:
    """Every handler of ``name``; True when none raised (a failure is logged, not raised)."""
    ok = True
    for handler in handlers_for(name):
        logger.debug("event %s %s → %s", name, ids, getattr(handler, "__qualname__", handler))
        try:
            handler(**ids)
        except Exception:
            logger.exception("event %s %s: handler %s failed", name, ids, handler)
            ok = False
    return ok


def _bind(pending_id: int, name: str, ids: dict[str, int]) -> Callable[[], None]:
    def run_handlers() -> None:
        from proposals.models import PendingEvent

        if _run_handlers(name, ids):
            PendingEvent.objects.filter(pk=pending_id).delete()

    run_handlers.__qualname__ = f"emit.{name}"
    return run_handlers


def redeliver(older_than: datetime.timedelta = datetime.timedelta(minutes=10)) -> int:
    """Run the handlers of events left undelivered for longer than ``older_than`` — their
    process died after the commit, or a handler failed — and forget those that now succeed.
    Each row is locked while it runs, so two sweeps never deliver the same one twice at once.
    Returns how many were delivered."""
    from proposals.models import PendingEvent

    cutoff = timezone.now() - older_than
    delivered = 0
    ids = list(
        PendingEvent.objects.filter(created_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in ids:
        with transaction.atomic():
            row = PendingEvent.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if row is None:
                continue
            if _run_handlers(row.name, row.ids):
                row.delete()
                delivered += 1
    return delivered


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Announce nothing inside the block: for loading history (demo data, imports), where
    the events happened long ago and nobody must act on them now."""
    token = _silenced.set(True)
    try:
        yield
    finally:
        _silenced.reset(token)
