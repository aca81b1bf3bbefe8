"""Previews of unsigned letters, rendered by a Celery worker and never in the web process.

A render grows with the letter (a letter at the size bounds takes a few seconds, and one over
them is refused by ``replies.pdf.check_letter_size`` before anything else), so the web request
only queues it and waits ``PREVIEW_WAIT`` seconds: the PDF if it is ready by then, otherwise a
page that polls until it is. The worker renders in a child process with its own time and
memory limits (``replies.pdf.render_letter_pdf_isolated``).

A preview is a record in the cache (Redis when ``REDIS_URL`` is set, so that the web process and
the worker see the same one) under an unguessable token: who asked, for which letter, the
``Letter`` to render (dropped once rendered), its state (queued → running → done | failed) and,
when it failed, why in Chinese; the PDF is kept beside it. The first page comes ahead of the
rest (``first``: its PDF is kept beside the record as soon as the child has laid it out,
``replies.pdf_first_page``), so the editor shows it while the worker lays out the other pages.
A record is read only by the user who asked, for the letter it was asked for (``get_for``),
and the admin view asks the letter's own visibility first: the token alone shows nothing.

When the preview cannot work it says so at once, in Chinese (``Unavailable``), the way the
admin's jobs do (``tracker.jobs``): the cache on this process's memory (Redis unreachable), the
broker refusing the message, or no worker alive (the heartbeat beat's ``tracker.health``
task writes every minute is older than ``HEALTH_HEARTBEAT_MAX_AGE``). A preview is never put in
the outbox (``proposals.outbox``): one rendered after the outage is of no use to anybody.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from replies.letter import Letter

#: Seconds a preview request waits for the worker before it answers with the waiting page: a
#: seed letter (6 pages, ~0.5 s in a warm worker) is usually back within it, and a web worker
#: is never held longer — with gunicorn's two sync workers both on previews, another request
#: waits under a second for one of them.
PREVIEW_WAIT = 0.8
#: Seconds a look at a waiting preview (``?preview=<token>``) waits for it before the waiting
#: page asks again at once: the PDF is answered within ``POLL_EVERY`` of being stored, while a
#: web worker is held at most this long at a time (other requests get their turn between).
STATUS_WAIT = 0.4
#: Seconds between two looks at the record while waiting: a Redis GET of a small record, so
#: looking often costs nothing, and the PDF is answered within this much of being stored (at
#: 0.1 s a preview waited 50 ms on average for the next look; issue 24).
POLL_EVERY = 0.02
#: CPU seconds and MB of address space (above the worker's own) a preview's render may take;
#: ``replies.pdf.WALL_FACTOR`` times the seconds of waiting at most. A letter at every size
#: bound takes ~4 s of CPU and 30–60 MB more than the worker on the 2-CPU test machine.
PREVIEW_TIME_LIMIT = 20
PREVIEW_MEMORY_MB = 384
#: Seconds of wall-clock time a render may take before it is stopped (a busy machine).
PREVIEW_WALL_LIMIT = PREVIEW_TIME_LIMIT * 3
#: A preview no worker has started within this many seconds is reported as not running (and
#: its message expires: a worker that comes back later drops it).
PREVIEW_GIVE_UP = 60
#: How long the record and the PDF are kept.
PREVIEW_TTL = 600

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"

logger = logging.getLogger(__name__)

_RECORD = "replies:preview:"
_PDF = "replies:preview-pdf:"
_FIRST = "replies:preview-first:"


class Unavailable(Exception):
    """Previews cannot work now; ``message`` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def start(letter: Letter, *, user_id: int, kind: str, pk: int) -> dict[str, Any]:
    """Queue the render of ``letter`` (previewed by ``user_id``, of the ``kind`` letter ``pk``)
    and return its record."""
    record: dict[str, Any] = {
        "token": uuid.uuid4().hex,
        "user_id": user_id,
        "target": [kind, pk],
        "state": QUEUED,
        "message": "",
        "created": time.time(),
        "letter": letter,
    }
    if not _eager() and not worker_alive():
        raise Unavailable(
            _(
                "预览暂时无法生成：后台任务（Celery worker）没有在运行。"
                "请稍后再试，或联系系统管理员。"
            )
        )
    _save(record)
    if _degraded():
        raise Unavailable(
            _("缓存服务（Redis）暂时无法连接，预览暂时无法生成。请稍后再试，或联系系统管理员。")
        )
    _publish(record["token"])
    return get(record["token"]) or record


def _publish(token: str) -> None:
    from proposals.outbox import BROKER_ERRORS, broker_down
    from replies.tasks import render_letter_preview

    unreachable = _("消息队列（Redis）暂时无法连接，预览暂时无法生成。请稍后再试。")
    if broker_down():
        raise Unavailable(unreachable)
    try:
        # No retries: an unreachable broker is reported now, not after Celery's own attempts.
        render_letter_preview.apply_async((token,), expires=PREVIEW_GIVE_UP, retry=False)
    except BROKER_ERRORS as exc:
        raise Unavailable(unreachable) from exc


def wait(
    record: dict[str, Any], seconds: float | None = None, *, first: bool = False
) -> dict[str, Any]:
    """The record once it is done or failed — or, with ``first``, once its first page is ready
    (``first_pdf``) — or as it stands after ``seconds`` (``PREVIEW_WAIT``)."""
    deadline = time.monotonic() + (PREVIEW_WAIT if seconds is None else seconds)
    while not _ended(record, first) and time.monotonic() < deadline:
        time.sleep(POLL_EVERY)
        record = get(record["token"]) or record
    return record


def _ended(record: dict[str, Any], first: bool) -> bool:
    return record["state"] in (DONE, FAILED) or (first and bool(record.get("first")))


def get(token: str) -> dict[str, Any] | None:
    if not token or len(token) != 32 or not token.isalnum():
        return None
    record = cache.get(_RECORD + token)
    if record is None and _degraded():
        raise Unavailable(_("缓存服务（Redis）暂时无法连接，暂时无法读取预览。请稍后刷新本页。"))
    return record


def get_for(token: str, *, user_id: int, kind: str, pk: int) -> dict[str, Any] | None:
    """The record if ``user_id`` asked for it, for this letter; otherwise None."""
    record = get(token)
    if record is None or record["user_id"] != user_id or record["target"] != [kind, pk]:
        return None
    return record


def pdf(record: dict[str, Any]) -> bytes | None:
    """The rendered PDF of a done record (None once it has expired)."""
    return cache.get(_PDF + record["token"])


def first_pdf(record: dict[str, Any]) -> bytes | None:
    """The first page alone, stored while the rest of the letter is laid out (None before it
    is ready and once it has expired)."""
    return cache.get(_FIRST + record["token"]) if record.get("first") else None


def stalled(record: dict[str, Any], *, now: float | None = None) -> str:
    """Why a record that is neither done nor failed will not be, or "" while it may still be:
    no worker took it within ``PREVIEW_GIVE_UP``, or its render outlived every limit."""
    age = (now or time.time()) - record["created"]
    if record["state"] == QUEUED and age > PREVIEW_GIVE_UP:
        return _(
            "预览未能开始：后台任务在%(n)d秒内没有处理，可能未运行或正忙。"
            "请稍后再试，或联系系统管理员。"
        ) % {"n": PREVIEW_GIVE_UP}
    if record["state"] == RUNNING and age > PREVIEW_GIVE_UP + PREVIEW_WALL_LIMIT + 30:
        return _("预览生成中断（后台任务可能已停止），请重新预览。")
    return ""


def run(token: str) -> None:
    """Render a queued preview (the Celery task): the PDF, or the reason it failed."""
    from celery.exceptions import SoftTimeLimitExceeded

    from replies.pdf import LetterTooLarge, RenderFailed, render_letter_pdf_isolated

    record = get(token)
    if record is None or record["state"] != QUEUED:
        return
    _update(record, state=RUNNING)

    def first_page(data: bytes) -> None:
        cache.set(_FIRST + record["token"], data, PREVIEW_TTL)
        _update(record, first=True, letter=None)  # the child has it: not stored again

    try:
        data = render_letter_pdf_isolated(
            record["letter"],
            seconds=PREVIEW_TIME_LIMIT,
            memory_mb=PREVIEW_MEMORY_MB,
            first_page=first_page,
            spare=True,  # forked and warmed after the previous preview (replies.pdf_spare)
        )
    except (LetterTooLarge, RenderFailed) as exc:
        _update(record, state=FAILED, message=exc.message, letter=None)
        return
    except SoftTimeLimitExceeded:
        message = _("生成PDF超时（超过%(n)d秒），已中止。") % {"n": PREVIEW_WALL_LIMIT}
        _update(record, state=FAILED, message=message, letter=None)
        return
    except Exception:  # a fork refused, a full cache: reported on the page, logged here
        logger.exception("preview %s failed", token)
        _update(record, state=FAILED, message=_("生成预览出错，请稍后再试。"), letter=None)
        return
    cache.set(_PDF + record["token"], data, PREVIEW_TTL)
    _update(record, state=DONE, letter=None)


def worker_alive() -> bool:
    """Whether a worker ran the every-minute heartbeat lately (``tracker.health``; read here
    through the app registry, as replies does not import tracker)."""
    try:
        heartbeat = apps.get_model("tracker", "Heartbeat")
    except LookupError:
        return True
    beat_at = heartbeat.objects.filter(name="worker").values_list("beat_at", flat=True).first()
    if beat_at is None:
        return False
    max_age = getattr(settings, "HEALTH_HEARTBEAT_MAX_AGE", 300)
    return (timezone.now() - beat_at).total_seconds() <= max_age


def _save(record: dict[str, Any]) -> None:
    cache.set(_RECORD + record["token"], record, PREVIEW_TTL)


def _update(record: dict[str, Any], **changes: Any) -> None:
    record.update(changes)
    _save(record)


def _degraded() -> bool:
    """The cache runs on this process's memory (``tracker.cache.FallbackRedisCache`` while
    Redis is unreachable): the worker could not see the record."""
    return bool(getattr(cache, "degraded", False))


def _eager() -> bool:
    """No broker (``make run`` without ``REDIS_URL``): the task runs in this process, in the
    child renderer all the same."""
    from replies.tasks import render_letter_preview

    return bool(render_letter_preview.app.conf.task_always_eager)
