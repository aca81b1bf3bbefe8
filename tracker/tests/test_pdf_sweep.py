"""The hourly sweep for signed letters whose PDF was never stored
(``replies.tasks.render_missing_pdfs``): a render task lost with the broker is made up for, and
nothing is rendered twice."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from replies import rendering, tasks
from replies import workflow as rwf
from replies.models import CoOpinion, Reply
from replies.workflow import replies as rwf_replies
from tracker.tests import api_support as s

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def signed(committee, session, tmp_path, settings, monkeypatch):
    """A reply and a co-handling opinion, both signed; their on-commit render never ran (the
    test's transaction does not commit), as if the broker had lost the task. (送达 renders a
    missing PDF itself — ``replies.workflow.replies._require_pdf`` — so it is sent here without
    that: a reply that reached the system without one, as an imported letter does. A stored PDF
    cannot be dropped afterwards: the database writes it once.)"""
    settings.MEDIA_ROOT = tmp_path
    p1 = s.member("p1", "张文浩")
    with monkeypatch.context() as patch:
        patch.setattr(rwf_replies, "_require_pdf", lambda reply: None)
        done = s.handled(s.handling(committee), session=session, lead=p1.proposer)
    return done


def test_signed_letters_without_a_pdf_are_found_once_the_grace_period_is_over(signed):
    reply = signed.reply
    opinion = CoOpinion.objects.get(assignment=signed.co)
    assert not reply.pdf_sha256 and not opinion.pdf_sha256
    grace = datetime.timedelta(minutes=15)
    assert rwf.unrendered_letters(grace=grace, limit=10) == []  # just signed: its task may run
    later = timezone.now() + HOUR
    found = rwf.unrendered_letters(now=later, grace=grace, limit=10)
    assert sorted(found) == [("opinion", opinion.pk), ("reply", reply.pk)]
    assert len(rwf.unrendered_letters(now=later, grace=grace, limit=1)) == 1


def test_the_sweep_renders_each_missing_pdf_once(signed, eager_tasks, monkeypatch):
    real = rwf.unrendered_letters
    monkeypatch.setattr(
        rendering, "unrendered_letters", lambda **kw: real(now=timezone.now() + HOUR, **kw)
    )
    assert tasks.render_missing_pdfs() == 2
    reply = Reply.objects.get(pk=signed.reply.pk)
    opinion = CoOpinion.objects.get(assignment=signed.co)
    assert reply.pdf_sha256 and reply.pdf.read(5) == b"%PDF-"
    assert opinion.pdf_sha256
    assert tasks.render_missing_pdfs() == 0  # nothing left, nothing rendered again
    assert Reply.objects.get(pk=reply.pk).pdf_sha256 == reply.pdf_sha256


def test_unsigned_drafts_are_not_swept(committee, session, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    p1 = s.member("p1", "张文浩")
    h = s.handling(committee)
    done = s.handled(h, session=session, lead=p1.proposer, store_pdf=True)
    s.draft_reply_with_canary(h, done.lead)
    later = timezone.now() + HOUR
    assert rwf.unrendered_letters(now=later, grace=HOUR, limit=10) == [
        ("opinion", CoOpinion.objects.get(assignment=done.co).pk)
    ]


def test_the_sweep_runs_hourly_in_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["hourly-render-missing-pdfs"]
    assert entry["task"] == tasks.render_missing_pdfs.name
