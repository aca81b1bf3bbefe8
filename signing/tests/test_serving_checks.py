"""The signed letter checked each time it is served (issue 23, item 4): the API, /my/, the
public page and the letter admin send the stored bytes only while they are the signed ones;
a changed or missing file is refused everywhere, recorded once and listed on the dashboard."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from proposals.models import Transition
from replies.models import Reply
from signing import checks
from signing.checks import check_stored_letters
from signing.models import LetterSignature
from tracker.dashboard import build
from tracker.tests import api_support as s

pytestmark = pytest.mark.django_db

CHECKING = "正在由办公室核验"


@pytest.fixture(autouse=True)
def _site(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}


@pytest.fixture
def verifications(monkeypatch):
    """Every full verification a check runs (``verify_pdf``), counted."""
    calls: list[int] = []
    real = checks.verify_pdf

    def counted(data: bytes):
        calls.append(len(data))
        return real(data)

    monkeypatch.setattr(checks, "verify_pdf", counted)
    return calls


@pytest.fixture
def p1(db):
    return s.member("p1", "张文浩")


@pytest.fixture
def h(committee):
    return s.handling(committee)


def _letter(h, session, p1) -> Reply:
    return s.handled(h, session=session, lead=p1.proposer, store_pdf=True).reply


@pytest.fixture
def signed_letter(h, session, p1, keys_dir) -> Reply:
    """A published reply, sealed and signed with the test CA's district key when stored."""
    return _letter(h, session, p1)


def _stored(reply: Reply) -> bytes:
    with reply.pdf.open("rb") as handle:
        return handle.read()


def _path(reply: Reply, media):
    return media / reply.pdf.name


def _flip_a_byte(reply: Reply, media, *, offset: int = 40) -> bytes:
    data = _stored(reply)
    at = data.index(b"stream", len(data) // 3) + offset
    changed = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]
    _path(reply, media).write_bytes(changed)
    return changed


def _clients(h, p1) -> dict[str, Client]:
    member, committee, clerk = Client(), Client(), Client()
    member.force_login(p1)
    committee.force_login(h.committee)
    clerk.force_login(h.clerk)
    return {"anonymous": Client(), "member": member, "committee": committee, "clerk": clerk}


def _urls(reply: Reply) -> dict[str, str]:
    return {
        "api": f"/api/v1/replies/{reply.pk}/pdf",
        "my": reverse("my:reply_pdf", args=[reply.pk]),
        "public": reverse("publication:pdf", args=[reply.pk]),
        "admin": reverse("admin:replies_reply_download", args=[reply.pk]),
    }


def _serve(reply: Reply, clients: dict[str, Client]) -> dict[str, object]:
    urls = _urls(reply)
    return {
        "api": clients["anonymous"].get(urls["api"]),
        "my": clients["member"].get(urls["my"]),
        "public": clients["anonymous"].get(urls["public"]),
        "admin": clients["committee"].get(urls["admin"]),
        "admin_clerk": clients["clerk"].get(urls["admin"]),
    }


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _assert_served(responses, data: bytes) -> None:
    for name, response in responses.items():
        assert response.status_code == 200, (name, response.status_code)
        assert response["Content-Type"] == "application/pdf", name
        assert _body(response) == data, name


def _assert_refused(responses, clients, reply) -> None:
    api = responses["api"]
    assert api.status_code == 409
    assert api.json()["code"] == "letter_integrity" and CHECKING in api.json()["message"]
    assert "no-store" in api["Cache-Control"]
    public = responses["public"]
    assert public.status_code == 409 and "no-store" in public["Cache-Control"]
    page = public.content.decode()
    assert CHECKING in page and reply.doc_number in page and "Traceback" not in page
    my = responses["my"]
    assert my.status_code == 302 and my["Location"] == reverse("my:reply", args=[reply.pk])
    assert CHECKING in clients["member"].get(my["Location"]).content.decode()
    for name in ("admin", "admin_clerk"):
        admin = responses[name]
        change = reverse("admin:replies_reply_change", args=[reply.pk])
        assert admin.status_code == 302 and admin["Location"] == change, name
    for response in responses.values():
        assert response.get("Content-Type") != "application/pdf"


def _signature_section(committee):
    return next(s for s in build(committee).faults if s.key == "signature_failed")


def _listed(committee) -> int:
    """How many letters the committee's dashboard lists as failing their check."""
    return sum(s.count for s in build(committee).faults if s.key == "signature_failed")


def test_a_signed_letter_is_served_as_stored_everywhere_without_verifying_it_again(
    signed_letter, h, p1, verifications
):
    record = LetterSignature.objects.get(kind="reply", letter_id=signed_letter.pk)
    data = _stored(signed_letter)
    assert record.sha256 == signed_letter.pdf_sha256 and record.signers
    clients = _clients(h, p1)
    for _round in range(2):
        _assert_served(_serve(signed_letter, clients), data)
    # Verified when signed: the bytes match, so no request verifies them again.
    assert verifications == []
    assert LetterSignature.objects.get(pk=record.pk).status == "intact"


def test_a_changed_byte_is_refused_everywhere_recorded_once_and_listed_on_the_dashboard(
    signed_letter, h, p1, tmp_path, verifications
):
    clients = _clients(h, p1)
    original = _stored(signed_letter)
    changed = _flip_a_byte(signed_letter, tmp_path)
    for _round in range(3):
        _assert_refused(_serve(signed_letter, clients), clients, signed_letter)
    # One full verification for the new content, whatever the number of requests.
    assert verifications == [len(changed)]

    record = LetterSignature.objects.get(kind="reply", letter_id=signed_letter.pk)
    assert record.status == "changed" and "改动" in record.problem and record.checked_at
    (audited,) = Transition.objects.filter(verb="letter_check_failed")
    assert audited.object_id == signed_letter.pk and audited.actor is None
    assert audited.proposal_id == signed_letter.proposal_id and "已被改动" in audited.note
    section = _signature_section(h.committee)
    assert section.count == 1 and str(signed_letter.pk) in section.lines[0].text

    # A second, different change: still refused, already recorded, not verified again.
    _flip_a_byte(signed_letter, tmp_path, offset=80)
    _assert_refused(_serve(signed_letter, clients), clients, signed_letter)
    assert len(verifications) == 1
    assert Transition.objects.filter(verb="letter_check_failed").count() == 1

    # The original bytes back: verified once more, served again, the return audited.
    _path(signed_letter, tmp_path).write_bytes(original)
    _assert_served(_serve(signed_letter, clients), original)
    _assert_served(_serve(signed_letter, clients), original)
    assert len(verifications) == 2
    assert LetterSignature.objects.get(pk=record.pk).status == "intact"
    assert Transition.objects.filter(verb="letter_check_passed").count() == 1
    assert _listed(h.committee) == 0


def test_the_committee_may_download_a_changed_file_to_look_into_it_named_as_not_the_original(
    signed_letter, h, p1, tmp_path
):
    clients = _clients(h, p1)
    changed = _flip_a_byte(signed_letter, tmp_path)
    url = _urls(signed_letter)["admin"]
    page = clients["committee"].get(url, follow=True).content.decode()
    assert "签发件核验未通过" in page and f"{url}?investigate=1" in page

    response = clients["committee"].get(url, {"investigate": "1"})
    assert response.status_code == 200 and _body(response) == changed
    assert response["X-Letter-Integrity"] == "changed"
    assert "%E5%B7%B2%E6%94%B9%E5%8A%A8" in response["Content-Disposition"]  # 已改动
    assert "no-store" in response["Cache-Control"]

    # The unit's clerk gets the refusal, never the file; the editor's frame a message.
    refused = clients["clerk"].get(url, {"investigate": "1"})
    assert refused.status_code == 302 and refused.get("Content-Type") != "application/pdf"
    page = clients["clerk"].get(url, follow=True).content.decode()
    assert "签发件核验未通过" in page and "investigate=1" not in page
    framed = clients["committee"].get(url, {"inline": "1"})
    assert framed.status_code == 200 and "签发件核验未通过" in framed.content.decode()
    assert framed["Content-Type"].startswith("text/html")


def test_a_deleted_file_is_missing_refused_everywhere_and_listed(
    signed_letter, h, p1, tmp_path, verifications
):
    clients = _clients(h, p1)
    _path(signed_letter, tmp_path).unlink()
    for _round in range(2):
        _assert_refused(_serve(signed_letter, clients), clients, signed_letter)
    record = LetterSignature.objects.get(kind="reply", letter_id=signed_letter.pk)
    assert record.status == "missing" and record.problem == "签发件文件缺失。"
    assert Transition.objects.filter(verb="letter_check_failed").count() == 1
    assert verifications == []
    section = _signature_section(h.committee)
    assert section.count == 1 and "文件缺失" in section.lines[0].text


def test_a_letter_stored_without_a_signature_is_served_until_its_file_changes(
    h, session, p1, settings, tmp_path, verifications
):
    settings.SIGNING_KEYS_DIR = str(tmp_path / "no-keys")
    reply = _letter(h, session, p1)
    assert not LetterSignature.objects.exists()
    clients = _clients(h, p1)
    original = _stored(reply)
    _assert_served(_serve(reply, clients), original)
    assert not LetterSignature.objects.exists() and verifications == []

    _flip_a_byte(reply, tmp_path)
    _assert_refused(_serve(reply, clients), clients, reply)
    record = LetterSignature.objects.get(kind="reply", letter_id=reply.pk)
    assert (record.status, record.signers, record.sha256) == ("changed", "", reply.pdf_sha256)
    assert _listed(h.committee) == 1
    assert check_stored_letters() == {"changed": 1}  # the nightly check agrees

    # Its own bytes back: the nightly check finds it intact (no signature was ever there).
    _path(reply, tmp_path).write_bytes(original)
    assert check_stored_letters() == {"intact": 1}
    _assert_served(_serve(reply, clients), original)
    assert Transition.objects.filter(verb="letter_check_passed").count() == 1


def test_a_masked_public_rendition_is_not_the_original_and_is_not_checked_as_one(
    signed_letter, tmp_path, monkeypatch
):
    """The public PDF with personal data masked is a rendition of its own (its own hash):
    the original's check does not apply to it, and a changed original does not block it."""
    from django.core.files.base import ContentFile

    from replies.api import views as api_views

    rendition = b"%PDF-1.7 masked rendition"

    def public_pdf(reply):
        return ContentFile(rendition, name="public.pdf"), "f" * 64

    monkeypatch.setattr(api_views, "PUBLIC_PDF", public_pdf)
    monkeypatch.setattr("publication.views.public_pdf", public_pdf)
    _flip_a_byte(signed_letter, tmp_path)
    for url in (_urls(signed_letter)["api"], _urls(signed_letter)["public"]):
        response = Client().get(url)
        assert response.status_code == 200 and _body(response) == rendition
    assert LetterSignature.objects.get(letter_id=signed_letter.pk).status == "intact"
