"""The admin's long work, run by Celery: checking and importing the committee's Excel list, and
bundling a session's signed reply letters into one ZIP.

Each job is a record in the cache (``tracker.jobs``) that the page polls for its progress; a
task takes the job's id, does one thing, and writes its outcome back. The work is in the plain
functions (``check_filed_list`` …) so tests and shells call them directly; the Celery tasks at
the bottom are one line each.

The import uses ``tracker.importing.import_filed_proposals`` — the one set of rules the API's
import uses too. The preview runs it in a transaction that is then rolled back (a dry run): the
same checks, the numbers each row would take, and nothing kept — a rolled-back filing gives its
serial back, so numbering stays gapless.
"""

from __future__ import annotations

import datetime
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from proposals.models import Session, User
from proposals.workflow import WorkflowError
from replies import workflow as replies_workflow
from replies.models import Reply
from replies.pdf_limits import LetterTooLarge, check_letter_size
from tracker import jobs
from tracker.importing import import_filed_proposals

logger = logging.getLogger(__name__)

IMPORT_CHECK, IMPORT_RUN, SESSION_PDFS = "import_check", "import_run", "session_pdfs"
EXPORTS_DIR = "exports"
#: A session's letters take minutes to render; the limits stay below Redis's visibility timeout.
PDF_SOFT_TIME_LIMIT, PDF_TIME_LIMIT = 3000, 3300


class _DryRun(Exception):
    """Raised to roll back a checked import."""


def _progress_callback(job_id: str, label: str) -> Callable[[int, int], None]:
    """``progress=`` for the importer: each filed proposal moves the job's bar."""

    def report(done: int, total: int) -> None:
        jobs.progress(job_id, done, total, label)

    return report


def _errors(result: Any, lines: list[int]) -> list[dict[str, Any]]:
    return [
        {
            "row": e.row,
            "line": lines[e.row - 1] if 1 <= e.row <= len(lines) else None,
            "field": e.field,
            "message": e.message,
        }
        for e in result.errors
    ]


def _run_import(job_id: str, *, dry_run: bool) -> dict[str, Any] | None:
    job = jobs.get(job_id)
    if job is None:
        return None
    data = job["input"]
    rows, lines = data["rows"], data["lines"]
    label = _("正在校验 %(n)d 行…") if dry_run else _("正在导入 %(n)d 件提案…")
    jobs.progress(job_id, 0, len(rows), label % {"n": len(rows)})
    try:
        actor = User.objects.get(pk=job["user_id"])
        call: Callable[[], Any] = lambda: import_filed_proposals(  # noqa: E731
            rows,
            actor=actor,
            session=data["session_id"],
            progress=_progress_callback(job_id, label % {"n": len(rows)}),
        )
        if dry_run:
            outcome: dict[str, Any] = {}
            try:
                with transaction.atomic():
                    result = call()
                    outcome["result"] = result
                    outcome["numbers"] = [p.number for p in result.proposals]
                    raise _DryRun
            except _DryRun:
                pass
            result = outcome["result"]
            numbers = outcome.get("numbers", [])
        else:
            result = call()
            numbers = [p.number for p in result.proposals]
    except (WorkflowError, User.DoesNotExist) as exc:
        message = getattr(exc, "message", "") or _("没有权限导入。")
        return jobs.update(job_id, state=jobs.FAILED, message=message)
    except Exception:
        logger.exception("import job %s failed", job_id)
        return jobs.update(
            job_id, state=jobs.FAILED, message=_("处理时出错，未导入任何提案。请联系系统管理员。")
        )
    errors = _errors(result, lines)
    if errors:
        message = _("有 %(n)d 处错误，未导入任何提案。请修改 Excel 后重新上传。") % {
            "n": len(errors)
        }
    elif dry_run:
        message = _("校验通过：%(n)d 件提案可以导入。") % {"n": len(rows)}
    else:
        message = _("已导入并立案 %(n)d 件提案。") % {"n": len(numbers)}
    return jobs.update(
        job_id,
        state=jobs.DONE,
        done=len(rows),
        total=len(rows),
        message=message,
        result={
            "errors": errors,
            "numbers": numbers,
            "imported": not dry_run and not errors,
            "proposal_ids": [p.pk for p in result.proposals] if not dry_run else [],
        },
    )


def check_filed_list(job_id: str) -> dict[str, Any] | None:
    """Preview: run the import and roll it back; the job gets the errors or the numbers."""
    return _run_import(job_id, dry_run=True)


def import_filed_list(job_id: str) -> dict[str, Any] | None:
    """Import the previewed rows for good (a second run finds them already imported)."""
    job = jobs.get(job_id)
    if job is None or (job.get("result") or {}).get("imported"):
        return job
    return _run_import(job_id, dry_run=False)


def bundle_session_pdfs(job_id: str) -> dict[str, Any] | None:
    """Every signed reply of a session in one ZIP, rendering any PDF not stored yet.

    A letter whose PDF cannot be had (生成失败, a render that fails now, a file gone) is left
    out and the job goes on: it finishes, and its message names each letter left out and why.
    """
    job = jobs.get(job_id)
    if job is None:
        return None
    session = Session.objects.filter(pk=job["input"]["session_id"]).first()
    if session is None:
        return jobs.update(job_id, state=jobs.FAILED, message=_("届次会议不存在。"))
    replies = list(
        Reply.objects.filter(proposal__session=session, signed_on__isnull=False)
        .select_related("proposal", "unit")
        .order_by("proposal__serial", "pk")
    )
    total = len(replies)
    jobs.progress(job_id, 0, total, _("正在生成 %(n)d 份答复函…") % {"n": total})
    # On disk, not in memory: 600 letters are some 250 MB. Stored, not deflated: a PDF's
    # streams are compressed already, so deflating again costs CPU and saves ~1 %.
    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", zipfile.ZIP_STORED) as bundle:
            skipped = _add_letters(bundle, replies, job_id)
        spool.seek(0)
        path = default_storage.save(
            f"{EXPORTS_DIR}/{job_id}/{_safe(str(session))}-答复函.zip", File(spool)
        )
    count = total - len(skipped)
    return jobs.update(
        job_id,
        state=jobs.DONE,
        done=total,
        total=total,
        message=_bundle_message(count, skipped),
        result={
            "path": path,
            "count": count,
            "skipped": skipped,
            "missing": [s["letter"] for s in skipped],
        },
    )


#: Letters the job's message names one by one; the rest are counted (all are in the result).
SKIPPED_NAMED = 20


def _bundle_message(count: int, skipped: list[dict[str, str]]) -> str:
    message = _("已打包 %(n)d 份答复函。") % {"n": count}
    if not skipped:
        return message
    named = "；".join(
        _("%(letter)s（%(reason)s）") % {"letter": s["letter"], "reason": s["reason"].rstrip("。")}
        for s in skipped[:SKIPPED_NAMED]
    )
    more = len(skipped) - SKIPPED_NAMED
    if more > 0:
        named += _("；另有 %(n)d 份") % {"n": more}
    return message + _("未打包 %(n)d 份：%(letters)s。") % {"n": len(skipped), "letters": named}


def _add_letters(
    bundle: zipfile.ZipFile, replies: list[Reply], job_id: str
) -> list[dict[str, str]]:
    """Copy each reply's PDF into the bundle (rendering it first if it was never stored);
    return the letters left out, each ``{"letter": 文号, "reason": why}`` in Chinese."""
    skipped: list[dict[str, str]] = []
    total = len(replies)
    for i, reply in enumerate(replies, start=1):
        try:
            reason = _add_letter(bundle, reply)
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:  # one letter's trouble is reported, the others still go in
            logger.exception("session ZIP %s: reply %s left out", job_id, reply.pk)
            reason = _("出错：%(e)s") % {"e": f"{type(exc).__name__}: {exc}"[:300]}
        if reason:
            letter = reply.doc_number or _("%(p)s提案的答复") % {"p": reply.proposal.number}
            skipped.append({"letter": letter, "reason": reason})
        if i % 5 == 0 or i == total:
            jobs.progress(job_id, i, total, _("已生成 %(i)d / %(n)d 份") % {"i": i, "n": total})
    return skipped


def _add_letter(bundle: zipfile.ZipFile, reply: Reply) -> str:
    """One reply's PDF into the bundle: "" when it went in, else why not.

    A letter in 生成失败 is not rendered again (it waits for 重新生成, docs/domain.md); one never
    rendered is rendered now, and a failure is recorded on it as the signed render would."""
    if not reply.pdf:
        if not reply.pdf_failed:
            replies_workflow.store_signed_pdf("reply", reply.pk)
            reply.refresh_from_db(fields=["pdf", "pdf_sha256", "pdf_size", "pdf_error"])
        if not reply.pdf:
            return _("签发件生成失败：%(e)s") % {"e": _failure_reason(reply)}
    name = _safe(f"{reply.proposal.number or reply.proposal_id}-{reply.unit}-{reply.doc_number}")
    try:
        handle = reply.pdf.open("rb")
    except (FileNotFoundError, ValueError):
        return _("签发件文件缺失")
    with handle, bundle.open(f"{name}.pdf", "w") as out:
        shutil.copyfileobj(handle, out, 1 << 20)
    return ""


def _failure_reason(reply: Reply) -> str:
    """Why a signed reply has no PDF: for a letter over the size rules (signed before they
    existed), the rule with the limit and its size; else the reason recorded on it."""
    try:
        check_letter_size(replies_workflow.letter_for(reply))
    except LetterTooLarge as exc:
        return exc.message
    return reply.pdf_error or _("原因不明")


def purge_exports(now: datetime.datetime | None = None) -> int:
    """Delete the ZIPs of jobs that have expired (``jobs.JOB_TTL``): nobody can download them
    any more — the download view asks for the job — so they only hold letters on disk."""
    now = now or datetime.datetime.now(datetime.UTC)
    cutoff = now - datetime.timedelta(seconds=jobs.JOB_TTL)
    try:
        job_dirs, _files = default_storage.listdir(EXPORTS_DIR)
    except FileNotFoundError:
        return 0
    removed = 0
    for job_id in job_dirs:
        if jobs.get(job_id) is not None:
            continue
        directory = f"{EXPORTS_DIR}/{job_id}"
        _dirs, names = default_storage.listdir(directory)
        for name in names:
            path = f"{directory}/{name}"
            if default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                removed += 1
    return removed


def _safe(name: str) -> str:
    return "".join("_" if ch in '\\/:*?"<>|\r\n' else ch for ch in name).strip() or "file"


# --- Celery ---------------------------------------------------------------------------------


@shared_task(acks_late=True, ignore_result=True)
def check_import(job_id: str) -> None:
    check_filed_list(job_id)


@shared_task(acks_late=True, ignore_result=True)
def run_import(job_id: str) -> None:
    import_filed_list(job_id)


@shared_task(
    acks_late=True,
    ignore_result=True,
    soft_time_limit=PDF_SOFT_TIME_LIMIT,
    time_limit=PDF_TIME_LIMIT,
)
def render_session_pdfs(job_id: str) -> None:
    """Runs on the ``pdf`` queue with the other renderings (see ``enqueue_session_pdfs``).
    Whatever stops it, the job ends failed with the reason, never "running" for ever."""
    try:
        bundle_session_pdfs(job_id)
    except SoftTimeLimitExceeded:
        minutes = PDF_SOFT_TIME_LIMIT // 60
        message = _("打包超时（超过%(n)d分钟），已中止。请联系系统管理员。") % {"n": minutes}
        jobs.update(job_id, state=jobs.FAILED, message=message)
    except Exception:
        logger.exception("session ZIP job %s failed", job_id)
        message = _("打包时出错，已中止。请联系系统管理员。")
        jobs.update(job_id, state=jobs.FAILED, message=message)


@shared_task(acks_late=True, ignore_result=True)
def purge_expired_exports() -> int:
    """Daily (beat): the session ZIPs whose job has expired."""
    return purge_exports()


def enqueue_session_pdfs(job_id: str) -> None:
    render_session_pdfs.apply_async((job_id,), queue="pdf")
