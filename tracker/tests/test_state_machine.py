"""A property test of the whole workflow: random sequences of verbs by random actors.

Hypothesis drives assign, accept, reassign (request, then approve or refuse), draft, edit,
submit, return, sign, send, feedback, publish, correct and the co-handling opinions through the
workflow functions (``proposals.workflow``, ``replies.workflow``), each by an actor drawn from
the committee, the supervision office, the clerks and signers of three units, proposers and
outsiders. Refusals (``WorkflowError``) are expected; anything else is a bug. After every step
it checks:

- the public set (``Reply.objects.published()``) is exactly the published, public replies not
  superseded by a sent correction;
- 文号 are contiguous 1..N per unit and year, and the unit's counter says N;
- a signed reply or opinion never changes (its frozen fields are snapshot at signing; a direct
  ORM save that would change them is refused);
- every actor sees, through ``visible_to``, exactly the proposals, assignments, replies and
  opinions that the rules give from memberships and roles (computed here, independently);
- the audit rows equal the successful transitions: a refused call writes none and moves
  nothing; a successful one writes as many as the states it moved; each object's last audit
  row names its current state.

Each example runs in a savepoint that is rolled back, so examples do not see each other.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from django.db import connection, transaction
from django.db.models import Value
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from proposals import workflow as pwf
from proposals.models import (
    Assignment,
    AssignmentState,
    Membership,
    Proposal,
    ProposalStatus,
    Proposer,
    Transition,
    User,
)
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.models import (
    RESULT_LABELS,
    CoOpinion,
    Disclosure,
    DocNumberCounter,
    Feedback,
    OpinionState,
    Reply,
    ReplyState,
    SignedLetterError,
)

pytestmark = pytest.mark.django_db

MACHINE_SETTINGS = settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

UNITS = 3
#: Ways the committee hands a proposal out: (unit index, role). The last two are refused.
PLANS: tuple[tuple[tuple[int, str], ...], ...] = (
    ((0, "lead"),),
    ((1, "lead"), (2, "co")),
    ((0, "separate"), (1, "separate")),
    ((2, "lead"), (0, "co"), (1, "co")),
    ((1, "co"),),
    ((0, "lead"), (1, "lead")),
)
VALID_PLANS = PLANS[:4]
LABELS = (*list(RESULT_LABELS)[:4], "留作参考", "随便写的结果")
DISCLOSURES = (Disclosure.PUBLIC, Disclosure.PUBLIC, Disclosure.ON_REQUEST, Disclosure.NOT_PUBLIC)
RATINGS = tuple(Feedback.Rating.values)
SENT_STATES = (ReplyState.SENT, ReplyState.PUBLISHED)
VISIBLE_KINDS = ("proposals", "assignments", "replies", "opinions")
VISIBLE_MODELS = (Proposal, Assignment, Reply, CoOpinion)


@dataclass
class World:
    """The people and units every example shares (created once, outside the examples)."""

    actors: dict[str, User]
    units: list[Any]
    clerks: list[list[User]]
    signers: list[list[User]]
    proposers: list[Proposer]
    session: Any = None
    #: SQL compiled once per test (see ``seen_through_visible_to`` and ``states``).
    visibility_sql: tuple[str, tuple] | None = None
    states_sql: tuple[str, tuple] | None = None


def build_world(committee: User, supervisor: User) -> World:
    units = [f.UnitFactory(name=f"状态机测试单位{i}", docno_prefix=f"状{i}") for i in range(UNITS)]
    actors: dict[str, User] = {"committee": committee, "supervisor": supervisor}
    clerks: list[list[User]] = [[] for _ in units]
    signers: list[list[User]] = [[] for _ in units]

    def member(name: str, unit: int, role: str, **kwargs) -> User:
        user = actors.get(name) or f.UserFactory(username=f"sm_{name}", **kwargs)
        f.MembershipFactory(user=user, unit=units[unit], role=role)
        (clerks if role == Membership.Role.CLERK else signers)[unit].append(user)
        actors[name] = user
        return user

    for i in range(UNITS):
        member(f"clerk{i}", i, Membership.Role.CLERK)
        member(f"signer{i}", i, Membership.Role.SIGNER)
    member("dual", 1, Membership.Role.CLERK)  # clerk of unit 1 and signer of unit 2
    member("dual", 2, Membership.Role.SIGNER)
    member("inactive", 0, Membership.Role.CLERK, is_active=False)
    clerks[0].remove(actors["inactive"])
    actors["outsider"] = f.UserFactory(username="sm_outsider")
    proposers = []
    for i in range(2):
        user = f.UserFactory(username=f"sm_member{i}", is_staff=False)
        actors[f"member{i}"] = user
        proposers.append(f.ProposerFactory(name=f"委员{i}", user=user))
    proposers.append(f.ProposerFactory(name="无账号委员"))
    proposers.append(f.ProposerFactory(name="民建界别组", kind=Proposer.Kind.SECTOR_GROUP))
    world = World(actors=actors, units=units, clerks=clerks, signers=signers, proposers=proposers)
    world.session = f.SessionFactory(name="状态机会议")
    return world


PROPER = "proper"
ACTOR_NAMES = (
    "committee",
    "supervisor",
    "clerk0",
    "signer0",
    "clerk1",
    "signer1",
    "clerk2",
    "signer2",
    "dual",
    "inactive",
    "outsider",
    "member0",
    "member1",
)
#: "proper" (the actor the rules expect for the verb and object) half the time, anyone else
#: the other half.
actors = st.sampled_from((PROPER,) * len(ACTOR_NAMES) + ACTOR_NAMES)
picks = st.tuples(st.booleans(), st.integers(min_value=0, max_value=999))


def frozen_values(obj: Reply | CoOpinion) -> dict[str, Any]:
    return {f: getattr(obj, "signer_id" if f == "signer" else f) for f in obj.FROZEN_FIELDS}


class WorkflowMachine(RuleBasedStateMachine):
    world: ClassVar[World]
    #: Successful and refused calls over all examples of a run, for the final sanity check.
    totals: ClassVar[Counter[str]] = Counter()
    refused_totals: ClassVar[Counter[str]] = Counter()

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.baseline = Transition.objects.count()
        self.expected_transitions = 0
        self.frozen: dict[tuple[str, int], dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()
        self.visibility_checked_at: int | None = -1

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        WorkflowMachine.totals.update(self.calls)
        WorkflowMachine.refused_totals.update(self.refusals)

    # --- Who and what ---------------------------------------------------------------------

    def actor(self, name: str, proper: User | None) -> User:
        if name == PROPER and proper is not None:
            return proper
        return self.world.actors["committee" if name == PROPER else name]

    def clerk_of(self, unit_id: int, salt: int = 0) -> User:
        index = next(i for i, u in enumerate(self.world.units) if u.pk == unit_id)
        clerks = self.world.clerks[index]
        return clerks[salt % len(clerks)]

    def signer_of(self, unit_id: int, salt: int = 0) -> User:
        index = next(i for i, u in enumerate(self.world.units) if u.pk == unit_id)
        signers = self.world.signers[index]
        return signers[salt % len(signers)]

    @staticmethod
    def choose(objects: list, fitting: list, pick: tuple[bool, int]):
        prefer, index = pick
        pool = fitting if (prefer and fitting) else objects
        return pool[index % len(pool)] if pool else None

    # --- One workflow call, accounted for -----------------------------------------------------

    def states(self) -> tuple[dict, ...]:
        """The state of every proposal, assignment, reply and opinion (one query)."""
        if self.world.states_sql is None:
            parts = [
                model.objects.order_by()
                .annotate(sm_model=Value(index))
                .values_list("sm_model", "pk", column)
                for index, (model, column) in enumerate(
                    (
                        (Proposal, "status"),
                        (Assignment, "state"),
                        (Reply, "state"),
                        (CoOpinion, "state"),
                    )
                )
            ]
            self.world.states_sql = parts[0].union(*parts[1:], all=True).query.sql_with_params()
        found: tuple[dict, ...] = ({}, {}, {}, {})
        with connection.cursor() as cursor:
            cursor.execute(*self.world.states_sql)
            for kind, pk, state in cursor.fetchall():
                found[kind][pk] = state
        return found

    def attempt(self, verb: str, call, *, units: int = 0) -> Any:
        """Run one workflow call. A refusal must leave everything as it was; a success must
        write one audit row per state it moved (the count is derived from the states)."""
        before = self.states()
        rows_before = Transition.objects.count()
        try:
            result = call()
        except pwf.WorkflowError as exc:
            assert isinstance(exc.message, str) and exc.message
            assert Transition.objects.count() == rows_before, f"{verb}: refused yet audited"
            assert self.states() == before, f"{verb}: refused yet something moved"
            self.refusals[verb] += 1
            return None
        after = self.states()
        moved_proposals = sum(
            1 for pk, s in after[0].items() if pk in before[0] and before[0][pk] != s
        )
        moved_assignments = sum(
            1 for pk, s in after[1].items() if pk in before[1] and before[1][pk] != s
        )
        expected = {
            "assign": units + 1,
            "approve_reassignment": 1 + moved_proposals,
            "send": 1 + moved_assignments + moved_proposals,
            "feedback": 1 + moved_assignments + moved_proposals,
            "deliver_opinion": 1 + moved_assignments,
        }.get(verb, 1)
        self.expected_transitions += expected
        assert Transition.objects.count() - rows_before == expected, verb
        self.calls[verb] += 1
        return result

    # --- Verbs --------------------------------------------------------------------------------

    def assign(self, actor_name: str, proposal: Proposal, plan) -> None:
        actor = self.actor(actor_name, self.world.actors["committee"])
        units = [(self.world.units[i], role) for i, role in plan]
        self.attempt(
            "assign",
            lambda: pwf.assign_proposal(proposal.pk, actor=actor, units=units),
            units=len(units),
        )

    def accept(self, actor_name: str, a: Assignment, salt: int = 0) -> None:
        actor = self.actor(actor_name, self.clerk_of(a.unit_id, salt))
        self.attempt("accept", lambda: pwf.accept_assignment(a.pk, actor=actor))

    def request_reassignment(self, actor_name: str, a: Assignment, salt: int = 0) -> None:
        actor = self.actor(actor_name, self.clerk_of(a.unit_id, salt))
        self.attempt(
            "request_reassignment",
            lambda: pwf.request_reassignment(a.pk, actor=actor, reason="不属于本单位职责"),
        )

    def decide_reassignment(self, actor_name: str, a: Assignment, approve: bool) -> None:
        actor = self.actor(actor_name, self.world.actors["committee"])
        if approve:
            self.attempt(
                "approve_reassignment", lambda: pwf.approve_reassignment(a.pk, actor=actor)
            )
        else:
            self.attempt(
                "refuse_reassignment",
                lambda: pwf.refuse_reassignment(a.pk, actor=actor, note="属于本单位职责"),
            )

    def draft(self, actor_name: str, a: Assignment, salt: int = 0) -> None:
        actor = self.actor(actor_name, self.clerk_of(a.unit_id, salt))
        self.attempt("draft", lambda: rwf.start_reply(a.pk, actor=actor))

    def edit(self, actor_name: str, r: Reply, variant: int) -> None:
        actor = self.actor(actor_name, self.clerk_of(r.unit_id, variant))
        version = r.version - (1 if variant % 11 == 10 else 0)  # now and then a stale editor
        fields = {
            "result_label": LABELS[variant % len(LABELS)],
            "disclosure": DISCLOSURES[variant % len(DISCLOSURES)],
            "body": f"{r.body}\n第{variant}稿。",
        }
        self.attempt("edit", lambda: rwf.edit_reply(r.pk, actor=actor, version=version, **fields))

    def submit(self, actor_name: str, r: Reply, with_reason: bool, salt: int = 0) -> None:
        actor = self.actor(actor_name, self.clerk_of(r.unit_id, salt))
        reason = "会办意见逾期未到，先行提交" if with_reason else ""
        self.attempt("submit", lambda: rwf.submit_reply(r.pk, actor=actor, override_reason=reason))

    def send_back(self, actor_name: str, r: Reply, salt: int = 0) -> None:
        actor = self.actor(actor_name, self.signer_of(r.unit_id, salt))
        self.attempt("return", lambda: rwf.return_reply(r.pk, actor=actor, comment="请补充"))

    def sign(self, actor_name: str, r: Reply, salt: int = 0) -> None:
        actor = self.actor(actor_name, self.signer_of(r.unit_id, salt))
        if self.attempt("sign", lambda: rwf.sign_reply(r.pk, actor=actor)) is not None:
            signed = Reply.objects.get(pk=r.pk)
            assert signed.signed_on is not None and signed.state == ReplyState.SIGNED
            self.frozen[("reply", r.pk)] = frozen_values(signed)

    def send(self, actor_name: str, r: Reply, salt: int = 0) -> None:
        actor = self.actor(actor_name, self.clerk_of(r.unit_id, salt))
        self.attempt("send", lambda: rwf.send_reply(r.pk, actor=actor))

    def publish(self, actor_name: str, r: Reply, salt: int = 0) -> None:
        actor = self.actor(actor_name, self.clerk_of(r.unit_id, salt))
        self.attempt("publish", lambda: rwf.publish_reply(r.pk, actor=actor))

    def feedback(self, actor_name: str, r: Reply, variant: int) -> None:
        proposers = rwf.reply_proposers(r)
        if variant % 5 == 4:  # someone who did not propose this one
            proposers = self.world.proposers
        proposer = proposers[variant % len(proposers)]
        actor = self.actor(actor_name, proposer.user or self.world.actors["committee"])
        rating = RATINGS[variant % len(RATINGS)]
        self.attempt(
            "feedback",
            lambda: rwf.record_feedback(r.pk, actor=actor, proposer=proposer.pk, rating=rating),
        )

    def correct(self, actor_name: str, r: Reply, salt: int = 0) -> None:
        actor = self.actor(actor_name, self.clerk_of(r.unit_id, salt))
        self.attempt(
            "correct", lambda: rwf.supersede_reply(r.pk, actor=actor, reason="文字有误，更正")
        )

    def opinion_step(self, actor_name: str, a: Assignment, salt: int = 0) -> None:
        """The next step of the co-handling opinion of ``a``: start, submit, sign, deliver."""
        opinion = a.opinions.exclude(state=OpinionState.DELIVERED).order_by("-pk").first()
        clerk = self.clerk_of(a.unit_id, salt)
        if opinion is None:
            actor = self.actor(actor_name, clerk)
            self.attempt("start_opinion", lambda: rwf.start_opinion(a.pk, actor=actor))
        elif opinion.state == OpinionState.DRAFT:
            actor = self.actor(actor_name, clerk)
            self.attempt("submit_opinion", lambda: rwf.submit_opinion(opinion.pk, actor=actor))
        elif opinion.state == OpinionState.PENDING_SIGNATURE:
            actor = self.actor(actor_name, self.signer_of(a.unit_id, salt))
            if self.attempt("sign_opinion", lambda: rwf.sign_opinion(opinion.pk, actor=actor)):
                self.frozen[("opinion", opinion.pk)] = frozen_values(
                    CoOpinion.objects.get(pk=opinion.pk)
                )
        else:
            actor = self.actor(actor_name, clerk)
            self.attempt("deliver_opinion", lambda: rwf.deliver_opinion(opinion.pk, actor=actor))

    # --- Rules ----------------------------------------------------------------------------------

    @initialize()
    def file_proposals(self) -> None:
        world = self.world
        committee = world.actors["committee"]
        p0, p1, p2, group = world.proposers
        specs = [(p0, [p1]), (p1, []), (p2, [p0]), (group, [p1])]
        for lead, co in specs:
            proposal = f.ProposalFactory(session=world.session, lead_proposer=lead)
            for position, proposer in enumerate(co, start=1):
                f.CoProposerFactory(proposal=proposal, proposer=proposer, position=position)
            self.attempt("file", lambda p=proposal: pwf.file_proposal(p.pk, actor=committee))

    def proposals(self) -> list[Proposal]:
        return list(Proposal.objects.order_by("pk"))

    def assignments(self) -> list[Assignment]:
        return list(Assignment.objects.order_by("pk"))

    def replies(self) -> list[Reply]:
        return list(Reply.objects.order_by("pk"))

    @rule(actor=actors, pick=picks, plan=st.sampled_from(PLANS))
    def assign_rule(self, actor, pick, plan) -> None:
        proposals = self.proposals()
        fitting = [
            p for p in proposals if p.status in (ProposalStatus.FILED, ProposalStatus.ASSIGNED)
        ]
        self.assign(actor, self.choose(proposals, fitting, pick), plan)

    @precondition(lambda self: Assignment.objects.exists())
    @rule(actor=actors, pick=picks)
    def accept_rule(self, actor, pick) -> None:
        items = self.assignments()
        fitting = [a for a in items if a.state == AssignmentState.PENDING]
        self.accept(actor, self.choose(items, fitting, pick), pick[1])

    @precondition(lambda self: Assignment.objects.exists())
    @rule(actor=actors, pick=picks)
    def request_reassignment_rule(self, actor, pick) -> None:
        items = self.assignments()
        fitting = [
            a for a in items if a.state in (AssignmentState.PENDING, AssignmentState.ACCEPTED)
        ]
        self.request_reassignment(actor, self.choose(items, fitting, pick), pick[1])

    @precondition(lambda self: Assignment.objects.exists())
    @rule(actor=actors, pick=picks, approve=st.booleans())
    def decide_reassignment_rule(self, actor, pick, approve) -> None:
        items = self.assignments()
        fitting = [a for a in items if a.state == AssignmentState.RETURN_REQUESTED]
        self.decide_reassignment(actor, self.choose(items, fitting, pick), approve)

    @precondition(lambda self: Assignment.objects.exists())
    @rule(actor=actors, pick=picks)
    def draft_rule(self, actor, pick) -> None:
        items = self.assignments()
        fitting = [a for a in items if a.state == AssignmentState.ACCEPTED and a.role != "co"]
        self.draft(actor, self.choose(items, fitting, pick), pick[1])

    @precondition(lambda self: Reply.objects.exists())
    @rule(actor=actors, pick=picks, variant=st.integers(0, 999))
    def edit_rule(self, actor, pick, variant) -> None:
        items = self.replies()
        fitting = [r for r in items if r.state == ReplyState.DRAFT]
        self.edit(actor, self.choose(items, fitting, pick), variant)

    @precondition(lambda self: Reply.objects.exists())
    @rule(actor=actors, pick=picks, with_reason=st.booleans())
    def submit_rule(self, actor, pick, with_reason) -> None:
        items = self.replies()
        fitting = [r for r in items if r.state == ReplyState.DRAFT and r.result_label]
        self.submit(actor, self.choose(items, fitting, pick), with_reason, pick[1])

    @precondition(lambda self: Reply.objects.exists())
    @rule(actor=actors, pick=picks)
    def return_rule(self, actor, pick) -> None:
        items = self.replies()
        fitting = [r for r in items if r.state == ReplyState.PENDING_SIGNATURE]
        self.send_back(actor, self.choose(items, fitting, pick), pick[1])

    @precondition(lambda self: Reply.objects.exists())
    @rule(actor=actors, pick=picks)
    def sign_rule(self, actor, pick) -> None:
        items = self.replies()
        fitting = [r for r in items if r.state == ReplyState.PENDING_SIGNATURE]
        self.sign(actor, self.choose(items, fitting, pick), pick[1])

    @precondition(lambda self: Reply.objects.exists())
    @rule(actor=actors, pick=picks)
    def send_rule(self, actor, pick) -> None:
        items = self.replies()
        fitting = [r for r in items if r.state == ReplyState.SIGNED]
        self.send(actor, self.choose(items, fitting, pick), pick[1])

    @precondition(lambda self: Reply.objects.exists())
    @rule(actor=actors, pick=picks, variant=st.integers(0, 999))
    def feedback_rule(self, actor, pick, variant) -> None:
        items = self.replies()
        fitting = [r for r in items if r.state in SENT_STATES]
        self.feedback(actor, self.choose(items, fitting, pick), variant)

    @precondition(lambda self: Reply.objects.exists())
    @rule(actor=actors, pick=picks)
    def publish_rule(self, actor, pick) -> None:
        items = self.replies()
        fitting = [r for r in items if r.state == ReplyState.SENT]
        self.publish(actor, self.choose(items, fitting, pick), pick[1])

    @precondition(lambda self: Reply.objects.exists())
    @rule(actor=actors, pick=picks)
    def correct_rule(self, actor, pick) -> None:
        items = self.replies()
        fitting = [r for r in items if r.signed_on is not None]
        self.correct(actor, self.choose(items, fitting, pick), pick[1])

    @precondition(lambda self: Assignment.objects.filter(role="co").exists())
    @rule(actor=actors, pick=picks)
    def opinion_rule(self, actor, pick) -> None:
        items = [a for a in self.assignments() if a.role == "co"]
        fitting = [a for a in items if a.state == AssignmentState.ACCEPTED]
        self.opinion_step(actor, self.choose(items, fitting, pick), pick[1])

    @precondition(lambda self: Reply.objects.filter(signed_on__isnull=False).exists())
    @rule(pick=st.integers(0, 999), via_update_fields=st.booleans())
    def tamper_with_a_signed_reply(self, pick, via_update_fields) -> None:
        """Code reaching for the ORM cannot change a signed letter either."""
        signed = list(Reply.objects.filter(signed_on__isnull=False).order_by("pk"))
        reply = signed[pick % len(signed)]
        reply.body = "被篡改的正文"
        reply.docno_number = (reply.docno_number or 0) + 100
        with pytest.raises(SignedLetterError), transaction.atomic():
            reply.save(update_fields=["body", "docno_number"] if via_update_fields else None)

    @rule(pick=st.integers(0, 999), steps=st.integers(1, 20), variant=st.integers(0, 999))
    def advance(self, pick, steps, variant) -> None:
        """A diligent office: the next natural moves on one proposal, each by its proper actor
        (so that random runs reach signing, sending, feedback and publication)."""
        self.advance_proposal(pick, steps, variant)

    @rule(pick=st.integers(0, 999), steps=st.integers(1, 20), variant=st.integers(0, 999))
    def advance_another(self, pick, steps, variant) -> None:
        """The same as ``advance``: a second rule makes diligence as likely as mischief."""
        self.advance_proposal(pick, steps, variant)

    def advance_proposal(self, pick: int, steps: int, variant: int) -> None:
        proposals = self.proposals()
        proposal = proposals[pick % len(proposals)]
        for step in range(steps):
            if not self.next_move(proposal.pk, variant + step):
                return

    def next_move(self, proposal_pk: int, variant: int) -> bool:
        proposal = Proposal.objects.get(pk=proposal_pk)
        if proposal.status == ProposalStatus.FILED:
            self.assign(PROPER, proposal, VALID_PLANS[variant % len(VALID_PLANS)])
            return True
        for a in proposal.assignments.active().order_by("pk"):
            if a.state == AssignmentState.PENDING:
                if variant % 9 == 0:
                    self.request_reassignment(PROPER, a, variant)
                else:
                    self.accept(PROPER, a, variant)
                return True
            if a.state == AssignmentState.RETURN_REQUESTED:
                self.decide_reassignment(PROPER, a, approve=variant % 2 == 0)
                return True
            if a.state == AssignmentState.ACCEPTED and a.role == "co":
                self.opinion_step(PROPER, a, variant)
                return True
            # A reply in the making: the first one, a re-handling one, or a correction.
            r = a.replies.exclude(state__in=SENT_STATES).order_by("-pk").first()
            if r is None and a.state == AssignmentState.ACCEPTED:
                self.draft(PROPER, a, variant)
            elif r is None:
                continue
            elif r.state == ReplyState.DRAFT and not r.result_label:
                self.edit(PROPER, r, variant - variant % 11)  # never the stale version
            elif r.state == ReplyState.DRAFT:
                self.submit(PROPER, r, with_reason=True, salt=variant)
            elif r.state == ReplyState.PENDING_SIGNATURE and variant % 7 == 0:
                self.send_back(PROPER, r, variant)
            elif r.state == ReplyState.PENDING_SIGNATURE:
                self.sign(PROPER, r, variant)
            else:
                self.send(PROPER, r, variant)
            return True
        sent = Reply.objects.filter(proposal=proposal, state__in=SENT_STATES).order_by("pk")
        for r in sent:
            if variant % 6 == 5 and not Reply.objects.filter(supersedes=r).exists():
                self.correct(PROPER, r, variant)  # the next moves sign and send the correction
                return True
            if r.state == ReplyState.SENT and r.disclosure == Disclosure.PUBLIC and variant % 3:
                self.publish(PROPER, r, variant)
                return True
            if not r.feedback.exists():
                self.feedback(PROPER, r, variant - variant % 5)  # a proposer of this reply
                return True
        return False

    # --- Invariants ----------------------------------------------------------------------------

    @invariant()
    def the_public_set_is_exactly_the_published_public_replies_not_superseded(self) -> None:
        replies = list(Reply.objects.values("pk", "state", "disclosure", "supersedes_id"))
        corrected = {
            r["supersedes_id"] for r in replies if r["supersedes_id"] and r["state"] in SENT_STATES
        }
        expected = {
            r["pk"]
            for r in replies
            if r["state"] == ReplyState.PUBLISHED
            and r["disclosure"] == Disclosure.PUBLIC
            and r["pk"] not in corrected
        }
        assert set(Reply.objects.published().values_list("pk", flat=True)) == expected

    @invariant()
    def document_numbers_are_contiguous_per_unit_and_year(self) -> None:
        numbers: dict[tuple[int, int], list[int]] = {}
        for model in (Reply, CoOpinion):
            for unit, year, number, signed_on in model.objects.values_list(
                "unit_id", "docno_year", "docno_number", "signed_on"
            ):
                assert (number is None) == (signed_on is None), "文号 iff signed"
                if number is not None:
                    numbers.setdefault((unit, year), []).append(number)
        counters = {(c.unit_id, c.year): c.last_number for c in DocNumberCounter.objects.all()}
        for key, used in numbers.items():
            assert sorted(used) == list(range(1, len(used) + 1)), (key, sorted(used))
            assert counters.get(key) == len(used), key

    @invariant()
    def signed_letters_never_change(self) -> None:
        for (kind, pk), snapshot in self.frozen.items():
            model = Reply if kind == "reply" else CoOpinion
            current = frozen_values(model.objects.get(pk=pk))
            assert current == snapshot, (kind, pk)

    @invariant()
    def every_actor_sees_exactly_what_the_rules_allow(self) -> None:
        # Visibility depends only on the rows; every change writes an audit row (checked by
        # the audit invariant) and a refusal changes nothing, so an unchanged trail means an
        # unchanged answer, already checked.
        fingerprint = Transition.objects.order_by("-id").values_list("id", flat=True).first()
        if fingerprint == self.visibility_checked_at:
            return
        self.visibility_checked_at = fingerprint
        withdrawn = AssignmentState.WITHDRAWN
        assignments = list(
            Assignment.objects.values_list("pk", "proposal_id", "unit_id", "state", "role")
        )
        replies = list(Reply.objects.values_list("pk", "unit_id", "proposal_id", "state"))
        opinions = list(CoOpinion.objects.values_list("pk", "unit_id", "proposal_id", "state"))
        proposal_people: dict[int, set[int]] = {}
        for pk, user_id in Proposal.objects.values_list("pk", "lead_proposer__user_id"):
            proposal_people.setdefault(pk, set()).add(user_id)
        for pk, user_id in Proposal.objects.values_list(
            "pk", "coproposer_links__proposer__user_id"
        ):
            proposal_people[pk].add(user_id)
        units_of: dict[int, set[int]] = {}
        for user_id, unit_id in Membership.objects.values_list("user_id", "unit_id"):
            units_of.setdefault(user_id, set()).add(unit_id)

        seen = self.seen_through_visible_to()
        for name in ACTOR_NAMES:
            user = self.world.actors[name]
            if not user.is_active:
                expected: tuple[set[int], ...] = (set(), set(), set(), set())
            elif user.is_committee or user.is_supervisor:
                expected = (
                    set(proposal_people),
                    {a[0] for a in assignments},
                    {r[0] for r in replies},
                    {o[0] for o in opinions},
                )
            else:
                # A unit sees a proposal's things only through an active (not withdrawn)
                # assignment of it: its own letters, and the others' once sent / delivered.
                units = units_of.get(user.pk, set())
                active = [a for a in assignments if a[2] in units and a[3] != withdrawn]
                handled = {a[1] for a in active}
                leading = {a[1] for a in active if a[4] != "co"}
                expected = (
                    handled | {p for p, people in proposal_people.items() if user.pk in people},
                    {a[0] for a in active},
                    {
                        r[0]
                        for r in replies
                        if r[2] in handled and (r[1] in units or r[3] in SENT_STATES)
                    },
                    {
                        o[0]
                        for o in opinions
                        if (o[1] in units and o[2] in handled)
                        or (o[3] == OpinionState.DELIVERED and o[2] in leading)
                    },
                )
            for what, exp in zip(VISIBLE_KINDS, expected, strict=True):
                got = seen.get((name, what), set())
                assert got == exp, f"{name} {what}: sees {sorted(got)}, should see {sorted(exp)}"

    def seen_through_visible_to(self) -> dict[tuple[str, str], set[int]]:
        """What each actor's ``visible_to`` returns, for the four models, in one query.

        The querysets are built once per test: they depend on the actors' memberships and
        flags, which no step changes, while the rows they select are read afresh every time.
        """
        if self.world.visibility_sql is None:
            parts = []
            for name in ACTOR_NAMES:
                user = self.world.actors[name]
                for what, model in zip(VISIBLE_KINDS, VISIBLE_MODELS, strict=True):
                    parts.append(
                        model.objects.visible_to(user)
                        .order_by()
                        .annotate(sm_actor=Value(name), sm_what=Value(what))
                        .values_list("sm_actor", "sm_what", "pk")
                    )
            union = parts[0].union(*parts[1:], all=True)
            self.world.visibility_sql = union.query.sql_with_params()
        seen: dict[tuple[str, str], set[int]] = {}
        with connection.cursor() as cursor:
            cursor.execute(*self.world.visibility_sql)
            for actor, what, pk in cursor.fetchall():
                seen.setdefault((actor, what), set()).add(pk)
        return seen

    @invariant()
    def audit_rows_equal_successful_transitions(self) -> None:
        assert Transition.objects.count() - self.baseline == self.expected_transitions
        last: dict[tuple[int, int], str] = {}
        for ct, obj, to_state in Transition.objects.order_by("id").values_list(
            "content_type__model", "object_id", "to_state"
        ):
            last[(ct, obj)] = to_state
        for model, label in (
            (Proposal, "status"),
            (Assignment, "state"),
            (Reply, "state"),
            (CoOpinion, "state"),
        ):
            for pk, state in model.objects.values_list("pk", label):
                assert last.get((model._meta.model_name, pk)) == state, (model.__name__, pk)


def test_random_workflows_keep_every_invariant(committee, supervisor):
    if connection.vendor != "postgresql":
        pytest.fail(f"The workflow property test runs on PostgreSQL (here: {connection.vendor}).")
    WorkflowMachine.world = build_world(committee, supervisor)
    WorkflowMachine.totals = Counter()
    WorkflowMachine.refused_totals = Counter()
    run_state_machine_as_test(WorkflowMachine, settings=MACHINE_SETTINGS)
    # The runs went deep: replies were signed, sent and published, and refusals happened.
    done = WorkflowMachine.totals
    assert done["sign"] and done["send"] and done["assign"], done
    assert sum(WorkflowMachine.refused_totals.values()) > 0
    print("successful calls:", dict(done), "refused:", dict(WorkflowMachine.refused_totals))
