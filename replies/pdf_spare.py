"""A render child forked and warmed before the preview that will use it (issue 24).

A preview renders in a forked child with its own limits
(``replies.pdf.render_letter_pdf_isolated``). A child forked at the moment of the click spends
its first ~35 ms on copy-on-write faults — the pages of its parent's memory it writes to as it
touches objects for the first time — before its layout runs as fast as the parent's would (seed
001's first page: 60 ms in a new child, 24 ms laid out again in the same one). So after each
preview the process forks the next child at once: it lowers its priority, lays out the first
page of a seed letter (taking those faults, at nice 10, while nobody waits) and then waits on a
pipe for a letter. The next preview sends it the letter (pickled, with its limits) and reads the
answer as from a child forked for it; the limits are set when the letter arrives (its CPU limit
counts from what the warm-up used).

A spare child keeps nothing of its parent that another process would miss: right after the fork
it closes every socket, pipe and event descriptor it inherited (database, Redis, the pool's own
pipes) except its two pipes, and it leaves as soon as its parent does (the pipe it waits on
reads end-of-file). One spare per process at most; a spare forked before the renderer was
replaced in this process (a test's monkeypatch) is not used.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from dataclasses import dataclass
from typing import Any

from replies.letter import Letter

_lock = threading.Lock()
_spare: Spare | None = None


@dataclass
class Spare:
    pid: int
    jobs: int  # the write end of the pipe the letter goes through
    results: int  # the read end of the pipe the PDF comes back through
    generation: tuple[int, ...]


def _generation() -> tuple[int, ...]:
    """The renderer as this process has it now (a spare forked with another is stale)."""
    import replies.pdf

    return (id(replies.pdf.render_letter_pdf), id(replies.pdf.render_first_page))


def take() -> Spare | None:
    """The waiting spare child, now this caller's; None when there is none alive."""
    global _spare
    with _lock:
        spare, _spare = _spare, None
    if spare is None:
        return None
    if spare.generation != _generation() or os.waitpid(spare.pid, os.WNOHANG)[0] != 0:
        _discard(spare)
        return None
    return spare


def send(spare: Spare, letter: Letter, seconds: float, memory_mb: int, first: bool) -> bool:
    """Give ``spare`` its letter; False when it cannot take it (it died meanwhile)."""
    from replies.pdf import _write_all

    job = pickle.dumps((letter, seconds, memory_mb, first), protocol=pickle.HIGHEST_PROTOCOL)
    try:
        _write_all(spare.jobs, len(job).to_bytes(8, "big") + job)
    except OSError:
        _discard(spare)
        return False
    finally:
        if spare.jobs >= 0:
            os.close(spare.jobs)
            spare.jobs = -1
    return True


def start() -> None:
    """Fork the next spare child, unless one waits already."""
    global _spare
    with _lock:
        if _spare is None:
            _spare = _fork()


def drop() -> None:
    """Let the waiting spare child go (it reads end-of-file and leaves) and collect it."""
    global _spare
    with _lock:
        spare, _spare = _spare, None
    if spare is not None:
        _discard(spare)


def _discard(spare: Spare) -> None:
    for fd in (spare.jobs, spare.results):
        if fd >= 0:
            os.close(fd)
    spare.jobs = spare.results = -1
    try:
        finished, _status = os.waitpid(spare.pid, os.WNOHANG)
        if finished == 0:
            os.kill(spare.pid, signal.SIGKILL)
            os.waitpid(spare.pid, 0)
    except ChildProcessError:
        pass


def _fork() -> Spare:
    jobs_read, jobs_write = os.pipe()
    results_read, results_write = os.pipe()
    generation = _generation()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the spare child; what it renders is the parent's to read
        try:
            os.close(jobs_write)
            os.close(results_read)
            _wait_and_render(jobs_read, results_write)
        finally:
            os._exit(0)
    os.close(jobs_read)
    os.close(results_write)
    return Spare(pid, jobs_write, results_read, generation)


def _wait_and_render(jobs: int, results: int) -> None:  # pragma: no cover - in the spare
    from replies import pdf

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _close_inherited(keep={jobs, results})
    os.nice(pdf.CHILD_NICENESS)
    with contextlib.suppress(Exception):  # only colder: the letter renders all the same
        pdf.render_first_page(pdf.warm_up_seed())
    job = _read_job(jobs)
    if job is None:  # the parent let it go, or is gone
        return
    letter, seconds, memory_mb, first = job
    pdf._child_render(letter, results, seconds, memory_mb, first, niced=True)


def _close_inherited(keep: set[int]) -> None:  # pragma: no cover - in the spare
    """Close the sockets, pipes and event descriptors inherited from the parent (its database
    and Redis connections, a Celery pool's pipes): a spare waits, and must not keep them open.
    Files (fonts, logs) stay."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd <= 2 or fd in keep:
            continue
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(("socket:", "pipe:", "anon_inode:")):
            with contextlib.suppress(OSError):
                os.close(fd)


def _read_job(fd: int) -> Any:  # pragma: no cover - in the spare
    data = bytearray()
    size = None
    while size is None or len(data) < size + 8:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return None
        data += chunk
        if size is None and len(data) >= 8:
            size = int.from_bytes(data[:8], "big")
    return pickle.loads(bytes(data[8 : 8 + size]))
