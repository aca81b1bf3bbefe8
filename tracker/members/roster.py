"""A session's list of 委员 from the committee's Excel (姓名, 界别, 手机, 电子邮箱), all or
nothing: every row is checked first and nothing is written while any row is wrong.

Each row finds its proposer — the member of that name with the same mobile or e-mail, else the
only member of that name — or becomes a new one; contact fields the record lacks are filled in
from the list, never overwritten (the committee corrects a record in the admin, on purpose).
Each member is put on the session's roll (``SessionRoll``), which also tells /my/ which
district's sessions they submit to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from proposals.models import Proposer, Session, User
from proposals.workflow.members import enrol_member
from tracker.excel.archive import HEADER_SCAN_ROWS
from tracker.excel.reading import UnreadableWorkbook, first_sheet_rows
from tracker.models import SessionRoll

COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "委员姓名", "名字"),
    "sector": ("界别", "所属界别"),
    "mobile": ("手机", "手机号", "手机号码", "移动电话"),
    "email": ("电子邮箱", "邮箱", "电子邮件", "email", "e-mail"),
}
_BY_HEADER = {h.lower(): key for key, hs in COLUMNS.items() for h in hs}
_SPACES = re.compile(r"[\s\u3000]+")
_MOBILE = re.compile(r"^1\d{10}$")
#: The most members one list may hold (a district's CPPCC has 200–400).
MAX_MEMBERS = 2000


@dataclass
class RosterResult:
    proposers: list[Proposer] = field(default_factory=list)
    created: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SPACES.sub("", str(value)).strip()


def read_roster(upload: IO[bytes]) -> tuple[list[dict[str, str]], list[str]]:
    """The rows of the first sheet (keys: name, sector, mobile, email), or the errors."""
    try:
        with first_sheet_rows(upload) as (_sheet, rows):
            return _read_rows(rows)
    except UnreadableWorkbook as exc:
        return [], [exc.message]


def _read_rows(rows: Any) -> tuple[list[dict[str, str]], list[str]]:
    """The header (in the first rows), then every non-empty row under it."""
    mapping: dict[int, str] = {}
    for line, values in enumerate(rows, start=1):
        mapping = {
            i: _BY_HEADER[_text(v).lower()]
            for i, v in enumerate(values)
            if _text(v).lower() in _BY_HEADER
        }
        if "name" in mapping.values() or line >= HEADER_SCAN_ROWS:
            break
    if "name" not in mapping.values():
        return [], [_("找不到表头：表格前几行中应有“姓名”“界别”“手机”“电子邮箱”等列名。")]
    found = []
    for values in rows:
        row = {key: "" for key in COLUMNS}
        for i, key in mapping.items():
            if i < len(values):
                row[key] = _text(values[i])
        if any(row.values()):
            found.append(row)
        if len(found) > MAX_MEMBERS:
            return [], [_("一次最多导入 %(n)d 名委员。") % {"n": MAX_MEMBERS}]
    return found, []


def _check(rows: list[dict[str, str]]) -> list[str]:
    errors, seen = [], set()
    for n, row in enumerate(rows, start=2):
        if not row["name"]:
            errors.append(_("第%(n)d行：请填写姓名。") % {"n": n})
        if row["mobile"] and not _MOBILE.match(row["mobile"]):
            errors.append(_("第%(n)d行：手机号码应为11位数字。") % {"n": n})
        if row["email"]:
            try:
                validate_email(row["email"])
            except ValidationError:
                errors.append(_("第%(n)d行：电子邮箱格式不正确。") % {"n": n})
        key = (row["name"], row["mobile"] or row["email"])
        if key in seen:
            errors.append(_("第%(n)d行：与前面的行重复。") % {"n": n})
        seen.add(key)
    return errors


def _match(row: dict[str, str]) -> Proposer | None:
    members = Proposer.objects.filter(kind=Proposer.Kind.MEMBER, name=row["name"])
    contact = Q(pk__in=[])
    if row["mobile"]:
        contact |= Q(mobile=row["mobile"])
    if row["email"]:
        contact |= Q(email__iexact=row["email"])
    found = members.filter(contact).order_by("pk").first()
    if found is None and members.count() == 1:
        found = members.first()
    return found


def import_roster(
    rows: list[dict[str, str]], *, session: Session, actor: User | None = None
) -> RosterResult:
    """Create or complete the members of ``rows`` and put them on ``session``'s roll."""
    result = RosterResult(errors=_check(rows))
    if result.errors:
        return result
    with transaction.atomic():
        for row in rows:
            p, created = enrol_member(
                name=row["name"],
                sector=row["sector"],
                mobile=row["mobile"],
                email=row["email"],
                found=_match(row),
                actor=actor,
            )
            result.created += created
            SessionRoll.objects.get_or_create(session=session, proposer=p)
            result.proposers.append(p)
    return result
