"""What replies adds to the search and filters of the proposal and assignment lists: a
letter's 文号, typed whole or in part ("长发改〔2024〕19号", "2026〕1", "[2026]1"), and the
result class (A/B/C/D) of the latest reply sent.

Only letters the user may see count (``visible_to``): a unit's clerk does not learn, by finding a
proposal, the 文号 of another unit's reply that is signed but not yet sent.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import CharField, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from proposals.admin.search import register_list_filter, register_search
from proposals.models import Assignment, Proposal
from replies.models import CoOpinion, Reply, ReplyState, ResultClass

#: Brackets typed for 〔〕 (half- and full-width, square, round, 【】).
_BRACKETS = str.maketrans("[［【(（]］】)）", "〔〔〔〔〔〕〕〕〕〕")
_SENT = [ReplyState.SENT, ReplyState.PUBLISHED]


def doc_number_text() -> Concat:
    """The 文号 as printed (``LetterFields.doc_number``), in SQL."""
    return Concat(
        "docno_prefix",
        Value("〔"),
        Cast("docno_year", CharField()),
        Value("〕"),
        Cast("docno_number", CharField()),
        Value("号"),
        output_field=CharField(),
    )


def letters_matching(model: type[Reply | CoOpinion], user, term: str) -> QuerySet | None:
    """The letters of ``model`` visible to ``user`` whose 文号 contains ``term`` — for a term
    with a bracket (a bare word or number is the proposal's own search's to answer), or one
    that is a 文号 prefix ("长发改")."""
    typed = term.translate(_BRACKETS)
    letters = model.objects.visible_to(user).filter(docno_number__isnull=False)
    if "〔" in typed or "〕" in typed:
        return letters.alias(doc_text=doc_number_text()).filter(doc_text__contains=typed)
    if not any(ch.isdigit() for ch in typed):
        return letters.filter(docno_prefix__icontains=typed)
    return None


def _by_doc_number(column: str):
    def contribution(request: HttpRequest, term: str) -> Q | None:
        q = Q()
        for model in (Reply, CoOpinion):
            letters = letters_matching(model, request.user, term)
            if letters is not None:
                q |= Q(pk__in=letters.values(column))
        return q or None

    return contribution


proposals_by_doc_number = register_search(Proposal, _by_doc_number("proposal_id"))
assignments_by_doc_number = register_search(Assignment, _by_doc_number("assignment_id"))


def latest_sent_reply(match: Q) -> QuerySet:
    """The replies sent that ``match``, newest first (by 送达, then by signing)."""
    return Reply.objects.filter(match, state__in=_SENT).order_by(
        F("sent_at").desc(nulls_last=True), F("signed_on").desc(nulls_last=True), "-pk"
    )


class ResultClassFilter(admin.SimpleListFilter):
    """By the result class (A/B/C/D) of the latest reply sent (``answering``)."""

    title = _("办理结果类别")
    parameter_name = "result"
    #: Which replies answer the changelist's row (``OuterRef`` to it).
    answering: Q = Q(pk__in=[])

    def lookups(self, request, model_admin):
        return ResultClass.choices

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value not in ResultClass.values:
            return queryset.none()
        latest = Subquery(latest_sent_reply(self.answering).values("result_class")[:1])
        return queryset.alias(latest_result=latest).filter(latest_result=value)


class ProposalResultFilter(ResultClassFilter):
    """A proposal's result: its latest reply sent (a re-handled proposal's second answer)."""

    answering = Q(proposal=OuterRef("pk"))


class AssignmentResultFilter(ResultClassFilter):
    """An assignment's result: its own latest reply sent — or, for a 会办 unit, which replies
    to nobody, the lead unit's (a lead's own replies match both ways)."""

    answering = Q(assignment=OuterRef("pk")) | Q(
        proposal=OuterRef("proposal_id"), assignment__role=Assignment.Role.LEAD
    )


register_list_filter(Proposal, ProposalResultFilter)
register_list_filter(Assignment, AssignmentResultFilter)
