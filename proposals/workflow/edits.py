"""Edits of a proposal's record that do not move it: the committee enters, corrects, deletes.

The committee enters a proposal signed on paper (``enter_proposal``), corrects what is on
record at any stage — the 案由, the 第一提案人, the 重点提案 flag, the category —
(``edit_proposal``), and may delete a draft that never reached the audit trail
(``delete_draft``). A proposer edits their own draft or returned proposal with
``edit_proposal`` too, within the fields ``revise_proposal`` offers them.

An edit writes one ``Transition`` (verb ``edit_proposal``, the state unchanged; ``edit`` is
the replies' verb for a letter's draft, labelled 修改草稿) whose note lists each
changed field as it reads — ``案由：旧 → 新；重点提案：否 → 是`` — so the timeline says what
was corrected, not only that something was. An edit that changes nothing writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals import events
from proposals.models import (
    EDITABLE_PROPOSAL_STATES,
    Proposal,
    ProposalStatus,
    Proposer,
    Session,
    Transition,
    User,
)
from proposals.workflow.coproposers import _set_coproposers, clean_coproposers
from proposals.workflow.errors import InvalidInput, NotAllowed, WrongState
from proposals.workflow.guards import (
    _lock_proposal,
    _require_proposer_or_committee,
    max_length,
    model_field,
    record_transition,
    require_committee,
    required_text,
)

#: What the committee may correct on a proposal's record, in the order a note lists them.
COMMITTEE_FIELDS: tuple[str, ...] = (
    "session",
    "title",
    "category",
    "lead_proposer",
    "coproposers",
    "reason",
    "analysis",
    "suggestions",
    "is_key",
    "supervising_leader",
    "key_reply_months",
)
#: What the lead proposer may edit while the proposal is theirs (as ``revise_proposal``).
PROPOSER_FIELDS = frozenset(
    {"title", "category", "coproposers", "reason", "analysis", "suggestions"}
)
#: The text the co-proposers signed: a change of it in a draft asks them to confirm again.
SIGNED_TEXT = frozenset({"title", "reason", "analysis", "suggestions"})
#: While a proposal is in these states its co-proposers may still change (the committee may
#: still correct them during its review; after filing the list is the filed one).
COPROPOSERS_EDITABLE = EDITABLE_PROPOSAL_STATES | {ProposalStatus.SUBMITTED}
#: Longer values are cut in the note: the audit row says what changed, the record holds it.
NOTE_VALUE_LENGTH = 30


def _label(name: str) -> str:
    if name == "coproposers":
        return str(_("联名提案人"))
    return str(model_field(Proposal, name).verbose_name)


def _shown(name: str, value: Any) -> str:
    """How a value reads in the note: labels for choices, 是/否, names, short text."""
    if name == "coproposers":
        by_pk = {p.pk: str(p) for p in Proposer.objects.filter(pk__in=value)}
        return "、".join(by_pk[pk] for pk in value if pk in by_pk) or str(_("（空）"))
    if name in {"lead_proposer", "session"} and value is not None:
        model = Proposer if name == "lead_proposer" else Session
        found = value if isinstance(value, model) else model.objects.filter(pk=value).first()
        return str(found) if found is not None else str(value)
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if value is None or value == "":
        return str(_("（空）"))
    field = model_field(Proposal, name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    text = " ".join(str(value).split())
    if len(text) > NOTE_VALUE_LENGTH:
        text = text[: NOTE_VALUE_LENGTH - 1] + "…"
    return text


def change_note(changes: Sequence[tuple[str, Any, Any]]) -> str:
    """``案由：旧 → 新；重点提案：否 → 是`` for ``(field, old, new)`` triples."""
    return "；".join(
        f"{_label(name)}：{_shown(name, old)} → {_shown(name, new)}" for name, old, new in changes
    )


def _pk(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return value.pk if hasattr(value, "pk") else int(value)


def _clean_title(proposal: Proposal, value: Any) -> str:
    title = required_text(value, _("案由"), "title")
    if len(title) > max_length(Proposal, "title"):
        raise InvalidInput(_("案由不能超过200字。"), field="title")
    return title


def _clean_category(proposal: Proposal, value: Any) -> str:
    if value not in Proposal.Category.values:
        raise InvalidInput(_("请选择提案类别。"), field="category")
    return value


def _clean_text(proposal: Proposal, value: Any) -> str:
    return (value or "").strip()


def _clean_is_key(proposal: Proposal, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(_("重点提案只能是“是”或“否”。"), field="is_key")
    return value


def _clean_leader(proposal: Proposal, value: Any) -> str:
    leader = (value or "").strip()
    if len(leader) > max_length(Proposal, "supervising_leader"):
        raise InvalidInput(_("领衔督办领导不能超过50字。"), field="supervising_leader")
    return leader


def _clean_key_months(proposal: Proposal, value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        months = int(value)
    except (TypeError, ValueError):
        months = 0
    if months <= 0:
        raise InvalidInput(_("重点提案答复期限须为正整数（月）。"), field="key_reply_months")
    return months


def _clean_lead(proposal: Proposal, value: Any) -> Proposer:
    pk = _pk(value)
    lead = None if pk is None else Proposer.objects.filter(pk=pk, is_active=True).first()
    if lead is None:
        raise InvalidInput(_("请选择在册的第一提案人。"), field="lead_proposer")
    return lead


def _clean_session(proposal: Proposal, value: Any) -> Session:
    pk = _pk(value)
    session = None if pk is None else Session.objects.filter(pk=pk).first()
    if session is None:
        raise InvalidInput(_("请选择届次会议。"), field="session")
    if proposal.serial is not None and session.pk != proposal.session_id:
        raise InvalidInput(_("提案已按本届次编号，不能更换届次会议。"), field="session")
    return session


#: How each editable field's value is checked and stored.
_CLEANERS: dict[str, Callable[[Proposal, Any], Any]] = {
    "title": _clean_title,
    "category": _clean_category,
    "reason": _clean_text,
    "analysis": _clean_text,
    "suggestions": _clean_text,
    "is_key": _clean_is_key,
    "supervising_leader": _clean_leader,
    "key_reply_months": _clean_key_months,
    "lead_proposer": _clean_lead,
    "session": _clean_session,
}


def _clean_value(proposal: Proposal, name: str, value: Any) -> Any:
    """The stored form of ``value`` for field ``name``, or ``InvalidInput`` naming the field."""
    cleaner = _CLEANERS.get(name)
    if cleaner is None:
        raise InvalidInput(_("不能修改“%(field)s”。") % {"field": name}, field=name)
    return cleaner(proposal, value)


def _current(proposal: Proposal, name: str) -> Any:
    if name == "coproposers":
        return list(
            proposal.coproposer_links.order_by("position", "pk").values_list(
                "proposer_id", flat=True
            )
        )
    if name in {"lead_proposer", "session"}:
        return getattr(proposal, f"{name}_id")
    return getattr(proposal, name)


def _allowed_fields(actor: User, proposal: Proposal) -> frozenset[str]:
    """The fields ``actor`` may change now; refuses whoever may change none."""
    if actor.is_committee:
        fields = set(COMMITTEE_FIELDS)
        if proposal.status not in COPROPOSERS_EDITABLE:
            fields.discard("coproposers")
        return frozenset(fields)
    _require_proposer_or_committee(actor, proposal)
    if proposal.status not in EDITABLE_PROPOSAL_STATES:
        raise WrongState(
            _("当前状态为“%(state)s”，提案人不能再修改。")
            % {"state": ProposalStatus(proposal.status).label}
        )
    return PROPOSER_FIELDS


def _check_fields(fields: Mapping[str, Any], allowed: frozenset[str], proposal: Proposal) -> None:
    for name in fields:
        if name in allowed:
            continue
        if name == "coproposers" and name in COMMITTEE_FIELDS:
            raise WrongState(
                _("当前状态为“%(state)s”，联名提案人不能再修改。")
                % {"state": ProposalStatus(proposal.status).label},
                field=name,
            )
        label = _label(name) if name in COMMITTEE_FIELDS else name
        raise NotAllowed(_("您不能修改“%(field)s”。") % {"field": label}, code="field_not_allowed")


@transaction.atomic
def edit_proposal(
    proposal: Proposal | int,
    *,
    actor: User,
    fields: Mapping[str, Any],
    version: datetime | None = None,
) -> Proposal:
    """Change some fields of a proposal's record; one audit row lists what changed.

    ``fields`` maps field names to new values (a proposer or a session as an object or a pk;
    ``coproposers`` as a list in signing order). ``version`` is the ``updated_at`` the caller
    read: when given and the row changed since, the edit is refused rather than overwrite.
    Only the fields whose value differs are saved.
    """
    proposal = _lock_proposal(proposal)
    if version is not None and proposal.updated_at != version:
        raise WrongState(_("提案已被他人修改，请刷新页面后再改。"), code="stale")
    _check_fields(fields, _allowed_fields(actor, proposal), proposal)
    cleaned = {
        name: _clean_value(proposal, name, v) for name, v in fields.items() if name != "coproposers"
    }
    lead = cleaned.get("lead_proposer", proposal.lead_proposer)
    if "coproposers" in fields:
        cleaned["coproposers"] = clean_coproposers(lead, fields["coproposers"] or ())
    elif "lead_proposer" in cleaned and proposal.coproposer_links.filter(proposer=lead).exists():
        raise InvalidInput(_("第一提案人不能同时是联名提案人。"), field="lead_proposer")

    changes = []
    for name in COMMITTEE_FIELDS:
        if name not in cleaned:
            continue
        old, new = _current(proposal, name), cleaned[name]
        if (_pk(new) if name in {"lead_proposer", "session"} else new) != old:
            changes.append((name, old, new))
    if not changes:
        return proposal
    note = change_note(changes)
    _apply(proposal, changes)
    record_transition(
        proposal,
        actor=actor,
        verb="edit_proposal",
        from_state=proposal.status,
        to_state=proposal.status,
        note=note,
        proposal=proposal,
    )
    return proposal


def _apply(proposal: Proposal, changes: list[tuple[str, Any, Any]]) -> None:
    """Save the changed fields (only those), and the co-proposers when they changed."""
    names = [name for name, _old, _new in changes]
    for name, _old, new in changes:
        if name != "coproposers":
            setattr(proposal, name, new)
    columns = [n for n in names if n != "coproposers"]
    if columns:
        proposal.save(update_fields=[*columns, "updated_at"])
    # In a draft the co-proposers confirm what they sign: a new text asks them again.
    drafting = proposal.status in EDITABLE_PROPOSAL_STATES
    text_changed = drafting and bool(SIGNED_TEXT & set(names))
    ids = dict((n, new) for n, _old, new in changes).get("coproposers")
    if ids is None and text_changed:
        ids = _current(proposal, "coproposers")
    if ids is not None:
        _set_coproposers(proposal, ids, clear_confirmations=text_changed)
    signers_asked = drafting and (text_changed or "coproposers" in names)
    if signers_asked and proposal.coproposer_links.filter(confirmed_at__isnull=True).exists():
        # New co-proposers, or a changed text they must confirm again (as ``revise_proposal``).
        events.emit("coproposal_invited", proposal_id=proposal.pk)


@transaction.atomic
def enter_proposal(
    *,
    actor: User,
    session: Session | int,
    lead_proposer: Proposer | int,
    title: str,
    category: str = Proposal.Category.OTHER,
    reason: str = "",
    analysis: str = "",
    suggestions: str = "",
    is_key: bool = False,
    supervising_leader: str = "",
    key_reply_months: int | None = None,
    coproposers: Sequence[Proposer | int] = (),
    signed_on_paper: bool = False,
) -> Proposal:
    """The committee enters a proposal on a proposer's behalf: a draft, audited as entered.

    ``signed_on_paper``: the co-proposers signed the paper original, which is their
    confirmation (the Excel import of a filed list); otherwise they confirm online.
    """
    require_committee(actor)
    blank = Proposal(status=ProposalStatus.DRAFT)
    values = {
        "session": session,
        "lead_proposer": lead_proposer,
        "title": title,
        "category": category,
        "reason": reason,
        "analysis": analysis,
        "suggestions": suggestions,
        "is_key": is_key,
        "supervising_leader": supervising_leader,
        "key_reply_months": key_reply_months,
    }
    cleaned = {name: _clean_value(blank, name, value) for name, value in values.items()}
    ids = clean_coproposers(cleaned["lead_proposer"], coproposers)
    proposal = Proposal(**cleaned)
    proposal.save()
    _set_coproposers(proposal, ids, clear_confirmations=False)
    if signed_on_paper and ids:
        proposal.coproposer_links.update(confirmed_at=timezone.now())
    record_transition(
        proposal,
        actor=actor,
        verb="enter",
        to_state=proposal.status,
        note=str(_("提案委员会录入")),
        proposal=proposal,
    )
    return proposal


@transaction.atomic
def delete_draft(proposal: Proposal | int, *, actor: User) -> None:
    """The committee deletes a draft entered by mistake, before anything happened to it.

    A proposal with audit rows stays (the trail protects it); the deletion itself is recorded
    against the deleted id, with its title.
    """
    proposal = _lock_proposal(proposal)
    require_committee(actor)
    if proposal.status != ProposalStatus.DRAFT:
        raise WrongState(_("只能删除草稿。"))
    if Transition.objects.filter(proposal=proposal).exists():
        raise WrongState(_("此草稿已有操作记录，不能删除。"))
    title = proposal.title
    # Not linked to the proposal: the link would protect the row this deletes.
    record_transition(
        proposal, actor=actor, verb="delete_draft", from_state=proposal.status, note=title
    )
    proposal.delete()
