"""The PDF renderer, loaded on first use.

WeasyPrint with Pango and the CJK fonts costs a process about 40 MB and a second to load. The
web processes check a letter's size (``replies.pdf_limits``) but never render: the previews and
the signed PDFs are the worker's (``replies.previews``, ``replies.tasks``). So nothing that a
request or the beat imports loads ``replies.pdf``; the worker loads it here, when the first
letter is rendered, or at its start (``warm``, from ``tracker.celery``) so that its first
letter does not pay for the fonts. ``replies/tests/test_renderer_loading.py`` holds this.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from replies.letter import Letter


def pdf_module() -> ModuleType:
    """``replies.pdf``, imported now if it was not yet."""
    return importlib.import_module("replies.pdf")


def render_letter_pdf(letter: Letter) -> bytes:
    """The letter's PDF/A (``replies.pdf.render_letter_pdf``)."""
    data: bytes = pdf_module().render_letter_pdf(letter)
    return data


def warm() -> None:
    """Load the renderer and lay out a small fixed letter once, so the processes forked after
    this start with the fonts loaded and the stylesheet parsed."""
    pdf_module()._warm_up()
