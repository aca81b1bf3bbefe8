"""Two pieces of work WeasyPrint 70 / pydyf repeat in every letter, done once (issue 24).

Imported by ``replies.pdf`` for its side effects; pinned to weasyprint 70 and its pydyf, like
the zlib level there. Both keep the PDF byte for byte what it was (``bench/letter.py`` and
``replies/tests/test_pdf_speed.py`` compare).

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
"""

from __future__ import annotations

import threading

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
        return _stream_data(self)
    entry = kept.get(id(self))
    if entry is None or entry[0] is not self:
        entry = kept[id(self)] = (self, _stream_data(self))
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
