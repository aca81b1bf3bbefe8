"""The session ZIP of signed replies (issue 17, row 4): a letter that fails to render is left
out, the job finishes, and it says which letters it left out and why — where the probe's job,
given a 75,000-character letter signed before the size rules, stayed at "15/48" for ever."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

import replies.pdf
from proposals import workflow as pwf
from proposals.models import Assignment
from proposals.tests import factories as f
from replies import workflow as rwf
from replies.models import Reply
from replies.workflow import common as rwf_common
from tracker import admin_tasks, jobs

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
BODY = "一、总体情况\n我委会同区相关部门，持续推进产业结构优化。\n二、下一步工作\n认真吸收建议。"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def signed_reply(session, committee, unit, clerk, signer, body: str = BODY) -> Reply:
    proposal = f.ProposalFactory(session=session, title="关于推进产业发展的建议")
    pwf.file_proposal(proposal, actor=committee)
    (lead,) = pwf.assign_proposal(proposal, actor=committee, units=[(unit, Assignment.Role.LEAD)])
    pwf.accept_assignment(lead, actor=clerk)
    reply = rwf.start_reply(lead, actor=clerk)
    reply = rwf.edit_reply(
        reply, actor=clerk, version=reply.version, result_label="采纳", body=reply.body + body
    )
    rwf.submit_reply(reply, actor=clerk)
    return rwf.sign_reply(reply, actor=signer)


def signed_before_the_rules(monkeypatch, *args) -> Reply:
    """A 75,000-character reply signed as the probe signed it, before the size rules."""
    with monkeypatch.context() as m:
        m.setattr(rwf_common, "_require_renderable", lambda obj: None)
        return signed_reply(*args, body="字" * 75_000)


def start_job(committee, session) -> str:
    payload = {"session_id": session.pk, "session": str(session)}
    return jobs.create(admin_tasks.SESSION_PDFS, user_id=committee.pk, payload=payload)


def zip_names(job) -> list[str]:
    with default_storage.open(job["result"]["path"], "rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read())).namelist()


def test_a_letter_that_cannot_be_rendered_is_left_out_and_the_job_says_which_and_why(
    client, media, monkeypatch, session, committee, unit_a, clerk_a, signer_a
):
    people = (session, committee, unit_a, clerk_a, signer_a)
    first = signed_reply(*people)
    too_large = signed_before_the_rules(monkeypatch, *people)
    last = signed_reply(*people)

    job_id = start_job(committee, session)
    admin_tasks.render_session_pdfs(job_id)  # the Celery task, run here

    job = jobs.get(job_id)
    assert (job["state"], job["done"], job["total"]) == (jobs.DONE, 3, 3)
    (skipped,) = job["result"]["skipped"]
    assert skipped["letter"] == too_large.doc_number
    assert skipped["reason"].startswith("签发件生成失败：篇幅超出上限：共75,")
    assert job["message"].startswith(
        f"已打包 2 份答复函。未打包 1 份：{too_large.doc_number}（签发件生成失败：篇幅超出上限："
    )
    assert job["result"]["count"] == 2
    names = zip_names(job)
    assert len(names) == 2
    assert all(any(letter.doc_number in name for name in names) for letter in (first, last))
    too_large.refresh_from_db()
    assert too_large.pdf_failed and not too_large.pdf  # recorded as the signed render would

    # What the user reads on the job's page.
    client.force_login(committee, backend=MODEL_BACKEND)
    page = client.get(reverse("tracker_admin:job", args=[job_id])).content.decode()
    assert f"未打包 1 份：{too_large.doc_number}" in page and "上限40,000字" in page


def test_a_render_that_raises_and_a_letter_in_generation_failed_are_skipped_and_the_job_ends(
    media, monkeypatch, session, committee, unit_a, clerk_a, signer_a
):
    people = (session, committee, unit_a, clerk_a, signer_a)
    failed_before = signed_reply(*people)
    broken = signed_reply(*people)
    fine = signed_reply(*people)

    def font_missing(letter):
        raise OSError("font not found")

    with monkeypatch.context() as m:  # 生成失败 before the job: its one attempt failed
        m.setattr(replies.pdf, "render_letter_pdf", font_missing)
        assert rwf.store_signed_pdf("reply", failed_before.pk) is False
    real_store = rwf.store_signed_pdf
    asked = []

    def store(kind, pk, **kwargs):
        asked.append(pk)
        if pk == broken.pk:
            raise RuntimeError("the database went away")
        return real_store(kind, pk, **kwargs)

    monkeypatch.setattr(rwf, "store_signed_pdf", store)
    job_id = start_job(committee, session)
    admin_tasks.render_session_pdfs(job_id)

    job = jobs.get(job_id)
    assert (job["state"], job["done"], job["total"]) == (jobs.DONE, 3, 3)
    reasons = {s["letter"]: s["reason"] for s in job["result"]["skipped"]}
    assert reasons == {
        failed_before.doc_number: "签发件生成失败：读写文件失败：font not found",
        broken.doc_number: "出错：RuntimeError: the database went away",
    }
    assert asked == [broken.pk, fine.pk]  # 生成失败 waits for 重新生成, it is not rendered again
    assert job["message"].startswith("已打包 1 份答复函。未打包 2 份：")
    assert len(zip_names(job)) == 1


def test_the_job_ends_failed_with_the_reason_when_the_bundle_itself_fails(
    media, monkeypatch, session, committee, unit_a, clerk_a, signer_a
):
    signed_reply(session, committee, unit_a, clerk_a, signer_a)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(default_storage, "save", disk_full)
    job_id = start_job(committee, session)
    admin_tasks.render_session_pdfs(job_id)

    job = jobs.get(job_id)
    assert job["state"] == jobs.FAILED
    assert job["message"] == "打包时出错，已中止。请联系系统管理员。"
