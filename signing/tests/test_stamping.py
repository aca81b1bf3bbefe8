"""The signed letter as stored: sealed and signed in the worker's render, recorded, checked
again later; the editor's warning for a unit without a seal; the dashboard and the public
verification page."""

from __future__ import annotations

import io

import pdfplumber
import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse

from proposals.models import Transition
from replies import workflow as rwf
from replies.models import Reply
from replies.tests import test_admin as base
from signing.artwork import draw_seal
from signing.checks import check_stored_letters, failing_letters
from signing.models import LetterSignature, UnitSeal
from signing.pades import verify_pdf
from tracker.dashboard import build

assigned, draft, pending, signed = base.assigned, base.draft, base.pending, base.signed
media = base.media

pytestmark = pytest.mark.django_db


def _seal(unit) -> UnitSeal:
    seal = UnitSeal(unit=unit, kind=UnitSeal.Kind.PNG)
    seal.image.save("seal.png", ContentFile(draw_seal(unit.organ_name)))
    return seal


def _stored(reply) -> bytes:
    rwf.store_signed_pdf("reply", reply.pk)
    reply = Reply.objects.get(pk=reply.pk)
    with reply.pdf.open("rb") as handle:
        return handle.read()


def test_the_stored_letter_carries_the_units_seal_and_a_verifiable_signature(
    signed, unit_a, keys_dir, media
):
    _seal(unit_a)
    data = _stored(signed)
    result = verify_pdf(data)
    assert result.intact and result.trusted
    reply = Reply.objects.get(pk=signed.pk)
    record = LetterSignature.objects.get(kind="reply", letter_id=reply.pk)
    assert (record.sha256, record.seals, record.status) == (reply.pdf_sha256, 1, "intact")
    assert record.signers == "区政协提案办理系统测试"  # no key of its own: the district's
    with pdfplumber.open(io.BytesIO(data)) as document:
        # On the page of the 落款 (here the one before the 版记's page).
        (seal,) = [(n, a) for n, p in enumerate(document.pages) for a in p.annots]
        page = document.pages[seal[0]].extract_text()
        assert seal[1]["width"] > 100 and unit_a.organ_name in page


def test_a_unit_without_a_seal_gets_a_signed_letter_without_one_and_a_warning(
    client, pending, signer_a, keys_dir, media
):
    client.force_login(signer_a)
    page = client.get(base.url("reply", "change", pending.pk)).content.decode()
    assert "尚未上传印章，签发件将不加盖印章" in page
    reply = rwf.sign_reply(pending, actor=signer_a)
    data = _stored(reply)
    assert verify_pdf(data).intact
    with pdfplumber.open(io.BytesIO(data)) as document:
        # An invisible signature: its widget has no size, and nothing is drawn.
        assert all(a["width"] == 0 for p in document.pages for a in p.annots)
    assert LetterSignature.objects.get(letter_id=reply.pk).seals == 0
    page = client.get(base.url("reply", "change", reply.pk)).content.decode()
    assert "签发件未加盖印章" in page


def test_without_keys_the_letter_is_stored_as_rendered(signed, unit_a, settings, media):
    settings.SIGNING_KEYS_DIR = str(media / "no-keys")
    _seal(unit_a)
    data = _stored(signed)
    assert verify_pdf(data).signatures == ()
    assert not LetterSignature.objects.exists()


def test_a_stored_letter_changed_on_disk_fails_its_check_and_shows_on_the_dashboard(
    signed, unit_a, keys_dir, media, committee
):
    _seal(unit_a)
    data = _stored(signed)
    assert check_stored_letters() == {"intact": 1}
    reply = Reply.objects.get(pk=signed.pk)
    path = media / reply.pdf.name
    at = data.index(b"stream", len(data) // 3) + 40
    path.write_bytes(data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :])

    with pytest.raises(SystemExit) as exit_:
        call_command("verify_letter", "--stored", stdout=io.StringIO())
    assert exit_.value.code == 1
    (record,) = failing_letters()
    assert record.letter_id == reply.pk and "改动" in record.problem
    board = build(committee)
    section = next(s for s in board.faults if s.key == "signature_failed")
    assert section.count == 1 and section.lines[0].tone == "danger"
    assert section.lines[0].url == reverse("admin:replies_reply_change", args=[reply.pk])


def test_the_public_page_verifies_an_upload_and_a_hash(client, signed, unit_a, keys_dir, media):
    _seal(unit_a)
    data = _stored(signed)
    page = client.post(
        reverse("verify-letter"), {"file": ContentFile(data, name="letter.pdf")}
    ).content.decode()
    assert "文件完好，与签发时一致" in page and "区政协提案办理系统测试" in page
    assert "与本系统存档的签发件一致" in page

    at = data.index(b"stream", len(data) // 3) + 40
    changed = data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]
    page = client.post(
        reverse("verify-letter"), {"file": ContentFile(changed, name="letter.pdf")}
    ).content.decode()
    assert "被改动过" in page and "没有与此文件完全一致的签发件存档" in page

    digest = Reply.objects.get(pk=signed.pk).pdf_sha256
    page = client.get(reverse("verify-letter"), {"sha256": digest}).content.decode()
    assert "与本系统存档的签发件一致" in page
    assert client.post(reverse("verify-letter"), {"sha256": "xyz"}).status_code == 400


def test_a_seal_upload_is_validated_in_the_admin(client, unit_a, committee, media):
    committee.is_superuser = True
    committee.is_staff = True
    committee.save()
    client.force_login(committee)
    add = reverse("admin:signing_unitseal_add")
    black = io.BytesIO()
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((10, 10, 290, 290), outline=(0, 0, 0, 255), width=30)
    image.save(black, format="PNG")
    black.name = "black.png"
    black.seek(0)
    response = client.post(add, {"unit": unit_a.pk, "image": black})
    assert response.status_code == 200 and "印章应为红色" in response.content.decode()
    assert not UnitSeal.objects.exists()
    good = io.BytesIO(draw_seal(unit_a.organ_name))
    good.name = "seal.png"
    response = client.post(add, {"unit": unit_a.pk, "image": good})
    assert response.status_code == 302
    seal = UnitSeal.objects.get()
    assert seal.kind == "png"
    (audited,) = Transition.objects.filter(verb="seal_uploaded")
    assert audited.actor == committee and audited.object_id == seal.pk


def test_the_demo_keys_sign_only_the_demo_units(signed, unit_a, unit_b, settings, media):
    """load_demo's CA and 演示 seals: its units' letters verify (signed by the unit's demo
    certificate, trusted through the demo CA); a unit without the demo seal never uses them."""
    from signing import keys
    from tracker.demo.signing import load_demo_signing

    settings.SIGNING_KEYS_DIR = ""
    load_demo_signing([unit_a])
    load_demo_signing([unit_a])  # idempotent: the same CA, certificate and seal
    assert UnitSeal.objects.get(unit=unit_a).image.name.startswith(keys.DEMO_SEAL_PREFIX)
    assert keys.has_key(unit_a.pk) and not keys.has_key(unit_b.pk)
    result = verify_pdf(_stored(signed))
    assert result.trusted
    assert result.signatures[0].signer == f"{unit_a.organ_name}（演示）"
