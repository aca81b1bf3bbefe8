"""Seal images: what a unit may upload (a transparent red seal, PNG or SVG) and the picture
that is pressed on its signed letters.

The checks are the ones a clerk can act on: the file is a PNG with an alpha channel or an SVG
without scripts or outside references, of a sensible size, mostly transparent, and what is not
transparent is red. A scanned seal on white paper, a black stamp or a photo fails.
"""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET
from typing import cast

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image

MAX_BYTES = 2 * 1024 * 1024
MIN_PIXELS, MAX_PIXELS = 200, 4000
#: At least this share of the picture is transparent (the paper shows around the seal) …
MIN_TRANSPARENT = 0.2
#: … at least this share is ink …
MIN_INK = 0.03
#: … and at least this share of the ink is red.
MIN_RED = 0.8
#: The size a seal is pressed at, in pixels across (42 mm at about 360 dpi).
RASTER_SIZE = 600
_SVG_NS = "{http://www.w3.org/2000/svg}"
_HEX = re.compile(r"^#([0-9a-f]{3}|[0-9a-f]{6})$")
_RGB = re.compile(r"^rgba?\(\s*(\d+)%?\s*,\s*(\d+)%?\s*,\s*(\d+)%?")
_STYLE_COLOUR = re.compile(r"(?:fill|stroke|stop-color|color)\s*:\s*([^;]+)")
_NO_PAINT = {"none", "transparent", "currentcolor", "inherit", ""}


def is_red(r: int, g: int, b: int) -> bool:
    """Seal red: a strong red channel well above green and blue (print red is about
    (255, 51, 51); scans of real seals run from (200, 30, 40) to (240, 90, 90))."""
    return r >= 120 and r >= 1.6 * g and r >= 1.6 * b


def validate_seal(data: bytes, name: str) -> str:
    """``"png"`` or ``"svg"``; ``ValidationError`` (Chinese, to the point) otherwise."""
    if len(data) > MAX_BYTES:
        raise ValidationError(_("印章图片不能超过%(n)d MB。") % {"n": MAX_BYTES // 1024 // 1024})
    if data.lstrip()[:5] in (b"<?xml", b"<svg ") or name.lower().endswith(".svg"):
        _validate_svg(data)
        return "svg"
    _validate_png(data)
    return "png"


def _validate_png(data: bytes) -> None:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:
        raise ValidationError(_("无法读取印章图片，请上传PNG或SVG文件。")) from exc
    if image.format != "PNG":
        raise ValidationError(_("印章图片须为PNG或SVG格式。"))
    width, height = image.size
    if not (min(width, height) >= MIN_PIXELS and max(width, height) <= MAX_PIXELS):
        raise ValidationError(
            _("印章图片的宽和高须在%(a)d至%(b)d像素之间（现为%(w)d×%(h)d）。")
            % {"a": MIN_PIXELS, "b": MAX_PIXELS, "w": width, "h": height}
        )
    if not 0.5 <= width / height <= 2:
        raise ValidationError(_("印章图片的宽高比不对，请裁切到印章本身。"))
    if "A" not in image.getbands() and "transparency" not in image.info:
        raise ValidationError(_("印章图片没有透明背景，请上传背景透明的PNG。"))
    check_ink(image.convert("RGBA"))


def check_ink(image: Image.Image) -> None:
    """Transparent around, red where inked (on a thumbnail: the shares, not the pixels)."""
    small = image.copy()
    small.thumbnail((200, 200))
    pixels = cast(list[tuple[int, int, int, int]], list(small.get_flattened_data()))
    total = len(pixels)
    clear = sum(1 for p in pixels if p[3] < 32)
    ink = [p for p in pixels if p[3] >= 128]
    if clear < MIN_TRANSPARENT * total:
        raise ValidationError(_("印章图片的背景不透明，请上传背景透明的图片。"))
    if len(ink) < MIN_INK * total:
        raise ValidationError(_("印章图片几乎是空白的。"))
    red = sum(1 for r, g, b, _a in ink if is_red(r, g, b))
    if red < MIN_RED * len(ink):
        raise ValidationError(
            _("印章应为红色：图片中只有%(n)d%%的着色部分是红色。") % {"n": 100 * red // len(ink)}
        )


def _svg_colour_is_red(value: str) -> bool | None:
    """True/False for a colour, None for no paint (none, transparent, url(#gradient)…)."""
    value = value.strip().lower()
    if value in _NO_PAINT or value.startswith("url("):
        return None
    if value == "red":
        return True
    if _HEX.match(value):
        digits = value[1:]
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        return is_red(r, g, b)
    match = _RGB.match(value)
    if match:
        return is_red(*(int(x) for x in match.groups()))
    return False


def _validate_svg(data: bytes) -> None:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ValidationError(_("SVG印章不能包含DOCTYPE或实体声明。"))
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ValidationError(_("无法读取SVG印章：%(e)s") % {"e": exc}) from exc
    if root.tag != f"{_SVG_NS}svg":
        raise ValidationError(_("不是SVG图片。"))
    colours: list[str] = []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in ("script", "foreignObject", "image", "style"):
            raise ValidationError(
                _("SVG印章不能包含脚本、嵌入图片或样式表（%(t)s）。") % {"t": tag}
            )
        for key, value in element.attrib.items():
            local = key.rsplit("}", 1)[-1]
            if local == "href" and not value.startswith("#"):
                raise ValidationError(_("SVG印章不能引用外部资源。"))
            if local.startswith("on"):
                raise ValidationError(_("SVG印章不能包含脚本。"))
            if local in ("fill", "stroke", "stop-color", "color"):
                colours.append(value)
            if local == "style":
                colours += _STYLE_COLOUR.findall(value)
        if tag == "rect" and _covers_everything(element, root):
            raise ValidationError(_("SVG印章有不透明的背景，请去掉背景。"))
    painted = [c for c in colours if _svg_colour_is_red(c) is not None]
    if not painted and not colours:
        raise ValidationError(_("SVG印章没有标明颜色，印章应为红色。"))
    if any(_svg_colour_is_red(c) is False for c in painted):
        raise ValidationError(_("印章应为红色：SVG中有非红色的部分。"))


def _covers_everything(rect: ET.Element, root: ET.Element) -> bool:
    fill = rect.get("fill", "black")
    if _svg_colour_is_red(fill) is None:
        return False
    box = (root.get("viewBox") or "").replace(",", " ").split()
    full = {"100%", *(box[2:4] if len(box) == 4 else ()), root.get("width"), root.get("height")}
    return rect.get("width") in full and rect.get("height") in full


def seal_picture(data: bytes, kind: str) -> Image.Image:
    """The seal as an RGBA picture ``RASTER_SIZE`` pixels across, for pressing on the PDF."""
    image = _rasterize_svg(data) if kind == "svg" else Image.open(io.BytesIO(data))
    image = image.convert("RGBA")
    image.thumbnail((RASTER_SIZE, RASTER_SIZE), Image.Resampling.LANCZOS)
    return image


def _rasterize_svg(data: bytes) -> Image.Image:
    """The SVG drawn by WeasyPrint (the worker has it loaded) and rasterized by pdfium."""
    # The web processes never load WeasyPrint (replies.renderer): only the worker gets here.
    import pypdfium2
    from weasyprint import HTML

    from replies.pdf_fetcher import LetterFetcher

    # Only the data: URL below is loaded; the letter's fetcher refuses everything else.
    source = "data:image/svg+xml;base64," + base64.b64encode(data).decode()
    page = (
        "<style>@page{size:42mm 42mm;margin:0}body{margin:0}"
        "img{width:42mm;height:42mm;display:block}</style>"
        f'<img src="{source}">'
    )
    pdf = HTML(string=page, url_fetcher=LetterFetcher()).write_pdf()
    document = pypdfium2.PdfDocument(pdf)
    bitmap = document[0].render(scale=RASTER_SIZE / (42 * 72 / 25.4), fill_color=(0, 0, 0, 0))
    return bitmap.to_pil()
