"""The scanner over a corpus of synthetic paragraphs: every planted item flagged with its kind,
no look-alike (文号, dates, amounts, postcodes, office phones, numbers failing their check
digit) flagged, and masking touches only what it is given."""

from __future__ import annotations

import pytest

from publication import redaction
from publication.tests.corpus import CORPUS, ID1, paragraph


def test_the_corpus_has_thirty_paragraphs_with_items_and_look_alikes():
    planted = [paragraph(raw)[1] for raw in CORPUS]
    assert len(CORPUS) >= 30
    assert sum(1 for p in planted if p) >= 15
    assert sum(1 for p in planted if not p) >= 12
    assert {kind for p in planted for kind, _ in p} == {
        "mobile",
        "landline",
        "id_card",
        "email",
        "bank_card",
        "address",
    }


@pytest.mark.parametrize("raw", CORPUS)
def test_exactly_the_planted_items_are_flagged(raw):
    text, planted = paragraph(raw)
    found = [(f.kind, f.text) for f in redaction.scan(text)]
    assert found == planted
    for f in redaction.scan(text):
        assert text[f.start : f.end] == f.text


def test_all_paragraphs_at_once_give_the_same_findings_as_one_by_one():
    joined = "\n".join(paragraph(raw)[0] for raw in CORPUS)
    expected = [item for raw in CORPUS for item in paragraph(raw)[1]]
    assert [(f.kind, f.text) for f in redaction.scan(joined)] == expected


def test_an_id_number_is_flagged_only_with_its_check_digit():
    assert redaction.id_card_valid(ID1)
    wrong = ID1[:-1] + ("0" if ID1[-1] != "0" else "1")
    assert not redaction.id_card_valid(wrong)
    assert redaction.scan(f"身份证{wrong}") == []


def test_masking_replaces_only_the_given_spans_and_keeps_the_length():
    text, _planted = paragraph(CORPUS[0])
    (finding,) = redaction.scan(text)
    masked = redaction.mask(text, [(finding.start, finding.end)])
    assert len(masked) == len(text)
    assert finding.text not in masked
    assert masked.replace("*" * len(finding.text), finding.text) == text
    assert redaction.mask(text, []) == text
