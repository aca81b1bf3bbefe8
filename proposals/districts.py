"""Which district a unit or a session belongs to, and whether two belong to the same one.

A session's district is typed as the committee says it ("长宁", sometimes "长宁区"); a unit's
is usually printed in its letterhead ("上海市长宁区发展和改革委员会"). Both are compared by
``district_key``, so "长宁" and "长宁区" are the same district; an empty district is unknown and
never differs from anything (a deployment that serves one district need not type it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: Shanghai's districts, as the tracker's sessions name them (docs/domain.md).
SHANGHAI_DISTRICTS: tuple[str, ...] = (
    "黄浦",
    "徐汇",
    "长宁",
    "静安",
    "普陀",
    "虹口",
    "杨浦",
    "闵行",
    "宝山",
    "嘉定",
    "浦东",
    "金山",
    "松江",
    "青浦",
    "奉贤",
    "崇明",
)


def district_key(district: str) -> str:
    """The comparable form of a district name: without "上海市" and the "区"/"新区" suffix."""
    key = (district or "").strip().removeprefix("上海市")
    for suffix in ("新区", "区", "县"):
        if key.endswith(suffix) and len(key) > len(suffix):
            return key.removesuffix(suffix)
    return key


def district_named_in(*names: str) -> str:
    """The Shanghai district a unit's organ name or name states ("上海市普陀区…" → "普陀"), or
    "" when none does (a municipal body, a test unit)."""
    for name in names:
        text = (name or "").removeprefix("上海市")
        for district in SHANGHAI_DISTRICTS:
            if text.startswith((f"{district}区", f"{district}新区")):
                return district
    return ""


def differs(unit_district: str, session_district: str) -> bool:
    """Whether a unit of ``unit_district`` is outside ``session_district`` (both known)."""
    a, b = district_key(unit_district), district_key(session_district)
    return bool(a and b) and a != b


def unit_sort_key(unit: Any, home: Sequence[str] = ()) -> tuple:
    """Where a unit goes in a list: the home districts' units first (in ``home``'s order),
    then each other district's, then those of no known district; by short name (or name)
    within — code-point order, the same whatever the database's collation."""
    key = district_key(unit.district)
    homes = [district_key(d) for d in home]
    if key and key in homes:
        rank = (0, homes.index(key), "")
    elif key:
        rank = (1, 0, key)
    else:
        rank = (2, 0, "")
    return (*rank, unit.short_name or unit.name, unit.name)
