"""The proposal's change form saves through the workflow: one call, one audit row.

Django's admin saves a form and its inlines itself; here ``save_related`` makes the workflow
calls instead — ``enter_proposal`` for a new proposal, ``edit_proposal`` for the changed fields
and co-proposers together, ``add_attachment``/``remove_attachment`` for the attachments — and
deletion is ``delete_draft``. A refusal (``WorkflowError``) rolls the whole save back (the
admin's transaction) and the same POST is shown again with the refusal as the form's error.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from proposals import workflow
from proposals.admin.access import _ModelAdminBase, _ModelFormBase
from proposals.admin.calendar_years import offer_reply_recompute
from proposals.models import CoProposer, Proposal, ProposalAttachment
from proposals.workflow import WorkflowError
from proposals.workflow.edits import COMMITTEE_FIELDS


class _Refused(Exception):
    """The workflow refused a save; carries its error to the second rendering of the page
    (raised inside the admin's transaction, so what was saved before it is rolled back)."""

    def __init__(self, error: WorkflowError) -> None:
        super().__init__(error.message)
        self.error = error


class _RefusalForm(_ModelFormBase):
    """The change form shows the workflow's refusal as its error, on the field it names."""

    refusal: WorkflowError | None = None

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if self.refusal is not None:
            field = self.refusal.field if self.refusal.field in self.fields else None
            self.add_error(field, self.refusal.message)
        return data


class WorkflowSavesMixin(_ModelAdminBase):
    """For ``ProposalAdmin``: every save and delete of the change form is a workflow call."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        attrs = {"refusal": getattr(request, "_proposal_refusal", None)}
        return type(form.__name__, (_RefusalForm, form), attrs)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _Refused as refused:
            # The admin shows a form again only when it is invalid: render the same POST once
            # more, with the refusal as the form's error, so that nothing typed is lost.
            request._proposal_refusal = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        """Nothing is written here: ``save_related`` makes the one workflow call, once the
        co-proposers of the inline are known too."""

    def save_related(self, request, form, formsets, change):
        """Enter or edit the proposal (``enter_proposal``/``edit_proposal``, co-proposers
        included), then add and remove attachments; a refusal undoes the whole save."""
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in COMMITTEE_FIELDS and name in form.cleaned_data
        }
        coproposers = next((f for f in formsets if f.model is CoProposer), None)
        if coproposers is not None and coproposers.has_changed():
            fields["coproposers"] = self.coproposer_ids(coproposers)
        try:
            if change:
                if fields:
                    workflow.edit_proposal(form.instance.pk, actor=request.user, fields=fields)
            else:
                self.enter(request, form, fields.get("coproposers", ()))
            for formset in formsets:
                if formset.model is ProposalAttachment:
                    self.save_attachments(request, form.instance, formset)
        except WorkflowError as exc:
            raise _Refused(exc) from exc
        for formset in formsets:
            self.note_formset(formset)
        if change and {"is_key", "key_reply_months"} & set(fields):
            # Due dates already set under the old period stay until the committee asks.
            offer_reply_recompute(request, Proposal.objects.get(pk=form.instance.pk))

    @staticmethod
    def note_formset(formset) -> None:
        """What Django's change message reads off a saved formset, for one saved here."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            if formset._should_delete_form(row):
                if row.instance.pk is not None:
                    formset.deleted_objects.append(row.instance)
            elif row.has_changed():
                if row.instance.pk is None:
                    formset.new_objects.append(row.instance)
                else:
                    formset.changed_objects.append((row.instance, row.changed_data))

    def enter(self, request, form, coproposers) -> None:
        """A new proposal, entered by the committee; the form's object takes its id."""
        data = {n: form.cleaned_data[n] for n in COMMITTEE_FIELDS if n in form.cleaned_data}
        data.pop("coproposers", None)
        created = workflow.enter_proposal(actor=request.user, coproposers=coproposers, **data)
        form.instance.pk = created.pk
        form.instance.status = created.status
        form.instance.created_at = created.created_at
        form.instance.updated_at = created.updated_at

    @staticmethod
    def coproposer_ids(formset) -> list[int]:
        """The co-proposers the inline lists (deleted rows left out), in signing order."""
        rows = []
        for index, row in enumerate(formset.forms):
            data = getattr(row, "cleaned_data", None) or {}
            if formset._should_delete_form(row) or not data.get("proposer"):
                continue
            rows.append((data.get("position") or 0, index, data["proposer"].pk))
        return [pk for _position, _index, pk in sorted(rows)]

    def save_attachments(self, request, proposal: Proposal, formset) -> None:
        for row in formset.forms:
            if formset._should_delete_form(row):
                if row.instance.pk is not None:
                    workflow.remove_attachment(row.instance.pk, actor=request.user)
            elif row.instance.pk is None and row.has_changed():
                workflow.add_attachment(
                    proposal.pk,
                    actor=request.user,
                    file=row.cleaned_data["file"],
                    name=row.cleaned_data.get("name") or "",
                )

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except _Refused as refused:
            self.message_user(request, refused.error.message, messages.ERROR)
            change_url = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                args=[object_id],
                current_app=self.admin_site.name,
            )
            return HttpResponseRedirect(change_url)

    def delete_model(self, request, obj):
        try:
            workflow.delete_draft(obj.pk, actor=request.user)
        except WorkflowError as exc:
            raise _Refused(exc) from exc

    def delete_queryset(self, request, queryset):
        """Each draft on its own: one refused is named, the others are still deleted."""
        for proposal in list(queryset):
            try:
                workflow.delete_draft(proposal.pk, actor=request.user)
            except WorkflowError as exc:
                msg = _("“%(obj)s”未能删除：%(message)s") % {
                    "obj": proposal,
                    "message": exc.message,
                }
                self.message_user(request, msg, messages.ERROR)
