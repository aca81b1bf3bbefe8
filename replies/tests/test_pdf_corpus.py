"""Every letter of the reader's corpus, read and rendered, passes the seeds' layout checks
(issue 20: A4, sizes, the 28 × 22 grid, red header and rule, page numbers, 禁则, real glyphs,
text in order). The letters are web copies written for the tests in ``legacy_corpus/``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from replies.legacy import read_published
from replies.pdf import glyph_warnings, render_letter_pdf
from replies.tests import test_pdf as layout

CORPUS = Path(__file__).parent / "legacy_corpus"
NAMES = sorted(p.stem for p in CORPUS.glob("*.txt"))


def text_in_order(rendered: layout.Rendered) -> None:
    """Title, salutation, body, 落款 and date printed whole and in order (the header's order
    differs between the 文件 and 信函 formats; ``test_pdf`` checks it on the seeds)."""
    letter = rendered.letter
    parts = [letter.title, letter.salutation, *(b.text for b in letter.body)]
    parts += [*letter.signing_organs, letter.date_text]
    expected = layout.squeeze("".join(parts))
    ok, context = layout.is_subsequence(expected, layout.squeeze(rendered.text))
    assert ok, f"missing or out of order near {context!r}"


def lines_within_the_grid(rendered: layout.Rendered) -> None:
    """No body line runs past 28 cells, and no page holds more than 22 lines of type."""
    for paragraph in layout.body_paragraphs(rendered):
        for line in paragraph:
            left, _right = layout.type_area(line.page)
            assert layout.cells(line, left) <= 28.02, line.text
    for page in rendered.pages:
        assert len(page.type_lines()) <= 22, page.number


def organ_red_with_its_rule(rendered: layout.Rendered) -> None:
    """Every organ of the header printed red on page 1 (in either format, one or several,
    wrapped or not) above a red rule, and the 文号 with 〔〕 brackets."""
    letter = rendered.letter
    first = rendered.pages[0]
    chars = [c for line in first.lines for c in line.chars]
    red = "".join(c["text"] for c in chars if layout.is_red(c["non_stroking_color"]))
    for organ in letter.organs:
        assert layout.is_subsequence(organ, layout.squeeze(red))[0], (organ, red)
    if letter.organs:
        assert [r for r in first.rects if layout.is_red(r["non_stroking_color"])]
    if letter.doc_number:
        printed = layout.squeeze("".join(line.text for line in first.lines))
        assert re.search(r"〔\d{4}〕\d+号", printed), letter.doc_number


#: The checks of ``test_pdf`` that hold for any letter (the seeds' 28-character and 22-line
#: checks need pages of body text: for these short letters, ``lines_within_the_grid``).
CHECKS = (
    layout.test_every_page_is_a4,
    text_in_order,
    lines_within_the_grid,
    layout.test_body_text_is_3hao_16pt,
    layout.test_body_lines_start_on_the_grid_and_keep_its_pitch,
    layout.test_no_line_starts_with_closing_punctuation,
    organ_red_with_its_rule,
    layout.test_fonts_are_subset_cjk_faces_and_no_glyph_is_missing,
    layout.test_metadata_title_author_language_and_pdfa,
)


@pytest.fixture(scope="module")
def rendered():
    cache: dict[str, layout.Rendered] = {}

    def get(name: str) -> layout.Rendered:
        if name not in cache:
            letter = read_published((CORPUS / f"{name}.txt").read_text(encoding="utf-8")).letter
            cache[name] = layout.parse(letter, render_letter_pdf(letter))
        return cache[name]

    return get


def test_the_corpus_is_there():
    assert len(NAMES) >= 30


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("test_"))
def test_a_corpus_letter_passes_the_layout_checks(rendered, name, check):
    check(rendered(name))


@pytest.mark.parametrize("name", NAMES)
def test_a_corpus_letter_prints_every_character_from_a_face_that_has_it(rendered, name):
    letter = rendered(name).letter
    # A name outside the faces' coverage is printed from a fallback face and named; a glyph
    # with no outline is never used (replies.pdf_fonts).
    assert not [w for w in glyph_warnings(letter) if "没有可用的字形" in w]
