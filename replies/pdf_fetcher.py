"""What WeasyPrint may load for a letter: ``data:`` URLs and the letter's own assets, nothing else.

Everything the renderer (``replies.pdf``) loads goes through ``LetterFetcher``, which serves
``data:`` URLs and a fixed list of the project's own letter assets, and refuses anything else
(local files, the network, cloud metadata endpoints, attachments).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from weasyprint.urls import URLFetcher, URLFetcherResponse

#: The letter's own assets: the only files the renderer may read.
ASSETS_DIR = Path(settings.BASE_DIR) / "templates" / "replies"
ALLOWED_ASSETS = frozenset({"letter.css"})


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
