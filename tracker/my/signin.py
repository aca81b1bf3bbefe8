"""Signing in to /my/: username and password, or a one-time link sent by e-mail.

The link carries a token from ``LoginLinkTokenGenerator``: Django's password-reset token
scheme with its own salt and a short life. It hashes the user's ``last_login``, which signing in
updates, so a link works once; and it expires after ``MY_LOGIN_LINK_MAX_AGE`` seconds. Opening
the link shows a button (a POST signs in): mail scanners that fetch links do not spend it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.auth.views import LoginView, LogoutView, PasswordChangeView
from django.core.mail import send_mail
from django.db.models import Q
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils.encoding import force_bytes, force_str
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from proposals.models import User
from proposals.security import OldPasswordCountedMixin
from tracker.my.access import proposer_required
from tracker.my.forms import LoginLinkForm

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


class SignInView(LoginView):
    template_name = "my/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("my:index")


sign_in = SignInView.as_view()
sign_out = LogoutView.as_view(next_page=reverse_lazy("my:login"))


class PasswordChange(OldPasswordCountedMixin, PasswordChangeView):
    template_name = "my/password_change.html"
    success_url = reverse_lazy("my:index")

    def form_valid(self, form):
        messages.success(self.request, _("密码已修改。"))
        return super().form_valid(form)


password_change = proposer_required(PasswordChange.as_view())


def users_for_email(email: str):
    """Active proposers' accounts registered with this address (on the account or the proposer)."""
    return (
        User.objects.filter(is_active=True, proposer__isnull=False)
        .filter(Q(email__iexact=email) | Q(proposer__email__iexact=email))
        .distinct()
    )


def login_link_path(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("my:login_link_confirm", args=[uid, login_link_tokens.make_token(user)])


def send_login_link(user: User, email: str) -> None:
    context = {
        "user": user,
        "url": settings.SITE_URL.rstrip("/") + login_link_path(user),
        "minutes": login_link_tokens.max_age // 60,
    }
    subject = render_to_string("my/email/login_link_subject.txt", context).strip()
    body = render_to_string("my/email/login_link.txt", context)
    send_mail(subject, body, None, [email])


@never_cache
@sensitive_post_parameters("email")
def login_link_request(request):
    form = LoginLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        for user in users_for_email(email):
            try:
                send_login_link(user, email)
            except OSError:
                logger.exception("login link to user %s not sent", user.pk)
        # The same answer whether or not the address is registered.
        return redirect("my:login_link_sent")
    return render(request, "my/login_link_request.html", {"form": form})


@never_cache
def login_link_sent(request):
    return render(request, "my/login_link_sent.html", {"minutes": login_link_tokens.max_age // 60})


def _user_from_uid(uidb64: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    return User.objects.filter(pk=pk, is_active=True, proposer__isnull=False).first()


@never_cache
def login_link_confirm(request, uidb64: str, token: str):
    user = _user_from_uid(uidb64)
    valid = user is not None and login_link_tokens.check_token(user, token)
    if request.method == "POST" and valid:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("my:index")
    status = 200 if valid else 400
    return render(request, "my/login_link_confirm.html", {"valid": valid}, status=status)
