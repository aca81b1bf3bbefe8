"""Which face prints each character of a letter, and warnings where a name leaves its face.

The letter's stylesheet names a stack of faces for each kind of text (``FACE_STACKS``, the same
lists as ``letter.css``). Pango, through Fontconfig, prints a character in the first face of the
stack whose character map has it, whether or not the glyph has an outline: AR PL UKai maps 43
Ext-A characters (䶮 …) to empty glyphs, which is why it is no longer in any stack. Every face
listed here has real outlines for all of GBK, and the stacks end in Noto CJK, which covers
GB 18030's Ext-A and the common Ext-B names (𠮷).

``glyph_warnings(letter)`` lists, in Chinese, each name (proposers, 签发人, 落款, organs …)
with characters its main face lacks (printed from a fallback face, which looks different), and
any character that no face would print. The answers come from the font files themselves
(fontTools: the character map, then the glyph's outline), not from the PDF's text layer.
"""

from __future__ import annotations

import functools
import subprocess
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from fontTools.pens.boundsPen import ControlBoundsPen
from fontTools.ttLib import TTFont

from replies.letter import Letter

FANG = ("FandolFang", "LXGW WenKai", "Noto Serif CJK SC")  # 仿宋: body, names, 落款
KAI = ("FandolKai", "LXGW WenKai", "Noto Serif CJK SC")  # 楷体: 签发人's name, （一） headings
# The last face of each stack catches Ext-B names Noto CJK SC lacks (𡒄): a 楷 glyph beats none.
HEI = ("FandolHei", "Noto Sans CJK SC", "LXGW WenKai")  # 黑体: 一、 headings, 办理结果
SONG_BOLD = ("FandolSong", "Noto Serif CJK SC", "LXGW WenKai")  # 小标宋: organ, title, 1.

FACE_STACKS: dict[str, tuple[str, ...]] = {
    "fang": FANG,
    "kai": KAI,
    "hei": HEI,
    "song-bold": SONG_BOLD,
}
_BOLD_STACKS = frozenset({"song-bold"})
_STYLE_NAMES = {"fang": "仿宋", "kai": "楷体", "hei": "黑体", "song-bold": "小标宋"}


@dataclass(frozen=True)
class Face:
    family: str
    path: str
    index: int


@functools.cache
def _installed_faces() -> dict[tuple[str, bool], Face]:
    """Each family Fontconfig knows, regular and bold, by its file (read once a process)."""
    listing = subprocess.run(
        ["fc-list", "-f", "%{family}|%{style}|%{file}|%{index}\n"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout
    faces: dict[tuple[str, bool], Face] = {}
    for line in listing.splitlines():
        parts = line.split("|")
        if len(parts) != 4:
            continue
        families, styles, path, index = parts
        styles_set = set(styles.split(","))
        bold = "Bold" in styles_set
        if not bold and not styles_set & {"Regular", "Book", "R"}:
            continue
        for family in families.split(","):
            faces.setdefault((family, bold), Face(family, path, int(index or 0)))
    return faces


def face_for_family(family: str, *, bold: bool = False) -> Face | None:
    faces = _installed_faces()
    return faces.get((family, bold)) or faces.get((family, not bold))


@functools.cache
def _font(face: Face) -> TTFont:
    return TTFont(face.path, fontNumber=face.index, lazy=True)


@functools.cache
def _cmap(face: Face) -> dict[int, str]:
    return _font(face).getBestCmap() or {}


def maps(face: Face, char: str) -> bool:
    """The face's character map has ``char`` (what Fontconfig and Pango go by)."""
    return ord(char) in _cmap(face)


@functools.lru_cache(maxsize=65536)
def has_outline(face: Face, char: str) -> bool:
    """The face draws something for ``char``: mapped to a glyph with at least one contour."""
    glyph = _cmap(face).get(ord(char))
    if glyph is None:
        return False
    glyphs = _font(face).getGlyphSet()
    pen = ControlBoundsPen(glyphs)
    glyphs[glyph].draw(pen)
    return pen.bounds is not None


def printing_face(char: str, stack: str) -> Face | None:
    """The face of ``FACE_STACKS[stack]`` that prints ``char``: the first that maps it."""
    bold = stack in _BOLD_STACKS
    for family in FACE_STACKS[stack]:
        face = face_for_family(family, bold=bold)
        if face is not None and maps(face, char):
            return face
    return None


def _is_ink(char: str) -> bool:
    """A CJK character or symbol that prints a glyph of its own (not a space, a variation
    selector or another mark that combines with the character before it)."""
    if char.isspace() or ord(char) < 0x2E80:
        return False
    return unicodedata.category(char) not in ("Mn", "Mc", "Me", "Cf", "Co", "Cn")


def _names(letter: Letter) -> Iterable[tuple[str, str, str]]:
    """(label, text, stack) of each name a letter prints."""
    yield _("称呼"), letter.salutation, "fang"
    yield _("签发人"), letter.signer, "kai"
    yield _("联系人"), letter.contact.person, "fang"
    for organ in letter.organs:
        yield _("发文机关"), organ, "song-bold"
    for organ in letter.signing_organs:
        yield _("落款"), organ, "fang"
    for unit in letter.cc:
        yield _("抄送"), unit, "fang"
    yield _("印发机关"), letter.printed_by, "fang"


def _body_texts(letter: Letter) -> Iterable[tuple[str, str, str]]:
    yield _("标题"), letter.title, "song-bold"
    for block in letter.body:
        stack = {1: "hei", 2: "kai", 3: "song-bold"}.get(block.level, "fang")
        yield _("正文"), block.text, stack


def glyph_warnings(letter: Letter) -> list[str]:
    """Warnings, in Chinese, for characters of names printed from a fallback face, and for any
    character of the letter that no face of its stack would print visibly."""
    warnings: list[str] = []
    for label, text, stack in _names(letter):
        fallback: dict[str, list[str]] = {}
        for char in dict.fromkeys(c for c in text if _is_ink(c)):
            face = printing_face(char, stack)
            main = FACE_STACKS[stack][0]
            if face is not None and face.family != main and has_outline(face, char):
                fallback.setdefault(face.family, []).append(char)
        for family, chars in fallback.items():
            warnings.append(
                _(
                    "%(label)s「%(text)s」中的“%(chars)s”不在%(style)s字库%(main)s中，"
                    "将以%(family)s字体印出，字形与其他字不同，请核对。"
                )
                % {
                    "label": label,
                    "text": text,
                    "chars": "、".join(chars),
                    "style": _STYLE_NAMES[stack],
                    "main": FACE_STACKS[stack][0],
                    "family": family,
                }
            )
    invisible: dict[str, None] = {}
    for _label, text, stack in (*_names(letter), *_body_texts(letter)):
        for char in text:
            if _is_ink(char) and char not in invisible:
                face = printing_face(char, stack)
                if face is None or not has_outline(face, char):
                    invisible[char] = None
    if invisible:
        warnings.append(
            _("以下字符没有可用的字形，打印出来会是空白：%(chars)s。请改用常用字或附说明。")
            % {"chars": "、".join(invisible)}
        )
    return warnings
