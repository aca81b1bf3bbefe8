"""Long work the admin hands to Celery, with its progress kept in the cache.

A job is a small dict in Django's cache (Redis when ``REDIS_URL`` is set, so the web process
and the worker see the same one) under an unguessable id; no model and no migration. The page
that started it polls ``/admin/tools/jobs/<id>/`` and shows the progress; only the user who
started a job can read it — anyone else gets the 404 of a job that does not exist.

A job record: ``kind``, ``user_id``, ``state`` (queued → running → done | failed), ``done`` and
``total`` (for the progress bar), ``message`` (what is going on, in Chinese), ``result`` (the
kind's own data), and the ``input`` the task reads.

While Redis is unreachable the cache runs on the web process's own memory
(``tracker.cache``), which the worker cannot see: a job started then would never run, and one
started before cannot be read. So ``create`` and ``get`` raise ``Unavailable`` instead, with
the sentence the page shows (``admin_views.jobs_unavailable_answer``).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from tracker.cache import degraded

#: Jobs are forgotten after a day: an import's preview is not meant to be confirmed tomorrow.
JOB_TTL = 24 * 3600
_PREFIX = "tracker:admin-job:"

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATE_LABELS = {QUEUED: "排队中", RUNNING: "处理中", DONE: "已完成", FAILED: "失败"}


class Unavailable(Exception):
    """The job store (the cache, i.e. Redis) cannot be reached from this process."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def create(kind: str, *, user_id: int, payload: dict[str, Any], message: str = "") -> str:
    job_id = uuid.uuid4().hex
    cache.set(
        _PREFIX + job_id,
        {
            "id": job_id,
            "kind": kind,
            "user_id": user_id,
            "state": QUEUED,
            "done": 0,
            "total": 0,
            "message": message or "排队等待处理…",
            "result": None,
            "input": payload,
            "created": time.time(),
        },
        JOB_TTL,
    )
    if degraded():
        raise Unavailable(
            str(
                _("缓存服务（Redis）暂时无法连接，后台任务无法启动。请稍后再试，或联系系统管理员。")
            )
        )
    return job_id


def get(job_id: str) -> dict[str, Any] | None:
    if not job_id or len(job_id) != 32 or not job_id.isalnum():
        return None
    job = cache.get(_PREFIX + job_id)
    if job is None and degraded():
        raise Unavailable(
            str(_("缓存服务（Redis）暂时无法连接，暂时无法读取任务进度。请稍后刷新本页。"))
        )
    return job


def get_for(job_id: str, *, user_id: int, kind: str | None = None) -> dict[str, Any] | None:
    """The job if ``user_id`` started it (and it is of ``kind``); otherwise None."""
    job = get(job_id)
    if job is None or job["user_id"] != user_id or (kind and job["kind"] != kind):
        return None
    return job


def update(job_id: str, **changes: Any) -> dict[str, Any] | None:
    """Write changes to a job (last writer wins: one task works on a job at a time)."""
    job = get(job_id)
    if job is None:
        return None
    job.update(changes)
    cache.set(_PREFIX + job_id, job, JOB_TTL)
    return job


def progress(job_id: str, done: int, total: int, message: str = "") -> None:
    changes: dict[str, Any] = {"state": RUNNING, "done": done, "total": total}
    if message:
        changes["message"] = message
    update(job_id, **changes)


def public(job: dict[str, Any]) -> dict[str, Any]:
    """What the progress endpoint returns (never the input)."""
    total = job.get("total") or 0
    percent = round(100 * job.get("done", 0) / total) if total else None
    return {
        "id": job["id"],
        "kind": job["kind"],
        "state": job["state"],
        "state_label": STATE_LABELS.get(job["state"], job["state"]),
        "done": job.get("done", 0),
        "total": total,
        "percent": percent,
        "message": job.get("message", ""),
        "finished": job["state"] in (DONE, FAILED),
    }
