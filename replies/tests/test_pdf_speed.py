"""``replies.pdf_speed``: the work WeasyPrint and pydyf repeat for every letter, done once —
and the PDF byte for byte what it was without it (issue 24)."""

from __future__ import annotations

import gc
from pathlib import Path

import pydyf
import pytest
from weasyprint.pdf import fonts as pdf_fonts

from replies import pdf_speed
from replies.legacy import read_published
from replies.letter import Letter
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


def _without_patches(m) -> None:
    """Undo every patch of ``replies.pdf_speed`` inside the monkeypatch context ``m``."""
    m.setattr(pydyf.Stream, "data", property(pdf_speed._stream_data))
    m.setattr(pydyf.PDF, "write", pdf_speed._pdf_write)
    m.setattr(pdf_fonts, "get_hb_object_data", pdf_speed._get_hb_object_data)
    m.setattr(pdf_fonts.Font, "__init__", pdf_speed._font_init)
    m.setattr(pdf_fonts.Font, "_harfbuzz_subset", pdf_speed._harfbuzz_subset)
    m.setattr(pdf_speed, "RENDER_GC_THRESHOLD", gc.get_threshold())


CORPUS = Path(__file__).parent / "legacy_corpus"

#: Letters of the reader's corpus with what the seeds lack: a pasted table, a co-handling
#: opinion, a joint letter, attachments, a follow-up letter.
CORPUS_LETTERS = (
    "04_web_table_copy",
    "07_co_opinion_to_bureau_party",
    "15_with_attachments",
    "22_joint_letter",
    "23_letter_format_follow_up",
)


def _letter(seed_letters, name: str) -> Letter:
    if name in seed_letters:
        return seed_letters[name]
    text = (CORPUS / f"{name}.txt").read_text(encoding="utf-8")
    return read_published(text).letter


@pytest.mark.parametrize("name", ["000", "001", "002", "003", *CORPUS_LETTERS])
def test_the_pdf_is_the_same_with_and_without_the_patches(seed_letters, monkeypatch, name):
    letter = _letter(seed_letters, name)
    patched = render_letter_pdf(letter)
    again = render_letter_pdf(letter)  # its subsets now come from the cache
    with monkeypatch.context() as m:
        _without_patches(m)
        plain = render_letter_pdf(letter)
    assert patched == plain
    assert again == plain


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
    # Every subset made anew (not taken from patch 3's cache), so that each one copies its face.
    monkeypatch.setattr(pdf_fonts.Font, "_harfbuzz_subset", pdf_speed._harfbuzz_subset)
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


def _subset_runs(monkeypatch) -> list[str]:
    """The families HarfBuzz subsets from now on (the cache's misses)."""
    runs: list[str] = []
    real = pdf_speed._harfbuzz_subset

    def counting(font, to_unicode, hinting):
        runs.append(font.family)
        return real(font, to_unicode, hinting)

    monkeypatch.setattr(pdf_speed, "_harfbuzz_subset", counting)
    return runs


def test_a_letter_rendered_again_reuses_its_subsets_and_their_streams(seed_letters, monkeypatch):
    letter = seed_letters["001"]
    render_letter_pdf(letter)
    runs = _subset_runs(monkeypatch)
    sizes = _compressions(monkeypatch)
    render_letter_pdf(letter)
    assert runs == []
    # No font stream goes through zlib again: what is left is the pages' content and the
    # PDF's own streams, a fraction of what the fonts are.
    kept = {len(entry.content) for entry in pdf_speed._subsets.values()}
    assert not kept & set(sizes)
    assert sum(sizes) < sum(kept) / 2


@pytest.fixture
def no_kept_subsets():
    pdf_speed.forget_subsets()


def test_another_glyph_set_of_the_same_face_is_subset_anew(
    seed_letters, monkeypatch, no_kept_subsets
):
    render_letter_pdf(seed_letters["001"])
    runs = _subset_runs(monkeypatch)
    render_letter_pdf(seed_letters["000"])
    # 000's body differs from 001's: its face is subset again; the page numbers' face is not
    # (both letters have six pages: the same digits and dashes).
    assert "FandolFang" in runs
    assert "Noto Serif CJK SC" not in runs


def test_the_kept_subsets_stay_under_their_bound(seed_letters, monkeypatch):
    monkeypatch.setattr(pdf_speed, "SUBSET_CACHE_BYTES", 200_000)
    for seed_id in ("000", "001", "002", "003"):
        render_letter_pdf(seed_letters[seed_id])
    sizes = [entry.size for entry in pdf_speed._subsets.values()]
    assert sum(sizes) <= 200_000 or len(sizes) == 1
    assert set(pdf_speed._subset_by_content) == {
        id(entry.content) for entry in pdf_speed._subsets.values()
    }
    # What was dropped is made again, the same.
    with monkeypatch.context() as m:
        _without_patches(m)
        plain = render_letter_pdf(seed_letters["000"])
    assert render_letter_pdf(seed_letters["000"]) == plain


def test_a_face_not_kept_whole_is_never_cached(seed_letters, monkeypatch):
    render_letter_pdf(seed_letters["001"])

    class Font:
        hb_face = pdf_speed.ffi.NULL
        file_content = b"not a kept face"
        missing: dict = {}

    assert pdf_speed._subset_key(Font(), {1: "a"}, False) is None


def test_the_collector_thresholds_are_set_back_after_a_render(seed_letters):
    before = gc.get_threshold()
    seen: list[tuple] = []
    with pdf_speed.fewer_collections():
        seen.append(gc.get_threshold())
    assert seen == [pdf_speed.RENDER_GC_THRESHOLD]
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), pdf_speed.fewer_collections():
        raise RuntimeError
    assert gc.get_threshold() == before
    render_letter_pdf(seed_letters["003"])
    assert gc.get_threshold() == before


def test_overlapping_renders_set_the_thresholds_back_when_the_last_ends():
    before = gc.get_threshold()
    first, second = pdf_speed.fewer_collections(), pdf_speed.fewer_collections()
    first.__enter__()
    second.__enter__()  # another thread's render, started while the first runs
    first.__exit__(None, None, None)
    assert gc.get_threshold() == pdf_speed.RENDER_GC_THRESHOLD
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
