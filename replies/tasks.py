"""Celery wrappers: each takes ids, calls one domain function, and can run twice without harm.

The signed letters' renders are ``OutboxTask``s: queued while the broker is unreachable, they
wait in the outbox (``proposals.outbox``) instead of failing the signature that started them.
A draft's preview is not: one rendered after an outage is of no use (``replies.previews``).

The workflow queues the renders (``replies.workflow``, on commit) and imports this module; this
module imports the rendering (``replies.rendering``), never the workflow.
"""

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from proposals.outbox import OutboxTask, deliver
from replies import rendering
from replies.pdf_limits import RENDER_TIME_LIMIT
from replies.previews import PREVIEW_WALL_LIMIT

#: A render is tried this many times (the first and five retries) before the letter is
#: 生成失败; the attempts are counted on the letter, so a redelivered message or a second task
#: for it does not start the count again.
PDF_MAX_ATTEMPTS = 6
#: Seconds before the first retry, doubled each time (full jitter) up to the maximum: at most
#: 1, 2, 4, 8 and 16 minutes. Every countdown stays below CELERY_VISIBILITY_TIMEOUT, or Redis
#: would hand the waiting retry to a second worker (tracker/tests/test_redis_outage.py).
#: Read when a retry is scheduled, so a test may shorten them.
PDF_RETRY_BACKOFF = 60
PDF_RETRY_BACKOFF_MAX = 1800


def retry_countdown(retries: int) -> int:
    """Seconds before retry number ``retries + 1``: exponential, capped, with full jitter."""
    return get_exponential_backoff_interval(
        factor=PDF_RETRY_BACKOFF, retries=retries, maximum=PDF_RETRY_BACKOFF_MAX, full_jitter=True
    )


# Idempotent (a stored PDF is never rendered again), so a lost worker may hand it back.
@shared_task(
    bind=True,
    base=OutboxTask,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=PDF_MAX_ATTEMPTS - 1,
    soft_time_limit=RENDER_TIME_LIMIT,
    time_limit=RENDER_TIME_LIMIT + 30,
)
def render_signed_pdf(self, kind: str, pk: int) -> bool:
    """Render and store a signed letter's PDF. A failure is recorded on the letter and retried
    with backoff until the letter has failed ``PDF_MAX_ATTEMPTS`` times, then it is 生成失败.
    Run eagerly (no broker: ``make run``), one attempt: a retry would hold the request."""
    max_attempts = 1 if self.request.is_eager else PDF_MAX_ATTEMPTS
    try:
        return rendering.store_signed_pdf(kind, pk, max_attempts=max_attempts)
    except rendering.PdfRenderFailed as exc:
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries)) from exc


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def render_missing_pdfs() -> int:
    """Hourly (beat): send what the outbox holds, then enqueue again every signed letter still
    without its PDF after 15 minutes, so a render lost with the broker is made up for; a letter
    is never rendered twice, and one in 生成失败 waits for 重新生成."""
    deliver()
    missing = rendering.unrendered_letters(grace=rendering.RENDER_GRACE, limit=2000)
    for kind, pk in missing:
        render_signed_pdf.delay(kind, pk)
    return len(missing)


# Acknowledged on receipt: a preview lost with its worker is reported on the page that waits
# for it (``previews.stalled``), not rendered an hour later for nobody. The render itself runs
# in a child process with its own limits; the task's limits are a backstop above them.
@shared_task(
    acks_late=False,
    ignore_result=True,
    soft_time_limit=PREVIEW_WALL_LIMIT + 10,
    time_limit=PREVIEW_WALL_LIMIT + 20,
)
def render_letter_preview(token: str) -> None:
    """Render a draft's preview (``replies.previews.run``); on the ``pdf`` queue."""
    from replies.previews import run

    run(token)
