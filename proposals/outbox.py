"""Queueing Celery tasks so that nothing a user did is lost while the broker is down.

A task a user's action starts (a signed letter's PDF, a notice) is queued after the commit. If
Redis is unreachable then, ``.delay`` raises — after the action committed, so the user got a
500 for something that was done, and the task was gone. Here instead:

- ``enqueue(task, *args, **kwargs)`` queues the task, or, when the broker cannot be reached,
  writes it to the outbox (``proposals.models.OutboxMessage``: task name, arguments, options,
  attempts, last error) and returns False. ``on_commit(task, *args)`` does that once the
  current transaction commits. Every task of ours that a user's action starts is an
  ``OutboxTask`` (``@shared_task(base=OutboxTask)``), whose ``delay``/``apply_async`` go
  through ``enqueue``: call sites need no change, and a new call site is covered too.
- ``deliver()`` sends what the outbox holds, each row in its own transaction that deletes it
  once the message is published — a row is sent once, or (if the commit itself fails after
  the publish) twice, which the idempotent tasks absorb. It stops at the first broker error.
- Who calls ``deliver``: beat (``tracker.tasks.deliver_outbox``, every five minutes, and the
  hourly sweeps); a worker when it starts (``worker_ready``); and the web process, on its
  first successful publish after an outage and at most once a minute otherwise, when the
  outbox is not empty (``_after_publish``). Beat needs Redis itself, so the web process's
  part is what delivers the outbox as soon as Redis is back and someone does something; the
  beat task is what delivers it when nobody does.

After a broker error the breaker stays open for ``BROKER_RETRY_AFTER`` seconds: tasks go
straight to the outbox without waiting for the broker's connection timeout again. Errors of
the task itself (eager mode, ``make run``) are not broker errors and propagate as before.

The dependency stays one way: this module knows Celery and its own model, never ``replies``
or ``tracker``; tasks are found by name in the Celery app.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from celery import Task, current_app
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

#: Seconds after a broker error during which tasks go to the outbox without trying the broker.
BROKER_RETRY_AFTER = 10.0
#: The web process looks at the outbox at most this often (seconds) after a successful publish.
CHECK_EVERY = 60.0
#: Rows a web process sends in one go (the rest waits for the next call or the sweep).
WEB_BATCH = 50
#: After this many failed attempts a row is shown on the committee's dashboard.
OUTBOX_ALERT_ATTEMPTS = 5
#: Options kept with a row (what routes the message; a countdown is relative, so it is kept too).
PORTABLE_OPTIONS = frozenset({"queue", "routing_key", "exchange", "priority", "countdown"})


def _broker_errors() -> tuple[type[BaseException], ...]:
    """What a publish raises when the broker cannot be reached."""
    errors: list[type[BaseException]] = [ConnectionError, TimeoutError]
    from kombu.exceptions import OperationalError

    errors.append(OperationalError)
    try:
        import redis.exceptions

        errors += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:  # pragma: no cover - redis is a dependency
        pass
    return tuple(errors)


BROKER_ERRORS = _broker_errors()


@dataclass
class _Breaker:
    lock: threading.Lock
    open_until: float = 0.0
    outage: bool = False  # an error was seen and no publish has succeeded since
    last_check: float = float("-inf")


_breaker = _Breaker(lock=threading.Lock())


def broker_down() -> bool:
    """True while the breaker is open (a publish failed less than BROKER_RETRY_AFTER ago)."""
    return time.monotonic() < _breaker.open_until


def reset() -> None:
    """Forget the breaker's state (tests; a process that knows the broker is back)."""
    with _breaker.lock:
        _breaker.open_until = 0.0
        _breaker.outage = False
        _breaker.last_check = float("-inf")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _publish(task: Task, args: Iterable[Any], kwargs: dict[str, Any], options: dict[str, Any]):
    """Celery's own apply_async, whatever the task's class overrides."""
    return Task.apply_async(task, tuple(args), kwargs, **options)


def enqueue(task: Task, *args: Any, **kwargs: Any) -> bool:
    """Queue ``task(*args, **kwargs)``; True when queued, False when kept in the outbox.

    An ``OutboxTask`` is queued through its own ``delay`` (which comes back here, ``send``),
    so that whatever wraps or replaces ``delay`` — a test, a tracing tool — sees the call."""
    if isinstance(task, OutboxTask) or not isinstance(task, Task):
        return task.delay(*args, **kwargs) is not None
    return send(task, args, kwargs) is not None


def on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """``enqueue`` once the current transaction commits (at once outside one). Robust: an error
    of the callback is logged and never undoes, nor fails, the committed action."""
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs), robust=True)


def send(
    task: Task,
    args: Iterable[Any] = (),
    kwargs: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> Any:
    """Publish and return Celery's result, or record the task in the outbox when the broker
    is unreachable and return None (see the module)."""
    args, kwargs, options = list(args), dict(kwargs or {}), dict(options or {})
    if task.app.conf.task_always_eager:
        # No broker: the task runs here, and its own errors are the caller's.
        return _publish(task, args, kwargs, options)
    if broker_down():
        record(task.name, args, kwargs, options, error="broker unavailable (breaker open)")
        return None
    try:
        result = _publish(task, args, kwargs, options)
    except BROKER_ERRORS as exc:
        _broker_failed(exc)
        record(task.name, args, kwargs, options, error=_describe(exc))
        return None
    _after_publish()
    return result


def record(
    name: str,
    args: list[Any],
    kwargs: dict[str, Any],
    options: dict[str, Any],
    *,
    error: str,
):
    """Write a task that could not be queued to the outbox."""
    from proposals.models import OutboxMessage  # models are not ready when this is imported

    row = OutboxMessage.objects.create(
        task=name,
        args=args,
        kwargs=kwargs,
        options={k: v for k, v in options.items() if k in PORTABLE_OPTIONS},
        attempts=1,
        last_error=error,
        last_attempt_at=timezone.now(),
    )
    logger.warning("broker unreachable: task %s%s kept in the outbox (#%s)", name, args, row.pk)
    return row


def _broker_failed(exc: BaseException) -> None:
    with _breaker.lock:
        first = not _breaker.outage
        _breaker.open_until = time.monotonic() + BROKER_RETRY_AFTER
        _breaker.outage = True
    if first:
        logger.warning("Celery broker unreachable (%s); tasks go to the outbox", _describe(exc))


def _broker_answered() -> None:
    """A publish went through: close the breaker at once."""
    with _breaker.lock:
        _breaker.open_until = 0.0
        _breaker.outage = False


def _after_publish() -> None:
    """A publish went through: after an outage, or once a minute, send what the outbox holds."""
    now = time.monotonic()
    with _breaker.lock:
        recovered = _breaker.outage
        due = now - _breaker.last_check >= CHECK_EVERY
        if not (recovered or due):
            return
        _breaker.open_until = 0.0
        _breaker.outage = False
        _breaker.last_check = now
    if recovered:
        logger.warning("Celery broker reachable again; delivering the outbox")
    try:
        from proposals.models import OutboxMessage

        if recovered or OutboxMessage.objects.exists():
            deliver(limit=WEB_BATCH)
    except Exception:  # the caller's task is queued; the sweep delivers the rest later
        logger.exception("delivering the outbox failed")


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0
    left: int = 0


def deliver(*, limit: int = 1000) -> Delivery:
    """Send up to ``limit`` outbox rows, oldest first, each deleted in the transaction that
    published it. Rows another process is sending are skipped; the first broker error stops
    the run (the row counts an attempt). A task this process does not know stays, with the
    error, for the dashboard."""
    from proposals.models import OutboxMessage

    report = Delivery()
    app = current_app
    app.loader.import_default_modules()
    ids = list(OutboxMessage.objects.order_by("pk").values_list("pk", flat=True)[:limit])
    for pk in ids:
        with transaction.atomic():
            row = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if row is None:
                continue
            task = app.tasks.get(row.task)
            error = ""
            # Eagerly (no broker any more), the task runs here: any error of it stays with the
            # row rather than stopping the others.
            failures = Exception if app.conf.task_always_eager else BROKER_ERRORS
            if task is None:
                error = f"unknown task {row.task!r}"
            else:
                try:
                    with transaction.atomic():  # eagerly, the task's own writes stand apart
                        _publish(task, row.args, row.kwargs, row.options)
                except failures as exc:
                    if not app.conf.task_always_eager:
                        _broker_failed(exc)
                    error = _describe(exc)
            if not error:
                row.delete()
                report.sent += 1
                _broker_answered()
                continue
            row.attempts += 1
            row.last_error = error
            row.last_attempt_at = timezone.now()
            row.save(update_fields=["attempts", "last_error", "last_attempt_at"])
            report.failed += 1
            if task is not None and not app.conf.task_always_eager:
                break  # the broker is down: the rest waits for the next run
    report.left = OutboxMessage.objects.count()
    if report.sent or report.failed:
        logger.info("outbox: %s sent, %s failed, %s left", report.sent, report.failed, report.left)
    return report


class OutboxTask(Task):
    """A task whose ``delay``/``apply_async`` keep the message in the outbox when the broker is
    unreachable, instead of raising into the caller.

    Only plain calls (arguments and routing) are kept; a call with Celery's own machinery (a
    retry's task id and headers, links, chords) goes straight to Celery as before.
    """

    def apply_async(self, args=None, kwargs=None, task_id=None, producer=None, link=None,
                    link_error=None, shadow=None, **options):  # fmt: skip
        plain = (
            task_id is None
            and producer is None
            and link is None
            and link_error is None
            and shadow is None
            and set(options) <= PORTABLE_OPTIONS
            and not self.app.conf.task_always_eager
        )
        if not plain:
            return super().apply_async(
                args, kwargs, task_id, producer, link, link_error, shadow, **options
            )
        return send(self, args or (), kwargs or {}, options)
