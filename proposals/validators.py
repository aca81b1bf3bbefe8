"""What an uploaded attachment (a scanned original of a proposal) must be: PDF, JPEG or PNG.

A file is accepted only when four independent checks agree, because each alone is easy to fool:

1. the extension of its name is one of ``.pdf .jpg .jpeg .png``;
2. its first bytes are that format's signature (a PE file named ``.pdf`` starts with ``MZ``);
3. its head carries no HTML (a browser that sniffs would render an HTML/GIF polyglot as a page);
4. it parses as what it claims: pypdf reads every page of a PDF (and finds no JavaScript,
   launch action or embedded file); Pillow decodes an image fully (and a PNG ends at IEND).

and its size is at most ``ATTACHMENT_MAX_BYTES``. The stored name is generated
(``proposals.models.attachment_path``); the file is served only by ``tracker.files``, which
sniffs the stored bytes again and sends the content type of the kind found here.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models.fields.files import FieldFile
from django.utils.translation import gettext as _

#: The default size cap; a deployment sets ``ATTACHMENT_MAX_BYTES``.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: How many leading bytes a browser looks at when it sniffs; we look at as many for HTML.
SNIFF_BYTES = 1024
#: Images larger than this (A4 at 600 dpi is 35 megapixels) are refused before decoding.
MAX_IMAGE_PIXELS = 89_478_485

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
#: Names whose presence in a PDF means active content; long enough never to occur by chance.
_PDF_ACTIVE_TOKENS = (b"/JavaScript", b"/Launch", b"/EmbeddedFile", b"/RichMedia")
_PDF_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/RichMediaExecute"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class FileKind:
    """A format we accept, with what identifies it and what we serve it as."""

    name: str
    label: str
    extensions: tuple[str, ...]
    signature: bytes
    content_type: str

    @property
    def extension(self) -> str:
        return self.extensions[0]


PDF = FileKind("pdf", "PDF", (".pdf",), b"%PDF-", "application/pdf")
JPEG = FileKind("jpeg", "JPEG", (".jpg", ".jpeg"), b"\xff\xd8\xff", "image/jpeg")
PNG = FileKind("png", "PNG", (".png",), _PNG_SIGNATURE, "image/png")
KINDS: tuple[FileKind, ...] = (PDF, JPEG, PNG)
ALLOWED_EXTENSIONS: tuple[str, ...] = tuple(e for k in KINDS for e in k.extensions)


def max_bytes() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def kind_for_name(name: str) -> FileKind | None:
    suffix = PurePath(name or "").suffix.lower()
    return next((k for k in KINDS if suffix in k.extensions), None)


def sniff_kind(head: bytes) -> FileKind | None:
    """The kind whose signature ``head`` starts with (offset 0: no leading garbage)."""
    return next((k for k in KINDS if head.startswith(k.signature)), None)


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


# --- Parsers ----------------------------------------------------------------------------------


def _refuse_unreadable(kind: FileKind) -> ValidationError:
    return ValidationError(
        _("文件无法按 %(kind)s 格式读取，可能已损坏或并非扫描原件。") % {"kind": kind.label},
        code="unreadable",
    )


def _check_pdf(data: bytes) -> None:
    from pypdf import PdfReader

    if any(token in data for token in _PDF_ACTIVE_TOKENS):
        raise _refuse_active_pdf()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ValidationError(_("PDF 已加密，请上传未加密的文件。"), code="encrypted")
        pages = reader.pages
        if len(pages) < 1:
            raise _refuse_unreadable(PDF)
        for page in pages:
            page.mediabox  # noqa: B018 — resolving each page object is the parse
        catalog = reader.trailer["/Root"].get_object()
        active = "/AA" in catalog or _pdf_action_is_active(catalog.get("/OpenAction"))
        names = catalog.get("/Names")
        names = names.get_object() if names is not None else {}
        active = active or "/JavaScript" in names or "/EmbeddedFiles" in names
    except ValidationError:
        raise
    except Exception as exc:  # pypdf raises many kinds on malformed input: all mean "no"
        raise _refuse_unreadable(PDF) from exc
    if active:
        raise _refuse_active_pdf()


def _pdf_action_is_active(action: Any) -> bool:
    if action is None:
        return False
    action = action.get_object()
    return hasattr(action, "get") and str(action.get("/S", "")) in _PDF_ACTIVE_ACTIONS


def _refuse_active_pdf() -> ValidationError:
    return ValidationError(
        _("PDF 中含有脚本、启动操作或嵌入文件，不予接收。"), code="active_content"
    )


def _check_image(data: bytes, kind: FileKind) -> None:
    from PIL import Image

    expected = {JPEG: "JPEG", PNG: "PNG"}[kind]
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != expected:
                raise _refuse_unreadable(kind)
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationError(
                    _("图像尺寸过大（%(w)s×%(h)s 像素）。") % {"w": width, "h": height},
                    code="too_many_pixels",
                )
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except ValidationError:
        raise
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError … on bad input
        raise _refuse_unreadable(kind) from exc
    if kind is PNG and _png_end(data) != len(data):
        raise ValidationError(_("PNG 文件结束后还有多余数据，不予接收。"), code="trailing_data")


def _png_end(data: bytes) -> int:
    """Where the IEND chunk of a PNG ends (-1 if the chunks do not lead to it)."""
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunk_type = data[pos + 4 : pos + 8]
        pos += 12 + length
        if chunk_type == b"IEND":
            return pos
    return -1
