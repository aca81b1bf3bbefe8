"""The reader's promise (issue 20): it never loses text.

Every line of the source ends up in a field of the ``Letter`` (or of the ``ReadResult``), or is
named — with its text — in a warning saying it was dropped. ``_account`` checks it at the end of
every read: a line nobody took, or a line taken for a field whose text is not in that field (a
reader that took the wrong line of two equal ones), is reported, never silently lost.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable

from replies.legacy_lines import _Line, _normalize_doc_number, _parse_date, _split_fields
from replies.legacy_patterns import _FIELD_NAMES, _LABEL, _LABEL_PREFIXES

#: Roles whose line text must be found, as printed, in the letter's fields.
_TEXT_ROLES = frozenset({"title", "salutation", "body", "organ", "signature", "note"})


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _account(lines: list[_Line], outputs: Iterable[str], warnings: list[str]) -> None:
    """Add one warning naming every line whose text is in no field (see the module's doc)."""
    hay = "\n".join(_squeeze(text) for text in outputs if text)
    lost: list[_Line] = []
    for line in sorted(lines, key=lambda ln: -len(ln.text)):
        if not line.used:
            lost.append(line)
            continue
        if line.role not in _TEXT_ROLES:
            continue
        key = _squeeze(line.text)
        if line.role == "salutation":
            key = key[:-1]
        elif line.role == "organ":
            key = key.removesuffix("文件")
        elif line.role == "note":
            key = key.strip("（）()")
        at = hay.find(key)
        if at < 0:
            lost.append(line)
            continue
        hay = hay[:at] + "\0" * len(key) + hay[at + len(key) :]
    if lost:
        lost.sort(key=lambda ln: ln.number)
        warnings.append(
            f"有{len(lost)}行未能读入任何一项，已略去："
            + "".join(f"第{ln.number}行“{ln.text}”" for ln in lost)
        )


def _read_fields(lines: list[_Line], warnings: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """The labelled fields (办理结果：…, 联系人：…) and each field's label as printed.

    A field printed twice keeps its first value; the later line is named in a warning.
    """
    values: dict[str, str] = {}
    labels: dict[str, str] = {}
    for line in lines:
        if line.fields is None or line.used:
            continue
        line.take("field")
        prefix = line.base[: m.start()] if (m := _LABEL.search(line.base)) else ""
        printed = [m.group(1) for m in _LABEL.finditer(line.base)]
        for label in printed:
            key = _FIELD_NAMES[label]
            shown = (prefix.strip() + label) if prefix.strip() in _LABEL_PREFIXES else label
            labels.setdefault(key, shown)
        for key, value in line.fields.items():
            if not value:
                continue
            if key not in values:
                values[key] = value
                continue
            again = "与前面不同" if _squeeze(values[key]) != _squeeze(value) else "重复出现"
            warnings.append(
                f"第{line.number}行的“{labels.get(key, key)}”{again}，已略去：“{line.text}”"
            )
            break
    return values, labels


def _meta_date(value: str) -> datetime.date | None:
    """2023-05-08, 2023/5/8, 2023.05.08 or 2023年5月8日."""
    value = value.strip()
    if m := re.fullmatch(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})", value):
        try:
            return datetime.date(*(int(g) for g in m.groups()))
        except ValueError:
            return None
    return _parse_date(value, [])


def _field_doc_numbers(lines: list[_Line]) -> list[tuple[str, _Line]]:
    """文号 printed before a field on its line (普发改委〔2023〕14号    签发人：张三), anywhere."""
    found = []
    for line in lines:
        if line.role == "field" and (number := _normalize_doc_number(_split_fields(line.base)[0])):
            found.append((number, line))
    return found
