"""Celery wrapper: takes an id, calls one function, can run twice without harm."""

from celery import shared_task

from publication import rendering


@shared_task(acks_late=True, reject_on_worker_lost=True, queue="pdf")
def render_public_pdf(reply_id: int) -> bool:
    return rendering.store_public_pdf(reply_id)
