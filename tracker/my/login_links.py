"""E-mailed sign-in links of /my/: the throttle in front, the ledger and the task behind.

A request for a link (``tracker.my.signin.login_link_request``) does the same work whatever
the address: it counts the request in the cache (per address and per client address), and
either queues ``prepare_login_links`` with the address or — over a limit — records the refusal
in the access audit and queues nothing. It never looks the address up, and it answers the same
page either way, so neither its answer nor its time says whether the address is registered
(the probe measured 11.6 ms for a registered address against 5.6 ms for an unknown one when
the request sent the mail itself).

The task, in a worker, finds the members registered with that address (opening an account for
a member who has none yet: ``tracker.members.invitations.accounts_for_address``) and writes one
``LoginLinkMail`` row per member, keyed by the request (a task run twice writes nothing new),
capped per member in the ledger too (the cache's counts are per process while Redis is down).
Each row is sent by ``send_login_link`` through the reminders' sending machine
(``tracker.mail.ledger.deliver``: claimed, retried with backoff, marked sent or failed), to the
address as the member registered it — never the spelling typed, which the database matched
case-insensitively. The token is made when the mail is built and never stored.

The link carries a token from ``LoginLinkTokenGenerator``: Django's password-reset token
scheme with its own salt and a short life. It hashes the user's ``last_login``, which signing in
updates, so a link works once; and it expires after ``MY_LOGIN_LINK_MAX_AGE`` seconds.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode

from proposals.models import AccessEvent, User
from tracker.mail import ledger
from tracker.members.invitations import accounts_for_address
from tracker.models import LoginLinkMail

logger = logging.getLogger(__name__)

#: How long an e-mailed sign-in link works, in seconds (a setting may change it).
DEFAULT_LOGIN_LINK_MAX_AGE = 15 * 60


class LoginLinkTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "tracker.my.signin.LoginLinkTokenGenerator"

    @property
    def max_age(self) -> int:
        return getattr(settings, "MY_LOGIN_LINK_MAX_AGE", DEFAULT_LOGIN_LINK_MAX_AGE)

    def check_token(self, user, token) -> bool:
        if not super().check_token(user, token):
            return False
        issued = base36_to_int(token.split("-")[0])
        return self._num_seconds(self._now()) - issued <= self.max_age


login_link_tokens = LoginLinkTokenGenerator()


def login_link_path(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("my:login_link_confirm", args=[uid, login_link_tokens.make_token(user)])


# --- The request: a throttle, then the queue ------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why a request for a link was not queued: ``client`` (too many from that client
    address), ``interval`` (the address had one a moment ago) or ``address`` (its hourly
    limit)."""

    reason: str


def _address_key(email: str) -> str:
    """The address as the cache knows it: a keyed hash, so the cache holds no addresses."""
    digest = salted_hmac("tracker.my.login_links", email.strip().lower()).hexdigest()
    return digest[:32]


def _count(key: str, window: int) -> int:
    """Add one to the counter ``key`` that lives ``window`` seconds from its first count."""
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls: this is its first count again
        cache.set(key, 1, timeout=window)
        return 1


def throttle(email: str, ip: str | None) -> Refusal | None:
    """Count this request; a ``Refusal`` when it is over a limit. Cache calls only, the same
    ones for any address (``tracker.cache`` keeps them working while Redis is down)."""
    window = int(settings.LOGIN_LINK_WINDOW)
    if _count(f"tracker:login-link:client:{ip or 'unknown'}", window) > int(
        settings.LOGIN_LINK_LIMIT_PER_CLIENT
    ):
        return Refusal("client")
    address = _address_key(email)
    interval = int(settings.LOGIN_LINK_MIN_INTERVAL)
    if interval > 0 and not cache.add(f"tracker:login-link:gap:{address}", 1, timeout=interval):
        return Refusal("interval")
    if _count(f"tracker:login-link:address:{address}", window) > int(
        settings.LOGIN_LINK_LIMIT_PER_ADDRESS
    ):
        return Refusal("address")
    return None


def refuse(request, email: str, refusal: Refusal) -> None:
    """A throttled request: logged, and recorded in the access audit like a lockout (the
    address typed stands where a sign-in's username would)."""
    from proposals.security import record_access

    logger.warning(
        "sign-in link request throttled (%s) for address %s", refusal.reason, _address_key(email)
    )
    record_access(AccessEvent.Kind.LOCKED_OUT, request=request, username=email)


def queue(email: str, ip: str | None) -> None:
    """Hand the address to the worker (``prepare_login_links``); the outbox keeps it while the
    broker is down. A fresh key names this request in the ledger."""
    from proposals import outbox
    from tracker import tasks

    outbox.enqueue(tasks.prepare_login_links, email, uuid.uuid4().hex, ip)


# --- The task: the members, the ledger, the mail --------------------------------------------


def users_for_email(email: str):
    """Active proposers' accounts registered with this address (on the account or the proposer)."""
    return (
        User.objects.filter(is_active=True, proposer__isnull=False)
        .filter(Q(email__iexact=email) | Q(proposer__email__iexact=email))
        .select_related("proposer")
        .distinct()
        .order_by("pk")
    )


def _registered_address(user: User, typed: str) -> str:
    """The member's own spelling of the address typed: the link goes there, never to a variant
    that only compares equal once case is folded (``ſ`` and ``s``, say)."""
    wanted = typed.strip().upper()
    for stored in (user.proposer.email, user.email):
        if stored and stored.strip().upper() == wanted:
            return stored.strip()
    return ""


def record_links(email: str, *, request_key: str, client_ip: str | None = None) -> list[int]:
    """One ledger row per member registered with ``email`` for this request, unless the member
    had ``LOGIN_LINK_LIMIT_PER_ADDRESS`` links within the hour; their sending is queued on
    commit. Returns the ids queued."""
    since = timezone.now() - datetime.timedelta(seconds=int(settings.LOGIN_LINK_WINDOW))
    limit = int(settings.LOGIN_LINK_LIMIT_PER_ADDRESS)
    # A member registered with the address but never invited gets an account now (issue 21).
    accounts_for_address(email)
    for user in users_for_email(email):
        address = _registered_address(user, email)
        if not address:
            continue
        with transaction.atomic():
            # One task at a time per member, so two at once cannot both pass the cap.
            User.objects.select_for_update().filter(pk=user.pk).exists()
            mine = LoginLinkMail.objects.filter(user=user)
            if mine.filter(request_key=request_key).exists():
                continue  # this request was recorded by an earlier run of the task
            if mine.filter(created_at__gte=since).count() >= limit:
                logger.warning("sign-in link for user %s not sent: hourly limit reached", user.pk)
                continue
            LoginLinkMail.objects.create(
                user=user, email=address, request_key=request_key, client_ip=client_ip
            )
    pending = list(
        LoginLinkMail.objects.filter(
            request_key=request_key, state=LoginLinkMail.State.PENDING, attempts=0
        ).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: enqueue(pending), robust=True)
    return pending


def enqueue(ids) -> None:
    ledger.enqueue(LoginLinkMail, ids)


def build_link_mail(row: LoginLinkMail) -> EmailMultiAlternatives | None:
    """The mail with a fresh link; None (cancelled) when the member may no longer sign in this
    way or no longer has that address."""
    user = (
        User.objects.filter(pk=row.user_id, is_active=True, proposer__isnull=False)
        .select_related("proposer")
        .first()
    )
    if user is None or not _registered_address(user, row.email):
        return None
    context = {
        "user": user,
        "url": settings.SITE_URL.rstrip("/") + login_link_path(user),
        "minutes": login_link_tokens.max_age // 60,
    }
    subject = render_to_string("my/email/login_link_subject.txt", context)
    body = render_to_string("my/email/login_link.txt", context)
    return EmailMultiAlternatives(subject=" ".join(subject.split()), body=body, to=[row.email])


def deliver_link(link_id: int) -> ledger.Outcome:
    return ledger.deliver(LoginLinkMail, link_id, build_link_mail)
