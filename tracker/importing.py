"""The import of a session's filed proposals from the committee's list, all or nothing.

The committee keeps the list of proposals filed at a session (立案) in Excel; the admin's Excel
import and the integration API both hand its rows to ``import_filed_proposals``, which holds
the one set of rules: every row is checked first and nothing is written while any row is wrong
(each error names its row and field, in Chinese); then each proposal is created with its
proposers and goes through the workflow — submitted and filed by the committee — so it takes
the next number of its session, gapless, and has its audit rows like any other.

A row is a mapping with English keys (the Excel reader maps the column headers):

=====================  ==========================================================================
``title``              案由 (required)
``lead_proposer``      第一提案人: the name of a proposer on record (required)
``coproposers``        联名提案人: a list of names, or one string separated by 、，, or spaces
``category``           类别: a code (``economy``) or its label (经济建设); blank is 其他
``number``             提案号 (optional): when given it must be the number the row will get, so a
                       list numbered elsewhere cannot silently disagree with the system
``reason``,            案由说明, 情况分析, 具体建议 (optional text)
``analysis``,
``suggestions``
``is_key``             重点提案 (optional, boolean or 是/否)
``supervising_leader`` 领衔督办领导 (optional)
=====================  ==========================================================================

Rows are numbered from 1 in the order given; a reader that knows the file's own line numbers
passes ``first_row`` (an Excel sheet with one header row: 2).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from proposals import workflow as pwf
from proposals.models import Proposal, ProposalStatus, Proposer, Session, User

_SEPARATORS = re.compile(r"[、，,；;\s]+")
_TRUE = {"1", "true", "yes", "y", "是", "重点", "√"}
_FALSE = {"", "0", "false", "no", "n", "否"}


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ImportResult:
    proposals: list[Proposal] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def errors_by_field(self) -> dict[str, list[str]]:
        """``{"rows.3.lead_proposer": ["…"]}``, as the API reports them."""
        out: dict[str, list[str]] = defaultdict(list)
        for e in self.errors:
            out[f"rows.{e.row}.{e.field}" if e.row else e.field].append(e.message)
        return dict(out)


@dataclass
class _Row:
    number: int
    title: str
    lead: Proposer | None
    coproposers: list[Proposer]
    category: str
    reason: str
    analysis: str
    suggestions: str
    is_key: bool
    supervising_leader: str
    expected_number: str


def _text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [n for n in _SEPARATORS.split(value.strip()) if n]
    return [str(n).strip() for n in value if str(n).strip()]


def _category(value: str) -> str | None:
    if not value:
        return Proposal.Category.OTHER
    if value in Proposal.Category.values:
        return value
    by_label = {str(label): code for code, label in Proposal.Category.choices}
    return by_label.get(value)


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _proposers_by_name(names: Iterable[str]) -> dict[str, list[Proposer]]:
    found: dict[str, list[Proposer]] = defaultdict(list)
    for p in Proposer.objects.filter(name__in=set(names), is_active=True).order_by("pk"):
        found[p.name].append(p)
    return found


def _coproposers(
    row: Mapping[str, Any],
    lead: Proposer | None,
    proposers: Mapping[str, list[Proposer]],
    error: Callable[[str, str], None],
) -> list[Proposer]:
    """The row's co-proposers found by name; who may co-sign is the workflow's rule
    (``clean_coproposers``: each once, not the lead, serving members), asked here first so
    that the error names the row."""
    found: list[Proposer] = []
    for name in _names(row.get("coproposers")):
        matches = [p for p in proposers.get(name, []) if p.kind == Proposer.Kind.MEMBER]
        if not matches:
            error("coproposers", _("联名提案人“%(name)s”不在委员名单中。") % {"name": name})
        elif len(matches) > 1:
            error(
                "coproposers",
                _("有多位同名委员“%(name)s”，请先在系统中区分。") % {"name": name},
            )
        else:
            found.append(matches[0])
    if found:
        try:
            pwf.clean_coproposers(lead, found)
        except pwf.InvalidInput as exc:
            error("coproposers", exc.message)
    return found


def import_filed_proposals(
    rows: Sequence[Mapping[str, Any]],
    *,
    actor: User,
    session: Session | int,
    first_row: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Create and file the proposals of ``rows`` in ``session``, or none of them.

    Returns the filed proposals in row order, or the errors (and nothing written). Raises
    ``NotAllowed`` for anyone but the committee. ``progress(done, total)``, when given, is
    called after each proposal is filed (the admin's import shows it).
    """
    pwf.require_committee(actor)
    result = ImportResult()
    with transaction.atomic():
        session_id = session.pk if isinstance(session, Session) else session
        locked = Session.objects.select_for_update().filter(pk=session_id).first()
        if locked is None:
            result.errors.append(RowError(0, "session", _("届次会议不存在。")))
            return result
        if not rows:
            result.errors.append(RowError(0, "rows", _("没有可导入的提案。")))
            return result
        limit = int(settings.IMPORT_MAX_ROWS)  # more than any session files: a mistake
        if len(rows) > limit:
            result.errors.append(
                RowError(0, "rows", _("一次最多导入 %(n)s 件提案。") % {"n": limit})
            )
            return result
        checked = _check_rows(rows, session=locked, first_row=first_row, errors=result.errors)
        if result.errors:
            return result
        note = _("批量导入")
        for row in checked:
            # Signed on paper: the committee's list is the co-proposers' confirmation.
            proposal = pwf.enter_proposal(
                actor=actor,
                session=locked,
                lead_proposer=row.lead,
                title=row.title,
                category=row.category,
                reason=row.reason,
                analysis=row.analysis,
                suggestions=row.suggestions,
                is_key=row.is_key,
                supervising_leader=row.supervising_leader,
                coproposers=row.coproposers,
                signed_on_paper=True,
            )
            pwf.submit_proposal(proposal, actor=actor)
            proposal = pwf.file_proposal(proposal, actor=actor, note=note)
            if row.expected_number and proposal.number != row.expected_number:
                raise AssertionError("the session's numbering moved during the import")
            result.proposals.append(proposal)
            if progress is not None:
                progress(len(result.proposals), len(checked))
    return result


def _lead(name: str, proposers: dict[str, list[Proposer]], error) -> Proposer | None:
    """The row's 第一提案人, found by name among the proposers (one, and only one)."""
    if not name:
        error("lead_proposer", _("请填写第一提案人。"))
        return None
    matches = proposers.get(name, [])
    if not matches:
        error("lead_proposer", _("第一提案人“%(name)s”不在提案者名单中。") % {"name": name})
        return None
    if len(matches) > 1:
        error(
            "lead_proposer",
            _("有%(n)s位同名提案者“%(name)s”，请先在系统中区分。")
            % {"n": len(matches), "name": name},
        )
        return None
    return matches[0]


def _check_rows(
    rows: Sequence[Mapping[str, Any]], *, session: Session, first_row: int, errors: list[RowError]
) -> list[_Row]:
    names = set()
    for row in rows:
        names.add(_text(row, "lead_proposer"))
        names.update(_names(row.get("coproposers")))
    proposers = _proposers_by_name(n for n in names if n)
    existing = set(
        Proposal.objects.filter(session=session)
        .exclude(status=ProposalStatus.DRAFT)
        .values_list("title", "lead_proposer__name")
    )
    seen: set[tuple[str, str]] = set()
    checked: list[_Row] = []
    title_max = Proposal._meta.get_field("title").max_length

    for index, row in enumerate(rows):
        n = first_row + index

        def error(field_name: str, message: str, n: int = n) -> None:
            errors.append(RowError(n, field_name, message))

        title = _text(row, "title")
        if not title:
            error("title", _("请填写案由。"))
        elif len(title) > title_max:
            error("title", _("案由不能超过%(n)s字。") % {"n": title_max})

        lead_name = _text(row, "lead_proposer")
        lead = _lead(lead_name, proposers, error)

        coproposers = _coproposers(row, lead, proposers, error)

        category = _category(_text(row, "category"))
        if category is None:
            error(
                "category",
                _("类别“%(value)s”无效，可选：%(choices)s。")
                % {
                    "value": _text(row, "category"),
                    "choices": "、".join(str(label) for _c, label in Proposal.Category.choices),
                },
            )

        is_key = _boolean(row.get("is_key"))
        if is_key is None:
            error("is_key", _("重点提案请填“是”或“否”。"))

        leader = _text(row, "supervising_leader")
        leader_max = Proposal._meta.get_field("supervising_leader").max_length
        if len(leader) > leader_max:
            error("supervising_leader", _("领衔督办领导不能超过%(n)s字。") % {"n": leader_max})

        expected = session.format_number(session.last_serial + index + 1)
        number = _text(row, "number")
        if number and number != expected:
            error(
                "number",
                _("提案号“%(given)s”与本届次依次分配的编号“%(expected)s”不一致。")
                % {"given": number, "expected": expected},
            )

        key = (title, lead_name)
        if title and lead_name:
            if key in existing:
                error("title", _("本届次已有相同案由和第一提案人的提案，是否重复导入？"))
            elif key in seen:
                error("title", _("与前面的行重复。"))
            seen.add(key)

        checked.append(
            _Row(
                number=n,
                title=title,
                lead=lead,
                coproposers=coproposers,
                category=category or Proposal.Category.OTHER,
                reason=_text(row, "reason"),
                analysis=_text(row, "analysis"),
                suggestions=_text(row, "suggestions"),
                is_key=bool(is_key),
                supervising_leader=leader,
                expected_number=number,
            )
        )
    return checked
