"""The synthetic session's stories (``tracker.demo``): each proposal of
``tracker.demo.synthetic`` played through the workflow, step by step, by the people who took
each step and on the story's days (``tracker.demo.replies.story_clock``).
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from proposals import deadlines, workflow
from proposals.models import (
    Assignment,
    DueDate,
    Proposal,
)
from tracker.demo.data import (
    CO,
    CURRENT_SESSION,
    DEMO_TODAY,
    LEAD,
    SEPARATE,
)
from tracker.demo.replies import at, story_clock
from tracker.demo.synthetic import (
    ASSIGNED_KINDS,
    DRAFT,
    FILED,
    KEY,
    KEY_LEADER,
    KEY_REPLY_MONTHS,
    MERGED,
    PlannedProposal,
    StoryDates,
    plan_synthetic,
)
from tracker.demo.texts import (
    PROPOSAL_TEXTS,
)


class SyntheticStories:
    """The synthetic session's proposals, each played through the workflow as its story says
    (``tracker.demo.synthetic``); mixed into the loader (``tracker.demo.loader``), whose
    workflow steps (``_submit``, ``_file``, ``_assign`` …) the stories take.
    """

    def _start(self, item: PlannedProposal) -> datetime.date:
        """The day the story of the proposal starts: its assignment, or else its submission."""
        topic = item.topic
        if topic.reply_due_in is not None:
            due = DEMO_TODAY + datetime.timedelta(days=topic.reply_due_in)
            return self._workday_on_or_before(deadlines.add_months(due, -3))
        days = topic.days_ago + (item.jitter if topic.days_ago > 10 else 0)
        start = DEMO_TODAY - datetime.timedelta(days=days)
        return self._workday_on_or_before(start) if topic.kind in ASSIGNED_KINDS else start

    def _dates(self, item: PlannedProposal) -> StoryDates:
        """When the proposal was drafted, submitted, filed and assigned (as far as it got)."""
        start = self._start(item)
        kind = item.topic.kind
        if kind == DRAFT:
            return StoryDates(drafted=start - datetime.timedelta(days=2 + item.jitter))
        if kind in ASSIGNED_KINDS:
            submitted = start - datetime.timedelta(days=21 + item.jitter)
            return StoryDates(
                drafted=submitted - datetime.timedelta(days=3),
                submitted=submitted,
                filed=self._workday_on_or_before(start - datetime.timedelta(days=6)),
                assigned=start,
            )
        filed = None
        if kind == FILED:
            filed = self.calendar.next_workday(start + datetime.timedelta(days=5))
        return StoryDates(drafted=start - datetime.timedelta(days=3), submitted=start, filed=filed)

    def load_synthetic_proposals(self) -> None:
        session = self.sessions[CURRENT_SESSION]
        plan = [(item, self._dates(item)) for item in plan_synthetic()]
        # Numbers go by filing date; merges come last, when their target is filed.
        plan.sort(key=lambda pair: (pair[0].topic.kind == MERGED, pair[1].first_day))
        for item, dates in plan:
            if Proposal.objects.filter(session=session, title=item.topic.title).exists():
                self._count("proposal", False)
                continue
            topic = item.topic
            extra = {}
            if topic.kind == KEY:
                extra = {
                    "is_key": True,
                    "supervising_leader": KEY_LEADER,
                    "key_reply_months": KEY_REPLY_MONTHS,
                }
            proposal = self._new_proposal(
                session,
                topic.title,
                topic.category,
                item.lead,
                item.co,
                drafted_on=dates.drafted,
                **extra,
            )
            getattr(self, f"_story_{topic.kind}")(proposal, item, dates)

    def _story_draft(self, proposal, item, dates) -> None:
        pass

    def _story_submitted(self, proposal, item, dates) -> None:
        self._submit(proposal, dates.submitted)

    def _story_returned(self, proposal, item, dates) -> datetime.date:
        self._submit(proposal, dates.submitted)
        returned_on = self.calendar.next_workday(dates.submitted + datetime.timedelta(days=3))
        with story_clock(at(returned_on, 15)):
            workflow.return_proposal(proposal, actor=self.committee, reason=item.topic.reason)
        return returned_on

    def _story_resubmitted(self, proposal, item, dates) -> None:
        """Returned for want of figures; a week later the lead adds them, the co-signers confirm
        the new text, and the lead resubmits."""
        returned_on = self._story_returned(proposal, item, dates)
        revised_on = returned_on + datetime.timedelta(days=7)
        text = PROPOSAL_TEXTS[proposal.title]
        with story_clock(at(revised_on, 10)):
            workflow.revise_proposal(
                proposal,
                actor=self._proposer_user(proposal.lead_proposer),
                title=proposal.title,
                category=proposal.category,
                analysis=f"{text.analysis}\n{text.revision}",
                suggestions=text.suggestions,
                coproposers=list(
                    proposal.coproposer_links.order_by("position").values_list(
                        "proposer_id", flat=True
                    )
                ),
            )
        self._submit(proposal, revised_on + datetime.timedelta(days=2), again=True)

    def _story_not_filed(self, proposal, item, dates) -> None:
        self._submit(proposal, dates.submitted)
        decided_on = self.calendar.next_workday(dates.submitted + datetime.timedelta(days=5))
        with story_clock(at(decided_on, 15)):
            workflow.not_file_proposal(
                proposal,
                actor=self.committee,
                disposition=item.topic.disposition,
                note=item.topic.decision_note,
            )

    def _story_merged(self, proposal, item, dates) -> None:
        self._submit(proposal, dates.submitted)
        target = Proposal.objects.get(session=proposal.session, title=item.topic.merge_into)
        merged_on = self.calendar.next_workday(dates.submitted + datetime.timedelta(days=6))
        if target.filed_at is None or timezone.localdate(target.filed_at) > merged_on:
            raise RuntimeError(f"{proposal.title} 并入的提案在 {merged_on} 尚未立案")
        with story_clock(at(merged_on, 15)):
            workflow.merge_proposal(proposal, into=target, actor=self.committee)

    def _story_filed(self, proposal, item, dates) -> None:
        self._submit(proposal, dates.submitted)
        self._file(proposal, dates.filed)

    def _assigned(
        self, proposal: Proposal, item: PlannedProposal, dates: StoryDates, *, role: str = LEAD
    ) -> tuple[Assignment, list[Assignment]]:
        """Submit, file and assign; return the lead (or first separate) and the others."""
        self._submit(proposal, dates.submitted)
        self._file(proposal, dates.filed)
        other_role = SEPARATE if role == SEPARATE else CO
        units = [(item.topic.lead, role)] + [(code, other_role) for code in item.topic.co]
        first, *others = self._assign(proposal, units, dates.assigned)
        return first, others

    def _handle(self, item: PlannedProposal, assignment: Assignment, *, contacts: int = 2) -> None:
        """The unit signs for it and talks with the proposers."""
        self._accept(assignment)
        for n in range(contacts):
            on = assignment.assigned_on + datetime.timedelta(days=item.contact_after[n])
            self._contact(assignment, on, item.contact_methods[n])

    def _story_pending(self, proposal, item, dates) -> None:
        self._assigned(proposal, item, dates)

    def _story_accepted(self, proposal, item, dates) -> None:
        lead, cos = self._assigned(proposal, item, dates)
        self._handle(item, lead)
        for i, co in enumerate(cos):
            if item.topic.co_pending and i == len(cos) - 1:
                continue
            self._handle(item, co, contacts=0)

    def _story_overdue(self, proposal, item, dates) -> None:
        lead, cos = self._assigned(proposal, item, dates)
        # the later of the two has not even met its proposers yet
        self._handle(item, lead, contacts=1 if item.topic.reply_due_in > -20 else 0)
        for co in cos:
            self._handle(item, co, contacts=0)

    _story_due_soon = _story_accepted
    _story_key = _story_accepted

    def _story_separates(self, proposal, item, dates) -> None:
        first, others = self._assigned(proposal, item, dates, role=SEPARATE)
        for assignment in (first, *others):
            self._handle(item, assignment, contacts=1)

    def _story_extended(self, proposal, item, dates) -> None:
        """The committee extends the reply date a few days before it falls."""
        lead, cos = self._assigned(proposal, item, dates)
        self._handle(item, lead)
        for co in cos:
            self._handle(item, co, contacts=0)
        wanted = DEMO_TODAY + datetime.timedelta(days=26 + 14 * item.jitter)
        new_due = min(self.calendar.next_workday(wanted), deadlines.max_reply_due(dates.assigned))
        due_on = lead.due_dates.get(clock=DueDate.Clock.REPLY).due_on
        extended_on = self._workday_on_or_before(due_on - datetime.timedelta(days=5))
        with story_clock(at(extended_on, 15)):
            workflow.extend_assignment(
                lead, actor=self.committee, new_due_on=new_due, reason=item.topic.reason
            )
        self._count("extension", True)

    def _request(self, assignment: Assignment, item: PlannedProposal, days: int) -> datetime.date:
        """The unit asks to hand the proposal back ``days`` after it was assigned (and not
        before it signed for it, if it did)."""
        on = assignment.assigned_on + datetime.timedelta(days=days)
        accepted_at = Assignment.objects.values_list("accepted_at", flat=True).get(pk=assignment.pk)
        if accepted_at is not None:
            on = max(on, timezone.localdate(accepted_at))
        with story_clock(at(on, 11)):
            workflow.request_reassignment(
                assignment,
                actor=self.clerks[self._code(assignment)],
                reason=item.topic.reason,
                on=on,
            )
        return on

    def _story_return_requested(self, proposal, item, dates) -> None:
        lead, cos = self._assigned(proposal, item, dates)
        for co in cos:
            self._accept(co)
        self._request(lead, item, 3)

    def _story_withdrawn_all(self, proposal, item, dates) -> None:
        lead, _cos = self._assigned(proposal, item, dates)
        asked_on = self._request(lead, item, 4)
        with story_clock(at(self._decision_day(asked_on), 15)):
            workflow.approve_reassignment(lead, actor=self.committee, note=item.topic.decision_note)

    def _story_reassigned(self, proposal, item, dates) -> None:
        lead, cos = self._assigned(proposal, item, dates)
        for co in cos:
            self._handle(item, co, contacts=0)
        approved_on = self._decision_day(self._request(lead, item, 3))
        with story_clock(at(approved_on, 15)):
            workflow.approve_reassignment(lead, actor=self.committee, note=item.topic.decision_note)
        again = max(
            self._workday_on_or_before(dates.assigned + datetime.timedelta(days=8)),
            self._decision_day(approved_on),
        )
        (new_lead,) = self._assign(proposal, [(item.topic.new_lead, LEAD)], again)
        if item.topic.new_lead_accepts:
            self._accept(new_lead)
            self._contact(new_lead, again + datetime.timedelta(days=6), item.contact_methods[0])

    def _story_refused(self, proposal, item, dates) -> None:
        lead, cos = self._assigned(proposal, item, dates)
        self._accept(lead)
        for co in cos:
            self._accept(co)
        refused_on = self._decision_day(self._request(lead, item, 5))
        with story_clock(at(refused_on, 15)):
            workflow.refuse_reassignment(lead, actor=self.committee, note=item.topic.decision_note)
        contact_on = max(dates.assigned + datetime.timedelta(days=12), refused_on)
        self._contact(lead, contact_on, item.contact_methods[0])
