"""The first page of a letter alone, laid out without the pages after it (issue 24).

A clerk who presses 预览 waits for the whole letter to be laid out before the frame shows
anything: ~0.15 s of CPU for a six-page seed letter, more for a long one. The preview shows the
first page first (``replies.previews``): WeasyPrint lays a document out page by page
(``weasyprint.layout.make_all_pages`` is a generator of pages), so stopping it after the first
gives that page exactly as the whole render prints it — same breaks, same header, same 草稿
mark and page number — for a fifth of the time (seed 001: 42 ms against 130 ms).

The stop is a thread-local switch read by a wrapper around ``make_all_pages``, installed once
where WeasyPrint's ``layout_document`` looks the name up (pinned: weasyprint 70); other threads
and every other render see the generator unchanged.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import weasyprint
import weasyprint.layout

from replies.letter import Letter

_state = threading.local()
_make_all_pages = weasyprint.layout.make_all_pages


def _pages(context, root_box, html, pages) -> Iterator:
    """``make_all_pages``, cut after the first page while this thread asks for it."""
    made = _make_all_pages(context, root_box, html, pages)
    if getattr(_state, "first_only", False):
        return _first(made, context)
    return made


def _first(made: Iterator, context) -> Iterator:
    """The first page, noting whether it is the whole letter: nothing left to lay out after it
    (the next page's resume point, as ``make_all_pages`` reads it) and no footnote carried
    over (the 版记 is one)."""
    for page in itertools.islice(made, 1):
        _state.whole = context.page_maker[1][0] is None and not context.reported_footnotes
        yield page


if weasyprint.__version__.split(".")[0] != "70":  # pragma: no cover - caught by the pin
    raise ImportError(
        f"replies.pdf_first_page is written for WeasyPrint 70, not {weasyprint.__version__}"
    )
weasyprint.layout.make_all_pages = _pages


def render_first_page(letter: Letter) -> tuple[bytes, bool]:
    """A PDF of ``letter``'s first page, as ``render_letter_pdf`` prints it, and whether that
    page is the whole letter (then the PDF is the one ``render_letter_pdf`` makes)."""
    from replies.pdf import render_letter_pdf

    _state.first_only, _state.whole = True, False
    try:
        return render_letter_pdf(letter), _state.whole
    finally:
        _state.first_only = False
