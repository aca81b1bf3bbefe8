"""Reading published reply letters back into ``Letter`` values.

The districts publish their replies as text (a web page, or a PDF's text layer). To load the
past years, to check our own PDFs against their text and to compare layouts, we read that text
back into the same ``Letter`` the renderer prints. The reader is forgiving: it accepts fields in
any order, half-width punctuation, Markdown from web copies and paragraphs split by page breaks;
whatever it cannot find becomes a warning in Chinese, never a guess and never an exception.

The modules, by subject (their names are importable from here, as before issue 18's split):

    legacy           ``read_published`` puts a letter together from the parts (this module)
    legacy_patterns  what the districts print: field labels, 文号, titles, dates, phrases
    legacy_lines     the text's lines cleaned and classified, and the readers of their values
    legacy_head      title, salutation, organ header and 文号, read from the top
    legacy_tail      印发, note, date and signature read from the bottom; the body re-joined
    legacy_meta      the letter's kind, its proposal and proposers, and what was not found
    legacy_pdf       ``text_from_pdf``: a letter PDF's text, for reading it back
    legacy_web       a 政务公开 page around the letter: navigation, metadata, a second copy
    legacy_account   the promise that no text is lost: every line in a field or in a warning
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from replies.legacy_account import _account, _field_doc_numbers, _meta_date, _read_fields
from replies.legacy_head import _find_title as _find_title
from replies.legacy_head import _is_header_line as _is_header_line
from replies.legacy_head import _is_salutation as _is_salutation
from replies.legacy_head import _read_header as _read_header
from replies.legacy_head import _read_salutation as _read_salutation
from replies.legacy_head import _read_title as _read_title
from replies.legacy_lines import _cn_number as _cn_number
from replies.legacy_lines import _ends_sentence as _ends_sentence
from replies.legacy_lines import _field_line as _field_line
from replies.legacy_lines import _fix_parens as _fix_parens
from replies.legacy_lines import _fix_quotes_and_stops as _fix_quotes_and_stops
from replies.legacy_lines import _is_short_heading as _is_short_heading
from replies.legacy_lines import _Line as _Line
from replies.legacy_lines import _looks_like_organ as _looks_like_organ
from replies.legacy_lines import _normalize_disclosure as _normalize_disclosure
from replies.legacy_lines import _normalize_doc_number as _normalize_doc_number
from replies.legacy_lines import _normalize_signer as _normalize_signer
from replies.legacy_lines import _parse_date as _parse_date
from replies.legacy_lines import _prepare as _prepare
from replies.legacy_lines import _split_fields as _split_fields
from replies.legacy_meta import (
    _body_proposers,
    _earlier_result,
    _handling,
    _lead_unit,
    _organs_from_elsewhere,
    _round,
)
from replies.legacy_meta import _kind_from_title as _kind_from_title
from replies.legacy_meta import _missing as _missing
from replies.legacy_meta import _proposal_number as _proposal_number
from replies.legacy_meta import _proposers as _proposers
from replies.legacy_patterns import _ANY_DATE as _ANY_DATE
from replies.legacy_patterns import _ASCII_PARENS as _ASCII_PARENS
from replies.legacy_patterns import _ATTACHMENT
from replies.legacy_patterns import _CJK as _CJK
from replies.legacy_patterns import _CJK_GAP as _CJK_GAP
from replies.legacy_patterns import _CLOSERS as _CLOSERS
from replies.legacy_patterns import _CN_DATE as _CN_DATE
from replies.legacy_patterns import _CN_DIGITS as _CN_DIGITS
from replies.legacy_patterns import _CO_OPINION_PHRASE as _CO_OPINION_PHRASE
from replies.legacy_patterns import _DATE as _DATE
from replies.legacy_patterns import _DATE_LINE as _DATE_LINE
from replies.legacy_patterns import _DOC_NUMBER as _DOC_NUMBER
from replies.legacy_patterns import _FIELD_NAMES as _FIELD_NAMES
from replies.legacy_patterns import _FULLWIDTH_DIGITS as _FULLWIDTH_DIGITS
from replies.legacy_patterns import _FULLWIDTH_LETTERS as _FULLWIDTH_LETTERS
from replies.legacy_patterns import _HALF_STOP as _HALF_STOP
from replies.legacy_patterns import _HAS_IDEO as _HAS_IDEO
from replies.legacy_patterns import _IDEO as _IDEO
from replies.legacy_patterns import _LABEL as _LABEL
from replies.legacy_patterns import _LABEL_PREFIXES as _LABEL_PREFIXES
from replies.legacy_patterns import _MARKDOWN_RULE as _MARKDOWN_RULE
from replies.legacy_patterns import _MEMBER_SALUTATION as _MEMBER_SALUTATION
from replies.legacy_patterns import _NEW_PARAGRAPH as _NEW_PARAGRAPH
from replies.legacy_patterns import _NOT_SALUTATION as _NOT_SALUTATION
from replies.legacy_patterns import _NOTE_LINE as _NOTE_LINE
from replies.legacy_patterns import _ORGAN_SUFFIX as _ORGAN_SUFFIX
from replies.legacy_patterns import _PRINTED_LINE as _PRINTED_LINE
from replies.legacy_patterns import _PROPOSAL_NUMBER as _PROPOSAL_NUMBER
from replies.legacy_patterns import _PUNCTUATION as _PUNCTUATION
from replies.legacy_patterns import _REPLY_PHRASES as _REPLY_PHRASES
from replies.legacy_patterns import _SALUTATION as _SALUTATION
from replies.legacy_patterns import _SENTENCE_END as _SENTENCE_END
from replies.legacy_patterns import _SESSION as _SESSION
from replies.legacy_patterns import _TITLE_END as _TITLE_END
from replies.legacy_patterns import _TITLE_FRAGMENT as _TITLE_FRAGMENT
from replies.legacy_patterns import KNOWN_RESULT_LABELS as KNOWN_RESULT_LABELS
from replies.legacy_pdf import _PAGE_NUMBER as _PAGE_NUMBER
from replies.legacy_pdf import _WATERMARK_SIZE as _WATERMARK_SIZE
from replies.legacy_pdf import _size as _size
from replies.legacy_pdf import text_from_pdf as text_from_pdf
from replies.legacy_tail import _continues as _continues
from replies.legacy_tail import _join_paragraphs as _join_paragraphs
from replies.legacy_tail import _read_tail as _read_tail
from replies.legacy_tail import _Tail as _Tail
from replies.legacy_web import (
    _drop_repeated_copy,
    _Meta,
    _read_metadata,
    _read_navigation,
)
from replies.letter import (
    Block,
    Contact,
    Letter,
    LetterFormat,
    LetterKind,
    heading_level,
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
    #: Members or groups named in the salutation, or (a co-handling opinion, a letter to a unit)
    #: in the body: 张三、李四委员提出的….
    proposers: list[str] = field(default_factory=list)
    #: The salutation said 等: more proposers signed than it names.
    more_proposers: bool = False
    addressee: str = ""  # the salutation without its colon: 民建界别组, 区发改委
    #: The unit leading the handling: a co-handling opinion's addressee, or named as 主办.
    lead_unit: str = ""
    handling: str = "主办"  # 主办, 会办 or 分办
    round: int = 1  # 2 for a follow-up (再次答复 / 跟踪办理)
    earlier_result: str = ""  # a follow-up's earlier 办理结果
    attachments: list[str] = field(default_factory=list)  # 附件 lines, as printed (also in body)
    published_on: datetime.date | None = None  # 发布日期 of the 政务公开 page
    #: The body is empty: the letter can be neither rendered nor imported.
    empty_body: bool = False


def read_letter(text: str) -> tuple[Letter, list[str]]:
    """The ``Letter`` a published text prints, and warnings for what could not be read."""
    result = read_published(text)
    return result.letter, result.warnings


def read_published(text: str, *, units: Mapping[str, str] | None = None) -> ReadResult:
    """Read a published reply (or co-handling opinion, or follow-up) into a ``ReadResult``.

    ``units`` maps 文号 prefixes to organ names (普发改委 → 上海市普陀区发展和改革委员会): the
    organ of a text that prints no header and no 落款 is found by its 文号. Every line of the
    text ends in a field or is named in a warning (``replies.legacy_account``).
    """
    lines = _prepare(text)
    warnings: list[str] = []
    _read_navigation(lines, warnings)
    meta = _read_metadata(lines)
    _drop_repeated_copy(lines, warnings)
    values, labels = _read_fields(lines, warnings)
    rest = [ln for ln in lines if ln.role not in ("navigation", "meta", "dropped")]

    title, title_break, body_from = _read_title(rest)
    _drop_page_heading(rest, title, body_from, warnings)
    salutation, body_from = _read_salutation(rest, body_from)
    if title and not salutation:
        # A salutation above the title (fields in another order).
        for line in rest[:body_from]:
            if not line.used and line.fields is None and _is_salutation(line.text):
                salutation = line.text[:-1] + "："
                line.take("salutation")
                break
    organs, has_file_word, doc_number = _read_header(rest[:body_from])
    for number, line in _field_doc_numbers(rest):
        if not doc_number:
            doc_number = number
        elif number != doc_number:
            warnings.append(f"第{line.number}行另有文号“{number}”，已略去：“{line.text}”")
    tail = _read_tail(rest[body_from:], warnings)
    body = tuple(Block(text=p, level=heading_level(p)) for p in _join_paragraphs(tail.body_texts))
    body_text = "".join(b.text for b in body)
    kind = _kind_from_title(title) if title else LetterKind.REPLY
    if not title and _CO_OPINION_PHRASE.search(body_text):
        kind = LetterKind.CO_OPINION
    addressee = salutation.removesuffix("：")
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
        contact=_contact(values),
        cc=tuple(
            part.strip()
            for part in re.split(r"[，,、；;]", values.get("cc", "").rstrip("。."))
            if part.strip()
        ),
        printed_by=tail.printed_by,
        printed_on=tail.printed_on,
        labels=tuple(labels.items()),
    )
    letter = _with_page_metadata(letter, meta, warnings)
    letter = _with_organs(letter, tail, units, warnings)
    result = _result(letter, addressee, warnings, meta)
    _account(lines, _outputs(result), warnings)
    return result


def _contact(values: dict[str, str]) -> Contact:
    return Contact(
        person=values.get("person", "").replace(" ", ""),
        phone=values.get("phone", "").strip(),
        address=_CJK_GAP.sub("", values.get("address", "")),
        postcode=values.get("postcode", "").replace(" ", ""),
    )


def _drop_page_heading(lines: list[_Line], title: str, after: int, warnings: list[str]) -> None:
    """A web page prints the title as its heading, then the letter prints it again: the page's
    copy is dropped, with a warning."""
    if not title:
        return
    repeat: list[_Line] = []
    for line in lines[after:]:
        if line.used and line.role != "title":
            continue
        if not title.startswith("".join(ln.text for ln in repeat) + line.text):
            break
        repeat.append(line)
        if "".join(ln.text for ln in repeat) == title:
            for ln in repeat:
                ln.take("dropped")
            warnings.append(f"标题出现了两次，已略去重复的一次：“{title}”")
            return


def _with_page_metadata(letter: Letter, meta: _Meta, warnings: list[str]) -> Letter:
    """The page's metadata fills what the letter's own text lacks, and is kept as printed."""
    if not meta.pairs:
        return letter
    values = meta.values
    changes: dict[str, object] = {
        "page_metadata": tuple(meta.pairs),
        "index_number": values.get("index_number", ""),
        "publisher": values.get("publisher", ""),
    }
    number = _normalize_doc_number(values.get("doc_number", ""))
    if number and not letter.doc_number:
        changes["doc_number"] = number
    elif number and number != letter.doc_number:
        warnings.append(f"网页上的发文字号“{number}”与正文的“{letter.doc_number}”不同")
    written = _meta_date(values.get("written_on", ""))
    if written and not letter.date:
        changes["date"] = written
    elif written and written != letter.date:
        warnings.append(f"网页上的成文日期“{values['written_on']}”与落款日期不同")
    if values.get("disclosure") and not letter.disclosure:
        changes["disclosure"] = _normalize_disclosure(values["disclosure"])
    return dataclasses.replace(letter, **changes)  # type: ignore[arg-type]


def _with_organs(
    letter: Letter, tail: _Tail, units: Mapping[str, str] | None, warnings: list[str]
) -> Letter:
    """Without a printed 发文机关标志, the organ comes from the 落款, the 公开主体 or the 文号."""
    signature = [n for n in tail.signature_organ.split(" ") if n]
    if len(signature) > 1:  # a joint letter: one organ a line in the 落款
        letter = dataclasses.replace(letter, signature_organs=tuple(signature))
    if letter.organs:
        return letter
    organs, source = _organs_from_elsewhere(
        signature=signature,
        publisher=letter.publisher,
        doc_number=letter.doc_number,
        units=units,
    )
    if not organs:
        return letter
    warnings.append(source)
    where = source.split("按", 1)[1].split("补上", 1)[0] if "按" in source else ""
    return dataclasses.replace(letter, organs=organs, organ_source=where)


def _result(letter: Letter, addressee: str, warnings: list[str], meta: _Meta) -> ReadResult:
    """What the title, the salutation and the body tell about the proposal and its handling."""
    title, kind = letter.title, letter.kind
    body_text = "".join(b.text for b in letter.body)
    # Without a title, the body's opening names the proposal (…提出的第15166号提案收悉).
    source = title or _numbered_part(letter.body[0].text if letter.body else "")
    session = m.group(0) if (m := _SESSION.search(source)) else ""
    number, label = _proposal_number(source)
    proposers, more = _proposers(addressee, kind)
    if not proposers or kind == LetterKind.CO_OPINION:
        proposers, more = _body_proposers(body_text)
    has_phrases = bool(_REPLY_PHRASES.search(body_text))
    is_reply = bool(title) or (has_phrases and "提案" in body_text)
    if not is_reply:
        reasons = ["标题中没有“提案”和“答复”"]
        if not has_phrases:
            reasons.append("正文中没有“提案收悉”“答复如下”之类的答复用语")
        if not letter.salutation:
            reasons.append("没有致委员或承办单位的称呼")
        elif not _MEMBER_SALUTATION.search(addressee):
            reasons.append(f"称呼“{addressee[:20]}”不是致委员的")
        warnings.insert(0, "这不是提案答复：" + "，".join(reasons))
        proposers, more = [], False
    warnings.extend(_missing(letter, session=session, number=number))
    empty = not letter.body
    if empty and (letter.title or letter.salutation):
        warnings.append("正文为空：这份答复不能排版，也不能导入")
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
        lead_unit=_lead_unit(kind, addressee, body_text),
        handling=_handling(kind, title, body_text),
        round=_round(kind, title),
        earlier_result=_earlier_result(kind, body_text),
        attachments=_attachments(letter.body),
        published_on=_meta_date(meta.values.get("published_on", "")),
        empty_body=empty,
    )


def _outputs(result: ReadResult) -> list[str]:
    """Every text the result holds, for ``_account``."""
    letter = result.letter
    return [
        letter.title,
        letter.salutation,
        *(b.text for b in letter.body),
        "".join(letter.organs),
        letter.signature_organ,
        letter.note,
        letter.printed_by,
        *result.warnings,
    ]


_NUMBERED_PART = re.compile(
    r"(?:[一二三四五六七八九十0-9]+届[一二三四五六七八九十0-9]+次(?:全体)?会议[^，。]{0,12})?"
    r"第\s*[0-9A-Za-z-]+\s*号"
)


def _numbered_part(opening: str) -> str:
    """The part of a body's opening that names the proposal by its number (第…号), if any."""
    m = _NUMBERED_PART.search(opening)
    return m.group(0) if m else ""


def _attachments(body: tuple[Block, ...]) -> list[str]:
    """The 附件 line and the numbered items under it, as printed (they stay in the body too)."""
    found: list[str] = []
    for block in body:
        item = bool(found) and bool(re.match(r"^\d{1,2}[.．、]", block.text))
        if _ATTACHMENT.match(block.text) or (item and len(block.text) <= 40):
            found.append(block.text)
        elif found:
            break
    return found
