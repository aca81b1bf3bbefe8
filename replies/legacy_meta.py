"""What a published letter tells beyond its text: its kind, the proposal and its proposers, and
which of the parts a letter should have were not found (the reader's warnings).

Split from ``replies.legacy`` (issue 18), which still exports every name here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from replies.legacy_patterns import (
    _BODY_GROUP,
    _BODY_MEMBERS,
    _EARLIER_RESULT,
    _FULLWIDTH_LETTERS,
    _LEAD_UNIT,
    _MEMBER_SALUTATION,
    _PROPOSAL_NUMBER,
    _SEPARATE,
    _TITLE_END,
    KNOWN_RESULT_LABELS,
)
from replies.letter import Letter, LetterFormat, LetterKind


def _proposers(addressee: str, kind: LetterKind) -> tuple[list[str], bool]:
    if not addressee or kind == LetterKind.CO_OPINION:
        return [], False
    if _MEMBER_SALUTATION.search(addressee):
        core = addressee[:-2]
        more = core.endswith("等")
        names = [n for n in re.split(r"[、，,\s]+", core.rstrip("等")) if n]
        return names, more
    parts = [p for p in re.split(r"[、，,]", addressee) if p]
    if len(parts) > 1 and all(len(p) >= 3 for p in parts):
        return parts, False
    return [addressee], False


def _kind_from_title(title: str) -> LetterKind:
    end = _TITLE_END.search(title)
    if "再次答复" in title or "跟踪办理" in title or re.search(r"第[二三四五2-5]次答复", title):
        return LetterKind.FOLLOW_UP
    if end and end.group(1).startswith("会办"):
        return LetterKind.CO_OPINION
    if end and end.group(1) == "答复函":
        return LetterKind.REPLY_LETTER
    return LetterKind.REPLY


def _proposal_number(title: str) -> tuple[str, str]:
    """(``061``, ``第061号``) from the title; the one followed by 提案 wins."""
    numbers = list(_PROPOSAL_NUMBER.finditer(title))
    chosen = next((m for m in numbers if m.group(3)), numbers[0] if numbers else None)
    if not chosen:
        return "", ""
    number = re.sub(r"\s*[-－—–]\s*", "-", chosen.group(2)).translate(_FULLWIDTH_LETTERS)
    return number, f"{chosen.group(1)}{number}号"


def _missing(letter: Letter, *, session: str, number: str) -> list[str]:
    warnings = [
        f"未找到{name}"
        for found, name in (
            (letter.result_label, "办理结果"),
            (letter.disclosure, "公开属性"),
            (letter.organs, "发文机关标志"),
            (letter.doc_number, "文号"),
            (letter.signer, "签发人"),
            (letter.title, "标题"),
            (not letter.title or session, "届次"),
            (not letter.title or number, "提案号"),
            (letter.salutation, "称呼"),
            (letter.body, "正文"),
            (letter.signature_organ, "落款机关"),
            (letter.date, "成文日期"),
        )
        if not found
    ]
    if letter.result_label and letter.result_label not in KNOWN_RESULT_LABELS:
        warnings.append(f"办理结果“{letter.result_label}”不在常见类别中")
    contact = letter.contact
    if not contact:
        warnings.append("未找到联系人信息")
    else:
        lacking = [
            name
            for value, name in (
                (contact.person, "联系人"),
                (contact.phone, "联系电话"),
                (contact.address, "联系地址"),
                (contact.postcode, "邮政编码"),
            )
            if not value
        ]
        if lacking:
            warnings.append("联系人信息不全：缺少" + "、".join(lacking))
    if letter.format == LetterFormat.DOCUMENT:
        if not (letter.printed_by or letter.printed_on):
            warnings.append("未找到印发机关和印发日期")
        elif not letter.printed_by:
            warnings.append("未找到印发机关")
        elif not letter.printed_on:
            warnings.append("未找到印发日期")
    return warnings


# --- Beyond the salutation (issue 20): proposers in the body, the lead unit, the round ---------


def _body_proposers(body_text: str) -> tuple[list[str], bool]:
    """Proposers a body names (张三、李四委员提出的…, 民革区委提出的…): co-handling opinions and
    letters to a unit name them there, not in the salutation."""
    if m := _BODY_MEMBERS.search(body_text):
        names = [n for n in re.split(r"[、，,]", m.group(1)) if n]
        names = [re.sub(r"^(?:你单位主办的|主办的|由|对|关于)", "", n) for n in names]
        names = [n.removeprefix("的") for n in names if n]
        if names and all(2 <= len(n) <= 4 for n in names):
            return names, bool(m.group(2))
    if m := _BODY_GROUP.search(body_text):
        return [re.sub(r"^(?:你单位主办的|主办的|由|对|关于|的)+", "", m.group(1))], False
    return [], False


def _lead_unit(kind: LetterKind, addressee: str, body_text: str) -> str:
    """The unit that leads the handling: a co-handling opinion's addressee, or the unit a body
    names as 主办."""
    if kind == LetterKind.CO_OPINION and addressee and not _MEMBER_SALUTATION.search(addressee):
        return addressee
    m = _LEAD_UNIT.search(body_text)
    return m.group(1) if m else ""


def _handling(kind: LetterKind, title: str, body_text: str) -> str:
    """主办, 会办 or 分办, as the letter shows it."""
    if kind == LetterKind.CO_OPINION:
        return "会办"
    if _SEPARATE.search(title) or _SEPARATE.search(body_text[:300]):
        return "分办"
    return "主办"


def _round(kind: LetterKind, title: str) -> int:
    """1 for a first reply; 2 (or the number printed: 第三次答复) for a follow-up."""
    if m := re.search(r"第([二三四五2-5])次答复", title):
        return "一二三四五".index(m.group(1)) + 1 if not m.group(1).isdigit() else int(m.group(1))
    return 2 if kind == LetterKind.FOLLOW_UP else 1


def _earlier_result(kind: LetterKind, body_text: str) -> str:
    """A follow-up's earlier result (原答复办理结果为“列入计划拟解决”)."""
    if kind != LetterKind.FOLLOW_UP:
        return ""
    for m in _EARLIER_RESULT.finditer(body_text):
        if m.group(1) in KNOWN_RESULT_LABELS:
            return m.group(1)
    return ""


def _organs_from_elsewhere(
    *,
    signature: list[str],
    publisher: str,
    doc_number: str,
    units: Mapping[str, str] | None,
) -> tuple[tuple[str, ...], str]:
    """The organ(s) for the header when the text prints none, and a warning saying whence."""
    if signature:
        names = "、".join(signature)
        return tuple(signature), f"原文没有发文机关标志，已按落款补上：{names}"
    if publisher:
        return (publisher,), f"原文没有发文机关标志，已按公开主体补上：{publisher}"
    m = re.match(r"^(.+?)〔", doc_number)
    if m and units and (organ := units.get(m.group(1))):
        return (organ,), f"原文没有发文机关标志，已按文号前缀“{m.group(1)}”补上：{organ}"
    return (), ""
