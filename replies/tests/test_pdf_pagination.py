"""Pagination as GB/T 9704 expects it, read back from the PDF with pdfplumber.

- a heading never ends a page: it keeps at least two lines of its text with it;
- the 落款 (signing organ and date) has at least two lines of text above it on its page;
- the 版记 sits at the foot of the last page, on a page of its own only when it cannot fit;
- printed double-sided, the 版记 is on an even page, and that page and a blank page before it
  carry no page number.

Besides the seeds, synthetic letters grow one line at a time so that each element meets the
foot of a page at every position.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from functools import cache

import pytest

from replies.letter import Block, Contact, Letter
from replies.pdf import render_letter_pdf
from replies.tests.conftest import SEED_IDS, hand_built_seed, seed_letter
from replies.tests.test_pdf import LINE, TYPE_BOTTOM, Line, Rendered, parse, squeeze
from replies.tests.test_pdf_pdfa import pdfa_violations

#: One printed line of body text (28 characters less the indent of two).
ONE_LINE = "本段正文用于测试分页规则，恰好排满一行。"
#: Three printed lines.
THREE_LINES = "这是一段用于测试分页规则的正文，" * 5


@cache
def rendered(letter: Letter) -> Rendered:
    return parse(letter, render_letter_pdf(letter))


def base_letter(**changes) -> Letter:
    letter = Letter(
        organs=("上海市普陀区发展和改革委员会",),
        doc_number="普发改委〔2024〕5号",
        title="对区政协十五届三次会议第150005号提案的答复",
        salutation="张文浩委员：",
        signature_organ="上海市普陀区发展和改革委员会",
        date=datetime.date(2024, 6, 3),
        contact=Contact(person="开凡", phone="52564588"),
        cc=("区政协提案委",),
        printed_by="上海市普陀区发展和改革委员会",
        printed_on=datetime.date(2024, 6, 3),
    )
    return replace(letter, **changes)


def body_lines(page) -> list[Line]:
    """The type area's lines of a page but its page number."""
    return [line for line in page.type_lines() if not line.text.startswith("—")]


def line_of(result: Rendered, text: str) -> Line:
    wanted = squeeze(text)
    for line in result.type_lines:
        if squeeze(line.text).startswith(wanted[:12]):
            return line
    raise AssertionError(f"no line starts {text[:12]!r}")


def assert_headings_keep_two_lines(result: Rendered) -> None:
    for block in result.letter.body:
        if not block.level:
            continue
        line = line_of(result, block.text)
        page = result.pages[line.page - 1]
        lines = body_lines(page)
        after = lines[lines.index(line) + 1 :]
        assert len(after) >= 2, (block.text, line.page, [x.text for x in after])


def assert_signature_has_two_lines_above(result: Rendered) -> None:
    organ = result.letter.signing_organs[0]
    line = result.find_line(organ) if organ else None
    assert line is not None
    lines = body_lines(result.pages[line.page - 1])
    above = lines[: lines.index(line)]
    body_text = "".join(squeeze(b.text) for b in result.letter.body)
    above_text = [x for x in above if squeeze(x.text) and squeeze(x.text) in body_text]
    assert len(above_text) >= 2, (line.page, [x.text for x in above])


def imprint_lines(result: Rendered) -> list[Line]:
    return [line for line in result.type_lines if "印发" in line.text or "抄送" in line.text]


def assert_imprint_at_the_foot_only_alone_when_it_must(result: Rendered) -> None:
    imprint = imprint_lines(result)
    assert imprint
    last = len(result.pages)
    assert {line.page for line in imprint} == {last}
    assert imprint[-1].baseline > TYPE_BOTTOM - LINE
    others = [x for x in body_lines(result.pages[last - 1]) if x not in imprint]
    if not others and last > 1:
        previous = body_lines(result.pages[last - 2])
        free = (TYPE_BOTTOM - previous[-1].baseline) / LINE
        assert free < len(imprint) + 0.5, f"the 版记 could fit on page {last - 1}: {free:.1f}"


# --- Seeds ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed_id", SEED_IDS)
def test_seed_headings_signature_and_imprint_keep_their_company(seed_id):
    result = rendered(seed_letter(seed_id))
    assert_headings_keep_two_lines(result)
    assert_signature_has_two_lines_above(result)
    if result.letter.cc or result.letter.printed_by:
        assert_imprint_at_the_foot_only_alone_when_it_must(result)


def test_seed_002_third_heading_opens_a_page_instead_of_ending_one():
    result = rendered(seed_letter("002"))
    line = line_of(result, "三、积极探索发展模式")
    lines = body_lines(result.pages[line.page - 1])
    assert lines.index(line) < len(lines) - 2


def test_hand_built_seed_002_keeps_the_heading_too():
    result = rendered(hand_built_seed("002"))
    assert_headings_keep_two_lines(result)


# --- Synthetic letters: every element at every position ---------------------------------------


@pytest.mark.parametrize("before", range(13, 35))
def test_a_heading_never_ends_a_page(before):
    body = (
        *(Block(ONE_LINE) for _ in range(before)),
        Block("一、持续聚焦数字经济，培育壮大新兴产业", level=1),
        Block("（一）加快数字化转型", level=2),
        Block(THREE_LINES),
        Block("非常感谢您的提案。"),
    )
    assert_headings_keep_two_lines(rendered(base_letter(body=body)))


@pytest.mark.parametrize("before", range(8, 30))
def test_a_run_on_heading_keeps_two_lines_with_it(before):
    body = (
        *(Block(ONE_LINE) for _ in range(before)),
        Block("1.推进国企存量土地资源高质量利用。" + THREE_LINES, level=3),
        Block(THREE_LINES),
    )
    assert_headings_keep_two_lines(rendered(base_letter(body=body)))


@pytest.mark.parametrize("before", range(12, 34))
def test_the_signature_never_opens_a_page_without_two_lines_of_text(before):
    last = THREE_LINES if before % 2 else ONE_LINE
    body = (*(Block(ONE_LINE) for _ in range(before)), Block(last))
    result = rendered(base_letter(body=body, contact=Contact(), cc=(), printed_by=""))
    assert_signature_has_two_lines_above(result)


@pytest.mark.parametrize("before", range(11, 33))
def test_the_imprint_stands_alone_only_when_it_cannot_fit(before):
    body = tuple(Block(ONE_LINE) for _ in range(before))
    result = rendered(base_letter(body=body))
    assert_imprint_at_the_foot_only_alone_when_it_must(result)


@pytest.mark.parametrize("before", [0, 3, 8, 14, 20, 26, 32, 38])
def test_double_sided_puts_the_imprint_on_an_even_page_without_a_number(before):
    body = tuple(Block(ONE_LINE) for _ in range(before))
    one_sided = rendered(base_letter(body=body))
    result = rendered(base_letter(body=body, double_sided=True))
    imprint = imprint_lines(result)
    page = imprint[0].page
    assert page % 2 == 0 and page == len(result.pages)
    assert imprint[-1].baseline > TYPE_BOTTOM - LINE
    numbers = [line for line in result.pages[page - 1].lines if line.text.startswith("—")]
    if len(one_sided.pages) % 2 == 0 and imprint_lines(one_sided)[0].page == page:
        assert len(result.pages) == len(one_sided.pages)  # already even: nothing moved
        return
    assert not numbers, "the 版记's page of its own carries no page number"
    others = [x for x in body_lines(result.pages[page - 1]) if x not in imprint]
    assert not others
    for blank in result.pages[page - 2 : page - 1]:
        if not body_lines(blank):
            assert not blank.lines, "a blank page carries no page number"


def test_double_sided_letter_conforms_like_any_other():
    body = tuple(Block(ONE_LINE) for _ in range(3))
    assert pdfa_violations(render_letter_pdf(base_letter(body=body, double_sided=True))) == []
