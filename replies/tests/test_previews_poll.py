"""How a preview request waits for the worker (``replies.previews.wait``, issue 24): it looks at
the record every ``POLL_EVERY`` seconds and answers at the first look that finds it done, so
the PDF reaches the editor within one short interval of being stored. No clock is read here:
``time.sleep`` and the record are stand-ins."""

from __future__ import annotations

from replies import previews


def _looks(monkeypatch, states: list[str]) -> tuple[list[float], list[str]]:
    slept: list[float] = []
    seen = iter(states)
    monkeypatch.setattr(previews.time, "sleep", slept.append)
    monkeypatch.setattr(previews, "get", lambda token: {"token": token, "state": next(seen)})
    monkeypatch.setattr(previews.time, "monotonic", lambda: 0.0)  # never past the deadline
    return slept, states


def test_the_wait_answers_at_the_first_look_that_finds_the_pdf(monkeypatch):
    slept, _ = _looks(monkeypatch, [previews.RUNNING, previews.RUNNING, previews.DONE])
    record = previews.wait({"token": "t", "state": previews.QUEUED})
    assert record["state"] == previews.DONE
    assert slept == [previews.POLL_EVERY] * 3


def test_a_failure_ends_the_wait_as_soon(monkeypatch):
    slept, _ = _looks(monkeypatch, [previews.FAILED])
    assert previews.wait({"token": "t", "state": previews.RUNNING})["state"] == previews.FAILED
    assert slept == [previews.POLL_EVERY]


def test_the_record_is_looked_at_often_enough_for_a_quick_preview():
    # A render of a seed letter takes ~0.15 s of CPU; looking every 0.1 s added 50 ms on
    # average to the 300 ms a preview may take. Looking is a Redis GET of a small record.
    assert previews.POLL_EVERY <= 0.025
    assert previews.PREVIEW_WAIT / previews.POLL_EVERY <= 100
