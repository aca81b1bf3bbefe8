"""Where the seals go on a rendered letter (GB/T 9704-2012 §7.3.5).

§7.3.5.1: the seal is pressed, upright and centred, over the issuing organ's name and the date
(端正、居中下压发文机关署名和成文日期), the two lines sitting a little below the seal's centre,
and the seal's top no more than a line below the text above. §7.3.5.2, joint letters: one seal
per organ over its name, the last over its name and the date, the first organ first, the seals
in a row, apart (互不相交或相切), inside the type area.

The names and the date are found by their text on the rendered PDF's last page (pdfplumber), not
from the template's coordinates: the renderer's signature layout may change. A sealed joint
letter (``Letter.sealed``) prints its names side by side in rows, a long name in two centred
lines of its column, the date under the last; each row's seals go over its names, rows apart.
A letter rendered without seals stacks the names (§7.3.5.3): its seals stand in one row ending
over the date, as close to the names as the row allows.
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
#: One line of the letter's grid (letter.css): the first row of seals starts within a line of
#: the text above it.
LINE = 28.95
#: Characters further apart than this on a line belong to names standing apart.
RUN_GAP = 4.0
_SPACE = re.compile(r"\s+")


class SignatureNotFound(LookupError):
    """The rendered letter does not print the organ or the date where a seal must go, or its
    seals would not fit there (overlapping, touching, outside the type area, off the date)."""


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
class _Run:
    """Characters of one line standing together: a line, or one of the names on a line of
    names standing apart."""

    line: int
    text: str
    x0: float
    x1: float
    top: float
    bottom: float


@dataclass(frozen=True)
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    runs: tuple[_Run, ...] = ()


@dataclass(frozen=True)
class _Name:
    """Where an organ's name prints: its lines (one, or two centred in a column) as a box, and
    the line it ends on (names ending on the same line are a row)."""

    organ: str
    x0: float
    x1: float
    top: float
    bottom: float
    last_line: int

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass(frozen=True)
class Placement:
    """The page of the 落款 (0-based), and one seal box per organ, in the organs' order."""

    page: int
    boxes: tuple[Box, ...]


def _lines(page) -> list[_Line]:
    lines = []
    for index, line in enumerate(page.extract_text_lines(return_chars=True)):
        chars = sorted((c for c in line["chars"] if c["text"].strip()), key=lambda c: c["x0"])
        groups: list[list[dict]] = []
        for char in chars:
            if groups and char["x0"] - groups[-1][-1]["x1"] <= RUN_GAP:
                groups[-1].append(char)
            else:
                groups.append([char])
        runs = tuple(
            _Run(
                index,
                "".join(c["text"] for c in group),
                group[0]["x0"],
                group[-1]["x1"],
                min(c["top"] for c in group),
                max(c["bottom"] for c in group),
            )
            for group in groups
        )
        text = _SPACE.sub("", line["text"])
        lines.append(_Line(text, line["x0"], line["x1"], line["top"], line["bottom"], runs))
    return lines


def _find_names(
    lines: list[_Line], organs: tuple[str, ...], date: str
) -> tuple[list[_Name], _Line]:
    """The organs' names of the signature block just above its date line, in the organs'
    order, and the date line. The 版记's 印发 line, which prints the organ and a date too, is
    not the signature: its date is followed by 印发."""
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].text != date:
            continue
        # The block: the lines right above the date that print nothing but parts of names.
        first = index
        while first > 0 and all(
            any(run.text in organ for organ in organs) for run in lines[first - 1].runs
        ):
            first -= 1
        names = _match_names(lines[first:index], organs)
        if names is not None:
            return names, lines[index]
    raise SignatureNotFound(f"{'、'.join(organs)}: no signature block above the date {date}")


def _match_names(block: list[_Line], organs: tuple[str, ...]) -> list[_Name] | None:
    """Each organ's name in the block (the lowest where one prints twice), or None."""
    used: set[_Run] = set()
    names = []
    for organ in organs:
        stacks = [
            stack
            for line in block
            for run in line.runs
            if run not in used
            for stack in _stacks(block, run, organ)
        ]
        if not stacks:
            return None
        stack = max(stacks, key=lambda runs: runs[-1].line)
        used.update(stack)
        names.append(
            _Name(
                organ,
                min(run.x0 for run in stack),
                max(run.x1 for run in stack),
                stack[0].top,
                stack[-1].bottom,
                stack[-1].line,
            )
        )
    return names


def _stacks(block: list[_Line], run: _Run, organ: str) -> list[tuple[_Run, ...]]:
    """The ways ``organ`` prints starting with ``run``: the run alone, or continued by a run
    of the next line under it (a name broken in its column)."""
    if run.text == organ:
        return [(run,)]
    if not organ.startswith(run.text):
        return []
    below = [line for line in block if line.runs and line.runs[0].line == run.line + 1]
    return [
        (run, *rest)
        for line in below
        for next_run in line.runs
        if next_run.x0 < run.x1 and run.x0 < next_run.x1
        for rest in _stacks(block, next_run, organ[len(run.text) :])
    ]


def seal_placement(pdf: bytes, organs: tuple[str, ...], date: str) -> Placement:
    """Where each organ's seal goes: on the page that prints the 落款 (the last one that does;
    the last page, unless the note or the 版记 ran over to a page of their own)."""
    organs = tuple(_SPACE.sub("", organ) for organ in organs)
    date = _SPACE.sub("", date)
    last_error: SignatureNotFound | None = None
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for number in range(len(document.pages) - 1, -1, -1):
            page = document.pages[number]
            lines = _lines(page)
            try:
                names, date_line = _find_names(lines, organs, date)
            except SignatureNotFound as error:
                last_error = last_error or error
                continue
            return _placement(page, number, lines, names, date_line)
    raise last_error or SignatureNotFound(f"{'、'.join(organs)}: the letter has no pages")


def _placement(
    page, number: int, lines: list[_Line], names: list[_Name], date_line: _Line
) -> Placement:
    height, width = float(page.height), float(page.width)
    above = [line for line in lines if line.bottom <= min(n.top for n in names) - 1]
    text_bottom = max((line.bottom for line in above), default=0.0)
    left = TYPE_LEFT if number % 2 == 0 else TYPE_RIGHT_MARGIN
    right = width - (TYPE_RIGHT_MARGIN if number % 2 == 0 else TYPE_LEFT)
    rows = _rows(names)
    if len(names) > 1 and all(len(row) == 1 for row in rows):
        # Stacked one a line (a letter rendered without seals): one row, ending over the date.
        centres = _row_centres(
            [name.centre for name in names],
            date_centre=(date_line.x0 + date_line.x1) / 2,
            left=left,
            right=right,
        )
        middle = (names[0].top + date_line.bottom) / 2 - PRESS_DOWN
        middle = max(middle, text_bottom + 1 + SEAL_SIZE / 2)
        if centres[0] - SEAL_SIZE / 2 < left - 0.5 or centres[-1] + SEAL_SIZE / 2 > right + 0.5:
            raise SignatureNotFound(
                f"{'、'.join(n.organ for n in names)}: {len(names)} seals do not fit in one row;"
                " render the letter sealed (Letter.sealed) to print the names in rows"
            )
        return Placement(number, tuple(_box(cx, height - middle) for cx in centres))
    boxes = _rows_boxes(rows, date_line, text_bottom, bool(above), (left, right))
    return Placement(number, tuple(_box(cx, height - cy) for cx, cy in boxes))


def _rows(names: list[_Name]) -> list[list[_Name]]:
    """The names by the line they end on (a row of the sealed layout), top row first."""
    rows: dict[int, list[_Name]] = {}
    for name in names:
        rows.setdefault(name.last_line, []).append(name)
    return [rows[line] for line in sorted(rows)]


def _rows_boxes(
    rows: list[list[_Name]],
    date_line: _Line,
    text_bottom: float,
    text_above: bool,
    type_area: tuple[float, float],
) -> list[tuple[float, float]]:
    """Each seal's centre (x, and y from the page's top) for names standing side by side in
    rows (§7.3.5.2): over its name, the last over its name and the date, a little above the
    middle of what it presses; the first row's top within a line of the text above (never on
    it). ``SignatureNotFound`` when the seals would not fit the names that way."""
    organs = "、".join(name.organ for row in rows for name in row)
    left, right = type_area
    date_centre = (date_line.x0 + date_line.x1) / 2
    pitch = SEAL_SIZE + SEAL_GAP
    centres: list[tuple[float, float]] = []
    previous_bottom = None
    for index, row in enumerate(rows):
        last = index == len(rows) - 1
        xs = [name.centre for name in row]
        if len(rows) == 1:
            xs = _row_centres(xs, date_centre=date_centre, left=left, right=right)
        bottom = date_line.bottom if last else max(name.bottom for name in row)
        middle = (min(name.top for name in row) + bottom) / 2 - PRESS_DOWN
        if index == 0:
            if text_above:
                middle = min(middle, text_bottom + LINE + SEAL_SIZE / 2)
            middle = max(middle, text_bottom + 1 + SEAL_SIZE / 2)
        if any(b - a < pitch for a, b in itertools.pairwise(xs)):
            raise SignatureNotFound(f"{organs}: the names of a row stand too close for seals")
        if xs[0] - SEAL_SIZE / 2 < left - 0.5 or xs[-1] + SEAL_SIZE / 2 > right + 0.5:
            raise SignatureNotFound(f"{organs}: a seal would leave the type area")
        if previous_bottom is not None and middle - SEAL_SIZE / 2 < previous_bottom + SEAL_GAP:
            raise SignatureNotFound(f"{organs}: the rows of names stand too close for seals")
        previous_bottom = middle + SEAL_SIZE / 2
        centres += [(x, middle) for x in xs]
    x, y = centres[-1]
    dx, dy = date_centre - x, (date_line.top + date_line.bottom) / 2 - y
    if (dx * dx + dy * dy) ** 0.5 > SEAL_SIZE / 2 - 2:
        raise SignatureNotFound(f"{organs}: the last seal would not press the date")
    return centres


def _box(cx: float, cy: float) -> Box:
    half = SEAL_SIZE / 2
    return Box(cx - half, cy - half, cx + half, cy + half)


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
