"""The processes a deployment runs, started for a measure: gunicorn as the compose stack runs
it (``gunicorn -c gunicorn.conf.py tracker.wsgi:application``), the Celery worker and beat, and
what the measures read from them (memory, CPU, a signed-in HTTP client).

Used by ``bench/serve.py`` (first requests, first letter, memory) and ``bench/preview.py``.
Every process carries ``CHILD_TOKEN`` in its environment and runs in its own process group;
``stop`` ends it, its group and anything left holding the token.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from bench import CHILD_TOKEN, ROOT, cpu_seconds, stop_process

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
CELERY = ROOT / ".venv" / "bin" / "celery"
READY_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def server_env(base: dict, data_url: str, redis_url: str, media: Path, token: str) -> dict:
    """The environment of the deployment's processes: DEBUG off, this data, this Redis."""
    return {
        **base,
        "DATABASE_URL": data_url,
        "REDIS_URL": redis_url,
        "MEDIA_ROOT": str(media),
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "INFO",  # the worker logs each task's run time at INFO
        "GUNICORN_CONTROL_SOCKET": "off",
        "PYTHONWARNINGS": "ignore::UserWarning",  # whitenoise: no STATIC_ROOT (no collectstatic)
        "DJANGO_SETTINGS_MODULE": base.get("DJANGO_SETTINGS_MODULE", "tracker.settings"),
        CHILD_TOKEN: token,
    }


def _spawn(cmd: list[str], env: dict, logfile: Path) -> subprocess.Popen:
    with logfile.open("ab") as handle:
        return subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


# --- gunicorn ---------------------------------------------------------------------------------


def start_web(env: dict, port: int, logfile: Path, *, preload: bool = True) -> subprocess.Popen:
    """gunicorn with the project's gunicorn.conf.py (2 workers), ``GUNICORN_PRELOAD=0`` for the
    figure without preloading and warming."""
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_PRELOAD": "1" if preload else "0"}
    cmd = [str(GUNICORN), "-c", "gunicorn.conf.py", "tracker.wsgi:application"]
    return _spawn(cmd, env, logfile)


def worker_pids(master: int) -> list[int]:
    """The direct children of ``master`` (gunicorn's workers, a Celery pool's processes)."""
    children = Path(f"/proc/{master}/task/{master}/children")
    try:
        return [int(pid) for pid in children.read_text().split()]
    except OSError:
        return []


def wait_web(proc: subprocess.Popen, port: int, logfile: Path, workers: int = 2) -> float:
    """Seconds until gunicorn accepts connections and has ``workers`` workers that finished
    booting (``post_worker_init`` logs nothing, so: workers alive and the listen socket open,
    then the workers' own start, seen as their CPU time settling)."""
    start = time.perf_counter()
    while time.perf_counter() - start < READY_TIMEOUT:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{tail(logfile)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            pids = worker_pids(proc.pid)
            if len(pids) >= workers:
                settled = _cpu_settled(pids)
                if settled:
                    return time.perf_counter() - start
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn not ready after {READY_TIMEOUT:.0f} s:\n{tail(logfile)}")


def _cpu_settled(pids: list[int], quiet: float = 0.3) -> bool:
    """The processes used (almost) no CPU over ``quiet`` seconds: they finished starting."""
    before = cpu_seconds(pids)
    time.sleep(quiet)
    return cpu_seconds(pids) - before <= 0.02


# --- Celery -------------------------------------------------------------------------------------


def start_worker(env: dict, logfile: Path, processes: int = 2) -> tuple[subprocess.Popen, str]:
    """The worker as the compose stack runs it (queues celery, mail, pdf; prefork)."""
    name = f"bench-serve-{uuid.uuid4().hex[:8]}@%h"
    cmd = [
        str(CELERY),
        "-A",
        "tracker",
        "worker",
        "-Q",
        "celery,mail,pdf",
        "-c",
        str(processes),
        "-P",
        "prefork",
        "-n",
        name,
        "-l",
        "info",
        "--without-mingle",
        "--without-gossip",
    ]
    return _spawn(cmd, env, logfile), name


def start_beat(env: dict, logfile: Path, schedule: Path) -> subprocess.Popen:
    cmd = [str(CELERY), "-A", "tracker", "beat", "-s", str(schedule), "-l", "info"]
    return _spawn(cmd, env, logfile)


def wait_worker(app, proc: subprocess.Popen, logfile: Path, processes: int = 2) -> float:
    """Seconds until the worker answers a ping with its pool started."""
    start = time.perf_counter()
    while time.perf_counter() - start < READY_TIMEOUT:
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited with {proc.returncode}:\n{tail(logfile)}")
        if app.control.ping(timeout=0.5, limit=1):
            stats = app.control.inspect(timeout=2.0, limit=1).stats() or {}
            pools = [len(s.get("pool", {}).get("processes", [])) for s in stats.values()]
            if pools and pools[0] >= processes:
                return time.perf_counter() - start
        time.sleep(0.1)
    raise RuntimeError(f"the worker was not ready after {READY_TIMEOUT:.0f} s:\n{tail(logfile)}")


def stop(proc: subprocess.Popen | None, token: str, label: str) -> None:
    stop_process(proc, token, label)


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of ``root`` and its live descendants, with what each of them
    reaped from its own exited children (a preview's render child, waited for by the pool
    process, counts there)."""
    from bench import _stat_fields

    ticks = os.sysconf("SC_CLK_TCK")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = _stat_fields(pid)
            total += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
        todo += worker_pids(pid)
    return total / ticks


# --- Memory -------------------------------------------------------------------------------------


def memory_mb(pid: int) -> dict[str, float]:
    """A process's resident set (RSS) and proportional set (PSS: shared pages divided among
    the processes sharing them, so the PSS of a master and its forks adds up), in MB."""
    out = {"rss": 0.0, "pss": 0.0}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("Rss", "Pss"):
                out[key.lower()] = int(value.split()[0]) / 1024
    return out


# --- A signed-in HTTP client --------------------------------------------------------------------

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Client:
    """A browser's part of a session over HTTP: cookies, CSRF, no redirects followed silently
    for POSTs (they are followed as a browser would, with a GET)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def set_cookie(self, name: str, value: str) -> None:
        """A cookie for 127.0.0.1, as the server would have set it (a session made elsewhere)."""
        self.jar.set_cookie(
            http.cookiejar.Cookie(
                0,
                name,
                value,
                None,
                False,
                "127.0.0.1",
                False,
                False,
                "/",
                True,
                False,
                None,
                False,
                None,
                None,
                {},
            )
        )

    def get(self, path: str) -> tuple[int, str, str]:
        """Status, final URL and body (redirects followed)."""
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                return response.status, response.url, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, path, error.read().decode(errors="replace")

    def post(self, path: str, data: dict, referer: str) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Referer": self.base + referer}
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.url, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, path, error.read().decode(errors="replace")

    def sign_in(self, login_path: str, username: str, password: str, then: str) -> str:
        """GET the sign-in page, POST the form; the body of the page it lands on."""
        status, _url, page = self.get(f"{login_path}?next={urllib.parse.quote(then)}")
        match = _CSRF_INPUT.search(page)
        if status != 200 or not match:
            raise RuntimeError(f"{login_path}: HTTP {status}, no sign-in form")
        data = {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": match.group(1),
            "next": then,
        }
        status, url, body = self.post(
            f"{login_path}?next={urllib.parse.quote(then)}", data, login_path
        )
        if status != 200 or urllib.parse.urlsplit(url).path != then:
            raise RuntimeError(f"sign-in as {username} failed: HTTP {status} at {url}")
        return body


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() not in ("0", "false", "no", "off")
