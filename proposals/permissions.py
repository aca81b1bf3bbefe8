"""Who may act for a unit: the predicates every layer asks (issue 18, "one rule, one place").

A unit's work is done by its members (``Membership``): clerks 联络员 draft, signers 签发人 sign
or return. Each rule is written once here; the workflow guards (``replies.workflow``), the
admin's buttons (``replies.admin.letters``), the dashboard's 待签发 list and the e-mail
recipients (``tracker.mail.notices``) ask these functions instead of filtering memberships
themselves. Only active users count, whatever their membership rows say.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from proposals.models import Membership, User


def signer_memberships(unit_id: int | None = None) -> QuerySet[Membership]:
    """The signer memberships of active users (of one unit, if given)."""
    qs = Membership.objects.filter(role=Membership.Role.SIGNER, user__is_active=True)
    return qs if unit_id is None else qs.filter(unit_id=unit_id)


def may_sign(user: User, unit_id: int) -> bool:
    """Whether ``user`` signs (签发) or returns letters for the unit ``unit_id``."""
    if not user.is_authenticated or not user.is_active:
        return False
    return signer_memberships(unit_id).filter(user=user).exists()


def signer_unit_ids(user: User, memberships: Iterable[Membership] | None = None) -> set[int]:
    """The units ``user`` signs for (none for an inactive or anonymous user). A caller that has
    read the user's memberships already (the dashboard) passes them: no query then."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if memberships is not None:
        signer = Membership.Role.SIGNER
        return {m.unit_id for m in memberships if m.user_id == user.pk and m.role == signer}
    return set(signer_memberships().filter(user=user).values_list("unit_id", flat=True))


def signers_of(unit_id: int) -> QuerySet[User]:
    """The active users who sign for the unit, in a stable order."""
    ids = signer_memberships(unit_id).values("user_id")
    return User.objects.filter(pk__in=ids).order_by("pk")
