"""Seals placed by the text of the rendered letter, PAdES signatures made with a throw-away CA,
and their verification: intact, changed by one byte, signed by an untrusted certificate."""

from __future__ import annotations

import datetime
import io
import itertools
from io import StringIO

import pdfplumber
import pytest
from django.core.management import call_command

from replies.tests.test_pdf_pdfa import pdfa_violations
from signing import artwork, certificates, keys, pades, placement, seals
from signing.tests.conftest import CAS, ORGANS, write_ca

MM = 72 / 25.4


def _line_box(pdf: bytes, text: str, page: int = -1) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) in PDF space of the last line printing exactly ``text``."""
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        p = document.pages[page]
        lines = [ln for ln in p.extract_text_lines() if ln["text"].replace(" ", "") == text]
        line = lines[-1]
        return line["x0"], p.height - line["bottom"], line["x1"], p.height - line["top"]


def _inside(box: placement.Box, point: tuple[float, float]) -> bool:
    return box.x0 < point[0] < box.x1 and box.y0 < point[1] < box.y1


def _sign(pdf: bytes, organs, date: str) -> bytes:
    where = placement.seal_placement(pdf, organs, date)
    picture = seals.seal_picture(artwork.draw_seal(organs[0]), "png")
    return pades.sign_pdf(
        pdf,
        [
            pades.SealedSignature(keys.key_source(None), f"Seal{i}", where.page, box, picture)
            for i, box in enumerate(where.boxes, 1)
        ],
    )


def test_the_seal_presses_the_organ_and_the_date_centred_below_the_text(signed_001):
    letter, pdf = signed_001
    where = placement.seal_placement(pdf, (letter.signature_organ,), letter.date_text)
    (box,) = where.boxes
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        assert where.page == len(document.pages) - 1
    organ = _line_box(pdf, letter.signature_organ.replace(" ", ""))
    date = _line_box(pdf, letter.date_text)
    assert round(box.x1 - box.x0) == round(42 * MM)
    # Over both lines, which sit at or below the seal's centre (居中下压).
    for x0, y0, x1, y1 in (organ, date):
        assert _inside(box, ((x0 + x1) / 2, (y0 + y1) / 2))
    assert (organ[1] + date[3]) / 2 <= box.centre[1] + 1
    # Centred on the pair, never over the body text above it.
    assert abs(box.centre[0] - ((organ[0] + organ[2]) / 2 + (date[0] + date[2]) / 2) / 2) < 1
    body_bottom = _line_box(pdf, "出更多意见和建议。谢谢！")[1]
    assert box.y1 < body_bottom


@pytest.mark.parametrize("count", [2, 3])
def test_joint_seals_stand_in_a_row_first_organ_first_apart_inside_the_type_area(joint_pdfs, count):
    letter, pdf = joint_pdfs[count]
    where = placement.seal_placement(pdf, ORGANS[:count], letter.date_text)
    boxes = where.boxes
    assert len(boxes) == count
    assert [b.x0 for b in boxes] == sorted(b.x0 for b in boxes)
    assert len({round(b.y0, 3) for b in boxes}) == 1
    for a, b in itertools.pairwise(boxes):
        assert not a.overlaps(b) and b.x0 - a.x1 >= 1.5 * MM
    # The type area's binding side is on the left of odd pages, on the right of even ones.
    inner, outer = (28 * MM, 26 * MM) if where.page % 2 == 0 else (26 * MM, 28 * MM)
    left, right = inner, 595.28 - outer
    assert all(left - 0.5 <= b.x0 and b.x1 <= right + 0.5 for b in boxes)
    date = _line_box(pdf, letter.date_text)
    assert _inside(boxes[-1], ((date[0] + date[2]) / 2, (date[1] + date[3]) / 2))


def test_a_letter_that_prints_no_signature_block_is_refused():
    from replies.pdf import render_letter_pdf
    from replies.tests.conftest import build_draft_letter

    pdf = render_letter_pdf(build_draft_letter())
    with pytest.raises(placement.SignatureNotFound):
        placement.seal_placement(pdf, ("上海市普陀区发展和改革委员会",), "2024年1月2日")


def test_signed_letter_verifies_and_one_changed_byte_breaks_it(signed_001, keys_dir):
    letter, pdf = signed_001
    signed = _sign(pdf, (letter.signature_organ,), letter.date_text)
    assert signed.startswith(pdf)  # an incremental update: the PDF/A base is untouched
    result = pades.verify_pdf(signed)
    assert result.intact and result.trusted
    (signature,) = result.signatures
    assert signature.signer == "区政协提案办理系统测试" and signature.signed_at is not None
    assert pdfa_violations(signed) == []

    with pdfplumber.open(io.BytesIO(signed)) as document:
        (annot,) = document.pages[-1].annots
        assert annot["data"]["FT"].name == "Sig"
    # One byte of the signed letter's text stream changed.
    at = signed.index(b"stream", len(pdf) // 3) + 40
    tampered = signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1 :]
    assert not pades.verify_pdf(tampered).intact
    # Bytes appended after the signature: not covered by it.
    assert not pades.verify_pdf(signed + b"\n% appended\n").intact


def test_verify_letter_exit_status_intact_changed_untrusted(signed_001, keys_dir, tmp_path):
    letter, pdf = signed_001
    signed = _sign(pdf, (letter.signature_organ,), letter.date_text)
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(signed)
    at = signed.index(b"stream", len(pdf) // 3) + 40
    bad.write_bytes(signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1 :])
    out = StringIO()
    call_command("verify_letter", str(good), stdout=out)
    assert "signer=区政协提案办理系统测试" in out.getvalue() and "intact" in out.getvalue()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_letter", str(bad), stdout=StringIO())
    assert exit_.value.code == 1
    # Another CA's root replaces the trusted one: intact, but not trusted.
    write_ca(keys_dir, "另一个根证书")
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_letter", str(good), stdout=StringIO())
    assert exit_.value.code == 2


def test_a_joint_letter_carries_one_signature_per_seal_each_with_its_key(joint_pdfs, keys_dir):
    letter, pdf = joint_pdfs[3]
    ca = CAS[keys_dir]
    for n, organ in enumerate(ORGANS, 1):
        certificates.issue_certificate(ca, organ).write(keys_dir, f"unit-{n}")
    where = placement.seal_placement(pdf, ORGANS, letter.date_text)
    signatures = [
        pades.SealedSignature(
            keys.key_source(n),
            f"Seal{n}",
            where.page,
            box,
            seals.seal_picture(artwork.draw_seal(organ), "png"),
        )
        for n, (organ, box) in enumerate(zip(ORGANS, where.boxes, strict=True), 1)
    ]
    signed = pades.sign_pdf(pdf, signatures)
    result = pades.verify_pdf(signed)
    assert result.trusted
    assert [s.signer for s in result.signatures] == list(ORGANS)
    assert pdfa_violations(signed) == []


def test_without_a_key_nothing_is_configured(settings, tmp_path):
    settings.SIGNING_KEYS_DIR = str(tmp_path / "empty")
    assert not keys.has_key(3)
    with pytest.raises(keys.NoSigningKey):
        keys.key_source(3)


def test_with_a_timestamp_server_the_signature_is_pades_b_t(signed_001, keys_dir, monkeypatch):
    """B-T: the time comes from the TSA's token (a test TSA of the same CA), not the signer."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    tsa = certificates.issue_certificate(CAS[keys_dir], "测试时间戳服务", timestamping=True)
    when = datetime.datetime(2024, 6, 3, 9, 30, tzinfo=datetime.UTC)
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(
            tsa.certificate.public_bytes(serialization.Encoding.DER)
        ),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        fixed_dt=when,
    )
    monkeypatch.setattr(pades, "_timestamper", lambda: stamper)
    letter, pdf = signed_001
    result = pades.verify_pdf(_sign(pdf, (letter.signature_organ,), letter.date_text))
    (signature,) = result.signatures
    assert result.trusted and signature.timestamped and signature.signed_at == when
