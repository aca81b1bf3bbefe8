"""Clerks' friction (issue 19, part 7): one-click verbs, the district's 办理结果 list, dates in
Excel exports as dates, error pages in Chinese, the attachment's file shown without a dead link.

The flows are built with the workflow functions; the admin pages are what is under test.
"""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import loader
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.views import defaults
from openpyxl import load_workbook

from proposals import workflow as pwf
from proposals.models import Assignment, AssignmentState, Membership, ProposalAttachment
from proposals.models import Transition as AuditTransition
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.models import (
    DEFAULT_RESULT_LABELS_BY_DISTRICT,
    CoOpinion,
    Reply,
    result_class_for,
    result_labels_for,
)

pytestmark = pytest.mark.django_db

#: The read-only feedback inline's management form, which a browser always posts.
FEEDBACK_INLINE = {
    "feedback-TOTAL_FORMS": "0",
    "feedback-INITIAL_FORMS": "0",
    "feedback-MIN_NUM_FORMS": "0",
    "feedback-MAX_NUM_FORMS": "0",
}


def admin_url(obj, view: str, *args) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[obj.pk, *args])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def signer_b(unit_b):
    user = f.UserFactory(username="signer_b", full_name="乙签发人")
    f.MembershipFactory(user=user, unit=unit_b, role=Membership.Role.SIGNER)
    return user


@pytest.fixture
def assigned(session, committee, unit_a, unit_b):
    """Proposal 第001号, filed and assigned: unit A leads, unit B co-handles; not yet accepted."""
    proposal = f.ProposalFactory(session=session, title="关于推进产业内循环招商的建议")
    f.CoProposerFactory(proposal=proposal)
    pwf.file_proposal(proposal, actor=committee)
    lead, co = pwf.assign_proposal(
        proposal,
        actor=committee,
        units=[(unit_a, Assignment.Role.LEAD), (unit_b, Assignment.Role.CO)],
        assigned_on=datetime.date(2026, 3, 2),
    )
    return {"proposal": proposal, "lead": lead, "co": co}


def complete_reply(reply: Reply, clerk, label: str = "采纳") -> Reply:
    return rwf.edit_reply(
        reply,
        actor=clerk,
        version=reply.version,
        result_label=label,
        body=reply.body + "一、腾笼换鸟\n具体措施。",
    )


def complete_opinion(opinion: CoOpinion, clerk) -> CoOpinion:
    return rwf.edit_opinion(
        opinion, actor=clerk, version=opinion.version, body=opinion.body + "同意主办单位意见。"
    )


# --- One-click verbs ------------------------------------------------------------------------


def _button_for(page: str, url: str) -> str:
    """How the change page offers the verb at ``url``: ``"post"`` (a one-click button),
    ``"page"`` (a link to its form page), or ``""`` (not offered)."""
    if re.search(rf'<button type="submit" form="verb-post" formaction="{re.escape(url)}"', page):
        return "post"
    if f'href="{url}"' in page:
        return "page"
    return ""


def test_accepting_is_one_button_that_posts_with_a_confirm_and_the_csrf_token(assigned, clerk_a):
    lead = assigned["lead"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk_a)
    page = client.get(admin_url(lead, "change")).content.decode()
    accept = admin_url(lead, "verb", "accept")
    assert _button_for(page, accept) == "post"
    assert 'data-confirm="确定对' in page and "执行“签收”吗？" in page
    assert "tracker_admin/verbs.js" in page, "the confirm dialog's script, a static file"
    reassign = admin_url(lead, "verb", "request_reassignment")
    assert _button_for(page, reassign) == "page", "申请退回 asks for a reason on its page"
    form = re.search(r'<form id="verb-post" method="post" hidden>(.*?)</form>', page, re.S)
    assert form is not None
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(1)).group(1)

    refused = client.post(accept, {"apply": "1"})
    assert refused.status_code == 403, "CSRF is checked as before"
    lead.refresh_from_db()
    assert lead.state == AssignmentState.PENDING

    response = client.post(accept, {"apply": "1", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == admin_url(lead, "change")
    lead.refresh_from_db()
    assert lead.state == AssignmentState.ACCEPTED
    assert AuditTransition.objects.filter(verb="accept", object_id=lead.pk).count() == 1


def test_the_old_confirmation_url_still_renders_and_changes_nothing_on_a_get(
    client, assigned, clerk_a
):
    """Decision: a GET of a no-input verb's URL (a bookmark, an old link) still shows its
    page, whose button posts as before; only the change page's button skips it."""
    lead = assigned["lead"]
    client.force_login(clerk_a)
    response = client.get(admin_url(lead, "verb", "accept"))
    assert response.status_code == 200
    assert "此操作无需填写内容" in response.content.decode()
    lead.refresh_from_db()
    assert lead.state == AssignmentState.PENDING


def test_a_refused_one_click_verb_is_a_chinese_message_on_the_change_page(
    client, assigned, clerk_a
):
    lead = assigned["lead"]
    pwf.accept_assignment(lead, actor=clerk_a)
    client.force_login(clerk_a)
    response = client.post(admin_url(lead, "verb", "accept"), {"apply": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == admin_url(lead, "change")
    (message,) = messages_of(response)
    assert message.startswith(f"“{lead}”未能签收：")
    assert AuditTransition.objects.filter(verb="accept", object_id=lead.pk).count() == 1


def test_another_units_clerk_cannot_post_the_verb(client, assigned, clerk_b):
    lead = assigned["lead"]
    client.force_login(clerk_b)
    response = client.post(admin_url(lead, "verb", "accept"), {"apply": "1"})
    assert response.status_code in {302, 403, 404}
    lead.refresh_from_db()
    assert lead.state == AssignmentState.PENDING


def test_submitting_a_reply_is_one_click_only_while_no_co_opinion_is_missing(
    client, assigned, committee, clerk_a, clerk_b, signer_b
):
    pwf.accept_assignment(assigned["lead"], actor=clerk_a)
    pwf.accept_assignment(assigned["co"], actor=clerk_b)
    reply = complete_reply(rwf.start_reply(assigned["lead"], actor=clerk_a), clerk_a)
    client.force_login(clerk_a)
    submit = admin_url(reply, "verb", "submit")
    page = client.get(admin_url(reply, "change")).content.decode()
    assert _button_for(page, submit) == "page", "the co unit's opinion is missing: a reason"

    opinion = complete_opinion(rwf.start_opinion(assigned["co"], actor=clerk_b), clerk_b)
    opinion = rwf.sign_opinion(rwf.submit_opinion(opinion, actor=clerk_b), actor=signer_b)
    rwf.deliver_opinion(opinion, actor=clerk_b)
    page = client.get(admin_url(reply, "change")).content.decode()
    assert _button_for(page, submit) == "post"
    assert "执行“提交签发”吗？未保存的修改不会随之提交，请先保存。" in page
    assert _button_for(page, admin_url(reply, "verb", "return")) == ""
    client.post(submit, {"apply": "1"})
    reply.refresh_from_db()
    assert reply.state == Reply.State.PENDING_SIGNATURE


@dataclass
class Walk:
    """What a clerk's path costs: pages the browser shows, and HTTP requests."""

    pages: int = 0
    requests: int = 0

    def load(self, response) -> None:
        assert response.status_code == 200, response.status_code
        self.pages += 1
        self.requests += 1 + len(response.redirect_chain)


def _run(client: Client, walk: Walk, obj, verb: str, user, *, old_way: bool, data=None) -> None:
    """Run ``verb`` as ``user`` from the object's change page, as its page offers it (new) or
    through the verb's own page (as before)."""
    client.force_login(user)
    change = admin_url(obj, "change")
    page = client.get(change, follow=True)
    walk.load(page)
    url = admin_url(obj, "verb", verb)
    offered = _button_for(page.content.decode(), url)
    assert offered, f"{verb} is not offered"
    if old_way or offered == "page":
        walk.load(client.get(url, follow=True))
    response = client.post(url, {"apply": "1", **(data or {})}, follow=True)
    walk.load(response)
    assert response.redirect_chain[-1][0] == change, f"{verb} did not run"
    assert not [m for m in messages_of(response) if "未能" in m]


def _draft_to_published(client, assigned, people, *, old_way: bool) -> tuple[Walk, Walk]:
    """签收 by both units, the co unit's opinion from its draft to 送主办单位, the lead unit's
    reply from its draft to 公开; returns the whole walk and the reply's part alone.

    Each verb starts from the object's change page (a user coming back to it, or switching to
    the signer): that load is counted in both ways alike.
    """
    clerk_a, signer_a, clerk_b, signer_b = people
    whole, reply_part = Walk(), Walk()
    for assignment, clerk in ((assigned["lead"], clerk_a), (assigned["co"], clerk_b)):
        _run(client, whole, assignment, "accept", clerk, old_way=old_way)
    opinion = complete_opinion(rwf.start_opinion(assigned["co"], actor=clerk_b), clerk_b)
    reply = complete_reply(rwf.start_reply(assigned["lead"], actor=clerk_a), clerk_a)
    sign = {"confirm": "on"}
    for letter, steps in (
        (
            opinion,
            [("submit", clerk_b, None), ("sign", signer_b, sign), ("deliver", clerk_b, None)],
        ),
        (
            reply,
            [
                ("submit", clerk_a, {"override_reason": ""}),
                ("sign", signer_a, sign),
                ("send", clerk_a, None),
                ("publish", clerk_a, None),
            ],
        ),
    ):
        for verb, user, data in steps:
            part = Walk()
            _run(client, part, letter, verb, user, old_way=old_way, data=data)
            whole.pages, whole.requests = whole.pages + part.pages, whole.requests + part.requests
            if letter is reply:
                reply_part.pages += part.pages
                reply_part.requests += part.requests
    reply.refresh_from_db()
    assert reply.state == Reply.State.PUBLISHED
    return whole, reply_part


@pytest.mark.parametrize("old_way", [True, False], ids=["before", "after"])
def test_draft_to_published_takes_fewer_page_loads(
    client, assigned, clerk_a, signer_a, clerk_b, signer_b, old_way
):
    """Before: every verb opened its page ("此操作无需填写内容") — 签收 ×2, the opinion's 3
    steps and the reply's 4. After: only 签发 (it takes a 文号 for good) keeps its page.

    Per verb: the change page, the verb's page (before; 签发 after too), the POST and the
    change page it redirects to (one page shown, two requests).
    """
    whole, reply_part = _draft_to_published(
        client, assigned, (clerk_a, signer_a, clerk_b, signer_b), old_way=old_way
    )
    verbs, signings = 9, 2
    if old_way:
        assert (whole.pages, whole.requests) == (3 * verbs, 4 * verbs) == (27, 36)
        assert (reply_part.pages, reply_part.requests) == (12, 16)
    else:
        assert (whole.pages, whole.requests) == (2 * verbs + signings, 3 * verbs + signings)
        assert (whole.pages, whole.requests) == (20, 29)
        assert (reply_part.pages, reply_part.requests) == (9, 13)


# --- 办理结果 per district ------------------------------------------------------------------


def _result_choices(client, reply: Reply) -> list[str]:
    form = client.get(admin_url(reply, "change")).context["adminform"].form
    return [value for value, _label in form.fields["result_label"].choices if value]


@pytest.fixture
def accepted(assigned, clerk_a, clerk_b):
    pwf.accept_assignment(assigned["lead"], actor=clerk_a)
    pwf.accept_assignment(assigned["co"], actor=clerk_b)
    return assigned


def test_the_reply_form_offers_the_list_of_the_proposals_district(client, accepted, clerk_a):
    reply = rwf.start_reply(accepted["lead"], actor=clerk_a)
    client.force_login(clerk_a)
    assert accepted["proposal"].session.district == "长宁"
    assert _result_choices(client, reply) == list(DEFAULT_RESULT_LABELS_BY_DISTRICT["长宁"])
    page = client.get(admin_url(reply, "change")).content.decode()
    assert "解决或采纳（A类）" in page and "留作参考（D类）" in page
    assert "采纳解决" not in page, "普陀's word is not offered in 长宁"

    session = accepted["proposal"].session
    session.district = "普陀区"
    session.save(update_fields=["district"])
    assert _result_choices(client, reply) == list(DEFAULT_RESULT_LABELS_BY_DISTRICT["普陀"])
    session.district = "静安"
    session.save(update_fields=["district"])
    assert _result_choices(client, reply) == list(DEFAULT_RESULT_LABELS_BY_DISTRICT[""])


def test_every_default_label_has_the_class_the_figures_count(settings):
    settings.RESULT_LABELS_BY_DISTRICT = {}
    for district, labels in DEFAULT_RESULT_LABELS_BY_DISTRICT.items():
        assert {"A", "C", "D"} <= set(labels.values()), district
        for label, cls in labels.items():
            assert result_class_for(label) == cls, (district, label)
    for district in ("长宁", "普陀", "宝山", "杨浦", "嘉定"):
        assert result_labels_for(f"{district}区") == DEFAULT_RESULT_LABELS_BY_DISTRICT[district]


def test_a_legacy_label_is_kept_by_the_workflow_but_the_form_refuses_it(client, accepted, clerk_a):
    reply = rwf.start_reply(accepted["lead"], actor=clerk_a)
    reply = complete_reply(reply, clerk_a, label="解决采纳")  # accepted where it is today
    assert (reply.result_label, reply.result_class) == ("解决采纳", "A")
    client.force_login(clerk_a)
    assert (
        "解决采纳（不在本区选项中，请重新选择）"
        in client.get(admin_url(reply, "change")).content.decode()
    )

    data = {name: getattr(reply, name) for name in rwf.REPLY_EDITABLE_FIELDS}
    data.update(FEEDBACK_INLINE, loaded_version=reply.version, title="改过的标题")
    response = client.post(admin_url(reply, "change"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["result_label"]
    assert errors == [
        "“解决采纳”不在本区的办理结果选项中。办理结果应从本区的选项中选择："
        + "、".join(DEFAULT_RESULT_LABELS_BY_DISTRICT["长宁"])
        + "。"
    ]
    reply.refresh_from_db()
    assert reply.title != "改过的标题", "nothing saved"

    data["result_label"] = "解决或采纳"
    response = client.post(admin_url(reply, "change"), data)
    assert response.status_code == 302
    reply.refresh_from_db()
    assert (reply.result_label, reply.result_class, reply.title) == (
        "解决或采纳",
        "A",
        "改过的标题",
    )


def test_a_district_operator_sets_the_list_and_its_classes(client, accepted, clerk_a, settings):
    settings.RESULT_LABELS_BY_DISTRICT = {
        "长宁": {"办结采纳": "A", "列入计划拟解决": "B", "留作参考": "D"}
    }
    assert result_class_for("办结采纳") == "A", "a district's own label counts in its class"
    reply = rwf.start_reply(accepted["lead"], actor=clerk_a)
    client.force_login(clerk_a)
    assert _result_choices(client, reply) == ["办结采纳", "列入计划拟解决", "留作参考"]
    data = {name: getattr(reply, name) for name in rwf.REPLY_EDITABLE_FIELDS}
    data.update(FEEDBACK_INLINE, loaded_version=reply.version, result_label="办结采纳")
    assert client.post(admin_url(reply, "change"), data).status_code == 302
    reply.refresh_from_db()
    assert (reply.result_label, reply.result_class) == ("办结采纳", "A")

    data.update(loaded_version=reply.version, result_label="采纳")
    response = client.post(admin_url(reply, "change"), data)
    assert response.status_code == 200
    assert "办理结果应从本区的选项中选择：办结采纳、列入计划拟解决、留作参考。" in str(
        response.context["adminform"].form.errors["result_label"]
    )


@pytest.mark.parametrize(
    "configured",
    [{"长宁": {"采纳": "B"}}, {"长宁": {"新说法": "E"}}, {"长宁": {}}, {"长宁": ["采纳"]}],
    ids=["changes-a-known-class", "not-a-class", "empty", "not-a-mapping"],
)
def test_a_wrong_district_list_is_refused_as_misconfigured(settings, configured):
    settings.RESULT_LABELS_BY_DISTRICT = configured
    with pytest.raises(ImproperlyConfigured):
        result_labels_for("长宁")


# --- Excel: dates as dates ------------------------------------------------------------------


def _sheet(content: bytes):
    return load_workbook(io.BytesIO(content)).active


def test_the_list_export_writes_assigned_and_due_dates_as_date_cells(client, accepted, committee):
    client.force_login(committee)
    url = reverse("tracker_admin:export", args=["proposals", "assignment"])
    ws = _sheet(client.get(url).content)
    headers = [c.value for c in ws[1]]
    lead = Assignment.objects.get(pk=accepted["lead"].pk)
    due = lead.due_dates.get(clock="reply").due_on
    row = next(r for r in ws.iter_rows(min_row=2) if r[headers.index("办理方式")].value == "主办")
    for header, expected in (("交办日期", lead.assigned_on), ("答复（会办）期限", due)):
        cell = row[headers.index(header)]
        assert cell.is_date and cell.value.date() == expected, header
        assert cell.number_format == "yyyy-mm-dd", header


def test_the_reply_export_writes_the_signing_and_sending_dates_as_dates(
    client, accepted, committee, clerk_a, signer_a
):
    reply = complete_reply(rwf.start_reply(accepted["lead"], actor=clerk_a), clerk_a)
    reply = rwf.submit_reply(reply, actor=clerk_a, override_reason="会办单位意见已电话沟通")
    reply = rwf.send_reply(rwf.sign_reply(reply, actor=signer_a), actor=clerk_a)
    client.force_login(committee)
    ws = _sheet(client.get(reverse("tracker_admin:export", args=["replies", "reply"])).content)
    headers = [c.value for c in ws[1]]
    (row,) = list(ws.iter_rows(min_row=2))
    signed = row[headers.index("成文日期")]
    assert signed.is_date and signed.value.date() == reply.signed_on
    assert signed.number_format == "yyyy-mm-dd"
    sent = row[headers.index("送达/公开")]
    assert sent.is_date and sent.number_format == "yyyy-mm-dd hh:mm"
    assert sent.value == timezone.localtime(reply.sent_at).replace(tzinfo=None, microsecond=0)


# --- Error pages ----------------------------------------------------------------------------


def test_a_missing_page_is_a_chinese_404_with_a_way_back(client, settings, committee):
    settings.DEBUG = False
    client.force_login(committee)
    for path in ("/no-such-page/", "/admin/proposals/proposal/999999/do/accept/"):
        response = client.get(path)
        assert response.status_code == 404
        page = response.content.decode()
        assert "找不到您要访问的页面" in page, path
        assert f'href="{reverse("admin:index")}"' in page
        assert f'href="{reverse("my:index")}"' in page


def test_a_forbidden_page_is_a_chinese_403_with_a_way_back(client, settings, clerk_a):
    settings.DEBUG = False
    client.force_login(clerk_a)
    response = client.get(reverse("tracker_admin:statistics"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "您没有权限访问此页面" in page and f'href="{reverse("admin:index")}"' in page


def test_the_500_page_needs_no_database_and_no_context(settings, django_assert_num_queries):
    settings.DEBUG = False
    with django_assert_num_queries(0):
        response = defaults.server_error(RequestFactory().get("/admin/"))
        bare = loader.get_template("500.html").render()
    assert response.status_code == 500
    for page in (response.content.decode(), bare):
        assert "系统暂时出现问题" in page
        assert f'href="{reverse("admin:index")}"' in page
        assert "<script" not in page and "<style" not in page, "the CSP allows neither here"


# --- The attachment's file ------------------------------------------------------------------


def test_a_saved_attachment_shows_its_name_and_the_working_download_link_only(
    client, assigned, committee, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    attachment = ProposalAttachment.objects.create(
        proposal=assigned["proposal"],
        file=SimpleUploadedFile("原件扫描.pdf", b"%PDF-1.4"),
        name="提案原件",
    )
    client.force_login(committee)
    page = client.get(admin_url(assigned["proposal"], "change")).content.decode()
    download = reverse("attachment-download", args=[attachment.pk])
    assert f'href="{download}"' in page
    assert settings.MEDIA_URL not in page.replace('href="/static/', ""), "no media link"
    assert "目前" not in page and "Currently" not in page
    assert attachment.file.name.rsplit("/", 1)[-1] in page, "the stored file's name, as text"
    assert 'type="file"' in page, "a new row still uploads"
    assert client.get(download).status_code == 200
