"""Small forms for the admin's intermediate pages: the input a workflow verb needs.

The forms check only the shape of the input (a field filled in, a unit not picked twice);
the rules belong to ``proposals.workflow``, whose ``WorkflowError`` the admin shows as is.
Each form takes ``objects``, the rows the verb will run on, so that its choices can depend
on them (the merge target of the same session, the proposers of the proposal).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget, AutocompleteSelect, FilteredSelectMultiple
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from proposals.districts import district_key, unit_sort_key
from proposals.models import (
    Assignment,
    ContactRecord,
    Proposal,
    ProposalAttachment,
    ProposalStatus,
    Proposer,
    Session,
    Unit,
    today,
)
from proposals.workflow import UnitRole

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    from django_stubs_ext import StrOrPromise

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


def _reason_field(label: StrOrPromise) -> forms.CharField:
    return forms.CharField(label=label, widget=forms.Textarea(attrs=_TEXTAREA))


_NOTE = _("说明")


def _note_field(label: StrOrPromise = _NOTE) -> forms.CharField:
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


def merge_targets(sessions: Iterable[int], excluded: Iterable[int]) -> QuerySet:
    """What a proposal may be merged into: a filed or assigned proposal of its session."""
    return (
        Proposal.objects.filter(
            session_id__in=list(sessions),
            status__in=[ProposalStatus.FILED, ProposalStatus.ASSIGNED],
        )
        .exclude(pk__in=list(excluded))
        .order_by("session", "serial")
    )


class MergeTargetSelect(AutocompleteSelect):
    """The admin's select2 search box, asking the proposal admin's ``merge-targets`` view
    (the session's filed and assigned proposals, by number, title, proposer or unit) instead
    of listing every filed proposal in a dropdown."""

    def __init__(self, sessions: Sequence[int] = (), excluded: Sequence[int] = ()) -> None:
        super().__init__(Proposal._meta.get_field("merged_into"), admin.site)
        self.sessions, self.excluded = list(sessions), list(excluded)

    def get_url(self) -> str:
        url = reverse(f"{self.admin_site.name}:proposals_proposal_merge_targets")
        query = [("session", s) for s in self.sessions] + [("exclude", e) for e in self.excluded]
        return f"{url}?{urlencode(query)}"


class MergeProposalForm(TransitionForm):
    target = _ProposalChoiceField(
        label=_("并入提案"),
        queryset=Proposal.objects.none(),
        help_text=_("输入提案号、案由或提案者查找；只能并入同一届次会议中已立案或已交办的提案。"),
    )
    note = _note_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sessions = sorted({p.session_id for p in self.objects})
        excluded = [p.pk for p in self.objects]
        target = self.fields["target"]
        assert isinstance(target, forms.ModelChoiceField)  # declared so above
        target.queryset = merge_targets(sessions, excluded)
        target.widget = MergeTargetSelect(sessions, excluded)
        target.widget.choices = target.choices
        target.widget.is_required = True


class UnitPicker(FilteredSelectMultiple):
    """The admin's two-box picker, wrapped so its script keeps the label on the left."""

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        return format_html('<div class="related-widget-wrapper">{}</div>', html)


def home_districts(proposals: Iterable[Proposal]) -> list[str]:
    """The districts of the proposals' sessions, in order, each once (one query)."""
    ids = [p.session_id for p in proposals]
    districts = dict(Session.objects.filter(pk__in=ids).values_list("pk", "district"))
    return list(dict.fromkeys(districts[i] for i in ids if districts.get(i)))


def grouped_units(units: Iterable[Unit], home: Sequence[str]) -> list[tuple[str, list]]:
    """The units as ``<optgroup>`` choices: one group per district, the home districts first
    (``districts.unit_sort_key``), sorted by short name within. A unit of another district is
    labelled with it too, for the two-box pickers, which show no groups once filtered."""
    homes = {district_key(d) for d in home}
    groups: dict[str, list[tuple[int, str]]] = {}
    for unit in sorted(units, key=lambda u: unit_sort_key(u, home)):
        known = district_key(unit.district)
        group = known or str(_("未标明所属区"))
        label = str(unit) if not known or known in homes else f"【{known}】{unit}"
        groups.setdefault(group, []).append((unit.pk, label))
    return list(groups.items())


class AssignProposalForm(TransitionForm):
    """One lead unit with co-handling units, or separate units — in one form.

    The units are grouped by district, the proposal's own first; picking one of another
    district takes a reason, which the workflow asks for and records (``assign_proposal``).
    """

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
    cross_district_reason = _note_field(_("跨区交办理由"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = Unit.objects.filter(is_active=True).order_by("name")
        home = home_districts(self.objects)
        groups = grouped_units(units, home)
        for name in ("lead_unit", "co_units", "separate_units"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)  # declared so above
            field.queryset = units
            blank: list[tuple[str, Any]] = [("", "---------")] if name == "lead_unit" else []
            field.choices = blank + groups
        reason = self.fields["cross_district_reason"]
        if home:
            reason.help_text = _(
                "本届次会议所属区：%(home)s。交办给其他区的单位（标有【区名】）时须填写理由，"
                "理由记入办理经过。"
            ) % {"home": "、".join(home)}
        else:
            reason.help_text = _("交办给其他区的单位时须填写理由，理由记入办理经过。")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
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
        field = self.fields["proposers"]
        assert isinstance(field, forms.ModelChoiceField)  # declared so above
        field.queryset = Proposer.objects.filter(pk__in=ids)
        field.initial = ids


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
        super().clean()
        data = self.cleaned_data
        upload = data.get("file")
        if not data.get("name") and upload:
            data["name"] = PurePath(upload.name).name[:200]
        if not data.get("name") and "file" not in self.errors:
            self.add_error("name", _("请填写文件名。"))
        return data
