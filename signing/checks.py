"""Is a stored signed letter still the one that was signed? Its file is read again and its
signatures verified; the answer is kept on its ``LetterSignature`` for the dashboard."""

from __future__ import annotations

import datetime
import hashlib

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from replies.kinds import kind_named
from signing.models import LetterSignature
from signing.pades import VerifyResult, verify_pdf


def explain(result: VerifyResult) -> str:
    """One sentence a reader acts on (Chinese)."""
    if result.error:
        return _("无法读取文件：%(e)s") % {"e": result.error}
    if not result.signatures:
        return _("文件没有数字签名。")
    if not result.intact:
        return _("文件在签名后被改动过，不是签发时的原件。")
    if not result.trusted:
        return _("文件未被改动，但签名证书不是本系统信任的证书。")
    return _("文件完好，与签发时一致。")


def check_stored_letter(record: LetterSignature, *, now: datetime.datetime | None = None) -> str:
    """Verify the letter's stored file and save the answer on ``record``; returns the status."""
    letter = kind_named(record.kind).model.objects.filter(pk=record.letter_id).first()
    status, problem = LetterSignature.Status.INTACT, ""
    try:
        if letter is None or not letter.pdf:
            raise FileNotFoundError
        with letter.pdf.open("rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        status, problem = LetterSignature.Status.MISSING, _("签发件文件缺失。")
    else:
        result = verify_pdf(data)
        if hashlib.sha256(data).hexdigest() != record.sha256 or not result.intact:
            status, problem = LetterSignature.Status.CHANGED, explain(result)
            if result.intact:
                problem = _("文件与签发时记录的SHA-256不一致。")
    record.status, record.problem = status, problem
    record.checked_at = now or timezone.now()
    record.save(update_fields=["status", "problem", "checked_at"])
    return status


def check_stored_letters(*, limit: int | None = None) -> dict[str, int]:
    """Check the stored letters, the longest unchecked first; the count of each status."""
    counts: dict[str, int] = {}
    records = LetterSignature.objects.order_by("checked_at", "pk")
    for record in records[:limit] if limit else records:
        status = check_stored_letter(record)
        counts[status] = counts.get(status, 0) + 1
    return counts


def failing_letters() -> QuerySet[LetterSignature]:
    """The letters whose stored file no longer verifies (changed or missing)."""
    return LetterSignature.objects.exclude(status=LetterSignature.Status.INTACT).order_by(
        "-checked_at", "pk"
    )
