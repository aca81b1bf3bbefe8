"""The statistics page's two charts as PNG images, for documents (a Word file takes no SVG).

The layout is ``tracker.charts``' (rows, bar lengths, slices, colours), the one the page draws
as SVG, so the report shows the same pictures; only the drawing is Pillow's. Each image is drawn
at twice its size and scaled down, which smooths the ring and the text's edges.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess

from PIL import Image, ImageDraw, ImageFont

from tracker.charts import Bars, Donut

#: Pixels per SVG unit of ``tracker.charts``' layout in the final image (about 300 dpi when the
#: bar chart is printed 15 cm wide).
SCALE = 3
_OVERSAMPLE = 2
TEXT, MUTED, TRACK = "#3e4c59", "#5f6b7a", "#eef2f6"
#: fontconfig patterns tried in turn for the charts' text: a Chinese sans-serif face.
FONT_PATTERNS = ("Noto Sans CJK SC", "FandolHei", "AR PL UKai CN")


@functools.cache
def _font_file(bold: bool) -> tuple[str, int] | None:
    """The file (and face index) fontconfig gives for a Chinese face, or None without one."""
    if not shutil.which("fc-match"):
        return None
    for pattern in FONT_PATTERNS:
        query = f"{pattern}:lang=zh-cn{':bold' if bold else ''}"
        found = subprocess.run(
            ["fc-match", "-f", "%{file}\n%{index}\n%{family}", query],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split("\n")
        if len(found) >= 3 and pattern.lower() in found[2].lower():
            return found[0], int(found[1] or 0)
    return None


def _font(size: float, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    px = round(size * SCALE * _OVERSAMPLE)
    found = _font_file(bold)
    if found is None:
        return ImageFont.load_default(px)
    path, index = found
    return ImageFont.truetype(path, px, index=index)


class _Canvas:
    """A white image in the layout's units: every coordinate given here is multiplied."""

    def __init__(self, width: float, height: float) -> None:
        self.k = SCALE * _OVERSAMPLE
        self.size = (round(width * SCALE), round(height * SCALE))
        self.image = Image.new("RGB", (round(width * self.k), round(height * self.k)), "white")
        self.draw = ImageDraw.Draw(self.image)

    def box(self, x: float, y: float, w: float, h: float) -> list[float]:
        return [x * self.k, y * self.k, (x + w) * self.k, (y + h) * self.k]

    def rect(self, x: float, y: float, w: float, h: float, fill: str, radius: float = 0) -> None:
        if w <= 0:
            return
        r = min(radius, w / 2, h / 2) * self.k
        self.draw.rounded_rectangle(self.box(x, y, w, h), radius=r, fill=fill)

    def text(
        self, x: float, y: float, text: str, size: float, fill: str = TEXT, anchor: str = "ls"
    ) -> None:
        """``anchor`` as Pillow's: ``ls`` left-baseline, ``rs`` right, ``ms`` middle."""
        self.draw.text((x * self.k, y * self.k), text, fill=fill, font=_font(size), anchor=anchor)

    def text_width(self, text: str, size: float) -> float:
        return self.draw.textlength(text, font=_font(size)) / self.k

    def png(self) -> bytes:
        out = io.BytesIO()
        dpi = 300
        self.image.resize(self.size, Image.Resampling.LANCZOS).save(
            out, format="PNG", dpi=(dpi, dpi), optimize=True
        )
        return out.getvalue()


def _legend(canvas: _Canvas, x: float, y: float, items: list[tuple[str, str]]) -> None:
    """Swatches and labels in one row from ``x``; ``y`` is the row's baseline."""
    for colour, label in items:
        canvas.rect(x, y - 10, 10, 10, colour, radius=2)
        canvas.text(x + 15, y, label, 12)
        x += 15 + canvas.text_width(label, 12) + 24


def rate_bars_png(bars: Bars, legend: tuple[str, str]) -> bytes:
    """``tracker.charts.rate_bars`` drawn: one row per group, 办复率 wide and 按期办复率 narrow
    inside it, with the two rates in words at the end; ``legend`` names the two bars."""
    legend_height = 30
    canvas = _Canvas(bars.width, bars.height + legend_height)
    for row in bars.rows:
        canvas.text(bars.label_width - 8, row.y + 17, row.label, 13, anchor="rs")
        canvas.rect(bars.bar_x, row.y + 4, bars.bar_width, 18, TRACK, radius=3)
        canvas.rect(bars.bar_x, row.y + 4, row.reply_width, 18, bars.reply_colour, radius=3)
        canvas.rect(bars.bar_x, row.y + 9, row.on_time_width, 8, bars.on_time_colour, radius=2)
        canvas.text(bars.value_x, row.y + 17, row.text, 12)
    _legend(
        canvas,
        bars.bar_x,
        bars.height + 18,
        [(bars.reply_colour, legend[0]), (bars.on_time_colour, legend[1])],
    )
    return canvas.png()


def result_donut_png(donut: Donut, centre_caption: str) -> bytes:
    """``tracker.charts.result_donut`` drawn: the A/B/C/D ring from 12 o'clock clockwise, the
    total in its middle, and a legend with each class's count and share at its right."""
    width, height, cx, cy, ring = 560, 170, 90, 85, 26
    canvas = _Canvas(width, height)
    outer = donut.radius + ring / 2
    bbox = canvas.box(cx - outer, cy - outer, 2 * outer, 2 * outer)
    canvas.draw.ellipse(bbox, outline=TRACK, width=round(ring * canvas.k))
    start = -90.0
    for piece in donut.slices:
        if not piece.count or not donut.total:
            continue
        sweep = 360.0 * piece.count / donut.total
        canvas.draw.arc(bbox, start, start + sweep, fill=piece.colour, width=round(ring * canvas.k))
        start += sweep
    canvas.text(cx, cy + 4, str(donut.total), 20, fill="#1f2933", anchor="ms")
    canvas.text(cx, cy + 22, centre_caption, 11, fill=MUTED, anchor="ms")
    y = cy - 1.5 * 28 + 6
    for piece in donut.slices:
        canvas.rect(200, y - 12, 14, 14, piece.colour, radius=2)
        canvas.text(222, y, f"{piece.label}　{piece.count} 件（{piece.share}）", 14)
        y += 28
    return canvas.png()
