"""The check of a stored letter each time it is served (``replies.serving.STORED_PDF_CHECKS``).

Cheap per request: the bytes ``replies`` read once are hashed there; here the hash is compared
with the one recorded at signing (``LetterSignature.sha256``). Equal, and the record says the
file verified (``INTACT``: verified at signing, or by the last check), the letter is served
with no further work. Otherwise the full PAdES verification runs (``checks.assess``, ~11 ms)
and its answer is recorded through ``checks.record_check``: the dashboard lists a failing
letter at once, and the change is logged and audited once. Bytes already recorded as changed
are refused without verifying them again (they are not the signed bytes, whatever their
signatures say), so the verification runs at most once per change of the file.

A letter without a ``LetterSignature`` was stored without a signature (signed before issue 23,
or while no key was configured): it has no signature to verify and is served as stored, as
long as its bytes are the ones whose SHA-256 was stored with it (``pdf_sha256``). If they are
not, or the file is gone, a record is made for it (no signers, that hash) so the dashboard
lists it like any other, and it is refused like any other. A file recorded without any hash
has nothing to be compared with and is served as stored: only ``_store_pdf`` writes a letter's
file, always with its hash, and the signed-letter freeze refuses to clear the hash afterwards,
so such a row is made by hand (tests' stand-in files), not by the application.
"""

from __future__ import annotations

from django.utils import timezone

from replies.models import CoOpinion, Reply
from replies.serving import StoredPdf
from signing import checks
from signing.models import LetterSignature

Status = LetterSignature.Status


def check_served_letter(letter: Reply | CoOpinion, kind: str, stored: StoredPdf) -> str:
    """Empty when ``stored`` may be served as the letter's original; else why not (Chinese)."""
    record = LetterSignature.objects.filter(kind=kind, letter_id=letter.pk).first()
    if record is None:
        if not stored.missing and stored.sha256 == (letter.pdf_sha256 or stored.sha256):
            return ""  # stored without a signature, and unchanged (or no hash to compare)
        record = _record_for_unsigned(letter, kind)
    if record.status == Status.INTACT and stored.sha256 == record.sha256:
        return ""  # the bytes that verified
    status: str = record.status
    problem = record.problem
    if stored.missing:
        if status != Status.MISSING:
            status, problem = checks.assess(record, None)
    elif status != Status.CHANGED or stored.sha256 == record.sha256:
        # New bytes, or the signed bytes back: verified in full. Bytes already recorded as
        # changed are not the signed ones whatever their signatures say: not verified again.
        status, problem = checks.assess(record, stored.data, stored.sha256)
    if status != record.status:
        checks.record_check(record, status=status, problem=problem, letter=letter)
    return "" if status == Status.INTACT else problem or str(record.get_status_display())


def _record_for_unsigned(letter: Reply | CoOpinion, kind: str) -> LetterSignature:
    """The record of a letter stored without a signature, made when its file first fails:
    what it holds is the hash stored with the file; the check itself is recorded after."""
    record, _created = LetterSignature.objects.get_or_create(
        kind=kind,
        letter_id=letter.pk,
        defaults={
            "sha256": letter.pdf_sha256,
            "signers": "",
            "seals": 0,
            "signed_at": letter.signed_at or timezone.now(),
            "status": Status.INTACT,
            "checked_at": None,
        },
    )
    return record
