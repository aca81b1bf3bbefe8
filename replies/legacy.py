"""Reading published reply letters back into ``Letter`` values.

The districts publish their replies as text (a web page, or a PDF's text layer). To load the
past years, to check our own PDFs against their text and to compare layouts, we read that text
back into the same ``Letter`` the renderer prints. The reader is forgiving: it accepts fields in
any order, half-width punctuation, Markdown from web copies and paragraphs split by page breaks;
whatever it cannot find becomes a warning in Chinese, never a guess and never an exception.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from replies.letter import (
    Block,
    Contact,
    Letter,
    LetterFormat,
    LetterKind,
    heading_level,
    normalize_line,
)

__all__ = ["ReadResult", "read_letter", "read_published", "text_from_pdf"]


@dataclass
class ReadResult:
    """A letter read from published text, with what the letter itself does not hold."""

    letter: Letter
    warnings: list[str] = field(default_factory=list)
    #: False for a document that is no proposal reply at all (a notice, a report…).
    is_reply: bool = True
    session_name: str = ""  # 十五届二次会议
    proposal_number: str = ""  # 061, 152045, 9B111, B131, 24-105
    proposal_label: str = ""  # as printed: 第061号
    #: Members or groups named in the salutation (empty for a co-handling opinion).
    proposers: list[str] = field(default_factory=list)
    #: The salutation said 等: more proposers signed than it names.
    more_proposers: bool = False
    addressee: str = ""  # the salutation without its colon: 民建界别组, 区发改委


def read_letter(text: str) -> tuple[Letter, list[str]]:
    """The ``Letter`` a published text prints, and warnings for what could not be read."""
    result = read_published(text)
    return result.letter, result.warnings


# --- Patterns -------------------------------------------------------------------------------

_IDEO = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = _IDEO + r"\u3000-\u303f\uff00-\uffef“”‘’…—·"
_HAS_IDEO = re.compile(rf"[{_IDEO}]")
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_ASCII_PARENS = re.compile(r"\(([^()]{0,40})\)")
_HALF_STOP = re.compile(rf"(?<=[{_IDEO}”）])\.(?=[{_IDEO}“（]|$)")
_MARKDOWN_RULE = re.compile(r"^\s*([-*_=])(\s*\1){2,}\s*$")

_FIELD_NAMES = {
    "办理结果": "result",
    "公开属性": "disclosure",
    "公开方式": "disclosure",
    "签发人": "signer",
    "联系人姓名": "person",
    "联系人": "person",
    "联系电话": "phone",
    "电话": "phone",
    "联系地址": "address",
    "通讯地址": "address",
    "通信地址": "address",
    "地址": "address",
    "邮政编码": "postcode",
    "邮编": "postcode",
    "抄送": "cc",
}
_LABEL = re.compile("(" + "|".join(sorted(_FIELD_NAMES, key=len, reverse=True)) + r")\s*[：:]\s*")
_LABEL_PREFIXES = ("", "承办单位", "办理单位", "主办单位", "单位")

_DOC_NUMBER = re.compile(
    rf"([{_IDEO}]{{1,15}})\s*[〔【\[［（(]\s*(\d{{4}})\s*[〕】\]］）)]\s*(\d{{1,5}})\s*号"
)
_TITLE_END = re.compile(r"(答复函|答复意见|再次答复|答复|会办意见)(?:[（(][^（）()]{1,20}[）)])?$")
_TITLE_FRAGMENT = re.compile(r"关于|政协|会议|提案|[对第]$")
_SESSION = re.compile(r"[一二三四五六七八九十0-9]+届[一二三四五六七八九十0-9]+次(?:全体)?会议")
_PROPOSAL_NUMBER = re.compile(
    r"(第?)\s*([0-9A-Za-zＡ-Ｚａ-ｚ]+(?:\s*[-－—–]\s*[0-9A-Za-z]+)*)\s*号\s*(提案)?"
)
_SALUTATION = re.compile(r"^[^。！？!?；;：:]{1,60}[：:]$")
_NOT_SALUTATION = re.compile(r"收悉|如下|提出|研究|答复|意见|办理|情况|现将|我们|您|你们")
_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_CN_DATE = re.compile(
    r"([〇零○Ｏ0一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日"
)
_ANY_DATE = rf"(?:{_DATE.pattern}|{_CN_DATE.pattern})"
_DATE_LINE = re.compile(rf"^{_ANY_DATE}$")
_PRINTED_LINE = re.compile(rf"^(?P<by>.*?)(?P<on>{_ANY_DATE})印发$")
_NOTE_LINE = re.compile(r"^[（(]?(此件[^（）()]{1,20})[）)]?$")
_ORGAN_SUFFIX = re.compile(
    r"(委员会|办公室|人民政府|政府|办事处|管委会|局|委|办|院|所|中心|公司|集团|协会|联合会|"
    r"商会|工商联|镇|街道|区委|部|厅|署|室|处|站|队|社|组)$"
)
_PUNCTUATION = re.compile(r"[。，、；：！？,;:!?“”《》]")
_SENTENCE_END = "。！？：；!?:;…"
_CLOSERS = "”’」』）)》】〕"
_NEW_PARAGRAPH = re.compile(r"^([一二三四五六七八九十]+是|第[一二三四五六七八九十]+[，、])")
_REPLY_PHRASES = re.compile(
    r"提案.{0,4}收悉|答复如下|函告如下|统一答复提案者|会办意见|提案的答复|办理情况答复"
)
_CO_OPINION_PHRASE = re.compile(r"供你单位.{0,6}答复")
_MEMBER_SALUTATION = re.compile(r"(委员|代表)$")

#: The labels the districts print for 办理结果 (see docs: result categories).
KNOWN_RESULT_LABELS = frozenset(
    {
        "解决采纳",
        "解决或采纳",
        "采纳解决",
        "采纳",
        "采纳或解决",
        "已解决或基本解决",
        "列入计划拟解决",
        "计划解决",
        "正在解决或已列入计划",
        "部分采纳",
        "因条件限制暂不能解决",
        "留作参考",
    }
)
_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "0": 0} | {
    c: i for i, c in enumerate("一二三四五六七八九", start=1)
}


# --- Lines ------------------------------------------------------------------------------------


@dataclass
class _Line:
    base: str  # normalised, spaces kept (for fields: 游  雁, 主动公开 · 全文)
    text: str  # normalised, spaces between Chinese characters removed
    fields: dict[str, str] | None = None  # set when the line is a field line
    used: bool = False


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
    for raw in text.splitlines():
        raw = raw.replace("\t", " ").replace("\xa0", " ").replace("\u3000", " ")
        if _MARKDOWN_RULE.match(raw):
            continue
        base = _fix_quotes_and_stops(normalize_line(_fix_parens(raw)))
        if not base:
            continue
        line = _Line(base=base, text=_CJK_GAP.sub("", base))
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


# --- The reader -------------------------------------------------------------------------------


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


def _join_paragraphs(texts: list[str]) -> list[str]:
    """Re-join paragraphs that a page break (or a hard wrap) split."""
    paragraphs: list[str] = []
    for text in texts:
        if paragraphs and _continues(paragraphs[-1], text):
            paragraphs[-1] += text
        else:
            paragraphs.append(text)
    return paragraphs


def _continues(previous: str, text: str) -> bool:
    if _is_short_heading(previous) or heading_level(text):
        return False
    if _ends_sentence(previous):
        return False
    if previous.rstrip(_CLOSERS)[-1:] in "，、,":
        return True
    return not _NEW_PARAGRAPH.match(text)


def read_published(text: str) -> ReadResult:
    """Read a published reply (or co-handling opinion, or follow-up) into a ``ReadResult``."""
    lines = _prepare(text)
    warnings: list[str] = []
    values: dict[str, str] = {}
    for line in lines:
        if line.fields is not None:
            line.used = True
            for key, value in line.fields.items():
                if value and key not in values:
                    values[key] = value

    title, title_break, body_from = _read_title(lines)
    salutation, body_from = _read_salutation(lines, body_from)
    if title and not salutation:
        # A salutation above the title (fields in another order).
        for line in lines[:body_from]:
            if not line.used and line.fields is None and _is_salutation(line.text):
                salutation = line.text[:-1] + "："
                line.used = True
                break
    organs, has_file_word, doc_number = _read_header(lines[:body_from])
    tail = _read_tail(lines[body_from:], warnings)
    body = tuple(Block(text=p, level=heading_level(p)) for p in _join_paragraphs(tail.body_texts))

    # What the title and the salutation tell.
    body_text = "".join(b.text for b in body)
    kind = _kind_from_title(title) if title else LetterKind.REPLY
    if not title and _CO_OPINION_PHRASE.search(body_text):
        kind = LetterKind.CO_OPINION
    session = m.group(0) if (m := _SESSION.search(title)) else ""
    number, label = _proposal_number(title)
    addressee = salutation.removesuffix("：")
    proposers, more = _proposers(addressee, kind)

    # Is it a reply at all?
    has_phrases = bool(_REPLY_PHRASES.search(body_text))
    is_reply = bool(title) or (has_phrases and "提案" in body_text)
    if not is_reply:
        reasons = ["标题中没有“提案”和“答复”"]
        if not has_phrases:
            reasons.append("正文中没有“提案收悉”“答复如下”之类的答复用语")
        if not salutation:
            reasons.append("没有致委员或承办单位的称呼")
        elif not _MEMBER_SALUTATION.search(addressee):
            reasons.append(f"称呼“{addressee[:20]}”不是致委员的")
        warnings.insert(0, "这不是提案答复：" + "，".join(reasons))
        proposers, more = [], False

    contact = Contact(
        person=values.get("person", "").replace(" ", ""),
        phone=values.get("phone", "").strip(),
        address=_CJK_GAP.sub("", values.get("address", "")),
        postcode=values.get("postcode", "").replace(" ", ""),
    )
    cc = tuple(
        part.strip()
        for part in re.split(r"[，,、；;]", values.get("cc", "").rstrip("。."))
        if part.strip()
    )
    letter = Letter(
        kind=kind,
        format=LetterFormat.LETTER if organs and not has_file_word else LetterFormat.DOCUMENT,
        result_label=re.sub(r"\s+", "", values.get("result", "")),
        disclosure=_normalize_disclosure(values.get("disclosure", "")),
        organs=tuple(organs),
        doc_number=doc_number,
        signer=_normalize_signer(values.get("signer", "")),
        title=title,
        title_break=title_break,
        salutation=salutation,
        body=body,
        signature_organ=tail.signature_organ,
        date=tail.date,
        note=tail.note,
        contact=contact,
        cc=cc,
        printed_by=tail.printed_by,
        printed_on=tail.printed_on,
    )
    warnings.extend(_missing(letter, session=session, number=number))
    return ReadResult(
        letter=letter,
        warnings=warnings,
        is_reply=is_reply,
        session_name=session,
        proposal_number=number,
        proposal_label=label,
        proposers=proposers,
        more_proposers=more,
        addressee=addressee,
    )


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
        line.used = True
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
            line.used = True
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
            line.used = True
            continue
        names = [_CJK_GAP.sub("", part).replace(" ", "") for part in re.split(r"\s{2,}", line.base)]
        if compact == "文件":
            has_file_word = line.used = True
            continue
        if compact.endswith("文件"):
            names[-1] = names[-1].removesuffix("文件")
            names = [n for n in names if n]
            if names and all(_looks_like_organ(n, need_suffix=False) for n in names):
                has_file_word = line.used = True
                organs.extend(names)
        elif all(_looks_like_organ(n, need_suffix=True) for n in names):
            line.used = True
            organs.extend(names)
    return organs, has_file_word, doc_number


@dataclass
class _Tail:
    body_texts: list[str]
    signature_organ: str = ""
    date: datetime.date | None = None
    note: str = ""
    printed_by: str = ""
    printed_on: datetime.date | None = None


def _read_tail(lines: list[_Line], warnings: list[str]) -> _Tail:
    """Read the body's end from the bottom: 印发, note, date, signature; the rest is body.

    Field lines (contact block, 抄送) are already taken.
    """
    tail = _Tail(body_texts=[])
    for pos in range(len(lines) - 1, -1, -1):
        line = lines[pos]
        if line.used or not (m := _PRINTED_LINE.match(line.text)):
            continue
        line.used = True
        tail.printed_on = _parse_date(m.group("on"), warnings)
        tail.printed_by = m.group("by").strip()
        before = [ln for ln in lines[:pos] if not ln.used]
        if not tail.printed_by and before and _looks_like_organ(before[-1].text, need_suffix=True):
            tail.printed_by = before[-1].text
            before[-1].used = True
        break

    for line in lines:
        if not line.used and (m := _NOTE_LINE.match(line.text)):
            tail.note = tail.note or m.group(1)
            line.used = True

    unused = [ln for ln in lines if not ln.used]
    date_at = next(
        (i for i in range(len(unused) - 1, -1, -1) if _DATE_LINE.match(unused[i].text)), None
    )
    signature: list[_Line] = []
    if date_at is not None:
        tail.date = _parse_date(unused[date_at].text, warnings)
        leftovers = unused[date_at + 1 :]
        if leftovers:
            warnings.append(
                f"落款之后有{len(leftovers)}行无法识别，已略去：“{leftovers[0].text[:20]}”"
            )
        # The organ right above the date; a joint signature has several, each an organ.
        for line in reversed(unused[:date_at]):
            if len(signature) >= 8 or not _looks_like_organ(
                line.text, need_suffix=bool(signature), max_length=80
            ):
                break
            signature.insert(0, line)
        if len(signature) > 1 and not _ORGAN_SUFFIX.search(signature[-1].text):
            signature = signature[-1:]
        body_end = date_at
    else:
        body_end = len(unused)
        if unused and _looks_like_organ(unused[-1].text, need_suffix=True):
            signature = [unused[-1]]
    if signature:
        body_end = unused.index(signature[0])
    tail.body_texts = [ln.text for ln in unused[:body_end]]
    if len(signature) == 1:
        tail.signature_organ = signature[0].text
    else:
        tail.signature_organ = " ".join(
            name for ln in signature for name in ln.base.split() if name
        )
    return tail


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


_FULLWIDTH_LETTERS = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in [*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
)


def _is_header_line(line: _Line) -> bool:
    compact = line.text.replace(" ", "")
    return bool(
        _DOC_NUMBER.fullmatch(compact)
        or compact == "文件"
        or (compact.endswith("文件") and _looks_like_organ(compact[:-2], need_suffix=False))
        or _looks_like_organ(compact, need_suffix=True)
    )


_PAGE_NUMBER = re.compile(r"^[—－–-]\s*\d+\s*[—－–-]$")
#: Characters larger than any printed line (the organ header is at most 42 pt) are the draft
#: watermark.
_WATERMARK_SIZE = 60.0


def text_from_pdf(pdf: bytes) -> str:
    """The text of a letter PDF, one paragraph per line, for ``read_published``.

    Page numbers and the 草稿 watermark are left out. The renderer indents paragraphs and
    wraps them at the type area's right edge, so a line that starts at the left margin right
    after a full line continues that line's paragraph, across pages too. Needs pdfplumber
    (a development dependency: this is for tests and for checking published PDFs).
    """
    import io

    import pdfplumber

    rows: list[tuple[int, dict]] = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for number, page in enumerate(document.pages):
            page = page.filter(
                lambda obj: (
                    obj.get("object_type") != "char" or float(obj.get("size", 0)) < _WATERMARK_SIZE
                )
            )
            for row in page.extract_text_lines(return_chars=True):
                if row["chars"] and not _PAGE_NUMBER.match(row["text"].strip()):
                    rows.append((number % 2, row))
    # Odd and even pages mirror their margins: find each side's type area from its lines.
    edges: dict[int, tuple[float, float]] = {}
    for parity in (0, 1):
        body = [r for p, r in rows if p == parity and abs(_size(r) - 16) < 1]
        if body:
            edges[parity] = (min(r["x0"] for r in body), max(r["x1"] for r in body))
    paragraphs: list[str] = []
    previous_full, previous_size = False, 0.0
    for parity, row in rows:
        size = _size(row)
        left, right = edges.get(parity, (row["x0"], row["x1"]))
        text = row["text"].strip()
        at_margin = abs(row["x0"] - left) < 2
        if paragraphs and previous_full and at_margin and abs(size - previous_size) < 0.5:
            paragraphs[-1] += text
        else:
            paragraphs.append(text)
        previous_full = row["x1"] >= right - 1.5 * size
        previous_size = size
    return "\n".join(paragraphs) + "\n"


def _size(row: dict) -> float:
    return float(row["chars"][0].get("size", 0))
