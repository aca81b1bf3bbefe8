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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
from replies.legacy_meta import _kind_from_title as _kind_from_title
from replies.legacy_meta import _missing as _missing
from replies.legacy_meta import _proposal_number as _proposal_number
from replies.legacy_meta import _proposers as _proposers
from replies.legacy_patterns import _ANY_DATE as _ANY_DATE
from replies.legacy_patterns import _ASCII_PARENS as _ASCII_PARENS
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
    #: Members or groups named in the salutation (empty for a co-handling opinion).
    proposers: list[str] = field(default_factory=list)
    #: The salutation said 等: more proposers signed than it names.
    more_proposers: bool = False
    addressee: str = ""  # the salutation without its colon: 民建界别组, 区发改委


def read_letter(text: str) -> tuple[Letter, list[str]]:
    """The ``Letter`` a published text prints, and warnings for what could not be read."""
    result = read_published(text)
    return result.letter, result.warnings


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
