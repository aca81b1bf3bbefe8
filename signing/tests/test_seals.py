"""What a unit may upload as its seal: a transparent red picture, PNG or SVG."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from PIL import Image, ImageDraw

from signing.artwork import draw_seal
from signing.seals import seal_picture, validate_seal


def _png(mode: str, background, ink, size=(400, 400)) -> bytes:
    image = Image.new(mode, size, background)
    ImageDraw.Draw(image).ellipse((20, 20, size[0] - 20, size[1] - 20), outline=ink, width=30)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_drawn_transparent_red_seal_is_accepted():
    assert validate_seal(draw_seal("上海市普陀区财政局"), "seal.png") == "png"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_png("RGB", (255, 255, 255), (230, 0, 18)), "透明"),  # scanned on white paper
        (_png("RGBA", (255, 255, 255, 255), (230, 0, 18, 255)), "背景不透明"),
        (_png("RGBA", (0, 0, 0, 0), (20, 20, 20, 255)), "红色"),  # a black stamp
        (_png("RGBA", (0, 0, 0, 0), (230, 0, 18, 255), size=(100, 100)), "像素"),
        (_png("RGBA", (0, 0, 0, 0), (0, 0, 0, 0)), "空白"),
        (b"GIF89a not a png", "无法读取"),
    ],
)
def test_a_seal_that_is_not_a_transparent_red_picture_is_refused(data, message):
    with pytest.raises(ValidationError) as refused:
        validate_seal(data, "seal.png")
    assert message in refused.value.messages[0]


RED_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="100" height="100">'
    b'<circle cx="50" cy="50" r="45" fill="none" stroke="#e60012" stroke-width="4"/>'
    b'<path d="M50 30 L56 48 L74 48 L60 58 L65 76 L50 65 L35 76 L40 58 L26 48 L44 48 Z" '
    b'fill="red"/></svg>'
)


def test_a_red_svg_seal_is_accepted_and_drawn_transparent():
    assert validate_seal(RED_SVG, "seal.svg") == "svg"
    picture = seal_picture(RED_SVG, "svg")
    assert picture.mode == "RGBA" and picture.getpixel((2, 2))[3] == 0
    r, g, _b, a = picture.getpixel((picture.width // 2, int(picture.height * 0.45)))
    assert a > 200 and r > 200 and g < 80


@pytest.mark.parametrize(
    ("svg", "message"),
    [
        (RED_SVG.replace(b"</svg>", b"<script>alert(1)</script></svg>"), "脚本"),
        (RED_SVG.replace(b'fill="red"', b'fill="#000000"'), "红色"),
        (RED_SVG.replace(b"<circle", b'<image href="http://x/a.png"/><circle'), "嵌入"),
        (
            RED_SVG.replace(b"<circle", b'<rect width="100" height="100" fill="red"/><circle'),
            "背景",
        ),
        (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "b">]><svg/>', "DOCTYPE"),
    ],
)
def test_an_svg_seal_with_scripts_outside_links_other_colours_or_a_background_is_refused(
    svg, message
):
    with pytest.raises(ValidationError) as refused:
        validate_seal(svg, "seal.svg")
    assert message in refused.value.messages[0]
