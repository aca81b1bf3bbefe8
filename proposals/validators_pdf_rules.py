"""The limits and rules of the PDF inspection (``proposals.validators_pdf``), and its byte-level
helpers: how many objects, how deep, how much decoded data and time; which keys, types, actions
and link schemes are active content; where the ``N G obj`` headers of a file are.

Why a PDF is parsed and not scanned is told in ``proposals.validators_pdf``.
"""

from __future__ import annotations

import io
import itertools
import re
from typing import Any

#: More objects (cross-reference entries, ``obj`` headers, object-stream members) than this is
#: refused: a scan has a few per page, a 200-page office export a few thousand. pypdf parses
#: some 5,000 objects a second, so the cap keeps the worst case within the time budget.
PDF_MAX_OBJECTS = 10_000
#: Nesting of arrays and dictionaries inside one object; real files stay below 10.
PDF_MAX_DEPTH = 64
#: Array items and dictionary entries visited, all objects together.
PDF_MAX_ELEMENTS = 2_000_000
#: Decoded bytes of one stream that must be decoded (object and cross-reference streams).
PDF_MAX_DECODED_BYTES = 16 * 1024 * 1024
#: Decoded bytes of all object streams together.
PDF_MAX_OBJECT_STREAM_BYTES = 32 * 1024 * 1024
#: Seconds the inspection may take; a 20 MB scan takes a fifth of one.
PDF_TIME_BUDGET = 5.0

_PDF_DECODING_LIMITS = {
    "zlib_maximum_output_length": PDF_MAX_DECODED_BYTES,
    "lzw_maximum_output_length": PDF_MAX_DECODED_BYTES,
    "run_length_maximum_output_length": PDF_MAX_DECODED_BYTES,
    "brotli_maximum_output_length": PDF_MAX_DECODED_BYTES,
    "array_based_stream_maximum_output_length": PDF_MAX_DECODED_BYTES,
    "stream_decoding_work_maximum_length": 4 * PDF_MAX_DECODED_BYTES,
}

#: Keys that hold scripts, event actions, embedded files, XFA forms or rich media wherever
#: they appear.
_PDF_FORBIDDEN_KEYS = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/AA",
        "/EmbeddedFiles",
        "/EF",
        "/XFA",
        "/RichMediaContent",
        "/RichMediaSettings",
    }
)
#: /Type or /Subtype values of embedded files, file-attachment and multimedia annotations.
_PDF_FORBIDDEN_TYPES = frozenset(
    {"/EmbeddedFile", "/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"}
)
#: Every action type of ISO 32000-2 (table 201): a dictionary whose /S is one of them is an
#: action wherever it is.
_PDF_ACTION_TYPES = frozenset(
    {
        "/GoTo",
        "/GoToR",
        "/GoToE",
        "/GoToDp",
        "/Launch",
        "/Thread",
        "/URI",
        "/Sound",
        "/Movie",
        "/Hide",
        "/Named",
        "/SubmitForm",
        "/ResetForm",
        "/ImportData",
        "/SetOCGState",
        "/Rendition",
        "/Trans",
        "/GoTo3DView",
        "/JavaScript",
        "/RichMediaExecute",
    }
)
#: Keys whose value is an action (or, for /Next, an array of them).
_PDF_ACTION_KEYS = frozenset({"/A", "/OpenAction", "/Next", "/PA"})
#: The named actions every viewer defines: turning pages.
_PDF_NAMED_ACTIONS = frozenset({"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"})
_PDF_URI_SCHEMES = ("http://", "https://", "mailto:")

_PDF_BLANKS = b"\x00\t\n\x0c\r "
_PDF_DIGITS = b"0123456789"
#: How far before ``obj`` its object and generation numbers may start.
_PDF_HEADER_REACH = 512
# Patterns that start with a literal: the regex engine then skips ahead at memchr speed, which
# keeps the search of a 20 MB scan near 0.05 s (a pattern starting with [0-9] takes seconds).
_PDF_OBJ = re.compile(rb"obj")
_PDF_TRAILER = re.compile(rb"trailer[\x00\t\n\x0c\r ]*(?=<<)")
_PDF_XREF_ENTRY = re.compile(rb" [0-9]{5} [nf]")


class _PdfTooComplex(Exception):
    """The PDF exceeds a limit of the inspection."""


class _PdfActive(Exception):
    """The PDF holds active content; ``what`` names it (a PDF name, shown to the uploader)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _first(matches: Any, limit: int) -> list[Any]:
    """At most ``limit`` items of ``matches``; more is too complex."""
    found: list[Any] = []
    for match in matches:
        if len(found) == limit:
            raise _PdfTooComplex(f"more than {limit} objects")
        found.append(match)
    return found


def _object_headers(data: bytes) -> list[tuple[int, int, int, int]]:
    """Each ``N G obj`` of the file: where it starts, where its ``obj`` ends, N and G."""
    headers = []
    for seen, match in enumerate(_PDF_OBJ.finditer(data)):
        if seen > 3 * PDF_MAX_OBJECTS:  # every object has an "obj" and an "endobj"
            raise _PdfTooComplex("too many objects")
        start = max(0, match.start() - _PDF_HEADER_REACH)
        window = data[start : match.start()]
        # Backwards from "obj": blanks, digits (the generation), blanks, digits (the number).
        before_blanks = window.rstrip(_PDF_BLANKS)
        before_generation = before_blanks.rstrip(_PDF_DIGITS)
        before_more_blanks = before_generation.rstrip(_PDF_BLANKS)
        before_number = before_more_blanks.rstrip(_PDF_DIGITS)
        lengths = [len(window), len(before_blanks), len(before_generation)]
        lengths += [len(before_more_blanks), len(before_number)]
        if all(a > b for a, b in itertools.pairwise(lengths)):
            number = int(before_more_blanks[len(before_number) :])
            generation = int(before_blanks[len(before_generation) :])
            headers.append((start + len(before_number), match.end(), number, generation))
    return _first(headers, PDF_MAX_OBJECTS)


def _at_line_start(data: bytes, position: int) -> bool:
    """Whether only blanks stand between ``position`` and the start of its line."""
    reach = max(0, position - _PDF_HEADER_REACH)
    line = max(data.rfind(b"\n", reach, position), data.rfind(b"\r", reach, position))
    if line < 0 and reach > 0:
        return False
    return not data[line + 1 : position].strip(_PDF_BLANKS)


def _skip_blanks(stream: io.BytesIO) -> None:
    while (byte := stream.read(1)) and byte in _PDF_BLANKS:
        pass
    if byte:
        stream.seek(-1, io.SEEK_CUR)


def _pdf_text(value: Any) -> str | None:
    from pypdf.generic import ByteStringObject, TextStringObject

    if isinstance(value, ByteStringObject):
        return bytes(value).decode("latin-1")
    if isinstance(value, TextStringObject):
        return str(value)
    return None


def _safe_uri(value: Any) -> bool:
    text = _pdf_text(value)
    if text is None:
        return False
    # Browsers drop blanks and control characters inside a scheme ("java\tscript:").
    cleaned = "".join(ch for ch in text if ch > " " and ch != "\x7f").lower()
    return cleaned.startswith(_PDF_URI_SCHEMES)
