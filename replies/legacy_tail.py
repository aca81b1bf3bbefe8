"""The end of a published letter, read from the bottom, and the body paragraphs above it.

印发 line, note (此件公开发布), date and signing organs are taken from the bottom up; what is
left is the body, whose paragraphs a page break or a hard wrap split are joined again. Split
from ``replies.legacy`` (issue 18), which still exports every name here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from replies.legacy_lines import (
    _ends_sentence,
    _is_short_heading,
    _Line,
    _looks_like_organ,
    _parse_date,
)
from replies.legacy_patterns import (
    _CLOSERS,
    _DATE_LINE,
    _NEW_PARAGRAPH,
    _NOTE_LINE,
    _ORGAN_SUFFIX,
    _PRINTED_LINE,
)
from replies.letter import heading_level


def _join_paragraphs(texts: list[str]) -> list[str]:
    """Re-join paragraphs that a page break (or a hard wrap) split."""
    paragraphs: list[str] = []
    for text in texts:
        if paragraphs and _continues(paragraphs[-1], text):
            paragraphs[-1] += text
        else:
            paragraphs.append(text)
    return paragraphs


def _continues(previous: str, text: str) -> bool:
    if _is_short_heading(previous) or heading_level(text):
        return False
    if _ends_sentence(previous):
        return False
    if previous.rstrip(_CLOSERS)[-1:] in "，、,":
        return True
    return not _NEW_PARAGRAPH.match(text)


@dataclass
class _Tail:
    body_texts: list[str]
    signature_organ: str = ""
    date: datetime.date | None = None
    note: str = ""
    printed_by: str = ""
    printed_on: datetime.date | None = None


def _read_tail(lines: list[_Line], warnings: list[str]) -> _Tail:
    """Read the body's end from the bottom: 印发, note, date, signature; the rest is body.

    Field lines (contact block, 抄送) are already taken.
    """
    tail = _Tail(body_texts=[])
    for pos in range(len(lines) - 1, -1, -1):
        line = lines[pos]
        if line.used or not (m := _PRINTED_LINE.match(line.text)):
            continue
        line.used = True
        tail.printed_on = _parse_date(m.group("on"), warnings)
        tail.printed_by = m.group("by").strip()
        before = [ln for ln in lines[:pos] if not ln.used]
        if not tail.printed_by and before and _looks_like_organ(before[-1].text, need_suffix=True):
            tail.printed_by = before[-1].text
            before[-1].used = True
        break

    for line in lines:
        if not line.used and (m := _NOTE_LINE.match(line.text)):
            tail.note = tail.note or m.group(1)
            line.used = True

    unused = [ln for ln in lines if not ln.used]
    date_at = next(
        (i for i in range(len(unused) - 1, -1, -1) if _DATE_LINE.match(unused[i].text)), None
    )
    signature: list[_Line] = []
    if date_at is not None:
        tail.date = _parse_date(unused[date_at].text, warnings)
        leftovers = unused[date_at + 1 :]
        if leftovers:
            warnings.append(
                f"落款之后有{len(leftovers)}行无法识别，已略去：“{leftovers[0].text[:20]}”"
            )
        # The organ right above the date; a joint signature has several, each an organ.
        for line in reversed(unused[:date_at]):
            if len(signature) >= 8 or not _looks_like_organ(
                line.text, need_suffix=bool(signature), max_length=80
            ):
                break
            signature.insert(0, line)
        if len(signature) > 1 and not _ORGAN_SUFFIX.search(signature[-1].text):
            signature = signature[-1:]
        body_end = date_at
    else:
        body_end = len(unused)
        if unused and _looks_like_organ(unused[-1].text, need_suffix=True):
            signature = [unused[-1]]
    if signature:
        body_end = unused.index(signature[0])
    tail.body_texts = [ln.text for ln in unused[:body_end]]
    if len(signature) == 1:
        tail.signature_organ = signature[0].text
    else:
        tail.signature_organ = " ".join(
            name for ln in signature for name in ln.base.split() if name
        )
    return tail
