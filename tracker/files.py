"""Downloads of stored files, each behind the visibility of the proposal it belongs to.

Media files are never served straight from ``MEDIA_ROOT`` in production: an attachment holds a
member's handwriting and signature, so it goes out only through ``download_attachment``, which
asks ``Proposal.objects.visible_to(request.user)``. Someone who may not see the proposal gets the
same 404 as for an id that does not exist.
"""

from __future__ import annotations

import logging
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404, resolve_url
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from proposals.models import Proposal, ProposalAttachment
from proposals.validators import FileKind, sniff_kind

logger = logging.getLogger(__name__)

#: Django's own default; while the deployment has not chosen a login page, the admin's is used.
_DJANGO_DEFAULT_LOGIN_URL = "/accounts/login/"


def _login_url() -> str:
    url = resolve_url(settings.LOGIN_URL)
    return reverse("admin:login") if url == _DJANGO_DEFAULT_LOGIN_URL else url


def _download_name(name: str, kind: FileKind) -> str:
    """The name the browser saves under: the display name, with the extension of its kind."""
    stem = PurePath(name.replace("\\", "/")).name.strip() or "attachment"
    if PurePath(stem).suffix.lower() in kind.extensions:
        return stem
    return f"{stem}{kind.extension}"


@require_safe
@never_cache
def download_attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    """One attachment of a proposal, as a download, to someone who may see the proposal."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), _login_url())
    visible = Proposal.objects.visible_to(request.user).values("pk")
    attachment = get_object_or_404(
        ProposalAttachment.objects.filter(proposal_id__in=visible), pk=pk
    )
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        logger.error("attachment %s: stored file %r is missing", pk, attachment.file.name)
        raise Http404 from exc
    kind = sniff_kind(handle.read(16))
    handle.seek(0)
    if kind is None:
        # Stored before uploads were checked, or changed on disk: never serve it as anything.
        handle.close()
        logger.error("attachment %s: stored file is not PDF/JPEG/PNG; refused", pk)
        raise Http404
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=_download_name(attachment.name, kind),
        content_type=kind.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
