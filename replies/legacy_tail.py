"""The end of a published letter, read from the bottom, and the body paragraphs above it.

印发 line, note (此件公开发布), date and signing organs are taken from the bottom up; what is
left is the body, whose paragraphs a page break or a hard wrap split are joined again. Split
from ``replies.legacy`` (issue 18), which still exports every name here.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from replies.legacy_lines import (
    _ends_sentence,
    _is_short_heading,
    _Line,
    _looks_like_organ,
    _parse_date,
)
from replies.legacy_patterns import (
    _CJK_GAP,
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
    if len(previous) <= 25 and _looks_like_organ(previous, need_suffix=True):
        return False  # an organ's name on its own line (a list of units, not a broken line)
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
        line.take("printed")
        tail.printed_on = _parse_date(m.group("on"), warnings)
        tail.printed_by = m.group("by").strip()
        before = [ln for ln in lines[:pos] if not ln.used]
        if not tail.printed_by and before and _looks_like_organ(before[-1].text, need_suffix=True):
            tail.printed_by = before[-1].text
            before[-1].take("printed")
        break

    for line in lines:
        if not line.used and (m := _NOTE_LINE.match(line.text)):
            if tail.note and tail.note != m.group(1):
                continue  # a second, different note stays in the body
            if tail.note:
                warnings.append(f"附注重复出现，已略去第{line.number}行：“{line.text}”")
                line.take("dropped")
                continue
            tail.note = m.group(1)
            line.take("note")

    unused = [ln for ln in lines if not ln.used]
    date_at = next(
        (i for i in range(len(unused) - 1, -1, -1) if _DATE_LINE.match(unused[i].text)), None
    )
    signature: list[_Line] = []
    body_end = len(unused)
    if date_at is not None:
        tail.date = _parse_date(unused[date_at].text, warnings)
        unused[date_at].take("date")
        _drop_after_date(unused[date_at + 1 :], warnings)
        signature = _signature_above(unused[:date_at])
        body_end = date_at
    elif unused and _looks_like_organ(unused[-1].text, need_suffix=True):
        signature = [unused[-1]]
    if signature:
        # The signature's own line, not the first line equal to it (issue 20).
        body_end = next(i for i, ln in enumerate(unused) if ln is signature[0])
    for ln in signature:
        ln.take("signature")
    for ln in unused[:body_end]:
        ln.take("body")
    tail.body_texts = [ln.text for ln in unused[:body_end]]
    if len(signature) == 1 and not re.search(r"\s{2,}", signature[0].base):
        tail.signature_organ = signature[0].text
    else:  # several organs, on their lines or side by side
        tail.signature_organ = " ".join(
            _CJK_GAP.sub("", name).strip()
            for ln in signature
            for name in re.split(r"\s{2,}", ln.base)
            if name.strip()
        )
    return tail


def _signature_above(lines: list[_Line]) -> list[_Line]:
    """The organ right above the date; a joint signature has several, each an organ."""
    signature: list[_Line] = []
    for line in reversed(lines):
        if len(signature) >= 8 or not _looks_like_organ(
            line.text, need_suffix=bool(signature), max_length=80
        ):
            break
        signature.insert(0, line)
    if len(signature) > 1 and not _ORGAN_SUFFIX.search(signature[-1].text):
        signature = signature[-1:]
    return signature


def _drop_after_date(leftovers: list[_Line], warnings: list[str]) -> None:
    if leftovers:
        warnings.append(
            f"落款之后有{len(leftovers)}行无法识别，已略去："
            + "".join(f"“{ln.text}”" for ln in leftovers)
        )
        for ln in leftovers:
            ln.take("dropped")
