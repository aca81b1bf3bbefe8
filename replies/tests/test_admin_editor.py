"""The letter editor: fields in print order, the PDF beside them (the saved draft, or what is
typed without saving), a version conflict that says what to carry over, read-only once signed,
and the letters on the assignment page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from proposals.models import Membership
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.models import Reply
from replies.tests import test_admin as base

# The fixtures of the replies admin tests: a proposal assigned to unit A (lead) and B (co),
# and unit A's reply in each state.
assigned, draft, pending, signed = base.assigned, base.draft, base.pending, base.signed
form_data, url = base.form_data, base.url

pytestmark = pytest.mark.django_db


@pytest.fixture
def rendered(monkeypatch, eager_tasks):
    """The letters the preview's renderer was asked for (and a cheap PDF instead of WeasyPrint's),
    the preview task run in this process."""
    import replies.pdf

    letters = []

    def fake(letter, **limits):
        letters.append(letter)
        return b"%PDF-1.7 fake"

    monkeypatch.setattr(replies.pdf, "render_letter_pdf_isolated", fake)
    return letters


def test_the_editor_shows_the_fields_in_the_order_they_print_and_the_pdf_beside(
    client, draft, clerk_a
):
    client.force_login(clerk_a)
    page = client.get(url("reply", "change", draft.pk))
    html = page.content.decode()
    order = ["id_result_label", "id_disclosure", "id_title", "id_salutation", "id_body"]
    order += ["id_closing", "id_contact_person", "id_contact_postcode", "id_cc"]
    positions = [html.index(f'id="{name}"') for name in order]
    assert positions == sorted(positions)
    preview = url("reply", "preview", draft.pk)
    assert '<iframe name="letter-preview" id="letter-preview"' in html
    assert f'src="{preview}"' in html
    assert f'formaction="{preview}" formtarget="letter-preview"' in html


def test_the_preview_of_typed_text_renders_it_without_saving(client, draft, clerk_a, rendered):
    client.force_login(clerk_a)
    typed = form_data(draft, body="一、刚刚输入、尚未保存的内容", title="改过的标题")
    response = client.post(url("reply", "preview", draft.pk), typed)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert rendered[0].title == "改过的标题" and rendered[0].draft
    draft.refresh_from_db()
    assert draft.title != "改过的标题" and draft.version == 1


def test_a_preview_of_invalid_input_says_why_in_the_frame(client, draft, clerk_a, rendered):
    client.force_login(clerk_a)
    response = client.post(url("reply", "preview", draft.pk), form_data(draft, title=""))
    assert response.status_code == 200 and "无法预览" in response.content.decode()
    assert rendered == []


def test_only_the_units_members_preview_typed_text_and_only_of_a_draft(
    client, draft, pending, clerk_b, committee, rendered
):
    client.force_login(clerk_b)  # the co-handling unit
    assert client.post(url("reply", "preview", draft.pk), form_data(draft)).status_code == 404
    client.force_login(committee)  # reads, does not write
    assert client.post(url("reply", "preview", draft.pk), form_data(draft)).status_code == 404


def test_a_version_conflict_names_the_fields_to_carry_over(client, draft, clerk_a, unit_a):
    colleague = f.UserFactory(username="colleague", full_name="丙同事")
    f.MembershipFactory(user=colleague, unit=unit_a, role=Membership.Role.CLERK)
    loaded = Reply.objects.get(pk=draft.pk)
    rwf.edit_reply(draft, actor=colleague, version=draft.version, closing="同事改的结束语。")
    client.force_login(clerk_a)
    response = client.post(
        url("reply", "change", draft.pk), form_data(loaded, body=loaded.body + "我写的。")
    )
    html = response.content.decode()
    assert "丙同事 已于" in html and "您的稿件与最新版本不同之处：正文、结束语" in html
    assert "在新窗口打开最新版本" in html


def test_a_signed_letter_shows_its_stored_pdf_inline_and_no_inputs(
    client, signed, clerk_a, settings, tmp_path
):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    signed.pdf.save("signed.pdf", ContentFile(b"%PDF-1.4 signed"), save=True)
    client.force_login(clerk_a)
    page = client.get(url("reply", "change", signed.pk))
    html = page.content.decode()
    assert 'id="id_body"' not in html and "preview-typed" not in html
    download = url("reply", "download", signed.pk)
    assert f'src="{download}?inline=1"' in html
    inline = client.get(download, {"inline": "1"})
    assert inline["Content-Disposition"].startswith("inline;")
    assert inline["X-Frame-Options"] == "SAMEORIGIN"


def test_the_assignment_page_lists_the_letters_and_offers_to_start_a_reply(
    client, assigned, clerk_a, clerk_b
):
    lead, co = assigned["lead"], assigned["co"]
    client.force_login(clerk_a)
    page = client.get(reverse("admin:proposals_assignment_change", args=[lead.pk]))
    html = page.content.decode()
    assert "答复与会办意见" in html
    assert reverse("admin:replies_reply_start_for", args=[lead.pk]) in html
    client.force_login(clerk_b)
    page = client.get(reverse("admin:proposals_assignment_change", args=[co.pk]))
    assert reverse("admin:replies_coopinion_start_for", args=[co.pk]) in page.content.decode()


def test_the_start_button_goes_once_a_draft_exists(client, draft, assigned, clerk_a):
    client.force_login(clerk_a)
    lead = assigned["lead"]
    page = client.get(reverse("admin:proposals_assignment_change", args=[lead.pk]))
    html = page.content.decode()
    assert reverse("admin:replies_reply_start_for", args=[lead.pk]) not in html
    assert url("reply", "change", draft.pk) in html


def test_the_proposal_timeline_leaves_out_another_units_undelivered_letters(
    client, assigned, draft, clerk_a, clerk_b, committee
):
    from django.contrib.contenttypes.models import ContentType

    from proposals.admin.proposals import visible_transitions
    from replies.models import CoOpinion

    opinion = rwf.start_opinion(assigned["co"], actor=clerk_b)
    proposal = assigned["proposal"]
    kind = ContentType.objects.get_for_model(CoOpinion)
    everything = list(proposal.transitions.all())
    assert any(t.content_type_id == kind.pk and t.object_id == opinion.pk for t in everything)
    for_lead = visible_transitions(proposal.transitions.all(), clerk_a)
    assert not any(t.content_type_id == kind.pk for t in for_lead)
    assert len(visible_transitions(proposal.transitions.all(), committee)) == len(everything)
    for_co = visible_transitions(proposal.transitions.all(), clerk_b)
    assert any(t.content_type_id == kind.pk for t in for_co)
    client.force_login(clerk_a)
    page = client.get(reverse("admin:proposals_proposal_change", args=[proposal.pk]))
    assert "办理经过与到期日" in page.content.decode()
