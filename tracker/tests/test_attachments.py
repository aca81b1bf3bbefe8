"""Attachments (scanned originals): only real PDF, JPEG and PNG files get in, under generated
names, and they come out only through the download view, to those who may see the proposal."""

from __future__ import annotations

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import modelform_factory
from django.urls import reverse
from PIL import Image

from proposals import workflow as pwf
from proposals.models import Membership, ProposalAttachment, Transition
from proposals.tests import factories as f
from proposals.validators import JPEG, PDF, PNG, inspect_attachment

pytestmark = pytest.mark.django_db


# --- Files ------------------------------------------------------------------------------------


def minimal_pdf(catalog_extra: str = "") -> bytes:
    """A one-page PDF written by hand: header, four objects, a correct xref table, trailer."""
    objects = [
        f"<< /Type /Catalog /Pages 2 0 R {catalog_extra}>>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        "<< /Length 0 >>\nstream\n\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def image_bytes(fmt: str, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def noise_png(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("L", (side, side), bytes(range(256)) * (side * side // 256 + 1)).save(
        buffer, format="PNG"
    )
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


PE_HEADER = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\0\0"
HTML_GIF_POLYGLOT = b"GIF89a/*\x01\x00\x01\x00<html><body><script>alert(document.cookie)</script>*/"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1"/></svg>'


def refusal(name: str, content: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        inspect_attachment(upload(name, content))
    return info.value


# --- The validator ----------------------------------------------------------------------------


def test_a_valid_hand_written_pdf_and_small_png_and_jpeg_are_accepted():
    assert inspect_attachment(upload("提案原件.pdf", minimal_pdf())) is PDF
    assert inspect_attachment(upload("scan.PNG", image_bytes("PNG"))) is PNG
    assert inspect_attachment(upload("scan.jpg", image_bytes("JPEG"))) is JPEG
    assert inspect_attachment(upload("scan.jpeg", image_bytes("JPEG"))) is JPEG


def test_a_pdf_written_by_weasyprint_is_accepted():
    from weasyprint import HTML

    data = HTML(string="<p>提案原件</p>").write_pdf()
    assert inspect_attachment(upload("原件.pdf", data)) is PDF


def test_a_windows_executable_named_pdf_is_refused():
    assert refusal("原件.pdf", PE_HEADER + b"\x00" * 200).code == "signature"


def test_an_html_gif_polyglot_is_refused_whatever_it_is_called():
    assert refusal("image.gif", HTML_GIF_POLYGLOT).code == "extension"
    assert refusal("image.png", HTML_GIF_POLYGLOT).code == "signature"
    assert refusal("image.pdf", HTML_GIF_POLYGLOT).code == "signature"


def test_an_svg_is_refused_whatever_it_is_called():
    assert refusal("drawing.svg", SVG).code == "extension"
    assert refusal("drawing.png", SVG).code == "signature"


def test_a_png_carrying_html_in_its_head_or_after_its_end_is_refused():
    png = image_bytes("PNG")
    text_chunk = b"\x00\x00\x00\x1ctEXtComment\x00<html><script>x</script>" + b"\x00" * 4
    assert refusal("a.png", png[:33] + text_chunk + png[33:]).code == "html"
    assert refusal("a.png", png + b"<html>" * 3).code in {"trailing_data", "html"}
    assert refusal("a.png", png + b"\x00" * 2000 + b"<script>x</script>").code == "trailing_data"


def test_a_file_over_the_size_cap_is_refused(settings):
    big = noise_png(200)
    settings.ATTACHMENT_MAX_BYTES = len(big) - 1
    error = refusal("scan.png", big)
    assert error.code == "too_large"
    assert "超过上限" in error.messages[0]


def test_the_default_cap_is_20_megabytes():
    error = refusal("scan.pdf", b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024))
    assert error.code == "too_large"


def test_a_pdf_that_does_not_parse_is_refused():
    assert refusal("a.pdf", b"%PDF-1.4\nnot really a pdf\n").code == "unreadable"
    assert refusal("a.pdf", minimal_pdf()[:120]).code == "unreadable"


def test_a_pdf_with_javascript_or_an_embedded_file_is_refused():
    js = "/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"
    assert refusal("a.pdf", minimal_pdf(js)).code == "active_content"
    launch = "/OpenAction << /S /Launch /F (cmd.exe) >>"
    assert refusal("a.pdf", minimal_pdf(launch)).code == "active_content"
    assert refusal("a.pdf", minimal_pdf("/AA << >>")).code == "active_content"


def test_an_encrypted_pdf_is_refused():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert refusal("a.pdf", buffer.getvalue()).code == "encrypted"


def test_a_truncated_image_and_an_empty_file_are_refused():
    assert refusal("a.jpg", image_bytes("JPEG")[:60]).code == "unreadable"
    assert refusal("a.png", image_bytes("PNG")[:40]).code == "unreadable"
    assert refusal("a.png", b"").code == "empty"


def test_the_model_form_refuses_a_bad_upload_through_the_field_validator(session):
    form_class = modelform_factory(ProposalAttachment, fields=["file", "name"])
    form = form_class(data={"name": "原件"}, files={"file": upload("原件.pdf", PE_HEADER)})
    form.instance.proposal = f.ProposalFactory(session=session)
    assert not form.is_valid()
    assert "与扩展名不符" in form.errors["file"][0]


# --- Adding through the workflow --------------------------------------------------------------


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def assigned(committee, session, unit_a, proposer_user):
    proposal = f.ProposalFactory(session=session, lead_proposer=proposer_user.proposer)
    pwf.file_proposal(proposal, actor=committee)
    pwf.assign_proposal(proposal, actor=committee, units=[(unit_a, "lead")])
    return proposal


def test_add_attachment_stores_under_a_generated_name_and_is_audited(assigned, clerk_a):
    attachment = pwf.add_attachment(
        assigned, actor=clerk_a, file=upload("../../etc/提案 原件.PDF", minimal_pdf()), name=""
    )
    assert attachment.name == "提案 原件.PDF"
    assert re.fullmatch(rf"proposals/{assigned.pk}/[0-9a-f]{{32}}\.pdf", attachment.file.name)
    assert attachment.uploaded_by == clerk_a
    audit = Transition.objects.get(verb="add_attachment")
    assert (audit.object_id, audit.actor, audit.proposal) == (attachment.pk, clerk_a, assigned)


def test_add_attachment_refuses_a_bad_file_and_stores_nothing(assigned, clerk_a, settings):
    with pytest.raises(pwf.InvalidInput) as info:
        pwf.add_attachment(assigned, actor=clerk_a, file=upload("x.pdf", PE_HEADER), name="x")
    assert info.value.field == "file"
    assert not ProposalAttachment.objects.exists()
    assert not Transition.objects.filter(verb="add_attachment").exists()
    assert not (settings.MEDIA_ROOT / "proposals").exists()


def test_only_those_who_see_the_proposal_may_add_and_supervision_only_looks(
    assigned, clerk_b, supervisor, proposer_user, committee
):
    for outsider in (clerk_b, supervisor):
        with pytest.raises(pwf.NotAllowed):
            pwf.add_attachment(
                assigned, actor=outsider, file=upload("a.png", image_bytes("PNG")), name="a"
            )
    for insider in (proposer_user, committee):
        pwf.add_attachment(
            assigned, actor=insider, file=upload("a.png", image_bytes("PNG")), name="a"
        )
    assert ProposalAttachment.objects.count() == 2


# --- Downloading ------------------------------------------------------------------------------


@pytest.fixture
def attachment(assigned, clerk_a):
    return pwf.add_attachment(
        assigned, actor=clerk_a, file=upload("原件.pdf", minimal_pdf()), name="第061号 原件"
    )


def url(pk: int) -> str:
    return reverse("attachment-download", args=[pk])


def test_the_owning_units_clerk_downloads_it_as_an_attachment_with_its_real_type(
    client, attachment, clerk_a
):
    client.force_login(clerk_a)
    response = client.get(url(attachment.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert ".pdf" in disposition
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == minimal_pdf()


def test_an_image_is_served_as_an_image(client, assigned, committee):
    png = pwf.add_attachment(
        assigned, actor=committee, file=upload("a.png", image_bytes("PNG")), name="照片"
    )
    client.force_login(committee)
    response = client.get(url(png.pk))
    assert response["Content-Type"] == "image/png"
    assert (
        'filename="' in response["Content-Disposition"]
        or "filename*=" in (response["Content-Disposition"])
    )


def test_the_proposer_the_committee_and_supervision_may_download(
    client, attachment, proposer_user, committee, supervisor
):
    for user in (proposer_user, committee, supervisor):
        client.force_login(user)
        assert client.get(url(attachment.pk)).status_code == 200, user


def test_another_units_clerk_gets_the_same_404_as_for_a_missing_attachment(
    client, attachment, clerk_b
):
    client.force_login(clerk_b)
    foreign = client.get(url(attachment.pk))
    missing = client.get(url(attachment.pk + 1000))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content


def test_another_proposer_and_a_withdrawn_unit_get_404(client, attachment, unit_a, committee):
    other = f.UserFactory(username="other_member", is_staff=False)
    f.ProposerFactory(user=other)
    client.force_login(other)
    assert client.get(url(attachment.pk)).status_code == 404

    former = f.UserFactory(username="former_clerk")
    f.MembershipFactory(user=former, unit=unit_a, role=Membership.Role.CLERK)
    client.force_login(former)
    assert client.get(url(attachment.pk)).status_code == 200
    lead = attachment.proposal.assignments.get()
    pwf.request_reassignment(lead, actor=former, reason="不属于本单位职责")
    pwf.approve_reassignment(lead, actor=committee)
    assert client.get(url(attachment.pk)).status_code == 404


def test_anonymous_is_sent_to_log_in(client, attachment):
    response = client.get(url(attachment.pk))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_only_get_and_head_are_allowed(client, attachment, clerk_a):
    client.force_login(clerk_a)
    assert client.post(url(attachment.pk)).status_code == 405
    assert client.head(url(attachment.pk)).status_code == 200


def test_a_stored_file_that_is_not_pdf_jpeg_or_png_is_never_served(client, assigned, committee):
    legacy = ProposalAttachment.objects.create(
        proposal=assigned, file=upload("old.pdf", b"<html><script>x</script></html>"), name="旧件"
    )
    client.force_login(committee)
    assert client.get(url(legacy.pk)).status_code == 404
