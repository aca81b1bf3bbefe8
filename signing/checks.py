"""Is a stored signed letter still the one that was signed? Its file is read again and its
signatures verified; the answer is kept on its ``LetterSignature`` for the dashboard.

Two callers: the nightly check of every stored letter (``check_stored_letters``) and the check
made when a letter is served (``signing.serving``). Both record their answer here
(``record_check``): a change of status is audited once, on the letter, whoever noticed it.
"""

from __future__ import annotations

import datetime
import hashlib
import logging

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from proposals import audit
from proposals.models import VERB_LABELS
from proposals.workflow import record_transition
from replies.kinds import kind_named
from replies.models import CoOpinion, Reply
from signing.models import LetterSignature
from signing.pades import VerifyResult, verify_pdf

logger = logging.getLogger(__name__)

VERB_LABELS.update(
    {
        "letter_check_failed": gettext_lazy("签发件核验未通过"),
        "letter_check_passed": gettext_lazy("签发件核验恢复通过"),
    }
)


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


def assess(record: LetterSignature, data: bytes | None, digest: str = "") -> tuple[str, str]:
    """The status of a stored file's bytes (None: the file is gone) against what was signed,
    and the problem (Chinese, "" when intact). Runs the full verification (``verify_pdf``).

    A record without signers stands for a letter stored without a signature (signed before
    issue 23, or with no key configured) whose file was once found changed or missing
    (``signing.serving``): its bytes are intact when they are the ones stored at signing."""
    if data is None:
        return LetterSignature.Status.MISSING, _("签发件文件缺失。")
    digest = digest or hashlib.sha256(data).hexdigest()
    result = verify_pdf(data)
    if digest != record.sha256:
        problem = explain(result) if not result.intact else ""
        return LetterSignature.Status.CHANGED, problem or _("文件与签发时记录的SHA-256不一致。")
    if not result.signatures and not record.signers and not result.error:
        return LetterSignature.Status.INTACT, ""
    if not result.intact:
        return LetterSignature.Status.CHANGED, explain(result)
    return LetterSignature.Status.INTACT, ""


def record_check(
    record: LetterSignature,
    *,
    status: str,
    problem: str,
    letter: Reply | CoOpinion | None = None,
    now: datetime.datetime | None = None,
) -> LetterSignature:
    """Save a check's answer on ``record`` (updated in place too). A change of status — found
    changed or missing, or found intact again — is logged and audited on the letter, once:
    the row is locked, so two requests noticing the same change write one audit row."""
    now = now or timezone.now()
    with transaction.atomic():
        audit.hold_before_row_locks()
        locked = LetterSignature.objects.select_for_update().get(pk=record.pk)
        before = locked.status
        locked.status, locked.problem, locked.checked_at = status, problem, now
        locked.save(update_fields=["status", "problem", "checked_at"])
        if before != status:
            _audit_change(locked, before=before, letter=letter)
    record.status, record.problem, record.checked_at = status, problem, now
    return locked


def _audit_change(record: LetterSignature, *, before: str, letter: Reply | CoOpinion | None):
    failed = record.status != LetterSignature.Status.INTACT
    note = _("签发件核验：%(before)s → %(after)s。%(problem)s") % {
        "before": LetterSignature.Status(before).label,
        "after": record.get_status_display(),
        "problem": record.problem,
    }
    (logger.error if failed else logger.warning)(
        "%s %s: stored letter %s -> %s: %s",
        record.kind,
        record.letter_id,
        before,
        record.status,
        record.problem,
    )
    state = letter.state if letter is not None else ""
    record_transition(
        letter if letter is not None else record,
        actor=None,
        verb="letter_check_failed" if failed else "letter_check_passed",
        from_state=state,
        to_state=state,
        note=note,
        proposal=letter.proposal if letter is not None else None,
    )


def check_stored_letter(record: LetterSignature, *, now: datetime.datetime | None = None) -> str:
    """Verify the letter's stored file and save the answer on ``record``; returns the status."""
    letter = kind_named(record.kind).model.objects.filter(pk=record.letter_id).first()
    data: bytes | None = None
    if letter is not None and letter.pdf:
        try:
            with letter.pdf.open("rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            data = None
    status, problem = assess(record, data)
    record_check(record, status=status, problem=problem, letter=letter, now=now)
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
