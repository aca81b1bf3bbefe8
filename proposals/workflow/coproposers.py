"""Online drafting and co-proposers' confirmation.

A member drafts a proposal on /my/ and invites co-proposers from the member list; each
confirms (or declines) from their own /my/. The lead submits only when every co-proposer has
confirmed: a joint proposal 联名提案 carries the signatures of all its proposers. Editing the
text after someone confirmed clears the confirmations, since they signed the earlier text.
The committee, entering a proposal signed on paper, is not held to online confirmation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals import audit, events
from proposals.models import (
    PROPOSAL_TRANSITIONS,
    CoProposer,
    Proposal,
    ProposalStatus,
    Proposer,
    Session,
    User,
)
from proposals.workflow.errors import InvalidInput, NotAllowed, WrongState
from proposals.workflow.guards import (
    _lock_proposal,
    _require_proposer_or_committee,
    check_state,
    max_length,
    model_field,
    record_transition,
    required_text,
)


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


def clean_coproposers(lead: Proposer | None, coproposers: Iterable[Proposer | int]) -> list[int]:
    """The co-proposers' ids in signing order, by the one set of rules (the admin, /my/, the
    API and the Excel import all ask here): each once, not the lead, serving members only."""
    ids = [p.pk if isinstance(p, Proposer) else int(p) for p in coproposers]
    if len(set(ids)) != len(ids):
        raise InvalidInput(_("同一位委员只能联名一次。"), field="coproposers")
    if lead is not None and lead.pk in ids:
        raise InvalidInput(_("第一提案人不能同时是联名提案人。"), field="coproposers")
    members = Proposer.objects.filter(pk__in=ids, kind=Proposer.Kind.MEMBER, is_active=True)
    if set(ids) - set(members.values_list("pk", flat=True)):
        raise InvalidInput(_("联名提案人只能从在任委员中选择。"), field="coproposers")
    return ids


def _clean_text(*, title: str, category: str, analysis: str, suggestions: str) -> dict[str, str]:
    title = required_text(title, _("案由"), "title")
    if len(title) > max_length(Proposal, "title"):
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
    ids = clean_coproposers(lead, coproposers)
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
    ids = clean_coproposers(proposal.lead_proposer, coproposers)
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
            [str(model_field(Proposal, n).verbose_name) for n in changed]
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
    audit.hold_before_row_locks()
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
