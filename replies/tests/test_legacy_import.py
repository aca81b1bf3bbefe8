"""The import of published letters refuses what the reader could not make a letter of."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

import pytest
from django.core import serializers

from proposals import workflow as pwf
from proposals.models import Transition
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.legacy import read_published
from replies.models import DocNumberCounter, Reply
from replies.seeds import seed_text
from replies.workflow.legacy import organs_by_doc_prefix

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "legacy_corpus"


@pytest.fixture
def putuo(committee):
    unit = f.UnitFactory(
        name="普陀区发展和改革委员会",
        short_name="普陀区发改委",
        organ_name="上海市普陀区发展和改革委员会",
        docno_prefix="普发改委",
    )
    session = f.SessionFactory(
        district="普陀", term=15, meeting=2, number_template="第{term}{meeting}{serial:03d}号"
    )
    session.last_serial = 44
    session.save()
    proposal = f.ProposalFactory(session=session, lead_proposer=f.ProposerFactory(name="张文浩"))
    pwf.file_proposal(proposal, actor=committee)
    (lead,) = pwf.assign_proposal(
        proposal, actor=committee, units=[(unit, "lead")], assigned_on=datetime.date(2023, 2, 10)
    )
    pwf.accept_assignment(lead, actor=committee)
    return lead


def _snapshot(assignment):
    return (
        serializers.serialize("json", type(assignment).objects.filter(pk=assignment.pk)),
        Reply.objects.count(),
        Transition.objects.count(),
        DocNumberCounter.objects.count(),
    )


def test_a_letter_with_an_empty_body_is_refused_and_nothing_is_saved(committee, putuo):
    text = seed_text("001")
    # The body cut away: title, salutation and signature left.
    head, _, rest = text.partition("张文浩委员：")
    tail = rest[rest.index("上海市普陀区发展和改革委员会\n") :]
    result = read_published(head + "张文浩委员：\n" + tail)
    assert result.empty_body
    assert "正文为空：这份答复不能排版，也不能导入" in result.warnings

    before = _snapshot(putuo)
    with pytest.raises(pwf.InvalidInput) as info:
        rwf.import_published_reply(putuo, actor=committee, letter=result.letter)

    assert "没有正文" in info.value.message
    assert _snapshot(putuo) == before


def test_a_letter_without_body_blocks_is_refused_too(committee, putuo):
    letter = read_published(seed_text("001")).letter
    blank = dataclasses.replace(letter, body=())

    with pytest.raises(pwf.InvalidInput):
        rwf.import_published_reply(putuo, actor=committee, letter=blank)
    assert not Reply.objects.exists()


def test_the_units_table_gives_the_organ_of_a_text_without_header_or_signature(putuo):
    f.UnitFactory(name="东浦区文旅局", organ_name="上海市东浦区文化和旅游局", docno_prefix="东文旅")
    text = (CORPUS / "21_organ_from_units_table.txt").read_text(encoding="utf-8")

    result = read_published(text, units=organs_by_doc_prefix())

    assert result.letter.organs == ("上海市东浦区文化和旅游局",)
    assert (
        "原文没有发文机关标志，已按文号前缀“东文旅”补上：上海市东浦区文化和旅游局"
        in result.warnings
    )
    assert read_published(text).letter.organs == ()  # without the table: none, and said so
    assert "未找到发文机关标志" in read_published(text).warnings
