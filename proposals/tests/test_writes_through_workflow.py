"""No write outside the workflow (issue 18): the admin's saves and deletes of proposals, their
co-proposers and attachments, and the Excel import, are workflow calls with audit rows.

A static test reads the admin modules and the site's code for direct writes to the models of
``proposals`` and ``replies``; behaviour tests post the proposal's change form as the committee
and read the audit rows it leaves (or does not).
"""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from proposals import workflow as wf
from proposals.models import CoProposer, Proposal, ProposalAttachment, Transition
from proposals.tests import factories as f

ROOT = Path(__file__).resolve().parents[2]

# --- The static test ------------------------------------------------------------------------

#: Where writes must be workflow calls: the admins and the site (API, /my/, import, mail).
SCANNED = ("proposals/admin", "replies/admin", "tracker")
#: Left out of the scan, each for a reason.
NOT_SCANNED = {
    "tracker/tests": "tests build their states directly",
    "tracker/migrations": "schema and data migrations run outside the workflow by nature",
    "tracker/demo": "the demo builds a sample database (it calls the workflow where it can)",
    "tracker/management/commands": "operators' commands (backup, restore, purge_audit through "
    "its own audited call); each is reviewed with its own tests",
}
#: The calls that write a row.
WRITES = frozenset(
    {
        "save",
        "delete",
        "create",
        "update",
        "bulk_create",
        "bulk_update",
        "get_or_create",
        "update_or_create",
    }
)
#: ``.save()``/``.delete()`` on names that are no model of proposals or replies, by module.
#: ``update`` and ``create`` are flagged only on a model's manager or a related manager, so a
#: dict's ``update`` needs no entry here.
NOT_A_PROPOSALS_MODEL = {
    ("tracker/excel/writing.py", "book"): "an openpyxl workbook written to memory",
    ("tracker/admin_tasks.py", "default_storage"): "the export files of the admin's jobs",
    ("tracker/mail/ledger.py", "row"): "a mail ledger row (tracker.models), not a proposal's",
    ("tracker/reminders.py", "run"): "the reminder scan's own bookkeeping (tracker.models)",
    ("tracker/reports/annual.py", "doc"): "a python-docx document written to memory",
    ("tracker/reports/charts.py", "self"): "a chart's PIL image written to memory",
    ("tracker/mail/ledger.py", "model"): "the mail ledgers' models (tracker.models), passed in",
    ("proposals/admin/access.py", "obj"): "SaveChangedFieldsMixin, for reference data (sessions): "
    "no admin of a lifecycle model uses it (checked below)",
}


def _models() -> tuple[set[str], set[str]]:
    """The class names of the models of proposals and replies, and their related managers'
    accessor names (``coproposer_links``, ``attachments`` …)."""
    from django.apps import apps

    names: set[str] = set()
    accessors: set[str] = set()
    for label in ("proposals", "replies"):
        for model in apps.get_app_config(label).get_models():
            names.add(model.__name__)
            for rel in model._meta.related_objects:
                if rel.related_model._meta.app_label in {"proposals", "replies"}:
                    accessors.add(rel.get_accessor_name())
            for m2m in model._meta.many_to_many:
                accessors.add(m2m.name)
    return names, accessors


def _chain(node: ast.AST) -> tuple[str | None, list[str]]:
    """The root name of ``a.b().c.d`` and the attribute names along the way."""
    attrs: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id, attrs[::-1]
        else:
            return None, attrs[::-1]


def _scanned_files() -> list[Path]:
    files = []
    for base in SCANNED:
        for path in sorted((ROOT / base).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if any(rel == skip or rel.startswith(skip + "/") for skip in NOT_SCANNED):
                continue
            files.append(path)
    return files


def direct_writes(source: str, rel: str, models: set[str], accessors: set[str]) -> list[str]:
    """``file:line call`` for each direct write to a model of proposals or replies."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        if method not in WRITES:
            continue
        if any(k.arg == "commit" for k in node.keywords):
            continue  # form.save(commit=False) builds an object, writes nothing
        root, attrs = _chain(node.func.value)
        allowed = (rel, root) in NOT_A_PROPOSALS_MODEL
        on_model = root in models or any(a in accessors for a in attrs)
        if method in {"save", "delete"}:
            # An object's save: its type is unknown here, so every receiver is suspect.
            flagged = on_model or not allowed
        else:
            # A manager's write: a model class named (ours or another app's), or a variable
            # holding a model (``model.objects``), which is suspect.
            variable = bool(root) and root[:1].islower() and "objects" in attrs
            flagged = on_model or (variable and not allowed)
        if flagged:
            found.append(f"{rel}:{node.lineno} {ast.unparse(node.func)}(…)")
    return found


def test_no_admin_or_site_module_writes_a_proposals_or_replies_model_directly():
    models, accessors = _models()
    found = []
    for path in _scanned_files():
        rel = path.relative_to(ROOT).as_posix()
        found += direct_writes(path.read_text(encoding="utf-8"), rel, models, accessors)
    assert found == [], "write through a workflow function instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "code",
    [
        # The admin inline's saves before issue 18, and the import's creations.
        "for a in formset.save(commit=False):\n    a.save()\nfor a in x:\n    a.delete()",
        "Proposal.objects.create(title='x')",
        "CoProposer.objects.bulk_create([])",
        "proposal.coproposer_links.all().delete()",
        "Reply.objects.filter(pk=1).update(state='x')",
        "obj.attachments.create(name='x')",
    ],
)
def test_the_static_test_finds_the_writes_it_exists_for(code):
    models, accessors = _models()
    assert direct_writes(code, "proposals/admin/proposals.py", models, accessors)


def test_a_dicts_update_and_a_forms_unsaved_object_are_not_writes():
    models, accessors = _models()
    code = "data.update(a=1)\nform.save(commit=False)\ncontext.update(x)"
    assert direct_writes(code, "tracker/api/statistics.py", models, accessors) == []


#: Models whose admin may save the Django way: reference data with no lifecycle, whose changes
#: Django's own change log (LogEntry) records, or models no admin writes at all.
REFERENCE_DATA = {
    "User": "accounts: Django's user admin, change log in LogEntry",
    "Unit": "reference data",
    "Membership": "reference data (inline of users and units)",
    "Session": "reference data; its serial counter is read-only in the admin",
    "Proposer": "reference data",
}
HOOKS = ("save_model", "delete_model", "delete_queryset")


def test_every_admin_of_a_lifecycle_model_writes_through_the_workflow_or_not_at_all(rf, committee):
    """An admin (or inline) that lets the committee add, change or delete a proposals or
    replies model either is reference data or overrides Django's write hooks."""
    from django.contrib.admin.options import InlineModelAdmin, ModelAdmin

    request = rf.get("/")
    request.user = committee
    leaks = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in {"proposals", "replies"}:
            continue
        if model.__name__ in REFERENCE_DATA:
            continue
        needs = set()
        if model_admin.has_add_permission(request) or model_admin.has_change_permission(request):
            needs.add("save_model")
        if model_admin.has_delete_permission(request):
            needs |= {"delete_model", "delete_queryset"}
        own = {h for h in HOOKS if getattr(type(model_admin), h) is not getattr(ModelAdmin, h)}
        if needs - own:
            leaks.append(f"{type(model_admin).__name__}: Django's {sorted(needs - own)}")
        for inline_class in model_admin.inlines:
            inline = inline_class(model, admin.site)
            if inline.model.__name__ in REFERENCE_DATA:
                continue
            edits = (
                inline.has_add_permission(request, None)
                or inline.has_change_permission(request, None)
                or inline.has_delete_permission(request, None)
            )
            overrides = {
                h
                for h in ("save_related", "save_formset")
                if getattr(type(model_admin), h) is not getattr(ModelAdmin, h)
            }
            if edits and not overrides:
                leaks.append(f"{inline_class.__name__} of {type(model_admin).__name__}")
            assert isinstance(inline, InlineModelAdmin)
    assert leaks == []


# --- Behaviour: the proposal's change form ----------------------------------------------------


def url(view, *args):
    return reverse(f"admin:proposals_proposal_{view}", args=args)


def form_data(response) -> dict:
    """What the page would post unchanged: the form's and every inline's current values."""
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        data[name] = _value(form[name].value())
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[formset.management_form.add_prefix(name)] = _value(
                formset.management_form[name].value()
            )
        for row in formset.forms:
            for name in row.fields:
                value = _value(row[name].value())
                if value is not None:
                    data[row.add_prefix(name)] = value
    return {k: v for k, v in data.items() if v is not None}


def _value(value):
    if value is False or value is None:
        return None
    if value is True:
        return "on"
    if isinstance(value, list):
        return [str(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def png(name="原件.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def inline_prefix(response, model) -> str:
    return next(
        i.formset.prefix
        for i in response.context["inline_admin_formsets"]
        if i.formset.model is model
    )


@pytest.fixture
def as_committee(client, committee):
    client.force_login(committee)
    return client


@pytest.fixture
def filed(committee, session):
    proposal = f.ProposalFactory(session=session, title="关于加强社区养老服务的建议")
    return wf.file_proposal(proposal, actor=committee)


def edits_of(proposal) -> list[Transition]:
    return list(Transition.objects.filter(proposal=proposal, verb="edit_proposal").order_by("id"))


@pytest.mark.django_db
def test_the_committee_corrects_a_filed_proposal_and_the_audit_lists_each_change(
    as_committee, filed, committee
):
    page = as_committee.get(url("change", filed.pk))
    before_lead = filed.lead_proposer.name
    other = f.ProposerFactory(name="李华")
    data = form_data(page)
    data.update(title="关于完善社区养老服务的建议", lead_proposer=str(other.pk), is_key="on")
    response = as_committee.post(url("change", filed.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    filed.refresh_from_db()
    assert (filed.title, filed.lead_proposer, filed.is_key) == (
        "关于完善社区养老服务的建议",
        other,
        True,
    )
    [edit] = edits_of(filed)
    assert (edit.actor, edit.from_state, edit.to_state) == (committee, "filed", "filed")
    assert edit.note == (
        "案由：关于加强社区养老服务的建议 → 关于完善社区养老服务的建议；"
        f"第一提案人：{before_lead} → 李华；重点提案：否 → 是"
    )
    assert str(edit).split(" ", 2)[2].startswith("修改提案信息 已立案")


@pytest.mark.django_db
def test_saving_the_form_unchanged_writes_nothing(as_committee, filed):
    page = as_committee.get(url("change", filed.pk))
    before = Transition.objects.count()
    response = as_committee.post(url("change", filed.pk), form_data(page))
    assert response.status_code == 302
    assert Transition.objects.count() == before


@pytest.mark.django_db
def test_a_refused_edit_shows_the_reason_in_chinese_and_saves_nothing(
    as_committee, session, committee
):
    draft = wf.enter_proposal(
        actor=committee, session=session, lead_proposer=f.ProposerFactory(), title="关于甲的建议"
    )
    co = f.ProposerFactory(name="张三")
    page = as_committee.get(url("change", draft.pk))
    data = form_data(page)
    prefix = inline_prefix(page, CoProposer)
    data.update(
        {
            "title": "关于乙的建议",
            f"{prefix}-TOTAL_FORMS": "1",
            # The lead as their own co-proposer: the workflow's rule refuses it.
            f"{prefix}-0-proposer": str(draft.lead_proposer_id),
            f"{prefix}-0-position": "1",
        }
    )
    before = Transition.objects.count()
    response = as_committee.post(url("change", draft.pk), data)
    assert response.status_code == 200
    assert "第一提案人不能同时是联名提案人。" in response.content.decode()
    draft.refresh_from_db()
    assert draft.title == "关于甲的建议"
    assert not CoProposer.objects.filter(proposal=draft).exists()
    assert Transition.objects.count() == before
    # The same form with a real co-proposer goes through, in one audit row.
    data[f"{prefix}-0-proposer"] = str(co.pk)
    assert as_committee.post(url("change", draft.pk), data).status_code == 302
    [edit] = edits_of(draft)
    assert edit.note == "案由：关于甲的建议 → 关于乙的建议；联名提案人：（空） → 张三"


@pytest.mark.django_db
def test_an_invalid_value_is_refused_by_the_workflow_with_its_field(filed, committee):
    before = Transition.objects.count()
    with pytest.raises(wf.InvalidInput) as refused:
        wf.edit_proposal(filed, actor=committee, fields={"title": "  "})
    assert (refused.value.message, refused.value.field) == ("请填写案由。", "title")
    with pytest.raises(wf.InvalidInput, match="不能更换届次会议"):
        wf.edit_proposal(filed, actor=committee, fields={"session": f.SessionFactory()})
    assert Transition.objects.count() == before


@pytest.mark.django_db
def test_a_proposer_edits_only_their_own_draft_and_only_its_text(session, proposer_user):
    lead = proposer_user.proposer
    draft = f.ProposalFactory(session=session, lead_proposer=lead, status="draft")
    wf.edit_proposal(draft, actor=proposer_user, fields={"category": "economy"})
    assert edits_of(draft)[0].note == "类别：其他 → 经济建设"
    with pytest.raises(wf.NotAllowed, match="重点提案"):
        wf.edit_proposal(draft, actor=proposer_user, fields={"is_key": True})
    submitted = f.ProposalFactory(session=session, lead_proposer=lead)
    with pytest.raises(wf.WrongState):
        wf.edit_proposal(submitted, actor=proposer_user, fields={"title": "关于丙的建议"})


@pytest.mark.django_db
def test_a_long_text_is_cut_in_the_note(filed, committee):
    wf.edit_proposal(filed, actor=committee, fields={"analysis": "很" * 100})
    [edit] = edits_of(filed)
    assert edit.note == "情况分析：（空） → " + "很" * 29 + "…"


@pytest.mark.django_db
def test_a_stale_version_is_refused(filed, committee):
    stale = filed.updated_at
    wf.edit_proposal(filed, actor=committee, fields={"is_key": True})
    with pytest.raises(wf.WrongState, match="已被他人修改"):
        wf.edit_proposal(filed, actor=committee, fields={"is_key": False}, version=stale)


@pytest.mark.django_db
def test_adding_and_removing_an_attachment_in_the_inline_is_audited(as_committee, filed):
    page = as_committee.get(url("change", filed.pk))
    data = form_data(page)
    prefix = inline_prefix(page, ProposalAttachment)
    data.update(
        {f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-0-file": png(), f"{prefix}-0-name": "原件"}
    )
    response = as_committee.post(url("change", filed.pk), data)
    assert response.status_code == 302
    attachment = ProposalAttachment.objects.get(proposal=filed)
    added = Transition.objects.get(verb="add_attachment")
    assert (added.proposal, added.object_id, added.note) == (filed, attachment.pk, "原件")

    page = as_committee.get(url("change", filed.pk))
    data = form_data(page)
    data[f"{prefix}-0-DELETE"] = "on"
    assert as_committee.post(url("change", filed.pk), data).status_code == 302
    assert not ProposalAttachment.objects.filter(proposal=filed).exists()
    removed = Transition.objects.get(verb="remove_attachment")
    assert (removed.proposal, removed.object_id, removed.note) == (filed, attachment.pk, "原件")
    assert edits_of(filed) == []


@pytest.mark.django_db
def test_a_bad_attachment_is_refused_and_the_edit_beside_it_is_not_saved(as_committee, filed):
    page = as_committee.get(url("change", filed.pk))
    data = form_data(page)
    prefix = inline_prefix(page, ProposalAttachment)
    bad = SimpleUploadedFile("x.png", b"MZ\x90\x00 not an image", content_type="image/png")
    data.update(
        {
            "title": "关于别的事的建议",
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-0-file": bad,
            f"{prefix}-0-name": "x",
        }
    )
    response = as_committee.post(url("change", filed.pk), data)
    assert response.status_code == 200
    filed.refresh_from_db()
    assert filed.title == "关于加强社区养老服务的建议"
    assert not ProposalAttachment.objects.exists()
    assert edits_of(filed) == []


@pytest.mark.django_db
def test_adding_a_proposal_in_the_admin_enters_it_through_the_workflow(
    as_committee, session, committee
):
    lead = f.ProposerFactory()
    page = as_committee.get(url("add"))
    data = form_data(page)
    data.update(session=str(session.pk), title="关于丁的建议", lead_proposer=str(lead.pk))
    data["category"] = "other"
    response = as_committee.post(url("add"), data)
    assert response.status_code == 302
    proposal = Proposal.objects.get(title="关于丁的建议")
    entered = Transition.objects.get(proposal=proposal)
    assert (entered.verb, entered.actor, entered.to_state) == ("enter", committee, "draft")


@pytest.mark.django_db
def test_deleting_a_draft_with_an_audit_trail_is_refused_and_a_bare_one_is_recorded(
    committee, session
):
    entered = wf.enter_proposal(
        actor=committee, session=session, lead_proposer=f.ProposerFactory(), title="关于戊的建议"
    )
    with pytest.raises(wf.WrongState, match="已有操作记录"):
        wf.delete_draft(entered, actor=committee)
    bare = f.ProposalFactory(session=session, status="draft")
    pk = bare.pk
    wf.delete_draft(bare, actor=committee)
    assert not Proposal.objects.filter(pk=pk).exists()
    gone = Transition.objects.get(verb="delete_draft")
    assert (gone.object_id, gone.proposal, gone.note) == (pk, None, bare.title)


@pytest.mark.django_db
def test_changing_an_assigned_key_proposal_s_months_offers_to_recompute_and_moves_nothing(
    as_committee, filed, committee, unit_a
):
    wf.assign_proposal(filed, actor=committee, units=[(unit_a, "lead")])
    reply_due = filed.assignments.get().due_dates.get(clock="reply")
    before = (reply_due.due_on, reply_due.rule)
    page = as_committee.get(url("change", filed.pk))
    data = form_data(page)
    data.update(is_key="on", key_reply_months="5")
    response = as_committee.post(url("change", filed.pk), data, follow=True)
    notes = [str(m) for m in response.context["messages"]]
    assert any("答复期限已修改" in n and "重算答复期限" in n for n in notes), notes
    reply_due.refresh_from_db()
    # Nothing is recomputed until the committee follows the link.
    assert (reply_due.due_on, reply_due.rule) == before == (reply_due.due_on, "3,months")
