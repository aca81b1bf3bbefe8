"""The periodic check of stored signed letters (for beat: ``signing.tasks.check_stored_letters``,
e.g. nightly; the dashboard lists the letters that no longer verify)."""

from __future__ import annotations

from celery import shared_task

from signing import checks


@shared_task(name="signing.tasks.check_stored_letters", ignore_result=True)
def check_stored_letters(limit: int = 500) -> dict[str, int]:
    """Check the ``limit`` stored letters checked longest ago; safe to run twice."""
    return checks.check_stored_letters(limit=limit)
