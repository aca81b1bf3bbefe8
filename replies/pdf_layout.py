"""What the letter's template gets: the title's lines, the organ's size, the body's blocks.

``letter_context`` turns a ``Letter`` into the context of ``replies/letter.html`` (rendered by
``replies.pdf``): a long title broken into balanced lines at word boundaries (three at most), the
organ's line sized to fill the type area (a joint letter's names stretched to one width; a name
too long for the title's size wraps instead of shrinking), each heading split from the paragraph
it runs into, the classes that keep headings and the 落款 with their text across pages, and a
pasted table's rows as aligned columns. Widths are counted in ems (``em_width``), which the size
rules (``replies.pdf_limits``) use too. ``layout_warnings`` says where the layout had to guess.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from replies.letter import CELL_SEPARATOR, Block, Letter, LetterFormat

# The type area is 156 mm wide (the grid itself lives in letter.css).
TYPE_WIDTH = 156 * 72 / 25.4  # 442.2 pt
TITLE_SIZE = 22.0  # 2号
TITLE_CHARS = int(TYPE_WIDTH // TITLE_SIZE)  # 20 characters of the title fit on a line
TITLE_ONE_LINE = 18  # a longer title reads better in two balanced lines than in one full line
TITLE_MAX_LINES = 3  # GB/T 9704's 梯形 or 菱形; a longer title is left to wrap by itself
ORGAN_MAX_SIZE = 42.0  # the standard caps the organ's characters at 15 mm high
ORGAN_FILL = 432.0  # the organ line fills the type area but for about half a character

_OPENING = "“‘《（「『〔【"
_CLOSING = "，。、；：？！）》」』”’〕】…—"
_ASCII_RUN = re.compile(r"[0-9A-Za-z.%\-+/]")


@dataclass(frozen=True)
class BodyBlock:
    """A body block split for printing: a heading's own sentence, then the paragraph it runs
    into (``1、推进国企存量土地资源高质量利用。我区规划…``), which is printed in the body face.

    ``keep`` names the CSS classes that hold it to its neighbours across a page break: a
    heading to the two lines after it, the last lines of the text to the 落款."""

    level: int
    head: str
    rest: str
    keep: str = ""
    #: A pasted table (consecutive rows of cells), printed as aligned columns: each cell's
    #: text, and whether it is long enough to wrap (short cells never do).
    rows: tuple[tuple[tuple[str, bool], ...], ...] = ()


@dataclass(frozen=True)
class Organ:
    name: str
    spacing: float  # pt of letter-spacing that stretches a shorter name to the longest one


def letter_context(letter: Letter) -> dict:
    organs = tuple(name for name in letter.organs if name)
    is_document = letter.format == LetterFormat.DOCUMENT
    organ_size, stacked = _organ_layout(organs, suffix="文件" if is_document else "")
    printed_row = is_document and bool(letter.printed_by or letter.printed_on)
    return {
        "letter": letter,
        "is_document": is_document,
        "format_class": "format-document" if is_document else "format-letter",
        "authors": "、".join(organs),
        "organs": stacked,
        "organ_size": f"{organ_size:.2f}",
        "joint": len(stacked) > 1,
        "title_lines": balanced_title_lines(letter),
        "body": body_blocks(letter.body),
        "signing_organs": tuple(
            (name, em_width(name) > SIGNATURE_CHARS) for name in letter.signing_organs
        ),
        "note": _in_parentheses(letter.note),
        "cc": "，".join(letter.cc) if letter.cc else "",
        "printed_row": printed_row,
        "has_imprint": bool(letter.cc) or printed_row,
    }


#: A cell of a pasted table up to this many characters stays on one line.
TABLE_CELL_CHARS = 10

#: A 落款 line longer than this (28 characters less the two it stands in from the right and a
#: little room) wraps instead of running off the page.
SIGNATURE_CHARS = 25


def body_blocks(blocks: tuple[Block, ...]) -> tuple[BodyBlock, ...]:
    """The body's blocks, each with the classes that keep it with its neighbours:

    - ``heading``: a heading on a line of its own never ends a page (``break-after: avoid``);
    - ``after-heading``: the paragraph after it opens with at least two lines on that page;
    - ``run-on``: a heading that runs into its paragraph keeps two lines of it on its page;
    - ``last``: the text's last paragraph leaves two lines for the 落款 when it breaks, and
      ``keep-next`` on the one before it when the last is a single line (estimated), so the
      落款 never opens a page with fewer than two lines of text above it.
    """
    split = _grouped_tables(blocks)
    out = []
    for index, block in enumerate(split):
        if block.rows:
            out.append(block)
            continue
        keep = []
        if block.level and not block.rest:
            keep.append("heading")
        elif block.level:
            keep.append("run-on")
        if index and split[index - 1].level and not split[index - 1].rest:
            keep.append("after-heading")
        if index == len(split) - 1:
            keep.append("last")
        elif index == len(split) - 2 and em_width(split[-1].head + split[-1].rest) <= 26:
            keep.append("keep-next")
        out.append(BodyBlock(block.level, block.head, block.rest, " ".join(keep)))
    return tuple(out)


def _grouped_tables(blocks: tuple[Block, ...]) -> list[BodyBlock]:
    """The blocks split for printing, consecutive table rows gathered into one table with as
    many columns in each row as the widest has."""
    out: list[BodyBlock] = []
    rows: list[tuple[str, ...]] = []
    for block in (*blocks, None):
        if block is not None and CELL_SEPARATOR in block.text:
            rows.append(tuple(block.text.split(CELL_SEPARATOR)))
            continue
        if rows:
            width = max(map(len, rows))
            padded = tuple(
                tuple((cell, em_width(cell) > TABLE_CELL_CHARS) for cell in row)
                + (("", False),) * (width - len(row))
                for row in rows
            )
            out.append(BodyBlock(level=0, head="", rest="", rows=padded))
            rows = []
        if block is not None:
            out.append(split_block(block.text, block.level))
    return out


def layout_warnings(letter: Letter) -> list[str]:
    """Warnings, in Chinese, about how the letter will be laid out: rows pasted from a table
    (printed as aligned columns), a title longer than three lines."""
    warnings = []
    rows = sum(1 for block in letter.body if CELL_SEPARATOR in block.text)
    if rows:
        warnings.append(
            _("正文中有%(n)d行是粘贴的表格，已按列对齐排印，请核对各列；表格较大时宜改作附件。")
            % {"n": rows}
        )
    if len(balanced_title_lines(letter)) > TITLE_MAX_LINES:
        warnings.append(_("标题超过三行，请考虑精简标题。"))
    return warnings


def _in_parentheses(note: str) -> str:
    """The 附注 in full-width parentheses (``（此件公开发布）``), unless it already has some."""
    if not note or (note[0] in "（(" and note[-1] in "）)"):
        return note
    return f"（{note}）"


def split_block(text: str, level: int) -> BodyBlock:
    """A heading's face covers its text up to and including the first 。; the rest is body."""
    if level == 0:
        return BodyBlock(level=0, head="", rest=text)
    end = text.find("。")
    if end == -1 or end == len(text) - 1:
        return BodyBlock(level=level, head=text, rest="")
    return BodyBlock(level=level, head=text[: end + 1], rest=text[end + 1 :])


def em_width(text: str) -> float:
    """Width in ems: ASCII letters, digits and spaces are half as wide as a Chinese character."""
    return sum(0.5 if ord(ch) < 0x2000 else 1.0 for ch in text)


def _organ_layout(organs: tuple[str, ...], suffix: str) -> tuple[float, tuple[Organ, ...]]:
    """The organ's font size (the line fills the type area, up to the standard's cap) and the
    lines of the names, stretched to one width when there are several.

    A name so long that filling the line would set it below the title's 22 pt (a 28-character
    organ would shrink to 14.9 pt) is broken into balanced lines at a word boundary instead,
    and the lines are stacked like the names of a joint letter (``文件`` beside them)."""
    if not organs:
        return ORGAN_MAX_SIZE, ()
    joint_gap = 0.5 if suffix else 0.0
    lines: list[str] = list(organs)
    widest = max(em_width(name) for name in lines)
    gap = joint_gap if len(lines) > 1 else 0.0
    if ORGAN_FILL / (widest + em_width(suffix) + gap) < TITLE_SIZE:
        room = ORGAN_FILL / TITLE_SIZE - em_width(suffix) - joint_gap
        lines = [part for name in organs for part in balanced_lines(name, room, _organ_penalty)]
        widest = max(em_width(name) for name in lines)
        gap = joint_gap if len(lines) > 1 else 0.0
    size = min(ORGAN_MAX_SIZE, ORGAN_FILL / (widest + em_width(suffix) + gap))
    stacked = []
    for name in lines:
        spread = (widest - em_width(name)) * size / max(len(name) - 1, 1)
        stacked.append(Organ(name=name, spacing=round(spread, 3) if len(lines) > 1 else 0.0))
    return size, tuple(stacked)


def balanced_title_lines(letter: Letter) -> tuple[str, ...]:
    """The title's lines: the letter's own break if it has one, else balanced lines broken at
    word boundaries (``…二次会议`` / ``第152045号提案的答复``), three at most, in the shapes
    GB/T 9704 asks for (梯形 or 菱形, never an hourglass)."""
    if letter.title_break is not None:
        return letter.title_lines
    title = letter.title
    if em_width(title) <= TITLE_ONE_LINE:
        return (title,)
    lines = balanced_lines(title, TITLE_CHARS, _title_penalty, max_lines=TITLE_MAX_LINES)
    if len(lines) == 1 and em_width(title) > TITLE_CHARS:
        return _filled_lines(title, TITLE_CHARS, _title_penalty)
    return lines


def _filled_lines(text: str, room: float, penalty, *, reach: int = 5) -> tuple[str, ...]:
    """A text too long for three lines: full lines, each ended at the best break among the
    last ``reach`` characters that fit (so no word is cut where a boundary is near)."""
    lines = []
    while em_width(text) > room:
        fit = max(i for i in range(1, len(text)) if em_width(text[:i]) <= room)
        cuts = [i for i in range(max(1, fit - reach), fit + 1) if _may_break(text[:i], text[i:])]
        cut = min(cuts, key=lambda i: (penalty(text[:i], text[i:]), -i)) if cuts else fit
        lines.append(text[:cut].strip())
        text = text[cut:]
    return (*lines, text.strip())


def balanced_lines(text: str, room: float, penalty, *, max_lines: int = 3) -> tuple[str, ...]:
    """``text`` in the fewest lines (up to ``max_lines``) of at most ``room`` ems, broken where
    ``penalty(before, after)`` costs least and the lengths differ least; ``(text,)`` when it
    cannot be done (the renderer then wraps it as it can)."""
    total = em_width(text)
    if total <= room:
        return (text,)
    for count in range(2, max_lines + 1):
        if total > count * room:
            continue
        best = _best_split(text, count, room, penalty)
        if best is not None:
            return best
    return (text,)


def _best_split(text: str, count: int, room: float, penalty) -> tuple[str, ...] | None:
    cuts = [i for i in range(1, len(text)) if _may_break(text[:i], text[i:])]
    best: tuple[float, tuple[str, ...]] | None = None
    for combo in itertools.combinations(cuts, count - 1):
        bounds = (0, *combo, len(text))
        lines = tuple(text[a:b] for a, b in itertools.pairwise(bounds))
        widths = [em_width(line) for line in lines]
        if max(widths) > room:
            continue
        score = max(widths) - min(widths) + _shape_penalty(widths)
        score += sum(penalty(text[:cut], text[cut:]) for cut in combo)
        if best is None or score < best[0]:
            best = (score, tuple(line.strip() for line in lines))
    return best[1] if best else None


def _may_break(first: str, second: str) -> bool:
    if first[-1] in _OPENING or second[0] in _CLOSING:
        return False
    return not (_ASCII_RUN.match(first[-1]) and _ASCII_RUN.match(second[0]))


def _shape_penalty(widths: list[float]) -> float:
    """Three lines make a 梯形 (growing or shrinking) or a 菱形 (the middle longest); a middle
    line shorter than both others (an hourglass) is what the standard's shapes exclude."""
    if len(widths) == 3 and widths[1] < min(widths[0], widths[2]):
        return 6.0
    return 0.0


_GOOD_BREAK_AFTER = (
    "会议",
    "关于",
    "提案",
    "的",
    "建议",
    "意见",
    "号",
    "、",
    "，",
    "》",
    "”",
    "）",
)
_GOOD_BREAK_BEFORE = ("第", "关于", "对区", "对市", "对", "《", "“", "（", "暨", "和", "及", "与")
#: Breaking before these splits a word's usual ending from it (…提/案, …的/答复).
_BAD_BREAK_BEFORE = ("的", "案", "号", "届", "次", "会", "函", "复")
#: Words that open a phrase in proposal titles: a break before one is at a word boundary.
_PHRASE_STARTS = (
    "推动", "推进", "加快", "加强", "促进", "优化", "提升", "完善", "建立", "健全", "支持",
    "进一步", "持续", "打造", "构建", "深化", "做好", "落实", "破解", "解决",
)  # fmt: skip
#: Words of proposal titles never to be cut (营商环/境, 民/营, 提/案).
_WORDS = (
    "营商", "环境", "民营", "经济", "发展", "质量", "企业", "产业", "政协", "委员", "提案",
    "答复", "建议", "会议", "社区", "街道", "老旧", "小区", "电梯", "服务", "管理", "建设",
    "城市", "更新", "数字", "科技", "创新", "教育", "医疗", "养老", "交通", "停车", "人才",
)  # fmt: skip


def _break_penalty(first: str, second: str) -> float:
    if first.endswith(" ") or second.startswith(" "):
        return 0.0
    if second.startswith(_BAD_BREAK_BEFORE) or (first[-1] + second[0]) in _WORDS:
        return 20.0
    if first.endswith(_GOOD_BREAK_AFTER) or second.startswith(_GOOD_BREAK_BEFORE):
        return 0.0
    if second.startswith(_PHRASE_STARTS):
        return 2.0
    return 10.0


_title_penalty = _break_penalty

_ORGAN_BREAK_AFTER = ("省", "市", "区", "县", "旗", "州", "盟", "镇", "街道", "会议", "政府")
_ORGAN_BREAK_BEFORE = ("委员会", "办公室", "人民政府", "管理委员会", "中国", "中共")


def _organ_penalty(first: str, second: str) -> float:
    """Organ names break after a place (上海市普陀区 / …) or before an office's own name."""
    if first.endswith(_ORGAN_BREAK_AFTER) or second.startswith(_ORGAN_BREAK_BEFORE):
        return 0.0
    return 10.0
