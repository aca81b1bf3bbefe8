"""The errors every workflow verb raises, for the admin, the API and /my/ to show as they are."""

from __future__ import annotations


class WorkflowError(Exception):
    """A refused workflow call. ``message`` is for the person who asked; ``code`` for machines."""

    code = "refused"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class WrongState(WorkflowError):
    code = "wrong_state"


class NotAllowed(WorkflowError):
    code = "not_allowed"


class InvalidInput(WorkflowError):
    code = "invalid"
