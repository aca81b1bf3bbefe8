"""Serializers of the member and integration API (both apps meet here).

Members read their own proposals: the status, the units and their roles, the due dates, a
timeline of public steps, the sent replies and their own feedback. Never an internal note, a
co-handling opinion, a draft, or anyone's contact details: every field is listed here.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from proposals.api.common import blank_choice
from proposals.api.serializers import SessionBriefSerializer, UnitBriefSerializer
from proposals.models import Assignment, DueDate, Proposal, Proposer
from replies.api.serializers import FeedbackSerializer, absolute_url, public_pdf_url
from replies.models import Feedback, Reply

#: Lead and separate units first, then the co-handling ones.
ROLE_ORDER = {Assignment.Role.LEAD: 0, Assignment.Role.SEPARATE: 1, Assignment.Role.CO: 2}

# --- Members: reading ---------------------------------------------------------------------


class AssignmentBriefSerializer(serializers.ModelSerializer):
    unit = UnitBriefSerializer()
    role_label = serializers.CharField(source="get_role_display")
    state_label = serializers.CharField(source="get_state_display")

    class Meta:
        model = Assignment
        fields = ["unit", "role", "role_label", "state", "state_label"]
        read_only_fields = fields


class DueRowSerializer(serializers.Serializer):
    """A deadline the proposer is told about: contact and reply, current round."""

    unit = serializers.CharField(help_text="承办单位")
    label = serializers.CharField(help_text="时限名称，例如：答复期限")
    due_on = serializers.DateField()
    completed_on = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField()
    explanation = serializers.CharField(help_text="到期日的计算说明")


class MemberProposalSerializer(serializers.ModelSerializer):
    """One of the member's proposals in their list."""

    session = SessionBriefSerializer()
    category_label = serializers.CharField(source="get_category_display")
    status_label = serializers.CharField(source="get_status_display")
    my_role = serializers.SerializerMethodField(
        help_text="我在此件中的身份：lead 第一提案人、co 联名提案人、convener 集体提案的召集人"
    )
    units = serializers.SerializerMethodField(help_text="承办单位及办理方式")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = [
            "id",
            "session",
            "number",
            "title",
            "category",
            "category_label",
            "status",
            "status_label",
            "is_key",
            "my_role",
            "submitted_at",
            "filed_at",
            "updated_at",
            "units",
            "url",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "enum": ["lead", "co", "convener"]})
    def get_my_role(self, proposal: Proposal) -> str:
        proposer = self.context["proposer"]
        if proposal.lead_proposer_id == proposer.pk:
            return "lead"
        if any(link.proposer_id == proposer.pk for link in proposal.coproposer_links.all()):
            return "co"
        return "convener"

    @extend_schema_field(AssignmentBriefSerializer(many=True))
    def get_units(self, proposal: Proposal) -> list[dict]:
        """The units handling it: its own, or those of the proposal it was merged into."""
        source = proposal.merged_into if proposal.merged_into_id else proposal
        units = sorted(source.active_assignments, key=lambda a: (ROLE_ORDER[a.role], a.pk))
        return AssignmentBriefSerializer(units, many=True).data

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, proposal: Proposal) -> str:
        return absolute_url(self.context.get("request"), "api:me-proposal-detail", proposal.pk)


class ProposerNameSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Proposer.Kind.choices)
    is_lead = serializers.BooleanField()
    confirmed = serializers.BooleanField(help_text="联名提案人是否已确认（第一提案人恒为 true）")


class TimelineStepSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="记录时间")
    day = serializers.DateField(help_text="发生日期（例如沟通的日期）")
    label = serializers.CharField()
    detail = serializers.CharField(help_text="说明：承办单位、文号、沟通方式等")
    stage = serializers.ChoiceField(
        choices=["", "submitted", "filed", "assigned", "contact", "replied", "feedback", "closed"],
        help_text="所处阶段",
    )
    kind = serializers.ChoiceField(
        choices=["", "round", "attention"],
        help_text="round：开始新一轮办理；attention：需要提案者处理",
    )


class MemberReplySerializer(serializers.Serializer):
    """A reply sent to the member (a ``tracker.my.selectors.ReplyRow``): its text, and their
    feedback if they gave it."""

    id = serializers.IntegerField(source="reply.pk")
    kind = serializers.ChoiceField(source="reply.kind", choices=Reply.Kind.choices)
    kind_label = serializers.CharField(source="reply.get_kind_display")
    title = serializers.CharField(source="reply.title")
    doc_number = serializers.CharField(source="reply.doc_number")
    organ = serializers.CharField(source="reply.unit.organ_name")
    unit = UnitBriefSerializer(source="reply.unit")
    result_label = serializers.CharField(source="reply.result_label")
    signed_on = serializers.DateField(source="reply.signed_on")
    sent_at = serializers.DateTimeField(source="reply.sent_at")
    published_on = serializers.DateField(source="reply.published_on", allow_null=True)
    salutation = serializers.CharField(source="reply.salutation")
    body = serializers.CharField(source="reply.body")
    closing = serializers.CharField(source="reply.closing")
    superseded = serializers.BooleanField(help_text="已被更正的答复取代")
    pdf_url = serializers.SerializerMethodField(
        help_text="已公开答复的签发件 PDF 地址；未公开或尚未生成时为 null"
    )
    my_feedback = FeedbackSerializer(allow_null=True)
    can_give_feedback = serializers.BooleanField()
    feedback_url = serializers.SerializerMethodField()

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_pdf_url(self, row) -> str | None:
        if row.reply.pk not in self.context["published_ids"]:
            return None
        return public_pdf_url(self.context.get("request"), row.reply)

    @extend_schema_field(OpenApiTypes.URI)
    def get_feedback_url(self, row) -> str:
        return absolute_url(self.context.get("request"), "api:me-reply-feedback", row.reply.pk)


class MemberProposalDetailSerializer(MemberProposalSerializer):
    """A member's proposal: its text, proposers, units with due dates, timeline, replies."""

    disposition = blank_choice(Proposal, "disposition")
    disposition_label = serializers.CharField(source="get_disposition_display")
    merged_into = serializers.SerializerMethodField(help_text="并入的提案（提案号与案由）")
    proposers = serializers.SerializerMethodField()
    due_dates = serializers.SerializerMethodField(help_text="沟通与答复的到期日（本轮）")
    timeline = serializers.SerializerMethodField(help_text="办理进程（仅公开的步骤）")
    replies = serializers.SerializerMethodField(help_text="已送达的答复")

    class Meta(MemberProposalSerializer.Meta):
        fields = [
            *MemberProposalSerializer.Meta.fields,
            "reason",
            "analysis",
            "suggestions",
            "disposition",
            "disposition_label",
            "merged_into",
            "proposers",
            "due_dates",
            "timeline",
            "replies",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {"number": {"type": "string"}, "title": {"type": "string"}},
            "required": ["number", "title"],
        }
    )
    def get_merged_into(self, proposal: Proposal) -> dict | None:
        target = proposal.merged_into
        return {"number": target.number, "title": target.title} if target else None

    @extend_schema_field(ProposerNameSerializer(many=True))
    def get_proposers(self, proposal: Proposal) -> list[dict]:
        rows = [
            {
                "name": proposal.lead_proposer.name,
                "kind": proposal.lead_proposer.kind,
                "is_lead": True,
                "confirmed": True,
            }
        ]
        rows += [
            {
                "name": link.proposer.name,
                "kind": link.proposer.kind,
                "is_lead": False,
                "confirmed": link.confirmed_at is not None,
            }
            for link in proposal.coproposer_links.all()
        ]
        return ProposerNameSerializer(rows, many=True).data

    @extend_schema_field(DueRowSerializer(many=True))
    def get_due_dates(self, proposal: Proposal) -> list[dict]:
        return DueRowSerializer(self.context["due_dates"], many=True).data

    @extend_schema_field(TimelineStepSerializer(many=True))
    def get_timeline(self, proposal: Proposal) -> list[dict]:
        return TimelineStepSerializer(self.context["timeline"], many=True).data

    @extend_schema_field(MemberReplySerializer(many=True))
    def get_replies(self, proposal: Proposal) -> list[dict]:
        return MemberReplySerializer(self.context["replies"], many=True, context=self.context).data


# --- Members: submitting -------------------------------------------------------------------


class ProposalSubmitSerializer(serializers.Serializer):
    """A proposal submitted online. Only these fields are read: a number, a status, a unit or
    a proposer sent along is ignored (the member is the lead proposer)."""

    session = serializers.IntegerField(min_value=1, help_text="届次会议编号")
    title = serializers.CharField(max_length=200, help_text="案由，例如：关于……的建议")
    category = serializers.ChoiceField(
        choices=Proposal.Category.choices, default=Proposal.Category.OTHER
    )
    analysis = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20000, help_text="情况分析"
    )
    suggestions = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20000, help_text="具体建议"
    )
    coproposers = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=50,
        help_text="联名提案人（委员）编号，按签名顺序；见 me/proposers/",
    )


class ProposerDirectorySerializer(serializers.ModelSerializer):
    """A member in the list co-proposers are chosen from: the name, never a contact."""

    class Meta:
        model = Proposer
        fields = ["id", "name", "sector"]
        read_only_fields = fields


# --- Integration ----------------------------------------------------------------------------


class ImportRowSerializer(serializers.Serializer):
    """One row of the committee's list of filed proposals (the shape; the rules are in
    ``tracker.importing``)."""

    title = serializers.CharField(allow_blank=True, max_length=500, help_text="案由")
    lead_proposer = serializers.CharField(
        allow_blank=True, max_length=100, help_text="第一提案人姓名或名称"
    )
    coproposers = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        default=list,
        max_length=50,
        help_text="联名提案人姓名",
    )
    category = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=30, help_text="类别（代码或名称）"
    )
    number = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=30,
        help_text="提案号；填写时须与本届次依次分配的编号一致",
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)
    analysis = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)
    suggestions = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=20000
    )
    is_key = serializers.BooleanField(required=False, default=False, help_text="重点提案")
    supervising_leader = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=50
    )


class ImportRequestSerializer(serializers.Serializer):
    session = serializers.IntegerField(min_value=1, help_text="届次会议编号")
    rows = ImportRowSerializer(many=True, allow_empty=False, max_length=2000)


class ImportedProposalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Proposal
        fields = ["id", "number", "title"]
        read_only_fields = fields


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="导入并立案的件数")
    proposals = ImportedProposalSerializer(many=True)


class DueDateSerializer(serializers.ModelSerializer):
    class Meta:
        model = DueDate
        fields = ["clock", "round", "start_on", "due_on", "completed_on", "is_fixed", "explanation"]
        read_only_fields = fields


class ReportingAssignmentSerializer(AssignmentBriefSerializer):
    due_dates = DueDateSerializer(many=True)

    class Meta(AssignmentBriefSerializer.Meta):
        fields = [
            "id",
            *AssignmentBriefSerializer.Meta.fields,
            "round",
            "assigned_on",
            "accepted_at",
            "due_dates",
        ]
        read_only_fields = fields


class ReportingProposalSerializer(serializers.ModelSerializer):
    """A proposal for the committee's reporting systems: status, units, due dates."""

    session = SessionBriefSerializer()
    lead_proposer = serializers.CharField(source="lead_proposer.name")
    disposition = blank_choice(Proposal, "disposition")
    coproposers = serializers.SerializerMethodField()
    assignments = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = [
            "id",
            "session",
            "serial",
            "number",
            "title",
            "category",
            "status",
            "is_key",
            "supervising_leader",
            "lead_proposer",
            "coproposers",
            "disposition",
            "merged_into",
            "submitted_at",
            "filed_at",
            "created_at",
            "updated_at",
            "assignments",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_coproposers(self, proposal: Proposal) -> list[str]:
        return [link.proposer.name for link in proposal.coproposer_links.all()]

    @extend_schema_field(ReportingAssignmentSerializer(many=True))
    def get_assignments(self, proposal: Proposal) -> list[dict]:
        return ReportingAssignmentSerializer(proposal.assignments.all(), many=True).data


class ReportingReplySerializer(serializers.ModelSerializer):
    """Any reply, in any state, by its metadata (the letters are in the admin)."""

    doc_number = serializers.CharField()
    proposal_number = serializers.CharField(source="proposal.number")
    result_label = blank_choice(Reply, "result_label")
    result_class = blank_choice(Reply, "result_class")

    class Meta:
        model = Reply
        fields = [
            "id",
            "proposal",
            "proposal_number",
            "unit",
            "round",
            "kind",
            "state",
            "disclosure",
            "title",
            "doc_number",
            "result_label",
            "result_class",
            "signed_on",
            "sent_at",
            "published_on",
            "supersedes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReportingFeedbackSerializer(serializers.ModelSerializer):
    proposer = serializers.CharField(source="proposer.name")
    on_work = blank_choice(Feedback, "on_work")
    on_result = blank_choice(Feedback, "on_result")

    class Meta:
        model = Feedback
        fields = [
            "id",
            "reply",
            "proposal",
            "proposer",
            "rating",
            "on_work",
            "on_result",
            "comment",
            "channel",
            "received_at",
        ]
        read_only_fields = fields
