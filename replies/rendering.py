"""The printed letter and its signed PDF: what a reply or opinion prints, and storing its PDF
once, with its hash, when it is signed.

``replies.tasks`` runs ``store_signed_pdf`` in the Celery PDF queue and the sweep asks
``unrendered_letters``; the workflow (``replies.workflow``) prints a letter to check its size
before signing, renders a missing PDF at 送达 and queues the render on commit. This module
imports neither of them: the dependencies run workflow → tasks → rendering → kinds.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from proposals.workflow import record_transition
from replies import pdf_limits, renderer
from replies.kinds import KINDS, LetterType, kind_named, kind_of
from replies.letter import Contact, Letter, LetterFormat, parse_body
from replies.models import CoOpinion, Reply

logger = logging.getLogger(__name__)

#: A signed letter whose PDF is still missing after this is late: its render was lost, or the
#: worker is not running (the hourly sweep queues it again; the dashboards show it).
RENDER_GRACE = datetime.timedelta(minutes=15)


#: What the apps above replies do to a signed letter's rendered PDF before it is stored, in
#: order: ``hook(letter, kind, pdf) -> pdf`` (``signing`` seals and signs it; its AppConfig
#: installs the hook, so replies names no app above it).
SIGNED_PDF_HOOKS: list[Callable[[Reply | CoOpinion, str, bytes], bytes]] = []


class PdfRenderFailed(RuntimeError):
    """A signed letter's render failed and will be tried again (``render_signed_pdf`` retries
    it with backoff); the failure is already recorded on the letter."""


class PdfAlreadyStored(RuntimeError):
    """A letter that has (or had) a signed PDF is never rendered again (``has_pdf``)."""


def letter_for(obj: Reply | CoOpinion, *, draft: bool | None = None) -> Letter:
    """The Letter a reply or opinion prints (a draft preview carries the 草稿 mark)."""
    unit = obj.unit
    body = parse_body(obj.body + ("\n" + obj.closing if obj.closing else ""))
    signed = obj.signed_on is not None
    return Letter(
        **kind_of(obj).print_marks(obj),
        format=LetterFormat(unit.letter_format),
        organs=(unit.organ_name,),
        doc_number=obj.doc_number,
        signer=obj.signer_name,
        title=obj.title,
        salutation=obj.salutation,
        body=body,
        signature_organ=unit.organ_name,
        date=obj.signed_on or timezone.localdate(),
        contact=Contact(
            person=obj.contact_person,
            phone=obj.contact_phone,
            address=obj.contact_address,
            postcode=obj.contact_postcode,
        ),
        cc=tuple(x for x in obj.cc.replace("，", "、").split("、") if x.strip()),
        # 信函 carries no 印发 row (GB/T 9704 §10.2); a document prints its own organ.
        printed_by=unit.organ_name if signed and unit.letter_format == "document" else "",
        printed_on=obj.signed_on,
        draft=(not signed) if draft is None else draft,
    )


def render_pdf(obj: Reply | CoOpinion) -> bytes:
    return renderer.render_letter_pdf(letter_for(obj))


def pdf_late(obj: Reply | CoOpinion, *, now: datetime.datetime | None = None) -> bool:
    """Signed more than ``RENDER_GRACE`` ago and still without its PDF (生成失败 or not)."""
    if obj.signed_at is None or obj.pdf_sha256:
        return False
    return obj.pdf_failed_at is not None or obj.signed_at < (now or timezone.now()) - RENDER_GRACE


def unrendered_letters(
    *, now: datetime.datetime | None = None, grace: datetime.timedelta, limit: int
) -> list[tuple[str, int]]:
    """Signed letters whose PDF was never stored though they were signed more than ``grace``
    ago: their render task was lost (the broker lost it, a worker died for good). Letters in
    生成失败 are not here: they wait for a person (``rerender_pdf``). Oldest first, at most
    ``limit``."""
    cutoff = (now or timezone.now()) - grace
    found: list[tuple[str, int]] = []
    for kind in KINDS:
        ids = (
            kind.model.objects.filter(signed_at__lt=cutoff, pdf_failed_at__isnull=True)
            .filter(pdf_sha256="", pdf="", pdf_size__isnull=True)
            .order_by("signed_at", "pk")
            .values_list("pk", flat=True)[: limit - len(found)]
        )
        found += [(kind.code, pk) for pk in ids]
    return found


def has_pdf(obj: Reply | CoOpinion) -> bool:
    """Whether a signed PDF was ever stored: a file, a hash or a size. Any one is enough to
    refuse a new render: a letter whose hash was cleared behind the application's back must
    not get a second "signed" PDF printed from what its row says now."""
    return bool(obj.pdf_sha256 or obj.pdf or obj.pdf_size is not None)


def store_signed_pdf(kind: str, pk: int, *, max_attempts: int = 1) -> bool:
    """Render a signed letter and store it with its hash; a second call does nothing.

    Returns True when a file was written. Runs in the Celery PDF queue. A failure (the
    renderer raising, a missing font, an unwritable ``MEDIA_ROOT``, the time limit) is
    recorded on the letter — one more attempt, the reason — in a transaction of its own. Once
    the letter has failed ``max_attempts`` times it is 生成失败 (``pdf_failed_at``, audited)
    and this returns False; before that it raises ``PdfRenderFailed`` for the task to retry.
    """
    letter_type = kind_named(kind)
    model = letter_type.model
    try:
        with transaction.atomic():
            obj = model.objects.select_for_update(of=("self",)).select_related("unit").get(pk=pk)
            if obj.signed_on is None or obj.pdf_sha256:
                return False
            if has_pdf(obj):
                logger.error("%s %s: a PDF is recorded without its hash; not rendered", kind, pk)
                return False
            _store_pdf(obj, kind)
        return True
    except (DatabaseError, model.DoesNotExist):
        raise
    except Exception as exc:
        failure = exc
    reason = pdf_failure_reason(failure)
    if _record_pdf_failure(letter_type, pk, reason, max_attempts):
        logger.error(
            "%s %s: rendering the signed PDF failed: %s", kind, pk, reason, exc_info=failure
        )
        return False
    logger.warning("%s %s: rendering the signed PDF failed, will retry: %s", kind, pk, reason)
    raise PdfRenderFailed(reason) from failure


def _store_pdf(obj: Reply | CoOpinion, kind: str) -> None:
    """Render the signed letter and save the file, its hash and size; clear any failure.
    Once only: the database refuses to overwrite a stored PDF, and so does this."""
    if has_pdf(obj):
        raise PdfAlreadyStored(f"{kind} {obj.pk} already has its signed PDF")
    data = render_pdf(obj)
    for hook in SIGNED_PDF_HOOKS:
        data = hook(obj, kind, data)
    digest = hashlib.sha256(data).hexdigest()
    name = f"{kind}-{obj.pk}-{digest[:12]}.pdf"
    obj.pdf.save(name, ContentFile(data), save=False)
    obj.pdf_sha256 = digest
    obj.pdf_size = len(data)
    obj.pdf_attempts = 0
    obj.pdf_error = ""
    obj.pdf_failed_at = None
    obj.save(
        update_fields=[
            "pdf",
            "pdf_sha256",
            "pdf_size",
            "pdf_attempts",
            "pdf_error",
            "pdf_failed_at",
        ]
    )


def pdf_failure_reason(exc: BaseException) -> str:
    """What the admin shows of a failed render (Chinese, with the technical detail)."""
    if isinstance(exc, pdf_limits.LetterTooLarge):
        return _("正文过长，无法生成PDF。")
    if isinstance(exc, SoftTimeLimitExceeded):
        return _("生成PDF超时（超过%(n)d秒）。") % {"n": pdf_limits.RENDER_TIME_LIMIT}
    if isinstance(exc, OSError):
        where = f"（{exc.filename}）" if getattr(exc, "filename", None) else ""
        return _("读写文件失败%(where)s：%(e)s") % {"where": where, "e": exc.strerror or exc}
    return _("生成PDF出错：%(e)s") % {"e": f"{type(exc).__name__}: {exc}"[:1000]}


def _record_pdf_failure(kind: LetterType, pk: int, reason: str, max_attempts: int) -> bool:
    """Count a failed render; True when no retry should follow (生成失败, or stored meanwhile)."""
    with transaction.atomic():
        obj = (
            kind.model.objects.select_for_update(of=("self",)).select_related("proposal").get(pk=pk)
        )
        if has_pdf(obj):
            return True
        obj.pdf_attempts += 1
        obj.pdf_error = reason
        fields = ["pdf_attempts", "pdf_error"]
        final = obj.pdf_attempts >= max_attempts
        if final and obj.pdf_failed_at is None:
            obj.pdf_failed_at = timezone.now()
            fields.append("pdf_failed_at")
            note = _("第%(n)d次生成失败：%(reason)s") % {"n": obj.pdf_attempts, "reason": reason}
            record_transition(
                obj,
                actor=None,
                verb="pdf_failed",
                from_state=obj.state,
                to_state=obj.state,
                note=note,
                proposal=obj.proposal,
            )
        obj.save(update_fields=fields)
    return final
