"""What a published letter tells beyond its text: its kind, the proposal and its proposers, and
which of the parts a letter should have were not found (the reader's warnings).

Split from ``replies.legacy`` (issue 18), which still exports every name here.
"""

from __future__ import annotations

import re

from replies.legacy_patterns import (
    _FULLWIDTH_LETTERS,
    _MEMBER_SALUTATION,
    _PROPOSAL_NUMBER,
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
    if "再次答复" in title or "跟踪办理" in title:
        return LetterKind.FOLLOW_UP
    if end and end.group(1) == "会办意见":
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
