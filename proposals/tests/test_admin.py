"""The admin as the committee, the supervision office and the units' clerks use it.

Every lifecycle verb goes through the workflow: these tests check the admin's side of it —
who sees which rows and verbs, that actions and buttons call the workflow and show its
refusals, and that every page answers.
"""

import datetime
import re
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from proposals import workflow as wf
from proposals.models import (
    Assignment,
    CalendarYear,
    ContactRecord,
    DayOverride,
    DueDate,
    Extension,
    Proposal,
    ProposalAttachment,
    Transition,
)
from proposals.tests import factories as f

pytestmark = pytest.mark.django_db


def url(model, view="changelist", *args):
    return reverse(f"admin:proposals_{model}_{view}", args=args)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def run_action(client, model, action, objs, **data):
    """Post a changelist action the way the page does (the first step, with ``index``)."""
    payload = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objs], "index": 0}
    return client.post(url(model), {**payload, **data}, follow=True)


def apply_action(client, model, action, objs, **data):
    """Post an action's intermediate form (the second step, without ``index``)."""
    payload = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objs], "apply": "1"}
    return client.post(url(model), {**payload, **data}, follow=True)


@pytest.fixture
def as_committee(client, committee):
    client.force_login(committee)
    return client


@pytest.fixture
def assigned(session, committee, unit_a, unit_b):
    """A filed proposal assigned through the workflow: unit A leads, unit B co-handles."""
    p = f.ProposalFactory(session=session)
    f.CoProposerFactory(proposal=p)
    wf.file_proposal(p, actor=committee)
    wf.assign_proposal(
        p,
        actor=committee,
        units=[(unit_a, Assignment.Role.LEAD), (unit_b, Assignment.Role.CO)],
        assigned_on=datetime.date(2026, 11, 2),
    )
    p.refresh_from_db()
    return p


def assignment_of(proposal, unit):
    return Assignment.objects.get(proposal=proposal, unit=unit)


# --- Every page answers ---------------------------------------------------------------------


def test_every_registered_model_has_a_working_changelist_and_change_page_for_the_committee(
    as_committee, assigned, committee, clerk_a, unit_a
):
    lead = assignment_of(assigned, unit_a)
    wf.accept_assignment(lead, actor=clerk_a)
    wf.extend_assignment(
        lead, actor=committee, new_due_on=datetime.date(2027, 3, 1), reason="需协调市级部门"
    )
    wf.log_contact(
        lead,
        actor=clerk_a,
        contacted_on=datetime.date(2026, 11, 10),
        method=ContactRecord.Method.MEETING,
        proposers=[assigned.lead_proposer],
    )
    wf.set_day_override(actor=committee, date=datetime.date(2027, 1, 1), is_workday=False)
    CalendarYear.objects.create(year=2026, source="国务院办公厅关于2026年部分节假日安排的通知")
    ProposalAttachment.objects.create(
        proposal=assigned, file=SimpleUploadedFile("原件.pdf", b"%PDF-1.4"), name="原件.pdf"
    )

    models = [m for m in admin.site._registry if m._meta.app_label == "proposals"]
    assert {m._meta.model_name for m in models} >= {
        "user",
        "unit",
        "session",
        "proposer",
        "proposal",
        "assignment",
        "transition",
        "dayoverride",
    }
    for model in models:
        name = model._meta.model_name
        assert as_committee.get(url(name)).status_code == 200, name
        obj = model._default_manager.order_by("pk").last()
        assert obj is not None, name
        response = as_committee.get(url(name, "change", obj.pk))
        assert response.status_code == 200, name
        if admin.site._registry[model].has_add_permission(response.wsgi_request):
            assert as_committee.get(url(name, "add")).status_code == 200, name


def test_the_proposal_page_shows_its_timeline_with_due_dates_and_their_explanations(
    as_committee, assigned
):
    page = as_committee.get(url("proposal", "change", assigned.pk)).content.decode()
    assert "立案" in page and "交办" in page
    due = DueDate.objects.filter(assignment__proposal=assigned, clock="reply").get()
    assert due.explanation in page
    assert "已立案 → 已交办" in page


def test_the_assignment_changelist_uses_a_constant_number_of_queries(
    as_committee, assigned, session, committee
):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert as_committee.get(url("assignment")).status_code == 200
        return len(queries)

    before = count()
    for _ in range(3):
        p = f.ProposalFactory(session=session)
        wf.file_proposal(p, actor=committee)
        wf.assign_proposal(p, actor=committee, units=[(f.UnitFactory(), "lead")])
    assert count() == before


# --- Proposal verbs -------------------------------------------------------------------------


def test_the_file_action_lists_the_numbers_first_then_files(as_committee, session):
    p = f.ProposalFactory(session=session)
    page = run_action(as_committee, "proposal", "file", [p])
    assert "立案编号 第001号" in page.content.decode()
    p.refresh_from_db()
    assert p.status == Proposal.Status.SUBMITTED
    response = apply_action(as_committee, "proposal", "file", [p], confirm="1")
    p.refresh_from_db()
    assert (p.status, p.number) == (Proposal.Status.FILED, "第001号")
    assert Transition.objects.filter(proposal=p).count() == 1
    assert any("已立案" in m for m in messages_of(response))


def test_the_file_action_on_a_draft_shows_the_refusal_and_changes_nothing(as_committee, session):
    draft = f.ProposalFactory(session=session, status=Proposal.Status.DRAFT)
    response = apply_action(as_committee, "proposal", "file", [draft], confirm="1")
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.serial) == ("draft", "", None)
    assert not Transition.objects.exists()
    assert any("当前状态为“草稿”，不能执行此操作" in m for m in messages_of(response))


def test_a_bulk_action_reports_how_many_succeeded_and_each_failure(as_committee, session):
    ok1, ok2 = f.ProposalFactory(session=session), f.ProposalFactory(session=session)
    draft = f.ProposalFactory(session=session, status=Proposal.Status.DRAFT, title="草稿一件")
    msgs = messages_of(apply_action(as_committee, "proposal", "file", [ok1, ok2, draft], confirm=1))
    assert "已立案 2 件。" in msgs
    assert any(m.startswith("“草稿一件”未能立案：") for m in msgs)
    assert set(Proposal.objects.values_list("status", flat=True)) == {"filed", "draft"}


def test_returning_asks_for_a_reason_on_an_intermediate_page(as_committee, session):
    p = f.ProposalFactory(session=session)
    page = run_action(as_committee, "proposal", "return", [p])
    assert page.status_code == 200
    assert "退回理由" in page.content.decode()
    p.refresh_from_db()
    assert p.status == "submitted", "showing the form changes nothing"

    apply_action(as_committee, "proposal", "return", [p], reason="请补充情况分析")
    p.refresh_from_db()
    assert (p.status, p.review_note) == ("returned", "请补充情况分析")


def test_the_assign_form_creates_a_lead_and_a_co_assignment_with_due_dates(
    as_committee, session, committee, unit_a, unit_b
):
    p = f.ProposalFactory(session=session)
    wf.file_proposal(p, actor=committee)
    form_page = run_action(as_committee, "proposal", "assign", [p])
    assert "主办单位" in form_page.content.decode()

    response = apply_action(
        as_committee,
        "proposal",
        "assign",
        [p],
        lead_unit=unit_a.pk,
        co_units=[unit_b.pk],
        assigned_on="2026-11-02",
        note="",
    )
    assert response.status_code == 200
    p.refresh_from_db()
    assert p.status == Proposal.Status.ASSIGNED
    roles = dict(p.assignments.values_list("unit_id", "role"))
    assert roles == {unit_a.pk: "lead", unit_b.pk: "co"}
    lead, co = assignment_of(p, unit_a), assignment_of(p, unit_b)
    assert set(lead.due_dates.values_list("clock", flat=True)) == {
        "reassignment",
        "first_contact",
        "reply",
    }
    # 沟通见面 is the lead's duty, not the co-handling unit's.
    assert set(co.due_dates.values_list("clock", flat=True)) == {"reassignment", "co_opinion"}
    assert lead.due_dates.get(clock="reply").due_on == datetime.date(2027, 2, 2)


def test_an_assignment_the_workflow_refuses_keeps_the_form_and_shows_why(
    as_committee, session, committee, unit_a, unit_b
):
    p = f.ProposalFactory(session=session)
    wf.file_proposal(p, actor=committee)
    response = apply_action(
        as_committee,
        "proposal",
        "assign",
        [p],
        lead_unit=unit_a.pk,
        separate_units=[unit_b.pk],
        assigned_on="2026-11-02",
    )
    assert "主办与分办不能同时使用。" in messages_of(response)
    assert 'name="apply"' in response.content.decode(), "the form is shown again"
    assert not Assignment.objects.exists()


def test_the_change_page_offers_the_verbs_of_the_current_status_as_buttons(as_committee, session):
    p = f.ProposalFactory(session=session)
    page = as_committee.get(url("proposal", "change", p.pk)).content.decode()
    assert url("proposal", "verb", p.pk, "file") in page
    assert url("proposal", "verb", p.pk, "return") in page
    assert url("proposal", "verb", p.pk, "close") not in page


def test_a_button_confirms_first_and_runs_the_verb_on_post(as_committee, session):
    p = f.ProposalFactory(session=session)
    verb_url = url("proposal", "verb", p.pk, "file")
    confirm = as_committee.get(verb_url)
    assert confirm.status_code == 200 and "确认立案" in confirm.content.decode()
    p.refresh_from_db()
    assert p.status == "submitted"

    response = as_committee.post(verb_url, {"apply": "1", "confirm": "1"})
    assert response.status_code == 302
    assert response["Location"] == url("proposal", "change", p.pk)
    p.refresh_from_db()
    assert p.status == "filed"


def test_merging_offers_only_filed_proposals_of_the_same_session(as_committee, session, committee):
    target = f.ProposalFactory(session=session, title="目标提案")
    wf.file_proposal(target, actor=committee)
    other_session = f.ProposalFactory(title="别届提案", status=Proposal.Status.FILED)
    p = f.ProposalFactory(session=session)
    page = as_committee.get(url("proposal", "verb", p.pk, "merge")).content.decode()
    # The target is searched (test_admin_search.py): the box asks the URL the page gives it.
    lookup = re.search(r'data-ajax--url="([^"]+)"', page)[1].replace("&amp;", "&")
    offered = [r["text"] for r in as_committee.get(lookup).json()["results"]]
    target.refresh_from_db()
    assert offered == [str(target)], "别届提案 is of another session"

    as_committee.post(
        url("proposal", "verb", p.pk, "merge"), {"apply": "1", "target": target.pk, "note": ""}
    )
    p.refresh_from_db()
    assert (p.status, p.merged_into_id) == ("merged", target.pk)
    assert other_session.status == "filed"


def test_not_filing_records_the_disposition(as_committee, session):
    p = f.ProposalFactory(session=session)
    as_committee.post(
        url("proposal", "verb", p.pk, "not_file"),
        {"apply": "1", "disposition": "social_info", "note": "转社情民意"},
    )
    p.refresh_from_db()
    assert (p.status, p.disposition) == ("not_filed", "social_info")


def test_co_proposers_are_editable_only_before_filing(as_committee, assigned, session):
    filed_page = as_committee.get(url("proposal", "change", assigned.pk))
    inline = next(
        i
        for i in filed_page.context["inline_admin_formsets"]
        if i.opts.model.__name__ == "CoProposer"
    )
    assert not inline.has_change_permission and not inline.has_add_permission
    draft = f.ProposalFactory(session=session, status=Proposal.Status.DRAFT)
    draft_page = as_committee.get(url("proposal", "change", draft.pk))
    inline = next(
        i
        for i in draft_page.context["inline_admin_formsets"]
        if i.opts.model.__name__ == "CoProposer"
    )
    assert inline.has_add_permission


def test_saving_a_stale_proposal_form_keeps_the_status_a_workflow_call_wrote(
    rf, committee, session
):
    p = f.ProposalFactory(session=session)
    stale = Proposal.objects.get(pk=p.pk)
    wf.file_proposal(p, actor=committee)
    stale.title = "关于优化营商环境的建议（修改）"
    request = rf.post("/")
    request.user = committee
    model_admin = admin.site._registry[Proposal]
    form = SimpleNamespace(
        changed_data=["title"], cleaned_data={"title": stale.title}, instance=stale
    )
    model_admin.save_model(request, stale, form, change=True)
    model_admin.save_related(request, form, [], change=True)
    p.refresh_from_db()
    assert (p.status, p.number, p.title) == ("filed", "第001号", "关于优化营商环境的建议（修改）")


# --- Assignment verbs -----------------------------------------------------------------------


def test_the_units_clerk_accepts_from_the_changelist(client, assigned, clerk_a, unit_a):
    client.force_login(clerk_a)
    lead = assignment_of(assigned, unit_a)
    msgs = messages_of(run_action(client, "assignment", "accept", [lead]))
    lead.refresh_from_db()
    assert lead.state == "accepted"
    assert any("已签收" in m for m in msgs)


def test_the_committee_extends_with_a_new_date_and_a_reason(as_committee, assigned, unit_a):
    lead = assignment_of(assigned, unit_a)
    response = apply_action(
        as_committee,
        "assignment",
        "extend",
        [lead],
        new_due_on="2027-03-01",
        reason="需协调市级部门",
    )
    assert response.status_code == 200
    ext = Extension.objects.get(assignment=lead)
    assert ext.new_due_on == datetime.date(2027, 3, 1)
    assert lead.due_dates.get(clock="reply").is_fixed


def test_a_clerk_logs_a_contact_with_the_proposers_of_the_proposal(
    client, assigned, clerk_a, unit_a
):
    lead = assignment_of(assigned, unit_a)
    wf.accept_assignment(lead, actor=clerk_a)
    client.force_login(clerk_a)
    verb_url = url("assignment", "verb", lead.pk, "log_contact")
    page = client.get(verb_url).content.decode()
    assert assigned.lead_proposer.name in page
    response = client.post(
        verb_url,
        {
            "apply": "1",
            "contacted_on": "2026-11-10",
            "method": "meeting",
            "proposers": [assigned.lead_proposer.pk],
            "participants": "甲联络员",
            "notes": "",
        },
    )
    assert response.status_code == 302
    record = ContactRecord.objects.get(assignment=lead)
    assert list(record.proposers.all()) == [assigned.lead_proposer]
    assert lead.due_dates.get(clock="first_contact").completed_on == datetime.date(2026, 11, 10)


def test_reassignment_is_requested_by_the_unit_and_refused_by_the_committee(
    client, as_committee, assigned, clerk_a, unit_a
):
    lead = assignment_of(assigned, unit_a)
    wf.request_reassignment(lead, actor=clerk_a, reason="不属本单位职责", on=lead.assigned_on)
    apply_action(as_committee, "assignment", "refuse_reassignment", [lead], reason="属本单位职责")
    lead.refresh_from_db()
    assert lead.state == "accepted"


# --- Who sees what --------------------------------------------------------------------------


def test_a_clerk_does_not_see_another_units_assignment(client, assigned, clerk_a, unit_a, unit_b):
    client.force_login(clerk_a)
    mine, theirs = assignment_of(assigned, unit_a), assignment_of(assigned, unit_b)
    rows = client.get(url("assignment")).context["cl"].result_list
    assert list(rows) == [mine]
    response = client.get(url("assignment", "change", theirs.pk))
    assert response.status_code in (302, 404)
    assert client.get(url("assignment", "verb", theirs.pk, "accept")).status_code in (302, 404)


def test_a_clerk_sees_only_proposals_assigned_to_the_unit(client, assigned, clerk_a, session):
    other = f.ProposalFactory(session=session)
    client.force_login(clerk_a)
    rows = client.get(url("proposal")).context["cl"].result_list
    assert list(rows) == [assigned]
    assert client.get(url("proposal", "change", other.pk)).status_code in (302, 404)


def test_a_clerk_is_offered_no_committee_verbs(client, assigned, clerk_a, unit_a):
    client.force_login(clerk_a)
    actions = client.get(url("assignment")).context["action_form"].fields["action"].choices
    names = {name for name, _label in actions if name}
    assert names == {"accept", "request_reassignment", "request_extension", "log_contact"}
    assert not client.get(url("proposal")).context["action_form"]
    lead = assignment_of(assigned, unit_a)
    assert client.get(url("assignment", "verb", lead.pk, "extend")).status_code == 403
    assert client.get(url("transition")).status_code == 403


def test_the_supervision_office_sees_everything_and_changes_nothing(
    client, supervisor, assigned, unit_a
):
    client.force_login(supervisor)
    listing = client.get(url("proposal"))
    assert list(listing.context["cl"].result_list) == [assigned]
    assert not listing.context["action_form"]
    page = client.get(url("proposal", "change", assigned.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert client.get(url("proposal", "verb", assigned.pk, "close")).status_code == 403
    assert client.post(url("proposal", "add"), {}).status_code == 403
    assert (
        client.get(url("assignment", "change", assignment_of(assigned, unit_a).pk)).status_code
        == 200
    )


# --- The audit record and the calendar ------------------------------------------------------


def test_the_transition_admin_is_read_only(as_committee, assigned):
    row = Transition.objects.filter(proposal=assigned).first()
    assert as_committee.get(url("transition", "add")).status_code == 403
    assert as_committee.post(url("transition", "delete", row.pk)).status_code == 403
    listing = as_committee.get(url("transition"))
    assert not listing.context["action_form"], "no actions at all, not even delete_selected"
    filtered = as_committee.get(url("transition"), {"verb": "file"})
    assert [t.verb for t in filtered.context["cl"].result_list] == ["file"]


def test_saving_a_day_override_goes_through_the_workflow_and_reports_recomputed_dates(
    as_committee, assigned, unit_a
):
    lead = assignment_of(assigned, unit_a)
    reply = lead.due_dates.get(clock="reply")
    response = as_committee.post(
        url("dayoverride", "add"),
        {"date": reply.due_on.isoformat(), "is_workday": "", "note": "临时调整休息"},
        follow=True,
    )
    assert any(m.startswith("已重新计算") and "个到期日" in m for m in messages_of(response))
    override = DayOverride.objects.get()
    assert override.updated_by is not None
    assert Transition.objects.filter(verb="set_day_override").count() == 1
    reply.refresh_from_db()
    assert reply.due_on > override.date

    response = as_committee.post(
        url("dayoverride", "delete", override.pk), {"post": "yes"}, follow=True
    )
    assert not DayOverride.objects.exists()
    assert Transition.objects.filter(verb="delete_day_override").count() == 1
    assert any(m.startswith("已重新计算") for m in messages_of(response))


def test_bulk_deleting_day_overrides_goes_through_the_workflow(as_committee, committee):
    for day in (1, 2):
        wf.set_day_override(actor=committee, date=datetime.date(2027, 2, day), is_workday=False)
    as_committee.post(
        url("dayoverride"),
        {
            "action": "delete_selected",
            ACTION_CHECKBOX_NAME: list(DayOverride.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    assert not DayOverride.objects.exists()
    assert Transition.objects.filter(verb="delete_day_override").count() == 2


def test_the_session_page_previews_its_number_format(as_committee):
    s = f.SessionFactory(number_template="第{term}{meeting}{serial:03d}号", term=15, meeting=2)
    page = as_committee.get(url("session", "change", s.pk)).content.decode()
    assert "第152001号" in page


def test_the_proposer_page_groups_the_private_contact_fields(as_committee):
    p = f.ProposerFactory()
    page = as_committee.get(url("proposer", "change", p.pk)).content.decode()
    assert "联系方式（不公开）" in page
