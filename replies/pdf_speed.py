"""Work WeasyPrint 70 / pydyf repeat in every letter, done once or more cheaply (issue 24).

Imported by ``replies.pdf`` for its side effects; pinned to weasyprint 70 and its pydyf, like
the zlib level there. Every patch keeps the PDF byte for byte what it was
(``replies/tests/test_pdf_speed.py`` renders the seed letters with and without them).

1. **Every stream compressed twice.** For a PDF/A file (which needs a file identifier) pydyf's
   ``PDF.write`` serialises every object once to write it and a second time, after the
   cross-reference stream, to hash them all for the identifier's second half, whatever
   identifier it is given; each ``Stream.data`` call joins and deflates the stream anew (seed
   001: 1.4 MB through zlib instead of 0.7). While ``PDF.write`` runs, a stream's data is now
   kept and given again (nothing changes an object during ``write``).
2. **Every font file copied into Python for every letter.** ``weasyprint.pdf.fonts.Font``
   copies the whole face blob (``get_hb_object_data``) before subsetting replaces it: 43 MB a
   letter (Noto Serif CJK, for the page numbers, is 26 MB), 7–20 ms. The face blobs of the
   system fonts never change, so the copy of each is made once per process: keyed by the face's
   address, the face referenced (``hb_face_reference``) so that it is never freed and the
   address never reused. Only the copies ``Font.__init__`` asks for are kept (the subsetter's
   faces are new every time).
3. **The same subset made and deflated again.** A subset (HarfBuzz, ~20 ms for seed 001's four
   faces) and its deflated stream are kept per face and glyph set, a few MB at most.
4. **The collector walking a render's objects** ~15 times a letter: less often while it runs
   (``fewer_collections``, used by ``replies.pdf.render_letter_pdf``).
"""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

import pydyf
from weasyprint.pdf import fonts as pdf_fonts
from weasyprint.text.ffi import ffi, harfbuzz

_local = threading.local()

# --- 1. One serialisation per stream while a PDF is written ------------------------------------

_stream_data = pydyf.Stream.data.fget
_pdf_write = pydyf.PDF.write


def _kept_stream_data(self: pydyf.Stream) -> bytes:
    kept = getattr(_local, "streams", None)
    if kept is None:
        return _deflated_font(self) or _stream_data(self)
    entry = kept.get(id(self))
    if entry is None or entry[0] is not self:
        entry = kept[id(self)] = (self, _deflated_font(self) or _stream_data(self))
    return entry[1]


def _write_once(self: pydyf.PDF, *args, **kwargs):
    outer = getattr(_local, "streams", None)
    _local.streams = {}
    try:
        return _pdf_write(self, *args, **kwargs)
    finally:
        _local.streams = outer


pydyf.Stream.data = property(_kept_stream_data)
pydyf.PDF.write = _write_once

# --- 2. The font files copied once per process ---------------------------------------------------

_get_hb_object_data = pdf_fonts.get_hb_object_data
_font_init = pdf_fonts.Font.__init__
_face_data: dict[int, bytes] = {}
_face_lock = threading.Lock()


def _face_blob(hb_object, ot_color=None, glyph=None):
    if ot_color is not None or not getattr(_local, "in_font_init", False):
        return _get_hb_object_data(hb_object, ot_color, glyph)
    key = int(ffi.cast("uintptr_t", hb_object))
    data = _face_data.get(key)
    if data is None:
        data = _get_hb_object_data(hb_object)
        with _face_lock:
            if key not in _face_data:
                harfbuzz.hb_face_reference(hb_object)  # kept for good: the key stays this face
                _face_data[key] = data
    return data


def _font_init_once(self, *args, **kwargs) -> None:
    _local.in_font_init = True
    try:
        _font_init(self, *args, **kwargs)
    finally:
        _local.in_font_init = False


pdf_fonts.get_hb_object_data = _face_blob
pdf_fonts.Font.__init__ = _font_init_once

# --- 3. The same subset made once, and deflated once -------------------------------------------
#
# ``Font._harfbuzz_subset`` depends on the face, the glyph ids kept, ``hinting`` and whether any
# glyph is missing; HarfBuzz is deterministic, so the same inputs give the same bytes. A subset
# of a face kept above (never freed, never changed) is kept here too, with its deflated stream,
# least recently used first out and at most ``SUBSET_CACHE_BYTES`` in all: the page-number face
# (the same digits in every letter of as many pages), a letter rendered again, the labels'
# faces. A body face's subset differs from one letter to the next and is only a miss.

#: Bytes of subsets (and their deflated streams) kept at most.
SUBSET_CACHE_BYTES = 8 * 1024 * 1024

_harfbuzz_subset = pdf_fonts.Font._harfbuzz_subset


class _Subset:
    __slots__ = ("content", "deflated")

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.deflated: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.content) + len(self.deflated or b"")


_subsets: OrderedDict[tuple, _Subset] = OrderedDict()
_subset_by_content: dict[int, _Subset] = {}
_subset_lock = threading.Lock()


def _subset_key(font, to_unicode, hinting) -> tuple | None:
    face = int(ffi.cast("uintptr_t", font.hb_face))
    if _face_data.get(face) is not font.file_content:  # not a kept face, or not the whole face
        return None
    return (face, tuple(sorted(to_unicode)), bool(hinting), bool(font.missing))


def _cached_subset(self, to_unicode, hinting) -> None:
    key = _subset_key(self, to_unicode, hinting)
    if key is None:
        return _harfbuzz_subset(self, to_unicode, hinting)
    with _subset_lock:
        entry = _subsets.get(key)
        if entry is not None:
            _subsets.move_to_end(key)
            self.file_content = entry.content
            return None
    whole = self.file_content
    _harfbuzz_subset(self, to_unicode, hinting)
    if self.file_content is not whole:  # HarfBuzz failed otherwise (logged): nothing to keep
        _keep_subset(key, _Subset(self.file_content))
    return None


def _keep_subset(key: tuple, entry: _Subset) -> None:
    with _subset_lock:
        if key in _subsets:
            return
        _subsets[key] = entry
        _subset_by_content[id(entry.content)] = entry
        _trim_subsets()


def _trim_subsets() -> None:
    total = sum(entry.size for entry in _subsets.values())
    while total > SUBSET_CACHE_BYTES and len(_subsets) > 1:
        _key, old = _subsets.popitem(last=False)
        del _subset_by_content[id(old.content)]
        total -= old.size


def _deflated_font(stream: pydyf.Stream) -> bytes | None:
    """The serialised font stream of a kept subset, deflated once (``pydyf.Stream.data``)."""
    if not stream.compress or len(stream.stream) != 1:
        return None
    entry = _subset_by_content.get(id(stream.stream[0]))
    if entry is None or entry.content is not stream.stream[0]:
        return None
    if entry.deflated is None:
        compressor = pydyf.zlib.compressobj(level=9)  # the level replies.pdf sets for pydyf
        entry.deflated = compressor.compress(entry.content) + compressor.flush()
        with _subset_lock:
            _trim_subsets()
    extra = pydyf.Dictionary(stream.extra.copy())
    extra["Filter"] = "/FlateDecode"
    extra["Length"] = len(entry.deflated)
    return b"\n".join((extra.data, b"stream", entry.deflated, b"endstream"))


def forget_subsets() -> None:
    """Drop every kept subset (patch 3): the next letters subset their faces anew, as letters
    never seen before do. For the benchmark's figure of such a letter, and the tests."""
    with _subset_lock:
        _subsets.clear()
        _subset_by_content.clear()


pdf_fonts.Font._harfbuzz_subset = _cached_subset

# --- 4. Fewer collections while a letter is rendered --------------------------------------------
#
# A render allocates objects by the hundred thousand, many living until the PDF is written
# (boxes, styles, PDF objects); with the default thresholds (700, 10, 10) the collector walks
# the young ones ~15 times a letter and the older ones once or twice (~2 ms of seed 001's
# CPU). While a render runs, the young generation is collected every 50,000 allocations
# instead; the thresholds are set back afterwards, and what the render left in cycles goes with
# the next collections as before.

RENDER_GC_THRESHOLD = (50_000, 50, 10)


class _Renders:
    """How many renders run now, and the thresholds from before the first of them."""

    count = 0
    before: tuple[int, ...] = gc.get_threshold()


_rendering_lock = threading.Lock()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The thresholds are the process's: the first of concurrent renders (threads) sets them,
    the last one to finish sets back what was there before the first."""
    with _rendering_lock:
        if _Renders.count == 0:
            _Renders.before = gc.get_threshold()
            gc.set_threshold(*RENDER_GC_THRESHOLD)
        _Renders.count += 1
    try:
        yield
    finally:
        with _rendering_lock:
            _Renders.count -= 1
            if _Renders.count == 0:
                gc.set_threshold(*_Renders.before)
