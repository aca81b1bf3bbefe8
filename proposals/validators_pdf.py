"""A PDF attachment is parsed with pypdf, every object of every revision, and refused when it
holds active content, is encrypted, does not parse or is too complex ("PDF: parsed, not
scanned", below). The limits and the lists of what is active are in
``proposals.validators_pdf_rules``.
"""

from __future__ import annotations

import io
import time
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from proposals.validators_kinds import PDF, _refuse_unreadable
from proposals.validators_pdf_rules import (
    _PDF_ACTION_KEYS,
    _PDF_ACTION_TYPES,
    _PDF_DECODING_LIMITS,
    _PDF_FORBIDDEN_KEYS,
    _PDF_FORBIDDEN_TYPES,
    _PDF_NAMED_ACTIONS,
    _PDF_TRAILER,
    _PDF_XREF_ENTRY,
    PDF_MAX_DEPTH,
    PDF_MAX_ELEMENTS,
    PDF_MAX_OBJECT_STREAM_BYTES,
    PDF_MAX_OBJECTS,
    PDF_TIME_BUDGET,
    _at_line_start,
    _first,
    _object_headers,
    _pdf_text,
    _PdfActive,
    _PdfTooComplex,
    _safe_uri,
    _skip_blanks,
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
