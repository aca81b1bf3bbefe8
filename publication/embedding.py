"""The district portal may show the public pages in a frame (issue 22: "embed or link them").

Everything else of the site refuses to be framed (``X-Frame-Options: DENY``, CSP
``frame-ancestors 'none'``). The public pages are framed only by the origins an operator names
in ``PUBLIC_EMBED_ORIGINS`` (``https://www.example.gov.cn``): their answers then carry
``frame-ancestors`` with exactly those origins and no ``X-Frame-Options`` (which cannot name
an origin). Empty (the default): the public pages refuse frames like the rest. A malformed
origin stops the site at start (``manage.py check``), rather than silently allowing nothing
or too much.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from django.http import HttpResponseBase

#: ``https://host`` or ``https://host:port`` (``http`` for a portal on an intranet), no path.
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


def origins() -> list[str]:
    return list(getattr(settings, "PUBLIC_EMBED_ORIGINS", []) or [])


def allow_portal_frames(response: HttpResponseBase) -> HttpResponseBase:
    """Let the configured portal origins, and only them, frame this public answer."""
    allowed = origins()
    if allowed:
        response.xframe_options_exempt = True  # type: ignore[attr-defined]
        response._csp_replace = {"frame-ancestors": allowed}  # type: ignore[attr-defined]
    return response


@register()
def check_embed_origins(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    return [
        Error(
            f"PUBLIC_EMBED_ORIGINS: {origin!r} is not an origin such as https://www.example.gov.cn",
            id="publication.E001",
        )
        for origin in origins()
        if not ORIGIN.match(origin)
    ]
