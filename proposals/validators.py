"""What an uploaded attachment (a scanned original of a proposal) must be: PDF, JPEG or PNG.

A file is accepted only when four independent checks agree, because each alone is easy to fool:

1. the extension of its name is one of ``.pdf .jpg .jpeg .png``;
2. its first bytes are that format's signature (a PE file named ``.pdf`` starts with ``MZ``);
3. its head carries no HTML (a browser that sniffs would render an HTML/GIF polyglot as a page);
4. it parses as what it claims: pypdf parses a PDF — every object of every revision, in object
   streams too, with ``#xx`` escapes in names decoded — and finds no JavaScript, event action,
   launch, form submission or import, link to another file, rich media, XFA form or embedded
   file, and no link other than http(s)/mailto (below, "PDF: parsed, not scanned"); Pillow
   decodes an image fully (and a PNG ends at IEND).

and its size is at most ``ATTACHMENT_MAX_BYTES``. The stored name is generated
(``proposals.models.attachment_path``); the file is served only by ``tracker.files``, which
sniffs the stored bytes again and sends the content type of the kind found here.
"""

from __future__ import annotations

import io
import itertools
import re
import struct
import time
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
    """Refuse a PDF that is encrypted, does not parse, is too complex, or holds active content.

    The file is parsed, never searched as bytes (see "PDF: parsed, not scanned" below).
    """
    from pypdf import apply_configuration
    from pypdf.errors import LimitReachedError

    try:
        with apply_configuration(None, **_PDF_DECODING_LIMITS):
            _PdfInspection(data).run()
    except ValidationError:
        raise
    except _PdfActive as exc:
        raise _refuse_active_pdf(exc.what) from None
    except Exception as exc:  # pypdf raises many kinds on malformed input: all mean "no"
        if _caused_by(exc, (_PdfTooComplex, LimitReachedError, RecursionError, MemoryError)):
            raise ValidationError(
                _(
                    "PDF 结构过于复杂（对象过多、嵌套过深或解析超时），不予接收。"
                    "请上传扫描件，或拆分后分别上传。"
                ),
                code="too_complex",
            ) from exc
        raise _refuse_unreadable(PDF) from exc


def _refuse_active_pdf(what: str = "") -> ValidationError:
    return ValidationError(
        _(
            "PDF 中含有脚本、启动操作、表单提交、外部文件链接、多媒体或嵌入文件等活动内容"
            "（%(what)s），不予接收。请上传扫描件或另存为不含这些内容的 PDF。"
        )
        % {"what": what},
        code="active_content",
    )


def _caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


# --- PDF: parsed, not scanned -----------------------------------------------------------------
#
# A name may be written with ``#xx`` escapes (``/J#61vaScript`` is ``/JavaScript``), an object
# may sit compressed in an object stream, and an incremental update may leave earlier revisions
# in the file: so a PDF is read with pypdf, which decodes all of that, and every object in it is
# inspected. The objects are found three ways:
#
# 1. every ``N G obj`` anywhere in the file, every member of every object stream among them and
#    every ``trailer`` dictionary: this finds what earlier revisions left behind that nothing
#    references any more. These are parsed strictly, so that a dictionary defining a key twice
#    (pypdf keeps the first, viewers the last) or one that does not parse to its end (pypdf
#    keeps the part before the error, a viewer may read on) is refused as unreadable instead of
#    being read differently from a viewer. The versions the cross-reference tables point to go
#    into pypdf's cache, so that the walks below inspect these very objects, parsed once;
# 2. everything reachable from the trailer — catalog (/OpenAction, /AA, /Names with its
#    /JavaScript and /EmbeddedFiles trees, /AcroForm with /XFA and its fields), pages,
#    annotations, actions and their /Next chains, outlines, /Info — following every reference
#    (this is where an action is known to be one: the value of /A, /OpenAction, /Next, /PA);
# 3. every entry of the cross-reference table(s), objects in object streams included.
#
# Each dictionary is refused if it has a key of active content (``_PDF_FORBIDDEN_KEYS``), a
# /Type or /Subtype of an embedded file, a file attachment or multimedia, or if it is an action
# other than going to a page of this file, a standard page-turning named action, a thread of
# this file, or an http(s)/mailto link. Links stay allowed because proposals written on a
# computer and exported to PDF cite web pages; a link does nothing until clicked, and viewers
# ask first. Every other URI scheme (``javascript:``, ``file:``, a UNC path, …) is refused.
# The work is bounded: objects, nesting depth, elements, decoded object-stream bytes and time.

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


class _PdfInspection:
    """One walk over every object of one PDF (see "PDF: parsed, not scanned")."""

    def __init__(self, data: bytes) -> None:
        from pypdf import PdfReader, generic

        self.generic = generic  # imported once: the walk below runs per element
        self.data = data
        self.deadline = time.monotonic() + PDF_TIME_BUDGET
        self.elements = 0
        self.members = 0
        self.object_stream_bytes = 0
        self.seen: set[tuple[int, int, bool]] = set()
        # Counted before pypdf reads the file: it reads every entry and (repairing) every header.
        self.headers = _object_headers(data)
        _first(_PDF_XREF_ENTRY.finditer(data), PDF_MAX_OBJECTS)
        self.reader = PdfReader(
            io.BytesIO(data), strict=False, xref_stream_maximum_entries=PDF_MAX_OBJECTS
        )
        self._tick()

    def run(self) -> None:
        from pypdf.generic import IndirectObject

        reader = self.reader
        if reader.is_encrypted:
            raise ValidationError(_("PDF 已加密，请上传未加密的文件。"), code="encrypted")
        entries = sum(len(e) for e in reader.xref.values()) + len(reader.xref_objStm)
        if entries > PDF_MAX_OBJECTS:
            raise _PdfTooComplex(f"{entries} cross-reference entries")
        # 1. Every object written anywhere in the file, in any revision, parsed strictly. The
        # versions the cross-reference tables point to go into pypdf's cache, so the walks
        # below inspect exactly these and nothing is parsed twice; the others are walked now.
        source = io.BytesIO(self.data)
        for start, end, number, generation in self.headers:
            self._sweep_object(source, start, end, number, generation)
        for match in _first(_PDF_TRAILER.finditer(self.data), PDF_MAX_OBJECTS):
            self._sweep_trailer(source, match.start(), match.end())
        pages = reader.pages
        if len(pages) < 1:
            raise _refuse_unreadable(PDF)
        for page in pages:
            page.mediabox  # noqa: B018 — resolving each page object is part of the parse
        # 2. Everything reachable from the trailer; 3. every cross-reference entry (of all
        # revisions, as pypdf merged them, newest first).
        self.walk(reader.trailer)
        for generation, numbers in list(reader.xref.items()):
            for number in list(numbers):
                self.walk(IndirectObject(number, generation, reader))
        for number in list(reader.xref_objStm):
            self.walk(IndirectObject(number, 0, reader))

    # --- Finding objects ----------------------------------------------------------------------

    def _parse_strictly(self, source: io.BytesIO) -> Any:
        """The object at ``source``: a key defined twice, a dictionary that does not parse to
        its end, a stream without /Length… raise instead of being repaired."""
        from pypdf.generic import read_object

        _skip_blanks(source)
        self.reader.strict = True
        try:
            return read_object(source, self.reader)
        finally:
            self.reader.strict = False

    def _parse_or_skip(self, source: io.BytesIO, start: int, end: int) -> Any:
        from pypdf.errors import LimitReachedError

        self._tick()
        source.seek(end)
        try:
            return self._parse_strictly(source)
        except (LimitReachedError, RecursionError, MemoryError):
            raise
        except Exception:
            # "12 0 obj" at the start of a line is an object a viewer would read: it must
            # parse. The same bytes inside binary stream data are a coincidence.
            if _at_line_start(self.data, start):
                raise
            return None

    def _sweep_trailer(self, source: io.BytesIO, start: int, end: int) -> None:
        trailer = self._parse_or_skip(source, start, end)
        if trailer is not None:
            self.walk(trailer)

    def _sweep_object(
        self, source: io.BytesIO, start: int, end: int, number: int, generation: int
    ) -> None:
        from pypdf.generic import StreamObject

        obj = self._parse_or_skip(source, start, end)
        if obj is None:
            return
        current = self._is_current(number, generation, start)
        self._keep(obj, number, generation, current)
        if isinstance(obj, StreamObject) and self._resolve(obj.get("/Type")) == "/ObjStm":
            self._object_stream(obj, number if current and generation == 0 else None)

    def _is_current(self, number: int, generation: int, start: int) -> bool:
        """Whether the cross-reference tables point at this object (the one pypdf resolves)."""
        reader = self.reader
        if generation == 0 and number in reader.xref_objStm:
            return False
        if reader.xref_free_entry.get(generation, {}).get(number):
            return False
        offset = reader.xref.get(generation, {}).get(number)
        return (
            offset is not None and 0 <= start - offset <= 64 and not self.data[offset:start].strip()
        )

    def _keep(self, obj: Any, number: int, generation: int, current: bool) -> None:
        """Cache the current version of an object for the walks; walk any other now."""
        if current and (generation, number) not in self.reader.resolved_objects:
            self.reader.cache_indirect_object(generation, number, obj)
        else:
            self.walk(obj)

    def _object_stream(self, stream: Any, current_number: int | None) -> None:
        data = stream.get_data()
        self.object_stream_bytes += len(data)
        if self.object_stream_bytes > PDF_MAX_OBJECT_STREAM_BYTES:
            raise _PdfTooComplex("object streams too large")
        count, first = self._resolve(stream.get("/N")), self._resolve(stream.get("/First"))
        if not isinstance(count, int) or not isinstance(first, int):
            raise ValueError("object stream without /N or /First")
        if not 0 <= first <= len(data) or count < 0:
            raise ValueError("object stream with a bad /N or /First")
        self.members += count
        if self.members > PDF_MAX_OBJECTS:
            raise _PdfTooComplex("too many objects in object streams")
        index = data[:first].split()
        if len(index) < 2 * count:
            raise ValueError("object stream index shorter than /N")
        buffer = io.BytesIO(data)
        for i in range(count):
            number = int(index[2 * i])
            buffer.seek(first + int(index[2 * i + 1]))
            member = self._parse_strictly(buffer)
            entry = self.reader.xref_objStm.get(number)
            current = (
                current_number is not None and entry is not None and entry[0] == current_number
            )
            self._keep(member, number, 0, current)
            self._tick()

    # --- Inspecting them ----------------------------------------------------------------------

    def walk(self, root: Any, *, action: bool = False) -> None:
        """Inspect ``root`` and everything it contains or references (each object once)."""
        generic = self.generic
        ArrayObject, DictionaryObject = generic.ArrayObject, generic.DictionaryObject
        IndirectObject = generic.IndirectObject

        stack = [(root, 0, action)]
        while stack:
            obj, depth, action = stack.pop()
            if isinstance(obj, IndirectObject):
                key = (obj.idnum, obj.generation, action)
                if key not in self.seen:
                    self.seen.add(key)
                    stack.append((obj.get_object(), 0, action))
                continue
            self.elements += 1
            if self.elements > PDF_MAX_ELEMENTS or depth > PDF_MAX_DEPTH:
                raise _PdfTooComplex("too many elements or nested too deep")
            if not self.elements % 1024:
                self._tick()
            if isinstance(obj, DictionaryObject):
                self._inspect(obj, action)
                stack.extend(
                    (value, depth + 1, key in _PDF_ACTION_KEYS) for key, value in obj.items()
                )
            elif isinstance(obj, ArrayObject):
                stack.extend((item, depth + 1, action) for item in obj)

    def _inspect(self, dictionary: Any, action: bool) -> None:
        NameObject = self.generic.NameObject

        for key in dictionary:
            if key in _PDF_FORBIDDEN_KEYS:
                raise _PdfActive(str(key))
        for key in ("/Type", "/Subtype"):
            value = self._resolve(dictionary.get(key))
            if isinstance(value, NameObject) and value in _PDF_FORBIDDEN_TYPES:
                raise _PdfActive(f"{key} {value}")
        kind = self._resolve(dictionary.get("/S"))
        kind = kind if isinstance(kind, NameObject) else None
        declared = self._resolve(dictionary.get("/Type"))
        if (
            (isinstance(declared, NameObject) and declared == "/Action")
            or (action and "/S" in dictionary)
            or kind in _PDF_ACTION_TYPES
        ):
            self._inspect_action(dictionary, kind)

    def _inspect_action(self, action: Any, kind: str | None) -> None:
        if kind == "/GoTo":
            return
        named = self._resolve(action.get("/N"))
        if kind == "/Named" and isinstance(named, str) and named in _PDF_NAMED_ACTIONS:
            return
        if kind == "/Thread" and "/F" not in action:
            return
        if kind == "/URI":
            target = self._resolve(action.get("/URI"))
            if _safe_uri(target):
                return
            raise _PdfActive(f"/URI {(_pdf_text(target) or '')[:60]}")
        raise _PdfActive(f"/S {kind or '?'}")

    def _resolve(self, value: Any) -> Any:
        for _hop in range(16):
            if not isinstance(value, self.generic.IndirectObject):
                return value
            value = value.get_object()
        raise _PdfTooComplex("reference chain too long")

    def _tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise _PdfTooComplex("time budget exhausted")


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
