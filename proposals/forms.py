"""Small forms for the admin's intermediate pages: the input a workflow verb needs.

The forms check only the shape of the input (a field filled in, a unit not picked twice);
the rules belong to ``proposals.workflow``, whose ``WorkflowError`` the admin shows as is.
Each form takes ``objects``, the rows the verb will run on, so that its choices can depend
on them (the merge target of the same session, the proposers of the proposal).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

from django import forms
from django.contrib.admin.widgets import AdminDateWidget, FilteredSelectMultiple
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from proposals.models import (
    Assignment,
    ContactRecord,
    Proposal,
    ProposalAttachment,
    ProposalStatus,
    Proposer,
    Unit,
    today,
)
from proposals.workflow import UnitRole

_TEXTAREA = {"rows": 4, "cols": 60}


class TransitionForm(forms.Form):
    """The base of every intermediate form: remembers the objects the verb will run on."""

    required_css_class = "required"

    def __init__(self, *args: Any, objects: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.objects = list(objects)


class ConfirmForm(TransitionForm):
    """No input: makes a verb a confirmed step from the changelist too (立案 gives out numbers
    for good; the page lists them first)."""

    confirm = forms.BooleanField(initial=True, widget=forms.HiddenInput)


def _reason_field(label: str) -> forms.CharField:
    return forms.CharField(label=label, widget=forms.Textarea(attrs=_TEXTAREA))


def _note_field(label: str = _("说明")) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs=_TEXTAREA))


# --- Proposal verbs -------------------------------------------------------------------------


class ReturnProposalForm(TransitionForm):
    reason = _reason_field(_("退回理由"))


class NotFileProposalForm(TransitionForm):
    disposition = forms.ChoiceField(
        label=_("处理方式"), choices=Proposal.Disposition.choices, widget=forms.RadioSelect
    )
    note = _note_field(_("审查意见"))


class _ProposalChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Proposal) -> str:
        return f"{obj.number} {obj.title}" if obj.number else obj.title


class MergeProposalForm(TransitionForm):
    target = _ProposalChoiceField(
        label=_("并入提案"),
        queryset=Proposal.objects.none(),
        help_text=_("只能并入同一届次会议中已立案或已交办的提案。"),
    )
    note = _note_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sessions = {p.session_id for p in self.objects}
        self.fields["target"].queryset = (
            Proposal.objects.filter(
                session_id__in=sessions,
                status__in=[ProposalStatus.FILED, ProposalStatus.ASSIGNED],
            )
            .exclude(pk__in=[p.pk for p in self.objects])
            .order_by("session", "serial")
        )


class UnitPicker(FilteredSelectMultiple):
    """The admin's two-box picker, wrapped so its script keeps the label on the left."""

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        return format_html('<div class="related-widget-wrapper">{}</div>', html)


class AssignProposalForm(TransitionForm):
    """One lead unit with co-handling units, or separate units — in one form."""

    lead_unit = forms.ModelChoiceField(
        label=_("主办单位"), queryset=Unit.objects.none(), required=False
    )
    co_units = forms.ModelMultipleChoiceField(
        label=_("会办单位"),
        queryset=Unit.objects.none(),
        required=False,
        widget=UnitPicker(_("会办单位"), is_stacked=False),
    )
    separate_units = forms.ModelMultipleChoiceField(
        label=_("分办单位"),
        queryset=Unit.objects.none(),
        required=False,
        widget=UnitPicker(_("分办单位"), is_stacked=False),
        help_text=_("分办时不设主办单位，各分办单位分别答复。"),
    )
    assigned_on = forms.DateField(label=_("交办日期"), initial=today, widget=AdminDateWidget)
    note = _note_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = Unit.objects.filter(is_active=True).order_by("name")
        for name in ("lead_unit", "co_units", "separate_units"):
            self.fields[name].queryset = units

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        picked: list[UnitRole] = []
        if data.get("lead_unit"):
            picked.append(UnitRole(data["lead_unit"], Assignment.Role.LEAD))
        picked += [UnitRole(u, Assignment.Role.CO) for u in data.get("co_units") or ()]
        picked += [UnitRole(u, Assignment.Role.SEPARATE) for u in data.get("separate_units") or ()]
        if not picked and not self.errors:
            raise forms.ValidationError(_("请至少选择一个承办单位。"))
        ids = [p.unit_id for p in picked]
        if len(ids) != len(set(ids)):
            raise forms.ValidationError(_("同一单位只能以一种办理方式交办一次。"))
        data["units"] = picked
        return data


# --- Assignment verbs -----------------------------------------------------------------------


class RequestReassignmentForm(TransitionForm):
    reason = _reason_field(_("申请退回理由"))


class RefuseReassignmentForm(TransitionForm):
    reason = _reason_field(_("不同意退回的理由"))


class ExtendAssignmentForm(TransitionForm):
    new_due_on = forms.DateField(label=_("延期至"), widget=AdminDateWidget)
    reason = _reason_field(_("延期理由"))


class RequestExtensionForm(TransitionForm):
    new_due_on = forms.DateField(label=_("申请延期至"), widget=AdminDateWidget)
    reason = _reason_field(_("申请延期理由"))


class ApproveExtensionForm(TransitionForm):
    note = _note_field()


class RefuseExtensionForm(TransitionForm):
    reason = _reason_field(_("不同意延期的理由"))


class _ProposerChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Proposer) -> str:
        return obj.name


class LogContactForm(TransitionForm):
    """沟通记录 of one assignment: the proposers to choose from are that proposal's."""

    contacted_on = forms.DateField(label=_("沟通日期"), initial=today, widget=AdminDateWidget)
    method = forms.ChoiceField(
        label=_("方式"), choices=ContactRecord.Method.choices, widget=forms.RadioSelect
    )
    proposers = _ProposerChoiceField(
        label=_("沟通的提案者"),
        queryset=Proposer.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    participants = forms.CharField(
        label=_("参与人员"),
        max_length=200,
        required=False,
        help_text=_("承办单位一方参加沟通的人员"),
    )
    notes = _note_field(_("内部记录"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        proposers: list[Proposer] = []
        for assignment in self.objects:
            proposers += assignment.proposal.proposers()
        ids = list(dict.fromkeys(p.pk for p in proposers))
        self.fields["proposers"].queryset = Proposer.objects.filter(pk__in=ids)
        self.fields["proposers"].initial = ids


# --- Inline forms ---------------------------------------------------------------------------


class AttachmentForm(forms.ModelForm):
    """An attachment whose name defaults to the uploaded file's name."""

    class Meta:
        model = ProposalAttachment
        fields = ["file", "name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["name"].help_text = _("留空则使用上传文件的文件名。")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("file")
        if not data.get("name") and upload:
            data["name"] = PurePath(upload.name).name[:200]
        if not data.get("name") and "file" not in self.errors:
            self.add_error("name", _("请填写文件名。"))
        return data
