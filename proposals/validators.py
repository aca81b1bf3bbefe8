"""What an uploaded attachment (a scanned original of a proposal) must be: PDF, JPEG or PNG.

A file is accepted only when four independent checks agree, because each alone is easy to fool:

1. the extension of its name is one of ``.pdf .jpg .jpeg .png``;
2. its first bytes are that format's signature (a PE file named ``.pdf`` starts with ``MZ``);
3. its head carries no HTML (a browser that sniffs would render an HTML/GIF polyglot as a page);
4. it parses as what it claims: pypdf parses a PDF — every object of every revision, in object
   streams too, with ``#xx`` escapes in names decoded — and finds no JavaScript, event action,
   launch, form submission or import, link to another file, rich media, XFA form or embedded
   file, and no link other than http(s)/mailto (``proposals.validators_pdf``, "PDF: parsed, not
   scanned"); Pillow decodes an image fully (and a PNG ends at IEND).

and its size is at most ``ATTACHMENT_MAX_BYTES``. The stored name is generated
(``proposals.models.attachment_path``); the file is served only by ``tracker.files``, which
sniffs the stored bytes again and sends the content type of the kind found here.

The modules, by subject (their names are importable from here, as before issue 18's split):

    validators            the checks in order: ``inspect_attachment``, ``validate_attachment``
    validators_kinds      the formats: ``FileKind``, ``PDF``, ``JPEG``, ``PNG``, ``sniff_kind``
    validators_pdf        a PDF parsed with pypdf: ``_check_pdf`` ("PDF: parsed, not scanned")
    validators_pdf_rules  its limits, what counts as active content, its byte-level helpers
    validators_images     an image decoded with Pillow: ``_check_image``
"""

from __future__ import annotations

from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext as _

from proposals.validators_images import MAX_IMAGE_PIXELS as MAX_IMAGE_PIXELS
from proposals.validators_images import _check_image as _check_image
from proposals.validators_images import _png_end as _png_end
from proposals.validators_kinds import _PNG_SIGNATURE as _PNG_SIGNATURE
from proposals.validators_kinds import ALLOWED_EXTENSIONS as ALLOWED_EXTENSIONS
from proposals.validators_kinds import JPEG as JPEG
from proposals.validators_kinds import KINDS as KINDS
from proposals.validators_kinds import PDF as PDF
from proposals.validators_kinds import PNG as PNG
from proposals.validators_kinds import FileKind as FileKind
from proposals.validators_kinds import _refuse_unreadable as _refuse_unreadable
from proposals.validators_kinds import kind_for_name as kind_for_name
from proposals.validators_kinds import sniff_kind as sniff_kind
from proposals.validators_pdf import _caused_by as _caused_by
from proposals.validators_pdf import _check_pdf as _check_pdf
from proposals.validators_pdf import _PdfInspection as _PdfInspection
from proposals.validators_pdf import _refuse_active_pdf as _refuse_active_pdf
from proposals.validators_pdf_rules import _PDF_ACTION_KEYS as _PDF_ACTION_KEYS
from proposals.validators_pdf_rules import _PDF_ACTION_TYPES as _PDF_ACTION_TYPES
from proposals.validators_pdf_rules import _PDF_BLANKS as _PDF_BLANKS
from proposals.validators_pdf_rules import _PDF_DECODING_LIMITS as _PDF_DECODING_LIMITS
from proposals.validators_pdf_rules import _PDF_DIGITS as _PDF_DIGITS
from proposals.validators_pdf_rules import _PDF_FORBIDDEN_KEYS as _PDF_FORBIDDEN_KEYS
from proposals.validators_pdf_rules import _PDF_FORBIDDEN_TYPES as _PDF_FORBIDDEN_TYPES
from proposals.validators_pdf_rules import _PDF_HEADER_REACH as _PDF_HEADER_REACH
from proposals.validators_pdf_rules import _PDF_NAMED_ACTIONS as _PDF_NAMED_ACTIONS
from proposals.validators_pdf_rules import _PDF_OBJ as _PDF_OBJ
from proposals.validators_pdf_rules import _PDF_TRAILER as _PDF_TRAILER
from proposals.validators_pdf_rules import _PDF_URI_SCHEMES as _PDF_URI_SCHEMES
from proposals.validators_pdf_rules import _PDF_XREF_ENTRY as _PDF_XREF_ENTRY
from proposals.validators_pdf_rules import PDF_MAX_DECODED_BYTES as PDF_MAX_DECODED_BYTES
from proposals.validators_pdf_rules import PDF_MAX_DEPTH as PDF_MAX_DEPTH
from proposals.validators_pdf_rules import PDF_MAX_ELEMENTS as PDF_MAX_ELEMENTS
from proposals.validators_pdf_rules import (
    PDF_MAX_OBJECT_STREAM_BYTES as PDF_MAX_OBJECT_STREAM_BYTES,
)
from proposals.validators_pdf_rules import PDF_MAX_OBJECTS as PDF_MAX_OBJECTS
from proposals.validators_pdf_rules import PDF_TIME_BUDGET as PDF_TIME_BUDGET
from proposals.validators_pdf_rules import _at_line_start as _at_line_start
from proposals.validators_pdf_rules import _first as _first
from proposals.validators_pdf_rules import _object_headers as _object_headers
from proposals.validators_pdf_rules import _pdf_text as _pdf_text
from proposals.validators_pdf_rules import _PdfActive as _PdfActive
from proposals.validators_pdf_rules import _PdfTooComplex as _PdfTooComplex
from proposals.validators_pdf_rules import _safe_uri as _safe_uri
from proposals.validators_pdf_rules import _skip_blanks as _skip_blanks

#: The default size cap; a deployment sets ``ATTACHMENT_MAX_BYTES``.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: How many leading bytes a browser looks at when it sniffs; we look at as many for HTML.
SNIFF_BYTES = 1024

_HTML_MARKERS = (
    b"<!doctype",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<iframe",
    b"<svg",
    b"<object",
    b"<embed",
    b"<a href",
    b"<img",
)


def max_bytes() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def _read_all(file: Any, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``file`` from its start, leaving it rewound."""
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(limit + 1)
    if hasattr(file, "seek"):
        file.seek(0)
    return data if isinstance(data, bytes) else bytes(data)


def inspect_attachment(file: IO[bytes] | Any, *, name: str | None = None) -> FileKind:
    """Every check of the module docstring; the kind of the file, or ``ValidationError``."""
    name = name if name is not None else (getattr(file, "name", "") or "")
    limit = max_bytes()
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise ValidationError(
            _("文件大小 %(size)s 超过上限 %(limit)s。")
            % {"size": _megabytes(size), "limit": _megabytes(limit)},
            code="too_large",
        )
    kind = kind_for_name(name)
    if kind is None:
        raise ValidationError(
            _("只接受 PDF、JPEG、PNG 格式的文件（扩展名 %(ext)s）。")
            % {"ext": "、".join(ALLOWED_EXTENSIONS)},
            code="extension",
        )
    data = _read_all(file, limit)
    if not data:
        raise ValidationError(_("文件是空的。"), code="empty")
    if len(data) > limit:
        raise ValidationError(
            _("文件大小超过上限 %(limit)s。") % {"limit": _megabytes(limit)}, code="too_large"
        )
    if sniff_kind(data) is not kind:
        raise ValidationError(
            _("文件内容不是 %(kind)s 格式，与扩展名不符。") % {"kind": kind.label},
            code="signature",
        )
    head = data[:SNIFF_BYTES].lower()
    if any(marker in head for marker in _HTML_MARKERS):
        raise ValidationError(_("文件中含有网页代码，不予接收。"), code="html")
    if kind is PDF:
        _check_pdf(data)
    else:
        _check_image(data, kind)
    return kind


def validate_attachment(file: Any) -> None:
    """The validator of ``ProposalAttachment.file``: a new upload must pass every check.

    A file already stored passed them when it was uploaded; it is not read again each time
    the form holding it is saved (the download view still sniffs it before serving).
    """
    if isinstance(file, FieldFile) and getattr(file, "_committed", True):
        return
    inspect_attachment(file)
