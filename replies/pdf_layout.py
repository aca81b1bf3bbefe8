"""What the letter's template gets: the title's lines, the organ's size, the body's blocks.

``letter_context`` turns a ``Letter`` into the context of ``replies/letter.html`` (rendered by
``replies.pdf``): a long title broken into two balanced lines at a word boundary, the organ's
line sized to fill the type area (a joint letter's names stretched to one width), each heading
split from the paragraph it runs into. Widths are counted in ems (``em_width``), which the size
rules (``replies.pdf_limits``) use too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from replies.letter import Letter, LetterFormat

# The type area is 156 mm wide (the grid itself lives in letter.css).
TYPE_WIDTH = 156 * 72 / 25.4  # 442.2 pt
TITLE_SIZE = 22.0  # 2号
TITLE_CHARS = int(TYPE_WIDTH // TITLE_SIZE)  # 20 characters of the title fit on a line
TITLE_ONE_LINE = 18  # a longer title reads better in two balanced lines than in one full line
ORGAN_MAX_SIZE = 42.0  # the standard caps the organ's characters at 15 mm high
ORGAN_FILL = 432.0  # the organ line fills the type area but for about half a character

_OPENING = "“‘《（「『〔【"
_CLOSING = "，。、；：？！）》」』”’〕】…—"
_ASCII_RUN = re.compile(r"[0-9A-Za-z.%\-+/]")


@dataclass(frozen=True)
class BodyBlock:
    """A body block split for printing: a heading's own sentence, then the paragraph it runs
    into (``1、推进国企存量土地资源高质量利用。我区规划…``), which is printed in the body face."""

    level: int
    head: str
    rest: str


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
        "joint": len(organs) > 1,
        "title_lines": balanced_title_lines(letter),
        "body": tuple(split_block(block.text, block.level) for block in letter.body),
        "note": _in_parentheses(letter.note),
        "cc": "，".join(letter.cc) if letter.cc else "",
        "printed_row": printed_row,
        "has_imprint": bool(letter.cc) or printed_row,
    }


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
    """The organ's font size (the line fills the type area, up to the standard's cap) and, for a
    joint letter, the spacing that gives the stacked names one width."""
    if not organs:
        return ORGAN_MAX_SIZE, ()
    widest = max(em_width(name) for name in organs)
    width = widest + em_width(suffix) + (0.5 if suffix and len(organs) > 1 else 0)
    size = min(ORGAN_MAX_SIZE, ORGAN_FILL / width)
    stacked = []
    for name in organs:
        gap = (widest - em_width(name)) * size / max(len(name) - 1, 1)
        stacked.append(Organ(name=name, spacing=round(gap, 3) if len(organs) > 1 else 0.0))
    return size, tuple(stacked)


def balanced_title_lines(letter: Letter) -> tuple[str, ...]:
    """The title's lines: the letter's own break if it has one, else a balanced break at a
    word boundary when it needs two lines (``…二次会议`` / ``第152045号提案的答复``)."""
    if letter.title_break is not None:
        return letter.title_lines
    title = letter.title
    total = em_width(title)
    if total <= TITLE_ONE_LINE or total > 2 * TITLE_CHARS:
        return (title,)
    best: tuple[float, int] | None = None
    for index in range(1, len(title)):
        first, second = title[:index], title[index:]
        if em_width(first) > TITLE_CHARS or em_width(second) > TITLE_CHARS:
            continue
        if first[-1] in _OPENING or second[0] in _CLOSING:
            continue
        if _ASCII_RUN.match(first[-1]) and _ASCII_RUN.match(second[0]):
            continue
        score = abs(em_width(first) - em_width(second)) + _break_penalty(first, second)
        if best is None or score < best[0]:
            best = (score, index)
    if best is None:
        return (title,)
    return (title[: best[1]].rstrip(), title[best[1] :].lstrip())


_GOOD_BREAK_AFTER = ("会议", "关于", "提案")
_GOOD_BREAK_BEFORE = ("第", "关于", "对区", "对市")


def _break_penalty(first: str, second: str) -> float:
    if first.endswith(_GOOD_BREAK_AFTER) or second.startswith(_GOOD_BREAK_BEFORE):
        return 0.0
    if first.endswith(" ") or second.startswith(" "):
        return 0.0
    return 10.0
