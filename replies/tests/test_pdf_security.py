"""The renderer treats every letter field as text and loads nothing but its own assets.

A sentinel HTTP server on loopback stands for the network and for internal services: no render
may reach it, whatever a clerk pastes into a letter.
"""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pdfplumber
import pytest
from pdfminer.pdftypes import resolve1
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from replies.letter import Block, Letter
from replies.pdf import (
    ALLOWED_ASSETS,
    ASSETS_DIR,
    MAX_LETTER_CHARS,
    LetterFetcher,
    LetterTooLarge,
    render_letter_pdf,
)


class _Sentinel(BaseHTTPRequestHandler):
    requests: list[str]

    def do_GET(self):
        self.requests.append(self.path)
        body = b"root:x:0:0:SENTINEL"
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def sentinel():
    """An HTTP server on 127.0.0.1 that records every request it gets."""
    requests: list[str] = []
    handler = type("Handler", (_Sentinel,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def payloads(base: str) -> list[str]:
    return [
        '<img src="file:///etc/passwd">',
        '<link rel="attachment" href="file:///etc/passwd">',
        f"<style>@import url({base}/import.css);</style>",
        '<img src="http://169.254.169.254/latest">',
        f'<img src="{base}/img.png">',
        f'<link rel="stylesheet" href="{base}/style.css">',
        f'<p style="background: url({base}/bg.png)">x</p>',
        f"<svg><image href='{base}/svg.png'/></svg>",
    ]


@pytest.fixture(scope="module")
def hostile(sentinel):
    """A letter with markup and URLs in every field a clerk can type into, rendered once."""
    base, requests = sentinel
    attack = "".join(payloads(base))
    letter = Letter(
        result_label=attack,
        disclosure=attack,
        organs=(f'<img src="{base}/organ.png">区发改委', "区财政局"),
        doc_number=f"普发改委〔2024〕1号{attack}",
        signer=attack,
        title=f"<title>伪造</title>{attack}关于…的答复",
        salutation=f'<img src="{base}/salutation.png">张文浩委员：',
        body=(
            *(Block(text=line) for line in payloads(base)),
            Block(text=f"一、{attack}", level=1),
            Block(text=f"1.标题。{attack}", level=3),
        ),
        signature_organ=attack,
        note=attack,
        cc=(attack,),
        printed_by=attack,
    )
    pdf = render_letter_pdf(letter)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        text = "".join(page.extract_text() for page in document.pages)
    return {"pdf": pdf, "text": text, "requests": requests}


def attached_files(pdf: bytes) -> list[str]:
    """Everything in the PDF that carries a file: the catalog's EmbeddedFiles and AF, file
    specifications, embedded file streams and file attachment annotations (read through the
    object streams, where a byte search would miss them)."""
    found = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        catalog = document.doc.catalog
        names = resolve1(catalog.get("Names")) or {}
        found += [f"catalog {key}" for key in ("EmbeddedFiles",) if key in names]
        found += ["catalog AF"] if "AF" in catalog else []
        for page in document.pages:
            found += [f"annotation {a.get('data', {}).get('Subtype')}" for a in page.annots]
        for xref in document.doc.xrefs:
            for objid in xref.get_objids():
                try:
                    obj = document.doc.getobj(objid)
                except Exception:  # free or broken entries carry no file
                    continue
                attrs = getattr(obj, "attrs", obj)
                if not isinstance(attrs, dict):
                    continue
                kinds = {str(attrs.get("Type")), str(attrs.get("Subtype"))}
                found += [
                    kind
                    for kind in ("/'Filespec'", "/'EmbeddedFile'", "/'FileAttachment'")
                    if kind in kinds
                ]
    return found


def test_markup_in_letter_fields_reaches_nobody(hostile):
    assert hostile["requests"] == []


def test_markup_in_letter_fields_embeds_no_file(hostile):
    assert attached_files(hostile["pdf"]) == []


def test_markup_in_letter_fields_is_printed_as_text(hostile):
    text = hostile["text"]
    assert "<img src=" in text
    assert "<link rel=" in text
    assert "@import url(" in text
    assert "file:///etc/passwd" in text
    assert "root:x:0:0" not in text


def test_the_renderer_itself_fetches_through_the_letter_fetcher(sentinel):
    """Defence in depth: even markup that did reach WeasyPrint would load nothing."""
    base, requests = sentinel
    html = (
        f'<html><head><link rel="stylesheet" href="{base}/direct.css">'
        f'<link rel="attachment" href="file:///etc/passwd"></head>'
        f"<body><style>@import url({base}/direct-import.css);</style>"
        f'<img src="{base}/direct.png"><img src="file:///etc/passwd">'
        f'<img src="http://169.254.169.254/latest/meta-data/"></body></html>'
    )
    pdf = HTML(string=html, url_fetcher=LetterFetcher()).write_pdf()
    assert requests == []
    assert attached_files(pdf) == []


def test_the_attachment_check_does_find_an_attachment(tmp_path):
    """The check above is not blind: WeasyPrint's own fetcher does attach the file."""
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    html = f'<html><head><link rel="attachment" href="{secret.as_uri()}"></head><body>x</body>'
    pdf = HTML(string=html, url_fetcher=URLFetcher()).write_pdf()
    assert "catalog EmbeddedFiles" in attached_files(pdf)


# --- The fetcher on its own -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        f"file://{ASSETS_DIR}/letter.html",
        f"file://{ASSETS_DIR}/../../replies/pdf.py",
        f"file://{ASSETS_DIR}/letter.css?x=1",
        f"file://{ASSETS_DIR}/letter.css#top",
        f"file://evil.example{ASSETS_DIR}/letter.css",
        "http://127.0.0.1:1/",
        "http://localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/font.otf",
        "ftp://example.com/x",
        "gopher://127.0.0.1:70/",
        "letter.css",
    ],
)
def test_fetcher_refuses_everything_but_data_and_the_letter_assets(url):
    with pytest.raises(ValueError):
        LetterFetcher().fetch(url)


def test_fetcher_refuses_the_sentinel_and_it_sees_no_request(sentinel):
    base, requests = sentinel
    with pytest.raises(ValueError):
        LetterFetcher().fetch(f"{base}/direct")
    with pytest.raises(ValueError):
        LetterFetcher()(f"{base}/called")
    assert requests == []


def test_fetcher_serves_data_urls():
    response = LetterFetcher().fetch("data:text/plain;base64,5ZCM5oSP")
    assert isinstance(response, URLFetcherResponse)
    assert response.read().decode() == "同意"


def test_fetcher_serves_the_letter_stylesheet():
    assert sorted(ALLOWED_ASSETS) == ["letter.css"]
    url = (ASSETS_DIR / "letter.css").as_uri()
    response = LetterFetcher().fetch(url)
    assert response.content_type == "text/css"
    assert b"@page" in response.read()


def test_fetcher_is_a_weasyprint_url_fetcher_without_redirects():
    fetcher = LetterFetcher()
    assert isinstance(fetcher, URLFetcher)
    assert not [h for h in fetcher.handlers if type(h).__name__ == "HTTPRedirectHandler"]


def test_a_letter_over_the_size_cap_is_refused_before_rendering():
    letter = Letter(title="答复", body=(Block(text="字" * (MAX_LETTER_CHARS + 1)),))
    with pytest.raises(LetterTooLarge):
        render_letter_pdf(letter)
