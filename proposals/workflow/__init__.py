"""The proposal and assignment lifecycle: one function per verb.

Every function here is atomic, locks the row it changes (``select_for_update``), asks the guard
(state from the transition table in ``models``, then role), saves only the fields it changed,
and writes one ``Transition`` row. A refused call raises a ``WorkflowError`` whose message a
person can act on, in Chinese, and leaves the database as it was.

The admin, the API, the proposer pages and the Celery tasks all call these functions; no other
code assigns a status.

The verbs are split by subject — ``errors``, ``guards`` (role and state checks, row locks, the
audit record), ``proposals``, ``coproposers``, ``assignments``, ``extensions``, ``calendar``,
``attachments``, ``edits`` — and every name callers use is re-exported here, so they import from
``proposals.workflow`` and need not know which module holds a verb. The modules import
``errors`` and ``guards`` (``proposals`` also ``coproposers`` and ``assignments``), never
this package.
"""

from proposals.workflow.assignments import (
    UnitRole,
    accept_assignment,
    approve_reassignment,
    assign_proposal,
    close_open_co_assignments,
    log_contact,
    mark_assignment_replied,
    mark_opinion_sent,
    refuse_reassignment,
    reopen_assignment,
    request_reassignment,
)
from proposals.workflow.attachments import add_attachment, remove_attachment
from proposals.workflow.calendar import (
    MovedDue,
    delete_day_override,
    enter_calendar_year,
    recompute_open_due_dates,
    recompute_reply_due,
    set_day_override,
    withdraw_calendar_year,
)
from proposals.workflow.coproposers import (
    clean_coproposers,
    confirm_coproposal,
    decline_coproposal,
    draft_proposal,
    revise_proposal,
)
from proposals.workflow.edits import (
    change_note,
    delete_draft,
    edit_proposal,
    enter_proposal,
)
from proposals.workflow.errors import InvalidInput, NotAllowed, WorkflowError, WrongState
from proposals.workflow.extensions import (
    approve_extension,
    extend_assignment,
    pending_extension_request,
    refuse_extension,
    request_extension,
)
from proposals.workflow.guards import (
    check_state,
    record_transition,
    require_committee,
    require_unit_member,
    required_text,
)
from proposals.workflow.proposals import (
    close_proposal,
    file_proposal,
    merge_proposal,
    not_file_proposal,
    resubmit_proposal,
    return_proposal,
    submit_proposal,
)

__all__ = [
    "InvalidInput",
    "MovedDue",
    "NotAllowed",
    "UnitRole",
    "WorkflowError",
    "WrongState",
    "accept_assignment",
    "add_attachment",
    "approve_extension",
    "approve_reassignment",
    "assign_proposal",
    "change_note",
    "check_state",
    "clean_coproposers",
    "close_open_co_assignments",
    "close_proposal",
    "confirm_coproposal",
    "decline_coproposal",
    "delete_day_override",
    "delete_draft",
    "draft_proposal",
    "edit_proposal",
    "enter_calendar_year",
    "enter_proposal",
    "extend_assignment",
    "file_proposal",
    "log_contact",
    "mark_assignment_replied",
    "mark_opinion_sent",
    "merge_proposal",
    "not_file_proposal",
    "pending_extension_request",
    "recompute_open_due_dates",
    "recompute_reply_due",
    "record_transition",
    "refuse_extension",
    "refuse_reassignment",
    "remove_attachment",
    "reopen_assignment",
    "request_extension",
    "request_reassignment",
    "require_committee",
    "require_unit_member",
    "required_text",
    "resubmit_proposal",
    "return_proposal",
    "revise_proposal",
    "set_day_override",
    "submit_proposal",
    "withdraw_calendar_year",
]
