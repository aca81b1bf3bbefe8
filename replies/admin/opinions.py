"""Co-handling opinions 会办意见: written by a co-handling unit to the lead unit."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from proposals.admin import UNIT, Verb, _unit_ids, _verb_action
from proposals.models import Assignment, AssignmentState
from replies import workflow
from replies.admin.letters import SIGNER, UNIT_OR_COMMITTEE, LetterAdmin, PdfFilter
from replies.admin.replies import CHOICE_FIELDS
from replies.forms import ConfirmSignForm, OpinionForm, ReturnLetterForm
from replies.models import OPINION_TRANSITIONS, CoOpinion, OpinionState

OPINION_VERBS: tuple[Verb, ...] = (
    Verb(
        "submit",
        _("提交签发"),
        lambda o, actor, d: workflow.submit_opinion(o, actor=actor),
        who=UNIT,
    ),
    Verb(
        "return",
        _("退回修改"),
        lambda o, actor, d: workflow.return_opinion(o, actor=actor, comment=d["comment"]),
        ReturnLetterForm,
        who=SIGNER,
    ),
    Verb(
        "sign",
        _("签发"),
        lambda o, actor, d: workflow.sign_opinion(o, actor=actor),
        ConfirmSignForm,
        who=SIGNER,
    ),
    Verb(
        "deliver",
        _("送主办单位"),
        lambda o, actor, d: workflow.deliver_opinion(o, actor=actor),
        who=UNIT,
    ),
    Verb(
        "rerender",
        _("重新生成签发件"),
        lambda o, actor, d: workflow.rerender_pdf(o, actor=actor),
        who=UNIT_OR_COMMITTEE,
    ),
)


@admin.register(CoOpinion)
class CoOpinionAdmin(LetterAdmin):
    form = OpinionForm
    edit_fields = workflow.EDITABLE_FIELDS
    edit_letter = staticmethod(workflow.edit_opinion)
    start_label = _("起草会办意见")
    verbs = OPINION_VERBS
    transitions = OPINION_TRANSITIONS
    actions = [_verb_action(v) for v in OPINION_VERBS]

    list_display = (
        "doc_number_display",
        "title",
        "unit_display",
        "proposal_number",
        "state",
        "signed_on",
        "delivered_at",
    )
    list_filter = ("state", PdfFilter, ("unit", admin.RelatedOnlyFieldListFilter))

    def filled_fields(self, obj):
        return [*super().filled_fields(obj), *(["delivered_at"] if obj.delivered_at else [])]

    extra_readonly_fields = ("delivered_at",)

    def startable(self, request):
        open_states = [OpinionState.DRAFT, OpinionState.PENDING_SIGNATURE, OpinionState.SIGNED]
        return (
            Assignment.objects.filter(
                unit_id__in=_unit_ids(request),
                role=Assignment.Role.CO,
                state=AssignmentState.ACCEPTED,
            )
            .exclude(opinions__state__in=open_states)
            .select_related("proposal", "unit")
            .order_by("proposal__number", "pk")
        )

    def start_choices(self, request):
        if not _unit_ids(request):
            return []
        startable = self.startable(request).only(*CHOICE_FIELDS)
        choices = [(str(a.pk), f"{a.proposal}（{a.unit}，会办）") for a in startable]
        return [(_("会办"), choices)] if choices else []

    def start_letter(self, assignment_id, kind, actor):
        return workflow.start_opinion(assignment_id, actor=actor)
