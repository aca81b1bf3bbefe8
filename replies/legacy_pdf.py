"""The text of a letter PDF, for the reader of published letters (``replies.legacy``).

Tests and checks of our own PDFs read them back through the same reader as the districts' web
pages; this turns the PDF's text layer into one paragraph per line. Split from
``replies.legacy`` (issue 18), which still exports every name here.
"""

from __future__ import annotations

import re

_PAGE_NUMBER = re.compile(r"^[—－–-]\s*\d+\s*[—－–-]$")
#: Characters larger than any printed line (the organ header is at most 42 pt) are the draft
#: watermark.
_WATERMARK_SIZE = 60.0


def text_from_pdf(pdf: bytes) -> str:
    """The text of a letter PDF, one paragraph per line, for ``read_published``.

    Page numbers and the 草稿 watermark are left out. The renderer indents paragraphs and
    wraps them at the type area's right edge, so a line that starts at the left margin right
    after a full line continues that line's paragraph, across pages too. Needs pdfplumber
    (a development dependency: this is for tests and for checking published PDFs).
    """
    import io

    import pdfplumber

    rows: list[tuple[int, dict]] = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for number, page in enumerate(document.pages):
            page = page.filter(
                lambda obj: (
                    obj.get("object_type") != "char" or float(obj.get("size", 0)) < _WATERMARK_SIZE
                )
            )
            for row in page.extract_text_lines(return_chars=True):
                if row["chars"] and not _PAGE_NUMBER.match(row["text"].strip()):
                    rows.append((number % 2, row))
    # Odd and even pages mirror their margins: find each side's type area from its lines.
    edges: dict[int, tuple[float, float]] = {}
    for parity in (0, 1):
        body = [r for p, r in rows if p == parity and abs(_size(r) - 16) < 1]
        if body:
            edges[parity] = (min(r["x0"] for r in body), max(r["x1"] for r in body))
    paragraphs: list[str] = []
    previous_full, previous_size = False, 0.0
    for parity, row in rows:
        size = _size(row)
        left, right = edges.get(parity, (row["x0"], row["x1"]))
        text = row["text"].strip()
        at_margin = abs(row["x0"] - left) < 2
        if paragraphs and previous_full and at_margin and abs(size - previous_size) < 0.5:
            paragraphs[-1] += text
        else:
            paragraphs.append(text)
        previous_full = row["x1"] >= right - 1.5 * size
        previous_size = size
    return "\n".join(paragraphs) + "\n"


def _size(row: dict) -> float:
    return float(row["chars"][0].get("size", 0))
