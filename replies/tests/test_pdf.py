"""The letter PDF measured with pdfplumber against GB/T 9704-2012 (docs/letter-layout.md).

Each letter is rendered and parsed once per module; the tests read positions, sizes, fonts and
colours of the characters and rules. Text lines are grouped by baseline (the y of each glyph's
origin), which fallback glyphs share with their neighbours even where their boxes differ.
"""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass, field, replace

import pdfplumber
import pytest
from pdfminer.pdftypes import resolve1

from replies.letter import Letter, LetterFormat
from replies.pdf import balanced_title_lines, render_letter_pdf, split_block
from replies.tests.conftest import SEED_IDS

MM = 72 / 25.4
PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89
CHAR = 156 * MM / 28  # 15.79 pt: the grid's character pitch
LINE = 28.95  # the grid's line pitch
LETTER_SPACING = -0.21
TYPE_TOP = 37 * MM
TYPE_BOTTOM = PAGE_HEIGHT - 35 * MM
TYPE_WIDTH = 156 * MM
RED_RGB = (1.0, 0.2, 0.2)

NO_LINE_START = set("，。、；：？！）》」』”")
NO_LINE_END = set("（《「『“")
# Characters no line may start with, and the ones it may not end with, as Pango applies them
# (UAX #14: closing punctuation, and no break on either side of a quotation mark).
_CLOSE = set("，。、；：？！）》」』〕】…—%·")
_OPEN = set("（《「『〔【")
_QUOTE = set("“”‘’")
_ASCII = re.compile(r"[0-9A-Za-z.%+\-/]")


def type_area(page_number: int) -> tuple[float, float]:
    """Left and right edges of the type area: 28 mm binding side, mirrored on even pages."""
    left = 28 * MM if page_number % 2 else 26 * MM
    return left, left + TYPE_WIDTH


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@dataclass
class Line:
    page: int
    baseline: float
    chars: list[dict]

    @property
    def text(self) -> str:
        return "".join(c["text"] for c in self.chars)

    @property
    def x0(self) -> float:
        return self.chars[0]["x0"]

    @property
    def x1(self) -> float:
        return self.chars[-1]["x1"]

    @property
    def end(self) -> float:
        """Where the line's advance ends (the last glyph's letter-spacing included)."""
        return self.x1 + LETTER_SPACING

    @property
    def size(self) -> float:
        return max(c["size"] for c in self.chars)

    @property
    def in_type_area(self) -> bool:
        return TYPE_TOP < self.baseline < TYPE_BOTTOM + 1


@dataclass
class Page:
    number: int
    width: float
    height: float
    lines: list[Line]
    rects: list[dict]
    rotated: list[dict]  # the watermark's glyphs

    def type_lines(self) -> list[Line]:
        return [line for line in self.lines if line.in_type_area]


@dataclass
class Rendered:
    letter: Letter
    pdf: bytes
    pages: list[Page]
    metadata: dict
    catalog: dict
    xmp: str
    font_names: set[str] = field(default_factory=set)

    @property
    def lines(self) -> list[Line]:
        return [line for page in self.pages for line in page.lines]

    @property
    def type_lines(self) -> list[Line]:
        return [line for page in self.pages for line in page.type_lines()]

    @property
    def text(self) -> str:
        return "".join(line.text for line in self.lines)

    def find_line(self, text: str) -> Line:
        wanted = squeeze(text)
        for line in self.lines:
            if squeeze(line.text) == wanted:
                return line
        raise AssertionError(f"no line reads {text!r}")

    def chars(self, text: str) -> list[dict]:
        return [
            c for page in self.pages for line in page.lines for c in line.chars if c["text"] in text
        ]


def parse(letter: Letter, pdf: bytes) -> Rendered:
    pages = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            upright = [c for c in page.chars if c["upright"] and c["matrix"][1] == 0]
            rotated = [c for c in page.chars if not (c["upright"] and c["matrix"][1] == 0)]
            pages.append(
                Page(
                    number=page.page_number,
                    width=float(page.width),
                    height=float(page.height),
                    lines=group_lines(page.page_number, float(page.height), upright),
                    rects=list(page.rects),
                    rotated=rotated,
                )
            )
        catalog = dict(document.doc.catalog)
        xmp = resolve1(catalog["Metadata"]).get_data().decode()
        fonts = {c["fontname"] for page in document.pages for c in page.chars}
        return Rendered(
            letter=letter,
            pdf=pdf,
            pages=pages,
            metadata=dict(document.metadata),
            catalog=catalog,
            xmp=xmp,
            font_names=fonts,
        )


def group_lines(page_number: int, height: float, chars: list[dict]) -> list[Line]:
    lines: list[Line] = []
    for char in sorted(chars, key=lambda c: (round(height - c["matrix"][5], 1), c["x0"])):
        baseline = height - char["matrix"][5]
        if lines and abs(lines[-1].baseline - baseline) < 0.5:
            lines[-1].chars.append(char)
        else:
            lines.append(Line(page=page_number, baseline=baseline, chars=[char]))
    for line in lines:
        line.chars.sort(key=lambda c: c["x0"])
    return lines


@pytest.fixture(scope="module")
def render():
    """Render and parse each letter once for the whole module."""
    cache: dict[Letter, Rendered] = {}

    def get(letter: Letter) -> Rendered:
        if letter not in cache:
            cache[letter] = parse(letter, render_letter_pdf(letter))
        return cache[letter]

    return get


@pytest.fixture(params=SEED_IDS, ids=lambda seed_id: f"seed{seed_id}")
def seed(request, seed_letters, render) -> Rendered:
    return render(seed_letters[request.param])


@pytest.fixture
def seed_001(seed_letters, render) -> Rendered:
    return render(seed_letters["001"])


@pytest.fixture
def seed_000(seed_letters, render) -> Rendered:
    return render(seed_letters["000"])


# --- Reading the body back ------------------------------------------------------------------------


def body_paragraphs(rendered: Rendered) -> list[list[Line]]:
    """The body's lines, block by block, found by reading the blocks' text off the page."""
    letter = rendered.letter
    lines = rendered.type_lines
    start = 0
    if letter.salutation:
        start = lines.index(rendered.find_line(letter.salutation)) + 1
    paragraphs = []
    for block in letter.body:
        wanted = squeeze(block.text)
        got, taken = "", []
        while start < len(lines) and len(got) < len(wanted):
            got += squeeze(lines[start].text)
            taken.append(lines[start])
            start += 1
        assert got == wanted, f"block printed as {got!r}, not {wanted!r}"
        paragraphs.append(taken)
    return paragraphs


def first_unit(line: Line) -> float:
    """The advance of what Pango would have to move up with the line's first character."""
    chars = line.chars
    end = 0
    while end + 1 < len(chars):
        here, after = chars[end]["text"], chars[end + 1]["text"]
        joined = (
            after in _CLOSE
            or after in _QUOTE
            or here in _OPEN
            or here in _QUOTE
            or (_ASCII.match(here) and _ASCII.match(after))
        )
        if not joined:
            break
        end += 1
    return chars[end]["x1"] - chars[0]["x0"]


def cells(line: Line, left: float) -> float:
    return (line.end - left) / CHAR


def is_subsequence(expected: str, got: str) -> tuple[bool, str]:
    position = 0
    for index, char in enumerate(expected):
        position = got.find(char, position)
        if position == -1:
            return False, expected[max(0, index - 20) : index + 20]
        position += 1
    return True, ""


def printed_fields(letter: Letter) -> list[str]:
    """The letter's text in the order the 文件 format prints it."""
    contact = letter.contact
    return [
        letter.result_label,
        letter.disclosure,
        *letter.organs,
        letter.doc_number,
        letter.signer,
        letter.title,
        letter.salutation,
        *(block.text for block in letter.body),
        letter.signature_organ,
        letter.date_text,
        letter.note,
        contact.person,
        contact.phone,
        contact.address,
        contact.postcode,
        *letter.cc,
        letter.printed_by,
        letter.printed_on_text,
    ]


# --- The seeds ------------------------------------------------------------------------------------


def test_every_page_is_a4(seed):
    assert seed.pages
    for page in seed.pages:
        assert page.width == pytest.approx(PAGE_WIDTH, abs=1)
        assert page.height == pytest.approx(PAGE_HEIGHT, abs=1)


def test_every_character_of_the_letter_is_printed_in_order(seed):
    expected = squeeze("".join(printed_fields(seed.letter)))
    ok, context = is_subsequence(expected, squeeze(seed.text))
    assert ok, f"missing or out of order near {context!r}"


def test_body_text_is_3hao_16pt(seed):
    for paragraph in body_paragraphs(seed):
        for line in paragraph:
            for char in line.chars:
                assert char["size"] == pytest.approx(16, abs=0.3), (line.text, char["size"])


def test_title_is_2hao_22pt_centred_on_its_lines(seed):
    for text in balanced_title_lines(seed.letter):
        line = seed.find_line(text)
        assert all(c["size"] == pytest.approx(22, abs=0.3) for c in line.chars)
        left, right = type_area(line.page)
        assert (line.x0 + line.x1) / 2 == pytest.approx((left + right) / 2, abs=1.5)


def test_body_lines_start_on_the_grid_and_keep_its_pitch(seed):
    """Paragraphs indent two grid characters; lines are 28.95 pt apart on every page, also where
    a glyph comes from a fallback face with other metrics (彧 in seed 000)."""
    lines = [line for paragraph in body_paragraphs(seed) for line in paragraph]
    for paragraph in body_paragraphs(seed):
        for index, line in enumerate(paragraph):
            left, _ = type_area(line.page)
            indent = 2 * CHAR if index == 0 else 0
            assert line.x0 == pytest.approx(left + indent, abs=0.2), line.text
    for above, below in itertools.pairwise(lines):
        if above.page == below.page:
            assert below.baseline - above.baseline == pytest.approx(LINE, abs=0.05), below.text


def test_every_full_body_line_holds_28_characters(seed):
    """A line that is not its paragraph's last is as full as line breaking allows: 28 cells, or
    fewer only where what comes next (a digit run, a character with its closing punctuation,
    a quotation mark with its neighbours) would not have fitted. Lines are ragged by that, not
    by the grid; nothing is stretched."""
    full_lines = exact = 0
    for paragraph in body_paragraphs(seed):
        for line, following in itertools.pairwise(paragraph):
            left, right = type_area(line.page)
            filled = cells(line, left)
            assert filled <= 28.02, (line.text, filled)
            unit = first_unit(following) + LETTER_SPACING
            assert line.end + unit > right + 0.5, (line.text, following.text[:3], filled)
            full_lines += 1
            all_chinese = all(len(c["text"].encode()) == 3 for c in line.chars)
            if all_chinese and len(following.chars) and first_unit(following) < 16.5:
                indent = 2 if line is paragraph[0] else 0
                assert len(line.chars) + indent == 28, line.text
                exact += 1
    assert full_lines > 20
    assert exact > 0


def test_every_full_page_holds_22_lines_on_the_grid(seed):
    """A page is full but where a heading moved to the next page to stay with its text (up to
    a heading's line and the two it keeps)."""
    inner_pages = seed.pages[1:-1]
    assert len(seed.pages) >= 3
    heads = [squeeze(b.text)[:8] for b in seed.letter.body if b.level]
    for page in inner_pages:
        baselines = [line.baseline for line in page.type_lines()]
        following = seed.pages[page.number].type_lines()
        kept = following and any(squeeze(following[0].text).startswith(h) for h in heads)
        if kept:
            assert 22 - 3 <= len(baselines) <= 22, (page.number, len(baselines))
        else:
            assert len(baselines) == 22, (page.number, len(baselines))
        steps = [b - a for a, b in itertools.pairwise(baselines)]
        assert all(step == pytest.approx(LINE, abs=0.05) for step in steps), steps
        first = seed.pages[1].type_lines()[0].baseline
        assert baselines[0] == pytest.approx(first, abs=0.05)


def test_page_numbers_sit_below_the_type_area_on_the_outer_side(seed):
    for page in seed.pages:
        (number,) = [line for line in page.lines if line.baseline > TYPE_BOTTOM + 5]
        assert re.fullmatch(r"—\s*(\d+)\s*—", number.text), number.text
        assert int(re.sub(r"\D", "", number.text)) == page.number
        assert number.size == pytest.approx(14, abs=0.3)
        assert TYPE_BOTTOM + 7 * MM < number.baseline < TYPE_BOTTOM + 7 * MM + 14
        left, right = type_area(page.number)
        if page.number % 2:
            assert number.x1 == pytest.approx(right - 14, abs=1.5)
        else:
            assert number.x0 == pytest.approx(left + 14, abs=1.5)


def test_no_line_starts_with_closing_punctuation(seed):
    for line in seed.type_lines:
        assert line.text[0] not in NO_LINE_START, line.text
        assert line.text[-1] not in NO_LINE_END, line.text


def test_organ_is_red_and_doc_number_uses_tortoise_shell_brackets(seed):
    letter = seed.letter
    for organ in letter.organs:
        (line,) = [line for line in seed.pages[0].lines if squeeze(line.text) == f"{organ}文件"]
        assert all(is_red(c["non_stroking_color"]) for c in line.chars)
        left, right = type_area(1)
        assert (line.x0 + line.x1) / 2 == pytest.approx((left + right) / 2, abs=1.5)
        assert line.chars[0]["top"] == pytest.approx(TYPE_TOP + 35 * MM, abs=2)
        rules = [r for r in seed.pages[0].rects if is_red(r["non_stroking_color"])]
        assert [r["width"] for r in rules] == [pytest.approx(TYPE_WIDTH, abs=0.5)]
    if letter.doc_number:
        (line,) = [line for line in seed.pages[0].lines if letter.doc_number in line.text]
        assert re.search(r"〔\d{4}〕\d+号", line.text)
        assert line.size == pytest.approx(16, abs=0.3)


def test_signer_stands_one_character_in_from_the_right_beside_the_doc_number(seed):
    letter = seed.letter
    if not letter.signer:
        return
    (line,) = [line for line in seed.pages[0].lines if "签发人" in line.text]
    left, right = type_area(1)
    assert line.end == pytest.approx(right - CHAR, abs=1)
    name = [c for c in line.chars if c["text"] in letter.signer and c["text"].strip()]
    assert name and all("Kai" in c["fontname"] for c in name)
    label = [c for c in line.chars if c["text"] in "签发人："]
    assert all("FandolFang" in c["fontname"] for c in label)
    if letter.doc_number:
        assert squeeze(line.text).startswith(squeeze(letter.doc_number))
        assert line.x0 == pytest.approx(left + CHAR, abs=0.5)


def test_signature_sits_two_characters_in_and_the_date_two_further(seed):
    letter = seed.letter
    organ = seed.find_line(letter.signature_organ)
    _, right = type_area(organ.page)
    last_body_line = body_paragraphs(seed)[-1][-1]
    if last_body_line.page == organ.page:
        assert organ.baseline - last_body_line.baseline == pytest.approx(2 * LINE, abs=0.1)
    if not letter.date:
        assert organ.end == pytest.approx(right - 2 * CHAR, abs=1)
        return
    date = seed.find_line(letter.date_text)
    assert date.baseline - organ.baseline == pytest.approx(LINE, abs=0.1)
    if date.end - date.x0 + 2 * CHAR <= organ.end - organ.x0:
        assert organ.end == pytest.approx(right - 2 * CHAR, abs=1)
        assert date.x0 == pytest.approx(organ.x0 + 2 * CHAR, abs=1)
    else:
        assert date.end == pytest.approx(right - 2 * CHAR, abs=1)
        assert organ.x0 == pytest.approx(date.x0 - 2 * CHAR, abs=1)
    if letter.note:
        note = seed.find_line(f"（{letter.note}）")
        left, _ = type_area(note.page)
        assert note.baseline - date.baseline == pytest.approx(LINE, abs=0.1)
        assert note.x0 == pytest.approx(left + 2 * CHAR, abs=0.2)


def test_contact_lines_follow_indented_after_an_empty_line(seed):
    contact = seed.letter.contact
    if not contact:
        return
    person = seed.find_line(f"联系人姓名：{contact.person}")
    left, _ = type_area(person.page)
    assert person.x0 == pytest.approx(left + 2 * CHAR, abs=0.2)
    above = seed.lines[seed.lines.index(person) - 1]
    assert person.baseline - above.baseline == pytest.approx(2 * LINE, abs=0.1)


def test_imprint_is_4hao_with_its_last_rule_on_the_type_areas_bottom(seed):
    letter = seed.letter
    last = seed.pages[-1]
    if not (letter.cc or letter.printed_by):
        assert "印发" not in squeeze(seed.text)[-20:]
        return
    printed = [line for line in last.lines if line.text.endswith("印发")]
    assert printed, "no 印发 line on the last page"
    (line,) = printed
    assert all(c["size"] == pytest.approx(14, abs=0.3) for c in line.chars)
    left, right = type_area(last.number)
    assert line.x0 == pytest.approx(left + 14, abs=1)
    assert line.x1 == pytest.approx(right - 14, abs=1)
    rules = [r for r in last.rects if r["width"] == pytest.approx(TYPE_WIDTH, abs=1)]
    assert max(r["bottom"] for r in rules) == pytest.approx(TYPE_BOTTOM, abs=1)


def test_fonts_are_subset_cjk_faces_and_no_glyph_is_missing(seed):
    assert seed.font_names
    for name in seed.font_names:
        assert re.fullmatch(r"[A-Z]{6}\+(Fandol\w+|Noto-\S+|LXGW-WenKai)(-\w+)?", name), name
    assert "\ufffd" not in seed.text


def test_metadata_title_author_language_and_pdfa(seed):
    letter = seed.letter
    assert seed.metadata["Title"] == letter.pdf_title
    if letter.organs:
        assert seed.metadata["Author"] == "、".join(letter.organs)
    assert seed.catalog["Lang"] == b"zh-CN"
    assert 'pdfaid:part="2"' in seed.xmp
    assert 'pdfaid:conformance="B"' in seed.xmp
    assert seed.catalog["OutputIntents"]


# --- Particular seeds -----------------------------------------------------------------------------


def test_seed_000_prints_彧_from_a_real_cjk_face(seed_000):
    """Fandol lacks 彧 (outside GB2312): the 仿宋 stack falls back to a 楷 face covering GBK
    (LXGW WenKai), closer to 仿宋 than a 宋 face."""
    chars = seed_000.chars("彧")
    assert len(chars) >= 3
    for char in chars:
        assert "LXGW-WenKai" in char["fontname"], char["fontname"]
        assert char["width"] == pytest.approx(16, abs=0.3)


def test_seed_000_run_on_heading_is_bold_up_to_its_first_full_stop(seed_000):
    block = next(b for b in seed_000.letter.body if b.text.startswith("1、推进国企存量土地"))
    head, rest = block.text.split("。", 1)
    line = next(line for line in seed_000.lines if line.text.startswith("1、推进国企"))
    for char in line.chars:
        in_head = char["x0"] < line.chars[len(head)]["x0"] + 1
        assert ("Bold" in char["fontname"]) == in_head, (char["text"], char["fontname"])
    assert rest


def test_seed_001_is_small_enough_to_archive(seed_001):
    assert len(seed_001.pdf) <= 450 * 1024


def test_seed_001_by_hand_reads_like_the_seed(letter_001_by_hand, render):
    rendered = render(letter_001_by_hand)
    assert len(rendered.pages) == 6
    assert rendered.find_line("对区政协十五届二次会议").size == pytest.approx(22, abs=0.3)
    assert rendered.find_line("普发改委〔2023〕14号")
    last = rendered.pages[-1]
    assert last.lines[-1].text == "— 6 —"
    assert "2023年5月8日印发" in squeeze(last.lines[-2].text)


# --- Formats and features -------------------------------------------------------------------------


def is_red(color) -> bool:
    """The print red, in sRGB like the PDF/A output intent (CMYK Y80 M80 converted)."""
    color = tuple(color or ())
    return len(color) == 3 and color == pytest.approx(RED_RGB, abs=0.01)


def test_letter_format_has_its_letterhead_and_no_page_number_on_page_one(
    letter_format_letter, render
):
    rendered = render(letter_format_letter)
    letter = rendered.letter
    first = rendered.pages[0]
    organ = rendered.find_line(letter.organs[0])
    assert organ.page == 1
    assert all(is_red(c["non_stroking_color"]) for c in organ.chars)
    assert "文件" not in organ.text
    assert organ.chars[0]["top"] == pytest.approx(30 * MM, abs=2)
    assert not [line for line in first.lines if line.baseline > TYPE_BOTTOM + 5]
    for page in rendered.pages[1:]:
        (number,) = [line for line in page.lines if line.baseline > TYPE_BOTTOM + 5]
        assert squeeze(number.text) == f"—{page.number}—"
    red_rules = [
        r
        for r in first.rects
        if is_red(r["non_stroking_color"]) and r["width"] == pytest.approx(170 * MM, abs=1)
    ]
    assert any(r["top"] > organ.baseline and r["top"] < organ.baseline + 10 * MM for r in red_rules)
    assert max(r["bottom"] for r in red_rules) == pytest.approx(PAGE_HEIGHT - 20 * MM, abs=1.5)
    assert not [
        r for page in rendered.pages[1:] for r in page.rects if is_red(r["non_stroking_color"])
    ]
    number = rendered.find_line(
        next(line.text for line in first.lines if letter.doc_number in line.text)
    )
    _, right = type_area(1)
    assert number.x1 == pytest.approx(right, abs=1)
    assert "印发" not in rendered.text
    cc = rendered.find_line("抄送：区政协提案委。")
    assert cc.page == len(rendered.pages)
    assert cc.size == pytest.approx(14, abs=0.3)


def test_joint_letter_stacks_its_organs_with_wenjian_centred_beside_them(joint_letter, render):
    rendered = render(joint_letter)
    red = [
        c for line in rendered.pages[0].lines for c in line.chars if is_red(c["non_stroking_color"])
    ]
    names = []
    for organ in joint_letter.organs:
        (line,) = [
            line
            for line in rendered.pages[0].lines
            if squeeze(line.text).startswith(organ) and is_red(line.chars[0]["non_stroking_color"])
        ]
        names.append(line)
    assert [line.baseline for line in names] == sorted(line.baseline for line in names)
    assert len({round(line.baseline) for line in names}) == 3
    name_chars = [
        line.chars[: len(organ)] for line, organ in zip(names, joint_letter.organs, strict=True)
    ]
    assert len({round(chars[0]["x0"]) for chars in name_chars}) == 1
    assert len({round(chars[-1]["x1"]) for chars in name_chars}) == 1
    wenjian = [c for c in red if c["text"] in "文件" and c["x0"] > name_chars[0][-1]["x1"]]
    assert [c["text"] for c in wenjian] == ["文", "件"]
    middle = (wenjian[0]["top"] + wenjian[0]["bottom"]) / 2
    stack = (name_chars[0][0]["top"] + name_chars[-1][0]["bottom"]) / 2
    assert middle == pytest.approx(stack, abs=2)
    assert rendered.metadata["Author"] == "、".join(joint_letter.organs)
    cc = rendered.find_line("抄送：区政协提案委，区政府办公室。")
    assert cc.size == pytest.approx(14, abs=0.3)


def test_joint_letter_headings_take_their_faces(joint_letter, render):
    rendered = render(joint_letter)
    faces = {
        "一、进一步细化产业颗粒度": "FandolHei",
        "（一）调研开局": "Kai",
        "（1）盘活存量": "FandolFang",
    }
    for text, face in faces.items():
        line = rendered.find_line(text)
        assert all(face in c["fontname"] for c in line.chars), (text, line.chars[0]["fontname"])
    run_on = next(line for line in rendered.lines if line.text.startswith("1.推进国企"))
    head = "1.推进国企存量土地资源高质量利用。"
    assert all("FandolSong-Bold" in c["fontname"] for c in run_on.chars[: len(head)])
    assert all("FandolFang" in c["fontname"] for c in run_on.chars[len(head) :])


def test_joint_letter_in_letter_format_stacks_the_organs_only(joint_letter, render):
    rendered = render(replace(joint_letter, format=LetterFormat.LETTER))
    lines = [
        line for line in rendered.pages[0].lines if is_red(line.chars[0]["non_stroking_color"])
    ]
    assert [squeeze(line.text) for line in lines] == list(joint_letter.organs)
    assert "印发" not in rendered.text


def test_draft_prints_a_light_diagonal_watermark_on_every_page(draft_letter, render, seed_001):
    rendered = render(draft_letter)
    assert len(rendered.pages) >= 2
    for page in rendered.pages:
        marks = [c for c in page.rotated if c["text"] in "草稿"]
        assert {c["text"] for c in marks} == {"草", "稿"}
        for char in marks:
            assert char["size"] > 60
            assert min(char["non_stroking_color"]) > 0.8  # light grey
    assert not [c for page in seed_001.pages for c in page.rotated]
    assert "草稿" not in seed_001.text


# --- Pieces ---------------------------------------------------------------------------------------


def test_a_run_on_heading_keeps_only_its_first_sentence_in_the_heading_face():
    block = split_block("1、推进国企存量土地资源高质量利用。我区规划资源部门提出。", 3)
    assert (block.head, block.rest) == (
        "1、推进国企存量土地资源高质量利用。",
        "我区规划资源部门提出。",
    )
    assert split_block("一、腾笼换鸟，优化空间资源配置", 1).rest == ""
    assert split_block("正文。第二句。", 0).head == ""


def test_a_long_title_without_a_break_is_balanced_at_a_word_boundary():
    title = "对区政协十五届二次会议第152045号提案的答复"
    assert balanced_title_lines(Letter(title=title)) == (
        "对区政协十五届二次会议",
        "第152045号提案的答复",
    )
    assert balanced_title_lines(Letter(title="关于推进产业内循环招商的答复")) == (
        "关于推进产业内循环招商的答复",
    )
    assert balanced_title_lines(Letter(title=title, title_break=5)) == (title[:5], title[5:])


def test_letters_render_side_by_side_in_threads(joint_letter, render):
    """Each thread keeps its own font set-up; letters rendered at once come out whole."""
    from concurrent.futures import ThreadPoolExecutor

    letters = [replace(joint_letter, title=f"关于第15000{n}号提案的答复") for n in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        pdfs = list(pool.map(render_letter_pdf, letters))
    for letter, pdf in zip(letters, pdfs, strict=True):
        rendered = parse(letter, pdf)
        assert rendered.find_line(letter.title)
        assert len(rendered.pages) == len(render(joint_letter).pages)


def test_pdf_streams_are_compressed_at_the_fast_zlib_level():
    """pydyf hard-codes zlib level 9; replies.pdf makes it PDF_ZLIB_LEVEL (bench/letter.py)."""
    import inspect
    import zlib

    import pydyf

    from replies import pdf

    source = inspect.getsource(pydyf)
    assert "zlib.compressobj(" in source, "pydyf changed how it compresses: revisit the shim"
    data = ("关于加快推进老旧小区加装电梯的提案答复" * 400).encode()
    shim = pydyf.zlib.compressobj(level=9)
    expected = zlib.compressobj(pdf.PDF_ZLIB_LEVEL)
    assert shim.compress(data) + shim.flush() == expected.compress(data) + expected.flush()
    assert pydyf.zlib.decompress(pydyf.zlib.compress(data)) == data
