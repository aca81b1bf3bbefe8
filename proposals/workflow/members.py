"""Members' accounts (issue 21): every write of the member pages and the committee's roster
(``tracker.members``) to ``Proposer`` and ``User`` — a member enrolled from a list, an account
opened, a password set through an invitation, 届满 deactivation and its reversal — each one
function, atomic, on a locked row, audited.

A deactivated member keeps every record (proposals, replies, feedback, audit rows); their
account cannot sign in and they are no longer offered as a co-proposer. Reversible.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.crypto import get_random_string

from proposals.models import Proposer, User
from proposals.workflow.guards import record_transition

#: The contact fields a member list may fill in (never overwrite) on a member's record.
CONTACT_FIELDS = ("sector", "mobile", "email")


def _username_for(p: Proposer) -> str:
    """The sign-in name: the e-mail address when free, else the mobile, else ``member<id>``."""
    for candidate in ((p.email or "").strip().lower(), (p.mobile or "").strip()):
        if candidate and not User.objects.filter(username__iexact=candidate).exists():
            return candidate[:150]
    return f"member{p.pk}"


def _locked(proposer: Proposer | int) -> Proposer:
    pk = proposer.pk if isinstance(proposer, Proposer) else proposer
    return Proposer.objects.select_for_update(of=("self",)).select_related("user").get(pk=pk)


@transaction.atomic
def enrol_member(
    *, name: str, sector: str, mobile: str, email: str, found: Proposer | None, actor: User | None
) -> tuple[Proposer, bool]:
    """A member of a session's list: a new record, or ``found`` completed with the contact
    fields it lacks (audited ``enrol_member`` / ``complete_member``); True when created."""
    if found is None:
        p = Proposer.objects.create(
            kind=Proposer.Kind.MEMBER, name=name, sector=sector, mobile=mobile, email=email
        )
        record_transition(p, actor=actor, verb="enrol_member", note=name)
        return p, True
    p = _locked(found)
    given = {"sector": sector, "mobile": mobile, "email": email}
    changed = [k for k in CONTACT_FIELDS if given[k] and not getattr(p, k)]
    for k in changed:
        setattr(p, k, given[k])
    if changed:
        p.save(update_fields=changed)
        record_transition(p, actor=actor, verb="complete_member", note="、".join(changed))
    return p, False


@transaction.atomic
def open_account(proposer: Proposer | int, *, actor: User | None = None) -> tuple[User, bool]:
    """The member's account, made now (audited ``open_account``) when they had none; nobody
    knows its password until an invitation's link sets one. True when made."""
    p = _locked(proposer)
    if p.user is not None:
        return p.user, False
    user = User(
        username=_username_for(p),
        full_name=p.name,
        email=(p.email or "").strip(),
        phone=(p.mobile or "").strip(),
        is_staff=False,
    )
    user.set_password(get_random_string(48))
    user.save()
    p.user = user
    p.save(update_fields=["user"])
    record_transition(p, actor=actor, verb="open_account", note=user.username)
    return user, True


@transaction.atomic
def set_member_password(user: User, *, password: str) -> User:
    """The password a member chose through their invitation (the caller audits the
    invitation); returns the account as saved."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def deactivate_member(proposer: Proposer, *, actor: User, note: str = "") -> bool:
    """届满: False when the member was already inactive (nothing written)."""
    p = _locked(proposer)
    if not p.is_active:
        return False
    p.is_active = False
    p.save(update_fields=["is_active"])
    if p.user_id:
        User.objects.filter(pk=p.user_id).update(is_active=False)
    record_transition(p, actor=actor, verb="deactivate_member", note=note or p.name)
    return True


@transaction.atomic
def reactivate_member(proposer: Proposer, *, actor: User, note: str = "") -> bool:
    p = _locked(proposer)
    if p.is_active:
        return False
    p.is_active = True
    p.save(update_fields=["is_active"])
    if p.user_id:
        User.objects.filter(pk=p.user_id).update(is_active=True)
    record_transition(p, actor=actor, verb="reactivate_member", note=note or p.name)
    return True
