"""Where the seals go on a rendered letter (GB/T 9704-2012 §7.3.5).

§7.3.5.1: the seal is pressed, upright and centred, over the issuing organ's name and the date
(端正、居中下压发文机关署名和成文日期), the two lines sitting a little below the seal's centre,
and the seal's top no more than a line below the text above. §7.3.5.2, joint letters: one seal
per organ over its name, the last over its name and the date, the first organ first, the seals
in a row, apart (互不相交或相切), inside the type area.

The names and the date are found by their text on the rendered PDF's last page (pdfplumber), not
from the template's coordinates: the renderer's signature layout may change.
"""

from __future__ import annotations

import io
import itertools
import re
from dataclasses import dataclass

import pdfplumber

MM = 72 / 25.4
#: A unit's 公章: a 42 mm circle (the size most district offices use).
SEAL_SIZE = 42 * MM
#: Seals in a row stay this far apart (they must neither overlap nor touch).
SEAL_GAP = 2 * MM
#: The type area's left and right edges (odd pages; even pages mirror them) and its top.
TYPE_LEFT, TYPE_RIGHT_MARGIN = 28 * MM, 26 * MM
#: How far below the seal's centre the middle of the name-and-date block sits.
PRESS_DOWN = 0.08 * SEAL_SIZE
_SPACE = re.compile(r"\s+")


class SignatureNotFound(LookupError):
    """The rendered letter does not print the organ or the date where a seal must go."""


@dataclass(frozen=True)
class Box:
    """A rectangle in PDF user space (origin bottom left), in points."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    def overlaps(self, other: Box) -> bool:
        return not (
            self.x1 <= other.x0 or other.x1 <= self.x0 or self.y1 <= other.y0 or other.y1 <= self.y0
        )

    def as_tuple(self) -> tuple[int, int, int, int]:
        return round(self.x0), round(self.y0), round(self.x1), round(self.y1)


@dataclass(frozen=True)
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float


@dataclass(frozen=True)
class Placement:
    """The page of the 落款 (0-based), and one seal box per organ, in the organs' order."""

    page: int
    boxes: tuple[Box, ...]


def _lines(page) -> list[_Line]:
    return [
        _Line(_SPACE.sub("", line["text"]), line["x0"], line["x1"], line["top"], line["bottom"])
        for line in page.extract_text_lines(return_chars=False)
    ]


def _find_organs(lines: list[_Line], organs: tuple[str, ...], date: str) -> list[_Line]:
    """The lines of the signature block: the organ names (one line each, or several names on
    one line) just above the date line. The 版记's 印发 line, which prints the organ and a date
    too, is not the signature: its date is followed by 印发."""
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].text != date:
            continue
        found: list[_Line] = []
        for line in reversed(lines[max(0, index - len(organs) - 1) : index]):
            if any(organ in line.text for organ in organs):
                found.insert(0, line)
            elif found:
                break
        if found and all(any(o in line.text for line in found) for o in organs):
            return [*found, lines[index]]
    raise SignatureNotFound(organs)


def _organ_spans(
    found: list[_Line], organs: tuple[str, ...], page
) -> list[tuple[float, float, _Line]]:
    """Each organ's horizontal extent (x0, x1) and its line, in the organs' order."""
    spans = []
    for organ in organs:
        line = next(line for line in found[:-1] if organ in line.text)
        chars = [
            c
            for c in page.chars
            if line.top - 1 <= c["top"] and c["bottom"] <= line.bottom + 1 and c["text"].strip()
        ]
        chars.sort(key=lambda c: c["x0"])
        text = "".join(c["text"] for c in chars)
        start = text.find(organ)
        if start < 0:
            spans.append((line.x0, line.x1, line))
            continue
        run = chars[start : start + len(organ)]
        spans.append((run[0]["x0"], run[-1]["x1"], line))
    return spans


def seal_placement(pdf: bytes, organs: tuple[str, ...], date: str) -> Placement:
    """Where each organ's seal goes: on the page that prints the 落款 (the last one that does;
    the last page, unless the note or the 版记 ran over to a page of their own)."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for number in range(len(document.pages) - 1, -1, -1):
            page = document.pages[number]
            lines = _lines(page)
            try:
                found = _find_organs(lines, organs, date)
            except SignatureNotFound:
                continue
            return _placement(page, number, lines, found, organs)
    raise SignatureNotFound(organs)


def _placement(page, number: int, lines: list[_Line], found: list[_Line], organs) -> Placement:
    height, width = float(page.height), float(page.width)
    spans = _organ_spans(found, organs, page)
    date_line = found[-1]
    above = [line for line in lines if line.bottom <= found[0].top - 1]
    text_bottom = max((line.bottom for line in above), default=0.0)
    left = TYPE_LEFT if number % 2 == 0 else TYPE_RIGHT_MARGIN
    right = width - (TYPE_RIGHT_MARGIN if number % 2 == 0 else TYPE_LEFT)
    centres = _row_centres(
        [(x0 + x1) / 2 for x0, x1, _ in spans],
        date_centre=(date_line.x0 + date_line.x1) / 2,
        left=left,
        right=right,
    )
    # One row: every seal at the height that presses the whole block (names and date) a
    # little below its centre; its top within a line of the text above, never over it.
    middle = (found[0].top + date_line.bottom) / 2 - PRESS_DOWN
    middle = max(middle, text_bottom + 1 + SEAL_SIZE / 2)
    cy, half = height - middle, SEAL_SIZE / 2
    boxes = [Box(cx - half, cy - half, cx + half, cy + half) for cx in centres]
    return Placement(page=number, boxes=tuple(boxes))


def _row_centres(
    wanted: list[float], *, date_centre: float, left: float, right: float
) -> list[float]:
    """The seals' centres in one row: over their names where they fit, else side by side
    ending over the date (first organ leftmost), apart, inside the type area."""
    if len(wanted) == 1:
        # The single seal presses the name and the date: centred on the pair.
        wanted = [(wanted[0] + date_centre) / 2]
    pitch = SEAL_SIZE + SEAL_GAP
    centres = list(wanted)
    if any(b - a < pitch for a, b in itertools.pairwise(centres)):
        # The names do not stand apart (one a line): the row ends over the date, which the
        # last seal presses, and runs left from there.
        first = date_centre - pitch * (len(wanted) - 1)
        centres = [first + i * pitch for i in range(len(wanted))]
    shift = max(0.0, left + SEAL_SIZE / 2 - centres[0]) - max(
        0.0, centres[-1] - (right - SEAL_SIZE / 2)
    )
    return [c + shift for c in centres]
