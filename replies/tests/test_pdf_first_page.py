"""The first page alone, ahead of the whole letter (``replies.pdf_first_page``, issue 24): it is
the first page of the whole render character for character, it comes through the child
process before the rest, and nothing else is cut short by it."""

from __future__ import annotations

import io
import threading
from dataclasses import replace

import pdfplumber
import pytest

import replies.pdf
from replies.letter import Block, Letter
from replies.pdf import render_letter_pdf, render_letter_pdf_isolated
from replies.pdf_first_page import render_first_page


def pages_of(data: bytes) -> list[list[tuple]]:
    """Each page's characters: text, position (0.01 pt), face and size."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [
            [
                (
                    c["text"],
                    round(c["x0"], 2),
                    round(c["top"], 2),
                    c["fontname"],
                    round(c["size"], 2),
                )
                for c in page.chars
            ]
            for page in pdf.pages
        ]


def one_page_letter() -> Letter:
    return Letter(
        organs=("上海市普陀区发展和改革委员会",),
        title="对区政协十五届三次会议第150002号提案的答复",
        salutation="张文浩委员：",
        body=(Block("您提出的提案收悉，现答复如下：已办理。"),),
        signature_organ="上海市普陀区发展和改革委员会",
        draft=True,
    )


@pytest.mark.parametrize("seed_id", ["001", "002"])
def test_the_first_page_is_the_whole_renders_first_page(seed_letters, seed_id):
    letter = seed_letters[seed_id]
    whole = pages_of(render_letter_pdf(letter))
    first, complete = render_first_page(letter)
    assert len(whole) > 1 and not complete
    assert pages_of(first) == whole[:1]


def test_a_draft_s_first_page_carries_the_draft_mark_and_its_page_number(draft_letter):
    first, complete = render_first_page(draft_letter)
    assert not complete
    with pdfplumber.open(io.BytesIO(first)) as pdf:
        assert len(pdf.pages) == 1
        text = pdf.pages[0].extract_text().replace(" ", "")
    assert "草" in text and "稿" in text and "—1—" in text


def test_a_letter_of_one_page_is_whole_and_the_same_file():
    letter = one_page_letter()
    first, complete = render_first_page(letter)
    assert complete
    assert first == render_letter_pdf(letter)


def test_a_letter_whose_imprint_goes_to_the_next_page_is_not_whole(seed_letters):
    # Seed 003's letter with a two-line body: its 版记 does not fit under the 落款 on page 1.
    letter = replace(seed_letters["003"], body=(Block("一、总体情况"), Block("具体措施。")))
    assert len(pages_of(render_letter_pdf(letter))) == 2
    assert render_first_page(letter)[1] is False


def test_renders_after_it_and_in_other_threads_lay_out_every_page(seed_letters, monkeypatch):
    letter = seed_letters["001"]
    pages = len(pages_of(render_letter_pdf(letter)))
    seen: list[int] = []
    real = replies.pdf.render_letter_pdf

    def render_in_another_thread(*args, **kwargs):
        # While this thread lays out only its first page, another thread's render is whole.
        other = threading.Thread(target=lambda: seen.append(len(pages_of(real(letter)))))
        other.start()
        other.join()
        return real(*args, **kwargs)

    monkeypatch.setattr(replies.pdf, "render_letter_pdf", render_in_another_thread)
    render_first_page(letter)
    assert seen == [pages]
    monkeypatch.setattr(replies.pdf, "render_letter_pdf", real)

    def broken(letter):
        raise RuntimeError("a failing layout")

    monkeypatch.setattr(replies.pdf, "render_letter_pdf", broken)
    with pytest.raises(RuntimeError):
        render_first_page(letter)
    monkeypatch.setattr(replies.pdf, "render_letter_pdf", real)
    assert len(pages_of(render_letter_pdf(letter))) == pages  # the switch is off again


def test_the_child_sends_the_first_page_before_the_whole_letter(seed_letters):
    letter = seed_letters["001"]
    firsts: list[bytes] = []
    data = render_letter_pdf_isolated(letter, seconds=20, memory_mb=384, first_page=firsts.append)
    assert len(firsts) == 1
    assert pages_of(firsts[0]) == pages_of(data)[:1]
    assert len(pages_of(data)) == len(pages_of(render_letter_pdf(letter)))


def test_a_one_page_letter_is_laid_out_once_in_the_child():
    letter = one_page_letter()
    firsts: list[bytes] = []
    data = render_letter_pdf_isolated(letter, seconds=20, memory_mb=384, first_page=firsts.append)
    assert firsts == [data]
    assert data == render_letter_pdf(letter)


def test_without_the_callback_the_child_sends_the_whole_letter_only(seed_letters):
    letter = seed_letters["001"]
    assert render_letter_pdf_isolated(letter, seconds=20, memory_mb=384) == render_letter_pdf(
        letter
    )


def test_a_first_page_that_fails_leaves_the_whole_render_to_say_why(monkeypatch, seed_letters):
    def broken(letter):
        raise RuntimeError("first page")

    monkeypatch.setattr(replies.pdf, "render_first_page", broken)
    firsts: list[bytes] = []
    data = render_letter_pdf_isolated(
        seed_letters["001"], seconds=20, memory_mb=384, first_page=firsts.append
    )
    assert firsts == [] and data.startswith(b"%PDF")
