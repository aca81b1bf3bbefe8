"""The admin of ``proposals``, split by subject; the names other apps use are re-exported here.

``access`` says who sees and changes what (for every app's admin), ``verbs`` turns workflow
functions into actions and buttons, ``displays`` holds the shared read-only tables; the other
modules register one subject each.
"""

from proposals.admin.access import (
    PRIVATE_FIELDS,
    OfficeAdmin,
    OfficeInline,
    ReadOnlyInline,
    SaveChangedFieldsMixin,
    VisibilityMixin,
    _is_committee,
    _may_run_unit_verbs,
    _sees_everything,
    _unit_ids,
    proposals_visible_to,
    touches_private_field,
    visible_choices,
)
from proposals.admin.displays import (
    _due_dates_table,
    _state_change,
    _transitions_table,
    _when,
    content_disposition,
    due_status,
)
from proposals.admin.verbs import (
    COMMITTEE,
    PANELS,
    UNIT,
    Verb,
    VerbAdmin,
    _verb_action,
    register_panel,
)
from proposals.models import STATE_LABELS
from proposals.selectors import REPLY_CLOCKS

from proposals.admin import people  # isort: skip  (registration order: reference data first)
from proposals.admin import proposals  # isort: skip
from proposals.admin import assignments  # isort: skip
from proposals.admin import audit  # isort: skip
from proposals.admin import calendar_years  # noqa: F401  # isort: skip
from proposals.admin.assignments import (  # isort: skip
    ASSIGNMENT_VERBS,
    DUE_SOON_WORKDAYS,
    AssignmentAdmin,
    ContactRecordAdmin,
    filter_due,
    with_current_due,
)
from proposals.admin.proposals import PROPOSAL_VERBS, ProposalAdmin  # isort: skip

__all__ = [
    "ASSIGNMENT_VERBS",
    "COMMITTEE",
    "DUE_SOON_WORKDAYS",
    "PANELS",
    "PRIVATE_FIELDS",
    "PROPOSAL_VERBS",
    "REPLY_CLOCKS",
    "STATE_LABELS",
    "UNIT",
    "AssignmentAdmin",
    "ContactRecordAdmin",
    "OfficeAdmin",
    "OfficeInline",
    "ProposalAdmin",
    "ReadOnlyInline",
    "SaveChangedFieldsMixin",
    "Verb",
    "VerbAdmin",
    "VisibilityMixin",
    "_due_dates_table",
    "_is_committee",
    "_may_run_unit_verbs",
    "_sees_everything",
    "_state_change",
    "_transitions_table",
    "_unit_ids",
    "_verb_action",
    "_when",
    "assignments",
    "audit",
    "content_disposition",
    "due_status",
    "filter_due",
    "people",
    "proposals",
    "proposals_visible_to",
    "register_panel",
    "touches_private_field",
    "visible_choices",
    "with_current_due",
]
