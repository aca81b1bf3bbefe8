"""An image attachment (JPEG, PNG) must decode fully with Pillow, and a PNG must end at IEND.

One of the checks of ``proposals.validators.inspect_attachment``; the image's pixels are capped
before it is decoded.
"""

from __future__ import annotations

import io
import struct

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from proposals.validators_kinds import _PNG_SIGNATURE, JPEG, PNG, FileKind, _refuse_unreadable

#: Images larger than this (A4 at 600 dpi is 35 megapixels) are refused before decoding.
MAX_IMAGE_PIXELS = 89_478_485


def _check_image(data: bytes, kind: FileKind) -> None:
    from PIL import Image

    expected = {JPEG: "JPEG", PNG: "PNG"}[kind]
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != expected:
                raise _refuse_unreadable(kind)
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationError(
                    _("图像尺寸过大（%(w)s×%(h)s 像素）。") % {"w": width, "h": height},
                    code="too_many_pixels",
                )
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except ValidationError:
        raise
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError … on bad input
        raise _refuse_unreadable(kind) from exc
    if kind is PNG and _png_end(data) != len(data):
        raise ValidationError(_("PNG 文件结束后还有多余数据，不予接收。"), code="trailing_data")


def _png_end(data: bytes) -> int:
    """Where the IEND chunk of a PNG ends (-1 if the chunks do not lead to it)."""
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunk_type = data[pos + 4 : pos + 8]
        pos += 12 + length
        if chunk_type == b"IEND":
            return pos
    return -1
