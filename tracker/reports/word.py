"""Word primitives for the committee's documents, in the layout of a Chinese official document
(GB/T 9704-2012): A4, margins 37/35/28/26 mm, the title in 小标宋 二号, the body in 仿宋_GB2312
三号 with 29-point lines (22 lines a page), 一级 headings in 黑体 and 二级 in 楷体, page numbers
"— 1 —" in 宋体 四号 at the outer edge (right on odd pages, left on even ones).

Fonts are named as Word users have them; every style names its East Asian font
(``w:eastAsia``) and drops the theme's, without which Word and LibreOffice set Chinese text in
the theme's font. Elements written by hand keep the schema's order, which Word enforces.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# --- Layout (GB/T 9704-2012) -------------------------------------------------------------------

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
TITLE_SIZE, BODY_SIZE, TABLE_SIZE, PAGE_NUMBER_SIZE = (
    Pt(22),
    Pt(16),
    Pt(12),
    Pt(14),
)  # 二号 三号 小四 四号
LINE = Pt(29)  # 22 lines in the 225 mm type area
PAGE = (Mm(210), Mm(297))
MARGINS = {"top": Mm(37), "bottom": Mm(35), "left": Mm(28), "right": Mm(26)}
TEXT_WIDTH = Mm(210 - 28 - 26)
CHART_WIDTH = Mm(150)
ROW_HEIGHT = Mm(7.5)
LIST_SIZE = Pt(10.5)  # 五号
NUMERALS = "一二三四五六七八九十"
#: Characters XML 1.0 cannot hold (a title pasted from elsewhere may carry one).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --- Word primitives ---------------------------------------------------------------------------


def clean(text: Any) -> str:
    return _NOT_XML.sub("", str(text))


def _set_fonts(rpr: Any, name: str) -> None:
    """Name ``name`` for every script of a run (or style) and drop the theme's fonts, which
    would win over it; East Asian text reads ``w:eastAsia``."""
    fonts = rpr.get_or_add_rFonts()
    for attribute in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attribute}"), None)
    for attribute in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attribute}"), name)


def _style_font(style: Any, name: str, size: Pt, *, bold: bool = False) -> None:
    style.font.size = size
    style.font.bold = bold
    style.font.italic = False
    style.font.color.rgb = RGBColor(0, 0, 0)
    _set_fonts(style.element.get_or_add_rPr(), name)


def _paragraph_format(
    style: Any, *, line: Pt | None = LINE, align: Any = None, indent: Pt | None = None
) -> None:
    fmt = style.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    if line is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = line
    fmt.alignment = align
    fmt.first_line_indent = indent


def styles(doc: Any) -> None:
    """The document's styles: body, title, the two heading levels, table text, captions."""
    catalogue = doc.styles
    normal = catalogue["Normal"]
    _style_font(normal, BODY_FONT, BODY_SIZE)
    _paragraph_format(normal, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=BODY_SIZE * 2)
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), "en-US")
    language.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(language)

    for name, font in (("Heading 1", HEADING_FONT), ("Heading 2", SUBHEADING_FONT)):
        heading = catalogue[name]
        _style_font(heading, font, BODY_SIZE)
        _paragraph_format(heading, indent=BODY_SIZE * 2)
        heading.paragraph_format.keep_with_next = True

    title = catalogue.add_style("Report Title", WD_STYLE_TYPE.PARAGRAPH)
    title.base_style = normal
    _style_font(title, TITLE_FONT, TITLE_SIZE)
    _paragraph_format(title, line=Pt(35), align=WD_ALIGN_PARAGRAPH.CENTER, indent=Pt(0))

    subtitle = catalogue.add_style("Report Subtitle", WD_STYLE_TYPE.PARAGRAPH)
    subtitle.base_style = normal
    _style_font(subtitle, SUBHEADING_FONT, BODY_SIZE)
    _paragraph_format(subtitle, align=WD_ALIGN_PARAGRAPH.CENTER, indent=Pt(0))

    cell = catalogue.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH)
    cell.base_style = normal
    _style_font(cell, BODY_FONT, TABLE_SIZE)
    _paragraph_format(cell, line=None, align=WD_ALIGN_PARAGRAPH.CENTER, indent=Pt(0))

    head = catalogue.add_style("Table Heading", WD_STYLE_TYPE.PARAGRAPH)
    head.base_style = cell
    _style_font(head, HEADING_FONT, TABLE_SIZE)

    caption = catalogue.add_style("Chart Caption", WD_STYLE_TYPE.PARAGRAPH)
    caption.base_style = normal
    _style_font(caption, SUBHEADING_FONT, Pt(14))
    _paragraph_format(caption, align=WD_ALIGN_PARAGRAPH.CENTER, indent=Pt(0))
    caption.paragraph_format.space_after = Pt(6)

    note = catalogue.add_style("Table Note", WD_STYLE_TYPE.PARAGRAPH)
    note.base_style = normal
    _style_font(note, BODY_FONT, TABLE_SIZE)
    _paragraph_format(note, line=None, align=WD_ALIGN_PARAGRAPH.LEFT, indent=Pt(0))
    note.paragraph_format.space_before = Pt(3)
    note.paragraph_format.space_after = Pt(6)


def _page_field(paragraph: Any) -> None:
    """A PAGE field between one-em dashes: "— 1 —"."""

    def run(text: str = "") -> Any:
        r = paragraph.add_run(text)
        r.font.size = PAGE_NUMBER_SIZE
        _set_fonts(r._r.get_or_add_rPr(), PAGE_NUMBER_FONT)
        return r

    run("— ")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1")):
        r = run()
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            r._r.append(char)
        elif text == " PAGE ":
            instruction = OxmlElement("w:instrText")
            instruction.set(qn("xml:space"), "preserve")
            instruction.text = text
            r._r.append(instruction)
        else:
            r.text = text
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run()._r.append(end)
    run(" —")


def page_setup(doc: Any) -> None:
    """A4 portrait, GB/T 9704 margins, page numbers at the outer edge one character in: right
    on odd pages, left on even ones."""
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE
    for side, length in MARGINS.items():
        setattr(section, f"{side}_margin", length)
    section.header_distance = Mm(15)
    section.footer_distance = Mm(25)
    doc.settings.odd_and_even_pages_header_footer = True
    for footer, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0]
        fmt = paragraph.paragraph_format
        fmt.alignment = align
        fmt.first_line_indent = Pt(0)
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            fmt.right_indent = PAGE_NUMBER_SIZE
        else:
            fmt.left_indent = PAGE_NUMBER_SIZE
        _page_field(paragraph)


def _repeat_header(row: Any) -> None:
    trpr = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    trpr.append(flag)


def table(
    doc: Any,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths_mm: Sequence[float],
    *,
    left_columns: frozenset[int] = frozenset(),
    footer: Sequence[Any] | None = None,
    size: Pt | None = None,
) -> Any:
    """A bordered table: a repeated heading row in 黑体, cells centred except ``left_columns``
    (long text), an optional 合计 row in 黑体; widths in millimetres; ``size`` overrides the
    table style's 小四 (the long lists use 五号)."""
    grid = doc.add_table(rows=1, cols=len(headers))
    grid.style = doc.styles["Table Grid"]
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False

    def fill(row: Any, values: Sequence[Any], style: str) -> None:
        # A row stays on one page; w:cantSplit precedes w:trHeight in the schema's order.
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        row.height = ROW_HEIGHT
        row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
        for i, (cell, value) in enumerate(zip(row.cells, values, strict=True)):
            cell.width = Mm(widths_mm[i])
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            paragraph = cell.paragraphs[0]
            paragraph.style = doc.styles[style]
            if i in left_columns and style == "Table Text":
                paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
            run = paragraph.add_run(clean(value))
            if size is not None:
                run.font.size = size

    fill(grid.rows[0], headers, "Table Heading")
    _repeat_header(grid.rows[0])
    for values in rows:
        fill(grid.add_row(), values, "Table Text")
    if footer is not None:
        fill(grid.add_row(), footer, "Table Heading")
    for column, width in zip(grid.columns, widths_mm, strict=True):
        column.width = Mm(width)
    return grid


def picture(doc: Any, png: bytes, caption: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.first_line_indent = Pt(0)
    paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    paragraph.paragraph_format.keep_with_next = True
    paragraph.add_run().add_picture(io.BytesIO(png), width=CHART_WIDTH)
    doc.add_paragraph(clean(caption), style="Chart Caption")


def note(doc: Any, text: str) -> None:
    doc.add_paragraph(clean(text), style="Table Note")


def new_document() -> Any:
    """An empty document with the official page and styles."""
    doc = Document()
    styles(doc)
    page_setup(doc)
    return doc
