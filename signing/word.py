"""The letter as an editable Word document (.docx), in the GB/T 9704-2012 layout.

The same ``Letter`` the PDF prints, laid out with Word's own means: A4, the margins of the type
area (mirrored on even pages), a 22-line × 28-character document grid, 仿宋_GB2312 16 pt text,
方正小标宋简体 22 pt title, the red organ and rule, the 文号, page numbers ``— n —`` on the
outer side, the 版记 at the end. The fonts are the ones Chinese office PCs have; the font table
names 仿宋 / FangSong and 宋体 as their alternatives. A draft carries a 草稿 watermark, a copy of
a signed letter says it is a copy (the signed PDF is the original).
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_SECTION_START
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Emu, Mm, Pt, RGBColor
from lxml import etree

from replies.letter import Letter, LetterFormat
from replies.pdf_layout import ORGAN_FILL, ORGAN_MAX_SIZE, balanced_title_lines, em_width
from signing.word_xml import (
    PPR_ORDER,
    RPR_ORDER,
    SETTINGS_AFTER_MIRROR,
    WATERMARK,
    put,
)

FANGSONG, XIAOBIAOSONG, HEITI, KAITI, SONGTI = (
    "仿宋_GB2312",
    "方正小标宋简体",
    "黑体",
    "楷体_GB2312",
    "宋体",
)
#: Word takes the first font it has; these are what an office PC without the GB2312 fonts has.
ALTERNATIVES = {FANGSONG: "仿宋", XIAOBIAOSONG: SONGTI, KAITI: "楷体"}
RED = RGBColor(0xFF, 0x33, 0x33)  # print red CMYK 0/80/80/0, as the PDF's sRGB
BODY = Pt(16)
IMPRINT = Pt(14)
CHAR = Emu(Mm(156) // 28)  # the grid's character pitch
LINE = Pt(28.95)  # the grid's line pitch (22 lines on 225 mm)
MARGINS = {"top": Mm(37), "bottom": Mm(35), "left": Mm(28), "right": Mm(26)}


def letter_docx(letter: Letter, *, copy: bool = False) -> bytes:
    """The .docx of ``letter``; ``copy`` marks a signed letter's copy as 副本."""
    document = Document()
    _page_setup(document)
    _styles(document)
    _font_table(document)
    _watermark_or_mark(document, letter, copy=copy)
    _page_numbers(document, first=letter.format == LetterFormat.DOCUMENT)
    body = document.add_paragraph  # the first paragraph replaces python-docx's empty one
    _head(document, letter)
    for index, line in enumerate(balanced_title_lines(letter)):
        p = _para(document, line, font=XIAOBIAOSONG, size=Pt(22), align="center")
        p.paragraph_format.space_before = LINE * 2 if index == 0 else 0
    if letter.salutation:
        _para(document, letter.salutation).paragraph_format.space_before = LINE
    for block in letter.body:
        _block(document, block.text, block.level)
    _signature(document, letter)
    _contact(document, letter)
    _imprint(document, letter)
    del body
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- the page ---------------------------------------------------------------------------------


def _page_setup(document) -> None:
    section = document.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = MARGINS["top"], MARGINS["bottom"]
    section.left_margin, section.right_margin = MARGINS["left"], MARGINS["right"]
    section.header_distance = Mm(15)
    # The page number's top 7 mm below the type area: its 14 pt line ends about 23 mm up.
    section.footer_distance = Mm(35 - 7) - IMPRINT
    sect = section._sectPr
    grid = sect.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sect.append(grid)
    for attr in list(grid.attrib):
        del grid.attrib[attr]
    # 22 lines on the grid; the 28 characters a line come from the text's spacing (−0.21 pt on
    # 16 pt glyphs): a character grid (linesAndChars) makes LibreOffice give each CJK glyph
    # two cells, which halves the line.
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(round(LINE.pt * 20)))
    settings = document.settings.element
    put(settings, OxmlElement("w:mirrorMargins"), ["w:mirrorMargins", *SETTINGS_AFTER_MIRROR])
    document.settings.odd_and_even_pages_header_footer = True


def _fonts(run_or_style, font: str) -> None:
    r_pr = run_or_style.element.get_or_add_rPr()
    fonts = r_pr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        r_pr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), font)


def _styles(document) -> None:
    # The grid's character pitch is counted from the document default's size: 16 pt.
    defaults = document.styles.element.find(qn("w:docDefaults"))
    r_pr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    for tag in ("w:sz", "w:szCs"):
        size = OxmlElement(tag)
        size.set(qn("w:val"), str(round(BODY.pt * 2)))
        put(r_pr, size, RPR_ORDER)
    normal = document.styles["Normal"]
    _fonts(normal, FANGSONG)
    normal.font.size = BODY
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(round((CHAR.pt - BODY.pt) * 20)))  # twentieths of a point
    put(normal.element.get_or_add_rPr(), spacing, RPR_ORDER)
    normal.font.color.rgb = RGBColor(0, 0, 0)
    fmt = normal.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = LINE
    fmt.space_before = fmt.space_after = 0
    fmt.widow_control = False
    p_pr = normal.element.get_or_add_pPr()
    # No punctuation hanging past the type area's edge (as in the PDF); on the grid.
    for tag, value in (("w:overflowPunct", "0"), ("w:snapToGrid", "1")):
        element = OxmlElement(tag)
        element.set(qn("w:val"), value)
        put(p_pr, element, PPR_ORDER)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:eastAsia"), "zh-CN")
    put(normal.element.get_or_add_rPr(), lang, RPR_ORDER)


def _font_table(document) -> None:
    """Alternatives for the office fonts (w:altName), for a PC without the GB2312 ones."""
    part = document.part
    font_part = next(
        (rel.target_part for rel in part.rels.values() if rel.reltype.endswith("/fontTable")),
        None,
    )
    if font_part is None:
        return
    root = parse_xml(font_part.blob)
    for name, alternative in ALTERNATIVES.items():
        root.append(
            parse_xml(
                f'<w:font {nsdecls("w")} w:name="{name}"><w:altName w:val="{alternative}"/>'
                '<w:charset w:val="86"/><w:family w:val="modern"/><w:pitch w:val="fixed"/>'
                "</w:font>"
            )
        )
    font_part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


# --- headers and footers ----------------------------------------------------------------------


def _watermark_or_mark(document, letter: Letter, *, copy: bool) -> None:
    section = document.sections[0]
    for header in (section.header, section.even_page_header):
        p = header.paragraphs[0]
        if letter.draft:
            p.add_run()._r.append(parse_xml(WATERMARK))
        elif copy:
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            run = p.add_run("副本（以签发件PDF为准）")
            run.font.size = Pt(10.5)
            _fonts(run, SONGTI)


def _page_number_paragraph(footer, *, outer: str) -> None:
    p = footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if outer == "right" else WD_ALIGN_PARAGRAPH.LEFT
    fmt = p.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    fmt.right_indent = CHAR if outer == "right" else 0
    fmt.left_indent = CHAR if outer == "left" else 0
    for text, field in (("— ", None), (None, "PAGE"), (" —", None)):
        run = p.add_run(text or "")
        run.font.size = IMPRINT
        _fonts(run, SONGTI)
        if field:
            for kind, value in (("begin", None), ("instr", field), ("end", None)):
                if kind == "instr":
                    instr = OxmlElement("w:instrText")
                    instr.set(qn("xml:space"), "preserve")
                    instr.text = f" {value} "
                    run._r.append(instr)
                else:
                    char = OxmlElement("w:fldChar")
                    char.set(qn("w:fldCharType"), kind)
                    run._r.append(char)


def _page_numbers(document, *, first: bool) -> None:
    section = document.sections[0]
    _page_number_paragraph(section.footer, outer="right")
    _page_number_paragraph(section.even_page_footer, outer="left")
    if not first:  # 信函格式: no number on page 1
        section.different_first_page_header_footer = True


# --- the text ---------------------------------------------------------------------------------


def _para(
    document,
    text: str,
    *,
    font: str = FANGSONG,
    size: Pt | None = None,
    align: str = "left",
    colour: RGBColor | None = None,
    bold: bool = False,
):
    p = document.add_paragraph()
    p.alignment = {
        "left": WD_ALIGN_PARAGRAPH.LEFT,
        "center": WD_ALIGN_PARAGRAPH.CENTER,
        "right": WD_ALIGN_PARAGRAPH.RIGHT,
        "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    }[align]
    if text:
        run = p.add_run(text)
        _fonts(run, font)
        if size is not None:
            run.font.size = size
            if size.pt > LINE.pt * 0.8:  # a big line gets the room it needs
                p.paragraph_format.line_spacing = Pt(size.pt * 1.3)
        if colour is not None:
            run.font.color.rgb = colour
        run.bold = bold or None
    return p


def _empty_line(document) -> None:
    document.add_paragraph()


def _head(document, letter: Letter) -> None:
    first = document.paragraphs[0] if document.paragraphs else None
    if first is not None and not first.text:
        first._p.getparent().remove(first._p)
    fields = [
        f"{label}：{value}"
        for label, value in (("办理结果", letter.result_label), ("公开属性", letter.disclosure))
        if value
    ]
    for text in fields:
        _para(document, text)
    organs = tuple(o for o in letter.organs if o)
    is_document = letter.format == LetterFormat.DOCUMENT
    if organs:
        suffix = "文件" if is_document else ""
        widest = max(em_width(o) for o in organs) + em_width(suffix)
        size = Pt(min(ORGAN_MAX_SIZE, ORGAN_FILL / widest))
        for index, organ in enumerate(organs):
            text = organ + (suffix if index == len(organs) - 1 else "")
            p = _para(document, text, font=XIAOBIAOSONG, size=size, align="center", colour=RED)
            if index == 0:
                # The organ's top 35 mm below the type area's top (信函: 30 mm from the edge).
                room = Mm(35) if is_document else Mm(30) - MARGINS["top"]
                p.paragraph_format.space_before = max(0, room - LINE * len(fields))
    if organs or letter.doc_number or letter.signer:
        number = letter.doc_number
        if letter.signer:
            number = f"{number}\t签发人：{letter.signer}"
        p = _para(document, number, align="left" if letter.signer else "center")
        p.paragraph_format.space_before = LINE * 2 if organs else 0
        if letter.signer:
            p.paragraph_format.left_indent = CHAR
            p.paragraph_format.tab_stops.add_tab_stop(Mm(156) - CHAR, WD_TAB_ALIGNMENT.RIGHT)
        if organs:
            _border(p, "bottom", size_eighths=17, space_pt=11, colour="FF3333")


def _border(paragraph, side: str, *, size_eighths: int, space_pt: int, colour: str) -> None:
    p_pr = paragraph._p.get_or_add_pPr()
    borders = p_pr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        put(p_pr, borders, PPR_ORDER)
    edge = OxmlElement(f"w:{side}")
    for key, value in (
        ("w:val", "single"),
        ("w:sz", str(size_eighths)),
        ("w:space", str(space_pt)),
        ("w:color", colour),
    ):
        edge.set(qn(key), value)
    borders.append(edge)


_HEADING_FONTS = {1: HEITI, 2: KAITI}


def _block(document, text: str, level: int) -> None:
    p = _para(document, text, font=_HEADING_FONTS.get(level, FANGSONG), bold=level == 3)
    no_hanging = OxmlElement("w:overflowPunct")
    no_hanging.set(qn("w:val"), "0")
    put(p._p.get_or_add_pPr(), no_hanging, PPR_ORDER)
    p.paragraph_format.first_line_indent = CHAR * 2
    p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY


def _signature(document, letter: Letter) -> None:
    organs = getattr(letter, "signing_organs", None)
    if organs is None:
        organs = (letter.signature_organ,) if letter.signature_organ else ()
    if not organs and not letter.date_text:
        return
    _empty_line(document)
    width = Mm(156)
    widest = max((len(o) for o in organs), default=0)
    start = width - CHAR * (widest + 2)
    for organ in organs:
        p = _para(document, organ)
        p.paragraph_format.left_indent = max(0, start + CHAR * (widest - len(organ)))
    if letter.date_text:
        p = _para(document, letter.date_text)
        p.paragraph_format.left_indent = max(0, start + CHAR * 2)
    if letter.note:
        note = letter.note if letter.note.startswith("（") else f"（{letter.note}）"
        _para(document, note).paragraph_format.first_line_indent = CHAR * 2


def _contact(document, letter: Letter) -> None:
    contact = letter.contact
    rows = [
        ("联系人姓名", contact.person),
        ("联系电话", contact.phone),
        ("联系地址", contact.address),
        ("邮政编码", contact.postcode),
    ]
    rows = [(label, value) for label, value in rows if value]
    if rows:
        _empty_line(document)
    for label, value in rows:
        _para(document, f"{label}：{value}").paragraph_format.first_line_indent = CHAR * 2


def _imprint(document, letter: Letter) -> None:
    """The 版记 after the text: 抄送, then 印发机关 and 印发日期, between rules."""
    printed = letter.format == LetterFormat.DOCUMENT and (letter.printed_by or letter.printed_on)
    rows = []
    if letter.cc:
        rows.append(("cc", f"抄送：{'，'.join(letter.cc)}。"))
    if printed:
        rows.append(("printed", f"{letter.printed_by}\t{letter.printed_on_text}印发"))
    if not rows:
        return
    _empty_line(document)
    for index, (kind, text) in enumerate(rows):
        p = _para(document, text, size=IMPRINT)
        fmt = p.paragraph_format
        fmt.left_indent = fmt.right_indent = Pt(IMPRINT.pt)
        fmt.keep_with_next = index < len(rows) - 1
        if kind == "printed":
            fmt.tab_stops.add_tab_stop(Mm(156) - Pt(IMPRINT.pt * 2), WD_TAB_ALIGNMENT.RIGHT)
        _border(p, "top", size_eighths=8 if index == 0 else 6, space_pt=4, colour="000000")
        if index == len(rows) - 1:
            _border(p, "bottom", size_eighths=8, space_pt=4, colour="000000")
