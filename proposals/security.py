"""The audit of access decisions: sign-ins, failures, lockouts (django-axes) and refusals.

Django's auth signals and axes' lockout signal are the only places these events exist, so
they are recorded from those signals (the workflow's own audit needs none). Refusals are
recorded by a middleware from the 403 responses the views answer. Every event carries the
client's address (proposals.client_ip), behind the proxy too.

``LockoutHandler`` is axes' handler (``AXES_HANDLER``) with a second, higher limit per address.
``PublishedPasswordBackend`` refuses the demo's published passwords without ``DEBUG``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from proposals.client_ip import client_ip
from proposals.models import AccessEvent
from proposals.passwords import published_password_sign_in_message, refuses_published

if TYPE_CHECKING:
    from django.contrib.auth.views import PasswordChangeView

    # The mixins below: typed as what they go on for mypy, plain classes at run time.
    _PasswordChangeViewBase = PasswordChangeView
    _AuthenticationFormBase = AuthenticationForm
else:
    _PasswordChangeViewBase = _AuthenticationFormBase = object


def _ip(request: HttpRequest | None) -> str | None:
    return client_ip(request) if request is not None else None


def record_access(
    kind: str, *, request: HttpRequest | None, user=None, username: str = ""
) -> AccessEvent:
    return AccessEvent.objects.create(
        kind=kind,
        user=user if user is not None and getattr(user, "pk", None) else None,
        username=(username or getattr(user, "username", "") or "")[:150],
        ip_address=_ip(request),
        method=(request.method or "")[:10] if request is not None else "",
        path=request.path[:300] if request is not None else "",
    )


def _logged_in(sender, request, user, **kwargs) -> None:
    record_access(AccessEvent.Kind.LOGIN, request=request, user=user)


def _logged_out(sender, request, user, **kwargs) -> None:
    record_access(AccessEvent.Kind.LOGOUT, request=request, user=user)


def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    record_access(
        AccessEvent.Kind.LOGIN_FAILED, request=request, username=credentials.get("username", "")
    )


def _locked_out(sender, request, username, ip_address, **kwargs) -> None:
    record_access(AccessEvent.Kind.LOCKED_OUT, request=request, username=username or "")


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler, keyed on username and address together
    (``AXES_LOCKOUT_PARAMETERS``), plus a limit per address across every username.

    The pair limit (``AXES_FAILURE_LIMIT``) stops guessing one account's password without
    letting an attacker lock that account out for everyone else. What it does not stop is
    password spraying: one address trying a few passwords against many usernames, each below
    the limit. So once an address has ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures within the
    cool-off, whatever the usernames, it is locked for all of them; higher than the pair limit,
    so an office behind one address is not locked out by its own typos. axes compares a single
    failure count with a single limit, so a locked address reports that limit as its count. A
    successful sign-in clears only that username's failures from that address (axes resets
    what ``AXES_LOCKOUT_PARAMETERS`` names), never the other usernames' tried from there.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        limit = get_failure_limit(request, credentials)
        address_limit = _address_limit()
        if failures < limit and address_limit and self.address_failures(request) >= address_limit:
            return limit
        return failures

    def address_failures(self, request) -> int:
        """Failures from the request's address within the cool-off, over every username."""
        address = getattr(request, "axes_ip_address", None)
        if not address:
            return 0
        attempts = AccessAttempt.objects.filter(
            ip_address=address, attempt_time__gte=get_cool_off_threshold(request)
        )
        return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def _address_limit() -> int:
    return max(int(getattr(settings, "LOGIN_ADDRESS_FAILURE_LIMIT", 0) or 0), 0)


def connect() -> None:
    from axes.signals import user_locked_out

    user_logged_in.connect(_logged_in, dispatch_uid="proposals.security.login")
    user_logged_out.connect(_logged_out, dispatch_uid="proposals.security.logout")
    user_login_failed.connect(_login_failed, dispatch_uid="proposals.security.failed")
    user_locked_out.connect(_locked_out, dispatch_uid="proposals.security.locked")


class AccessRefusalMiddleware:
    """Records every refusal the application answers.

    401 and 403 (not signed in for the API, permission refused, CSRF failure) are refusals. A 404
    from a route that exists is recorded too: a foreign object answers exactly like a missing
    one, so from outside both are "not found", but a run of them is how someone probes ids.
    A 404 for a path no route matches (scanners, typos) is not worth a row.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        status = response.status_code
        if status in (401, 403):
            kind = AccessEvent.Kind.REFUSED
        elif status == 404 and getattr(request, "resolver_match", None) is not None:
            kind = AccessEvent.Kind.NOT_FOUND
        else:
            return response
        user = getattr(request, "user", None)
        authenticated = user is not None and user.is_authenticated
        record_access(kind, request=request, user=user if authenticated else None)
        return response


# --- The old password, asked when a password is changed -------------------------------------


class OldPasswordCountedForm(PasswordChangeForm):
    """Django's form for a password change, where the old password is no free oracle: a wrong
    one is a failed sign-in (``user_login_failed``: django-axes counts it toward the lockout,
    the access audit records it) and a locked account may not try at all."""

    def __init__(self, user, *args, request: HttpRequest | None = None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        from axes.handlers.proxy import AxesProxyHandler

        credentials = {"username": self.user.get_username()}
        if self.request is not None and AxesProxyHandler.is_locked(self.request, credentials):
            raise ValidationError(
                _("尝试次数过多，账号已暂时锁定，请稍后再试。"), code="locked_out"
            )
        try:
            return super().clean_old_password()
        except ValidationError:
            user_login_failed.send(sender=type(self), credentials=credentials, request=self.request)
            raise


class OldPasswordCountedMixin(_PasswordChangeViewBase):
    """For a ``PasswordChangeView``: its form gets the request (the lockout keys on it)."""

    form_class: type[PasswordChangeForm] | None = OldPasswordCountedForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


def counted_admin_password_change(site):
    """``AdminSite.password_change`` with the old password counted (Django's view cannot hand
    the request to its form): set it on the site before its URLs are built."""
    from django.contrib.auth.views import PasswordChangeView
    from django.urls import reverse

    class View(OldPasswordCountedMixin, PasswordChangeView):
        pass

    def password_change(request, extra_context=None):
        defaults = {
            "success_url": reverse("admin:password_change_done", current_app=site.name),
            "extra_context": {**site.each_context(request), **(extra_context or {})},
        }
        if site.password_change_template is not None:
            defaults["template_name"] = site.password_change_template
        request.current_app = site.name
        return View.as_view(**defaults)(request)

    return password_change


# --- The demo's published passwords, at sign-in -----------------------------------------------

#: Set on the request by ``PublishedPasswordBackend`` so the sign-in form can say why.
PUBLISHED_PASSWORD_REFUSED = "_published_password_refused"


class PublishedPasswordBackend:
    """An authentication backend that stops a sign-in with one of the demo's published
    passwords when ``DEBUG`` is off (``proposals.passwords``), whoever the username.

    It stands after django-axes' backend and before Django's: raising ``PermissionDenied``
    ends ``authenticate()``, which then sends ``user_login_failed`` — so the attempt is counted
    toward the lockout and recorded in the access audit like any wrong password, on every path
    that signs in with a password (the admin, ``/my/login/``, the test client's ``login``).
    The answer does not depend on the account: nothing is looked up, so it tells nobody
    whether the username exists or has that password.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if refuses_published(password):
            if request is not None:
                setattr(request, PUBLISHED_PASSWORD_REFUSED, True)
            raise PermissionDenied
        return None

    # No ``get_user``: this backend never signs anyone in, so no session names it (and the
    # test client's ``force_login`` keeps choosing Django's backend).


class PublishedPasswordMessageMixin(_AuthenticationFormBase):
    """For an ``AuthenticationForm``: a sign-in refused for a published password says so (in
    Chinese), instead of the usual "wrong username or password"."""

    def get_invalid_login_error(self):
        if getattr(self.request, PUBLISHED_PASSWORD_REFUSED, False):
            return ValidationError(published_password_sign_in_message(), code="published_password")
        return super().get_invalid_login_error()


class SignInForm(PublishedPasswordMessageMixin, AuthenticationForm):
    """The sign-in form of ``/my/login/``."""


class AdminSignInForm(PublishedPasswordMessageMixin, AdminAuthenticationForm):
    """The admin's sign-in form (``admin.site.login_form``, set in ``tracker/urls.py``)."""
