"""The lines of a published letter, cleaned and classified, and the small readers of their values.

``_prepare`` turns copied text into ``_Line`` values: full-width punctuation restored, the
spaces a web page puts between Chinese characters removed, field lines (办理结果：…, 联系人：…)
recognised. The small readers turn a value into what the ``Letter`` holds (a date, a 文号, a
signer's name) and tell a line's shape (an organ's name, a heading, a sentence's end). Split
from ``replies.legacy`` (issue 18), which still exports every name here.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from replies.legacy_patterns import (
    _ASCII_PARENS,
    _CJK_GAP,
    _CLOSERS,
    _CN_DATE,
    _CN_DIGITS,
    _DATE,
    _DOC_NUMBER,
    _FIELD_NAMES,
    _FULLWIDTH_DIGITS,
    _HALF_STOP,
    _HAS_IDEO,
    _LABEL,
    _LABEL_PREFIXES,
    _MARKDOWN_RULE,
    _ORGAN_SUFFIX,
    _PUNCTUATION,
    _SENTENCE_END,
)
from replies.letter import heading_level, normalize_line

# --- Lines ------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Line:
    """One line of the source. Compared by identity: two lines with the same text (a body line
    equal to the signing organ, a letter pasted twice) are different lines."""

    base: str  # normalised, spaces kept (for fields: 游  雁, 主动公开 · 全文)
    text: str  # normalised, spaces between Chinese characters removed
    fields: dict[str, str] | None = None  # set when the line is a field line
    used: bool = False
    number: int = 0  # the line's number in the source (1-based), for warnings
    #: What the line was read as (title, body, organ, meta …); "" while unread.
    role: str = ""

    def take(self, role: str) -> None:
        self.used = True
        self.role = self.role or role


def _fix_parens(line: str) -> str:
    """``(1)`` and ``(此件公开发布)`` in a Chinese line become full-width pairs."""
    if not _HAS_IDEO.search(line):
        return line

    def repl(m: re.Match[str]) -> str:
        inner = m.group(1)
        before = line[m.start() - 1 : m.start()]
        after = line[m.end() : m.end() + 1]
        if (
            _HAS_IDEO.search(inner)
            or inner.strip().isdigit()
            or _HAS_IDEO.search(before)
            or _HAS_IDEO.search(after)
        ):
            return f"（{inner}）"
        return m.group(0)

    return _ASCII_PARENS.sub(repl, line)


def _fix_quotes_and_stops(line: str) -> str:
    """Straight quotes in a Chinese line become “ ”; a full stop ``.`` after Chinese becomes 。."""
    if not _HAS_IDEO.search(line):
        return line
    line = _HALF_STOP.sub("。", line)
    if line.count('"') % 2 == 0:
        quotes = iter("“”" * (line.count('"') // 2))
        line = re.sub('"', lambda _: next(quotes), line)
    return line


def _prepare(text: str) -> list[_Line]:
    text = text.replace("\ufeff", "").translate(_FULLWIDTH_DIGITS)
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        raw = raw.replace("\t", " ").replace("\xa0", " ").replace("\u3000", " ")
        if _MARKDOWN_RULE.match(raw):
            continue
        base = _fix_quotes_and_stops(normalize_line(_fix_parens(raw)))
        if not base:
            continue
        line = _Line(base=base, text=_CJK_GAP.sub("", base), number=number)
        line.fields = _field_line(base)
        lines.append(line)
    return lines


def _split_fields(base: str) -> tuple[str, dict[str, str]]:
    """The text before the first label, and the labelled values of a line."""
    matches = list(_LABEL.finditer(base))
    if not matches:
        return base, {}
    fields: dict[str, str] = {}
    for m, nxt in zip(matches, [*matches[1:], None], strict=True):
        value = base[m.end() : nxt.start() if nxt else len(base)].strip()
        fields.setdefault(_FIELD_NAMES[m.group(1)], value)
    return base[: matches[0].start()].strip(), fields


def _field_line(base: str) -> dict[str, str] | None:
    prefix, fields = _split_fields(base)
    if not fields:
        return None
    if prefix in _LABEL_PREFIXES:
        return fields
    # 普发改委〔2023〕14号    签发人：张三 — the number and the signer share a line.
    if _DOC_NUMBER.fullmatch(_CJK_GAP.sub("", prefix).replace(" ", "")):
        return fields
    return None


# --- Small readers ----------------------------------------------------------------------------


def _cn_number(text: str) -> int | None:
    """一 … 三十一."""
    if not text or any(c not in "一二三四五六七八九十" for c in text):
        return None
    if "十" not in text:
        return _CN_DIGITS[text] if len(text) == 1 else None
    tens, _, units = text.partition("十")
    if "十" in units or len(tens) > 1 or len(units) > 1:
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def _parse_date(text: str, warnings: list[str]) -> datetime.date | None:
    text = re.sub(r"\s+", "", text)
    if m := _DATE.search(text):
        year, month, day = (int(g) for g in m.groups())
    elif m := _CN_DATE.search(text):
        year = int("".join(str(_CN_DIGITS[c]) for c in m.group(1)))
        cn_month, cn_day = _cn_number(m.group(2)), _cn_number(m.group(3))
        if cn_month is None or cn_day is None:
            warnings.append(f"日期无效：{m.group(0)}")
            return None
        month, day = cn_month, cn_day
    else:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        warnings.append(f"日期无效：{m.group(0)}")
        return None


def _normalize_doc_number(text: str) -> str:
    m = _DOC_NUMBER.search(text.replace(" ", ""))
    return f"{m.group(1)}〔{m.group(2)}〕{int(m.group(3))}号" if m else ""


def _normalize_disclosure(value: str) -> str:
    value = re.sub(r"\s*[·・•‧∙⋅．]\s*", " · ", value.strip())
    return re.sub(r"\s{2,}", " ", value)


def _normalize_signer(value: str) -> str:
    """``游  雁`` → ``游雁``: two-character names are padded to three with spaces."""
    tokens = value.split()
    if len("".join(tokens)) <= 3 or all(len(t) == 1 for t in tokens):
        return "".join(tokens)
    return "、".join(tokens)


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _SENTENCE_END


def _is_short_heading(text: str) -> bool:
    return heading_level(text) > 0 and len(text) <= 40 and not re.search(r"[。；！？]", text)


def _looks_like_organ(text: str, *, need_suffix: bool, max_length: int = 40) -> bool:
    if not 2 <= len(text) <= max_length or _PUNCTUATION.search(text) or heading_level(text):
        return False
    if re.search(r"\d", text) or _DATE.search(text):
        return False
    return bool(_ORGAN_SUFFIX.search(text)) or not need_suffix
