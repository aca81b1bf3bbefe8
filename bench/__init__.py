"""`make bench`: what users wait for, measured in one process per measure.

``bench/run.py`` runs every measure module listed in its registry (``bench/letter.py``, …) as a
subprocess; each module prints its figures as one JSON line on stdout (see ``bench/README.md``).
This package holds the helpers the measure modules share: process handling with timeouts, the
sweep that kills any process a benchmark left behind, medians, and the figure format.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
SEEDS_DIR = ROOT / "replies" / "seeds"  # the project's copy of the published letters
CHROMIUM = os.environ.get("BENCH_CHROMIUM", "/usr/bin/chromium")
DJANGO_SETTINGS = "tracker.settings"

#: Environment variables whose value marks every process a benchmark starts (children inherit
#: the environment), so leftovers can be found and killed by pid afterwards.
RUN_TOKEN = "BENCH_RUN_TOKEN"  # set by run.py for a whole measure
CHILD_TOKEN = "BENCH_CHILD_TOKEN"  # set by a measure for the processes it starts itself


def setup_django() -> None:
    """Make the project importable and set Django up (``tracker.settings`` unless told)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DJANGO_SETTINGS)
    import django

    django.setup()


def log(message: str) -> None:
    """Progress goes to stderr; stdout is reserved for the measure's JSON line."""
    print(message, file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def figure(
    key: str,
    label: str,
    value: float | int | None,
    unit: str,
    *,
    target: tuple[str, float] | None = None,
    samples: Iterable[float] | None = None,
    note: str = "",
) -> dict:
    """One figure of a measure's JSON line. ``target`` is ``("<=", 0.2)`` or ``(">=", 2.5)``."""
    entry: dict = {"key": key, "label": label, "value": value, "unit": unit}
    if target is not None:
        entry["target"] = {"op": target[0], "value": target[1]}
    if samples is not None:
        entry["samples"] = [round(s, 4) for s in samples]
    if note:
        entry["note"] = note
    return entry


def emit(measure: str, figures: list[dict], info: dict | None = None) -> None:
    """Print the measure's result: one JSON line, the last line on stdout."""
    line = {"measure": measure, "figures": figures, "info": info or {}}
    print(json.dumps(line, ensure_ascii=False), flush=True)


class ProcessTimeout(RuntimeError):
    pass


def run_timed(
    cmd: Sequence[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``cmd`` in its own process group; return the result and its wall time in seconds.

    On timeout the whole group is killed (SIGKILL) and ``ProcessTimeout`` raised.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.communicate()
        raise ProcessTimeout(f"{cmd[0]} ran longer than {timeout:.0f} s and was killed") from None
    except BaseException:
        kill_group(proc.pid)
        proc.communicate()
        raise
    wall = time.perf_counter() - start
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr), wall


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def marked_pids(variable: str, token: str) -> list[int]:
    """Live processes whose environment holds ``variable=token``, and all their descendants.

    Descendants count because Chromium's zygote, renderer and GPU processes overwrite their
    environment block (setproctitle), so the token cannot be read back from them.
    """
    needle = f"{variable}={token}".encode()
    marked, parents = set(), {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        pid = int(entry.name)
        try:
            state, ppid = _stat_fields(pid)[:2]
            if state == "Z":  # already dead, waiting to be reaped
                continue
            parents[pid] = int(ppid)
            environ = (entry / "environ").read_bytes()
        except (OSError, ValueError):
            continue
        if needle in environ.split(b"\0"):
            marked.add(pid)
    found, frontier = set(marked), set(marked)
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    found.discard(os.getpid())
    return sorted(found)


def _stat_fields(pid: int) -> list[str]:
    """``/proc/PID/stat`` after the command name (which may hold spaces): state, ppid, …"""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def children_cpu() -> float:
    """User + system CPU time of every child this process has waited for, and of their own
    waited-for descendants (``RUSAGE_CHILDREN``): the CPU of a whole ``subprocess.run``.

    A child's descendants that its parent never waited for (Chromium's zygote and renderers
    outlive the browser by a moment) count only if this process is their subreaper
    (``become_subreaper``) and has reaped them (``reap_orphans``)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to this process (Linux ``PR_SET_CHILD_SUBREAPER``),
    so that ``reap_orphans`` can wait for them and their CPU time counts in ``children_cpu``."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_orphans(timeout: float = 10.0) -> int:
    """Wait for every remaining child (orphans re-parented here included) to exit, up to
    ``timeout`` seconds; how many were reaped. Only for moments with no ``Popen`` running."""
    reaped, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid:
            reaped += 1
        else:
            time.sleep(0.01)
    return reaped


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU time so far of the given live processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = _stat_fields(pid)
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / ticks


def kill_marked(variable: str, token: str) -> list[int]:
    """SIGKILL every process this benchmark started that is still running; return their pids."""
    pids = marked_pids(variable, token)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return pids


# --- A PostgreSQL database of its own, for the measures that generate data -----------------


def stop_process(proc: subprocess.Popen | None, token: str, label: str) -> None:
    """Stop a server a measure started: SIGTERM (a graceful stop), then its process group,
    then anything still holding ``token`` in ``CHILD_TOKEN``."""
    if proc is not None and proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            log(f"{label} ignored SIGTERM for 15 s; killing it")
    if proc is not None:
        kill_group(proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    leftovers = kill_marked(CHILD_TOKEN, token)
    if leftovers:
        log(f"{label}: killed leftover processes {leftovers}")


def bench_database_url(server_url: str, name: str, script: str) -> str:
    """``server_url`` with the database ``name``; PostgreSQL only."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(server_url)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit(f"{script} needs PostgreSQL; DATABASE_URL is {server_url!r}")
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_connection(url: str):
    """A connection to the server's ``postgres`` database, for CREATE/DROP DATABASE."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or "",
        dbname="postgres",
        autocommit=True,
    )


def recreate_database(url: str, name: str) -> None:
    with _admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str, name: str) -> None:
    with _admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
