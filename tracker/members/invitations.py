"""Accounts for members, in bulk (issue 21, part 1): ``invite_members`` makes each chosen
proposer an account linked to them and writes ONE invitation to the ledger (``Invitation``,
sent like every mail: claimed, retried, failed visibly); running it again sends nothing new.
The e-mail carries a one-time link to set a password.

The link's token is Django's password-reset scheme with its own salt and life
(``MEMBER_INVITATION_MAX_AGE`` seconds, 14 days by default): it hashes the account's password
and last sign-in, so setting the password spends it, and it expires. It is made when the mail
is built and never stored. Each invitation and each password set through one is audited
(``Transition``: ``invite``, ``accept_invitation``).

A group (界别组, 党派 …) has no account of its own: it is reached through its conveners, who are
invited in its place.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode
from django.utils.translation import gettext as _

from proposals.models import Proposer, User
from proposals.workflow import record_transition
from proposals.workflow.members import open_account, set_member_password
from tracker.mail import ledger, members
from tracker.models import Invitation

logger = logging.getLogger(__name__)

DEFAULT_MAX_AGE = 14 * 24 * 3600


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "tracker.members.invitations.InvitationTokenGenerator"

    @property
    def max_age(self) -> int:
        return int(getattr(settings, "MEMBER_INVITATION_MAX_AGE", DEFAULT_MAX_AGE))

    def check_token(self, user, token) -> bool:
        if not super().check_token(user, token):
            return False
        try:
            issued = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        return self._num_seconds(self._now()) - issued <= self.max_age


invitation_tokens = InvitationTokenGenerator()


def invitation_path(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("my:invitation", args=[uid, invitation_tokens.make_token(user)])


@dataclass
class InviteReport:
    """What one run did, for the committee's message."""

    accounts_created: int = 0
    invited: list[int] = field(default_factory=list)  # Invitation ids written now
    already_invited: int = 0
    without_email: list[str] = field(default_factory=list)
    inactive: list[str] = field(default_factory=list)


def reachable_members(proposers: Iterable[Proposer]) -> list[Proposer]:
    """Members themselves, and a group's conveners in its place; once each."""
    found: dict[int, Proposer] = {}
    for p in proposers:
        if p.kind == Proposer.Kind.MEMBER:
            found.setdefault(p.pk, p)
        else:
            for c in p.conveners.all():
                found.setdefault(c.pk, c)
    return list(found.values())


def accounts_for_address(email: str) -> int:
    """Accounts for the active members registered with ``email`` who have none yet (the
    sign-in link works for any member with a registered address); how many were made."""
    made = 0
    waiting = Proposer.objects.filter(
        kind=Proposer.Kind.MEMBER, is_active=True, user__isnull=True, email__iexact=email.strip()
    ).values_list("pk", flat=True)
    for pk in list(waiting):
        made += open_account(pk)[1]
    return made


def invite_members(proposers: Iterable[Proposer], *, actor: User) -> InviteReport:
    """An account and one invitation for each member (groups: their conveners) with an
    e-mail address; none for those already invited. Sending is queued on commit."""
    report = InviteReport()
    for p in reachable_members(proposers):
        if not p.is_active:
            report.inactive.append(p.name)
            continue
        if not (p.email or "").strip():
            report.without_email.append(p.name)
            continue
        with transaction.atomic():
            user, created = open_account(p, actor=actor)
            report.accounts_created += created
            if Invitation.objects.filter(user=user).exists():
                report.already_invited += 1
                continue
            invitation = Invitation.objects.create(user=user, proposer=p, email=p.email.strip())
            record_transition(invitation, actor=actor, verb="invite", note=p.name)
            report.invited.append(invitation.pk)
    ids = list(report.invited)
    transaction.on_commit(lambda: ledger.enqueue(Invitation, ids), robust=True)
    return report


@transaction.atomic
def reinvite_member(proposer: Proposer, *, actor: User) -> Invitation | None:
    """Send the invitation again (the first expired or was lost), unless the member has set a
    password through one already. The committee asks for it on purpose: a new generation."""
    last = Invitation.objects.filter(proposer=proposer).order_by("-generation").first()
    if last is None or last.accepted_at is not None or not proposer.user_id:
        return None
    invitation = Invitation.objects.create(
        user_id=proposer.user_id,
        proposer=proposer,
        email=(proposer.email or last.email).strip(),
        generation=last.generation + 1,
    )
    record_transition(invitation, actor=actor, verb="reinvite", note=proposer.name)
    transaction.on_commit(lambda: ledger.enqueue(Invitation, [invitation.pk]), robust=True)
    return invitation


@transaction.atomic
def accept_invitation(user: User, *, password: str) -> User:
    """The member set a password through the link: the link is spent (the token hashed the old
    password), the invitation records when, and the audit says so."""
    user = set_member_password(user, password=password)
    invitation = Invitation.objects.filter(user=user).order_by("-generation").first()
    if invitation is not None:
        Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
        record_transition(invitation, actor=user, verb="accept_invitation", note=user.username)
    return user


def build_invitation(row: Invitation) -> EmailMultiAlternatives | None:
    """The mail with a fresh link; None (cancelled) when the account may no longer sign in."""
    user = User.objects.filter(pk=row.user_id, is_active=True).first()
    if user is None:
        return None
    context = {
        "name": row.proposer.name,
        "username": user.username,
        "url": ledger.site_url(invitation_path(user)),
        "login_url": ledger.site_url(reverse("my:login")),
        "days": invitation_tokens.max_age // 86400,
    }
    text = "\n".join(
        [
            _("%(name)s委员：") % context,
            "",
            _(
                "区政协提案委员会为您开通了“我的提案”账号，您可以在手机或电脑上提交提案、查看办理进程和答复。"
            ),
            "",
            _("登录名：%(username)s") % context,
            _("请在%(days)s天内打开下面的链接设置密码（链接只能使用一次）：") % context,
            context["url"],
            "",
            _("设置后可随时登录：%(login_url)s") % context,
            _("如非本人操作，请忽略本邮件。"),
        ]
    )
    return members.plain_and_html(
        subject=_("开通“我的提案”账号：请设置密码"),
        text=text + "\n",
        html_template="emails/members/invitation.html",
        context=context,
        to=row.email,
    )


def deliver_invitation(pk: int) -> ledger.Outcome:
    return ledger.deliver(
        Invitation,
        pk,
        lambda row: build_invitation(Invitation.objects.select_related("proposer").get(pk=row.pk)),
    )
