"""Celery wrappers: each takes ids, calls one domain function, and can run twice without harm."""

import datetime

from celery import shared_task

from replies.pdf import RENDER_TIME_LIMIT


# Idempotent (a stored PDF is never rendered again), so a lost worker may hand it back.
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
    soft_time_limit=RENDER_TIME_LIMIT,
    time_limit=RENDER_TIME_LIMIT + 30,
)
def render_signed_pdf(kind: str, pk: int) -> bool:
    from replies.workflow import store_signed_pdf

    return store_signed_pdf(kind, pk)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def render_missing_pdfs() -> int:
    """Hourly (beat): enqueue again every signed letter still without its PDF after 15 minutes,
    so a render lost with the broker is made up for; a letter is never rendered twice."""
    from replies.workflow import unrendered_letters

    missing = unrendered_letters(grace=datetime.timedelta(minutes=15), limit=2000)
    for kind, pk in missing:
        render_signed_pdf.delay(kind, pk)
    return len(missing)
