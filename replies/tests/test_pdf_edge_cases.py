"""Letters nobody here had printed before issue 20: joint letters, long organ names, long titles,
pasted tables and names outside GB2312 — checked on the PDF, and on the fonts themselves.

Every character must be visible: the faces are checked with fontTools (a glyph with an outline,
not a text layer that reads right over a blank glyph), and the printed pages are rasterised
(pypdfium2) to see ink inside each rare character's box.
"""

from __future__ import annotations

import datetime
import itertools
import re
from dataclasses import replace
from functools import cache

import pypdfium2
import pytest

from replies.letter import Block, Contact, Letter, LetterFormat, parse_body, table_cells
from replies.pdf import ASSETS_DIR, print_warnings, render_letter_pdf
from replies.pdf_fonts import (
    FACE_STACKS,
    face_for_family,
    glyph_warnings,
    has_outline,
    printing_face,
)
from replies.pdf_layout import (
    TITLE_CHARS,
    TITLE_SIZE,
    _organ_layout,
    balanced_title_lines,
    em_width,
    layout_warnings,
)
from replies.tests.test_pdf import (
    CHAR,
    LINE,
    TYPE_WIDTH,
    Rendered,
    is_red,
    parse,
    squeeze,
    type_area,
)

TEN_ORGANS = (
    "上海市普陀区发展和改革委员会",
    "上海市普陀区财政局",
    "上海市普陀区商务委员会",
    "上海市普陀区科学技术委员会",
    "上海市普陀区规划和自然资源局",
    "上海市普陀区住房保障和房屋管理局",
    "上海市普陀区人力资源和社会保障局",
    "上海市普陀区生态环境局",
    "上海市普陀区市场监督管理局",
    "上海市普陀区投资促进办公室",
)
LONG_ORGAN = "中国人民政治协商会议上海市普陀区委员会提案委员会办公室"  # 27 characters
RARE_NAMES = "施彧、龚䶮、吉𠮷、王堃、李喆"


@cache
def rendered(letter: Letter) -> Rendered:
    return parse(letter, render_letter_pdf(letter))


def base_letter(**changes) -> Letter:
    letter = Letter(
        organs=("上海市普陀区发展和改革委员会",),
        doc_number="普发改委〔2024〕7号",
        title="对区政协十五届三次会议第150007号提案的答复",
        salutation="张文浩委员：",
        body=(Block("您提出的提案收悉，现答复如下："), Block("非常感谢您的提案。")),
        signature_organ="上海市普陀区发展和改革委员会",
        date=datetime.date(2024, 6, 3),
    )
    return replace(letter, **changes)


# --- Joint letters ------------------------------------------------------------------------------


def test_signing_organs_fall_back_to_the_single_organ():
    assert base_letter().signing_organs == ("上海市普陀区发展和改革委员会",)
    assert base_letter(signature_organs=TEN_ORGANS[:2]).signing_organs == TEN_ORGANS[:2]
    assert base_letter(signature_organ="").signing_organs == ()


@pytest.mark.parametrize("format", list(LetterFormat))
def test_ten_signing_organs_print_one_per_line_inside_the_type_area(format):
    letter = base_letter(organs=TEN_ORGANS[:3], signature_organs=TEN_ORGANS, format=format)
    result = rendered(letter)
    signature = [line for line in result.lines if not is_red(line.chars[0]["non_stroking_color"])]
    lines = [next(x for x in signature if squeeze(x.text) == organ) for organ in TEN_ORGANS]
    pages = {line.page for line in lines}
    assert len(pages) == 1, "the 落款 block is not split across pages"
    baselines = [line.baseline for line in lines]
    assert all(b - a == pytest.approx(LINE, abs=0.1) for a, b in itertools.pairwise(baselines))
    left, right = type_area(lines[0].page)
    assert len({round(line.x0) for line in lines}) == 1, "names start at one column"
    widest = max(line.end for line in lines)
    assert widest == pytest.approx(right - 2 * CHAR, abs=1)
    assert all(left < line.x0 and line.end <= right + 0.5 for line in lines)
    date = result.find_line("2024年6月3日")
    assert date.baseline - baselines[-1] == pytest.approx(LINE, abs=0.1)


def test_a_signing_organ_longer_than_the_line_wraps_inside_it():
    result = rendered(
        base_letter(signature_organs=(LONG_ORGAN + "联合工作组", "上海市普陀区财政局"))
    )
    left, right = type_area(1)
    text = "".join(squeeze(line.text) for line in result.type_lines)
    assert LONG_ORGAN + "联合工作组" in text
    for line in result.type_lines:
        assert line.end <= right + 0.5 and line.x0 >= left - 0.5, line.text


# --- Organ names in the header ------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["文件", ""])
def test_a_long_organ_wraps_instead_of_shrinking_below_the_title(suffix):
    size, lines = _organ_layout((LONG_ORGAN,), suffix=suffix)
    assert size >= TITLE_SIZE
    assert len(lines) == 2
    assert "".join(line.name for line in lines) == LONG_ORGAN
    assert max(em_width(line.name) for line in lines) * size <= TYPE_WIDTH
    short_size, short = _organ_layout(("上海市普陀区发展和改革委员会",), suffix=suffix)
    assert len(short) == 1 and short_size >= 27


@pytest.mark.parametrize("format", list(LetterFormat))
def test_a_long_organ_prints_red_at_22pt_or_more_in_both_formats(format):
    result = rendered(base_letter(organs=(LONG_ORGAN,), format=format))
    first = result.pages[0]
    red = [c for line in first.lines for c in line.chars if is_red(c["non_stroking_color"])]
    names = "".join(c["text"] for c in red)
    for char in LONG_ORGAN:
        assert char in names
    assert min(c["size"] for c in red) >= TITLE_SIZE - 0.1
    left, right = type_area(1)
    assert all(left - 1 <= c["x0"] and c["x1"] <= right + 1 for c in red)
    rules = [r for r in first.rects if is_red(r["non_stroking_color"])]
    assert rules, "the red rule prints under the organ"


@pytest.mark.parametrize("format", list(LetterFormat))
def test_organs_print_red_with_their_rule_in_both_formats(format):
    """Item 3's printing side: a Letter with ``organs`` set prints them red over a red rule."""
    result = rendered(base_letter(format=format))
    organ = next(
        line for line in result.pages[0].lines if squeeze(line.text).startswith("上海市普陀区")
    )
    assert all(is_red(c["non_stroking_color"]) for c in organ.chars)
    rules = [r for r in result.pages[0].rects if is_red(r["non_stroking_color"])]
    assert rules and min(r["top"] for r in rules) > organ.baseline


# --- Titles -------------------------------------------------------------------------------------

LONG_TITLES = {
    "关于对区政协十五届三次会议第150001号关于加快推进营商环境优化提案的答复函": 2,
    "上海市普陀区发展和改革委员会关于对区政协十五届二次会议第152045号提案的答复": 2,
    "关于对区政协十五届二次会议第152045号提案“关于持续优化营商环境推动民营经济高质量发展"
    "的建议”的答复": 3,
}


@pytest.mark.parametrize("title", sorted(LONG_TITLES))
def test_long_titles_break_into_balanced_lines_at_word_boundaries(title):
    lines = balanced_title_lines(Letter(title=title))
    assert "".join(lines) == title
    assert len(lines) == LONG_TITLES[title]
    widths = [em_width(line) for line in lines]
    assert max(widths) <= TITLE_CHARS
    assert max(widths) - min(widths) <= 6
    if len(lines) == 3:
        assert not widths[1] < min(widths[0], widths[2]), "no hourglass: 梯形 or 菱形"
    for first, second in itertools.pairwise(lines):
        for word in ("提案", "营商环境", "答复", "会议", "号"):
            joined = first[-3:] + second[:3]
            if word in joined:
                assert word in first[-3:] or word in second[:3], (first, second, word)


def test_a_60_character_title_prints_in_three_centred_lines():
    title = sorted(LONG_TITLES, key=len)[-1]
    result = rendered(base_letter(title=title))
    left, right = type_area(1)
    for text in balanced_title_lines(result.letter):
        line = result.find_line(text)
        assert all(c["size"] == pytest.approx(22, abs=0.3) for c in line.chars)
        assert (line.x0 + line.x1) / 2 == pytest.approx((left + right) / 2, abs=1.5)


def test_a_title_beyond_three_lines_is_filled_and_warned_about():
    title = "关于" + "推进产业内循环招商和优化营商环境" * 5 + "的答复"
    lines = balanced_title_lines(Letter(title=title))
    assert "".join(lines) == title and len(lines) > 3
    assert all(em_width(line) <= TITLE_CHARS for line in lines)
    assert any("标题超过三行" in w for w in layout_warnings(Letter(title=title)))


# --- Pasted tables -----------------------------------------------------------------------------

TABLE = """现将重点项目进展列表如下：
序号\t项目名称\t投资额（亿元）\t进度
1\t天地软件园二期\t12.5\t已开工
2\t桃浦智创城核心区\t30\t前期
以上项目将按计划推进。"""


def test_table_rows_keep_their_cells_apart():
    assert table_cells("1\t天地软件园二期\t12.5\t已开工") == (
        "1",
        "天地软件园二期",
        "12.5",
        "已开工",
    )
    assert table_cells("| 1 | 天地软件园二期 | 12.5 |") == ("1", "天地软件园二期", "12.5")
    assert table_cells("|---|:---:|---|") == ()
    assert table_cells("1  天地软件园二期  12.5  已开工") == (
        "1",
        "天地软件园二期",
        "12.5",
        "已开工",
    )
    assert table_cells("达到 55.26%，同比增长。") is None
    body = parse_body(TABLE)
    assert len(body) == 5 and "\t" in body[2].text


def test_a_pasted_table_prints_as_aligned_columns_with_a_warning():
    letter = base_letter(body=parse_body(TABLE))
    assert any("表格" in warning for warning in layout_warnings(letter))
    assert not layout_warnings(base_letter())
    result = rendered(letter)
    rows = [
        result.find_line(text) for text in ("1天地软件园二期12.5已开工", "2桃浦智创城核心区30前期")
    ]
    second_column = [next(c for c in row.chars if c["text"] in "天桃")["x0"] for row in rows]
    assert second_column[0] == pytest.approx(second_column[1], abs=0.5)
    third = [
        next(c for c in row.chars if c["text"] in "13" and c["x0"] > 200)["x0"] for row in rows
    ]
    assert third[0] == pytest.approx(third[1], abs=0.5)
    gap = third[0] - next(c for c in rows[1].chars if c["text"] == "区")["x1"]
    assert gap >= CHAR * 0.9, "the columns are not glued"


# --- Every character visible --------------------------------------------------------------------

EXT_A = [chr(code) for code in range(0x3400, 0x4DB6)]  # GB 18030's CJK Ext-A
GBK_BEYOND_GB2312 = "彧堃喆犇昇玥琇瑢珺玮頔昳晧祎翀赟淏焘炜媖婧嫣"
EXT_B_NAMES = "𠮷𡒄𨭉𠀾"


@pytest.mark.parametrize("stack", sorted(FACE_STACKS))
def test_every_ext_a_and_gbk_character_prints_with_a_real_outline(stack):
    """The face Fontconfig picks (the first that maps the character) draws it: no UKai-style
    blank glyphs anywhere in GB 18030's Ext-A, GBK names or common Ext-B names."""
    blank = [
        char
        for char in (*EXT_A, *GBK_BEYOND_GB2312, *EXT_B_NAMES)
        if not (face := printing_face(char, stack)) or not has_outline(face, char)
    ]
    assert blank == []


def test_kai_and_fang_fall_back_to_a_kai_face_covering_gbk():
    for stack in ("fang", "kai"):
        for char in "彧䶮𠮷":
            face = printing_face(char, stack)
            assert face is not None and face.family == "LXGW WenKai", (stack, char)


def test_blank_glyphs_are_detected_from_the_outline():
    ukai = face_for_family("AR PL UKai CN")
    if ukai is None:
        pytest.fail("fonts-arphic-ukai is in scripts/bootstrap and must be installed")
    assert not has_outline(ukai, "䶮")  # mapped, but an empty glyph
    assert has_outline(ukai, "彧")


def test_glyph_warnings_name_the_fallback_face_inside_names():
    letter = base_letter(
        salutation=f"{RARE_NAMES}委员：",
        signer="李䶮",
        contact=Contact(person="王𠮷"),
    )
    warnings = glyph_warnings(letter)
    joined = "\n".join(warnings)
    assert "LXGW WenKai" in joined
    assert "彧" in joined and "䶮" in joined and "𠮷" in joined
    assert any(w.startswith("签发人") for w in warnings)
    assert not any("空白" in w for w in warnings)
    assert glyph_warnings(base_letter()) == []


def _ink(pages: dict, number: int, box: tuple[float, float, float, float]) -> float:
    """The share of dark pixels inside ``box`` (x0, top, x1, bottom in pt) of a page."""
    x0, top, x1, bottom = (round(v * _SCALE) for v in box)
    histogram = pages[number].crop((x0, top, x1, bottom)).histogram()
    return sum(histogram[:128]) / max(sum(histogram), 1)


_SCALE = 4


def test_rare_names_print_ink_in_every_place():
    """䶮 in 楷 places (签发人, （一） headings) printed blank with AR PL UKai; now each rare
    character of a name has ink in its box on the page, in every face."""
    letter = base_letter(
        signer="李䶮𠮷",
        salutation=f"{RARE_NAMES}委员：",
        body=(
            Block(f"{RARE_NAMES}委员提出的提案收悉。"),
            Block("（一）龚䶮、吉𠮷负责的项目", level=2),
            Block("一、龚䶮𠮷标题", level=1),
            Block("1.龚䶮𠮷标题。正文", level=3),
        ),
        contact=Contact(person="王䶮𠮷"),
    )
    pdf = render_letter_pdf(letter)
    result = parse(letter, pdf)
    document = pypdfium2.PdfDocument(pdf)
    pages = {
        n: document[n - 1].render(scale=_SCALE, grayscale=True).to_pil()
        for n in range(1, len(document) + 1)
    }
    rare = [(line, c) for line in result.lines for c in line.chars if c["text"] in "䶮𠮷彧堃"]
    assert len(rare) >= 14
    for line, char in rare:
        box = (char["x0"] + 1, char["top"] + 1, char["x1"] - 1, char["bottom"] - 1)
        assert _ink(pages, line.page, box) > 0.04, (char["text"], char["fontname"])
    blank = [(line, c) for line in result.lines for c in line.chars if c["text"] == "　"]
    for line, char in blank[:1]:
        box = (char["x0"] + 1, char["top"] + 1, char["x1"] - 1, char["bottom"] - 1)
        assert _ink(pages, line.page, box) < 0.01  # the measure sees blank as blank
    signer = next(line for line in result.lines if "签发人" in line.text)
    kai = [c for c in signer.chars if c["text"] in "䶮𠮷"]
    assert kai and all("WenKai" in c["fontname"] for c in kai)


def test_the_stylesheet_uses_the_stacks_the_warnings_know():
    css = (ASSETS_DIR / "letter.css").read_text()
    stacks = {
        tuple(name.strip().strip('"') for name in found.split(","))
        for found in re.findall(r"font-family:\s*([^;]+);", css)
    }
    stacks.discard(("Noto Serif CJK SC",))  # the page numbers' half-width digits
    assert stacks == set(FACE_STACKS.values())
    assert "UKai" not in css


def test_print_warnings_gather_layout_and_glyph_warnings():
    letter = base_letter(body=parse_body(TABLE), salutation="施彧委员：")
    warnings = print_warnings(letter)
    assert any("表格" in w for w in warnings) and any("彧" in w for w in warnings)
    assert print_warnings(base_letter()) == []
