"""The base of the tracker: people, units, sessions, proposers, proposals and assignments.

Statuses are stored in English and shown in Chinese. No code outside ``proposals.workflow``
(and the factories of the tests) assigns a status: the transition tables are the one place
that says which verb moves what from where to where.

The models live in modules by subject and are imported from here, as before issue 18's split
(migrations name ``proposals.models.<name>`` for callables such as ``attachment_path``):

    people       users, units, memberships, and what a unit's staff may see
    sessions     sessions with their numbering, proposers
    proposals    proposals, their statuses and transitions, co-proposers, attachments
    assignments  assignments, due dates, extensions, contact records
    audit        transitions (the audit record), checkpoints, access events
    calendar     the working-day calendar
    outbox       events and Celery messages written in the transaction that causes them
"""

from proposals.models.assignments import ASSIGNMENT_TRANSITIONS as ASSIGNMENT_TRANSITIONS
from proposals.models.assignments import OPEN_ASSIGNMENT_STATES as OPEN_ASSIGNMENT_STATES
from proposals.models.assignments import Assignment as Assignment
from proposals.models.assignments import AssignmentQuerySet as AssignmentQuerySet
from proposals.models.assignments import AssignmentState as AssignmentState
from proposals.models.assignments import ContactRecord as ContactRecord
from proposals.models.assignments import ContactRecordQuerySet as ContactRecordQuerySet
from proposals.models.assignments import DueDate as DueDate
from proposals.models.assignments import Extension as Extension
from proposals.models.assignments import ExtensionRequest as ExtensionRequest
from proposals.models.audit import AccessEvent as AccessEvent
from proposals.models.audit import AppendOnlyError as AppendOnlyError
from proposals.models.audit import AuditCheckpoint as AuditCheckpoint
from proposals.models.audit import Transition as Transition
from proposals.models.audit import TransitionQuerySet as TransitionQuerySet
from proposals.models.calendar import CalendarYear as CalendarYear
from proposals.models.calendar import DayOverride as DayOverride
from proposals.models.calendar import today as today
from proposals.models.outbox import OutboxMessage as OutboxMessage
from proposals.models.outbox import PendingEvent as PendingEvent
from proposals.models.people import Membership as Membership
from proposals.models.people import Unit as Unit
from proposals.models.people import User as User
from proposals.models.people import involved_proposal_ids as involved_proposal_ids
from proposals.models.people import unit_ids_of as unit_ids_of
from proposals.models.proposals import EDITABLE_PROPOSAL_STATES as EDITABLE_PROPOSAL_STATES
from proposals.models.proposals import PROPOSAL_TRANSITIONS as PROPOSAL_TRANSITIONS
from proposals.models.proposals import STATE_LABELS as STATE_LABELS
from proposals.models.proposals import VERB_LABELS as VERB_LABELS
from proposals.models.proposals import AttachmentQuerySet as AttachmentQuerySet
from proposals.models.proposals import CoProposer as CoProposer
from proposals.models.proposals import Proposal as Proposal
from proposals.models.proposals import ProposalAttachment as ProposalAttachment
from proposals.models.proposals import ProposalQuerySet as ProposalQuerySet
from proposals.models.proposals import ProposalStatus as ProposalStatus
from proposals.models.proposals import attachment_path as attachment_path
from proposals.models.proposals import state_change_label as state_change_label
from proposals.models.sessions import _ALLOWED_PLACEHOLDERS as _ALLOWED_PLACEHOLDERS
from proposals.models.sessions import _PLACEHOLDER as _PLACEHOLDER
from proposals.models.sessions import NUMBERING_PRESETS as NUMBERING_PRESETS
from proposals.models.sessions import Proposer as Proposer
from proposals.models.sessions import Session as Session
from proposals.models.sessions import format_proposal_number as format_proposal_number
from proposals.models.sessions import validate_number_template as validate_number_template
