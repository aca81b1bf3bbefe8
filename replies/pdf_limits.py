"""The size rules of a reply letter: what ``check_letter_size`` refuses before anything renders.

A letter is bounded before it costs anything: characters, printed lines, paragraphs, rows of a
pasted table, and the lines of the text as typed. Saving a draft, previewing, signing and
rendering (``replies.pdf``) all ask the one function here; ``LetterTooLarge`` names each limit
and the letter's measured size, in Chinese.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from replies.letter import Letter
from replies.pdf_layout import em_width

#: Seconds a rendering task may take, for the Celery task that renders (its ``soft_time_limit``,
#: with the hard ``time_limit`` a little above): under the cap a render takes a few seconds, so
#: hitting the limit means something is wrong, and the task fails instead of holding a worker.
#: The worker's ``--max-memory-per-child`` bounds the memory of a runaway layout the same way.
RENDER_TIME_LIMIT = 60

# --- The size rules (``check_letter_size``) ---------------------------------------------------
# Rendering is CPU-bound and grows with the printed lines (about 2–3 ms of CPU each, ~50 ms a
# page) and a little with each paragraph; memory grows with the pages. The seeds (6 pages) have
# 2,700–4,100 characters, 15–20 paragraphs and some 120 printed lines. Each bound below is ten
# times that or more, and a letter at every bound at once renders in about 4 s of CPU (measured
# on the 2-CPU test machine; figures in docs/letter-layout.md, "Safety"). Anything larger is not a
# reply letter but an attack or a paste error, and is refused before WeasyPrint sees it, before
# signing (no 文号 is taken for it) and when a draft is saved. Each can be set in the settings
# (``LETTER_MAX_CHARS`` …).

#: Characters of printed text (title, salutation, body, contact block, 版记 …).
MAX_LETTER_CHARS = 40_000
#: Printed lines, estimated: 28 characters a line (GB/T 9704), a paragraph's first line
#: indented by two, every paragraph at least one line. 22 lines make a page: about 68 pages.
MAX_LETTER_LINES = 1_500
#: Paragraphs and headings of the body (each non-empty line typed is one).
MAX_LETTER_BLOCKS = 800
#: Paragraphs that look like rows of a pasted table (cells split by tabs, bars or runs of
#: spaces): a table belongs in an attachment, and a pasted spreadsheet is the usual way to
#: thousands of short lines.
MAX_TABLE_ROWS = 200
#: Lines of a body as typed, blank ones included (four to each paragraph allowed). Counted on
#: the text before it is parsed: parsing costs ~15 µs a line, so a pasted 29,500-line body —
#: or the 200,000 lines a 2.5 MB form allows — is refused in milliseconds, not seconds of the
#: web process's time. A blank line prints nothing, so this is the web tier's bound, not the
#: renderer's; saving, previewing and signing apply it all the same.
MAX_TYPED_LINES = 3_200

#: The estimate's page: GB/T 9704 sets 28 characters by 22 lines.
LINE_CHARS = 28
PAGE_LINES = 22


class LetterTooLarge(ValueError):
    """The letter is larger than any reply letter; it is not rendered, signed or saved.

    ``exceeded`` lists each bound it goes over (``SizeExcess``); ``message`` says so in
    Chinese, naming each limit and the letter's measured size."""

    def __init__(self, exceeded: tuple[SizeExcess, ...]) -> None:
        self.exceeded = exceeded
        what = "；".join(excess.message for excess in exceeded)
        self.message = _(
            "篇幅超出上限：%(what)s。这样的信件无法排版成PDF，也不能签发；"
            "请检查是否误粘贴了大量内容。"
        ) % {"what": what}
        super().__init__(self.message)


@dataclass(frozen=True)
class LetterSize:
    """What a letter measures against the bounds (``measure_letter``)."""

    chars: int
    lines: int
    blocks: int
    table_rows: int


@dataclass(frozen=True)
class SizeExcess:
    """One bound a letter goes over: ``rule`` is ``chars``, ``lines``, ``blocks``,
    ``table_rows`` or ``typed_lines``."""

    rule: str
    size: int
    limit: int

    @property
    def message(self) -> str:
        values = {"size": f"{self.size:,}", "limit": f"{self.limit:,}"}
        if self.rule == "chars":
            return _("共%(size)s字，上限%(limit)s字") % values
        if self.rule == "lines":
            pages = {
                "size_pages": math.ceil(self.size / PAGE_LINES),
                "limit_pages": self.limit // PAGE_LINES,
            }
            return _(
                "排版后约%(size)s行（约%(size_pages)s页），上限%(limit)s行（约%(limit_pages)s页）"
            ) % {**values, **pages}
        if self.rule == "blocks":
            return _("正文共%(size)s段，上限%(limit)s段") % values
        if self.rule == "typed_lines":
            return _("正文输入了%(size)s行（含空行），上限%(limit)s行") % values
        return (
            _("正文有%(size)s行像是粘贴的表格（以制表符、竖线或连续空格分隔），上限%(limit)s行，"
              "表格请改写成段落或作为附件报送") % values
        )  # fmt: skip


#: A pasted table's row: a tab, two bars, or two runs of two or more spaces between cells.
_TABLE_ROW = re.compile(r"\t|\|.*\||\S {2,}\S.*\S {2,}\S")


def letter_limits() -> dict[str, int]:
    """The bounds in force: the constants above, or the settings that override them."""
    return {
        "chars": getattr(settings, "LETTER_MAX_CHARS", MAX_LETTER_CHARS),
        "lines": getattr(settings, "LETTER_MAX_LINES", MAX_LETTER_LINES),
        "blocks": getattr(settings, "LETTER_MAX_BLOCKS", MAX_LETTER_BLOCKS),
        "table_rows": getattr(settings, "LETTER_MAX_TABLE_ROWS", MAX_TABLE_ROWS),
        "typed_lines": getattr(settings, "LETTER_MAX_TYPED_LINES", MAX_TYPED_LINES),
    }


def _printed_lines(text: str, *, indent: int = 2) -> int:
    """Lines a paragraph takes at 28 characters a line (half-width characters count half)."""
    return max(1, math.ceil((indent + em_width(text)) / LINE_CHARS)) if text else 0


def measure_letter(letter: Letter) -> LetterSize:
    """Characters, estimated printed lines, paragraphs and table-like rows of a letter.

    Linear in the text and cheap (a few ms for a letter at the bounds, 90 ms for 29,500
    paragraphs), so it runs wherever a letter is saved, signed or rendered."""
    others = (
        letter.title,
        letter.salutation,
        letter.signature_organ,
        letter.note,
        letter.result_label,
        letter.disclosure,
        letter.doc_number,
        letter.signer,
        letter.printed_by,
        letter.contact.person,
        letter.contact.phone,
        letter.contact.address,
        letter.contact.postcode,
        *letter.organs,
        *letter.signature_organs,
        *letter.cc,
    )
    texts = [block.text for block in letter.body]
    return LetterSize(
        chars=sum(map(len, others)) + sum(map(len, texts)),
        lines=sum(_printed_lines(t, indent=0) for t in others) + sum(map(_printed_lines, texts)),
        blocks=len(texts),
        table_rows=sum(1 for t in texts if _TABLE_ROW.search(t)),
    )


def check_letter_size(letter: Letter | str) -> LetterSize | None:
    """Refuse (``LetterTooLarge``) a letter over any bound: the one rule every path applies —
    saving a draft, previewing, signing, rendering.

    Given a ``Letter``: its characters, printed lines, paragraphs and table rows (returns the
    measured size). Given a body as typed (a ``str``): its lines, before anything parses it —
    the callers that hold the typed text (saving, previewing, signing) ask this first."""
    limits = letter_limits()
    if isinstance(letter, str):
        typed = len(letter.splitlines())
        if typed > limits["typed_lines"]:
            raise LetterTooLarge((SizeExcess("typed_lines", typed, limits["typed_lines"]),))
        return None
    size = measure_letter(letter)
    exceeded = tuple(
        SizeExcess(rule, getattr(size, rule), limit)
        for rule, limit in limits.items()
        if rule != "typed_lines" and getattr(size, rule) > limit
    )
    if exceeded:
        raise LetterTooLarge(exceeded)
    return size
