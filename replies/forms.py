"""Forms of the replies admin: the draft editor and the input the reply and opinion verbs need.

As in ``proposals.forms``, the forms check the shape of the input only; the rules (a missing
co-handling opinion, who may sign, once per proposer) belong to ``replies.workflow``, whose
``WorkflowError`` the admin shows as is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.admin.widgets import AdminTextareaWidget
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from proposals.forms import TransitionForm
from proposals.models import Proposer
from proposals.workflow import WorkflowError
from replies import workflow
from replies.models import CoOpinion, Feedback, Reply

if TYPE_CHECKING:  # django-stubs-ext is a development tool, not in the image
    from django_stubs_ext import StrOrPromise

_TEXTAREA = {"rows": 4, "cols": 60}


# --- The draft editor -----------------------------------------------------------------------


class LetterTextField(forms.CharField):
    """Text from a textarea, with the browser's CRLF line ends made LF.

    Done in ``to_python`` so that ``has_changed`` compares like with like: otherwise every
    multi-line field would count as changed, and be sent to the workflow, on every save.
    """

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")


class LetterForm(forms.ModelForm):
    """The editable text of a draft, plus the version the editor loaded.

    The admin saves through ``edit_reply``/``edit_opinion`` with ``loaded_version``; when the
    workflow refuses (another editor saved first, a bad postcode), the admin renders the same
    POST again with ``refusal`` set, and the refusal becomes a form error beside what was typed.
    """

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    #: Set by the admin on a form class to turn a refused save into a form error.
    refusal: WorkflowError | None = None
    #: Where the latest saved version can be read (linked from the stale-version error).
    latest_url: str = ""

    class Meta:
        field_classes = {"body": LetterTextField, "closing": LetterTextField}
        widgets = {
            "body": AdminTextareaWidget(attrs={"rows": 24}),
            "closing": AdminTextareaWidget(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["loaded_version"].initial = self.instance.version

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        error = self.refusal
        if error is not None:
            field = error.field if error.field in self.fields else None
            message: Any = error.message
            if isinstance(error, workflow.StaleVersion) and self.latest_url:
                message = format_html(
                    '{}{} <a href="{}" target="_blank" rel="noopener">{}</a>',
                    error.message,
                    self._differences(data),
                    self.latest_url,
                    _("在新窗口打开最新版本"),
                )
            self.add_error(field, message)
        return data

    def _differences(self, data: dict[str, Any]) -> str:
        """Which fields the typed text changes against the newest saved version (the instance
        a refused save is shown again with), so the writer knows what to carry over."""
        model_fields = {f.name for f in self.instance._meta.concrete_fields}
        changed = [
            str(field.label)
            for name, field in self.fields.items()
            if name in model_fields and name in data and data[name] != getattr(self.instance, name)
        ]
        if not changed:
            return ""
        return _("（您的稿件与最新版本不同之处：%(f)s）") % {"f": "、".join(changed)}


class ReplyForm(LetterForm):
    class Meta(LetterForm.Meta):
        model = Reply
        fields = workflow.REPLY_EDITABLE_FIELDS


class OpinionForm(LetterForm):
    class Meta(LetterForm.Meta):
        model = CoOpinion
        fields = workflow.EDITABLE_FIELDS


# --- Starting a draft -----------------------------------------------------------------------


class StartLetterForm(forms.Form):
    """Which assignment to start a draft for: ``"<assignment id>"``, or
    ``"<assignment id>:<reply kind>"`` for another kind of reply (a follow-up).

    Only the shape is checked here; whether the user may start it is the workflow's call.
    """

    choice = forms.RegexField(label=_("交办"), regex=r"^\d+(:[a-z_]+)?$")

    def decoded(self) -> tuple[int, str]:
        pk, _sep, kind = self.cleaned_data["choice"].partition(":")
        return int(pk), kind


# --- Verbs ----------------------------------------------------------------------------------


class SubmitReplyForm(TransitionForm):
    """提交签发: a reason is needed only while a co-handling opinion is missing."""

    override_reason = forms.CharField(
        label=_("缺会办意见理由"), required=False, widget=forms.Textarea(attrs=_TEXTAREA)
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["override_reason"]
        lines = []
        for reply in self.objects:
            missing = workflow.missing_opinions(reply)
            if missing:
                units = "、".join(str(a.unit) for a in missing)
                lines.append((reply.proposal.number or reply.title, units))
        if not lines:
            field.widget = forms.HiddenInput()
            return
        field.help_text = format_html(
            "{}<ul>{}</ul>",
            _("尚未收到以下会办单位的会办意见；如需先行提交签发，请填写理由（将记入办理经过）："),
            format_html_join("", "<li>{}：{}</li>", lines),
        )


class ReturnLetterForm(TransitionForm):
    comment = forms.CharField(label=_("退回意见"), widget=forms.Textarea(attrs=_TEXTAREA))


class ConfirmSignForm(TransitionForm):
    """No input: the form makes signing a confirmed step from the changelist too, since a
    signing takes a 文号 and freezes the text for good."""

    confirm = forms.BooleanField(initial=True, widget=forms.HiddenInput)


class SupersedeReplyForm(TransitionForm):
    reason = forms.CharField(
        label=_("更正原因"),
        widget=forms.Textarea(attrs=_TEXTAREA),
        help_text=_("将生成一份复制原答复内容的更正稿；原答复保持不变。"),
    )


class _ProposerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Proposer) -> str:
        return obj.name


def _rating_field(label: StrOrPromise, *, required: bool) -> forms.ChoiceField:
    choices = Feedback.Rating.choices if required else [("", _("未填写")), *Feedback.Rating.choices]
    return forms.ChoiceField(
        label=label, choices=choices, required=required, widget=forms.RadioSelect
    )


class FeedbackEntryForm(TransitionForm):
    """A proposer's answer that came on paper or by phone, entered by the unit or committee.

    The proposers offered are those of the reply's proposal (and of proposals merged into it)
    who have not answered this reply yet.
    """

    proposer = _ProposerChoiceField(label=_("提案者"), queryset=Proposer.objects.none())
    rating = _rating_field(_("总体评价"), required=True)
    on_work = _rating_field(_("对办理工作"), required=False)
    on_result = _rating_field(_("对办理结果"), required=False)
    comment = forms.CharField(
        label=_("意见和建议"), required=False, widget=forms.Textarea(attrs=_TEXTAREA)
    )
    channel = forms.ChoiceField(
        label=_("反馈方式"),
        choices=[
            (Feedback.Channel.PAPER, Feedback.Channel.PAPER.label),
            (Feedback.Channel.PHONE, Feedback.Channel.PHONE.label),
        ],
        initial=Feedback.Channel.PAPER,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids: list[int] = []
        for reply in self.objects:
            ids += [p.pk for p in feedback_proposers(reply)]
        proposer = self.fields["proposer"]
        assert isinstance(proposer, forms.ModelChoiceField)  # declared so above
        proposer.queryset = Proposer.objects.filter(pk__in=ids)


def feedback_proposers(reply: Reply) -> list[Proposer]:
    """Proposers who may still answer ``reply``: its proposal's and its merged proposals'."""
    answered = set(Feedback.objects.filter(reply=reply).values_list("proposer_id", flat=True))
    result = [p for p in workflow.reply_proposers(reply) if p.pk not in answered]
    return result
