"""Serving a stored signed letter: the one place its file is opened to be sent.

The file is read once; the registered checks look at those bytes and the same bytes are sent,
so what is checked is what is served (no second read between the check and the response).
The checks belong to the apps above replies, which install them in their ``ready()``:
``signing`` compares the bytes with what it signed, verifies the signature when they are not
the bytes it last verified, and records a failure for the committee's dashboard.

A file that fails a check, or is missing, is not served as the original: ``read_signed_pdf``
raises ``LetterIntegrityError`` and each caller answers in its own way (the API with a
``letter_integrity`` error, /my/ and the public page with a message that the office is
checking the original, the letter admin with a refusal the committee can look behind).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from replies.kinds import kind_of
from replies.models import CoOpinion, Reply


@dataclass(frozen=True)
class StoredPdf:
    """A stored letter's file as read for one response: its bytes (None when the file is
    gone) and their SHA-256 ("" when gone)."""

    data: bytes | None
    sha256: str

    @property
    def missing(self) -> bool:
        return self.data is None


#: ``check(letter, kind, stored) -> problem``: what the apps above replies ask of a stored
#: signed letter's file before it is served; "" when it may be served as the original, else
#: the reason (Chinese) it may not. ``signing`` installs its check here.
STORED_PDF_CHECKS: list[Callable[[Reply | CoOpinion, str, StoredPdf], str]] = []


class LetterIntegrityError(Exception):
    """The stored file is not served as the original: it is missing or no longer verifies.

    ``stored`` holds what was read (its bytes, unless the file is gone), for a caller that
    lets the committee look at a changed file."""

    code = "letter_integrity"

    def __init__(self, *, letter: Reply | CoOpinion, stored: StoredPdf, problem: str) -> None:
        super().__init__(problem)
        self.letter = letter
        self.stored = stored
        self.problem = problem


def read_stored_pdf(obj: Reply | CoOpinion) -> StoredPdf:
    """The letter's stored file, read once (``data`` None when it is gone)."""
    try:
        with obj.pdf.open("rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return StoredPdf(None, "")
    return StoredPdf(data, hashlib.sha256(data).hexdigest())


def read_signed_pdf(obj: Reply | CoOpinion) -> bytes:
    """The bytes of the letter's stored signed PDF, checked, to be sent as they are.

    Raises ``LetterIntegrityError`` when the file is missing or a check refuses it. The caller
    has made sure a file is recorded (``obj.pdf``); "not generated yet" is its own answer."""
    kind = kind_of(obj).code
    stored = read_stored_pdf(obj)
    problems = [problem for check in STORED_PDF_CHECKS if (problem := check(obj, kind, stored))]
    if stored.data is None:
        raise LetterIntegrityError(
            letter=obj, stored=stored, problem=problems[0] if problems else _("签发件文件缺失。")
        )
    if problems:
        raise LetterIntegrityError(letter=obj, stored=stored, problem=problems[0])
    return stored.data
