"""The reply letter as a value: everything that is printed, and nothing else.

A ``Letter`` is built from a signed reply (by the reply workflow), from a draft (the preview),
or from the text of a published letter (``replies.legacy.read_letter``). The PDF renderer is a
pure function of it, so layout work never waits on the workflow and tests need no database.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from enum import StrEnum


class LetterKind(StrEnum):
    REPLY = "reply"  # 答复
    REPLY_LETTER = "reply_letter"  # 答复函
    CO_OPINION = "co_opinion"  # 会办意见
    FOLLOW_UP = "follow_up"  # 再次答复（跟踪办理情况）

    @property
    def label(self) -> str:
        return {
            "reply": "答复",
            "reply_letter": "答复函",
            "co_opinion": "会办意见",
            "follow_up": "再次答复",
        }[self.value]


class LetterFormat(StrEnum):
    DOCUMENT = "document"  # 文件格式: "…文件" red header, page numbers, 版记
    LETTER = "letter"  # 信函格式: organ name and red double rules, no page number on page 1


@dataclass(frozen=True)
class Block:
    """One block of the body: a paragraph (level 0) or a heading of level 1–4.

    Levels follow the numbering of Chinese official documents: 1 ``一、`` (黑体),
    2 ``（一）`` (楷体), 3 ``1.`` (仿宋 bold), 4 ``（1）`` (仿宋).
    """

    text: str
    level: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.level <= 4:
            raise ValueError(f"heading level must be 0–4, not {self.level}")

    @property
    def is_heading(self) -> bool:
        return self.level > 0


@dataclass(frozen=True)
class Contact:
    """The contact block printed under the signature (联系人, 联系电话, 联系地址, 邮政编码)."""

    person: str = ""
    phone: str = ""
    address: str = ""
    postcode: str = ""

    def __bool__(self) -> bool:
        return any((self.person, self.phone, self.address, self.postcode))


@dataclass(frozen=True)
class Letter:
    kind: LetterKind = LetterKind.REPLY
    format: LetterFormat = LetterFormat.DOCUMENT
    # Top-left header lines, where 份号/密级 stand in other documents.
    result_label: str = ""  # 办理结果, e.g. 采纳解决
    disclosure: str = ""  # 公开属性, e.g. 主动公开 · 全文
    # The issuing organ(s) 发文机关标志: one, or several for a joint letter 联合行文.
    organs: tuple[str, ...] = ()
    doc_number: str = ""  # 文号, e.g. 普发改委〔2023〕14号
    signer: str = ""  # 签发人 (optional)
    title: str = ""
    #: Where the title breaks into its second line (an index into ``title``), or None to let
    #: the renderer break it.
    title_break: int | None = None
    salutation: str = ""  # e.g. 张文浩委员：
    body: tuple[Block, ...] = ()
    signature_organ: str = ""  # 落款
    #: The signing organs of a joint letter 联合行文, the lead organ first, printed one per line;
    #: empty for a letter signed by ``signature_organ`` alone (see ``signing_organs``).
    signature_organs: tuple[str, ...] = ()
    date: datetime.date | None = None  # 成文日期
    note: str = ""  # 附注, e.g. 此件公开发布 (printed in full-width parentheses)
    contact: Contact = field(default_factory=Contact)
    cc: tuple[str, ...] = ()  # 抄送
    printed_by: str = ""  # 印发机关
    printed_on: datetime.date | None = None  # 印发日期
    draft: bool = False  # prints a 草稿 watermark (preview of an unsigned reply)
    #: Printed on both sides of the sheet: the 版记 then lands on an even page (the back of a
    #: leaf), after a blank page when it must (GB/T 9704 §7.4).
    double_sided: bool = False
    #: Rendered to be sealed (GB/T 9704 §7.3.5.1–2): a joint letter's signing organs then stand
    #: side by side in rows (``sealed_rows``), one seal over each, instead of one a line as a
    #: letter without seals prints them (§7.3.5.3). Set by ``signing.stamping``.
    sealed: bool = False

    # --- fields read from published copies (reader) ---
    index_number: str = ""  # 索引号 of the 政务公开 page the letter was published on
    publisher: str = ""  # 公开主体 / 发布机构 of that page
    #: Where ``organs`` came from when the text printed no 发文机关标志 (落款, 公开主体, 文号);
    #: "" when the header was printed.
    organ_source: str = field(default="", compare=False)
    #: Field labels as the source printed them, e.g. (("address", "通讯地址"),).
    labels: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    #: The page's metadata block as printed: (label, value) pairs, in order.
    page_metadata: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def title_lines(self) -> tuple[str, ...]:
        if self.title_break is None or not 0 < self.title_break < len(self.title):
            return (self.title,)
        return (self.title[: self.title_break], self.title[self.title_break :])

    @property
    def signing_organs(self) -> tuple[str, ...]:
        """The organs in the 落款, one a line: ``signature_organs``, else ``signature_organ``."""
        organs = tuple(name for name in self.signature_organs if name)
        if organs:
            return organs
        return (self.signature_organ,) if self.signature_organ else ()

    @property
    def sealed_rows(self) -> tuple[SealRow, ...]:
        """The 落款 of a sealed joint letter: rows of at most ``SEALS_PER_ROW`` organs, the
        lead organ first, the longer rows first (4 → 2 + 2, 5 → 3 + 2), each organ as the lines
        it prints in its column (``seal_name_lines``); ``()`` for a letter that is not sealed or
        has one organ."""
        organs = self.signing_organs
        if not self.sealed or len(organs) < 2:
            return ()
        count = -(-len(organs) // SEALS_PER_ROW)
        size, longer = divmod(len(organs), count)
        width = SEAL_COLUMN_CHARS[size + (longer > 0)]
        rows, start = [], 0
        for index in range(count):
            end = start + size + (index < longer)
            rows.append(SealRow(tuple(seal_name_lines(name, width) for name in organs[start:end])))
            start = end
        return tuple(rows)

    @property
    def contact_labels(self) -> dict[str, str]:
        """The contact block's labels: as the source printed them (``labels``, e.g. 通讯地址),
        else the ones the seeds print."""
        printed = dict(self.labels)
        return {key: printed.get(key, default) for key, default in CONTACT_LABELS.items()}

    @property
    def date_text(self) -> str:
        return chinese_date(self.date) if self.date else ""

    @property
    def printed_on_text(self) -> str:
        return chinese_date(self.printed_on) if self.printed_on else ""

    @property
    def pdf_title(self) -> str:
        return self.title or self.kind.label


@dataclass(frozen=True)
class SealRow:
    """A row of a sealed joint 落款: each organ's name as the lines it prints in its column."""

    names: tuple[tuple[str, ...], ...]

    @property
    def lines(self) -> int:
        """How many lines the row takes (the rows' spacing depends on it, letter.css)."""
        return max(len(lines) for lines in self.names)


#: Seals of 42 mm, 2 mm apart, in the 156 mm type area: three to a row.
SEALS_PER_ROW = 3
#: The characters a column of a sealed joint 落款 holds, by the columns of its rows (letter.css).
SEAL_COLUMN_CHARS = {2: 14, 3: 8}
_NAME_BREAKS = "省市区县"


def seal_name_lines(name: str, width: int) -> tuple[str, ...]:
    """An organ's name in lines of at most ``width`` characters, centred in its column: two
    lines broken after a place (上海市普陀区 / 财政局) where one is near the middle, else
    lines of even length."""
    if len(name) <= width:
        return (name,)
    count = -(-len(name) // width)
    if count == 2:
        cuts = [i for i in range(len(name) - width, width + 1) if name[i - 1] in _NAME_BREAKS]
        if cuts:
            cut = min(cuts, key=lambda i: (abs(2 * i - len(name)), -i))
            return name[:cut], name[cut:]
    size = -(-len(name) // count)
    return tuple(name[i : i + size] for i in range(0, len(name), size))


#: The contact block's labels when the source names none (seeds 000–003).
CONTACT_LABELS = {
    "person": "联系人姓名",
    "phone": "联系电话",
    "address": "联系地址",
    "postcode": "邮政编码",
}


def chinese_date(d: datetime.date) -> str:
    """``2023年5月8日``: Arabic digits, no leading zeros, as GB/T 9704 asks."""
    return f"{d.year}年{d.month}月{d.day}日"


# --- Body text as clerks paste it -----------------------------------------------------------

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_HEADING_PATTERNS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(r"^[一二三四五六七八九十百]+、")),
    (2, re.compile(r"^（[一二三四五六七八九十百]+）")),
    (3, re.compile(r"^\d{1,2}[.．、](?!\d)")),
    (4, re.compile(r"^（\d{1,2}）")),
)
_MARKDOWN_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*")
_MARKDOWN_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_SPACE_BETWEEN = re.compile(
    rf"(?<=[{_CJK}])[ \t\u00a0]+(?=[0-9A-Za-z%])|(?<=[0-9A-Za-z%])[ \t\u00a0]+(?=[{_CJK}])"
)
_HALF_TO_FULL = {":": "：", ",": "，", "(": "（", ")": "）", ";": "；", "?": "？", "!": "！"}
_HALF_NEXT_TO_CJK = re.compile(rf"(?<=[{_CJK}])([:,;?!()])|([:,;?!()])(?=[{_CJK}])")


def heading_level(text: str) -> int:
    """The heading level a line's numbering gives it (0 for a paragraph).

    A numbered line that runs on as a long paragraph (``1、推进国企存量土地…。 …``) is still a
    level-3 heading in the standard's sense: it starts with the numbering, so it is printed
    with that level's face for the whole line, as in the seeds.
    """
    for level, pattern in _HEADING_PATTERNS:
        if pattern.match(text):
            return level
    return 0


def normalize_line(line: str) -> str:
    """Clean one pasted line without changing its words.

    Drops Markdown markers, removes spaces between Chinese and Latin digits or letters, and
    makes colons, commas, semicolons and parentheses next to Chinese full-width.
    """
    line = line.replace("\u3000", " ").strip()
    line = _MARKDOWN_HEADING.sub("", line)
    line = _MARKDOWN_BOLD.sub(lambda m: m.group(1) or m.group(2), line)
    line = _SPACE_BETWEEN.sub("", line)
    line = _HALF_NEXT_TO_CJK.sub(lambda m: _HALF_TO_FULL[m.group(1) or m.group(2)], line)
    return line.strip()


#: A pasted table's row: cells split by tabs, by bars (``|a|b|``), or by runs of two or more
#: spaces (full-width ones too) at least twice.
_TABLE_SPLIT = re.compile(r"\t+| {2,}")
_SPACED_ROW = re.compile(r"\S {2,}\S.*\S {2,}\S")
_MARKDOWN_RULE = re.compile(r"^:?-{2,}:?$")
#: What separates the cells of a table row inside a ``Block``'s text.
CELL_SEPARATOR = "\t"


def table_cells(raw: str) -> tuple[str, ...] | None:
    """The cells of a line pasted from a table (each cleaned like a line), ``()`` for a
    Markdown table's rule row, or None when the line is no table row."""
    line = raw.replace("\u3000", " ").strip()
    if line.count("|") >= 2:
        cells = line.strip("|").split("|")
    elif "\t" in line or _SPACED_ROW.search(line):
        cells = _TABLE_SPLIT.split(line)
    else:
        return None
    cells = [normalize_line(cell) for cell in cells]
    if all(_MARKDOWN_RULE.match(cell) for cell in cells if cell):
        return ()
    if sum(1 for cell in cells if cell) < 2:
        return None
    return tuple(cells)


def parse_body(text: str) -> tuple[Block, ...]:
    """Split pasted plain text into blocks: one per non-empty line, headings by their numbering.

    A row pasted from a table keeps its cells apart (``CELL_SEPARATOR`` between them) instead
    of gluing them (``1天地软件园二期12.5已开工``); the renderer prints such rows as aligned
    columns and says so in a warning (``replies.pdf_layout.layout_warnings``)."""
    blocks = []
    for raw in text.splitlines():
        cells = table_cells(raw)
        if cells is not None:
            if cells:
                blocks.append(Block(text=CELL_SEPARATOR.join(cells)))
            continue
        line = normalize_line(raw)
        if line:
            blocks.append(Block(text=line, level=heading_level(line)))
    return tuple(blocks)
