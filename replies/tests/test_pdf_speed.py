"""``replies.pdf_speed``: the work WeasyPrint and pydyf repeat for every letter, done once —
and the PDF byte for byte what it was without it (issue 24)."""

from __future__ import annotations

import pydyf
from weasyprint.pdf import fonts as pdf_fonts

from replies import pdf_speed
from replies.pdf import render_letter_pdf


def _compressions(monkeypatch) -> list[int]:
    sizes: list[int] = []
    real = pydyf.zlib.compressobj

    class Counting:
        def __init__(self, obj) -> None:
            self.obj = obj

        def compress(self, data):
            sizes.append(len(data))
            return self.obj.compress(data)

        def flush(self, *args):
            return self.obj.flush(*args)

    monkeypatch.setattr(
        pydyf,
        "zlib",
        type("Z", (), {"compressobj": staticmethod(lambda *a, **k: Counting(real(*a, **k)))})(),
    )
    return sizes


def test_the_pdf_is_the_same_with_and_without_the_patches(seed_letters, monkeypatch):
    letter = seed_letters["001"]
    patched = render_letter_pdf(letter)
    with monkeypatch.context() as m:
        m.setattr(pydyf.Stream, "data", property(pdf_speed._stream_data))
        m.setattr(pydyf.PDF, "write", pdf_speed._pdf_write)
        m.setattr(pdf_fonts, "get_hb_object_data", pdf_speed._get_hb_object_data)
        m.setattr(pdf_fonts.Font, "__init__", pdf_speed._font_init)
        plain = render_letter_pdf(letter)
    assert patched == plain


def test_each_stream_is_compressed_once(seed_letters, monkeypatch):
    sizes = _compressions(monkeypatch)
    render_letter_pdf(seed_letters["001"])
    once = list(sizes)
    sizes.clear()
    with monkeypatch.context() as m:
        m.setattr(pydyf.Stream, "data", property(pdf_speed._stream_data))
        m.setattr(pydyf.PDF, "write", pdf_speed._pdf_write)
        render_letter_pdf(seed_letters["001"])
    # pydyf alone serialises every stream twice for the file identifier's hash (all but the
    # object and cross-reference streams it makes while writing): the largest, the body's
    # font, goes through zlib once with the patch and twice without.
    largest = max(once)
    assert once.count(largest) == 1
    assert sizes.count(largest) == 2
    assert sum(sizes) > 1.8 * sum(once)


def test_the_font_files_are_copied_once_per_process(seed_letters, monkeypatch):
    render_letter_pdf(seed_letters["001"])
    copies: list[int] = []
    real = pdf_speed._get_hb_object_data
    monkeypatch.setattr(
        pdf_speed, "_get_hb_object_data", lambda *a, **k: copies.append(1) or real(*a, **k)
    )
    render_letter_pdf(seed_letters["001"])
    subsets = len(copies)
    copies.clear()
    monkeypatch.setattr(pdf_fonts, "get_hb_object_data", pdf_speed._get_hb_object_data)
    render_letter_pdf(seed_letters["001"])
    # Unpatched: one more copy per font (the whole face) besides each subset's.
    assert len(copies) > subsets > 0
