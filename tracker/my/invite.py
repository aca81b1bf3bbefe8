"""Setting a password through an invitation (``tracker.members.invitations``), and how a
member wants to be told about their proposals.

The link is opened once to check its token, which then moves to the session and out of the
address bar (as Django's password reset does): the page that asks for the password carries no
token a referrer or a shared screen could leak. Setting the password spends the link.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from proposals.models import User
from tracker.members.invitations import accept_invitation, invitation_tokens
from tracker.models import MemberPreference
from tracker.my.access import proposer_required
from tracker.my.forms import PreferenceForm

SESSION_KEY = "_member_invitation_token"
SET_PASSWORD = "set-password"


def _user(uidb64: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    return User.objects.filter(pk=pk, is_active=True, proposer__isnull=False).first()


def _invalid(request):
    return render(request, "my/invitation.html", {"valid": False}, status=400)


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
def invitation(request, uidb64: str, token: str):
    user = _user(uidb64)
    if user is None:
        return _invalid(request)
    if token != SET_PASSWORD:
        if not invitation_tokens.check_token(user, token):
            return _invalid(request)
        request.session[SESSION_KEY] = token
        return redirect(reverse("my:invitation", args=[uidb64, SET_PASSWORD]))
    kept = request.session.get(SESSION_KEY, "")
    if not kept or not invitation_tokens.check_token(user, kept):
        return _invalid(request)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The account as saved: the session's hash is of the new password.
        user = accept_invitation(user, password=form.cleaned_data["new_password1"])
        del request.session[SESSION_KEY]
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request, _("密码已设置，以后请用登录名“%(u)s”和此密码登录。") % {"u": user.username}
        )
        return redirect("my:index")
    return render(
        request, "my/invitation.html", {"valid": True, "form": form, "username": user.username}
    )


@proposer_required
def preferences(request):
    pref = MemberPreference.objects.filter(proposer=request.proposer).first()
    form = PreferenceForm(request.POST or None, instance=pref)
    if request.method == "POST" and form.is_valid():
        MemberPreference.objects.update_or_create(
            proposer=request.proposer, defaults={"channels": form.cleaned_data["channels"]}
        )
        messages.success(request, _("通知方式已保存。"))
        return redirect("my:index")
    return render(request, "my/preferences.html", {"form": form})
