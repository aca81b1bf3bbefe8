"""Replies 答复: drafted by the lead or separate unit, signed by its signer, sent, published."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from proposals.admin import (
    UNIT,
    ReadOnlyInline,
    Verb,
    _sees_everything,
    _unit_ids,
    _verb_action,
    _when,
)
from proposals.admin.access import _ModelFormBase
from proposals.models import Assignment, AssignmentState
from replies import workflow
from replies.admin.letters import SIGNER, UNIT_OR_COMMITTEE, LetterAdmin, PdfFilter, _table
from replies.forms import (
    ConfirmSignForm,
    FeedbackEntryForm,
    ReplyForm,
    ReturnLetterForm,
    SubmitReplyForm,
    SupersedeReplyForm,
    feedback_proposers,
)
from replies.models import (
    REPLY_TRANSITIONS,
    CoOpinion,
    Disclosure,
    Feedback,
    OpinionState,
    Reply,
    ReplyState,
    result_labels_for,
)

#: What a choice of the 起草答复 list shows (``str`` of the proposal and the unit, the role):
#: a unit has hundreds of replied assignments, so not the proposals' texts with them.
CHOICE_FIELDS = (
    "state",
    "round",
    "role",
    "proposal",
    "proposal__number",
    "proposal__title",
    "unit",
    "unit__name",
    "unit__short_name",
)

#: The reply verbs' states. ``supersede`` and ``record_feedback`` check theirs in the workflow
#: rather than in ``REPLY_TRANSITIONS``; they are written out here for the buttons.
REPLY_VERB_STATES = REPLY_TRANSITIONS


def _record_feedback(reply: Reply, actor, d: dict[str, Any]) -> Feedback:
    return workflow.record_feedback(
        reply,
        actor=actor,
        proposer=d["proposer"],
        rating=d["rating"],
        on_work=d["on_work"],
        on_result=d["on_result"],
        comment=d["comment"],
        channel=d["channel"],
    )


REPLY_VERBS: tuple[Verb, ...] = (
    Verb(
        "submit",
        _("提交签发"),
        lambda r, actor, d: workflow.submit_reply(
            r, actor=actor, override_reason=d.get("override_reason") or ""
        ),
        SubmitReplyForm,
        who=UNIT,
        # One click unless a co-handling opinion is missing (then the form asks why).
        one_click=True,
    ),
    Verb(
        "return",
        _("退回修改"),
        lambda r, actor, d: workflow.return_reply(r, actor=actor, comment=d["comment"]),
        ReturnLetterForm,
        who=SIGNER,
    ),
    Verb(
        "sign",
        _("签发"),
        lambda r, actor, d: workflow.sign_reply(r, actor=actor),
        ConfirmSignForm,
        who=SIGNER,
    ),
    Verb("send", _("送达"), lambda r, actor, d: workflow.send_reply(r, actor=actor), who=UNIT),
    Verb(
        "publish",
        _("公开"),
        lambda r, actor, d: workflow.publish_reply(r, actor=actor),
        who=UNIT_OR_COMMITTEE,
    ),
    Verb(
        "feedback",
        _("录入征询意见"),
        _record_feedback,
        FeedbackEntryForm,
        who=UNIT_OR_COMMITTEE,
        single=True,
    ),
    Verb(
        "supersede",
        _("更正"),
        lambda r, actor, d: workflow.supersede_reply(r, actor=actor, reason=d["reason"]),
        SupersedeReplyForm,
        who=UNIT,
        single=True,
    ),
    Verb(
        "rerender",
        _("重新生成签发件"),
        lambda r, actor, d: workflow.rerender_pdf(r, actor=actor),
        who=UNIT_OR_COMMITTEE,
    ),
)


class FeedbackInline(ReadOnlyInline, admin.TabularInline):
    model = Feedback
    fields = (
        "proposer",
        "rating",
        "on_work",
        "on_result",
        "comment",
        "channel",
        "received_at",
        "recorded_by",
    )
    readonly_fields = fields
    verbose_name_plural = _("征询意见（送达后由提案者反馈，或通过“录入征询意见”登记）")

    def has_view_permission(self, request, obj=None):
        """Once sent; the replying unit's and the offices' business, not a co-handling unit's.

        ``obj`` is the reply; without one (the inline's queryset asks) the rows are those of
        a reply the parent admin has already let the user see.
        """
        if _sees_everything(request):
            return obj is None or obj.state in {ReplyState.SENT, ReplyState.PUBLISHED}
        if obj is None:
            return bool(_unit_ids(request))
        sent = obj.state in {ReplyState.SENT, ReplyState.PUBLISHED}
        return sent and obj.unit_id in _unit_ids(request)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("proposer", "recorded_by")


class _DistrictResultLabels(_ModelFormBase):
    """The reply form's 办理结果: the list of the proposal's district (``result_labels_for``),
    each label with its class, instead of every near-synonym the system knows.

    A saved label outside the list (imported, or from before the list) is shown as it is, and
    refused on saving with the district's list; the workflow still takes it elsewhere (legacy
    imports). The model's own choices are not checked here: a district's list may hold a label
    of its own, which the workflow checks (``result_class_for``).
    """

    district: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("result_label")
        if field is None:
            return
        assert isinstance(field, forms.ChoiceField)  # the model field has choices
        labels = result_labels_for(self.district)
        choices = [("", "---------"), *((k, f"{k}（{c}类）") for k, c in labels.items())]
        current = self.instance.result_label
        if current and current not in labels:
            choices.append(
                (current, _("%(label)s（不在本区选项中，请重新选择）") % {"label": current})
            )
        field.choices = choices
        field.error_messages["invalid_choice"] = self._refusal()

    def _refusal(self) -> str:
        labels = "、".join(result_labels_for(self.district))
        return _("办理结果应从本区的选项中选择：%(labels)s。") % {"labels": labels}

    def clean_result_label(self) -> str:
        value = (self.cleaned_data.get("result_label") or "").strip()
        if value and value not in result_labels_for(self.district):
            raise ValidationError(
                _("“%(label)s”不在本区的办理结果选项中。") % {"label": value} + self._refusal()
            )
        return value

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()  # type: ignore[misc]  # not in the stubs
        exclude.add("result_label")
        return exclude


@admin.register(Reply)
class ReplyAdmin(LetterAdmin):
    form = ReplyForm
    edit_fields = workflow.REPLY_EDITABLE_FIELDS
    edit_letter = staticmethod(workflow.edit_reply)
    start_label = _("起草答复")
    verbs = REPLY_VERBS
    transitions = REPLY_VERB_STATES
    actions = [_verb_action(v) for v in REPLY_VERBS]
    inlines = [FeedbackInline]

    list_display = (
        "doc_number_display",
        "title",
        "unit_display",
        "proposal_number",
        "kind",
        "result_display",
        "disclosure",
        "state",
        "signed_on",
        "delivery_display",
    )
    list_filter = (
        "state",
        "disclosure",
        "result_class",
        "kind",
        PdfFilter,
        ("unit", admin.RelatedOnlyFieldListFilter),
    )
    extra_readonly_fields = (
        "opinion_override_reason",
        "sent_at",
        "published_on",
        "supersedes_link",
        "superseded_by_link",
        "opinions_display",
        "result_history_display",
    )

    def header_fieldsets(self, request, obj):
        fields = ("result_label", "disclosure", "disclosure_scope")
        return [(_("办理结果与公开属性"), {"fields": fields})]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        district = obj.proposal.session.district if obj is not None else ""
        return type(form.__name__, (_DistrictResultLabels, form), {"district": district})

    def reference_fieldsets(self, request, obj):
        if obj is not None and (_sees_everything(request) or obj.unit_id in _unit_ids(request)):
            # What the lead unit drafts from: the co-handling opinions, and earlier results.
            history = ("opinions_display", "result_history_display")
            return [(_("会办意见与办理结果（供起草参考，不印出）"), {"fields": history})]
        return []

    def filled_fields(self, obj):
        fields = super().filled_fields(obj)
        fields += [
            f for f in ("opinion_override_reason", "sent_at", "published_on") if getattr(obj, f)
        ]
        if obj.supersedes_id:
            fields.append("supersedes_link")
        if Reply.objects.filter(supersedes=obj).exists():
            fields.append("superseded_by_link")
        return fields

    def letter_context(self, request, obj):
        context = super().letter_context(request, obj)
        if obj.supersedes_id and obj.signed_on is None:
            note = _("本稿是对“%(old)s”的更正，签发送达后原答复不再公开。") % {
                "old": obj.supersedes
            }
            context["letter_notes"].insert(0, note)
        return context

    def available_verbs(self, request, obj):
        verbs = super().available_verbs(request, obj)
        hidden = set()
        if obj.disclosure != Disclosure.PUBLIC:
            hidden.add("publish")
        names = {v.name for v in verbs}
        if "supersede" in names and Reply.objects.filter(supersedes=obj).exists():
            hidden.add("supersede")
        if "feedback" in names and not feedback_proposers(obj):
            hidden.add("feedback")
        return [v for v in verbs if v.name not in hidden]

    def report_verb(self, request, verb, done, failed):
        if verb.name != "supersede" or not done:
            return super().report_verb(request, verb, done, failed)
        for new in done:
            msg = format_html(
                '{} <a href="{}">{}</a>{}',
                _("已生成更正稿"),
                self._url("change", new),
                new,
                _("，原答复保持不变。请修改更正稿后重新提交签发。"),
            )
            self.message_user(request, msg, messages.SUCCESS)
        return super().report_verb(request, verb, [], failed)

    def startable(self, request):
        return (
            Assignment.objects.filter(
                unit_id__in=_unit_ids(request),
                role__in=[Assignment.Role.LEAD, Assignment.Role.SEPARATE],
            )
            .exclude(replies__state__in=[ReplyState.DRAFT, ReplyState.PENDING_SIGNATURE])
            .select_related("proposal", "unit")
            .order_by("proposal__number", "pk")
        )

    def start_choices(self, request):
        if not _unit_ids(request):
            return []
        replies, follow_ups = [], []
        startable = self.startable(request).filter(
            state__in=[AssignmentState.ACCEPTED, AssignmentState.REPLIED]
        )
        for a in startable.only(*CHOICE_FIELDS):
            what = f"{a.proposal}（{a.unit}，{a.get_role_display()}）"
            if a.state == AssignmentState.REPLIED:
                follow_ups.append((f"{a.pk}:{Reply.Kind.FOLLOW_UP}", what))
            elif a.round > 1:
                replies.append((str(a.pk), _("重新办理：") + what))
            else:
                replies.append((str(a.pk), what))
        groups = [(_("答复"), replies), (_("再次答复（跟踪办理情况）"), follow_ups)]
        return [(label, choices) for label, choices in groups if choices]

    def start_letter(self, assignment_id, kind, actor):
        return workflow.start_reply(assignment_id, actor=actor, kind=kind or Reply.Kind.REPLY)

    @admin.display(description=_("办理结果"), ordering="result_class")
    def result_display(self, obj: Reply) -> str:
        if not obj.result_label:
            return "-"
        return f"{obj.result_label}（{obj.result_class}）" if obj.result_class else obj.result_label

    @admin.display(description=_("送达/公开"), ordering="sent_at")
    def delivery_display(self, obj: Reply) -> str:
        parts = []
        if obj.sent_at:
            parts.append(_("%(d)s送达") % {"d": date_format(timezone.localdate(obj.sent_at))})
        if obj.published_on:
            parts.append(_("%(d)s公开") % {"d": date_format(obj.published_on)})
        return "，".join(parts) or "-"

    @admin.display(description=_("更正的答复"))
    def supersedes_link(self, obj: Reply) -> str:
        old = obj.supersedes
        if old is None:
            return "-"
        return format_html('<a href="{}">{}</a>', self._url("change", old), old)

    @admin.display(description=_("更正稿"))
    def superseded_by_link(self, obj: Reply) -> str:
        new = Reply.objects.filter(supersedes=obj).first()
        if new is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>（{}）', self._url("change", new), new, new.get_state_display()
        )

    @admin.display(description=_("会办意见"))
    def opinions_display(self, obj: Reply) -> SafeString:
        cos = (
            Assignment.objects.active()
            .filter(proposal_id=obj.proposal_id, role=Assignment.Role.CO)
            .select_related("unit")
        )
        delivered = {
            op.assignment_id: op
            for op in CoOpinion.objects.filter(
                proposal_id=obj.proposal_id, state=OpinionState.DELIVERED
            )
        }
        rows: list[tuple[Any, ...]] = []
        for a in cos:
            op = delivered.get(a.pk)
            if op is None:
                rows.append((a.unit, a.get_state_display(), _("尚未收到"), "-"))
                continue
            link = format_html(
                '<a href="{}">{}</a>',
                reverse("admin:replies_coopinion_change", args=[op.pk]),
                op.doc_number or op.title,
            )
            rows.append((a.unit, a.get_state_display(), link, _when(op.delivered_at)))
        headers = (_("会办单位"), _("交办状态"), _("会办意见"), _("送达时间"))
        return _table(headers, rows, _("本件没有会办单位。"))

    @admin.display(description=_("办理结果历史"))
    def result_history_display(self, obj: Reply) -> SafeString:
        rows = [
            (
                r.doc_number or r.title,
                r.get_kind_display(),
                r.result_label or "-",
                r.get_result_class_display() or "-",
                f"{r.signed_on:%Y-%m-%d}" if r.signed_on else "-",
                _when(r.sent_at),
            )
            for r in workflow.result_history(obj.assignment)
        ]
        headers = (_("文号"), _("类型"), _("办理结果"), _("类别"), _("成文日期"), _("送达时间"))
        return _table(headers, rows, _("尚无已送达的答复。"))
