"""The reply letter as PDF: GB/T 9704-2012 laid out by WeasyPrint, as a pure function of a Letter.

``render_letter_pdf(letter)`` renders the Django template ``replies/letter.html`` (auto-escaped:
letter text is always text, never markup) with the stylesheet ``replies/letter.css`` into a
PDF/A-2b file. Layout figures and the WeasyPrint 70 specifics behind them are in
``docs/letter-layout.md``; the CSS carries the grid.

Everything WeasyPrint loads goes through ``LetterFetcher``, which serves ``data:`` URLs and a
fixed list of the project's own letter assets, and refuses anything else (local files, the
network, cloud metadata endpoints, attachments).

A letter is bounded before it costs anything (``check_letter_size``: characters, printed lines,
paragraphs, rows of a pasted table, and the lines of the text as typed), and
``render_letter_pdf_isolated`` renders it in a child process with its own time and memory
limits, for the previews of drafts.
"""

from __future__ import annotations

import hashlib
import math
import mimetypes
import os
import re
import resource
import select
import signal
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import pydyf
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from replies.letter import Block, Contact, Letter, LetterFormat

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
    "measure_letter",
    "render_letter_pdf",
    "render_letter_pdf_isolated",
]

#: The letter's own assets: the only files the renderer may read.
ASSETS_DIR = Path(settings.BASE_DIR) / "templates" / "replies"
ALLOWED_ASSETS = frozenset({"letter.css"})

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
#: Seconds a rendering task may take, for the Celery task that renders (its ``soft_time_limit``,
#: with the hard ``time_limit`` a little above): under the cap a render takes a few seconds, so
#: hitting the limit means something is wrong, and the task fails instead of holding a worker.
#: The worker's ``--max-memory-per-child`` bounds the memory of a runaway layout the same way.
RENDER_TIME_LIMIT = 60

PDF_VARIANT = "pdf/a-2b"

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


class LetterFetcher(URLFetcher):
    """WeasyPrint's fetcher for letters: ``data:`` URLs and the letter's own assets only.

    WeasyPrint 70 needs a ``URLFetcher`` subclass. Redirects are off; every other URL — other
    local files, loopback or private addresses, cloud metadata, attachments — raises, and
    WeasyPrint leaves the resource out.
    """

    def __init__(self) -> None:
        super().__init__(
            timeout=2, allowed_protocols=("data", "file"), allow_redirects=False, http_headers={}
        )
        self._allowed = {(ASSETS_DIR / name).resolve(): name for name in ALLOWED_ASSETS}

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = self._asset_path(url)
            if path is not None:
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    url, body=path.read_bytes(), headers={"Content-Type": content_type}
                )
        raise ValueError(f"a letter may not load {url[:200]!r}")

    def _asset_path(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            return None
        path = Path(url2pathname(unquote(parts.path))).resolve()
        return path if path in self._allowed else None


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
    return _write_pdf(letter)


def _write_pdf(letter: Letter) -> bytes:
    html = render_to_string("replies/letter.html", letter_context(letter))
    document = HTML(string=html, base_url=ASSETS_DIR.as_uri() + "/", url_fetcher=LetterFetcher())
    return document.write_pdf(
        stylesheets=[_stylesheet()],
        pdf_variant=PDF_VARIANT,
        # PDF/A needs a file identifier. Left to pydyf it is an MD5 over every object, which
        # compresses each stream a second time (~30 ms a letter); a hash of the HTML is as
        # unique and as stable for the same letter.
        pdf_identifier=hashlib.md5(html.encode(), usedforsecurity=False).hexdigest().encode(),
        presentational_hints=False,
        font_config=_font_config(),
    )


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


def render_letter_pdf_isolated(letter: Letter, *, seconds: float, memory_mb: int) -> bytes:
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
    """
    check_letter_size(letter)
    _warm_up()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; its outcome is what the parent reads
        os.close(read_end)
        _child_render(letter, write_end, seconds, memory_mb)
    os.close(write_end)
    try:
        outcome = _read_child(read_end, time.monotonic() + seconds * WALL_FACTOR)
    finally:
        os.close(read_end)
        status = _reap(pid)
    return _child_outcome(outcome, status, seconds, memory_mb)


def _warm_up() -> None:
    """Lay out a small fixed letter once in this thread, so that every child forked from it
    starts with the fonts loaded and the stylesheet parsed (a cold child spends about half a
    second more on them). The letter is the project's own, not a user's."""
    if getattr(_thread, "warm", False):
        return
    _write_pdf(
        Letter(
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
    )
    _thread.warm = True


_WARM_UP_LINES = ("正文。", "一、标题。", "（一）标题。", "1.标题。正文", "（1）标题。")


def _child_render(letter: Letter, out: int, seconds: float, memory_mb: int) -> None:
    """In the child: limit this process, render, write ``K`` + PDF, ``M`` (out of memory) or
    ``E`` + the error to ``out``, and exit without any clean-up.

    Memory running out does not always raise ``MemoryError``: a C library under WeasyPrint may
    fail another way (``SystemError``, a cffi error) or abort. A failure once the process's
    peak address space came within a quarter of the budget (64 MB at most) of the limit is
    reported as memory; an abort is the parent's to read from the exit status."""
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.nice(CHILD_NICENESS)
        cpu = max(1, math.ceil(seconds))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        limit = _vm("VmSize") + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            payload = b"K" + render_letter_pdf(letter)
        except MemoryError:
            payload = b"M"
        except BaseException as exc:  # any failure is the parent's to report
            near = min(64, memory_mb / 4) * 1024 * 1024
            if _vm("VmPeak") >= limit - near:
                payload = b"M"
            else:
                payload = b"E" + f"{type(exc).__name__}: {exc}"[:500].encode()
        view = memoryview(payload)
        while view:
            view = view[os.write(out, view) :]
    finally:
        os._exit(0)


def _vm(field: str) -> int:
    """This process's ``VmSize`` (virtual size) or ``VmPeak`` in bytes. The child's limit is
    set above its size at the fork, since a worker's threads and mapped fonts already take
    hundreds of MB of address space."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _read_child(fd: int, deadline: float) -> bytes | None:
    """Everything the child writes, or None when it has not finished by ``deadline``."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _w, _x = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


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


# --- What the template gets ----------------------------------------------------------------


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
