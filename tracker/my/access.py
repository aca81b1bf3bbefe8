"""Who may use /my/: a signed-in user with a proposer record. One choke point for the pages.

What each page then shows is scoped by ``Proposal.objects.for_proposer`` and
``Reply.objects.for_proposer``: an object outside them is a 404, never a 403, so a member
cannot tell another member's proposal from one that does not exist.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from tracker.my.selectors import proposer_of


def proposer_required(view):
    """Sign-in first (to /my/login/), then a proposer; staff get a polite note instead.

    Pages are personal: they are never cached (a shared phone's back button, a proxy).
    """

    @wraps(view)
    @never_cache
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("my:login"))
        proposer = proposer_of(request.user)
        if proposer is None:
            return render(request, "my/not_proposer.html", status=403)
        request.proposer = proposer
        return view(request, *args, **kwargs)

    return wrapper
