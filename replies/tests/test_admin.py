"""The replies admin as the units' clerks and signers, the committee and the supervision office
use it: drafts saved only through the workflow, verbs as buttons and actions, the letter PDFs.

Flows are built with the workflow functions; the admin is what is under test.
"""

import datetime
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from proposals import workflow as pwf
from proposals.models import Assignment, AssignmentState, Membership
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.models import CoOpinion, DocNumberCounter, Feedback, Reply
from replies.tests.factories import CoOpinionFactory

pytestmark = pytest.mark.django_db

#: The read-only feedback inline's management form, which a browser always posts.
FEEDBACK_INLINE = {
    "feedback-TOTAL_FORMS": "0",
    "feedback-INITIAL_FORMS": "0",
    "feedback-MIN_NUM_FORMS": "0",
    "feedback-MAX_NUM_FORMS": "0",
}


def url(model, view="changelist", *args):
    return reverse(f"admin:replies_{model}_{view}", args=args)


def verb_url(obj, verb):
    return url(obj._meta.model_name, "verb", obj.pk, verb)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def form_data(letter, **changes):
    """What the change form posts: the letter's editable fields, as loaded, plus the version."""
    names = rwf.REPLY_EDITABLE_FIELDS if isinstance(letter, Reply) else rwf.EDITABLE_FIELDS
    data = {name: getattr(letter, name) for name in names}
    data["loaded_version"] = letter.version
    if isinstance(letter, Reply):
        data.update(FEEDBACK_INLINE)
    return {**data, **changes}


@pytest.fixture
def signer_b(unit_b):
    user = f.UserFactory(username="signer_b", full_name="乙签发人")
    f.MembershipFactory(user=user, unit=unit_b, role=Membership.Role.SIGNER)
    return user


@pytest.fixture
def assigned(session, committee, unit_a, unit_b, clerk_a, clerk_b):
    """Proposal 第001号: unit A leads, unit B co-handles; both have accepted."""
    proposal = f.ProposalFactory(session=session, title="关于推进产业内循环招商的建议")
    f.CoProposerFactory(proposal=proposal)
    pwf.file_proposal(proposal, actor=committee)
    lead, co = pwf.assign_proposal(
        proposal,
        actor=committee,
        units=[(unit_a, Assignment.Role.LEAD), (unit_b, Assignment.Role.CO)],
        assigned_on=datetime.date(2026, 3, 2),
    )
    pwf.accept_assignment(lead, actor=clerk_a)
    pwf.accept_assignment(co, actor=clerk_b)
    proposal.refresh_from_db()
    return {"proposal": proposal, "lead": lead, "co": co}


@pytest.fixture
def draft(assigned, clerk_a):
    return rwf.start_reply(assigned["lead"], actor=clerk_a)


def complete(reply, clerk):
    return rwf.edit_reply(
        reply,
        actor=clerk,
        version=reply.version,
        result_label="采纳",
        body=reply.body + "一、腾笼换鸟\n具体措施。",
    )


@pytest.fixture
def pending(draft, clerk_a):
    reply = complete(draft, clerk_a)
    return rwf.submit_reply(reply, actor=clerk_a, override_reason="会办单位意见已电话沟通")


@pytest.fixture
def signed(pending, signer_a):
    return rwf.sign_reply(pending, actor=signer_a)


@pytest.fixture
def sent(signed, clerk_a):
    return rwf.send_reply(signed, actor=clerk_a)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# --- Editing a draft ------------------------------------------------------------------------


def test_a_clerk_edits_a_draft_through_the_admin_and_the_workflow_records_it(
    client, draft, clerk_a
):
    client.force_login(clerk_a)
    page = client.get(url("reply", "change", draft.pk))
    assert page.status_code == 200
    assert f'name="loaded_version" value="{draft.version}"' in page.content.decode()

    body = draft.body + "一、优化营商环境\r\n（一）加强政策支持。"
    response = client.post(
        url("reply", "change", draft.pk),
        form_data(draft, body=body, result_label="解决或采纳", contact_postcode="200050"),
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    draft.refresh_from_db()
    assert draft.body.endswith("一、优化营商环境\n（一）加强政策支持。"), "CRLF made LF"
    assert (draft.result_label, draft.result_class) == ("解决或采纳", "A")
    assert draft.version == 2
    assert draft.last_edited_by == clerk_a


def test_a_stale_save_is_refused_and_the_page_keeps_what_was_typed(client, draft, clerk_a, unit_a):
    colleague = f.UserFactory(username="colleague", full_name="丙同事")
    f.MembershipFactory(user=colleague, unit=unit_a, role=Membership.Role.CLERK)
    loaded = Reply.objects.get(pk=draft.pk)
    rwf.edit_reply(draft, actor=colleague, version=draft.version, closing="同事改过的结束语。")
    client.force_login(clerk_a)

    typed = "二、我刚写好的一大段办理情况，不能丢。"
    response = client.post(
        url("reply", "change", draft.pk), form_data(loaded, body=loaded.body + typed)
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "丙同事 已于" in html and "您的修改未保存" in html
    assert typed in html, "the typed text is in the form again"
    assert url("reply", "change", draft.pk) in html, "a link to read the latest version"
    draft.refresh_from_db()
    assert typed not in draft.body
    assert draft.closing == "同事改过的结束语。"
    assert draft.version == 2


def test_a_refused_field_is_shown_beside_the_field(client, draft, clerk_a):
    client.force_login(clerk_a)
    response = client.post(
        url("reply", "change", draft.pk), form_data(draft, contact_postcode="20005x")
    )
    assert response.status_code == 200
    assert "邮政编码应为6位数字" in str(
        response.context["adminform"].form.errors["contact_postcode"]
    )


def test_a_signed_reply_has_no_inputs_and_a_post_changes_nothing(client, signed, clerk_a):
    client.force_login(clerk_a)
    html = client.get(url("reply", "change", signed.pk)).content.decode()
    for name in ("title", "salutation", "body", "closing", "result_label", "loaded_version"):
        assert f'name="{name}"' not in html, name
    assert 'name="_save"' not in html

    for changes in ({"title": "改标题"}, {}):
        response = client.post(url("reply", "change", signed.pk), form_data(signed, **changes))

        assert response.status_code == 200
        assert "当前状态为“已签发”，不能执行此操作。" in response.content.decode()
        signed.refresh_from_db()
        assert signed.title != "改标题"
        assert signed.version == 2


def test_a_save_after_a_colleague_submitted_the_draft_is_refused_with_the_text_kept(
    client, draft, clerk_a, unit_a
):
    reply = complete(draft, clerk_a)
    loaded = Reply.objects.get(pk=reply.pk)
    rwf.submit_reply(reply, actor=clerk_a, override_reason="已沟通")
    client.force_login(clerk_a)

    typed = "三、补充一段还没保存的内容。"
    response = client.post(
        url("reply", "change", reply.pk), form_data(loaded, body=loaded.body + typed)
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "当前状态为“待签发”，不能执行此操作。" in html
    assert typed in html
    reply.refresh_from_db()
    assert typed not in reply.body


def test_the_committee_and_the_supervision_office_read_a_draft_without_inputs(
    client, draft, committee, supervisor
):
    for user in (committee, supervisor):
        client.force_login(user)
        response = client.get(url("reply", "change", draft.pk))
        assert response.status_code == 200
        assert 'name="body"' not in response.content.decode()
        assert client.post(url("reply", "change", draft.pk), form_data(draft)).status_code == 403


# --- Who sees what --------------------------------------------------------------------------


def test_another_units_clerk_is_told_the_draft_does_not_exist_and_its_pdfs_are_404(
    client, draft, clerk_b
):
    client.force_login(clerk_b)
    for path in (url("reply", "change", draft.pk), verb_url(draft, "submit")):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.url == reverse("admin:index")
    assert client.get(url("reply", "preview", draft.pk)).status_code == 404
    assert client.get(url("reply", "download", draft.pk)).status_code == 404
    response = client.post(url("reply", "change", draft.pk), form_data(draft, title="乙改的"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title != "乙改的"


def test_the_changelist_shows_a_clerk_only_the_units_replies(
    client, draft, clerk_a, clerk_b, unit_b, session, committee
):
    other = f.ProposalFactory(session=session)
    pwf.file_proposal(other, actor=committee)
    (b_lead,) = pwf.assign_proposal(
        other,
        actor=committee,
        units=[(unit_b, Assignment.Role.LEAD)],
        assigned_on=datetime.date(2026, 3, 2),
    )
    pwf.accept_assignment(b_lead, actor=clerk_b)
    b_reply = rwf.start_reply(b_lead, actor=clerk_b)

    client.force_login(clerk_a)
    response = client.get(url("reply"))
    assert list(response.context["cl"].result_list) == [draft]

    client.force_login(committee)
    response = client.get(url("reply"))
    assert set(response.context["cl"].result_list) == {draft, b_reply}


def test_the_reply_changelist_uses_a_constant_number_of_queries(
    client, draft, committee, session, unit_a, clerk_a, django_assert_max_num_queries
):
    client.force_login(committee)
    with CaptureQueriesContext(connection) as one:
        client.get(url("reply"))
    for _i in range(3):
        p = f.ProposalFactory(session=session)
        pwf.file_proposal(p, actor=committee)
        (a,) = pwf.assign_proposal(
            p,
            actor=committee,
            units=[(unit_a, Assignment.Role.LEAD)],
            assigned_on=datetime.date(2026, 3, 2),
        )
        pwf.accept_assignment(a, actor=clerk_a)
        rwf.start_reply(a, actor=clerk_a)
    with django_assert_max_num_queries(len(one)):
        response = client.get(url("reply"))
    assert response.context["cl"].result_count == 4


def test_a_co_handling_unit_reads_the_lead_reply_once_sent_but_not_its_feedback(
    client, sent, clerk_a, clerk_b, assigned
):
    proposer = assigned["proposal"].lead_proposer
    rwf.record_feedback(sent, actor=clerk_a, proposer=proposer, rating="satisfied")
    client.force_login(clerk_b)
    response = client.get(url("reply", "change", sent.pk))
    assert response.status_code == 200
    assert not response.context["inline_admin_formsets"]
    assert response.context["verb_buttons"] == []


def test_the_search_finds_a_reply_by_its_doc_number(client, signed, committee):
    client.force_login(committee)
    for term in (signed.doc_number, signed.doc_number.replace("〔", "[").replace("〕", "]")):
        response = client.get(url("reply"), {"q": term})
        assert list(response.context["cl"].result_list) == [signed], term
    response = client.get(url("reply"), {"q": "长发改〔1999〕1号"})
    assert list(response.context["cl"].result_list) == []


# --- Starting a draft -----------------------------------------------------------------------


def test_the_changelist_offers_to_start_a_reply_for_accepted_assignments_without_a_draft(
    client, assigned, clerk_a
):
    client.force_login(clerk_a)
    groups = client.get(url("reply")).context["start_choices"]
    assert [value for _group, choices in groups for value, _label in choices] == [
        str(assigned["lead"].pk)
    ]

    response = client.post(url("reply", "start"), {"choice": str(assigned["lead"].pk)})

    reply = Reply.objects.get(assignment=assigned["lead"])
    assert response.status_code == 302
    assert response.url == url("reply", "change", reply.pk)
    assert reply.state == "draft" and reply.title.startswith("对区政协十五届二次会议")
    assert client.get(url("reply")).context["start_choices"] == []


def test_a_replied_assignment_is_offered_for_a_follow_up_reply(client, sent, clerk_a):
    client.force_login(clerk_a)
    groups = dict(client.get(url("reply")).context["start_choices"])
    choice = f"{sent.assignment_id}:follow_up"
    assert [value for value, _label in groups["再次答复（跟踪办理情况）"]] == [choice]

    client.post(url("reply", "start"), {"choice": choice})

    follow_up = Reply.objects.exclude(pk=sent.pk).get()
    assert (follow_up.kind, follow_up.result_label) == ("follow_up", "采纳")


def test_starting_from_a_link_asks_first_and_starts_on_post(client, assigned, clerk_a):
    client.force_login(clerk_a)
    start = url("reply", "start_for", assigned["lead"].pk)
    page = client.get(start)
    assert page.status_code == 200
    assert not Reply.objects.exists()
    response = client.post(start)
    assert response.url == url("reply", "change", Reply.objects.get().pk)


def test_starting_a_second_draft_shows_the_workflows_refusal(client, draft, clerk_a):
    client.force_login(clerk_a)
    response = client.post(url("reply", "start_for", draft.assignment_id), follow=True)
    assert "此件已有未签发的答复稿，请继续编辑该稿。" in messages_of(response)
    assert Reply.objects.count() == 1


def test_another_units_assignment_cannot_be_started_and_is_404(client, assigned, clerk_b):
    client.force_login(clerk_b)
    assert client.post(url("reply", "start_for", assigned["lead"].pk)).status_code == 404
    assert not Reply.objects.exists()


# --- Verbs ----------------------------------------------------------------------------------


def test_submitting_without_the_co_opinion_and_without_a_reason_shows_why(client, draft, clerk_a):
    reply = complete(draft, clerk_a)
    client.force_login(clerk_a)
    page = client.get(verb_url(reply, "submit"))
    assert "区商务委" in page.content.decode(), "the missing opinion is named on the form"

    response = client.post(verb_url(reply, "submit"), {"apply": "1", "override_reason": ""})

    assert response.status_code == 200
    assert "尚缺 区商务委 的会办意见。如需先行提交，请填写理由。" in messages_of(response)
    reply.refresh_from_db()
    assert reply.state == "draft"

    response = client.post(
        verb_url(reply, "submit"), {"apply": "1", "override_reason": "会办单位已电话确认无意见"}
    )
    assert response.status_code == 302
    reply.refresh_from_db()
    assert reply.state == "pending_signature"
    assert reply.opinion_override_reason == "会办单位已电话确认无意见"


def test_the_sign_button_is_offered_to_the_signer_and_not_to_the_clerk(
    client, pending, clerk_a, signer_a
):
    sign = verb_url(pending, "sign")
    client.force_login(clerk_a)
    assert sign not in client.get(url("reply", "change", pending.pk)).content.decode()
    assert client.get(sign).status_code == 403

    client.force_login(signer_a)
    response = client.get(url("reply", "change", pending.pk))
    assert sign in response.content.decode()
    assert {b["label"] for b in response.context["verb_buttons"]} == {"退回修改", "签发"}


def test_signing_through_the_admin_confirms_the_next_doc_number_and_takes_it(
    client, pending, signer_a, unit_a
):
    year = timezone.localdate().year
    DocNumberCounter.objects.create(unit=unit_a, year=year, last_number=13)
    client.force_login(signer_a)

    page = client.get(verb_url(pending, "sign"))
    assert f"长发改〔{year}〕14号" in page.content.decode()
    assert url("reply", "preview", pending.pk) in page.content.decode()

    response = client.post(verb_url(pending, "sign"), {"apply": "1", "confirm": "on"})

    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.state == "signed"
    assert pending.doc_number == f"长发改〔{year}〕14号"
    assert pending.signer == signer_a


def test_signing_from_the_changelist_asks_for_confirmation_first(client, pending, signer_a):
    client.force_login(signer_a)
    selected = {"action": "sign", ACTION_CHECKBOX_NAME: [pending.pk]}

    page = client.post(url("reply"), {**selected, "index": 0})

    assert page.status_code == 200
    assert "确认签发" in page.content.decode()
    pending.refresh_from_db()
    assert pending.state == "pending_signature"

    client.post(url("reply"), {**selected, "apply": "1", "confirm": "on"})
    pending.refresh_from_db()
    assert pending.state == "signed"


def test_signing_enqueues_the_signed_pdf_on_commit(
    client, pending, signer_a, monkeypatch, django_capture_on_commit_callbacks
):
    from replies import tasks

    queued = []
    monkeypatch.setattr(tasks.render_signed_pdf, "delay", lambda *args: queued.append(args))
    client.force_login(signer_a)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(verb_url(pending, "sign"), {"apply": "1", "confirm": "on"})

    assert queued == [("reply", pending.pk)]


def test_the_signer_returns_a_draft_with_a_comment_the_clerk_then_sees(
    client, pending, signer_a, clerk_a
):
    client.force_login(signer_a)
    client.post(verb_url(pending, "return"), {"apply": "1", "comment": "第二部分请补充数据"})
    pending.refresh_from_db()
    assert pending.state == "draft"

    client.force_login(clerk_a)
    response = client.get(url("reply", "change", pending.pk))
    assert "签发人退回意见：第二部分请补充数据" in response.content.decode()


def test_the_clerk_sends_from_the_changelist_and_the_committee_publishes(
    client, signed, clerk_a, committee
):
    client.force_login(clerk_a)
    client.post(url("reply"), {"action": "send", ACTION_CHECKBOX_NAME: [signed.pk], "index": 0})
    signed.refresh_from_db()
    assert signed.state == "sent"

    client.force_login(committee)
    labels = {
        b["label"] for b in client.get(url("reply", "change", signed.pk)).context["verb_buttons"]
    }
    assert labels == {"公开", "录入征询意见"}, "the committee gets its verbs, not the unit's"
    client.post(verb_url(signed, "publish"), {"apply": "1"})
    signed.refresh_from_db()
    assert signed.state == "published"


def test_publishing_is_not_offered_for_a_reply_that_is_not_public(client, draft, clerk_a):
    reply = rwf.edit_reply(draft, actor=clerk_a, version=draft.version, disclosure="not_public")
    reply = complete(reply, clerk_a)
    reply = rwf.submit_reply(reply, actor=clerk_a, override_reason="已沟通")
    signer = f.UserFactory(username="s2")
    f.MembershipFactory(user=signer, unit=reply.unit, role=Membership.Role.SIGNER)
    reply = rwf.send_reply(rwf.sign_reply(reply, actor=signer), actor=clerk_a)
    client.force_login(clerk_a)
    labels = {
        b["label"] for b in client.get(url("reply", "change", reply.pk)).context["verb_buttons"]
    }
    assert "公开" not in labels


def test_the_committee_enters_paper_feedback_for_a_proposer_of_the_proposal(
    client, sent, committee, assigned
):
    proposal = assigned["proposal"]
    stranger = f.ProposerFactory(name="无关委员")
    client.force_login(committee)
    page = client.get(verb_url(sent, "feedback"))
    offered = set(page.context["form"].fields["proposer"].queryset)
    assert offered == set(proposal.proposers())
    assert stranger not in offered

    client.post(
        verb_url(sent, "feedback"),
        {
            "apply": "1",
            "proposer": proposal.lead_proposer.pk,
            "rating": "basically_satisfied",
            "on_work": "satisfied",
            "on_result": "",
            "comment": "希望加快进度",
            "channel": "paper",
        },
    )

    fb = Feedback.objects.get()
    assert (fb.proposer, fb.rating, fb.channel) == (
        proposal.lead_proposer,
        "basically_satisfied",
        "paper",
    )
    assert fb.recorded_by == committee
    response = client.get(url("reply", "change", sent.pk))
    assert "希望加快进度" in response.content.decode(), "the feedback inline shows it"


def test_superseding_makes_a_linked_correction_draft(client, sent, clerk_a):
    client.force_login(clerk_a)
    response = client.post(
        verb_url(sent, "supersede"), {"apply": "1", "reason": "联系电话有误"}, follow=True
    )
    new = Reply.objects.get(supersedes=sent)
    assert new.state == "draft"
    assert any(url("reply", "change", new.pk) in m for m in messages_of(response))
    assert "更正" not in {b["label"] for b in response.context["verb_buttons"]}


def test_the_result_history_lists_the_sent_replies(client, sent, clerk_a):
    client.force_login(clerk_a)
    html = client.get(url("reply", "change", sent.pk)).content.decode()
    assert f"<td>{sent.doc_number}</td><td>答复</td><td>采纳</td><td>A 解决或采纳</td>" in html


# --- PDFs -----------------------------------------------------------------------------------


def test_the_preview_of_a_draft_is_an_inline_pdf_with_the_draft_mark(
    client, draft, clerk_a, monkeypatch, eager_tasks
):
    import replies.pdf

    rendered = []
    real = replies.pdf.render_letter_pdf_isolated  # the preview task's renderer

    def spy(letter, **limits):
        rendered.append(letter)
        return real(letter, **limits)

    monkeypatch.setattr(replies.pdf, "render_letter_pdf_isolated", spy)
    client.force_login(clerk_a)

    response = client.get(url("reply", "preview", draft.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert response.content.startswith(b"%PDF")
    assert [letter.draft for letter in rendered] == [True]


def test_the_signed_pdf_downloads_named_after_its_doc_number_once_stored(
    client, signed, clerk_a, media
):
    client.force_login(clerk_a)
    response = client.get(url("reply", "download", signed.pk), follow=True)
    assert "签发件正在生成，请稍后再下载。" in messages_of(response)
    assert "签发件正在生成" in client.get(url("reply", "change", signed.pk)).content.decode()

    assert rwf.store_signed_pdf("reply", signed.pk)
    signed.refresh_from_db()
    response = client.get(url("reply", "download", signed.pk))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(signed.doc_number + '.pdf')}" in disposition
    assert b"".join(response.streaming_content) == signed.pdf.open("rb").read()
    page = client.get(url("reply", "change", signed.pk)).content.decode()
    assert url("reply", "download", signed.pk) in page
    assert url("reply", "preview", signed.pk) not in page, "a signed letter is not re-rendered"


# --- Co-handling opinions -------------------------------------------------------------------


def test_the_co_unit_drafts_signs_and_delivers_its_opinion_through_the_admin(
    client, assigned, clerk_b, signer_b, clerk_a
):
    client.force_login(clerk_b)
    (_group, choices), *_rest = client.get(url("coopinion")).context["start_choices"]
    assert [value for value, _label in choices] == [str(assigned["co"].pk)]
    client.post(url("coopinion", "start"), {"choice": str(assigned["co"].pk)})
    opinion = CoOpinion.objects.get()
    client.post(
        url("coopinion", "change", opinion.pk),
        form_data(opinion, body=opinion.body + "同意主办单位意见。"),
    )
    client.post(verb_url(opinion, "submit"), {"apply": "1"})
    client.force_login(signer_b)
    client.post(verb_url(opinion, "sign"), {"apply": "1", "confirm": "on"})
    client.force_login(clerk_b)
    client.post(verb_url(opinion, "deliver"), {"apply": "1"})

    opinion.refresh_from_db()
    assert opinion.state == "delivered"
    assert opinion.body.endswith("同意主办单位意见。")
    assert opinion.doc_number.startswith("长商务〔")
    assert Assignment.objects.get(pk=assigned["co"].pk).state == AssignmentState.OPINION_SENT

    client.force_login(clerk_a)
    response = client.get(url("coopinion", "change", opinion.pk))
    assert response.status_code == 200, "the lead unit reads the delivered opinion"
    assert response.context["verb_buttons"] == []


def test_the_lead_unit_does_not_see_an_undelivered_opinion(client, assigned, clerk_b, clerk_a):
    opinion = rwf.start_opinion(assigned["co"], actor=clerk_b)
    client.force_login(clerk_a)
    assert client.get(url("coopinion", "change", opinion.pk)).status_code == 302
    assert client.get(url("coopinion", "preview", opinion.pk)).status_code == 404


# --- Read-only lists and every page ---------------------------------------------------------


def test_feedback_is_listed_for_the_offices_and_the_replying_unit_only(
    client, sent, clerk_a, clerk_b, committee, supervisor, assigned
):
    rwf.record_feedback(
        sent, actor=committee, proposer=assigned["proposal"].lead_proposer, rating="satisfied"
    )
    for user, count in ((committee, 1), (supervisor, 1), (clerk_a, 1), (clerk_b, 0)):
        client.force_login(user)
        response = client.get(url("feedback"))
        assert response.context["cl"].result_count == count, user


def test_doc_number_counters_are_a_read_only_list_for_the_committee(
    client, signed, committee, clerk_a
):
    client.force_login(committee)
    response = client.get(url("docnumbercounter"))
    assert response.status_code == 200
    assert signed.doc_number in response.content.decode()
    client.force_login(clerk_a)
    assert client.get(url("docnumbercounter")).status_code == 403


def test_every_replies_page_answers_for_the_committee_and_the_supervision_office(
    client, sent, committee, supervisor, assigned, clerk_b
):
    rwf.record_feedback(
        sent, actor=committee, proposer=assigned["proposal"].lead_proposer, rating="satisfied"
    )
    # The lead's reply closed this proposal's co-handling assignment (未提供会办意见): the draft
    # opinion every page needs is another proposal's.
    CoOpinionFactory(
        assignment__unit=assigned["co"].unit,
        assignment__proposal__session=assigned["proposal"].session,
    )
    models = [m for m in admin.site._registry if m._meta.app_label == "replies"]
    assert {m._meta.model_name for m in models} == {
        "reply",
        "coopinion",
        "feedback",
        "docnumbercounter",
    }
    for user in (committee, supervisor):
        client.force_login(user)
        for model in models:
            name = model._meta.model_name
            if name == "docnumbercounter" and user == supervisor:
                continue
            assert client.get(url(name)).status_code == 200, name
            obj = model._default_manager.order_by("pk").last()
            assert client.get(url(name, "change", obj.pk)).status_code == 200, name
