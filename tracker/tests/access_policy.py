"""Who may see and change what, written as a table: the policy the access matrix is held to.

``access_matrix.csv`` records what the code answers (status codes, redirects); this module says
what it *should* answer, from SECURITY.md's "Who may see what", without asking the code: no
``visible_to``, no ``permissions``, no model at all. It knows the matrix's world by how
``access_support.build_world`` builds it (``THINGS`` below) and gives each actor a relation to
each object; the table ``RULES`` maps role × relation to what the actor may do with it:

- ``HIDDEN``: may not know it exists — every request answers like an id that names nothing;
- ``READ_ONLY``: may read it (some page or endpoint shows it), and no request of theirs about
  it writes anything;
- ``ALLOWED``: may read it and act on it (what each verb then allows is the workflow's guard,
  tested elsewhere).

Anything not in ``RULES`` is ``HIDDEN``: a new relation is refused until the policy names it.
SECURITY.md covers proposals, assignments, letters, files and feedback; the system records
(audit rows, mail ledgers, users, units, counters, sign-in logs) are not in its table, and their
rows here (``RECORD``, ``AUDIT``, ``COUNTER``, ``SUPERUSER``, ``SETTING``, ``JOB``) write down
the intent the admin implements: the committee administers, the supervision office reads, units
and members see none of it but their own notification setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Outcome(Enum):
    HIDDEN = "refused as missing"
    READ_ONLY = "read-only"
    ALLOWED = "allowed"


HIDDEN, READ_ONLY, ALLOWED = Outcome.HIDDEN, Outcome.READ_ONLY, Outcome.ALLOWED

# --- Roles: who the actors of the matrix are ------------------------------------------------

COMMITTEE, SUPERVISION, STAFF, MEMBER, ANONYMOUS = (
    "committee",
    "supervision",
    "unit staff",
    "member",
    "anonymous",
)

#: Each actor's role, and for unit staff their unit (``access_support.ACTORS``).
ACTORS: dict[str, tuple[str, str]] = {
    "committee": (COMMITTEE, ""),
    "supervisor": (SUPERVISION, ""),
    "clerk_a": (STAFF, "A"),
    "signer_a": (STAFF, "A"),
    "clerk_b": (STAFF, "B"),
    "clerk_w": (STAFF, "W"),
    "clerk_x": (STAFF, "X"),
    "proposer": (MEMBER, "P"),
    "proposer_other": (MEMBER, "Q"),
    "anonymous": (ANONYMOUS, ""),
}

# --- Relations: how an object stands to an actor --------------------------------------------

OWN = "their unit's, while it holds an active assignment"
HELD = "a proposal their unit holds an active assignment of"
LEAD_SENT = "the lead unit's reply, sent, to a unit holding an active assignment"
DELIVERED_TO_THEM = "an opinion delivered to their unit as the active lead"
WITHDRAWN = "of a proposal their unit was withdrawn from"
UNRELATED = "of a proposal their unit has no assignment of"
THEIR_PROPOSAL = "their own proposal (led or co-signed)"
REPLY_TO_THEM = "a sent reply to their proposal"
NOT_THEIRS = "another member's"
PUBLIC = "a published, 主动公开 reply not superseded, on the public surface"
RECORD = "a system record (users, units, sessions, reminders, mail ledgers)"
AUDIT = "an audit row (append-only)"
COUNTER = "a 文号 counter"
SUPERUSER = "another app's record (groups, tokens, sign-in logs)"
SETTING = "a user's notification setting"
OWN_SETTING = "their own notification setting"
JOB = "a background job someone else started"
OWN_JOB = "a background job they started"

#: role × relation → outcome. What is not here is HIDDEN.
RULES: dict[tuple[str, str], Outcome] = {
    # SECURITY.md: the committee sees all and files, assigns, decides.
    **{(COMMITTEE, r): ALLOWED for r in (OWN, HELD, RECORD, SETTING, OWN_JOB)},
    (COMMITTEE, AUDIT): READ_ONLY,  # append-only for everyone
    (COMMITTEE, COUNTER): READ_ONLY,  # numbers are taken by signing only
    # The supervision office: all, read-only (no workflow verb, no upload).
    **{(SUPERVISION, r): READ_ONLY for r in (OWN, HELD, RECORD, AUDIT)},
    # Unit staff: their unit's objects while the assignment is active; the lead's reply once
    # sent and opinions delivered to them, to read; nothing once withdrawn or if not involved.
    (STAFF, OWN): ALLOWED,
    (STAFF, HELD): ALLOWED,
    (STAFF, LEAD_SENT): READ_ONLY,
    (STAFF, DELIVERED_TO_THEM): READ_ONLY,
    (STAFF, OWN_SETTING): ALLOWED,
    # Proposers: their own proposals and the sent replies to them (feedback is a write).
    (MEMBER, THEIR_PROPOSAL): ALLOWED,
    (MEMBER, REPLY_TO_THEM): ALLOWED,
    # Anyone, signed in or not, on the portal and the public API.
    **{(role, PUBLIC): READ_ONLY for role in (COMMITTEE, SUPERVISION, STAFF, MEMBER, ANONYMOUS)},
}


# --- The world: what each object of the matrix is, as build_world makes it -------------------


@dataclass(frozen=True)
class Thing:
    """One object of the world. ``unit`` owns it (a letter, an assignment and what hangs on
    it); ``kind`` says which rule of SECURITY.md's table applies."""

    kind: str  # proposal, assignment, reply, opinion, file, feedback, or a system kind
    unit: str = ""
    state: str = ""
    public: bool = False  # published, 主动公开, not superseded


#: The world's proposal: led by P; units A (lead) and C (co) hold active assignments, W (lead)
#: and X (co) held it and were withdrawn; B never had it. C has no actor in the matrix.
ACTIVE_UNITS = frozenset({"A", "C"})
WITHDRAWN_UNITS = frozenset({"W", "X"})
LEAD_UNIT = "A"
PROPOSERS = frozenset({"P"})

THINGS: dict[str, Thing] = {
    "Proposal": Thing("proposal"),
    "ProposalAttachment": Thing("file"),
    "Assignment": Thing("assignment", unit="A"),
    "ContactRecord": Thing("assignment", unit="A"),
    "Reply:published": Thing("reply", unit="A", state="published", public=True),
    "Reply:draft": Thing("reply", unit="A", state="draft"),
    "Reply:withdrawn": Thing("reply", unit="W", state="draft"),
    # A follow-up sent, not yet published: in the review queue before publication (issue 22).
    "Reply:sent": Thing("reply", unit="A", state="sent"),
    "CoOpinion:delivered": Thing("opinion", unit="C", state="delivered"),
    "CoOpinion:draft": Thing("opinion", unit="C", state="draft"),
    "CoOpinion:withdrawn": Thing("opinion", unit="X", state="draft"),
    "Feedback": Thing("feedback", unit="A"),  # P's, on A's reply: read in the admin by A
    **{name: Thing(RECORD) for name in ("User", "Unit", "Session", "Proposer")},
    **{name: Thing(RECORD) for name in ("DayOverride", "CalendarYear")},
    **{name: Thing(RECORD) for name in ("Reminder", "ScanRun", "Digest", "EventNotice")},
    "LoginLinkMail": Thing(RECORD),
    # Issue 21: invitations, notices to members and their channels (the admin's 委员账号).
    **{name: Thing(RECORD) for name in ("Invitation", "MemberNotice", "MemberPreference")},
    # Issue 23: unit A's seal (its staff and the committee manage it) and what signing recorded.
    "UnitSeal": Thing("seal", unit="A"),
    "LetterSignature": Thing(AUDIT),
    **{name: Thing(AUDIT) for name in ("Transition", "AccessEvent")},
    "DocNumberCounter": Thing(COUNTER),
    **{
        name: Thing(SUPERUSER)
        for name in ("Group", "TokenProxy", "AccessAttempt", "AccessLog", "AccessFailureLog")
    },
    "NotificationPreference": Thing(SETTING, unit="A"),  # clerk_a's own
    "job:import": Thing(JOB),  # started by the committee
    "job:pdfs": Thing(JOB),
}
#: Whose the per-user objects are.
SETTING_OWNER = "clerk_a"
JOB_OWNER = "committee"

SENT = frozenset({"sent", "published"})


def relation(actor: str, obj: str, *, public: bool = False) -> str:
    """How ``obj`` (a matrix object: "Reply:draft") stands to ``actor``; on a public route
    only publication counts."""
    thing = THINGS[obj]
    role, home = ACTORS[actor]
    if public:
        return PUBLIC if thing.public else UNRELATED
    if thing.kind in (RECORD, AUDIT, COUNTER, SUPERUSER):
        return thing.kind
    if thing.kind == SETTING:
        return OWN_SETTING if actor == SETTING_OWNER else SETTING
    if thing.kind == JOB:
        return OWN_JOB if actor == JOB_OWNER else JOB
    if role in (COMMITTEE, SUPERVISION):
        return HELD if thing.kind in ("proposal", "file") else OWN
    if role == MEMBER:
        return _member_relation(home, thing)
    if role == STAFF:
        return _unit_relation(home, thing)
    return UNRELATED


def _unit_relation(unit: str, thing: Thing) -> str:
    """SECURITY.md: everything through an active assignment of the proposal, then by kind."""
    if unit not in ACTIVE_UNITS:
        return WITHDRAWN if unit in WITHDRAWN_UNITS else UNRELATED
    if thing.kind in ("proposal", "file"):
        return HELD
    if thing.unit == unit:
        return OWN
    if thing.kind == "reply" and thing.unit == LEAD_UNIT and thing.state in SENT:
        return LEAD_SENT
    if thing.kind == "opinion" and unit == LEAD_UNIT and thing.state == "delivered":
        return DELIVERED_TO_THEM
    return UNRELATED


def _member_relation(member: str, thing: Thing) -> str:
    """SECURITY.md: their proposals (and files); on /my/ the sent replies to them; never
    opinions, drafts, assignments or feedback records by id."""
    if member not in PROPOSERS:
        return NOT_THEIRS
    if thing.kind in ("proposal", "file"):
        return THEIR_PROPOSAL
    if thing.kind == "reply" and thing.state in SENT:
        return REPLY_TO_THEM
    return NOT_THEIRS


def outcome(actor: str, obj: str, *, public: bool = False) -> Outcome:
    """What ``actor`` may do with ``obj`` by the policy (HIDDEN unless a rule says more)."""
    role, _home = ACTORS[actor]
    return RULES.get((role, relation(actor, obj, public=public)), HIDDEN)


def may_read(actor: str, obj: str, *, public: bool = False) -> bool:
    return outcome(actor, obj, public=public) is not HIDDEN


def may_write(actor: str, obj: str) -> bool:
    return outcome(actor, obj) is ALLOWED
