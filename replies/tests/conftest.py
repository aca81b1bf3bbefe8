"""Letters for the PDF tests: the seed letters, and small letters that exercise one feature each.

The seed letters come from ``replies.legacy.read_letter`` (the reader of published letters)
when it is there; the hand-built ones below say the same thing field by field, so the renderer
can be tested on its own, and 001 stays as a hand-built reference either way.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import replace

import pytest

from replies.letter import (
    Block,
    Contact,
    Letter,
    LetterFormat,
    LetterKind,
    heading_level,
    normalize_line,
    parse_body,
)
from replies.seeds import REPLY_SEEDS, seed_text

SEED_IDS = REPLY_SEEDS

_SENTENCE_END = ("。", "！", "？", "：", "；")


def _paragraphs(part: str, *, page_breaks: bool) -> list[str]:
    """The seed's paragraphs between two markers.

    In 001–003 paragraphs are separated by blank lines, and a blank line also marks where the
    original PDF turned the page — mid-paragraph when the text before it does not end a
    sentence and is not a heading.
    """
    if not page_breaks:
        return [line for line in part.splitlines() if line.strip()]
    paragraphs: list[str] = []
    for chunk in re.split(r"\n\s*\n", part):
        chunk = chunk.strip()
        if not chunk:
            continue
        if paragraphs:
            previous = normalize_line(paragraphs[-1])
            continues = not previous.endswith(_SENTENCE_END) and not (
                heading_level(previous) and "。" not in previous
            )
            if continues and not heading_level(normalize_line(chunk)):
                paragraphs[-1] += chunk
                continue
        paragraphs.append(chunk)
    return paragraphs


def seed_body(
    seed_id: str, first: str, last: str, *, page_breaks: bool = True
) -> tuple[Block, ...]:
    text = seed_text(seed_id)
    start = text.index(first)
    end = text.index(last, start) + len(last)
    return parse_body("\n".join(_paragraphs(text[start:end], page_breaks=page_breaks)))


def hand_built_seed(seed_id: str) -> Letter:
    """The seed letter written out by hand (no reader involved)."""
    if seed_id == "000":
        return Letter(
            kind=LetterKind.REPLY_LETTER,
            result_label="采纳",
            signer="游  雁",
            title="长宁区投促办关于对区政协十五届二次会议第061号提案的答复函",
            title_break=19,
            salutation="沈汕、施彧、陈铸等委员：",
            body=seed_body("000", "沈汕、施彧、陈铸等委员提出的", "解决难点。", page_breaks=False),
            signature_organ="长宁区投资促进办公室",
        )
    if seed_id == "001":
        return Letter(
            result_label="采纳解决",
            disclosure="主动公开 · 全文",
            organs=("上海市普陀区发展和改革委员会",),
            doc_number="普发改委〔2023〕14号",
            title="对区政协十五届二次会议第152045号提案的答复",
            title_break=11,
            salutation="张文浩委员：",
            body=seed_body("001", "您提出的“关于推进", "多意见和建议。谢谢！"),
            signature_organ="上海市普陀区发展和改革委员会",
            date=datetime.date(2023, 5, 8),
            contact=Contact(
                person="开凡",
                phone="52564588-2357",
                address="大渡河路1668号1号楼B区313室",
                postcode="200333",
            ),
            printed_by="上海市普陀区发展和改革委员会",
            printed_on=datetime.date(2023, 5, 8),
        )
    if seed_id == "002":
        return Letter(
            result_label="解决或采纳",
            organs=("上海市长宁区发展和改革委员会",),
            doc_number="长发改〔2024〕19号",
            signer="叶鹏举",
            title="对区政协十五届三次会议第050号提案的答复",
            title_break=11,
            salutation="张晓钟、林静、瞿子涵委员：",
            body=seed_body("002", "您们提出的“关于推进长宁", "继续为我区发展出谋划策。"),
            signature_organ="上海市长宁区发展和改革委员会",
            date=datetime.date(2024, 4, 25),
            note="此件公开发布",
            contact=Contact(
                person="汪骏杰", phone="22051162", address="长宁路599号1120室", postcode="200050"
            ),
            printed_by="上海市长宁区发展和改革委员会",
            printed_on=datetime.date(2024, 4, 25),
        )
    if seed_id == "003":
        return Letter(
            result_label="采纳解决",
            disclosure="主动公开·全文",
            doc_number="普发改委〔2021〕11号",
            title="对区政协十四届五次会议第145054号提案的答复",
            title_break=11,
            salutation="民建界别组：",
            body=seed_body("003", "你们提出的关于《抓住", "多意见和建议。谢谢！"),
            signature_organ="上海市普陀区发展和改革委员会",
            date=datetime.date(2021, 4, 30),
            contact=Contact(
                person="钱婷婷",
                phone="52564588-2343",
                address="大渡河路1668号1号楼B区313室",
                postcode="200333",
            ),
        )
    raise KeyError(seed_id)


def seed_letter(seed_id: str) -> Letter:
    """The seed letter as the reader of published letters gives it, else the hand-built one."""
    try:
        from replies.legacy import read_letter
    except ImportError:
        return hand_built_seed(seed_id)
    letter, _warnings = read_letter(seed_text(seed_id))
    return letter


@pytest.fixture(scope="session")
def seed_letters() -> dict[str, Letter]:
    return {seed_id: seed_letter(seed_id) for seed_id in SEED_IDS}


@pytest.fixture(scope="session")
def letter_001_by_hand() -> Letter:
    return hand_built_seed("001")


def _short_body() -> tuple[Block, ...]:
    return (
        Block("您提出的“关于推进产业内循环招商”的提案收悉，经研究，现将办理情况答复如下："),
        Block("一、进一步细化产业颗粒度", level=1),
        Block("（一）调研开局", level=2),
        Block("1.推进国企存量土地资源高质量利用。我区规划资源部门提出处置原则。", level=3),
        Block("（1）盘活存量", level=4),
        Block("非常感谢您的提案。"),
    )


def build_joint_letter(**changes) -> Letter:
    """A 联合行文: three organs of different lengths, with 抄送 and 印发."""
    letter = Letter(
        result_label="采纳解决",
        disclosure="主动公开",
        organs=("上海市普陀区发展和改革委员会", "上海市普陀区财政局", "上海市普陀区商务委员会"),
        doc_number="普发改委〔2024〕3号",
        title="关于对区政协十五届三次会议第150001号提案的答复",
        salutation="张文浩委员：",
        body=_short_body(),
        signature_organ="上海市普陀区发展和改革委员会",
        date=datetime.date(2024, 6, 3),
        note="此件公开发布",
        cc=("区政协提案委", "区政府办公室"),
        printed_by="上海市普陀区发展和改革委员会",
        printed_on=datetime.date(2024, 6, 3),
    )
    return replace(letter, **changes)


def build_draft_letter() -> Letter:
    """An unsigned two-page draft: no 文号, no date."""
    return Letter(
        organs=("上海市普陀区发展和改革委员会",),
        title="对区政协十五届三次会议第150002号提案的答复",
        salutation="张文浩委员：",
        body=_short_body() * 12,
        signature_organ="上海市普陀区发展和改革委员会",
        draft=True,
    )


def build_letter_format_letter() -> Letter:
    """Seed 001 in 信函 format, with a 抄送 line."""
    return replace(hand_built_seed("001"), format=LetterFormat.LETTER, cc=("区政协提案委",))


@pytest.fixture(scope="session")
def joint_letter() -> Letter:
    return build_joint_letter()


@pytest.fixture(scope="session")
def draft_letter() -> Letter:
    return build_draft_letter()


@pytest.fixture(scope="session")
def letter_format_letter() -> Letter:
    return build_letter_format_letter()


@pytest.fixture
def eager_tasks():
    """Celery tasks run in this process, as ``make run`` does without ``REDIS_URL``: a draft's
    preview is rendered during the request (in its own child process, ``replies.previews``)
    rather than by a worker."""
    from tracker.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved
