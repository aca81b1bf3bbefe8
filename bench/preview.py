"""The preview measure: how long a clerk waits for the editor's PDF preview to show a change.

    .venv/bin/python bench/preview.py                 # what ``make bench`` runs
    .venv/bin/python bench/preview.py --repeats 5 --scale 0.05
    BENCH_KEEP=1 .venv/bin/python bench/preview.py   # keeps the web and worker logs (timelines)

On a copy of the shared dataset, the deployment as it runs (``gunicorn -c gunicorn.conf.py``,
2 workers; ``celery worker -Q celery,mail,pdf -c 2``, DEBUG off, Redis db ``--redis-db``), a
real browser (``/usr/bin/chromium`` driven by Playwright; never ``playwright install``) signs in
as a unit's clerk and opens one of the unit's draft replies in the letter editor. Then
``--repeats`` times, after one untimed round: it changes the body (a sentence appended, so
every render is a new letter, never a cached one), clicks 预览当前内容（不保存）, and times from
the click — the form's POST into the preview frame — until the browser has the changed
letter's first page in that frame (the last byte of its PDF, ``requestfinished``: the worker
sends the first page ahead of the rest, ``replies.pdf_first_page``), and until it has the
whole letter's PDF that replaces it. Chromium's PDF viewer then draws the page: that last step
is not observable from the page and not in the figure (it is the same for any PDF).

Reported: p50 of the first page (target ≤ 300 ms), p95, min–max; the whole letter's p50; and,
from the worker's log, the preview task's own run time (render in a child process + storing
the PDF).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/preview.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import CHILD_TOKEN, CHROMIUM, drop_database, emit, figure, kill_marked, log
from bench import servers as sv
from bench.pdfqueue import DEFAULT_SERVER, copy_dataset, flush_redis, redis_url

COPY_DB = os.environ.get("BENCH_DB_PREFIX", "tracker_bench") + "_preview"
TARGET_P50_MS = 300
TIMEOUT_MS = 60_000
CHROMIUM_FLAGS = ("--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync")
_TASK = re.compile(r"render_letter_preview\[[^\]]+\] succeeded in ([0-9.]+)s")


def draft_reply(ds) -> tuple[int, str]:
    """A draft reply of the clerk's unit that the clerk may edit: its id and body."""
    from proposals.models import User
    from proposals.models.people import unit_ids_of
    from replies.models import Reply, ReplyState

    clerk = User.objects.get(username=ds.logins["clerk"])
    reply = (
        Reply.objects.filter(state=ReplyState.DRAFT, unit_id__in=unit_ids_of(clerk))
        .order_by("pk")
        .first()
    )
    if reply is None:
        raise RuntimeError(f"no draft reply for {clerk.username}'s unit in the dataset")
    return reply.pk, reply.body


def heartbeat() -> None:
    """The worker's heartbeat, as beat's every-minute task writes it (previews refuse to start
    without a live worker)."""
    from tracker.health import heartbeat as beat

    beat()


def is_pdf(response) -> bool:
    """A preview's PDF: its first page (``&page=1``) or the whole letter."""
    kind = response.headers.get("content-type", "")
    return "/preview/" in response.url and kind.startswith("application/pdf")


def is_whole_pdf(response) -> bool:
    return is_pdf(response) and "page=1" not in response.url


def _whole_pdf_at(page, pdfs: list, done: dict) -> float:
    """When the whole letter's PDF (not the first page alone) finished loading in the frame."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        finished = [done[request] for request in pdfs if request in done]
        if finished:
            return min(finished)
        page.wait_for_timeout(5)
    raise RuntimeError("the whole preview PDF never came")


#: Times the browser may be started again after it closed under a round (Chromium's PDF
#: viewer has been seen to take the browser down while one PDF replaces another).
RELAUNCHES = 2


def browse(
    base: str, ds, change_path: str, body: str, repeats: int, env: dict, servers: list[int]
) -> tuple[list[float], list[float], list[float]]:
    """The click → first page and click → whole PDF times, and the CPU time of the web and
    worker processes for each preview."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    samples: list[float] = []
    wholes: list[float] = []
    cpus: list[float] = []

    def server_cpu() -> float:
        return sum(sv.tree_cpu(pid) for pid in servers)

    with sync_playwright() as playwright:
        round_, relaunches = 0, 0
        while round_ <= repeats:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS), env=env, timeout=TIMEOUT_MS
            )
            try:
                page, textarea, pdfs, done = _open_editor(browser, base, ds, change_path)
                while round_ <= repeats:
                    textarea.fill(f"{body}\n第{round_ + 1}次修改：补充说明一句。")
                    pdfs.clear()
                    done.clear()
                    cpu, start = server_cpu(), time.perf_counter()
                    with page.expect_response(is_pdf) as answer:
                        page.click("#preview-typed")
                    answer.value.finished()
                    elapsed = time.perf_counter() - start
                    whole = _whole_pdf_at(page, pdfs, done) - start
                    time.sleep(0.3)  # the render child reaped, the record's last update done
                    used = server_cpu() - cpu
                    if round_:
                        samples.append(elapsed)
                        wholes.append(whole)
                        cpus.append(used)
                    log(
                        f"preview: round {round_}: first page {elapsed * 1000:.0f} ms, whole "
                        f"{whole * 1000:.0f} ms, server CPU {used:.2f} s"
                    )
                    round_ += 1
            except PlaywrightError as error:
                if relaunches >= RELAUNCHES or "closed" not in str(error):
                    raise
                relaunches += 1
                log(f"preview: the browser closed in round {round_} ({error}); started again")
            finally:
                with contextlib.suppress(PlaywrightError):
                    browser.close()
    return samples, wholes, cpus


def _open_editor(browser, base: str, ds, change_path: str):
    """The clerk signed in, the draft's editor open with its own first preview loaded; the page,
    the body's textarea, and the lists the round's listeners fill."""
    page = browser.new_context(locale="zh-CN").new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{base}/admin/login/?next={change_path}")
    page.fill("#id_username", ds.logins["clerk"])
    page.fill("#id_password", ds.password)
    with page.expect_navigation():
        page.click("input[type=submit], button[type=submit]")
    if change_path not in page.url:
        page.goto(base + change_path)
    # The editor's frame previews the saved draft on its own; that is not a round's.
    page.wait_for_load_state("networkidle")
    # The whole letter's PDF requests, as their responses come, and when each request finished
    # (the same URL also serves the waiting page: requests, not URLs, count).
    pdfs: list = []
    done: dict = {}
    page.on("response", lambda r: pdfs.append(r.request) if is_whole_pdf(r) else None)
    page.on("requestfinished", lambda r: done.__setitem__(r, time.perf_counter()))
    return page, page.locator("textarea[name=body]"), pdfs, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="dataset scale (1.0)")
    parser.add_argument("--repeats", type=int, default=15, help="timed previews (15)")
    parser.add_argument(
        "--redis-db",
        type=int,
        default=int(os.environ.get("BENCH_REDIS_DB", 13)),
        help="Redis database (13); BENCH_REDIS_DB overrides the default",
    )
    args = parser.parse_args()

    from bench import generate, setup_django

    server = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    ds = generate.ensure(server, open_assignments=0, scale=args.scale)
    copy_url = copy_dataset(ds.url, COPY_DB)
    broker = redis_url(args.redis_db)
    tmp = Path(tempfile.mkdtemp(prefix="bench-preview-"))
    token = uuid.uuid4().hex
    env = sv.server_env(dict(os.environ), copy_url, broker, tmp / "media", token)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT")})
    web = worker = None
    worker_log, web_log = tmp / "worker.log", tmp / "web.log"
    try:
        setup_django()
        flush_redis(broker)
        from django.db import connections

        from tracker.celery import app

        pk, body = draft_reply(ds)
        worker, _name = sv.start_worker(env, worker_log)
        sv.wait_worker(app, worker, worker_log)
        heartbeat()
        connections.close_all()
        port = sv.free_port()
        web = sv.start_web(env, port, web_log)
        sv.wait_web(web, port, web_log)
        change_path = f"/admin/replies/reply/{pk}/change/"
        log(f"preview: reply {pk}, {args.repeats} timed previews after one untimed")
        samples, wholes, cpus = browse(
            f"http://127.0.0.1:{port}",
            ds,
            change_path,
            body,
            args.repeats,
            env,
            [web.pid, worker.pid],
        )
        time.sleep(0.5)
        runtimes = [float(m) for m in _TASK.findall(worker_log.read_text(errors="replace"))]
    except Exception as error:
        raise RuntimeError(
            f"{error}\n--- worker\n{sv.tail(worker_log)}\n--- web\n{sv.tail(web_log)}"
        ) from error
    finally:
        sv.stop(web, token, "preview: gunicorn")
        sv.stop(worker, token, "preview: worker")
        kill_marked(CHILD_TOKEN, token)
        flush_redis(broker)
        drop_database(copy_url, COPY_DB)
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"preview: logs kept in {tmp}")

    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    task_ms = [t * 1000 for t in runtimes[1:]]  # the first is the untimed round's
    emit(
        "preview",
        [
            figure(
                "preview_p50_ms",
                f"Editor preview: click → the changed letter's first page in the frame, p50 of "
                f"{len(ms)} ({ms[0]:.0f}–{ms[-1]:.0f})",
                round(statistics.median(ms)),
                "ms",
                target=("<=", TARGET_P50_MS),
                samples=[round(v) for v in ms],
            ),
            figure("preview_p95_ms", "… p95", round(p95), "ms"),
            figure(
                "preview_whole_p50_ms",
                f"… click → the whole letter's PDF in the frame (it replaces the first page), "
                f"p50 ({min(wholes) * 1000:.0f}–{max(wholes) * 1000:.0f})",
                round(statistics.median(wholes) * 1000),
                "ms",
                samples=[round(w * 1000) for w in sorted(wholes)],
            ),
            figure(
                "preview_server_cpu_ms",
                "… CPU time of the web and worker processes per preview (render child "
                f"included), p50 ({min(cpus) * 1000:.0f}–{max(cpus) * 1000:.0f})",
                round(statistics.median(cpus) * 1000),
                "ms",
                samples=[round(c * 1000) for c in cpus],
            ),
            figure(
                "preview_task_p50_ms",
                "… of which the worker's task (render in a child, store the PDF), p50",
                round(statistics.median(task_ms)) if task_ms else None,
                "ms",
                samples=[round(v) for v in task_ms],
            ),
        ],
        {
            "notes": [
                "A clerk in Chromium (Playwright) edits a draft's body and clicks 预览当前内容; "
                "timed from the click to the last byte of the first page's PDF in the preview "
                "frame (shown while the worker lays out the rest), and to the last byte of the "
                "whole letter's PDF that replaces it. gunicorn -c gunicorn.conf.py (2 workers) "
                "and celery worker -c 2 on a "
                f"copy of the dataset (scale {args.scale}), Redis db {args.redis_db}.",
            ],
            "reply": pk,
        },
    )


if __name__ == "__main__":
    main()
