"""The reply letter as PDF: GB/T 9704-2012 laid out by WeasyPrint, as a pure function of a Letter.

``render_letter_pdf(letter)`` renders the Django template ``replies/letter.html`` (auto-escaped:
letter text is always text, never markup) with the stylesheet ``replies/letter.css`` into a
PDF/A-2b file. Layout figures and the WeasyPrint 70 specifics behind them are in
``docs/letter-layout.md``; the CSS carries the grid.

Everything WeasyPrint loads goes through ``LetterFetcher``, which serves ``data:`` URLs and a
fixed list of the project's own letter assets, and refuses anything else (local files, the
network, cloud metadata endpoints, attachments).
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import pydyf
from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from replies.letter import Letter, LetterFormat

__all__ = [
    "ALLOWED_ASSETS",
    "ASSETS_DIR",
    "MAX_LETTER_CHARS",
    "RENDER_TIME_LIMIT",
    "LetterFetcher",
    "LetterTooLarge",
    "render_letter_pdf",
]

#: The letter's own assets: the only files the renderer may read.
ASSETS_DIR = Path(settings.BASE_DIR) / "templates" / "replies"
ALLOWED_ASSETS = frozenset({"letter.css"})

#: Rendering is CPU-bound and grows with the text: seed 001 (6 pages) takes about 0.2 s warm, a
#: letter at this cap (105 pages) 2.4 s. Anything longer is not a reply letter but an attack or a
#: paste error, and is refused before WeasyPrint sees it.
MAX_LETTER_CHARS = 60_000
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
    """The letter's text is longer than any reply letter; it is not rendered."""


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


def check_letter_size(letter: Letter) -> None:
    """Refuse a letter whose text would take the renderer longer than a letter should."""
    size = sum(
        len(text)
        for text in (
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
            *(block.text for block in letter.body),
        )
    )
    if size > MAX_LETTER_CHARS:
        raise LetterTooLarge(f"letter text has {size} characters, more than {MAX_LETTER_CHARS}")


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
