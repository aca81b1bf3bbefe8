"""The head of a published letter: its title, the salutation, the organ header and the 文号.

Read from the top, over the lines ``replies.legacy_lines`` prepared; each reader marks the lines
it takes as used, so the body and the tail (``replies.legacy_tail``) are what is left. Split
from ``replies.legacy`` (issue 18), which still exports every name here.
"""

from __future__ import annotations

import re

from replies.legacy_lines import (
    _Line,
    _looks_like_organ,
    _normalize_doc_number,
    _split_fields,
)
from replies.legacy_patterns import (
    _CJK_GAP,
    _DOC_NUMBER,
    _NOT_SALUTATION,
    _SALUTATION,
    _TITLE_END,
    _TITLE_FRAGMENT,
)


def _find_title(lines: list[_Line]) -> tuple[int, int] | None:
    """(first, last) positions in ``lines`` of the title: it names a 提案 and ends as a reply."""
    zone = []
    for line in lines[:20]:
        if "。" in line.text and len(line.text) > 30:
            break
        zone.append(line)
    for start in range(len(zone)):
        for span in (1, 2, 3):
            part = zone[start : start + span]
            if len(part) < span:
                break
            if any(
                p.fields is not None
                or "。" in p.text
                or len(p.text) > 60
                or p.text.endswith("文件")
                for p in part
            ):
                break
            if span > 1 and not _TITLE_FRAGMENT.search(part[0].text):
                break
            joined = "".join(p.text for p in part)
            if "提案" in joined and _TITLE_END.search(joined) and not joined.endswith("："):
                return start, start + span - 1
    return None


def _is_salutation(text: str) -> bool:
    return bool(_SALUTATION.match(text)) and not _NOT_SALUTATION.search(text)


def _read_title(lines: list[_Line]) -> tuple[str, int | None, int]:
    """The title, where it breaks, and the position after it (0 without a title)."""
    found = _find_title(lines)
    if not found:
        return "", None, 0
    first, last = found
    parts = [line.text for line in lines[first : last + 1]]
    for line in lines[first : last + 1]:
        line.take("title")
    title = "".join(parts)
    if len(parts) == 1:
        return title, None, last + 1
    # Of several lines, keep the break nearest the middle (the renderer takes one).
    cut = min(range(1, len(parts)), key=lambda k: abs(2 * len("".join(parts[:k])) - len(title)))
    return title, len("".join(parts[:cut])), last + 1


def _read_salutation(lines: list[_Line], start: int) -> tuple[str, int]:
    """The salutation (the first line after the title that ends with a colon) and where the
    body starts."""
    for pos in range(start, len(lines)):
        line = lines[pos]
        if line.used or _is_header_line(line):
            continue
        if _is_salutation(line.text):
            line.take("salutation")
            return line.text[:-1] + "：", pos + 1
        return "", pos
    return "", len(lines)


def _read_header(lines: list[_Line]) -> tuple[list[str], bool, str]:
    """Organ header (names, and whether it says 文件) and 文号 from the lines above the body."""
    organs: list[str] = []
    has_file_word = False
    doc_number = ""
    for line in lines:
        if line.fields is not None:
            doc_number = doc_number or _normalize_doc_number(_split_fields(line.base)[0])
            continue
        if line.used:
            continue
        compact = line.text.replace(" ", "")
        if not doc_number and (number := _normalize_doc_number(compact)):
            doc_number = number
            line.take("doc_number")
            continue
        names = [_CJK_GAP.sub("", part).replace(" ", "") for part in re.split(r"\s{2,}", line.base)]
        if compact == "文件":
            has_file_word = True
            line.take("file_word")
            continue
        if compact.endswith("文件"):
            names[-1] = names[-1].removesuffix("文件")
            names = [n for n in names if n]
            if names and all(_looks_like_organ(n, need_suffix=False) for n in names):
                has_file_word = True
                line.take("organ")
                organs.extend(names)
        elif all(_looks_like_organ(n, need_suffix=True) for n in names):
            line.take("organ")
            organs.extend(names)
    return organs, has_file_word, doc_number


def _is_header_line(line: _Line) -> bool:
    compact = line.text.replace(" ", "")
    return bool(
        _DOC_NUMBER.fullmatch(compact)
        or compact == "文件"
        or (compact.endswith("文件") and _looks_like_organ(compact[:-2], need_suffix=False))
        or _looks_like_organ(compact, need_suffix=True)
    )
