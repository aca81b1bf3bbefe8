"""Forms of the proposer pages. They check the shape of what was typed; the rules are the
workflow functions' (``proposals.workflow.draft_proposal``, ``replies.workflow.record_feedback``
…), whose refusals the views put back on the form."""

from __future__ import annotations

import datetime

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from proposals.models import Proposal, Proposer, Session, today
from replies.models import Feedback
from tracker.models import MemberPreference, SessionRoll


class MemberChoiceField(forms.ModelMultipleChoiceField):
    """Members by name and sector only: the list never carries anyone's contact details."""

    def label_from_instance(self, obj: Proposer) -> str:
        return f"{obj.name}（{obj.sector}）" if obj.sector else obj.name


def member_districts(proposer: Proposer) -> set[str]:
    """The districts whose sessions a member submits to: of the rolls they are on, else of the
    sessions of their own proposals; empty when neither says (then every district)."""
    rolls = SessionRoll.objects.filter(proposer=proposer).values("session_id")
    found = set(Session.objects.filter(pk__in=rolls).values_list("district", flat=True))
    if not found:
        own = Proposal.objects.filter(lead_proposer=proposer)
        found = set(own.values_list("session__district", flat=True))
    return {d for d in found if d}


def offered_sessions(proposer: Proposer, *, day: datetime.date | None = None):
    """The sessions 新建提案 offers: open for submission (``Session.open_for_submission``) in
    the member's districts. A session without a window is offered only while it is its
    district's newest: an older meeting of the term is over once the next one is set up."""
    day = day or today()
    districts = member_districts(proposer)
    scope = Session.objects.all()
    if districts:
        scope = scope.filter(Q(district__in=districts) | Q(district=""))
    newest: dict[str, int] = {}
    for pk, district in scope.order_by("-year", "-term", "-meeting", "-pk").values_list(
        "pk", "district"
    ):
        newest.setdefault(district, pk)
    keep = [
        s.pk
        for s in scope.filter(Session.open_for_submission(day))
        if s.has_submission_window or newest.get(s.district) == s.pk
    ]
    return Session.objects.filter(pk__in=keep).order_by("-year", "-term", "-meeting")


class ProposalForm(forms.Form):
    session = forms.ModelChoiceField(
        label=_("届次会议"),
        queryset=Session.objects.none(),
        empty_label=None,
        help_text=_("提案提交到哪一次会议。"),
    )
    title = forms.CharField(
        label=_("案由"),
        max_length=200,
        help_text=_("例如：关于推进老旧小区加装电梯的建议"),
    )
    category = forms.ChoiceField(
        label=_("类别"), choices=[("", _("请选择")), *Proposal.Category.choices]
    )
    analysis = forms.CharField(
        label=_("情况分析"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("现状、问题及其原因。"),
    )
    suggestions = forms.CharField(
        label=_("具体建议"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("可分条列出：一、……二、……"),
    )
    coproposers = MemberChoiceField(
        label=_("联名提案人"),
        queryset=Proposer.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("可不选。所选委员须在其“我的提案”页面确认联名，全部确认后才能提交。"),
    )

    def __init__(self, *args, lead: Proposer, with_session: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coproposers"].queryset = (
            Proposer.objects.filter(kind=Proposer.Kind.MEMBER, is_active=True)
            .exclude(pk=lead.pk)
            .order_by("sector", "name")
        )
        if with_session:
            sessions = offered_sessions(lead)
            self.fields["session"].queryset = sessions
            if not self.is_bound and "session" not in self.initial:
                self.initial["session"] = sessions.first()
        else:
            del self.fields["session"]

    def workflow_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "category": data["category"],
            "analysis": data["analysis"],
            "suggestions": data["suggestions"],
            # In the order of the list; a member's earlier position is kept by the workflow.
            "coproposers": [p.pk for p in data["coproposers"]],
        }


class FeedbackForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("总体评价"),
        choices=Feedback.Rating.choices,
        widget=forms.RadioSelect,
    )
    on_work = forms.ChoiceField(
        label=_("对办理工作（可选）"),
        choices=Feedback.Rating.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("承办单位的沟通联系、办理态度。"),
    )
    on_result = forms.ChoiceField(
        label=_("对办理结果（可选）"),
        choices=Feedback.Rating.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text=_("答复中的措施和落实情况。"),
    )
    comment = forms.CharField(
        label=_("意见和建议（可选）"),
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=2000,
    )


class LoginLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("电子邮箱"),
        help_text=_("填写在提案委员会登记的电子邮箱，我们将发送一次性登录链接。"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = MemberPreference
        fields = ["channels"]
        widgets = {"channels": forms.RadioSelect}
