"""The reply letter as PDF: GB/T 9704-2012 laid out by WeasyPrint, as a pure function of a Letter.

``render_letter_pdf(letter)`` renders the Django template ``replies/letter.html`` (auto-escaped:
letter text is always text, never markup) with the stylesheet ``replies/letter.css`` into a
PDF/A-2b file, its colours in sRGB like its output intent, tagged for screen readers. Layout
figures and the WeasyPrint 70 specifics behind them are in ``docs/letter-layout.md``; the CSS
carries the grid and the pagination rules (headings kept with their text, the 落款 with two lines
above it, the 版记 at the foot of the last page — of an even page when ``letter.double_sided``).

Everything WeasyPrint loads goes through ``LetterFetcher``, which serves ``data:`` URLs and a
fixed list of the project's own letter assets, and refuses anything else (local files, the
network, cloud metadata endpoints, attachments).

A letter is bounded before it costs anything (``check_letter_size``: characters, printed lines,
paragraphs, rows of a pasted table, and the lines of the text as typed), and
``render_letter_pdf_isolated`` renders it in a child process with its own time and memory
limits, for the previews of drafts.

The modules, by subject (their names are importable from here, as before issue 18's split):

    pdf          rendering, in this process or in a child with its own limits (this module)
    pdf_fetcher  ``LetterFetcher``: what WeasyPrint may load
    pdf_limits   the size rules: ``check_letter_size``, ``LetterTooLarge``
    pdf_layout   what the template gets: title lines, the organ's size, the body's blocks;
                 ``layout_warnings``
    pdf_fonts    the faces of each kind of text, and ``glyph_warnings`` (names in a fallback
                 face, characters no face prints)
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import resource
import select
import signal
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import replace

import pydyf
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from replies import pdf_spare
from replies import pdf_speed as pdf_speed  # speed patches (issue 24)
from replies.letter import Block, Contact, Letter
from replies.pdf_fetcher import ALLOWED_ASSETS as ALLOWED_ASSETS
from replies.pdf_fetcher import ASSETS_DIR as ASSETS_DIR
from replies.pdf_fetcher import LetterFetcher as LetterFetcher
from replies.pdf_first_page import render_first_page
from replies.pdf_fonts import glyph_warnings as glyph_warnings
from replies.pdf_layout import _ASCII_RUN as _ASCII_RUN
from replies.pdf_layout import _CLOSING as _CLOSING
from replies.pdf_layout import _GOOD_BREAK_AFTER as _GOOD_BREAK_AFTER
from replies.pdf_layout import _GOOD_BREAK_BEFORE as _GOOD_BREAK_BEFORE
from replies.pdf_layout import _OPENING as _OPENING
from replies.pdf_layout import ORGAN_FILL as ORGAN_FILL
from replies.pdf_layout import ORGAN_MAX_SIZE as ORGAN_MAX_SIZE
from replies.pdf_layout import TITLE_CHARS as TITLE_CHARS
from replies.pdf_layout import TITLE_ONE_LINE as TITLE_ONE_LINE
from replies.pdf_layout import TITLE_SIZE as TITLE_SIZE
from replies.pdf_layout import TYPE_WIDTH as TYPE_WIDTH
from replies.pdf_layout import BodyBlock as BodyBlock
from replies.pdf_layout import Organ as Organ
from replies.pdf_layout import _break_penalty as _break_penalty
from replies.pdf_layout import _in_parentheses as _in_parentheses
from replies.pdf_layout import _organ_layout as _organ_layout
from replies.pdf_layout import balanced_title_lines as balanced_title_lines
from replies.pdf_layout import em_width as em_width
from replies.pdf_layout import layout_warnings as layout_warnings
from replies.pdf_layout import letter_context as letter_context
from replies.pdf_layout import split_block as split_block
from replies.pdf_limits import _TABLE_ROW as _TABLE_ROW
from replies.pdf_limits import LINE_CHARS as LINE_CHARS
from replies.pdf_limits import MAX_LETTER_BLOCKS as MAX_LETTER_BLOCKS
from replies.pdf_limits import MAX_LETTER_CHARS as MAX_LETTER_CHARS
from replies.pdf_limits import MAX_LETTER_LINES as MAX_LETTER_LINES
from replies.pdf_limits import MAX_TABLE_ROWS as MAX_TABLE_ROWS
from replies.pdf_limits import MAX_TYPED_LINES as MAX_TYPED_LINES
from replies.pdf_limits import PAGE_LINES as PAGE_LINES
from replies.pdf_limits import RENDER_TIME_LIMIT as RENDER_TIME_LIMIT
from replies.pdf_limits import LetterSize as LetterSize
from replies.pdf_limits import LetterTooLarge as LetterTooLarge
from replies.pdf_limits import SizeExcess as SizeExcess
from replies.pdf_limits import _printed_lines as _printed_lines
from replies.pdf_limits import check_letter_size as check_letter_size
from replies.pdf_limits import letter_limits as letter_limits
from replies.pdf_limits import measure_letter as measure_letter

__all__ = [
    "ALLOWED_ASSETS",
    "ASSETS_DIR",
    "MAX_LETTER_BLOCKS",
    "MAX_LETTER_CHARS",
    "MAX_LETTER_LINES",
    "MAX_TABLE_ROWS",
    "MAX_TYPED_LINES",
    "RENDER_TIME_LIMIT",
    "LetterFetcher",
    "LetterSize",
    "LetterTooLarge",
    "RenderFailed",
    "check_letter_size",
    "glyph_warnings",
    "layout_warnings",
    "measure_letter",
    "print_warnings",
    "render_letter_pdf",
    "render_letter_pdf_isolated",
]


PDF_VARIANT = "pdf/a-2b"

#: zlib level for the PDF's streams. pydyf (WeasyPrint's PDF writer) hard-codes level 9, which
#: spends ~50 ms of a 6-page letter's ~0.2 s on the embedded CJK font subsets; level 1 writes the
#: same letter in ~25 % less time and ~4 % more bytes (seed 001: 354 → 367 KB; measured in
#: bench/letter.py). Any level is valid PDF and PDF/A.
PDF_ZLIB_LEVEL = 1


class _LeveledZlib:
    """``zlib`` as pydyf sees it: the same module, with the level fixed to ``PDF_ZLIB_LEVEL``."""

    def __getattr__(self, name: str):
        return getattr(zlib, name)

    @staticmethod
    def compressobj(level: int = -1, *args, **kwargs):
        return zlib.compressobj(PDF_ZLIB_LEVEL, *args, **kwargs)

    @staticmethod
    def compress(data, /, level: int = -1, **kwargs):
        return zlib.compress(data, PDF_ZLIB_LEVEL, **kwargs)


# pydyf has no option for the level; it calls ``zlib.compressobj(level=9)`` from its own module
# namespace, so this replaces the name there and nowhere else (pinned: weasyprint 70 / pydyf).
pydyf.zlib = _LeveledZlib()


def render_letter_pdf(letter: Letter) -> bytes:
    """The letter as a PDF/A-2b file: A4, subset fonts, the format ``letter.format`` names."""
    check_letter_size(letter)
    with pdf_speed.fewer_collections():
        return _write_pdf(letter)


def print_warnings(letter: Letter) -> list[str]:
    """What the printed letter will not show as typed, in Chinese, for the clerk to check
    before signing: rows of a pasted table set as columns, a title over three lines
    (``layout_warnings``), names printed partly from a fallback face, characters no face
    prints (``glyph_warnings``). The first call in a process reads the fonts' character maps
    (about a second); later calls take milliseconds."""
    return layout_warnings(letter) + glyph_warnings(letter)


def _write_pdf(letter: Letter) -> bytes:
    context = letter_context(letter)
    html, document = _layout(context)
    if letter.double_sided and context["has_imprint"] and _imprint_page(document) % 2:
        # Printed on both sides, the 版记 belongs on an even page (the back of the last leaf):
        # laid out again with it on a page of its own after a forced left-hand page break.
        html, document = _layout({**context, "imprint_on_even_page": True})
    return document.write_pdf(
        # PDF/A needs a file identifier. Left to pydyf it is an MD5 over every object, which
        # compresses each stream a second time (~30 ms a letter); a hash of the HTML is as
        # unique and as stable for the same letter.
        pdf_identifier=hashlib.md5(html.encode(), usedforsecurity=False).hexdigest().encode(),
        **_PDF_OPTIONS,
    )


#: The PDF is PDF/A-2b, its colours in sRGB like its output intent (the red of the organ and
#: rules is ``rgb(255, 51, 51)``, CMYK Y80 M80 converted), and tagged (PDF/UA structure:
#: headings, paragraphs, reading order) for screen readers.
_PDF_OPTIONS = {"pdf_variant": PDF_VARIANT, "pdf_tags": True, "presentational_hints": False}


def _layout(context: dict):
    html = render_to_string("replies/letter.html", context)
    document = HTML(string=html, base_url=ASSETS_DIR.as_uri() + "/", url_fetcher=LetterFetcher())
    return html, document.render(
        stylesheets=[_stylesheet()], font_config=_font_config(), **_PDF_OPTIONS
    )


def _imprint_page(document) -> int:
    """The number of the page whose footnote area holds the 版记 (0 when none does)."""
    for number, page in enumerate(document.pages, 1):
        areas = [box for box in page._page_box.children if type(box).__name__ == "FootnoteAreaBox"]
        if any(area.children for area in areas):
            return number
    return 0


# --- Rendering in a child process ------------------------------------------------------------


class RenderFailed(RuntimeError):
    """An isolated render did not give a PDF; ``message`` says why, in Chinese."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(f"{message} {detail}".strip())
        self.message = message


#: The child runs at a lower priority: where the web and the worker share CPUs (the compose
#: stack), a render yields to the requests of people waiting for a page.
CHILD_NICENESS = 10


#: The child may take this many times its CPU seconds of wall-clock time (it runs at a lower
#: priority, so a busy machine slows it down) before it is killed all the same.
WALL_FACTOR = 3


def render_letter_pdf_isolated(
    letter: Letter,
    *,
    seconds: float,
    memory_mb: int,
    first_page: Callable[[bytes], None] | None = None,
    spare: bool = False,
) -> bytes:
    """``render_letter_pdf`` in a forked child process that may use ``seconds`` of CPU time
    (``WALL_FACTOR`` times that of wall-clock time) and ``memory_mb`` of address space more
    than its parent, then is killed.

    Why a child: an rlimit belongs to a process, so lowering ``RLIMIT_AS`` in a worker would
    bound every task and thread of it, for good (the hard limit cannot be raised again); a
    child takes the limits alone and a layout that runs away dies with it, while the caller (a
    Celery worker of any pool) carries on. Why ``fork``: the child starts with WeasyPrint
    imported and the fonts configured (a new interpreter costs 2 s of CPU before its first
    line of layout). The child touches neither the database nor any lock of another thread:
    it lays the letter out, writes the PDF into a pipe and leaves with ``os._exit`` (no
    clean-up that would close the parent's connections), at a lower CPU priority than the web.
    The letter is checked against the size rules first, here, so a letter over them never costs
    a process.

    ``first_page``, when given, is called here with a PDF of the letter's first page alone as
    soon as the child has it (``replies.pdf_first_page``: a fifth of a six-page letter's time),
    before the whole letter is laid out; the previews show it while they wait for the rest.

    ``spare``: the child is the one forked and warmed after the previous render
    (``replies.pdf_spare``) when one waits, and the next is forked once this one is done.
    """
    check_letter_size(letter)
    _warm_up()
    first = first_page is not None
    taken = pdf_spare.take() if spare else None
    if taken is not None and pdf_spare.send(taken, letter, seconds, memory_mb, first):
        pid, read_end = taken.pid, taken.results
    else:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its outcome is what the parent reads
            os.close(read_end)
            _child_render(letter, write_end, seconds, memory_mb, first)
        os.close(write_end)
    try:
        outcome = _read_child(read_end, time.monotonic() + seconds * WALL_FACTOR, first_page)
    finally:
        os.close(read_end)
        status = _reap(pid)
        if spare:
            pdf_spare.start()
    return _child_outcome(outcome, status, seconds, memory_mb)


def _warm_up() -> None:
    """Lay out a small fixed letter once in this thread, so that every child forked from it
    starts with the fonts loaded and the stylesheet parsed (a cold child spends about half a
    second more on them); then a published seed letter as a draft, so that it starts with the
    shapes of the characters letters use most already in Pango's and HarfBuzz's caches (a
    child's first page 79 → 66 ms, its whole six-page letter 210 → 163 ms; issue 24). The
    letters are the project's own, not a user's."""
    if getattr(_thread, "warm", False):
        return
    _write_pdf(_warm_up_letter())
    try:
        _write_pdf(warm_up_seed())
    except Exception:  # a warm-up never fails a render: the child is only colder
        logger.warning("renderer warm-up: the seed letter did not render", exc_info=True)
    _thread.warm = True


def warm_up_seed() -> Letter:
    """Seed 001 (six pages of a published reply, ``replies/seeds``) as a draft: what warms the
    renderer (``_warm_up``) and each spare child (``replies.pdf_spare``)."""
    letter = getattr(_thread, "seed_draft", None)
    if letter is None:
        from replies.legacy import read_letter
        from replies.seeds import seed_text

        letter, _warnings = read_letter(seed_text("001"))
        letter = _thread.seed_draft = replace(letter, draft=True)
    return letter


def _warm_up_letter() -> Letter:
    return Letter(
        organs=("预热机关",),
        doc_number="预〔2024〕1号",
        signer="预热",
        title="关于预热的答复",
        salutation="委员：",
        body=tuple(Block(text, level) for level, text in enumerate(_WARM_UP_LINES)),
        signature_organ="预热机关",
        contact=Contact(person="预热", phone="1"),
        cc=("预热",),
        printed_by="预热机关",
        draft=True,
    )


_WARM_UP_LINES = ("正文。", "一、标题。", "（一）标题。", "1.标题。正文", "（1）标题。")


def _child_render(
    letter: Letter,
    out: int,
    seconds: float,
    memory_mb: int,
    first: bool = False,
    *,
    niced: bool = False,
) -> None:
    """In the child: limit this process, render, write ``K`` + PDF, ``M`` (out of memory) or
    ``E`` + the error to ``out``, and exit without any clean-up. With ``first``, the first page
    goes ahead of it: ``P``, its length in 8 bytes, its PDF (nothing when it fails: the whole
    render says why).

    Memory running out does not always raise ``MemoryError``: a C library under WeasyPrint may
    fail another way (``SystemError``, a cffi error) or abort. A failure once the process's
    peak address space came within a quarter of the budget (64 MB at most) of the limit is
    reported as memory; an abort is the parent's to read from the exit status. ``niced``: the
    child lowered its priority already (a spare child, which may also have used CPU before:
    the CPU limit counts from what it used)."""
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if not niced:
            os.nice(CHILD_NICENESS)
        used = resource.getrusage(resource.RUSAGE_SELF)
        cpu = max(1, math.ceil(used.ru_utime + used.ru_stime + seconds))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        limit = _vm("VmSize") + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        whole = b""
        if first:
            frame, whole = _first_page_frame(letter)
            _write_all(out, frame)
        try:
            payload = b"K" + (whole or render_letter_pdf(letter))
        except MemoryError:
            payload = b"M"
        except BaseException as exc:  # any failure is the parent's to report
            near = min(64, memory_mb / 4) * 1024 * 1024
            if _vm("VmPeak") >= limit - near:
                payload = b"M"
            else:
                payload = b"E" + f"{type(exc).__name__}: {exc}"[:500].encode()
        _write_all(out, payload)
    finally:
        os._exit(0)


def _first_page_frame(letter: Letter) -> tuple[bytes, bytes]:
    """``P`` + length + the PDF of the first page alone, or nothing when it cannot be made;
    and that PDF again when the first page is the whole letter (no need to lay it out twice)."""
    try:
        data, whole = render_first_page(letter)
    except Exception:  # the whole render, next, reports what is wrong with the letter
        return b"", b""
    return b"P" + len(data).to_bytes(8, "big") + data, data if whole else b""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _vm(field: str) -> int:
    """This process's ``VmSize`` (virtual size) or ``VmPeak`` in bytes. The child's limit is
    set above its size at the fork, since a worker's threads and mapped fonts already take
    hundreds of MB of address space."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _read_child(
    fd: int, deadline: float, first_page: Callable[[bytes], None] | None = None
) -> bytes | None:
    """Everything the child writes, or None when it has not finished by ``deadline``; a first
    page ahead of it (``_first_page_frame``) goes to ``first_page`` as soon as it is whole."""
    data = bytearray()
    waiting_first = first_page is not None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _w, _x = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return bytes(data)
        data += chunk
        if waiting_first and data[:1] == b"P" and len(data) >= 9:
            end = 9 + int.from_bytes(data[1:9], "big")
            if len(data) >= end:
                assert first_page is not None
                waiting_first = False
                first_page(bytes(data[9:end]))
                del data[:end]
        elif waiting_first and data[:1] != b"P":
            waiting_first = False  # no first page: straight to the outcome


def _reap(pid: int) -> int:
    """Kill the child if it still runs and collect it (no zombie); its wait status."""
    finished, status = os.waitpid(pid, os.WNOHANG)
    if finished == 0:
        os.kill(pid, signal.SIGKILL)
        _pid, status = os.waitpid(pid, 0)
    return status


def _child_outcome(outcome: bytes | None, status: int, seconds: float, memory_mb: int) -> bytes:
    if outcome is None:
        wall = math.ceil(seconds * WALL_FACTOR)
        raise RenderFailed(_("生成PDF超时（超过%(n)d秒），已中止。") % {"n": wall})
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
        cpu = math.ceil(seconds)
        raise RenderFailed(_("生成PDF超时（计算超过%(n)d秒），已中止。") % {"n": cpu})
    if outcome.startswith(b"K"):
        return outcome[1:]
    if outcome.startswith(b"M"):
        raise RenderFailed(_("生成PDF所需内存超过上限（%(n)d MB），已中止。") % {"n": memory_mb})
    if outcome.startswith(b"E"):
        raise RenderFailed(_("生成PDF出错。"), outcome[1:].decode(errors="replace"))
    # No answer and no timeout: the child died (a C library that aborts when memory runs out).
    signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    raise RenderFailed(
        _("生成PDF的进程异常退出，可能超出了内存上限（%(n)d MB）。") % {"n": memory_mb},
        f"signal {signum}" if signum else f"exit {os.WEXITSTATUS(status)}",
    )


def _stylesheet() -> CSS:
    """The letter's stylesheet, parsed once per thread (parsing it costs ~10 ms a letter)."""
    css = getattr(_thread, "stylesheet", None)
    if css is None:
        css = _thread.stylesheet = CSS(
            filename=str(ASSETS_DIR / "letter.css"),
            url_fetcher=LetterFetcher(),
            font_config=_font_config(),
        )
    return css


_thread = threading.local()
logger = logging.getLogger(__name__)


def _font_config() -> FontConfiguration:
    """The thread's Fontconfig set-up, kept from one letter to the next.

    WeasyPrint otherwise loads the system fonts and a new Pango font map for every document,
    a fifth of a letter's render time. Pango's font map is not thread-safe, hence one per thread
    (one per process in Celery's prefork pool). The letter's CSS has no ``@font-face``, so the
    set-up holds nothing but the system fonts and Pango's caches.
    """
    config = getattr(_thread, "font_config", None)
    if config is None:
        config = _thread.font_config = FontConfiguration()
    return config
