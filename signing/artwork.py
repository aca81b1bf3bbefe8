"""Demo seals, drawn: a red ring, a star, the organ's name along the top arc and 演示 below.

For the demo (``load_demo``) and the tests only. A real unit uploads the picture of its own
seal; the word 演示 on these makes sure a demo seal is never taken for one.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZE = 600
RED = (230, 0, 18, 255)
_FONTS = (
    "/usr/local/share/fonts/fandol/FandolSong-Bold.otf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.38
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    draw.polygon(points, fill=RED)


def _arc_text(image: Image.Image, text: str, radius: float, size: int) -> None:
    """``text`` along the top of a circle, upright towards the centre, left to right."""
    font = _font(size)
    span = min(math.radians(250), len(text) * size * 1.05 / radius)
    centre = SIZE / 2
    for index, char in enumerate(text):
        angle = -math.pi / 2 - span / 2 + span * (index + 0.5) / len(text)
        glyph = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((size, size), char, font=font, fill=RED, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = centre + radius * math.cos(angle) - size
        y = centre + radius * math.sin(angle) - size
        image.alpha_composite(glyph, (round(x), round(y)))


def draw_seal(organ: str, *, mark: str = "演示") -> bytes:
    """A transparent PNG of a round seal for ``organ``, marked ``mark`` (演示)."""
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((12, 12, SIZE - 12, SIZE - 12), outline=RED, width=18)
    _star(draw, SIZE / 2, SIZE / 2, 90)
    size = 64 if len(organ) <= 12 else max(40, int(64 * 12 / len(organ)))
    _arc_text(image, organ, SIZE / 2 - 40 - size / 2, size)
    if mark:
        draw.text((SIZE / 2, SIZE * 0.74), mark, font=_font(70), fill=RED, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
