"""Personal data in text about to be published: found, never masked without a decision.

``scan(text)`` returns the stretches that look like a private person's data: mobile numbers,
private landlines, 身份证号 (checked by its ISO 7064 check digit), e-mail addresses, bank card
numbers (Luhn), and 门牌 addresses down to a room (…弄…号…室, …号楼…室). It leaves alone what
only looks like them: 文号 (长发改〔2024〕19号), dates, amounts, postcodes, an office's phone on a
contact line (联系人, 联系电话, 办公电话, 传真, 热线), and a building's street address without
a room (长宁路599号 is an office, not a home). ``mask(text, spans)`` replaces the confirmed
stretches by ``*`` of the same length, so the rest of the text keeps its place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MOBILE, LANDLINE, ID_CARD, EMAIL, BANK_CARD, ADDRESS = (
    "mobile",
    "landline",
    "id_card",
    "email",
    "bank_card",
    "address",
)

#: A line of the office's own contact block: its phones and mailbox are not personal data.
CONTACT_LINE = re.compile(
    r"^\s*(联系人|联系电话|办公电话|联系邮箱|传真|联系地址|邮政编码|咨询电话|服务热线|热线)"
)
#: E-mail domains of organisations: an office's mailbox is not a person's.
OFFICE_MAIL = re.compile(r"@([\w-]+\.)*(gov\.cn|org\.cn|edu\.cn)$", re.IGNORECASE)

_DIGITS_BEFORE = r"(?<![\dA-Za-z.〔])"
_DIGITS_AFTER = r"(?![\d.])"
_MOBILE = re.compile(
    _DIGITS_BEFORE + r"(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}" + _DIGITS_AFTER
)
_LANDLINE = re.compile(
    _DIGITS_BEFORE + r"(?:0\d{2,3}[-－ ]?)?[2-9]\d{6,7}(?:[-－转]\d{1,5})?" + _DIGITS_AFTER
)
_ID_CARD = re.compile(
    _DIGITS_BEFORE + r"[1-9]\d{5}(?:19|20)\d{2}[01]\d[0-3]\d\d{3}[\dXx]" + r"(?![\d])"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_BANK_CARD = re.compile(_DIGITS_BEFORE + r"(?:\d[ -]?){15,18}\d" + _DIGITS_AFTER)
_ADDRESS = re.compile(
    r"[\u4e00-\u9fa5]{2,12}(?:路|街|道|弄|村|苑|小区|公寓|新村|花园)"
    r"(?:\d+弄)?\d+(?:号楼|号|幢|栋)(?:\d+单元)?\d{2,5}(?:室|号房)"
)
_ADDRESS_LANE = re.compile(r"[\u4e00-\u9fa5]{2,12}(?:路|街)\d+弄\d+号(?!楼)")
#: A money amount, a count or a measure right after digits: not a phone or a card.
_UNIT_AFTER = re.compile(
    r"^\s*(元|万元|亿元|万|亿|平方米|米|户|人|辆|个|件|台|吨|天|年|月|日|%|％)"
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    text: str


def id_card_valid(number: str) -> bool:
    """The 18th character of a 身份证号 is its ISO 7064 MOD 11-2 check digit."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in number if d.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _line_at(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start : end if end != -1 else len(text)]


def _followed_by_unit(text: str, end: int) -> bool:
    return bool(_UNIT_AFTER.match(text[end : end + 4]))


def _numbers(text: str) -> list[Finding]:
    """身份证号 and bank cards (by their check digits), mobiles and private landlines."""
    found = [
        Finding(ID_CARD, m.start(), m.end(), m.group(0))
        for m in _ID_CARD.finditer(text)
        if id_card_valid(m.group(0))
    ]
    for m in _BANK_CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if 16 <= len(digits) <= 19 and luhn_valid(digits) and not _followed_by_unit(text, m.end()):
            found.append(Finding(BANK_CARD, m.start(), m.end(), m.group(0)))
    for kind, pattern in ((MOBILE, _MOBILE), (LANDLINE, _LANDLINE)):
        for m in pattern.finditer(text):
            if CONTACT_LINE.search(_line_at(text, m.start())) or _followed_by_unit(text, m.end()):
                continue  # the office's contact block, or an amount
            found.append(Finding(kind, m.start(), m.end(), m.group(0)))
    return found


def _mail_and_homes(text: str) -> list[Finding]:
    found = []
    for m in _EMAIL.finditer(text):
        office = OFFICE_MAIL.search(m.group(0)) and CONTACT_LINE.search(_line_at(text, m.start()))
        if not office:
            found.append(Finding(EMAIL, m.start(), m.end(), m.group(0)))
    for pattern in (_ADDRESS, _ADDRESS_LANE):
        for m in pattern.finditer(text):
            if CONTACT_LINE.search(_line_at(text, m.start())):
                continue  # the office's own 联系地址
            # The road may stay; the numbers down to the room are the home.
            first = re.search(r"\d", m.group(0))
            start = m.start() + (first.start() if first else 0)
            found.append(Finding(ADDRESS, start, m.end(), text[start : m.end()]))
    return found


def _candidates(text: str) -> list[Finding]:
    return _numbers(text) + _mail_and_homes(text)


#: When two findings overlap, the more specific one stays.
_PRIORITY = {ID_CARD: 0, BANK_CARD: 1, EMAIL: 2, MOBILE: 3, ADDRESS: 4, LANDLINE: 5}


def scan(text: str) -> list[Finding]:
    """The personal data in ``text``, in order, without overlaps."""
    chosen: list[Finding] = []
    for finding in sorted(_candidates(text), key=lambda f: (_PRIORITY[f.kind], f.start)):
        if all(finding.end <= c.start or finding.start >= c.end for c in chosen):
            chosen.append(finding)
    return sorted(chosen, key=lambda f: f.start)


def mask(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each ``(start, end)`` stretch replaced by as many ``*``."""
    chars = list(text)
    for start, end in spans:
        for i in range(max(0, start), min(end, len(chars))):
            if not chars[i].isspace():
                chars[i] = "*"
    return "".join(chars)
