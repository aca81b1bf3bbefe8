"""What clerks type into the proposal and assignment lists, and the filters beside them.

One search box finds a proposal by its 提案号 (whole, "第061号", or part, "061"), its title, a
proposer's name (lead or co-signer), a unit handling it (name or short name) — and, through what
the apps above add with ``register_search``, a letter's 文号 ("2026〕1"). Each term is one
``WHERE`` of ``pk IN (subquery)`` on indexed foreign keys: no join multiplies the rows, so no
``DISTINCT`` is needed and the list's count stays exact. Terms are searched within the
changelist's queryset, which is already the user's ``visible_to``: a clerk never finds another
unit's proposal. Proposers' contact details are never searched (``access.PRIVATE_FIELDS``).

The filters: the unit, the deadline (``selectors.filter_due``: the one definition of overdue),
and whatever the apps above add with ``register_list_filter`` (replies: the result class).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _

from proposals import models as _models
from proposals.admin.access import _ModelAdminBase
from proposals.districts import unit_sort_key
from proposals.models import Assignment, CoProposer, Unit
from proposals.selectors import DUE_SOON_WORKDAYS, filter_due

#: ``contribution(request, term)``: a condition on the model's rows for one search term, or
#: ``None`` when the term is not the contribution's to answer.
SearchContribution = Callable[[HttpRequest, str], Q | None]

#: model -> what other apps add to its search (``register_search``).
SEARCHES: dict[type[Model], list[SearchContribution]] = defaultdict(list)
#: model -> the list filters other apps add to its changelist (``register_list_filter``).
LIST_FILTERS: dict[type[Model], list[type[admin.ListFilter]]] = defaultdict(list)

#: The help under the search box of both lists.
SEARCH_HELP = _("可按提案号（如 061、第061号）、文号（如 2026〕1）、案由、提案者、承办单位查找。")

#: "第61号", "61号", "061": a serial typed with or without the number's decorations.
_SERIAL = re.compile(r"^第?0*(\d{1,6})号?$")


def register_search(model: type[Model], contribution: SearchContribution) -> SearchContribution:
    """Let another app answer search terms on ``model``'s changelist (its letters' 文号)."""
    if contribution not in SEARCHES[model]:
        SEARCHES[model].append(contribution)
    return contribution


def register_list_filter(model: type[Model], list_filter: type[admin.ListFilter]) -> None:
    """Add a filter of another app to ``model``'s changelist (the replies' result class)."""
    if list_filter not in LIST_FILTERS[model]:
        LIST_FILTERS[model].append(list_filter)


def search_terms(search_term: str) -> list[str]:
    """The terms of the box, as Django's own search splits them (quotes keep spaces)."""
    terms = []
    for bit in smart_split(search_term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1] and len(bit) > 1:
            bit = unescape_string_literal(bit)
        if bit.strip():
            terms.append(bit.strip())
    return terms


def proposal_term(term: str, prefix: str = "") -> Q:
    """Rows whose proposal (``prefix`` leads to it) matches ``term`` by number, title or a
    proposer's name. The lead proposer is a foreign key (one row each); co-signers go
    through a subquery."""
    q = (
        Q(**{f"{prefix}number__icontains": term})
        | Q(**{f"{prefix}title__icontains": term})
        | Q(**{f"{prefix}lead_proposer__name__icontains": term})
    )
    serial = _SERIAL.match(term)
    if serial:
        q |= Q(**{f"{prefix}serial": int(serial[1])})
    cosigned = CoProposer.objects.filter(proposer__name__icontains=term).values("proposal_id")
    own_pk = f"{prefix}pk" if prefix else "pk"
    return q | Q(**{f"{own_pk}__in": cosigned})


def unit_term(term: str) -> Q:
    """Units whose name or short name contains ``term`` (on ``Unit``)."""
    return Q(name__icontains=term) | Q(short_name__icontains=term)


def search_rows(
    request: HttpRequest,
    queryset: QuerySet,
    search_term: str,
    term_q: Callable[[str], Q],
) -> QuerySet:
    """``queryset`` narrowed to the rows matching every term (``term_q`` or a contribution)."""
    for term in search_terms(search_term):
        q = term_q(term)
        for contribution in SEARCHES.get(queryset.model, ()):
            extra = contribution(request, term)
            if extra is not None:
                q |= extra
        queryset = queryset.filter(q)
    return queryset


def proposal_search(request: HttpRequest, queryset: QuerySet, search_term: str) -> QuerySet:
    """The proposal list's search (see the module's docstring)."""

    def term_q(term: str) -> Q:
        units = Unit.objects.filter(unit_term(term)).values("pk")
        handled = Assignment.objects.active().filter(unit__in=units).values("proposal_id")
        return proposal_term(term) | Q(pk__in=handled)

    return search_rows(request, queryset, search_term, term_q)


def assignment_search(request: HttpRequest, queryset: QuerySet, search_term: str) -> QuerySet:
    """The assignment list's search: the proposal's number, title and proposers, the unit of
    the assignment itself."""

    def term_q(term: str) -> Q:
        units = Unit.objects.filter(unit_term(term)).values("pk")
        return proposal_term(term, "proposal__") | Q(unit__in=units)

    return search_rows(request, queryset, search_term, term_q)


class SearchMixin(_ModelAdminBase):
    """The changelist's search by ``search`` (a function above), and the filters other apps
    registered after the admin's own. ``search_fields`` stays declared: Django shows the box
    (and checks the admin) by it, but never searches with it."""

    search = staticmethod(proposal_search)
    search_help_text = SEARCH_HELP

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return type(self).search(request, queryset, search_term), False

    def get_list_filter(self, request) -> tuple[Any, ...]:
        return (*super().get_list_filter(request), *LIST_FILTERS.get(self.model, ()))


# --- Filters --------------------------------------------------------------------------------


class DueFilter(admin.SimpleListFilter):
    """Assignments by their running reply clock (``selectors.filter_due``)."""

    title = _("到期情况")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("已逾期")),
            ("soon", _("%(n)d个工作日内到期") % {"n": DUE_SOON_WORKDAYS}),
            ("open", _("未完成")),
        ]

    def queryset(self, request, queryset):
        if which := self.value():
            return filter_due(queryset, which, _models.today())
        return queryset


class ProposalDueFilter(DueFilter):
    """Proposals with an assignment in that state — for a unit's staff, one of their own
    (a co-handled proposal is not "ours overdue" because the lead is late)."""

    def queryset(self, request, queryset):
        which = self.value()
        if not which:
            return queryset
        mine = Assignment.objects.visible_to(request.user)
        due = filter_due(mine, which, _models.today())
        return queryset.filter(pk__in=due.values("proposal_id"))


class ProposalUnitFilter(admin.SimpleListFilter):
    """Proposals a unit handles now (an assignment not withdrawn). The choices are the units
    of the assignments the user may see, grouped by district."""

    title = _("承办单位")
    parameter_name = "unit"

    def lookups(self, request, model_admin):
        seen = Assignment.objects.visible_to(request.user).active().values("unit_id")
        units = list(Unit.objects.filter(pk__in=seen))
        units.sort(key=unit_sort_key)
        return [(str(u.pk), f"{u}（{u.district}）" if u.district else str(u)) for u in units]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        handled = Assignment.objects.active().filter(unit_id=int(value)).values("proposal_id")
        return queryset.filter(pk__in=handled)


PROPOSAL_FILTERS = (ProposalUnitFilter, ProposalDueFilter)
