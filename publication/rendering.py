"""The public PDF: the letter typeset from the public text (confirmed items masked).

Rendered by the worker (``publication.tasks``) after the publishing commit, stored once with
its SHA-256 on ``PublicText``. The signed original stays as it was, internal.
"""

from __future__ import annotations

import copy
import hashlib

from django.core.files.base import ContentFile
from django.db import transaction

from publication.models import PublicText
from replies import renderer
from replies.rendering import letter_for


def public_pdf_bytes(public: PublicText) -> bytes:
    reply = copy.copy(public.reply)
    for field in ("title", "salutation", "body", "closing"):
        setattr(reply, field, getattr(public, field))
    return renderer.render_letter_pdf(letter_for(reply, draft=False))


def store_public_pdf(reply_id: int) -> bool:
    """Render and store the public PDF of ``reply_id`` once; False when there is nothing to do."""
    public = PublicText.objects.select_related("reply__unit").filter(reply_id=reply_id).first()
    if public is None or public.pdf_sha256 or not public.masked:
        return False
    data = public_pdf_bytes(public)
    with transaction.atomic():
        locked = PublicText.objects.select_for_update().get(pk=public.pk)
        if locked.pdf_sha256:
            return False
        locked.pdf.save(f"public-{reply_id}.pdf", ContentFile(data), save=False)
        locked.pdf_sha256 = hashlib.sha256(data).hexdigest()
        locked.save(update_fields=["pdf", "pdf_sha256"])
    return True
