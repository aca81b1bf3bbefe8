"""System checks: a bad deadline setting stops ``manage.py check`` (and every deploy) early.

Deadline lengths come from the environment; a typo such as ``DEADLINE_REPLY=3,month`` would
otherwise surface only when the first proposal is assigned, as a crash or a wrong due date.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from proposals.deadlines import parse_rule

# The clocks the code asks for by name (docs/domain.md, "Deadlines").
EXPECTED_CLOCKS = (
    "reassignment",
    "first_contact",
    "co_opinion",
    "reply",
    "rehandling_reply",
    "publication",
)

HINT = 'Use (amount, unit) with unit "days", "workdays" or "months", e.g. "3,months".'


@register()
def check_proposal_deadlines(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every expected clock is configured and every configured value parses."""
    deadlines = getattr(settings, "PROPOSAL_DEADLINES", None)
    if not isinstance(deadlines, dict):
        return [
            Error(
                "settings.PROPOSAL_DEADLINES must be a dict of clock name to (amount, unit).",
                hint=HINT,
                id="proposals.E001",
            )
        ]
    errors: list[CheckMessage] = [
        Error(
            f"settings.PROPOSAL_DEADLINES is missing the {clock!r} deadline.",
            hint=HINT,
            id="proposals.E001",
        )
        for clock in EXPECTED_CLOCKS
        if clock not in deadlines
    ]
    for clock, value in deadlines.items():
        try:
            parse_rule(value)
        except ValueError as exc:
            errors.append(
                Error(
                    f"settings.PROPOSAL_DEADLINES[{clock!r}] is invalid: {exc}",
                    hint=HINT,
                    id="proposals.E001",
                )
            )
    return errors
