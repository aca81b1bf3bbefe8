"""The 办理结果 of a reply: the four classes the statistics count and the labels that name them.

Districts print their own words for a result (``解决或采纳``, ``采纳解决``, ``已解决或基本解决``…);
the figures count four classes. This module holds the known labels with their class, the list
each district's reply form offers (overridable by the setting ``RESULT_LABELS_BY_DISTRICT``)
and the look-ups the form, the import and the figures share. Split from ``replies.models``
(issue 18), which still exports every name here.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _

# --- Result categories (docs/domain.md, 办理结果) ---------------------------------------------


class ResultClass(models.TextChoices):
    A = "A", _("A 解决或采纳")
    B = "B", _("B 列入计划拟解决")
    C = "C", _("C 因条件限制暂不能解决")
    D = "D", _("D 留作参考")


#: The labels districts print, mapped to the class the statistics count.
RESULT_LABELS: dict[str, str] = {
    "解决采纳": "A",
    "解决或采纳": "A",
    "采纳解决": "A",
    "采纳": "A",
    "采纳或解决": "A",
    "已解决或基本解决": "A",
    "列入计划拟解决": "B",
    "计划解决": "B",
    "正在解决或已列入计划": "B",
    "部分采纳": "B",
    "因条件限制暂不能解决": "C",
    "留作参考": "D",
}


#: The 办理结果 list each district's reply form offers, each label with its class: one word
#: per class where the district has one, not the twelve near-synonyms. A session's district
#: picks its list (``result_labels_for``); ``""`` is the list of a district not named here.
#: The setting ``RESULT_LABELS_BY_DISTRICT`` (env, JSON ``{"区": {"label": "A", …}}``)
#: replaces a district's list. Labels outside a list stay valid where they are today (legacy
#: imports, signed letters); only the reply form refuses them.
DEFAULT_RESULT_LABELS_BY_DISTRICT: dict[str, dict[str, str]] = {
    "": {"解决或采纳": "A", "列入计划拟解决": "B", "因条件限制暂不能解决": "C", "留作参考": "D"},
    "长宁": {
        "解决或采纳": "A",
        "采纳": "A",
        "列入计划拟解决": "B",
        "因条件限制暂不能解决": "C",
        "留作参考": "D",
    },
    "普陀": {
        "采纳解决": "A",
        "采纳": "A",
        "列入计划拟解决": "B",
        "因条件限制暂不能解决": "C",
        "留作参考": "D",
    },
    "宝山": {"解决采纳": "A", "列入计划拟解决": "B", "因条件限制暂不能解决": "C", "留作参考": "D"},
    "杨浦": {
        "已解决或基本解决": "A",
        "正在解决或已列入计划": "B",
        "因条件限制暂不能解决": "C",
        "留作参考": "D",
    },
    "嘉定": {
        "解决或采纳": "A",
        "部分采纳": "B",
        "计划解决": "B",
        "因条件限制暂不能解决": "C",
        "留作参考": "D",
    },
}


def _district_key(district: str) -> str:
    """``长宁区`` and ``长宁`` are one district."""
    district = (district or "").strip()
    return district.removesuffix("区") if len(district) > 2 else district


def result_labels_by_district() -> dict[str, dict[str, str]]:
    """The defaults with the setting's districts over them, checked: every class is A–D, and
    a label the system knows keeps its class (the figures of past years count it so)."""
    configured = getattr(settings, "RESULT_LABELS_BY_DISTRICT", None) or {}
    merged = dict(DEFAULT_RESULT_LABELS_BY_DISTRICT)
    for district, labels in configured.items():
        if not isinstance(labels, dict) or not labels:
            raise ImproperlyConfigured(
                f"RESULT_LABELS_BY_DISTRICT[{district!r}] must map labels to A/B/C/D."
            )
        for label, cls in labels.items():
            if cls not in ResultClass.values or RESULT_LABELS.get(label, cls) != cls:
                raise ImproperlyConfigured(
                    f"RESULT_LABELS_BY_DISTRICT[{district!r}][{label!r}] = {cls!r}: "
                    f"the class must be A, B, C or D, and {RESULT_LABELS.get(label)!r} "
                    "for a label the system already counts."
                )
        merged[_district_key(district)] = {k.strip(): v for k, v in labels.items()}
    return merged


def result_labels_for(district: str) -> dict[str, str]:
    """The 办理结果 labels (label → class) the reply form offers in ``district``."""
    by_district = result_labels_by_district()
    return by_district.get(_district_key(district)) or by_district[""]


def result_class_for(label: str) -> str:
    """The class of any label the system accepts: the known twelve and the districts' own."""
    label = label.strip()
    if label in RESULT_LABELS:
        return RESULT_LABELS[label]
    for labels in result_labels_by_district().values():
        if label in labels:
            return labels[label]
    return ""
