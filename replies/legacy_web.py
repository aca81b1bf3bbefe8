"""What a district's 政务公开 page puts around a letter copied from it: navigation, buttons and
the page's metadata block (索引号, 主题分类, 公开主体, 成文日期, 发文字号 …), and a letter pasted
twice.

Read before the letter itself (``replies.legacy``), so that the title, the salutation and the
body are looked for in what is left. Navigation is never part of a letter: it is listed in a
warning, line by line. Metadata is kept, with its labels as printed, and the fields the letter
also prints (文号, 成文日期, 公开属性, the organ) fill what the letter's own text lacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from replies.legacy_lines import _Line, _normalize_doc_number
from replies.legacy_patterns import (
    _BREADCRUMB,
    _BUTTONS,
    _COUNTER,
    _DOC_NUMBER,
    _DOC_SERIAL_PART,
    _DOC_YEAR_PART,
    _FIELD_NAMES,
    _META_LABEL,
    _META_LABEL_ONLY,
    _META_NAMES,
    _PREV_NEXT,
)

#: Labels a letter prints itself as well: a line with only these is metadata only next to
#: other metadata.
_SHARED_LABELS = frozenset(_FIELD_NAMES) | {"文号", "标题", "名称", "来源"}


@dataclass
class _Meta:
    """The page's metadata: (label as printed, value) pairs, and the values by meaning."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)

    def add(self, label: str, value: str) -> None:
        value = value.strip()
        self.pairs.append((label, value))
        key = _META_NAMES[label]
        if value and key not in self.values:
            self.values[key] = value


def _is_navigation(line: _Line) -> bool:
    text = line.base.strip()
    return bool(
        _BREADCRUMB.search(text)
        or _PREV_NEXT.match(text)
        or _COUNTER.match(line.text)
        or (len(text) <= 60 and _BUTTONS.match(text))
    )


def _read_navigation(lines: list[_Line], warnings: list[str]) -> None:
    """Breadcrumbs, buttons, counters: taken out, and named in one warning."""
    navigation = [line for line in lines if not line.used and _is_navigation(line)]
    for line in navigation:
        line.take("navigation")
    if navigation:
        warnings.append(
            f"已略去网页的导航和按钮（{len(navigation)}行）："
            + "".join(f"“{line.text}”" for line in navigation)
        )


def _meta_labels(base: str) -> list[str]:
    """The metadata labels of a line that starts with one (``[]`` otherwise)."""
    first = _META_LABEL.match(base)
    if not first:
        return []
    return [m.group(1) for m in _META_LABEL.finditer(base)]


def _split_meta(base: str) -> list[tuple[str, str]]:
    matches = list(_META_LABEL.finditer(base))
    return [
        (m.group(1), base[m.end() : nxt.start() if nxt else len(base)])
        for m, nxt in zip(matches, [*matches[1:], None], strict=True)
    ]


def _is_value_line(line: _Line) -> bool:
    return (
        not line.used
        and len(line.text) <= 60
        and "。" not in line.text
        and not _META_LABEL.match(line.base)
        and not _META_LABEL_ONLY.match(line.text)
    )


def _read_metadata(lines: list[_Line]) -> _Meta:
    """The metadata block(s) of a 政务公开 page, wherever they stand."""
    meta = _Meta()
    candidates = _meta_line_positions(lines)
    pos = 0
    while pos < len(lines):
        line = lines[pos]
        pos += 1
        if pos - 1 not in candidates:
            continue
        line.take("meta")
        if only := _META_LABEL_ONLY.match(line.text):
            # A table copied as text: the label on one line, its value on the next.
            value = ""
            if pos < len(lines) and _is_value_line(lines[pos]):
                value = lines[pos].base
                lines[pos].take("meta")
                pos += 1
            pairs = [(only.group(1), value)]
        else:
            pairs = _split_meta(line.base)
        for label, value in pairs:
            if _META_NAMES[label] == "doc_number":
                value, pos = _join_doc_number(value, lines, pos)
            meta.add(label, value)
    return meta


def _meta_line_positions(lines: list[_Line]) -> set[int]:
    """Positions of metadata lines: those with a label only pages print, and the shared-label
    lines (公开属性, 文号 …) next to them."""
    certain, shared = set(), set()
    for pos, line in enumerate(lines):
        if line.used:
            continue
        if only := _META_LABEL_ONLY.match(line.text):
            labels = [only.group(1)]
        else:
            labels = _meta_labels(line.base)
        if not labels:
            continue
        if any(label not in _SHARED_LABELS for label in labels):
            certain.add(pos)
        else:
            shared.add(pos)
    found = set(certain)
    changed = bool(found)
    while changed:
        changed = False
        for pos in sorted(shared - found):
            near = [p for p in found if abs(p - pos) <= 3]
            if near:
                found.add(pos)
                changed = True
    return found


def _join_doc_number(value: str, lines: list[_Line], pos: int) -> tuple[str, int]:
    """发文字号 split over lines (普发改委 / 〔2023〕 / 14号): joined again."""
    joined = value.replace(" ", "")
    while (
        not _DOC_NUMBER.search(joined)
        and pos < len(lines)
        and not lines[pos].used
        and (
            _DOC_YEAR_PART.match(lines[pos].text.replace(" ", ""))
            or _DOC_SERIAL_PART.match(lines[pos].text.replace(" ", ""))
            or (not joined and _is_value_line(lines[pos]) and len(lines[pos].text) <= 15)
        )
    ):
        joined += lines[pos].text.replace(" ", "")
        lines[pos].take("meta")
        pos += 1
    return (_normalize_doc_number(joined) or joined), pos


def _drop_repeated_copy(lines: list[_Line], warnings: list[str]) -> None:
    """A letter pasted twice (whole, or its start again at the end): the repeat is dropped and
    listed in a warning, line by line."""
    rest = [line for line in lines if not line.used]
    texts = [line.text for line in rest]
    n = len(texts)
    if n < 6 or n > 4000:
        return
    for start in range((n + 1) // 2, n - 2):
        length = n - start
        if texts[start:] == texts[:length]:
            repeat = rest[start:]
            for line in repeat:
                line.take("dropped")
            warnings.append(
                f"原文重复粘贴了一遍，已略去重复的{length}行（第{repeat[0].number}行起）："
                + "".join(f"“{line.text}”" for line in repeat)
            )
            return
