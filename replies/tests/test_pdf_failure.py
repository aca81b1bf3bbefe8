"""A signed letter whose PDF cannot be rendered: the failure is recorded with its reason, the
letter ends in 生成失败 (its text and 文号 untouched), the dashboards show it with 重新生成, 送达
is refused with nothing saved and no e-mail, and 重新生成 after the cause is fixed renders it.

The failures are real ones: ``MEDIA_ROOT`` under a file (the storage cannot create its folder:
what an unwritable volume gives), and the renderer raising (a missing font). The render runs
eagerly on commit, as it does without a broker; the retries of the Celery task against a real
worker are in ``tracker/tests/test_redis_outage.py``.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from proposals import workflow as pwf
from proposals.models import Assignment, PendingEvent, Transition
from proposals.tests import factories as f
from proposals.workflow import NotAllowed, WrongState
from replies import tasks
from replies import workflow as rwf
from replies.models import CoOpinion, Reply

pytestmark = pytest.mark.django_db


def doc_number(prefix: str) -> str:
    """The first 文号 of the year a letter signed today gets."""
    return f"{prefix}〔{timezone.localdate().year}〕1号"


@pytest.fixture
def eager():
    """Tasks run in-process, as without ``REDIS_URL``."""
    app = tasks.render_signed_pdf.app
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def unwritable_media(settings, tmp_path):
    """A MEDIA_ROOT the storage cannot write to, whoever runs the tests (root included)."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker / "media"
    return blocker


@pytest.fixture
def pending(session, committee, unit_a, unit_b, clerk_a, clerk_b):
    """A reply of unit A awaiting its signature (B co-handles, its opinion not in yet)."""
    proposal = f.ProposalFactory(session=session, title="关于推进产业内循环招商的建议")
    pwf.file_proposal(proposal, actor=committee)
    lead, co = pwf.assign_proposal(
        proposal,
        actor=committee,
        units=[(unit_a, Assignment.Role.LEAD), (unit_b, Assignment.Role.CO)],
        assigned_on=datetime.date(2026, 3, 2),
    )
    pwf.accept_assignment(lead, actor=clerk_a)
    pwf.accept_assignment(co, actor=clerk_b)
    reply = rwf.start_reply(lead, actor=clerk_a)
    reply = rwf.edit_reply(
        reply,
        actor=clerk_a,
        version=reply.version,
        result_label="采纳",
        body=reply.body + "一、腾笼换鸟\n具体措施。",
    )
    return rwf.submit_reply(reply, actor=clerk_a, override_reason="会办意见已电话沟通")


def sign(client, reply, signer, capture):
    """The signer signs in the admin; the render runs on commit."""
    client.force_login(signer)
    with capture(execute=True):
        response = client.post(
            reverse("admin:replies_reply_verb", args=[reply.pk, "sign"]),
            {"apply": "1", "confirm": "on"},
        )
    assert response.status_code == 302
    return Reply.objects.get(pk=reply.pk)


def frozen(letter) -> dict:
    return {f: getattr(letter, "signer_id" if f == "signer" else f) for f in letter.FROZEN_FIELDS}


def audit(letter, verb: str) -> list[Transition]:
    return list(
        Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(letter), object_id=letter.pk, verb=verb
        )
    )


def test_an_unwritable_media_root_ends_in_generation_failed_with_the_reason(
    client, pending, signer_a, unwritable_media, eager, django_capture_on_commit_callbacks
):
    reply = sign(client, pending, signer_a, django_capture_on_commit_callbacks)

    assert reply.state == Reply.State.SIGNED and reply.doc_number == doc_number("长发改")
    assert not reply.pdf and not reply.pdf_sha256
    assert reply.pdf_failed and reply.pdf_attempts == 1
    assert reply.pdf_error.startswith("读写文件失败")
    assert "Not a directory" in reply.pdf_error
    (failed,) = audit(reply, "pdf_failed")
    assert failed.actor is None and reply.pdf_error in failed.note
    # Nothing else moved: the letter stays signed, its 文号 and text as signed.
    assert failed.from_state == failed.to_state == Reply.State.SIGNED


def test_a_failing_renderer_is_retried_until_generation_failed_text_and_number_unchanged(
    pending, signer_a, media, monkeypatch
):
    reply = rwf.sign_reply(pending, actor=signer_a)  # the on-commit task never runs here
    before = frozen(reply)

    def broken(letter):
        raise RuntimeError("font 'FangSong' not found")

    monkeypatch.setattr("replies.pdf.render_letter_pdf", broken)
    for attempt in (1, 2):
        with pytest.raises(rwf.PdfRenderFailed):
            rwf.store_signed_pdf("reply", reply.pk, max_attempts=3)
        reply.refresh_from_db()
        assert (reply.pdf_attempts, reply.pdf_failed) == (attempt, False)
        assert rwf.unrendered_letters(
            now=reply.signed_at + datetime.timedelta(hours=1), grace=rwf.RENDER_GRACE, limit=9
        ) == [("reply", reply.pk)]
    assert rwf.store_signed_pdf("reply", reply.pk, max_attempts=3) is False

    reply.refresh_from_db()
    assert reply.pdf_failed and reply.pdf_attempts == 3
    assert reply.pdf_error == "生成PDF出错：RuntimeError: font 'FangSong' not found"
    assert frozen(reply) == before
    assert len(audit(reply, "pdf_failed")) == 1
    # The hourly sweep leaves it to a person: rendering it every hour would fail every hour.
    later = reply.signed_at + datetime.timedelta(hours=2)
    assert rwf.unrendered_letters(now=later, grace=rwf.RENDER_GRACE, limit=9) == []


def test_the_failure_and_the_rerender_action_show_on_the_units_and_the_committees_dashboard(
    client,
    pending,
    signer_a,
    clerk_a,
    clerk_b,
    committee,
    supervisor,
    unwritable_media,
    eager,
    django_capture_on_commit_callbacks,
):
    reply = sign(client, pending, signer_a, django_capture_on_commit_callbacks)
    rerender = reverse("admin:replies_reply_verb", args=[reply.pk, "rerender"])
    for user in (clerk_a, signer_a, committee):
        client.force_login(user)
        html = client.get(reverse("admin:index")).content.decode()
        assert 'id="fault-pdf_failed"' in html, user
        assert "生成失败（1次）" in html and "Not a directory" in html
        assert reply.doc_number in html and f'href="{rerender}"' in html
    # Another unit has nothing to do with it; the supervision office only looks, elsewhere.
    for user in (clerk_b, supervisor):
        client.force_login(user)
        html = client.get(reverse("admin:index")).content.decode()
        assert 'id="fault-pdf_failed"' not in html and reply.doc_number not in html
    # The letter's own page says what happened and offers 重新生成, not 送达.
    client.force_login(clerk_a)
    page = client.get(reverse("admin:replies_reply_change", args=[reply.pk])).content.decode()
    assert "签发件生成失败：读写文件失败" in page and "重新生成签发件" in page
    assert reverse("admin:replies_reply_verb", args=[reply.pk, "send"]) not in page
    # The list filters it out for whoever has many (the dashboard's 查看全部 link).
    listed = reverse("admin:replies_reply_changelist")
    for value, count in (("failed", 1), ("missing", 1)):
        cl = client.get(f"{listed}?pdf={value}").context["cl"]
        assert [r.pk for r in cl.result_list] == [reply.pk] * count
    Reply.objects.filter(pk=reply.pk).update(pdf_failed_at=None)
    assert client.get(f"{listed}?pdf=failed").context["cl"].result_count == 0


def test_sending_a_letter_in_generation_failed_is_refused_and_nothing_is_saved(
    client,
    pending,
    signer_a,
    clerk_a,
    unwritable_media,
    eager,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    reply = sign(client, pending, signer_a, django_capture_on_commit_callbacks)
    transitions = Transition.objects.count()
    client.force_login(clerk_a)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        # The change page's button (after its confirmation page) …
        page = client.post(
            reverse("admin:replies_reply_verb", args=[reply.pk, "send"]),
            {"apply": "1"},
            follow=True,
        )
        # … and the changelist's action.
        listed = client.post(
            reverse("admin:replies_reply_changelist"),
            {"action": "send", ACTION_CHECKBOX_NAME: [reply.pk]},
            follow=True,
        )

    for response in (page, listed):
        said = [str(m) for m in response.context["messages"]]
        assert any("签发件生成失败" in m and "不能送达" in m and "重新生成" in m for m in said)
    with pytest.raises(WrongState) as refused:
        rwf.send_reply(reply, actor=clerk_a)
    assert refused.value.code == "pdf_failed"
    reply.refresh_from_db()
    assert (reply.state, reply.sent_at) == (Reply.State.SIGNED, None)
    assert Transition.objects.count() == transitions
    assert not PendingEvent.objects.filter(name="reply_sent").exists()
    assert callbacks == [] and mailoutbox == []
    assert Assignment.objects.get(pk=reply.assignment_id).state == Assignment.State.ACCEPTED


def test_rerender_after_fixing_the_cause_renders_the_pdf_and_is_audited(
    client,
    pending,
    signer_a,
    clerk_a,
    settings,
    tmp_path,
    unwritable_media,
    eager,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    reply = sign(client, pending, signer_a, django_capture_on_commit_callbacks)
    assert reply.pdf_failed
    signed = frozen(reply)
    reason = reply.pdf_error

    settings.MEDIA_ROOT = tmp_path / "fixed-media"  # the operator fixes the volume
    client.force_login(clerk_a)
    rerender = reverse("admin:replies_reply_verb", args=[reply.pk, "rerender"])
    assert "重新生成签发件" in client.get(rerender).content.decode()  # the confirmation page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(rerender, {"apply": "1"}, follow=True)

    assert any("已重新提交生成签发件" in str(m) for m in response.context["messages"])
    reply.refresh_from_db()
    assert reply.pdf_sha256 and reply.pdf.read(5) == b"%PDF-"
    assert (reply.pdf_failed, reply.pdf_attempts, reply.pdf_error) == (False, 0, "")
    assert frozen(reply) == signed and reply.doc_number == doc_number("长发改")
    (audited,) = audit(reply, "rerender")
    assert audited.actor == clerk_a and audited.note == reason
    # Now it may go to the proposers.
    with django_capture_on_commit_callbacks(execute=True):
        rwf.send_reply(reply, actor=clerk_a)
    assert Reply.objects.get(pk=reply.pk).state == Reply.State.SENT


def test_sending_renders_a_pdf_that_was_not_rendered_yet_or_refuses_with_the_reason(
    pending, signer_a, clerk_a, media, monkeypatch, django_capture_on_commit_callbacks
):
    reply = rwf.sign_reply(pending, actor=signer_a)  # its render task never ran (no commit)

    def disk_full(letter):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("replies.pdf.render_letter_pdf", disk_full)
    with pytest.raises(WrongState) as refused:
        rwf.send_reply(reply, actor=clerk_a)
    assert refused.value.code == "pdf_missing"
    assert "No space left on device" in refused.value.message
    reply.refresh_from_db()
    assert (reply.state, reply.pdf_sha256, reply.pdf_failed) == (Reply.State.SIGNED, "", False)
    assert not audit(reply, "send") and not PendingEvent.objects.filter(name="reply_sent")

    monkeypatch.undo()
    rwf.send_reply(reply, actor=clerk_a)
    reply.refresh_from_db()
    assert reply.state == Reply.State.SENT and reply.pdf.read(5) == b"%PDF-"


def test_rerender_is_refused_for_a_stored_pdf_and_for_who_may_not(
    pending, signer_a, clerk_a, clerk_b, supervisor, committee, media
):
    with pytest.raises(WrongState):  # nothing to render before the signature
        rwf.rerender_pdf(pending, actor=clerk_a)
    reply = rwf.sign_reply(pending, actor=signer_a)
    with pytest.raises(NotAllowed):
        rwf.rerender_pdf(reply, actor=clerk_b)
    with pytest.raises(NotAllowed):
        rwf.rerender_pdf(reply, actor=supervisor)
    rwf.rerender_pdf(reply, actor=committee)  # the committee may, for any unit
    assert rwf.store_signed_pdf("reply", reply.pk)
    with pytest.raises(WrongState, match="签发件已生成"):
        rwf.rerender_pdf(Reply.objects.get(pk=reply.pk), actor=clerk_a)


def test_a_co_handling_opinion_fails_and_is_rerendered_the_same_way(
    client,
    session,
    committee,
    unit_a,
    unit_b,
    clerk_b,
    unwritable_media,
    eager,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    signer_b = f.UserFactory(username="signer_b")
    f.MembershipFactory(user=signer_b, unit=unit_b, role="signer")
    proposal = f.ProposalFactory(session=session)
    pwf.file_proposal(proposal, actor=committee)
    _lead, co = pwf.assign_proposal(
        proposal, actor=committee, units=[(unit_a, "lead"), (unit_b, "co")]
    )
    pwf.accept_assignment(co, actor=clerk_b)
    opinion = rwf.start_opinion(co, actor=clerk_b)
    rwf.submit_opinion(opinion, actor=clerk_b)
    with django_capture_on_commit_callbacks(execute=True):
        rwf.sign_opinion(opinion, actor=signer_b)
    opinion = CoOpinion.objects.get(pk=opinion.pk)
    assert opinion.pdf_failed and opinion.doc_number == doc_number("长商务")

    client.force_login(committee)
    html = client.get(reverse("admin:index")).content.decode()
    rerender = reverse("admin:replies_coopinion_verb", args=[opinion.pk, "rerender"])
    assert opinion.doc_number in html and f'href="{rerender}"' in html

    settings.MEDIA_ROOT = tmp_path / "fixed"
    with django_capture_on_commit_callbacks(execute=True):
        rwf.rerender_pdf(opinion, actor=clerk_b)
    opinion.refresh_from_db()
    assert opinion.pdf_sha256 and not opinion.pdf_failed
    html = client.get(reverse("admin:index")).content.decode()
    assert 'id="fault-pdf_failed"' not in html
