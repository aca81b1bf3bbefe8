"""Celery wrappers: each takes ids, calls one domain function, and can run twice without harm."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True, max_retries=5)
def render_signed_pdf(kind: str, pk: int) -> bool:
    from replies.workflow import store_signed_pdf

    return store_signed_pdf(kind, pk)
