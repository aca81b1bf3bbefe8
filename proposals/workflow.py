"""The proposal and assignment lifecycle: one function per verb.

Every function here is atomic, locks the row it changes (``select_for_update``), asks the guard
(state from the transition table in ``models``, then role), saves only the fields it changed,
and writes one ``Transition`` row. A refused call raises a ``WorkflowError`` whose message a
person can act on, in Chinese, and leaves the database as it was.

The admin, the API, the proposer pages and the Celery tasks all call these functions; no other
code assigns a status.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals import deadlines, events
from proposals.models import (
    ASSIGNMENT_TRANSITIONS,
    OPEN_ASSIGNMENT_STATES,
    PROPOSAL_TRANSITIONS,
    Assignment,
    AssignmentState,
    ContactRecord,
    CoProposer,
    DayOverride,
    DueDate,
    Extension,
    ExtensionRequest,
    Membership,
    Proposal,
    ProposalAttachment,
    ProposalStatus,
    Proposer,
    Session,
    Transition,
    Unit,
    User,
)
from proposals.models import today as _today
from proposals.validators import inspect_attachment
from proposals.workdays import WorkCalendar

# --- Errors ---------------------------------------------------------------------------------


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


# --- Guards and the audit record ------------------------------------------------------------


def require_committee(actor: User) -> None:
    if not actor.is_committee:
        raise NotAllowed(_("只有提案委员会可以执行此操作。"))


def require_unit_member(actor: User, unit_id: int, *, role: str | None = None) -> None:
    if actor.is_committee:
        return
    qs = Membership.objects.filter(user=actor, unit_id=unit_id, user__is_active=True)
    if role:
        qs = qs.filter(role=role)
    if not qs.exists():
        raise NotAllowed(_("您不是该承办单位的工作人员，不能办理此件。"))


def _require_proposer_or_committee(actor: User, proposal: Proposal) -> None:
    if actor.is_committee:
        return
    if proposal.lead_proposer.user_id is None or proposal.lead_proposer.user_id != actor.pk:
        raise NotAllowed(_("只有第一提案人或提案委员会可以执行此操作。"))


def check_state(table: dict, verb: str, current: str, labels: type[models.TextChoices]) -> str:
    allowed, target = table[verb]
    if current not in allowed:
        raise WrongState(
            _("当前状态为“%(state)s”，不能执行此操作。") % {"state": labels(current).label}
        )
    return target


def record_transition(
    obj: models.Model,
    *,
    actor: User | None,
    verb: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    proposal: Proposal | None = None,
) -> Transition:
    """Write the audit row of one workflow call. Used by every app's workflow module."""
    return Transition.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=obj.pk,
        proposal=proposal,
        verb=verb,
        from_state=from_state,
        to_state=to_state,
        note=note,
    )


def _lock_proposal(proposal: Proposal | int) -> Proposal:
    pk = proposal.pk if isinstance(proposal, Proposal) else proposal
    return Proposal.objects.select_for_update().select_related("lead_proposer").get(pk=pk)


def _lock_assignment(assignment: Assignment | int) -> Assignment:
    pk = assignment.pk if isinstance(assignment, Assignment) else assignment
    return Assignment.objects.select_for_update().select_related("proposal").get(pk=pk)


def _move_proposal(
    proposal: Proposal, verb: str, actor: User | None, note: str = "", fields: Sequence[str] = ()
) -> Proposal:
    before = proposal.status
    proposal.status = check_state(PROPOSAL_TRANSITIONS, verb, before, ProposalStatus)
    proposal.save(update_fields=["status", "updated_at", *fields])
    record_transition(
        proposal,
        actor=actor,
        verb=verb,
        from_state=before,
        to_state=proposal.status,
        note=note,
        proposal=proposal,
    )
    return proposal


def _move_assignment(
    assignment: Assignment,
    verb: str,
    actor: User | None,
    note: str = "",
    fields: Sequence[str] = (),
) -> Assignment:
    before = assignment.state
    assignment.state = check_state(ASSIGNMENT_TRANSITIONS, verb, before, AssignmentState)
    assignment.save(update_fields=["state", *fields])
    record_transition(
        assignment,
        actor=actor,
        verb=verb,
        from_state=before,
        to_state=assignment.state,
        note=note,
        proposal=assignment.proposal,
    )
    return assignment


def required_text(value: str, label: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(_("请填写%(label)s。") % {"label": label}, field=field)
    return value


# --- Proposal verbs -------------------------------------------------------------------------


@transaction.atomic
def submit_proposal(proposal: Proposal | int, *, actor: User) -> Proposal:
    """A draft goes to the committee for review (online: once every co-proposer confirmed)."""
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "submit", proposal.status, ProposalStatus)
    _require_proposer_or_committee(actor, proposal)
    required_text(proposal.title, _("案由"), "title")
    _require_coproposers_confirmed(actor, proposal)
    proposal.submitted_at = timezone.now()
    return _move_proposal(proposal, "submit", actor, fields=["submitted_at"])


@transaction.atomic
def return_proposal(proposal: Proposal | int, *, actor: User, reason: str) -> Proposal:
    """The committee sends a submitted proposal back to its proposer for revision."""
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "return", proposal.status, ProposalStatus)
    require_committee(actor)
    proposal.review_note = required_text(reason, _("退回理由"), "reason")
    return _move_proposal(proposal, "return", actor, note=reason, fields=["review_note"])


@transaction.atomic
def resubmit_proposal(proposal: Proposal | int, *, actor: User) -> Proposal:
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "resubmit", proposal.status, ProposalStatus)
    _require_proposer_or_committee(actor, proposal)
    _require_coproposers_confirmed(actor, proposal)
    proposal.submitted_at = timezone.now()
    return _move_proposal(proposal, "resubmit", actor, fields=["submitted_at"])


# --- Online drafting and co-proposers' confirmation -----------------------------------------
#
# A member drafts a proposal on /my/ and invites co-proposers from the member list; each
# confirms (or declines) from their own /my/. The lead submits only when every co-proposer has
# confirmed: a joint proposal 联名提案 carries the signatures of all its proposers. Editing the
# text after someone confirmed clears the confirmations, since they signed the earlier text.
# The committee, entering a proposal signed on paper, is not held to online confirmation.


def _require_coproposers_confirmed(actor: User, proposal: Proposal) -> None:
    if actor.is_committee:
        return
    waiting = [
        str(link.proposer)
        for link in proposal.coproposer_links.select_related("proposer")
        if link.confirmed_at is None
    ]
    if waiting:
        raise WrongState(
            _("尚待联名提案人 %(names)s 确认，全部确认后才能提交。")
            % {"names": "、".join(waiting)},
            code="unconfirmed_coproposers",
        )


def _acting_proposer(actor: User) -> Proposer:
    proposer = Proposer.objects.filter(user=actor, user__is_active=True).first()
    if proposer is None:
        raise NotAllowed(_("只有有登录账号的提案者可以在网上起草提案。"))
    return proposer


def _clean_coproposers(lead: Proposer, coproposers: Iterable[Proposer | int]) -> list[int]:
    ids = [p.pk if isinstance(p, Proposer) else int(p) for p in coproposers]
    if len(set(ids)) != len(ids):
        raise InvalidInput(_("同一位委员只能联名一次。"), field="coproposers")
    if lead.pk in ids:
        raise InvalidInput(_("第一提案人不能同时是联名提案人。"), field="coproposers")
    members = Proposer.objects.filter(pk__in=ids, kind=Proposer.Kind.MEMBER, is_active=True)
    if set(ids) - set(members.values_list("pk", flat=True)):
        raise InvalidInput(_("联名提案人只能从在任委员中选择。"), field="coproposers")
    return ids


def _clean_text(*, title: str, category: str, analysis: str, suggestions: str) -> dict[str, str]:
    title = required_text(title, _("案由"), "title")
    if len(title) > Proposal._meta.get_field("title").max_length:
        raise InvalidInput(_("案由不能超过200字。"), field="title")
    if category not in Proposal.Category.values:
        raise InvalidInput(_("请选择提案类别。"), field="category")
    return {
        "title": title,
        "category": category,
        "analysis": (analysis or "").strip(),
        "suggestions": (suggestions or "").strip(),
    }


def _set_coproposers(proposal: Proposal, ids: list[int], *, clear_confirmations: bool) -> bool:
    """Make the proposal's co-proposers ``ids``, in that order. Returns whether the set changed."""
    links = {link.proposer_id: link for link in proposal.coproposer_links.all()}
    removed = [pid for pid in links if pid not in ids]
    CoProposer.objects.filter(proposal=proposal, proposer_id__in=removed).delete()
    added = False
    for position, pid in enumerate(ids, start=1):
        link = links.get(pid)
        if link is None:
            CoProposer.objects.create(proposal=proposal, proposer_id=pid, position=position)
            added = True
            continue
        fields = []
        if link.position != position:
            link.position = position
            fields.append("position")
        if clear_confirmations and link.confirmed_at is not None:
            link.confirmed_at = None
            fields.append("confirmed_at")
        if fields:
            link.save(update_fields=fields)
    return added or bool(removed)


@transaction.atomic
def draft_proposal(
    *,
    actor: User,
    session: Session | int,
    title: str,
    analysis: str = "",
    suggestions: str = "",
    category: str = Proposal.Category.OTHER,
    coproposers: Sequence[Proposer | int] = (),
) -> Proposal:
    """A member starts a proposal online: a draft they lead, inviting the co-proposers."""
    lead = _acting_proposer(actor)
    text = _clean_text(title=title, category=category, analysis=analysis, suggestions=suggestions)
    ids = _clean_coproposers(lead, coproposers)
    session_id = session.pk if isinstance(session, Session) else session
    if not Session.objects.filter(pk=session_id).exists():
        raise InvalidInput(_("请选择届次会议。"), field="session")
    proposal = Proposal.objects.create(session_id=session_id, lead_proposer=lead, **text)
    _set_coproposers(proposal, ids, clear_confirmations=False)
    record_transition(
        proposal, actor=actor, verb="draft", to_state=proposal.status, proposal=proposal
    )
    if ids:
        events.emit("coproposal_invited", proposal_id=proposal.pk)
    return proposal


@transaction.atomic
def revise_proposal(
    proposal: Proposal | int,
    *,
    actor: User,
    title: str,
    analysis: str = "",
    suggestions: str = "",
    category: str = Proposal.Category.OTHER,
    coproposers: Sequence[Proposer | int] = (),
) -> Proposal:
    """The lead edits a draft, or a proposal the committee returned, before (re)submitting.

    A change of the text clears the co-proposers' confirmations: they confirm what they sign.
    """
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "revise", proposal.status, ProposalStatus)
    _require_proposer_or_committee(actor, proposal)
    text = _clean_text(title=title, category=category, analysis=analysis, suggestions=suggestions)
    ids = _clean_coproposers(proposal.lead_proposer, coproposers)
    changed = [name for name, value in text.items() if getattr(proposal, name) != value]
    for name in changed:
        setattr(proposal, name, text[name])
    if changed:
        proposal.save(update_fields=[*changed, "updated_at"])
    text_changed = bool(set(changed) - {"category"})
    signers_changed = _set_coproposers(proposal, ids, clear_confirmations=text_changed)
    if not changed and not signers_changed:
        return proposal
    record_transition(
        proposal,
        actor=actor,
        verb="revise",
        from_state=proposal.status,
        to_state=proposal.status,
        note="、".join(
            [str(Proposal._meta.get_field(n).verbose_name) for n in changed]
            + ([str(_("联名提案人"))] if signers_changed else [])
        ),
        proposal=proposal,
    )
    if (text_changed or signers_changed) and proposal.coproposer_links.filter(
        confirmed_at__isnull=True
    ).exists():
        # New co-proposers, or a changed text they must confirm again.
        events.emit("coproposal_invited", proposal_id=proposal.pk)
    return proposal


def _lock_own_coproposal(proposal: Proposal, actor: User) -> CoProposer:
    link = (
        CoProposer.objects.select_for_update()
        .select_related("proposer")
        .filter(proposal=proposal, proposer__user=actor, proposer__user__is_active=True)
        .first()
    )
    if link is None:
        raise NotAllowed(_("您不是此件的联名提案人。"))
    return link


@transaction.atomic
def confirm_coproposal(proposal: Proposal | int, *, actor: User) -> CoProposer:
    """An invited co-proposer confirms their signature on a draft (or a returned proposal)."""
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "confirm_coproposal", proposal.status, ProposalStatus)
    link = _lock_own_coproposal(proposal, actor)
    if link.confirmed_at is not None:
        raise WrongState(_("您已确认联名。"))
    link.confirmed_at = timezone.now()
    link.save(update_fields=["confirmed_at"])
    record_transition(
        proposal,
        actor=actor,
        verb="confirm_coproposal",
        from_state=proposal.status,
        to_state=proposal.status,
        note=str(link.proposer),
        proposal=proposal,
    )
    return link


@transaction.atomic
def decline_coproposal(proposal: Proposal | int, *, actor: User) -> Proposal:
    """An invited co-proposer declines (or withdraws, before submission): they leave the list."""
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "decline_coproposal", proposal.status, ProposalStatus)
    link = _lock_own_coproposal(proposal, actor)
    name = str(link.proposer)
    link.delete()
    record_transition(
        proposal,
        actor=actor,
        verb="decline_coproposal",
        from_state=proposal.status,
        to_state=proposal.status,
        note=name,
        proposal=proposal,
    )
    return proposal


@transaction.atomic
def file_proposal(proposal: Proposal | int, *, actor: User, note: str = "") -> Proposal:
    """立案: the proposal takes the next serial of its session, without gaps.

    The session row is locked while the serial is taken, so concurrent filings queue and a
    rolled-back filing gives its serial back.
    """
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "file", proposal.status, ProposalStatus)
    require_committee(actor)
    session = Session.objects.select_for_update().get(pk=proposal.session_id)
    session.last_serial += 1
    session.save(update_fields=["last_serial"])
    proposal.serial = session.last_serial
    proposal.number = session.format_number(session.last_serial)
    proposal.filed_at = timezone.now()
    try:
        with transaction.atomic():
            return _move_proposal(
                proposal, "file", actor, note=note, fields=["serial", "number", "filed_at"]
            )
    except IntegrityError as exc:
        raise InvalidInput(
            _("提案号 %(number)s 已被使用，请检查本届次的编号格式。") % {"number": proposal.number}
        ) from exc


@transaction.atomic
def not_file_proposal(
    proposal: Proposal | int, *, actor: User, disposition: str, note: str = ""
) -> Proposal:
    """不予立案, with how the text is passed on (转社情民意信息 …)."""
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "not_file", proposal.status, ProposalStatus)
    require_committee(actor)
    if disposition not in Proposal.Disposition.values:
        raise InvalidInput(_("请选择不予立案的处理方式。"), field="disposition")
    proposal.disposition = disposition
    proposal.review_note = note.strip()
    label = Proposal.Disposition(disposition).label
    return _move_proposal(
        proposal,
        "not_file",
        actor,
        note=f"{label} {note}".strip(),
        fields=["disposition", "review_note"],
    )


@transaction.atomic
def merge_proposal(
    proposal: Proposal | int, *, into: Proposal | int, actor: User, note: str = ""
) -> Proposal:
    """并案: the proposal is handled with another of the same session.

    Its proposers still receive the reply, which the reply workflow finds through
    ``merged_into``.
    """
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "merge", proposal.status, ProposalStatus)
    require_committee(actor)
    target = Proposal.objects.get(pk=into.pk if isinstance(into, Proposal) else into)
    if target.pk == proposal.pk:
        raise InvalidInput(_("不能并入提案自身。"), field="into")
    if target.session_id != proposal.session_id:
        raise InvalidInput(_("只能并入同一届次会议的提案。"), field="into")
    if target.status not in {ProposalStatus.FILED, ProposalStatus.ASSIGNED}:
        raise InvalidInput(_("只能并入已立案或已交办的提案。"), field="into")
    proposal.merged_into = target
    return _move_proposal(
        proposal,
        "merge",
        actor,
        note=note or _("并入 %(number)s") % {"number": target.number},
        fields=["merged_into"],
    )


@dataclass(frozen=True)
class UnitRole:
    unit: Unit | int
    role: str

    @property
    def unit_id(self) -> int:
        return self.unit.pk if isinstance(self.unit, Unit) else self.unit


def _clocks_for(role: str) -> list[str]:
    clocks = [DueDate.Clock.REASSIGNMENT, DueDate.Clock.FIRST_CONTACT]
    if role == Assignment.Role.CO:
        clocks.append(DueDate.Clock.CO_OPINION)
    else:
        clocks.append(DueDate.Clock.REPLY)
    return clocks


def _rule_for(clock: str, proposal: Proposal) -> tuple[int, str]:
    if clock == DueDate.Clock.REPLY and proposal.is_key and proposal.key_reply_months:
        return (proposal.key_reply_months, "months")
    return deadlines.rule_for(clock)


def _make_due(
    assignment: Assignment,
    clock: str,
    *,
    start: datetime.date,
    rule: tuple[int, str],
    calendar: WorkCalendar,
    label: str,
) -> DueDate:
    due = deadlines.compute_due(start, rule, label=label, calendar=calendar)
    return DueDate(
        assignment=assignment,
        clock=clock,
        round=assignment.round,
        start_on=start,
        rule=f"{rule[0]},{rule[1]}",
        due_on=due.due_on,
        explanation=due.explanation,
    )


@transaction.atomic
def assign_proposal(
    proposal: Proposal | int,
    *,
    actor: User,
    units: Iterable[UnitRole | tuple[Unit | int, str]],
    assigned_on: datetime.date | None = None,
    note: str = "",
) -> list[Assignment]:
    """交办: one lead unit and any co-handling units, or one or more separate units.

    Also used after an approved reassignment, to hand the proposal to another unit: the rule
    is checked over all assignments that are not withdrawn.
    """
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "assign", proposal.status, ProposalStatus)
    require_committee(actor)
    wanted = [u if isinstance(u, UnitRole) else UnitRole(*u) for u in units]
    if not wanted:
        raise InvalidInput(_("请至少选择一个承办单位。"), field="units")
    for w in wanted:
        if w.role not in Assignment.Role.values:
            raise InvalidInput(_("办理方式无效。"), field="units")
    unit_ids = [w.unit_id for w in wanted]
    if len(set(unit_ids)) != len(unit_ids):
        raise InvalidInput(_("同一单位只能交办一次。"), field="units")
    found = {u.pk: u for u in Unit.objects.filter(pk__in=unit_ids)}
    for w in wanted:
        unit = found.get(w.unit_id)
        if unit is None or not unit.is_active:
            raise InvalidInput(_("承办单位不存在或已停用。"), field="units")

    existing = list(proposal.assignments.active())
    taken = {a.unit_id for a in existing} & set(unit_ids)
    if taken:
        names = "、".join(str(found[i]) for i in sorted(taken))
        raise InvalidInput(
            _("%(units)s 已承办此件，不能重复交办。") % {"units": names}, field="units"
        )
    roles = [a.role for a in existing] + [w.role for w in wanted]
    leads = roles.count(Assignment.Role.LEAD)
    separates = roles.count(Assignment.Role.SEPARATE)
    if leads and separates:
        raise InvalidInput(_("主办与分办不能同时使用。"), field="units")
    if leads > 1:
        raise InvalidInput(_("每件提案只能有一个主办单位。"), field="units")
    if not leads and not separates:
        raise InvalidInput(_("请指定一个主办单位，或至少一个分办单位。"), field="units")

    assigned_on = assigned_on or _today()
    calendar = WorkCalendar()
    created: list[Assignment] = []
    dues: list[DueDate] = []
    for w in wanted:
        a = Assignment.objects.create(
            proposal=proposal,
            unit=found[w.unit_id],
            role=w.role,
            assigned_on=assigned_on,
            assigned_by=actor,
        )
        for clock in _clocks_for(w.role):
            dues.append(
                _make_due(
                    a,
                    clock,
                    start=assigned_on,
                    rule=_rule_for(clock, proposal),
                    calendar=calendar,
                    label=_("交办"),
                )
            )
        record_transition(
            a,
            actor=actor,
            verb="assign",
            to_state=a.state,
            note=f"{a.unit} {a.get_role_display()}",
            proposal=proposal,
        )
        events.emit("assignment_created", assignment_id=a.pk)
        created.append(a)
    DueDate.objects.bulk_create(dues)
    summary = "；".join(f"{a.unit}（{a.get_role_display()}）" for a in created)
    _move_proposal(proposal, "assign", actor, note=(note or summary))
    return created


@transaction.atomic
def close_proposal(proposal: Proposal | int, *, actor: User, note: str = "") -> Proposal:
    """办结: feedback has come in, or the committee closes the proposal."""
    proposal = _lock_proposal(proposal)
    check_state(PROPOSAL_TRANSITIONS, "close", proposal.status, ProposalStatus)
    require_committee(actor)
    return _move_proposal(proposal, "close", actor, note=note)


# --- Assignment verbs -----------------------------------------------------------------------


@transaction.atomic
def accept_assignment(assignment: Assignment | int, *, actor: User) -> Assignment:
    """签收 by the unit."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "accept", assignment.state, AssignmentState)
    require_unit_member(actor, assignment.unit_id)
    assignment.accepted_at = timezone.now()
    return _move_assignment(assignment, "accept", actor, fields=["accepted_at"])


@transaction.atomic
def request_reassignment(
    assignment: Assignment | int, *, actor: User, reason: str, on: datetime.date | None = None
) -> Assignment:
    """申请退回: only within the reassignment window, and with a reason."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "request_reassignment", assignment.state, AssignmentState)
    require_unit_member(actor, assignment.unit_id)
    reason = required_text(reason, _("申请退回理由"), "reason")
    on = on or _today()
    window = assignment.due_dates.filter(
        clock=DueDate.Clock.REASSIGNMENT, round=assignment.round
    ).first()
    if window is not None and on > window.due_on:
        raise WrongState(
            _("申请退回须在 %(date)s 前提出，已超过期限。")
            % {"date": f"{window.due_on:%Y年%-m月%-d日}"}
        )
    assignment.return_reason = reason
    return _move_assignment(
        assignment, "request_reassignment", actor, note=reason, fields=["return_reason"]
    )


@transaction.atomic
def approve_reassignment(
    assignment: Assignment | int, *, actor: User, note: str = ""
) -> Assignment:
    """The committee agrees: the assignment is withdrawn; the committee then assigns anew.

    With no assignment left the proposal goes back to 已立案, ready to be assigned again.
    """
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "approve_reassignment", assignment.state, AssignmentState)
    require_committee(actor)
    _move_assignment(assignment, "approve_reassignment", actor, note=note)
    events.emit("reassignment_decided", assignment_id=assignment.pk)
    assignment.due_dates.filter(completed_on__isnull=True).update(completed_on=_today())
    proposal = _lock_proposal(assignment.proposal_id)
    if not proposal.assignments.active().exists():
        _move_proposal(proposal, "unassign", actor, note=_("全部承办单位已退回，待重新交办"))
    return assignment


@transaction.atomic
def refuse_reassignment(assignment: Assignment | int, *, actor: User, note: str) -> Assignment:
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "refuse_reassignment", assignment.state, AssignmentState)
    require_committee(actor)
    note = required_text(note, _("不同意退回的理由"), "note")
    if assignment.accepted_at is None:
        assignment.accepted_at = timezone.now()
    events.emit("reassignment_decided", assignment_id=assignment.pk)
    return _move_assignment(
        assignment, "refuse_reassignment", actor, note=note, fields=["accepted_at"]
    )


def _reply_due(assignment: Assignment) -> DueDate:
    """The due date an extension moves (the reply's, or the co-handling opinion's), locked."""
    clock = (
        DueDate.Clock.CO_OPINION
        if assignment.role == Assignment.Role.CO
        else (DueDate.Clock.REPLY if assignment.round == 1 else DueDate.Clock.REHANDLING_REPLY)
    )
    due = (
        DueDate.objects.select_for_update()
        .filter(assignment=assignment, clock=clock, round=assignment.round)
        .first()
    )
    if due is None or due.completed_on is not None:
        raise WrongState(_("此件没有可延期的到期日。"))
    return due


def _check_new_due(due: DueDate, new_due_on: datetime.date | None) -> datetime.date:
    """Later than the current date, and never past the hard limit after assignment."""
    if new_due_on is None:
        raise InvalidInput(_("请填写延期后的日期。"), field="new_due_on")
    if new_due_on <= due.due_on:
        raise InvalidInput(
            _("延期后的日期须晚于现到期日 %(date)s。") % {"date": f"{due.due_on:%Y-%m-%d}"},
            field="new_due_on",
        )
    limit = deadlines.max_reply_due(due.start_on)
    if new_due_on > limit:
        raise InvalidInput(
            _("答复最迟不得超过 %(start)s 起 %(months)s 个月，即 %(limit)s。")
            % {
                "start": f"{due.start_on:%Y-%m-%d}",
                "months": settings.PROPOSAL_MAX_REPLY_MONTHS,
                "limit": f"{limit:%Y-%m-%d}",
            },
            field="new_due_on",
        )
    return new_due_on


@transaction.atomic
def extend_assignment(
    assignment: Assignment | int, *, actor: User, new_due_on: datetime.date, reason: str
) -> Extension:
    """延期: the committee moves the reply date, never past the hard limit after assignment.

    A pending request of the unit is answered by it: approved, with this extension."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "extend", assignment.state, AssignmentState)
    require_committee(actor)
    reason = required_text(reason, _("延期理由"), "reason")
    due = _reply_due(assignment)
    _check_new_due(due, new_due_on)
    old = due.due_on
    due.due_on = new_due_on
    due.is_fixed = True
    due.explanation = _("%(old)s 经批准延期至 %(new)s") % {
        "old": f"{old:%Y-%m-%d}",
        "new": f"{new_due_on:%Y-%m-%d}",
    }
    due.save(update_fields=["due_on", "is_fixed", "explanation"])
    ext = Extension.objects.create(
        assignment=assignment,
        old_due_on=old,
        new_due_on=new_due_on,
        reason=reason,
        approved_by=actor,
    )
    _record_on_assignment(
        assignment, actor, "extend", f"{old:%Y-%m-%d} → {new_due_on:%Y-%m-%d}：{reason}"
    )
    pending = pending_extension_request(assignment)
    if pending is not None:
        _decide(pending, actor, ExtensionRequest.State.APPROVED, reason, extension=ext)
    return ext


@transaction.atomic
def request_extension(
    assignment: Assignment | int, *, actor: User, new_due_on: datetime.date, reason: str
) -> ExtensionRequest:
    """申请延期: the unit asks the committee for a later reply date, with a reason."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "request_extension", assignment.state, AssignmentState)
    require_unit_member(actor, assignment.unit_id)
    reason = required_text(reason, _("申请延期理由"), "reason")
    if pending_extension_request(assignment) is not None:
        raise WrongState(_("此件已有待审批的延期申请。"))
    due = _reply_due(assignment)
    _check_new_due(due, new_due_on)
    request = ExtensionRequest.objects.create(
        assignment=assignment,
        due_on_then=due.due_on,
        requested_due_on=new_due_on,
        reason=reason,
        requested_by=actor,
    )
    _record_on_assignment(
        assignment,
        actor,
        "request_extension",
        f"{due.due_on:%Y-%m-%d} → {new_due_on:%Y-%m-%d}：{reason}",
    )
    return request


def pending_extension_request(assignment: Assignment | int) -> ExtensionRequest | None:
    """The unit's request awaiting the committee. Callers that change it hold the
    assignment's row lock, which serialises everything done to its requests."""
    assignment_id = assignment if isinstance(assignment, int) else assignment.pk
    return ExtensionRequest.objects.filter(
        assignment_id=assignment_id, state=ExtensionRequest.State.PENDING
    ).first()


@transaction.atomic
def approve_extension(assignment: Assignment | int, *, actor: User, note: str = "") -> Extension:
    """The committee grants the pending request: the date the unit asked for."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "approve_extension", assignment.state, AssignmentState)
    require_committee(actor)
    request = pending_extension_request(assignment)
    if request is None:
        raise WrongState(_("此件没有待审批的延期申请。"))
    reason = _("应承办单位申请：%(reason)s") % {"reason": request.reason}
    if note.strip():
        reason += _("（%(note)s）") % {"note": note.strip()}
    return extend_assignment(
        assignment, actor=actor, new_due_on=request.requested_due_on, reason=reason
    )


@transaction.atomic
def refuse_extension(assignment: Assignment | int, *, actor: User, note: str) -> ExtensionRequest:
    """The committee refuses the pending request, saying why; the date stays."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "refuse_extension", assignment.state, AssignmentState)
    require_committee(actor)
    note = required_text(note, _("不同意延期的理由"), "note")
    request = pending_extension_request(assignment)
    if request is None:
        raise WrongState(_("此件没有待审批的延期申请。"))
    _record_on_assignment(assignment, actor, "refuse_extension", note)
    _decide(request, actor, ExtensionRequest.State.REFUSED, note)
    return request


def _record_on_assignment(assignment: Assignment, actor: User, verb: str, note: str) -> None:
    """Audit a verb that leaves the assignment's state as it is."""
    record_transition(
        assignment,
        actor=actor,
        verb=verb,
        from_state=assignment.state,
        to_state=assignment.state,
        note=note,
        proposal=assignment.proposal,
    )


def _decide(
    request: ExtensionRequest,
    actor: User,
    state: str,
    note: str,
    *,
    extension: Extension | None = None,
) -> None:
    """Close a pending request and tell the unit (``extension_decided``)."""
    request.state = state
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.decision_note = note
    request.extension = extension
    request.save(update_fields=["state", "decided_by", "decided_at", "decision_note", "extension"])
    events.emit("extension_decided", assignment_id=request.assignment_id)


@transaction.atomic
def log_contact(
    assignment: Assignment | int,
    *,
    actor: User,
    contacted_on: datetime.date,
    method: str,
    proposers: Iterable[Proposer | int] = (),
    participants: str = "",
    notes: str = "",
) -> ContactRecord:
    """沟通: a unit records a contact with the proposers; the first one meets its clock."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "log_contact", assignment.state, AssignmentState)
    require_unit_member(actor, assignment.unit_id)
    if method not in ContactRecord.Method.values:
        raise InvalidInput(_("请选择沟通方式。"), field="method")
    if contacted_on > _today():
        raise InvalidInput(_("沟通日期不能晚于今天。"), field="contacted_on")
    if contacted_on < assignment.assigned_on:
        raise InvalidInput(_("沟通日期不能早于交办日期。"), field="contacted_on")
    proposal = assignment.proposal
    allowed = {p.pk for p in proposal.proposers()}
    ids = [p.pk if isinstance(p, Proposer) else p for p in proposers]
    if set(ids) - allowed:
        raise InvalidInput(_("只能选择本件提案的提案者。"), field="proposers")
    record = ContactRecord.objects.create(
        assignment=assignment,
        contacted_on=contacted_on,
        method=method,
        participants=participants.strip(),
        notes=notes.strip(),
        recorded_by=actor,
    )
    record.proposers.set(ids)
    DueDate.objects.filter(
        assignment=assignment,
        clock=DueDate.Clock.FIRST_CONTACT,
        round=assignment.round,
        completed_on__isnull=True,
    ).update(completed_on=contacted_on)
    record_transition(
        assignment,
        actor=actor,
        verb="log_contact",
        from_state=assignment.state,
        to_state=assignment.state,
        note=f"{contacted_on:%Y-%m-%d} {record.get_method_display()}",
        proposal=proposal,
    )
    return record


# --- Verbs the reply workflow calls ---------------------------------------------------------


@transaction.atomic
def mark_assignment_replied(
    assignment: Assignment | int, *, actor: User | None, on: datetime.date | None = None
) -> Assignment:
    """The unit's reply was sent. When every lead/separate unit has replied, so has the proposal."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "mark_replied", assignment.state, AssignmentState)
    if assignment.role == Assignment.Role.CO:
        raise WrongState(_("会办单位不直接答复提案者。"))
    on = on or _today()
    _move_assignment(assignment, "mark_replied", actor)
    assignment.due_dates.filter(
        clock__in=[DueDate.Clock.REPLY, DueDate.Clock.REHANDLING_REPLY],
        round=assignment.round,
        completed_on__isnull=True,
    ).update(completed_on=on)
    proposal = _lock_proposal(assignment.proposal_id)
    waiting = (
        proposal.assignments.active()
        .exclude(role=Assignment.Role.CO)
        .exclude(state=AssignmentState.REPLIED)
    )
    if proposal.status == ProposalStatus.ASSIGNED and not waiting.exists():
        _move_proposal(proposal, "mark_replied", actor)
    return assignment


@transaction.atomic
def mark_opinion_sent(
    assignment: Assignment | int, *, actor: User | None, on: datetime.date | None = None
) -> Assignment:
    """The co-handling unit's opinion reached the lead unit."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "mark_opinion_sent", assignment.state, AssignmentState)
    if assignment.role != Assignment.Role.CO:
        raise WrongState(_("只有会办单位出具会办意见。"))
    _move_assignment(assignment, "mark_opinion_sent", actor)
    assignment.due_dates.filter(
        clock=DueDate.Clock.CO_OPINION, round=assignment.round, completed_on__isnull=True
    ).update(completed_on=on or _today())
    return assignment


@transaction.atomic
def reopen_assignment(
    assignment: Assignment | int,
    *,
    actor: User | None,
    reason: str,
    on: datetime.date | None = None,
) -> Assignment:
    """重新办理 after 不满意 feedback: a new round with a new reply due date."""
    assignment = _lock_assignment(assignment)
    check_state(ASSIGNMENT_TRANSITIONS, "reopen", assignment.state, AssignmentState)
    reason = required_text(reason, _("重新办理原因"), "reason")
    on = on or _today()
    assignment.round += 1
    _move_assignment(assignment, "reopen", actor, note=reason, fields=["round"])
    rule = deadlines.rule_for(DueDate.Clock.REHANDLING_REPLY)
    _make_due(
        assignment,
        DueDate.Clock.REHANDLING_REPLY,
        start=on,
        rule=rule,
        calendar=WorkCalendar(),
        label=_("不满意反馈"),
    ).save()
    proposal = _lock_proposal(assignment.proposal_id)
    if proposal.status in {ProposalStatus.REPLIED, ProposalStatus.CLOSED}:
        _move_proposal(proposal, "reopen", actor, note=reason)
    return assignment


# --- The calendar ---------------------------------------------------------------------------


@transaction.atomic
def set_day_override(
    *, actor: User, date: datetime.date, is_workday: bool, note: str = ""
) -> tuple[DayOverride, int]:
    """The committee corrects the calendar for one day; open due dates are recomputed.

    Returns the override and how many due dates moved.
    """
    require_committee(actor)
    override, _created = DayOverride.objects.update_or_create(
        date=date, defaults={"is_workday": is_workday, "note": note.strip(), "updated_by": actor}
    )
    record_transition(
        override,
        actor=actor,
        verb="set_day_override",
        to_state="workday" if is_workday else "day_off",
        note=f"{date:%Y-%m-%d} {note}".strip(),
    )
    moved = recompute_open_due_dates()
    return override, moved


@transaction.atomic
def delete_day_override(*, actor: User, date: datetime.date) -> int:
    require_committee(actor)
    override = DayOverride.objects.filter(date=date).first()
    if override is None:
        raise InvalidInput(_("该日期没有调整记录。"), field="date")
    record_transition(override, actor=actor, verb="delete_day_override", note=f"{date:%Y-%m-%d}")
    override.delete()
    return recompute_open_due_dates()


def recompute_open_due_dates() -> int:
    """Recompute every due date that is still open and was not fixed by an extension."""
    calendar = WorkCalendar()
    open_dues = (
        DueDate.objects.select_for_update()
        .filter(completed_on__isnull=True, is_fixed=False)
        .filter(assignment__state__in=list(OPEN_ASSIGNMENT_STATES))
        .select_related("assignment")
    )
    changed: list[DueDate] = []
    for due in open_dues:
        amount, unit = deadlines.parse_rule(due.rule)
        label = _("不满意反馈") if due.clock == DueDate.Clock.REHANDLING_REPLY else _("交办")
        result = deadlines.compute_due(due.start_on, (amount, unit), label=label, calendar=calendar)
        if result.due_on != due.due_on or result.explanation != due.explanation:
            due.due_on = result.due_on
            due.explanation = result.explanation
            changed.append(due)
    DueDate.objects.bulk_update(changed, ["due_on", "explanation"], batch_size=500)
    return len(changed)


# --- Attachments ----------------------------------------------------------------------------


@transaction.atomic
def add_attachment(
    proposal: Proposal | int, *, actor: User, file: Any, name: str = ""
) -> ProposalAttachment:
    """Attach a scanned original (PDF, JPEG or PNG) to a proposal the actor may see.

    Whoever sees the proposal may add to it — the committee, the staff of a unit it is
    assigned to, its proposers — except the supervision office, which only looks. The file
    passes every check of ``proposals.validators`` first; it is stored under a generated name,
    and the name people see is ``name`` (or the uploaded file's).
    """
    proposal = _lock_proposal(proposal)
    if not Proposal.objects.visible_to(actor).filter(pk=proposal.pk).exists():
        raise NotAllowed(_("提案不存在或您无权查看。"), code="not_found")
    if actor.is_supervisor and not actor.is_committee:
        raise NotAllowed(_("督查室只能查看附件，不能上传。"))
    display = (name or "").strip() or PurePath(getattr(file, "name", "") or "").name
    try:
        inspect_attachment(file, name=getattr(file, "name", "") or display)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field="file") from exc
    attachment = ProposalAttachment(
        proposal=proposal, file=file, name=display[:200], uploaded_by=actor
    )
    attachment.save()
    record_transition(
        attachment,
        actor=actor,
        verb="add_attachment",
        note=attachment.name,
        proposal=proposal,
    )
    return attachment
