"""Signing in to /my/: username and password, or a one-time link sent by e-mail.

The link and its token are made by the task that sends the mail (``tracker.my.login_links``,
which says how); this module answers the pages. Opening the link shows a button (a POST signs
in): mail scanners that fetch links do not spend it. Asking for a link answers the same page
whether or not the address is registered, and whether or not the request was throttled.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView, LogoutView, PasswordChangeView
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from proposals.client_ip import client_ip
from proposals.models import User
from proposals.security import OldPasswordCountedMixin, SignInForm
from tracker.my import login_links
from tracker.my.access import proposer_required
from tracker.my.forms import LoginLinkForm
from tracker.my.login_links import login_link_path as login_link_path  # re-exported
from tracker.my.login_links import login_link_tokens


class SignInView(LoginView):
    template_name = "my/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("my:index")
    # Says why a demo password is refused without DEBUG (proposals.security).
    authentication_form = SignInForm


sign_in = SignInView.as_view()
sign_out = LogoutView.as_view(next_page=reverse_lazy("my:login"))


class PasswordChange(OldPasswordCountedMixin, PasswordChangeView):
    template_name = "my/password_change.html"
    success_url = reverse_lazy("my:index")

    def form_valid(self, form):
        messages.success(self.request, _("密码已修改。"))
        return super().form_valid(form)


password_change = proposer_required(PasswordChange.as_view())


@never_cache
@sensitive_post_parameters("email")
def login_link_request(request):
    """Count the request and queue the address, or refuse it over a limit; nothing here looks
    the address up or sends anything, and every valid request gets the same redirect."""
    form = LoginLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        ip = client_ip(request)
        refusal = login_links.throttle(email, ip)
        if refusal is None:
            login_links.queue(email, ip)
        else:
            login_links.refuse(request, email, refusal)
        return redirect("my:login_link_sent")
    return render(request, "my/login_link_request.html", {"form": form})


@never_cache
def login_link_sent(request):
    """The one answer to every request for a link: sent, unknown or throttled alike."""
    context = {
        "minutes": login_link_tokens.max_age // 60,
        "per_hour": settings.LOGIN_LINK_LIMIT_PER_ADDRESS,
        "interval": settings.LOGIN_LINK_MIN_INTERVAL,
    }
    return render(request, "my/login_link_sent.html", context)


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
