"""The member API (me/…): a member's own proposals, online submission, the member list.

What a member follows is ``Proposal.objects.for_proposer`` (led, co-signed, or of a group they
convene) and the replies they may read are ``Reply.objects.for_proposer``; another member's
proposal is a 404. A proposal's page is read by the selectors of the /my/ pages
(``tracker.my.selectors``: the timeline of public steps — never a note, never a draft's or a
co-handling opinion's step —, the proposer's deadlines, the readable replies), so the portal's
app and /my/ show a member the same thing.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch, Q
from django_filters import rest_framework as filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response

from proposals import workflow as pwf
from proposals.api.common import (
    PrivateAPIView,
    StrictCursorPagination,
    StrictFilterSet,
    error_responses,
)
from proposals.models import Assignment, CoProposer, Proposal, Proposer
from replies.api.views import acting_proposer
from replies.models import Reply
from tracker.api.serializers import (
    MemberProposalDetailSerializer,
    MemberProposalSerializer,
    ProposalSubmitSerializer,
    ProposerDirectorySerializer,
)
from tracker.my import selectors


def member_proposals(proposer: Proposer | None):
    """The proposals a member follows, with what their list (or one page) prints: a fixed
    number of queries whatever the number of proposals."""
    active = Assignment.objects.active().select_related("unit")
    return (
        Proposal.objects.for_proposer(proposer)
        .select_related("session", "lead_proposer", "merged_into")
        .prefetch_related(
            Prefetch("coproposer_links", queryset=CoProposer.objects.select_related("proposer")),
            Prefetch("assignments", queryset=active, to_attr="active_assignments"),
            Prefetch("merged_into__assignments", queryset=active, to_attr="active_assignments"),
        )
    )


class MemberProposalPagination(StrictCursorPagination):
    orderings = {"-id": ("-id",)}
    default_ordering = "-id"


class MemberProposalListView(PrivateAPIView, ListAPIView):
    """我的提案：本人领衔、联名，或本人为召集人的集体提案。"""

    serializer_class = MemberProposalSerializer
    pagination_class = MemberProposalPagination
    filter_backends = ()

    def get_queryset(self):
        return member_proposals(acting_proposer(self.request.user))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "proposer": self._proposer()}

    def _proposer(self) -> Proposer | None:
        if not hasattr(self, "_acting_proposer"):
            self._acting_proposer = acting_proposer(self.request.user)
        return self._acting_proposer

    @extend_schema(
        operation_id="me_proposals_list",
        summary="我的提案",
        tags=["委员"],
        responses={
            200: MemberProposalSerializer(many=True),
            **error_responses(400, 401, 403, 429),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="me_proposals_create",
        summary="网上提交提案",
        description=(
            "以本人为第一提案人起草并提交提案。有联名提案人时，提案先保存为草稿（status 为 "
            "draft），待联名提案人在“我的提案”中确认后，由第一提案人提交。只读取下列字段，"
            "请求中的提案号、状态、承办单位、提案者等字段一律忽略。"
        ),
        tags=["委员"],
        request=ProposalSubmitSerializer,
        responses={
            201: MemberProposalDetailSerializer,
            **error_responses(400, 401, 403, 409, 429),
        },
    )
    def post(self, request, *args, **kwargs) -> Response:
        serializer = ProposalSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            proposal = pwf.draft_proposal(actor=request.user, **serializer.validated_data)
            try:
                with transaction.atomic():
                    pwf.submit_proposal(proposal, actor=request.user)
            except pwf.WrongState as exc:
                if exc.code != "unconfirmed_coproposers":
                    raise
        proposal = member_proposals(self._proposer()).get(pk=proposal.pk)
        data = MemberProposalDetailSerializer(
            proposal, context=detail_context(request, proposal, self._proposer())
        ).data
        return Response(data, status=201, headers={"Location": data["url"]})


def detail_context(request, proposal: Proposal, proposer: Proposer) -> dict:
    """What a proposal's page needs beyond the proposal, read as /my/ reads it."""
    replies = selectors.readable_replies(proposal, proposer)
    ids = [row.reply.pk for row in replies]
    published = set(Reply.objects.published().filter(pk__in=ids).values_list("pk", flat=True))
    return {
        "request": request,
        "proposer": proposer,
        "timeline": selectors.timeline(proposal, proposer).steps,
        "due_dates": selectors.due_dates(proposal),
        "replies": replies,
        "published_ids": published,
    }


class MemberProposalDetailView(PrivateAPIView, GenericAPIView):
    """一件本人的提案：状态、承办单位与办理方式、到期日、办理进程、已送达的答复及本人的反馈。"""

    serializer_class = MemberProposalDetailSerializer
    filter_backends = ()

    def get_queryset(self):
        return member_proposals(acting_proposer(self.request.user))

    @extend_schema(
        operation_id="me_proposals_retrieve",
        summary="我的提案详情",
        tags=["委员"],
        responses={200: MemberProposalDetailSerializer, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request, pk: str) -> Response:
        proposal = self.get_object()
        proposer = acting_proposer(request.user)
        context = detail_context(request, proposal, proposer)
        return Response(MemberProposalDetailSerializer(proposal, context=context).data)


class ProposerDirectoryFilter(StrictFilterSet):
    q = filters.CharFilter(method="search", max_length=50, label="姓名或界别，包含即匹配")
    blank_allowed = frozenset({"q"})

    class Meta:
        model = Proposer
        fields: list[str] = []

    def search(self, queryset, name: str, value: str):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(sector__icontains=value))


class ProposerDirectoryPagination(StrictCursorPagination):
    orderings = {"name": ("name", "id")}
    default_ordering = "name"
    page_size = 50


class ProposerDirectoryView(PrivateAPIView, ListAPIView):
    """在任委员名单（只有姓名与界别），用于选择联名提案人。"""

    serializer_class = ProposerDirectorySerializer
    filter_backends = (DjangoFilterBackend,)
    filterset_class = ProposerDirectoryFilter
    pagination_class = ProposerDirectoryPagination

    def get_queryset(self):
        if acting_proposer(self.request.user) is None:
            return Proposer.objects.none()
        return Proposer.objects.filter(kind=Proposer.Kind.MEMBER, is_active=True)

    @extend_schema(
        operation_id="me_proposers_list",
        summary="委员名单（选择联名提案人）",
        tags=["委员"],
        responses={
            200: ProposerDirectorySerializer(many=True),
            **error_responses(400, 401, 403, 429),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
