"""Serializers of published replies (政务公开) and of a proposer's feedback.

Output fields are listed one by one — never ``"__all__"`` — so a new model field (an internal
note, a contact) cannot reach the portal by accident; ``tracker/tests/test_api_exposure.py``
holds the allow-list the public responses are checked against. Input serializers check the
shape of a request; the rules are the workflow's.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from proposals.api.common import blank_choice
from proposals.api.serializers import SessionBriefSerializer, UnitBriefSerializer
from replies.models import Feedback, Reply, ReplyState

#: A correction takes its predecessor off the portal once it is sent (``Reply.published``).
WITHDRAWING_STATES = (ReplyState.SENT, ReplyState.PUBLISHED)


def withdrawing_correction(reply: Reply) -> Reply | None:
    """The sent correction that withdrew ``reply`` from the public, if any."""
    try:
        correction = reply.superseded_by
    except Reply.DoesNotExist:
        return None
    return correction if correction.state in WITHDRAWING_STATES else None


def absolute_url(request, name: str, pk: int | str) -> str:
    path = reverse(name, kwargs={"pk": pk})
    return request.build_absolute_uri(path) if request is not None else path


class _URLs:
    """The absolute URL of route ``name`` for any id, reversed once per request (a list of a
    hundred replies would otherwise reverse two hundred times)."""

    _PK = "00000"

    def __init__(self, request, name: str) -> None:
        template = absolute_url(request, name, self._PK)
        self.head, _sep, self.tail = template.rpartition(self._PK)

    def __call__(self, pk: int) -> str:
        return f"{self.head}{pk}{self.tail}"


def _urls(serializer: serializers.Serializer, name: str) -> _URLs:
    cache = serializer.context.setdefault("_urls", {})
    if name not in cache:
        cache[name] = _URLs(serializer.context.get("request"), name)
    return cache[name]


def public_pdf_url(request, reply: Reply) -> str | None:
    """The URL of a published reply's signed PDF, or None while it is not stored."""
    if not reply.pdf:
        return None
    return absolute_url(request, "api:reply-pdf", reply.pk)


class PublicReplySerializer(serializers.ModelSerializer):
    """One published reply in a list: the 政务公开 metadata."""

    doc_number = serializers.CharField(help_text="文号，例如 长发改〔2024〕19号；无文号时为空")
    organ = serializers.CharField(source="unit.organ_name", help_text="发布机构")
    unit = serializers.SerializerMethodField(help_text="承办单位")
    session = serializers.SerializerMethodField(help_text="届次会议")
    proposal_number = serializers.CharField(source="proposal.number", help_text="提案号")
    result_label = blank_choice(Reply, "result_label")
    result_class = blank_choice(Reply, "result_class")
    signed_on = serializers.DateField(help_text="成文日期")
    published_on = serializers.DateField(help_text="公开日期")
    url = serializers.SerializerMethodField(help_text="详情地址")
    pdf_url = serializers.SerializerMethodField(help_text="签发件 PDF 地址；尚未生成时为 null")
    supersedes = serializers.IntegerField(
        source="supersedes_id", allow_null=True, help_text="本答复更正的答复编号；不是更正时为 null"
    )
    withdrawn = serializers.SerializerMethodField(
        help_text="已被更正撤下（仅在 include=withdrawn 时出现 true）"
    )
    superseded_by = serializers.SerializerMethodField(
        help_text="撤下本答复的更正：编号、地址、撤下日期；未被更正时为 null"
    )

    class Meta:
        model = Reply
        fields = [
            "id",
            "title",
            "doc_number",
            "organ",
            "unit",
            "session",
            "proposal_number",
            "kind",
            "result_label",
            "result_class",
            "signed_on",
            "published_on",
            "updated_at",
            "url",
            "pdf_url",
            "supersedes",
            "withdrawn",
            "superseded_by",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_withdrawn(self, reply: Reply) -> bool:
        return withdrawing_correction(reply) is not None

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "id": {"type": "integer"},
                "url": {"type": "string", "format": "uri"},
                "withdrawn_on": {"type": "string", "format": "date"},
            },
        }
    )
    def get_superseded_by(self, reply: Reply) -> dict | None:
        correction = withdrawing_correction(reply)
        if correction is None:
            return None
        on = timezone.localdate(correction.sent_at) if correction.sent_at else None
        return {
            "id": correction.pk,
            "url": _urls(self, "api:reply-detail")(correction.pk),
            "withdrawn_on": on.isoformat() if on else None,
        }

    # The nested objects are written out by hand: a nested serializer per row costs more than
    # the rest of the row (bench/api.py); the schema still documents them.
    @extend_schema_field(UnitBriefSerializer)
    def get_unit(self, reply: Reply) -> dict:
        unit = reply.unit
        return {"id": unit.pk, "name": unit.name, "short_name": unit.short_name}

    @extend_schema_field(SessionBriefSerializer)
    def get_session(self, reply: Reply) -> dict:
        session = reply.proposal.session
        return {"id": session.pk, "district": session.district, "name": session.name}

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, reply: Reply) -> str:
        return _urls(self, "api:reply-detail")(reply.pk)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_pdf_url(self, reply: Reply) -> str | None:
        return _urls(self, "api:reply-pdf")(reply.pk) if reply.pdf else None


class PublicReplyDetailSerializer(PublicReplySerializer):
    """A published reply with its full text and the names of the proposers it answers."""

    proposers = serializers.SerializerMethodField(help_text="提案者姓名或名称（不含联系方式）")

    class Meta(PublicReplySerializer.Meta):
        fields = [
            *PublicReplySerializer.Meta.fields,
            "salutation",
            "body",
            "closing",
            "proposers",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_proposers(self, reply: Reply) -> list[str]:
        return [p.name for p in self.context["proposers"]]


class FeedbackInputSerializer(serializers.Serializer):
    """A proposer's answer to a sent reply. Anything else in the request is ignored."""

    rating = serializers.ChoiceField(choices=Feedback.Rating.choices, help_text="总体评价")
    on_work = serializers.ChoiceField(
        choices=Feedback.Rating.choices, required=False, allow_blank=True, default=""
    )
    on_result = serializers.ChoiceField(
        choices=Feedback.Rating.choices, required=False, allow_blank=True, default=""
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, trim_whitespace=True
    )


class FeedbackSerializer(serializers.ModelSerializer):
    reply = serializers.IntegerField(source="reply_id", help_text="答复编号")
    rating_label = serializers.CharField(source="get_rating_display")
    on_work = blank_choice(Feedback, "on_work")
    on_result = blank_choice(Feedback, "on_result")

    class Meta:
        model = Feedback
        fields = [
            "id",
            "reply",
            "rating",
            "rating_label",
            "on_work",
            "on_result",
            "comment",
            "received_at",
        ]
        read_only_fields = fields
