"""Static files in production: collected once, hashed, compressed, cached for a year, readable.

The production settings are the real ``tracker/settings.py`` evaluated with the image's
environment (``STATIC_MANIFEST=true``); ``collectstatic`` runs with them into a temporary
STATIC_ROOT, and the files are fetched through Django's handler with a fresh WhiteNoise
middleware (it reads STATIC_ROOT when it starts), finders off, as gunicorn serves them.
"""

from __future__ import annotations

import json
import re
import runpy
import stat
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from whitenoise.compress import Compressor

pytestmark = pytest.mark.slow

SETTINGS_FILE = Path(settings.BASE_DIR) / "tracker" / "settings.py"
BUNDLE = "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
ONE_YEAR = 365 * 24 * 3600


def settings_with(monkeypatch, **environ: str) -> dict:
    """tracker/settings.py as a process with this environment would see it."""
    for name in ("STATIC_MANIFEST", "DEBUG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def static_settings(values: dict) -> dict:
    return {
        "STORAGES": values["STORAGES"],
        "WHITENOISE_USE_FINDERS": values["WHITENOISE_USE_FINDERS"],
    }


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """The production static settings, with collectstatic run into a temporary STATIC_ROOT."""
    mp = pytest.MonkeyPatch()
    try:
        values = settings_with(mp, STATIC_MANIFEST="true", DEBUG="false")
    finally:
        mp.undo()
    # A folder collectstatic creates itself (the image's /app/staticfiles does not exist either).
    root = tmp_path_factory.mktemp("static") / "staticfiles"
    overrides = {**static_settings(values), "STATIC_ROOT": str(root), "DEBUG": False}
    # Only for time: the image compresses the source maps too (12 of the 25 MB collected, more
    # than half of the compression's CPU); nothing here fetches them.
    skip_maps = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
    with override_settings(**overrides, WHITENOISE_SKIP_COMPRESS_EXTENSIONS=skip_maps):
        call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((root / "staticfiles.json").read_text(encoding="utf-8"))["paths"]
    return {"root": root, "overrides": overrides, "manifest": manifest}


@pytest.fixture
def client(production, db):
    """Django's handler (every middleware) built now: WhiteNoise indexes the collected files."""
    with override_settings(**production["overrides"]):
        yield Client()


def body(response) -> bytes:
    data = b"".join(response.streaming_content)
    response.close()
    return data


def test_production_uses_the_manifest_and_no_finders(monkeypatch):
    values = settings_with(monkeypatch, STATIC_MANIFEST="true", DEBUG="false")
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    assert values["WHITENOISE_USE_FINDERS"] is False


@pytest.mark.parametrize("debug", ["true", "false"])
def test_without_a_collected_manifest_the_files_come_from_the_apps(monkeypatch, debug):
    """make run (DEBUG=true) and the tests (DEBUG off) collect nothing: plain names, finders."""
    values = settings_with(monkeypatch, DEBUG=debug)
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedStaticFilesStorage"
    )
    assert values["WHITENOISE_USE_FINDERS"] is True


def test_the_hashed_bundle_goes_out_brotli_compressed_and_cached_for_a_year(production, client):
    original = (production["root"] / BUNDLE).stat().st_size
    assert original > 1_500_000
    hashed = production["manifest"][BUNDLE]
    assert hashed != BUNDLE

    response = client.get(f"/static/{hashed}", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    data = body(response)
    assert int(response["Content-Length"]) == len(data) < original / 3
    assert data == (production["root"] / f"{hashed}.br").read_bytes()
    cache_control = response["Cache-Control"]
    assert "immutable" in cache_control
    assert int(re.search(r"max-age=(\d+)", cache_control)[1]) >= ONE_YEAR
    assert "Accept-Encoding" in response["Vary"]


def test_a_client_without_brotli_gets_gzip_and_one_without_either_the_file(production, client):
    hashed = production["manifest"][BUNDLE]
    gzipped = client.get(f"/static/{hashed}", HTTP_ACCEPT_ENCODING="gzip")
    assert gzipped["Content-Encoding"] == "gzip"
    assert len(body(gzipped)) < 600_000
    plain = client.get(f"/static/{hashed}")
    assert "Content-Encoding" not in plain
    assert body(plain) == (production["root"] / hashed).read_bytes()


def test_the_plain_name_is_served_compressed_too_with_a_short_cache(production, client):
    """The file the operator fetched: no longer 1.59 MB uncompressed."""
    response = client.get(f"/static/{BUNDLE}", HTTP_ACCEPT_ENCODING="br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    assert len(body(response)) < 400_000
    assert "immutable" not in response["Cache-Control"]


def test_pages_link_the_hashed_names_and_every_link_is_served(production, client):
    page = client.get("/admin/login/")
    assert page.status_code == 200
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.content.decode())
    assert links
    for link in links:
        name = link.removeprefix("/static/")
        assert name in production["manifest"].values(), f"{link} is not a hashed name"
        response = client.get(link, HTTP_ACCEPT_ENCODING="gzip, br")
        assert response.status_code == 200, link
        assert "immutable" in response["Cache-Control"], link
        body(response)


def test_the_api_docs_load_the_hashed_bundle(production, client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert f"/static/{production['manifest'][BUNDLE]}" in page.content.decode()


def test_collected_files_are_readable_by_any_user(production):
    """The image collects as root and runs as uid 1000: nothing may be 0640."""
    unreadable = []
    for path in [production["root"], *production["root"].rglob("*")]:
        needed = stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0)
        if path.stat().st_mode & needed != needed:
            unreadable.append(path)
    assert unreadable == []
