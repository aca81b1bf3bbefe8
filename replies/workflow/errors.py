"""The replies' own refusal, next to the ones they share with the proposals
(``proposals.workflow.errors``: ``InvalidInput``, ``NotAllowed``, ``WrongState``)."""

from __future__ import annotations

from proposals.workflow import WorkflowError


class StaleVersion(WorkflowError):
    """A draft was saved from a version someone else has replaced meanwhile."""

    code = "stale_version"
