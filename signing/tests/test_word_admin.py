"""下载Word in the reply editor: the draft (草稿) or the signed letter's copy (副本), for the
unit's own people only."""

from __future__ import annotations

import io
import zipfile

import pytest

from replies.tests import test_admin as base

assigned, draft, pending, signed = base.assigned, base.draft, base.pending, base.signed
url = base.url

pytestmark = pytest.mark.django_db
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _headers(content: bytes) -> str:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return "".join(archive.read(n).decode() for n in archive.namelist() if "header" in n)


def test_the_editor_offers_the_draft_as_word_marked_draft(client, draft, clerk_a):
    client.force_login(clerk_a)
    word = url("reply", "word", draft.pk)
    page = client.get(url("reply", "change", draft.pk)).content.decode()
    assert f'href="{word}">下载Word<' in page
    response = client.get(word)
    assert response.status_code == 200 and response["Content-Type"] == DOCX
    assert "attachment" in response["Content-Disposition"]
    assert 'string="草稿"' in _headers(response.content)
    document = zipfile.ZipFile(io.BytesIO(response.content)).read("word/document.xml").decode()
    assert draft.title in document


def test_the_signed_letter_offers_a_word_copy_marked_as_a_copy(client, signed, clerk_a):
    client.force_login(clerk_a)
    word = url("reply", "word", signed.pk)
    page = client.get(url("reply", "change", signed.pk)).content.decode()
    assert f'href="{word}">Word副本<' in page
    response = client.get(word)
    assert response.status_code == 200
    headers = _headers(response.content)
    assert "副本（以签发件PDF为准）" in headers and "草稿" not in headers


def test_another_units_clerk_gets_404_for_the_word_copy(client, draft, clerk_b):
    client.force_login(clerk_b)
    assert client.get(url("reply", "word", draft.pk)).status_code == 404
