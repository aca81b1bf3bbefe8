"""Letters bounded before they cost (issue 17, rows 4 and 5).

The probe's two letters — a 75,000-character body, and a body of 29,500 one-character lines
(under the old character cap, 39.5 s and 1.08 GB to render) — are refused before WeasyPrint
sees them, on save of a draft, and before signing, so no 文号 is taken for a letter that would
never get its PDF; the same for co-handling opinions. One function holds the rules
(``replies.pdf.check_letter_size``); the realistic letters (the seeds) stay well inside them,
and a letter at every bound renders inside the preview's time and memory limits, in a child
process whose limits are its own.
"""

from __future__ import annotations

import resource
import time
from dataclasses import replace

import pytest

import replies.pdf
import replies.pdf_limits
from proposals.models import Transition
from replies import previews
from replies import workflow as rwf
from replies.letter import Block, Letter, parse_body
from replies.models import CoOpinion, DocNumberCounter, Reply
from replies.pdf import (
    LetterTooLarge,
    RenderFailed,
    check_letter_size,
    letter_limits,
    measure_letter,
    render_letter_pdf,
    render_letter_pdf_isolated,
)
from replies.seeds import seed_text
from replies.tests import test_admin as base
from replies.tests.conftest import SEED_IDS, hand_built_seed

# The replies admin tests' fixtures: proposal 第001号, unit A leads, unit B co-handles.
assigned, draft, signer_b = base.assigned, base.draft, base.signer_b
form_data, url = base.form_data, base.url

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

#: The probe's letters, as their bodies were typed.
PROBE_BODIES = {
    "75,000 characters": "字" * 75_000,
    "29,500 lines": "\n".join("字" for _ in range(29_500)),
}
#: What each is refused for, as the message says it (the limit and the measured size). The
#: lines are counted as typed where the typed text is at hand (saving, previewing, signing:
#: "输入了29,50x行"), as paragraphs and printed lines of the letter where not (rendering).
PROBE_REFUSALS = {
    "75,000 characters": ["上限40,000字", "共75,"],
    "29,500 lines": ["29,50", "行"],
}

CJK = "我区规划资源部门提出处置原则推进国企存量土地资源高质量利用盘活存量"


def cjk(n: int) -> str:
    return (CJK * (n // len(CJK) + 1))[:n]


def letter_with(body: str) -> Letter:
    return replace(hand_built_seed("001"), body=parse_body(body))


def refuse_weasyprint(monkeypatch) -> None:
    """Any layout is a failure of the test: the letter must be refused before it."""

    def boom(*args, **kwargs):
        raise AssertionError("WeasyPrint was asked to lay the letter out")

    monkeypatch.setattr(replies.pdf, "HTML", boom)


# --- The rules --------------------------------------------------------------------------------


@pytest.mark.parametrize("probe", PROBE_BODIES)
def test_the_probes_letters_are_refused_before_rendering(probe, monkeypatch):
    refuse_weasyprint(monkeypatch)
    letter = letter_with(PROBE_BODIES[probe])
    started = time.perf_counter()
    with pytest.raises(LetterTooLarge) as refused:
        render_letter_pdf(letter)
    with pytest.raises(LetterTooLarge):
        render_letter_pdf_isolated(letter, seconds=20, memory_mb=384)  # no child is started
    assert time.perf_counter() - started < 1
    message = refused.value.message
    assert message.startswith("篇幅超出上限：")
    for part in PROBE_REFUSALS[probe]:
        assert part in message, message
    if probe == "29,500 lines":
        assert "正文共29,500段，上限800段" in message and "上限1,500行（约68页）" in message
        with pytest.raises(LetterTooLarge, match="正文输入了29,500行（含空行），上限3,200行"):
            check_letter_size(PROBE_BODIES[probe])  # as typed: refused before it is parsed


def test_the_seed_letters_stay_well_inside_every_bound(seed_letters):
    limits = letter_limits()
    for seed_id in SEED_IDS:
        size = check_letter_size(seed_letters[seed_id])
        for rule in ("chars", "lines", "blocks", "table_rows"):
            assert getattr(size, rule) * 5 <= limits[rule], (seed_id, rule, size)
        typed = seed_text(seed_id)
        assert check_letter_size(typed) is None
        assert len(typed.splitlines()) * 5 <= limits["typed_lines"]
    six_pages = measure_letter(hand_built_seed("001"))
    assert (six_pages.chars, six_pages.blocks) == (2971, 15)
    assert 110 <= six_pages.lines <= 140  # 6 pages of 22 lines, less the header's room


RULE_ALONE = {
    # Half-width text counts half a character's width: 41,000 characters in ~730 lines.
    "chars": lambda: " ".join(["Lorem ipsum dolor sit amet"] * 1_520),
    # 700 paragraphs of 56 characters: three lines each (with the indent), 2,100 lines.
    "lines": lambda: "\n".join(cjk(56) for _ in range(700)),
    "blocks": lambda: "\n".join("字" for _ in range(900)),
    "table_rows": lambda: "\n".join("项目\t金额\t进度" for _ in range(250)),
}


@pytest.mark.parametrize("rule", RULE_ALONE)
def test_each_rule_refuses_on_its_own_and_names_its_limit(rule):
    with pytest.raises(LetterTooLarge) as refused:
        check_letter_size(letter_with(RULE_ALONE[rule]()))
    (excess,) = refused.value.exceeded
    assert excess.rule == rule and excess.limit == letter_limits()[rule]
    assert f"上限{excess.limit:,}" in refused.value.message


def test_a_typed_body_is_refused_by_its_lines_before_it_is_parsed(monkeypatch):
    monkeypatch.setattr(replies.pdf_limits, "measure_letter", None)  # nothing is parsed or measured
    assert check_letter_size("\n\n".join("段落" for _ in range(1_600))) is None  # 3,199 lines
    started = time.perf_counter()
    with pytest.raises(LetterTooLarge) as refused:
        check_letter_size("\n".join("字" for _ in range(200_000)))  # what a 2.5 MB form holds
    assert time.perf_counter() - started < 0.2
    (excess,) = refused.value.exceeded
    assert (excess.rule, excess.size, excess.limit) == ("typed_lines", 200_000, 3_200)


def test_a_pasted_table_is_told_apart_from_prose():
    rows = ["| 项目 | 金额 |", "项目\t金额", "道路改造    三百万元    已完工"]
    prose = ["一、总体情况", "我委会同区相关部门，持续推进产业结构优化。", "达到 55.26% 以上"]
    size = measure_letter(letter_with("\n".join(rows + prose)))
    assert (size.blocks, size.table_rows) == (6, 3)


def test_the_bounds_can_be_set_in_the_settings(settings):
    settings.LETTER_MAX_BLOCKS = 10
    check_letter_size(letter_with("\n".join("字" for _ in range(10))))
    with pytest.raises(LetterTooLarge, match="正文共11段，上限10段"):
        check_letter_size(letter_with("\n".join("字" for _ in range(11))))


# --- Rendering in a child process -------------------------------------------------------------


def at_every_bound() -> Letter:
    """A letter just inside every bound at once: as many paragraphs as allowed, a quarter of
    them table rows, headings of each level, and as many printed lines as allowed."""
    limits = letter_limits()
    levels = ("一、", "（一）", "1.", "（1）")
    rows = ["\t".join(cjk(5) for _ in range(8)) for _ in range(limits["table_rows"])]
    headings = [f"{levels[i % 4]}{cjk(8)}。{cjk(30)}" for i in range(300)]
    lines = rows + headings
    while len(lines) < limits["blocks"]:
        lines.append("字")
    letter = letter_with("\n".join(lines))
    # Lengthen the one-character paragraphs until the letter is at the line bound.
    body = list(letter.body)
    index = len(body) - 1
    while measure_letter(replace(letter, body=tuple(body))).lines < limits["lines"] - 2:
        body[index] = Block(cjk(54))
        index -= 1
    return replace(letter, body=tuple(body))


@pytest.mark.slow
def test_a_letter_at_every_bound_renders_inside_the_previews_limits():
    letter = at_every_bound()
    size = check_letter_size(letter)
    limits = letter_limits()
    assert size.blocks == limits["blocks"] and size.table_rows == limits["table_rows"]
    assert size.lines >= limits["lines"] - 30
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    data = render_letter_pdf_isolated(
        letter, seconds=previews.PREVIEW_TIME_LIMIT, memory_mb=previews.PREVIEW_MEMORY_MB
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert data.startswith(b"%PDF")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # Measured: ~3.5–4.5 s of CPU, the child peaking at ~245 MB RSS (the caller's ~180 MB
    # included, shared). The limits are in CPU seconds, and three times that of waiting.
    assert cpu < previews.PREVIEW_TIME_LIMIT and elapsed < previews.PREVIEW_WALL_LIMIT


def test_the_childs_limits_stop_a_render_and_leave_the_caller_as_it_was(monkeypatch):
    letter = hand_built_seed("001")
    limits = {r: resource.getrlimit(r) for r in (resource.RLIMIT_AS, resource.RLIMIT_CPU)}
    real = replies.pdf.render_letter_pdf

    def runaway(letter):  # a layout that keeps growing, as the probe's did (1.08 GB)
        grown = []
        while True:
            grown.append(bytearray(16 << 20))

    def spinning(letter):  # one that never ends
        while True:
            pass

    def broken(letter):
        raise ValueError("坏了")

    monkeypatch.setattr(replies.pdf, "render_letter_pdf", runaway)
    started = time.perf_counter()
    with pytest.raises(RenderFailed, match="所需内存超过上限（64 MB）"):
        render_letter_pdf_isolated(letter, seconds=20, memory_mb=64)
    monkeypatch.setattr(replies.pdf, "render_letter_pdf", spinning)
    with pytest.raises(RenderFailed, match="超时"):
        render_letter_pdf_isolated(letter, seconds=0.5, memory_mb=384)
    assert time.perf_counter() - started < 5
    monkeypatch.setattr(replies.pdf, "render_letter_pdf", broken)
    with pytest.raises(RenderFailed, match="生成PDF出错") as failed:
        render_letter_pdf_isolated(letter, seconds=20, memory_mb=384)
    assert "ValueError: 坏了" in str(failed.value)

    # The caller's own limits are untouched, and it renders as before.
    assert {r: resource.getrlimit(r) for r in limits} == limits
    monkeypatch.setattr(replies.pdf, "render_letter_pdf", real)
    assert render_letter_pdf_isolated(letter, seconds=20, memory_mb=384).startswith(b"%PDF")


# --- Signing: no 文号 for a letter that cannot be rendered --------------------------------------


def pending_reply(assigned, clerk, body: str) -> Reply:
    reply = rwf.start_reply(assigned["lead"], actor=clerk)
    reply = rwf.edit_reply(
        reply, actor=clerk, version=reply.version, result_label="采纳", body=reply.body + body
    )
    return rwf.submit_reply(reply, actor=clerk, override_reason="会办意见已电话沟通")


def pending_opinion(assigned, clerk, body: str) -> CoOpinion:
    opinion = rwf.start_opinion(assigned["co"], actor=clerk)
    opinion = rwf.edit_opinion(opinion, actor=clerk, version=opinion.version, body=body)
    return rwf.submit_opinion(opinion, actor=clerk)


def counters() -> dict[int, int]:
    return dict(DocNumberCounter.objects.values_list("unit_id", "last_number"))


@pytest.mark.django_db
@pytest.mark.parametrize("probe", PROBE_BODIES)
def test_a_reply_over_the_bounds_cannot_be_signed_and_takes_no_doc_number(
    probe, assigned, clerk_a, signer_a, django_capture_on_commit_callbacks, monkeypatch
):
    refuse_weasyprint(monkeypatch)
    reply = pending_reply(assigned, clerk_a, PROBE_BODIES[probe])
    before = counters()
    with (
        django_capture_on_commit_callbacks() as queued,
        pytest.raises(rwf.InvalidInput) as refused,
    ):
        rwf.sign_reply(reply, actor=signer_a)
    assert refused.value.message.startswith("篇幅超出上限：")
    assert all(part in refused.value.message for part in PROBE_REFUSALS[probe])
    assert counters() == before and queued == []
    reply.refresh_from_db()
    assert (reply.state, reply.docno_number, reply.signed_on) == ("pending_signature", None, None)
    assert not Transition.objects.filter(verb="sign").exists()

    # The unit's next letter gets the number the refused one did not take.
    rwf.return_reply(reply, actor=signer_a, comment="正文误粘贴，请改")
    reply = rwf.edit_reply(reply, actor=clerk_a, version=reply.version, body="具体措施。")
    reply = rwf.submit_reply(reply, actor=clerk_a, override_reason="会办意见已电话沟通")
    assert rwf.sign_reply(reply, actor=signer_a).docno_number == 1


@pytest.mark.django_db
@pytest.mark.parametrize("probe", PROBE_BODIES)
def test_a_co_handling_opinion_over_the_bounds_cannot_be_signed_either(
    probe, assigned, clerk_b, signer_b, monkeypatch
):
    refuse_weasyprint(monkeypatch)
    opinion = pending_opinion(assigned, clerk_b, PROBE_BODIES[probe])
    before = counters()
    with pytest.raises(rwf.InvalidInput, match="篇幅超出上限"):
        rwf.sign_opinion(opinion, actor=signer_b)
    assert counters() == before
    opinion.refresh_from_db()
    assert (opinion.state, opinion.docno_number) == ("pending_signature", None)


# --- Saving a draft and previewing it -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("probe", PROBE_BODIES)
def test_saving_a_draft_over_the_bounds_is_refused_with_the_limit_and_the_size(
    probe, client, assigned, clerk_a, clerk_b, monkeypatch
):
    refuse_weasyprint(monkeypatch)
    reply = rwf.start_reply(assigned["lead"], actor=clerk_a)
    opinion = rwf.start_opinion(assigned["co"], actor=clerk_b)
    for letter, clerk in ((reply, clerk_a), (opinion, clerk_b)):
        client.force_login(clerk, backend=MODEL_BACKEND)
        model = letter._meta.model_name
        response = client.post(
            url(model, "change", letter.pk), form_data(letter, body=PROBE_BODIES[probe])
        )
        assert response.status_code == 200  # the form again, with the error
        errors = response.context["adminform"].form.errors["body"]
        assert errors[0].startswith("篇幅超出上限：")
        assert all(part in errors[0] for part in PROBE_REFUSALS[probe]), errors
        saved = type(letter).objects.get(pk=letter.pk)
        assert (saved.version, saved.body) == (letter.version, letter.body)


@pytest.mark.django_db
@pytest.mark.parametrize("probe", PROBE_BODIES)
def test_previewing_a_letter_over_the_bounds_answers_at_once_and_queues_nothing(
    probe, client, draft, clerk_a, monkeypatch
):
    refuse_weasyprint(monkeypatch)

    def no_render(*args, **kwargs):
        raise AssertionError("a preview was queued")

    monkeypatch.setattr(previews, "start", no_render)
    client.force_login(clerk_a, backend=MODEL_BACKEND)
    client.get(url("reply", "change", draft.pk))  # the process's first admin page
    started = time.perf_counter()
    typed = client.post(
        url("reply", "preview", draft.pk), form_data(draft, body=PROBE_BODIES[probe])
    )
    assert time.perf_counter() - started < 1
    # A draft saved over the bounds before they existed: its saved text is refused the same way.
    Reply.objects.filter(pk=draft.pk).update(body=PROBE_BODIES[probe])
    started = time.perf_counter()
    saved = client.get(url("reply", "preview", draft.pk))
    assert time.perf_counter() - started < 1
    for response in (typed, saved):
        html = response.content.decode()
        assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
        assert "无法预览" in html and "篇幅超出上限" in html
