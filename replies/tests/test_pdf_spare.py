"""The spare render child (``replies.pdf_spare``, issue 24): forked and warmed after a preview,
it renders the next one exactly as a child forked for it would, under the same limits, keeps
none of its parent's connections, and is never used when it is dead or stale."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import replace

import pytest

import replies.pdf
from replies import pdf_spare
from replies.pdf import RenderFailed, render_letter_pdf, render_letter_pdf_isolated
from replies.tests.test_letter_bounds import at_every_bound


@pytest.fixture(autouse=True)
def no_spare_left():
    pdf_spare.drop()
    yield
    pdf_spare.drop()


def alive(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == 0
    except ChildProcessError:
        return False


def descriptors(pid: int) -> list[str]:
    links = []
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            links.append(os.readlink(f"/proc/{pid}/fd/{name}"))
        except OSError:
            continue
    return links


def spare_after_warm_up() -> pdf_spare.Spare:
    pdf_spare.start()
    spare = pdf_spare._spare
    assert spare is not None and alive(spare.pid)
    time.sleep(1.0)  # its warm-up (the seed's first page) done: it waits for a letter
    return spare


def test_a_spare_renders_the_same_pdf_and_the_next_is_forked(seed_letters):
    letter = replace(seed_letters["001"], draft=True)
    spare = spare_after_warm_up()
    firsts: list[bytes] = []
    data = render_letter_pdf_isolated(
        letter, seconds=20, memory_mb=384, first_page=firsts.append, spare=True
    )
    assert data == render_letter_pdf(letter)
    assert len(firsts) == 1
    assert not alive(spare.pid)  # used once, collected
    following = pdf_spare._spare
    assert following is not None and following.pid != spare.pid and alive(following.pid)


def test_a_spare_keeps_none_of_its_parents_sockets_or_pipes():
    ours = socket.socketpair()
    try:
        spare = spare_after_warm_up()
        links = descriptors(spare.pid)
    finally:
        for end in ours:
            end.close()
    assert not [link for link in links if link.startswith(("socket:", "anon_inode:"))]
    assert len([link for link in links if link.startswith("pipe:")]) == 2  # its own two


def test_a_spare_leaves_when_let_go():
    spare = spare_after_warm_up()
    pdf_spare.drop()
    assert not alive(spare.pid) and pdf_spare._spare is None


def test_a_dead_spare_is_not_used(seed_letters):
    spare = spare_after_warm_up()
    os.kill(spare.pid, 9)
    time.sleep(0.2)
    letter = seed_letters["003"]
    data = render_letter_pdf_isolated(letter, seconds=20, memory_mb=384, spare=True)
    assert data == render_letter_pdf(letter)


def test_a_spare_forked_before_the_renderer_was_replaced_is_not_used(monkeypatch, seed_letters):
    spare = spare_after_warm_up()

    def fake(letter):
        return b"%PDF-1.7 the replaced renderer"

    monkeypatch.setattr(replies.pdf, "render_letter_pdf", fake)
    data = render_letter_pdf_isolated(seed_letters["001"], seconds=20, memory_mb=384, spare=True)
    assert data == b"%PDF-1.7 the replaced renderer"  # a child forked now rendered it
    assert not alive(spare.pid)


def test_a_spare_renders_under_the_time_limit_counted_from_its_warm_up():
    spare_after_warm_up()
    with pytest.raises(RenderFailed) as failed:
        render_letter_pdf_isolated(at_every_bound(), seconds=0.5, memory_mb=384, spare=True)
    assert "超时" in failed.value.message
