"""What each figure means, written once: its label, its definition at each level of counting,
and the ``Figures`` that hold one group's counts.

Two levels (``PROPOSAL``, ``ASSIGNMENT``): a proposal 提案, or one unit's lead (主办) or separate
(分办) assignment 交办 — the share of the work that owes the proposers a reply. The statistics
page, its Excel export, the API and the annual report read their columns, headers and the
指标说明 table from ``MEASURES``; ``counting`` is the only code that fills the numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from replies.models import ResultClass

RESULT_CLASSES: tuple[str, ...] = tuple(ResultClass.values)

#: The levels of counting; ``LEVEL_LABELS`` says each in words.
PROPOSAL, ASSIGNMENT = "proposal", "assignment"
LEVEL_LABELS = {PROPOSAL: _("按提案计"), ASSIGNMENT: _("按承办单位的交办计")}
#: The same as choices (the API's ``StatisticsLevelEnum``, settings.SPECTACULAR_SETTINGS).
LEVEL_CHOICES = list(LEVEL_LABELS.items())

#: Kinds of cell: a count or a rate.
COUNT, RATE = "n", "%"


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percent(value: float | None, digits: int = 1) -> str:
    """A rate as people read it: ``95.2%``, or ``—`` when there is nothing to divide."""
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}%"


@dataclass(frozen=True)
class Measure:
    """One figure: the ``Figures`` attribute it reads, its header, and what it counts at each
    level (empty: not a figure of that level; its cell shows ``—``)."""

    attribute: str
    label: Any
    kind: str
    by_proposal: Any
    by_assignment: Any

    def applies(self, level: str) -> bool:
        return bool(self.by_proposal if level == PROPOSAL else self.by_assignment)

    def value(self, figures: Figures) -> Any:
        if self.attribute.startswith("results."):
            return figures.results[self.attribute.split(".", 1)[1]]
        return getattr(figures, self.attribute)


_SAME = _("同左（按本单位的交办件计）")

MEASURES: tuple[Measure, ...] = (
    Measure(
        "filed",
        _("立案数"),
        COUNT,
        _("有提案号的提案（已立案，含其后并案的）；按立案日期归入期间。"),
        _("本单位主办或分办的已立案提案。"),
    ),
    Measure(
        "merged",
        _("并案数"),
        COUNT,
        _("立案后并入另一件提案办理的提案（不单独交办）。"),
        "",
    ),
    Measure(
        "unassigned",
        _("待交办数"),
        COUNT,
        _("已立案、尚未交办（或承办单位全部退回、待重新交办）的提案。"),
        "",
    ),
    Measure(
        "assigned",
        _("交办件数"),
        COUNT,
        _("至少有一个主办或分办交办（已退回的不计）的提案。"),
        _("本单位主办或分办的交办件（已退回的不计；会办另计）。"),
    ),
    Measure(
        "replied",
        _("已办复"),
        COUNT,
        _("每个主办或分办单位都已送达首轮答复的提案。"),
        _("本单位已送达首轮答复的交办件。"),
    ),
    Measure("reply_rate", _("办复率"), RATE, _("已办复 ÷ 交办件数。"), _SAME),
    Measure(
        "replied_on_time",
        _("按期办复"),
        COUNT,
        _("每个主办或分办单位都在答复期限（含批准的延期）内送达首轮答复的提案。"),
        _("在答复期限（含批准的延期）内送达首轮答复的交办件。"),
    ),
    Measure("on_time_rate", _("按期办复率"), RATE, _("按期办复 ÷ 交办件数。"), _SAME),
    Measure(
        "met",
        _("已见面"),
        COUNT,
        _("任一承办单位与提案者见面沟通（沟通方式为“见面”）的提案。"),
        _("本单位与提案者见面沟通的交办件。"),
    ),
    Measure("meeting_rate", _("见面率"), RATE, _("已见面 ÷ 交办件数。"), _SAME),
    Measure(
        "feedback_first",
        _("首轮意见数"),
        COUNT,
        _("提案者对首轮答复的意见：每个交办件、每位提案者一份（首轮有更正答复的取最后一份）。"),
        _SAME,
    ),
    Measure(
        "satisfied_first",
        _("首轮满意"),
        COUNT,
        _("首轮意见中“满意”和“基本满意”的份数。"),
        _SAME,
    ),
    Measure(
        "satisfaction_rate_first",
        _("满意率（首轮）"),
        RATE,
        _("首轮满意 ÷ 首轮意见数。"),
        _SAME,
    ),
    Measure(
        "feedback",
        _("最终意见数"),
        COUNT,
        _("每个交办件、每位提案者最近一次的意见（重新办理后的意见取代首轮的）。"),
        _SAME,
    ),
    Measure(
        "satisfied",
        _("最终满意"),
        COUNT,
        _("最终意见中“满意”和“基本满意”的份数。"),
        _SAME,
    ),
    Measure("satisfaction_rate", _("满意率（最终）"), RATE, _("最终满意 ÷ 最终意见数。"), _SAME),
    Measure(
        "rehandled",
        _("不满意重办数"),
        COUNT,
        _("因提案者不满意而重新办理（办理轮次大于1）的主办或分办交办所属的提案。"),
        _("本单位因提案者不满意而重新办理的交办件。"),
    ),
    *(
        Measure(
            f"results.{c}",
            format_lazy(_("{c}类"), c=c),
            COUNT,
            format_lazy(
                _("每个主办或分办单位最新一份已送达答复的办理结果为 {label} 的份数（按答复计）。"),
                label=ResultClass(c).label,
            ),
            format_lazy(
                _("本单位最新一份已送达答复的办理结果为 {label} 的份数。"),
                label=ResultClass(c).label,
            ),
        )
        for c in RESULT_CLASSES
    ),
    Measure(
        "co_assigned",
        _("会办件数"),
        COUNT,
        _("会办交办的个数（按会办单位的交办计，已退回的不计）。"),
        _("本单位会办的交办件。"),
    ),
    Measure(
        "co_done",
        _("会办意见已送达"),
        COUNT,
        _("会办意见已送达主办单位的会办交办（含逾期送达的）。"),
        _("本单位会办意见已送达主办单位的会办交办件。"),
    ),
    Measure(
        "co_on_time",
        _("会办意见按期"),
        COUNT,
        _("在会办意见期限内送达主办单位的会办意见；主办单位先行答复、未提供会办意见的计为未送达。"),
        _("本单位在期限内送达主办单位的会办意见（未提供会办意见的计为未送达）。"),
    ),
    Measure(
        "co_on_time_rate",
        _("会办意见按期率"),
        RATE,
        _("会办意见按期 ÷ 会办件数。"),
        _("会办意见按期 ÷ 会办件数。"),
    ),
    Measure(
        "co_missing",
        _("未提供会办意见"),
        COUNT,
        _(
            "主办单位已答复或提案已办结时仍未送达会办意见的会办交办（计入该会办单位，不算提案逾期）。"
        ),
        _("本单位未提供会办意见而结束的会办交办件。"),
    ),
    Measure(
        "overdue",
        _("逾期"),
        COUNT,
        _(
            "尚有主办或分办单位未办结且已过答复期限（含重新办理的答复期限）的提案；"
            "会办意见逾期计入会办单位，不计为提案逾期。"
        ),
        _("本单位未办结且已过当前期限的交办件（主办、分办为答复期限，会办为会办意见期限）。"),
    ),
    Measure(
        "sent",
        _("已送达答复"),
        COUNT,
        _("每个主办或分办单位最新一份已送达（或已公开）的答复（按答复计）。"),
        _("本单位最新一份已送达（或已公开）的答复。"),
    ),
    Measure("published", _("已公开"), COUNT, _("上述答复中已主动公开的份数。"), _SAME),
    Measure("public_rate", _("公开率"), RATE, _("已公开 ÷ 已送达答复。"), _SAME),
)

MEASURE_BY_ATTRIBUTE = {m.attribute: m for m in MEASURES}


def definitions() -> list[dict[str, str]]:
    """The 指标说明 table: each measure's label and definition at both levels, as text."""
    return [
        {
            "attribute": m.attribute,
            "label": str(m.label),
            "proposal": str(m.by_proposal or "—"),
            "assignment": str(m.by_assignment or "—"),
        }
        for m in MEASURES
    ]


@dataclass
class Figures:
    """The figures of one group (or of everything, ``key is None``), at one level.

    ``feedback``/``satisfied`` are the final answers (each proposer's latest), as before the
    first round was counted apart; ``*_first`` count the first round's."""

    key: Any = None
    label: str = ""
    filed: int = 0
    assigned: int = 0
    replied: int = 0
    replied_on_time: int = 0
    met: int = 0
    feedback: int = 0
    satisfied: int = 0
    results: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESULT_CLASSES, 0))
    overdue: int = 0
    sent: int = 0
    published: int = 0
    co_assigned: int = 0
    co_done: int = 0
    merged: int = 0
    unassigned: int = 0
    feedback_first: int = 0
    satisfied_first: int = 0
    rehandled: int = 0
    co_on_time: int = 0
    co_missing: int = 0
    level: str = PROPOSAL

    @property
    def reply_rate(self) -> float | None:
        """办复率."""
        return _rate(self.replied, self.assigned)

    @property
    def on_time_rate(self) -> float | None:
        """按期办复率."""
        return _rate(self.replied_on_time, self.assigned)

    @property
    def meeting_rate(self) -> float | None:
        """见面率."""
        return _rate(self.met, self.assigned)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率（最终）: each proposer's latest answer."""
        return _rate(self.satisfied, self.feedback)

    @property
    def satisfaction_rate_final(self) -> float | None:
        return self.satisfaction_rate

    @property
    def satisfaction_rate_first(self) -> float | None:
        """满意率（首轮）: the answers to the first round's replies."""
        return _rate(self.satisfied_first, self.feedback_first)

    @property
    def co_on_time_rate(self) -> float | None:
        """会办意见按期率."""
        return _rate(self.co_on_time, self.co_assigned)

    @property
    def public_rate(self) -> float | None:
        """公开率."""
        return _rate(self.published, self.sent)

    @property
    def result_total(self) -> int:
        return sum(self.results.values())

    @property
    def result_shares(self) -> dict[str, float | None]:
        total = self.result_total
        return {k: _rate(v, total) for k, v in self.results.items()}

    def add(self, other: Figures) -> None:
        """Add ``other``'s counts to these (the sum of a table's rows)."""
        for name in COUNT_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for c in RESULT_CLASSES:
            self.results[c] += other.results[c]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update({name: getattr(self, name) for name in RATE_FIELDS})
        data["result_shares"] = self.result_shares
        return data


#: The counts of ``Figures`` (summed), and its rates (worked out from them).
COUNT_FIELDS: tuple[str, ...] = (
    "filed",
    "assigned",
    "replied",
    "replied_on_time",
    "met",
    "feedback",
    "satisfied",
    "overdue",
    "sent",
    "published",
    "co_assigned",
    "co_done",
    "merged",
    "unassigned",
    "feedback_first",
    "satisfied_first",
    "rehandled",
    "co_on_time",
    "co_missing",
)
RATE_FIELDS: tuple[str, ...] = (
    "reply_rate",
    "on_time_rate",
    "meeting_rate",
    "satisfaction_rate",
    "satisfaction_rate_first",
    "satisfaction_rate_final",
    "co_on_time_rate",
    "public_rate",
)
