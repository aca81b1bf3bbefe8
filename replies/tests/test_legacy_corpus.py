"""The reader on a corpus of letters in the shapes the districts publish (issue 20).

Each letter under ``legacy_corpus/`` was written for these tests on the models of published
replies (web copies with a 政务公开 metadata block, co-handling opinions to a lead unit, follow-ups,
分办 replies, group and party proposers, 附件, 文号 variants …); its labelled fields are in
``legacy_corpus/labels.json``. Every labelled value must be read as labelled.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from replies.legacy import ReadResult, read_published

CORPUS = Path(__file__).parent / "legacy_corpus"
LABELS: dict[str, dict] = json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))

_LETTER_FIELDS = {
    "kind": lambda r: r.letter.kind.value,
    "format": lambda r: r.letter.format.value,
    "result_label": lambda r: r.letter.result_label,
    "disclosure": lambda r: r.letter.disclosure,
    "organs": lambda r: list(r.letter.organs),
    "organ_source": lambda r: r.letter.organ_source,
    "doc_number": lambda r: r.letter.doc_number,
    "signer": lambda r: r.letter.signer,
    "title": lambda r: r.letter.title,
    "salutation": lambda r: r.letter.salutation,
    "signature_organ": lambda r: r.letter.signature_organ,
    "signature_organs": lambda r: list(r.letter.signature_organs),
    "date": lambda r: _iso(r.letter.date),
    "note": lambda r: r.letter.note,
    "contact_person": lambda r: r.letter.contact.person,
    "contact_phone": lambda r: r.letter.contact.phone,
    "contact_address": lambda r: r.letter.contact.address,
    "contact_postcode": lambda r: r.letter.contact.postcode,
    "cc": lambda r: list(r.letter.cc),
    "printed_by": lambda r: r.letter.printed_by,
    "printed_on": lambda r: _iso(r.letter.printed_on),
    "index_number": lambda r: r.letter.index_number,
    "publisher": lambda r: r.letter.publisher,
    "body_blocks": lambda r: len(r.letter.body),
    "body_last": lambda r: r.letter.body[-1].text if r.letter.body else "",
    "session_name": lambda r: r.session_name,
    "proposal_number": lambda r: r.proposal_number,
    "proposers": lambda r: r.proposers,
    "more_proposers": lambda r: r.more_proposers,
    "addressee": lambda r: r.addressee,
    "lead_unit": lambda r: r.lead_unit,
    "handling": lambda r: r.handling,
    "round": lambda r: r.round,
    "earlier_result": lambda r: r.earlier_result,
    "attachments": lambda r: r.attachments,
    "published_on": lambda r: _iso(r.published_on),
    "is_reply": lambda r: r.is_reply,
}


def _iso(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


def read(name: str) -> ReadResult:
    text = (CORPUS / f"{name}.txt").read_text(encoding="utf-8")
    return read_published(text, units=LABELS[name].get("units"))


def labelled_misses(name: str) -> list[str]:
    """The labelled values of one letter that the reader got wrong, as readable lines."""
    result = read(name)
    misses = []
    for key, expected in LABELS[name].items():
        if key == "units":
            continue
        if key == "body_first":
            actual: object = (
                result.letter.body[0].text[: len(expected)] if result.letter.body else ""
            )
        elif key == "labels":
            actual = {k: v for k, v in result.letter.labels if k in expected}
        elif key == "warnings_include":
            actual = [w for w in expected if not any(w in warning for warning in result.warnings)]
            expected = []
        else:
            actual = _LETTER_FIELDS[key](result)
        if actual != expected:
            misses.append(f"{name}.{key}: {actual!r} != {expected!r}")
    return misses


def test_the_corpus_has_thirty_letters_each_with_its_labels():
    texts = sorted(p.stem for p in CORPUS.glob("*.txt"))

    assert len(texts) >= 30
    assert texts == sorted(LABELS)
    assert all(LABELS[name] for name in texts)


@pytest.mark.parametrize("name", sorted(LABELS))
def test_every_labelled_field_of_a_corpus_letter_is_read(name):
    assert labelled_misses(name) == []


@pytest.mark.parametrize("name", sorted(LABELS))
def test_a_corpus_letter_loses_no_line(name):
    result = read(name)

    assert not any("未能读入任何一项" in w for w in result.warnings), result.warnings
    assert result.letter.body, "every corpus letter has a body"


def test_the_score_over_the_corpus_is_every_labelled_value():
    total = sum(len([k for k in labels if k != "units"]) for labels in LABELS.values())
    misses = [miss for name in LABELS for miss in labelled_misses(name)]

    assert total >= 200
    assert misses == [], f"{total - len(misses)} of {total} labelled values"
