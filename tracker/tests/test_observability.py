"""Operations: /healthz, the logs, /metrics, gunicorn.conf.py and Sentry (README "Operations").

Real where it can be: PostgreSQL made unreachable by pointing a real gunicorn (with
gunicorn.conf.py) at a closed port, a Redis server of this module's own (port 6392) stopped, a
bind-mounted read-only media directory, a real Celery worker (threads of this process, on the
shared Redis) running the task a real request queued, two gunicorn instances side by side, and
the Sentry SDK posting to an HTTP sink on loopback.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import http.server
import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from proposals.models import DueDate
from tracker import health, metrics
from tracker.logging import JsonFormatter, TextFormatter
from tracker.models import Heartbeat
from tracker.tests.reminder_support import open_item, wait_until

BASE_DIR = Path(settings.BASE_DIR)
REDIS_PORT = 6392
OFFSET = "+08:00"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$")


# --- Helpers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of this module's own on loopback, started and stopped by the test."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def answers(self) -> bool:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.2)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_until(self.answers, timeout=10), "redis-server did not start"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
        assert not self.answers()


@pytest.fixture
def own_redis():
    """Redis on port 6392, this module's alone; xdist workers take turns (a file lock)."""
    with open(f"/tmp/tracker-test-redis-{REDIS_PORT}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        server = RedisServer(REDIS_PORT)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture
def with_redis(settings, own_redis, media):
    """A deployment with a worker expected: REDIS_URL (cache) and the broker on our Redis."""
    settings.REDIS_URL = own_redis.url
    settings.CELERY_BROKER_URL = own_redis.url
    return own_redis


def beat(age: datetime.timedelta = datetime.timedelta(0)) -> None:
    Heartbeat.objects.update_or_create(
        name=health.HEARTBEAT, defaults={"beat_at": timezone.now() - age}
    )


def healthz(path: str = "/healthz", accept: str = "application/json", **extra):
    return Client().get(path, HTTP_ACCEPT=accept, **extra)


@contextlib.contextmanager
def read_only(directory: Path):
    """``directory`` read-only even for root: a read-only bind mount onto itself (permission
    bits do not stop root), or without root the permission bits."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)
        return
    subprocess.run(["mount", "--bind", str(directory), str(directory)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(directory)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(directory)], check=True)


def database_url(name: str | None = None, port: int | None = None) -> str:
    s = connection.settings_dict
    return (
        f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:"
        f"{port or s['PORT'] or 5432}/{name or s['NAME']}"
    )


def http_get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class Gunicorn:
    """``gunicorn -c gunicorn.conf.py`` as the image runs it, on a port of loopback."""

    def __init__(self, port: int, env: dict, logs: Path, *, workers: int = 1) -> None:
        self.port = port
        self.workers = workers
        self.env = env
        self.out = logs / f"gunicorn-{port}.out"
        self.err = logs / f"gunicorn-{port}.err"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
        command += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers)]
        command += ["tracker.wsgi:application"]
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                command, cwd=BASE_DIR, env=self.env, stdout=out, stderr=err
            )

        def up() -> bool:
            assert self.process.poll() is None, self.err.read_text()
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0

        assert wait_until(up, timeout=60), self.err.read_text()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def get(self, path: str, headers: dict | None = None):
        return http_get(f"http://127.0.0.1:{self.port}{path}", headers)

    def lines(self, which: str = "out") -> list[dict]:
        text = (self.out if which == "out" else self.err).read_text()
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def short_home():
    """A home directory with a short path: a Unix socket's path has at most 107 bytes, and
    pytest's temporary directories under xdist come close to it."""
    import shutil
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="obs-", dir="/tmp"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def gunicorn_env(tmp_path: Path, *, home: Path | None = None, **changes: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.pop("XDG_RUNTIME_DIR", None)
    env.pop("LOG_FORMAT", None)
    env.pop("DEBUG", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        HOME=str(home or tmp_path / "home"),
        TZ="UTC",  # the master's and the workers' lines say +08:00 all the same
        DATABASE_URL=database_url(),
        MEDIA_ROOT=str(tmp_path / "media"),
        PYTHONPATH=str(BASE_DIR),
    )
    env.pop("REDIS_URL", None)
    env.update(changes)
    (home or tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "media").mkdir(exist_ok=True)
    return env


# --- /healthz ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_200_with_everything_up_to_anyone_and_reveals_nothing(with_redis):
    beat()
    response = healthz()
    assert response.status_code == 200
    assert response.json() == {"database": "OK", "redis": "OK", "media": "OK", "worker": "OK"}
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies, "no session, no CSRF cookie"
    page = healthz(accept="text/html")
    assert page.status_code == 200
    html = page.content.decode()
    assert "系统正常" in html
    for secret in ("127.0.0.1", str(REDIS_PORT), settings.DATABASES["default"]["NAME"]):
        assert secret not in html and secret not in response.content.decode()
    # The page obeys the site's Content-Security-Policy: its only inline style has the nonce.
    nonce = re.search(r"'nonce-([^']+)'", page["Content-Security-Policy"]).group(1)
    assert re.findall(r"<style[^>]*>", html) == [f'<style nonce="{nonce}">']
    # Not throttled: more requests than the API's anonymous rate (120/min) all answer.
    assert {healthz("/healthz/web").status_code for _ in range(125)} == {200}


@pytest.mark.django_db(transaction=True)
def test_healthz_names_redis_when_redis_is_down(with_redis):
    beat()
    assert healthz().status_code == 200
    with_redis.stop()
    started = time.monotonic()
    response = healthz()
    assert time.monotonic() - started < 10
    assert response.status_code == 503
    assert response.json() == {
        "database": "OK",
        "redis": "Unavailable: Redis does not answer",
        "media": "OK",
        "worker": "OK",
    }
    page = healthz(accept="text/html")
    assert page.status_code == 503
    assert re.search(r'class="error"><td>redis</td>', page.content.decode())
    text = healthz(accept="text/plain")
    assert (text.status_code, "redis: Unavailable" in text.content.decode()) == (503, True)


@pytest.mark.django_db(transaction=True)
def test_healthz_fails_on_a_read_only_media_directory(with_redis, media):
    beat()
    assert healthz().json()["media"] == "OK"
    with read_only(media):
        with pytest.raises(OSError):
            (media / "probe").write_bytes(b"x")
        response = healthz()
    assert response.status_code == 503
    assert response.json()["media"] == "Unavailable: the media directory is not writable"
    assert {k: v for k, v in response.json().items() if k != "media"} == {
        "database": "OK",
        "redis": "OK",
        "worker": "OK",
    }
    assert list(media.iterdir()) == [], "the probe leaves nothing behind"


@pytest.mark.django_db(transaction=True)
def test_a_stale_worker_heartbeat_fails_healthz_but_not_the_web_check(with_redis, settings):
    assert healthz().json()["worker"] == "Unavailable: no heartbeat from beat and the worker yet"
    beat(age=datetime.timedelta(minutes=6))
    response = healthz()
    assert response.status_code == 503
    assert response.json()["worker"].startswith("Unavailable: the last heartbeat is 36")
    # The load balancer's check leaves the worker out: the web itself is fine.
    assert healthz("/healthz/web").status_code == 200
    assert "worker" not in healthz("/healthz/web").json()
    beat(age=datetime.timedelta(minutes=4))
    assert healthz().status_code == 200
    settings.HEALTH_HEARTBEAT_MAX_AGE = 120
    assert healthz().status_code == 503


@pytest.mark.django_db(transaction=True)
def test_without_redis_there_is_no_redis_and_no_worker_to_check(settings, media):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "memory://"
    response = healthz()
    assert (response.status_code, response.json()) == (200, {"database": "OK", "media": "OK"})


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_task_writes_the_database_every_minute(eager_tasks):
    entry = settings.CELERY_BEAT_SCHEDULE["worker-heartbeat"]
    assert (entry["task"], entry["schedule"]) == (health.heartbeat.name, 60.0)
    assert entry["options"]["expires"] < 60
    assert entry["task"] in eager_tasks.tasks  # the worker knows it (autodiscovered)
    before = timezone.now()
    health.heartbeat.delay()
    (row,) = Heartbeat.objects.all()
    assert row.name == health.HEARTBEAT and row.beat_at >= before
    health.heartbeat.delay()
    assert Heartbeat.objects.count() == 1


def test_healthz_names_the_database_when_postgresql_is_unreachable(own_redis, db, tmp_path):
    """A real gunicorn whose DATABASE_URL points at a port nobody listens on."""
    closed = free_port()
    env = gunicorn_env(tmp_path, DATABASE_URL=database_url(port=closed), REDIS_URL=own_redis.url)
    with Gunicorn(free_port(), env, tmp_path) as server:
        status, _headers, body = server.get("/healthz", {"Accept": "application/json"})
        page_status, _h, page = server.get("/healthz", {"Accept": "text/html"})
    assert status == 503
    result = json.loads(body)
    assert result["database"] == "Unavailable: the database does not answer"
    assert (result["redis"], result["media"]) == ("OK", "OK")
    assert result["worker"].startswith("Unavailable")  # the heartbeat is in the database
    assert page_status == 503
    assert re.search(r'class="error"><td>database</td>', page.decode())
    assert str(closed) not in body.decode() and str(closed) not in page.decode()


# --- Logs -------------------------------------------------------------------------------------


@contextlib.contextmanager
def captured_log():
    """The lines the configured root handler (settings.LOGGING's "console") writes."""
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    assert isinstance(handler.formatter, JsonFormatter), "LOG_FORMAT is json without DEBUG"
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def parse(buffer: io.StringIO) -> list[dict]:
    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    for line in lines:
        assert ISO.match(line["time"]), line["time"]
        assert line["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
        assert line["logger"] and "message" in line and "request_id" in line
    return lines


@pytest.fixture
def import_request(committee, session):
    from openpyxl import Workbook

    from proposals.tests import factories as f
    from tracker import excel

    f.ProposerFactory(name="委员甲")
    book = Workbook()
    book.active.append(["序号", "提案号", "案由", "第一提案人", "联名提案人", "类别", "重点提案"])
    book.active.append([1, "", "关于加强社区养老服务的建议", "委员甲", "", "社会建设", "否"])
    data = io.BytesIO()
    book.save(data)
    client = Client()
    client.force_login(committee)

    def send(request_id: str):
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile("立案提案.xlsx", data.getvalue(), content_type=excel.XLSX_TYPE)
        return client.post(
            reverse("tracker_admin:import"),
            {"session": session.pk, "file": upload},
            HTTP_X_REQUEST_ID=request_id,
            REMOTE_ADDR="10.20.30.40",
        )

    return send


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_request_and_the_task_it_queued_in_a_worker_log_with_one_request_id(
    import_request, celery_worker, celery_queue
):
    from tracker.celery import app
    from tracker.tests.conftest import _reroute

    app.conf.task_routes = {"tracker.*": {"queue": celery_queue}}
    _reroute(app)
    port = free_port()
    server, thread = metrics.start_worker_server(port, "127.0.0.1")
    try:
        with captured_log() as buffer:
            response = import_request("proxy-req-0001")
            assert response.status_code == 302, response.content[:300]
            assert response["X-Request-ID"] == "proxy-req-0001"

            def task_logged() -> bool:
                return "check_import" in buffer.getvalue() and "succeeded" in buffer.getvalue()

            assert wait_until(task_logged, timeout=60), buffer.getvalue()
        _status, _h, scraped = http_get(f"http://127.0.0.1:{port}/metrics")
    finally:
        server.shutdown()
        thread.join(5)
    lines = parse(buffer)
    mine = [line for line in lines if line["request_id"] == "proxy-req-0001"]
    queued = [line for line in mine if line["logger"] == "tracker.celery"]
    ran = [line for line in mine if line.get("task_name") == "tracker.admin_tasks.check_import"]
    assert queued and queued[0]["message"] == "queued tracker.admin_tasks.check_import"
    assert queued[0]["client_ip"] == "10.20.30.40"
    assert queued[0]["process"] == ran[0]["process"] == os.getpid()  # a worker thread here
    assert any("succeeded" in line["message"] for line in ran), ran
    assert ran[0]["task_id"] == queued[0]["queued_task_id"]
    # The worker's own metrics port counted the task.
    text = scraped.decode()
    assert re.search(
        r'tracker_celery_tasks_total\{state="success",task="tracker.admin_tasks.check_import"\}'
        r" [1-9]",
        text,
    ), text
    assert "tracker_celery_task_duration_seconds_count" in text


@pytest.mark.django_db(transaction=True)
def test_an_eager_task_runs_with_the_request_id_of_its_request(import_request, eager_tasks):
    """Without REDIS_URL (``make run``) the task runs inside the request (on the commit of
    the view's autocommit): same id."""
    from celery.signals import task_prerun

    from tracker.logging import request_id_var

    seen = []

    def look(task=None, **kwargs):
        seen.append((task.name, request_id_var.get()))

    task_prerun.connect(look, weak=False)
    try:
        response = import_request("eager-req-0002")
    finally:
        task_prerun.disconnect(look)
    assert response.status_code == 302
    assert seen == [("tracker.admin_tasks.check_import", "eager-req-0002")]


def celery_process(tmp_path: Path, redis_url: str, *args: str, **env: str):
    """``celery --quiet -A tracker <args>``; its log records go to stderr (the file returned),
    Celery's few console prints ("worker: Warm shutdown") to stdout."""
    environment = gunicorn_env(tmp_path, REDIS_URL=redis_url, **env)
    err = tmp_path / f"celery-{args[0]}.err"
    with err.open("wb") as err_file, (tmp_path / f"celery-{args[0]}.out").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "--quiet", "-A", "tracker", *args],
            cwd=BASE_DIR,
            env=environment,
            stdout=out,
            stderr=err_file,
        )
    return process, err


def json_lines(path: Path) -> list[dict]:
    parsed, other = [], []
    for line in filter(str.strip, path.read_text().splitlines()):
        try:
            parsed.append(json.loads(line))
        except ValueError:
            other.append(line)
    assert not other, other
    for line in parsed:
        assert ISO.match(line["time"]), line
    return parsed


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_and_beat_log_json_in_shanghai_time_and_the_worker_serves_metrics(
    own_redis, tmp_path
):
    """``celery worker`` (prefork, two processes) and ``celery beat`` as compose runs them,
    with TZ=UTC: every line JSON in +08:00; a task queued with a request id logs it in the
    worker; the worker's port sums its pool processes' counts; its heartbeat reaches /healthz."""
    from celery import Celery

    from tracker.logging import request_id_var

    port = free_port()
    worker, worker_log = celery_process(
        tmp_path,
        own_redis.url,
        "worker",
        "-Q",
        "celery",
        "-c",
        "2",
        "--pool",
        "prefork",
        "--without-gossip",
        "--without-mingle",
        CELERY_METRICS_PORT=str(port),
        CELERY_METRICS_ADDRESS="127.0.0.1",
    )
    beat_process, beat_log = celery_process(
        tmp_path, own_redis.url, "beat", "-s", str(tmp_path / "beat-schedule")
    )
    sender = Celery(broker=own_redis.url, set_as_current=False)
    try:
        assert wait_until(lambda: "ready" in worker_log.read_text(), timeout=60), (
            worker_log.read_text()
        )
        token = request_id_var.set("cross-process-req-9")
        try:
            for _ in range(4):
                sender.send_task("tracker.health.heartbeat", queue="celery")
        finally:
            request_id_var.reset(token)
        sender.send_task("tracker.health.heartbeat", queue="celery")  # queued by no request

        def counted() -> bool:
            text = http_get(f"http://127.0.0.1:{port}/metrics")[2].decode()
            found = re.search(
                r'tracker_celery_tasks_total\{state="success",task="tracker.health.heartbeat"\}'
                r" (\S+)",
                text,
            )
            return bool(found) and float(found.group(1)) >= 5

        assert wait_until(counted, timeout=60), http_get(f"http://127.0.0.1:{port}/metrics")
        assert wait_until(lambda: "beat: Starting" in beat_log.read_text(), timeout=60)
    finally:
        for process in (worker, beat_process):
            process.terminate()
            process.wait(timeout=30)
        sender.close()
    worker_lines, beat_lines = json_lines(worker_log), json_lines(beat_log)
    done = [x for x in worker_lines if "succeeded" in x["message"]]
    ours = [x for x in done if x["request_id"] == "cross-process-req-9"]
    assert len(ours) == 4
    assert {x["task_name"] for x in ours} == {"tracker.health.heartbeat"}
    # A task queued outside a request (by the test, by beat) runs with its own id.
    others = [x for x in done if x not in ours]
    assert "tracker.health.heartbeat" in {x["task_name"] for x in others}
    assert all(x["request_id"] == x["task_id"] for x in others)
    assert len({x["process"] for x in worker_lines}) >= 2  # the main process and a child
    assert any(x["message"].startswith("beat: Starting") for x in beat_lines)
    assert Heartbeat.objects.get(name=health.HEARTBEAT).beat_at > timezone.now() - (
        datetime.timedelta(minutes=1)
    )


@pytest.mark.django_db
def test_the_request_id_is_kept_when_sane_made_when_not_and_echoed(client):
    assert client.get("/", HTTP_X_REQUEST_ID="abc-DEF_1.2:3")["X-Request-ID"] == "abc-DEF_1.2:3"
    for bad in ("", "a b", "x" * 65, "id\nINJECTED", "<script>", "-starts-with-dash"):
        echoed = client.get("/", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", echoed), (bad, echoed)
    first, second = client.get("/")["X-Request-ID"], client.get("/")["X-Request-ID"]
    assert first != second


@pytest.mark.django_db
def test_an_error_response_is_logged_with_its_request_id(client):
    with captured_log() as buffer:
        client.get("/no-such-page/", HTTP_X_REQUEST_ID="err-req-0003")
    (line,) = [x for x in parse(buffer) if x["logger"] == "django.request"]
    assert (line["level"], line["request_id"], line["status_code"]) == (
        "WARNING",
        "err-req-0003",
        404,
    )


def test_every_format_writes_shanghai_time_whatever_the_process_zone(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        record = logging.LogRecord("tracker.x", logging.ERROR, __file__, 1, "n=%d", (3,), None)
        record.created = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC).timestamp()
        record.custom = {"a": 1}
        line = json.loads(JsonFormatter().format(record))
        assert line["time"] == "2026-01-01T08:00:00.000+08:00"
        assert (line["level"], line["logger"], line["message"]) == ("ERROR", "tracker.x", "n=3")
        assert line["custom"] == {"a": 1}
        text = TextFormatter().format(record)
        assert text == "2026-01-01T08:00:00.000+08:00 ERROR   tracker.x [-] n=3"
    finally:
        monkeypatch.undo()
        time.tzset()
    from tracker import logging as tracker_logging

    assert tracker_logging.TIME_ZONE == settings.TIME_ZONE


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "json"), ({"DEBUG": "true"}, "text"), ({"DEBUG": "true", "LOG_FORMAT": "json"}, "json")],
)
def test_log_format_is_text_for_make_run_and_json_otherwise(env, expected, tmp_path):
    script = (
        "import logging, django; django.setup(); "
        "from django.conf import settings; "
        "h = [x for x in logging.getLogger().handlers if x.get_name() == 'console'][0]; "
        "from tracker import logging as t; "
        "print(settings.LOG_FORMAT, type(h.formatter).__name__, t.log_format())"
    )
    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "LOG_FORMAT")}
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env={**base, "DJANGO_SETTINGS_MODULE": "tracker.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    formatter = {"json": "JsonFormatter", "text": "TextFormatter"}[expected]
    assert out == [expected, formatter, expected]


# --- /metrics ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_are_404_to_the_public_and_served_to_loopback_the_network_or_the_token(
    settings, with_redis, unit_a
):
    settings.METRICS_TOKEN = "s3cret-token-for-prometheus"
    client = Client()
    client.get("/healthz/web")  # a request for django-prometheus to count
    public = {"REMOTE_ADDR": "203.0.113.7"}
    assert client.get("/metrics", **public).status_code == 404
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope", **public)
    assert wrong.status_code == 404
    # Through a proxy whose forwarded address was not resolved: the proxy's private address
    # lets no one in.
    proxied = {"REMOTE_ADDR": "172.18.0.5", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    assert client.get("/metrics", **proxied).status_code == 404
    missing = client.get("/no-such-page/", **public)
    assert client.get("/metrics", **public).content == missing.content

    token = client.get(
        "/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token-for-prometheus", **public
    )
    assert token.status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    loopback = client.get("/metrics")  # the test client is 127.0.0.1
    assert loopback.status_code == 200
    assert loopback["Content-Type"].startswith("text/plain")
    text = loopback.content.decode()
    assert "django_http_requests_total_by_view_transport_method_total" in text
    assert 'view="healthz-web"' in text
    settings.METRICS_ALLOWED_NETWORKS = ["192.0.2.0/24"]
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.9").status_code == 200
    assert client.post("/metrics").status_code in (403, 405)


def gauge(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
    assert match, f"{name}{labels} not in:\n{text}"
    return float(match.group(1))


@pytest.mark.django_db
def test_metrics_count_queues_overdue_items_failed_mail_and_the_heartbeat(
    settings, with_redis, unit_a
):
    import redis

    from tracker.models import Digest

    today = timezone.localdate()
    open_item(unit_a, due_on=today - datetime.timedelta(days=3))
    open_item(unit_a, due_on=today - datetime.timedelta(days=1), clock=DueDate.Clock.CO_OPINION)
    open_item(unit_a, due_on=today + datetime.timedelta(days=3))  # not yet due
    open_item(unit_a, due_on=today - datetime.timedelta(days=9), state="replied")  # done
    done = open_item(unit_a, due_on=today - datetime.timedelta(days=5))
    DueDate.objects.filter(assignment=done).update(completed_on=today)
    digest = Digest.objects.create(user=_user(), on=today)
    Digest.objects.filter(pk=digest.pk).update(state="failed")
    beat(age=datetime.timedelta(seconds=90))
    broker = redis.Redis.from_url(with_redis.url)
    broker.rpush("mail", b"m1", b"m2")
    broker.rpush("pdf\x06\x163", b"p1")  # a message of priority 3
    broker.close()

    text = Client().get("/metrics").content.decode()
    assert gauge(text, "tracker_redis_up") == 1
    assert gauge(text, "tracker_celery_queue_length", '{queue="mail"}') == 2
    assert gauge(text, "tracker_celery_queue_length", '{queue="pdf"}') == 1
    assert gauge(text, "tracker_celery_queue_length", '{queue="celery"}') == 0
    assert gauge(text, "tracker_overdue_due_dates", '{clock="reply"}') == 1
    assert gauge(text, "tracker_overdue_due_dates", '{clock="co_opinion"}') == 1
    assert gauge(text, "tracker_failed_emails", '{kind="digest"}') == 1
    assert gauge(text, "tracker_letters_without_pdf") == 0
    assert 90 <= gauge(text, "tracker_worker_heartbeat_age_seconds") < 120

    with_redis.stop()
    response = Client().get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert gauge(text, "tracker_redis_up") == 0
    assert "tracker_celery_queue_length{" not in text
    assert gauge(text, "tracker_overdue_due_dates", '{clock="reply"}') == 1


def _user():
    from proposals.tests import factories as f

    return f.UserFactory(username="digest_reader", email="reader@example.org")


# --- gunicorn.conf.py -------------------------------------------------------------------------


def test_two_gunicorn_instances_keep_their_own_control_socket_and_log_json(
    db, tmp_path, short_home
):
    from gunicorn.ctl.client import ControlClient

    env = gunicorn_env(tmp_path, home=short_home)
    first_port, second_port = free_port(), free_port()
    sockets = short_home / ".gunicorn"
    with Gunicorn(first_port, env, tmp_path) as first:
        with Gunicorn(second_port, env, tmp_path) as second:
            two = wait_until(lambda: len(list(sockets.glob("*.ctl"))) == 2, timeout=60)
            assert two, (first.err.read_text(), second.err.read_text())
            paths = {
                port: sockets / f"tracker-127.0.0.1-{port}.ctl"
                for port in (first_port, second_port)
            }
            for port, path in paths.items():
                with ControlClient(str(path), timeout=10) as control:
                    listeners = control.send_command("show listeners")
                assert [x["address"] for x in listeners["listeners"]] == [
                    f"http://127.0.0.1:{port}"
                ], listeners
            status, headers, _body = second.get("/healthz/web", {"X-Request-ID": "gw-req-42"})
            assert (status, headers["X-Request-ID"]) == (200, "gw-req-42")
        # The second one's stop removed its own socket only.
        assert wait_until(lambda: not paths[second_port].exists(), timeout=30)
        assert paths[first_port].exists()
        with ControlClient(str(paths[first_port]), timeout=10) as control:
            assert control.send_command("show listeners")["listeners"]
        first.get("/healthz/web")
    assert not (sockets / "gunicorn.ctl").exists()

    (access,) = [x for x in second.lines("out") if x["logger"] == "gunicorn.access"]
    assert access["request_id"] == "gw-req-42"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/healthz/web", 200)
    assert access["bytes"] > 0 and access["duration_ms"] > 0
    assert access["client_ip"] == "127.0.0.1"
    assert ISO.match(access["time"])
    errors = second.lines("err")
    master = [x for x in errors if x["message"].startswith("Listening at")]
    booted = [x for x in errors if x["message"].startswith("Booting worker")]
    assert master and booted
    assert master[0]["process"] != booted[0]["process"]
    for line in errors:
        assert line["time"].endswith(OFFSET), line


def test_gunicorn_metrics_add_up_every_worker_process(db, tmp_path):
    """Two workers answer; /metrics (from either) counts every request, not one worker's."""
    env = gunicorn_env(tmp_path)
    with Gunicorn(free_port(), env, tmp_path, workers=2) as server:
        sent = 0
        while sent < 200:
            assert server.get("/healthz/web")[0] == 200
            sent += 1
            served_by = {
                x["process"] for x in server.lines("out") if x["logger"] == "gunicorn.access"
            }
            if sent >= 10 and len(served_by) == 2:
                break
        assert len(served_by) == 2, "one worker answered everything"
        text = server.get("/metrics")[2].decode()
    counted = gauge(
        text,
        "django_http_requests_total_by_view_transport_method_total",
        '{method="GET",transport="http",view="healthz-web"}',
    )
    assert counted == sent


def test_gunicorn_control_socket_can_be_turned_off_and_redacts_sign_in_tokens(db, tmp_path):
    env = gunicorn_env(tmp_path, GUNICORN_CONTROL_SOCKET="off")
    with Gunicorn(free_port(), env, tmp_path) as server:
        server.get("/my/login/link/MQ/c0ffee-0123456789abcdef/")
    assert not (tmp_path / "home" / ".gunicorn").exists()
    (access,) = [x for x in server.lines("out") if x["logger"] == "gunicorn.access"]
    assert access["path"] == "/my/login/link/MQ/[redacted]/"
    assert "c0ffee" not in server.out.read_text() + server.err.read_text()


# --- Sentry -----------------------------------------------------------------------------------


class _Sink(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            import gzip

            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        type(self).received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_sentry_reports_only_when_a_dsn_is_set_and_without_personal_data(tmp_path):
    script = (
        "import django; django.setup(); import sentry_sdk; "
        "c = sentry_sdk.get_client(); "
        "print(c.is_active(), c.options.get('send_default_pii'), "
        "sorted(x for x in c.integrations if x in ('django', 'celery'))); "
        "from django.http import HttpResponse; from django.test import RequestFactory; "
        "from tracker.middleware import RequestIdMiddleware; "
        "report = lambda r: (sentry_sdk.capture_message('observe-sentry-probe'), HttpResponse()); "
        "RequestIdMiddleware(lambda r: report(r)[1])("
        "RequestFactory().get('/', HTTP_X_REQUEST_ID='sentry-req-77')); "
        "sentry_sdk.flush(5)"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    base["DJANGO_SETTINGS_MODULE"] = "tracker.settings"

    def run(**env) -> str:
        return subprocess.run(
            [sys.executable, "-c", script],
            cwd=BASE_DIR,
            env={**base, **env},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout

    _Sink.received = []
    sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        assert run().split()[0] == "False"
        assert _Sink.received == []
        dsn = f"http://publickey@127.0.0.1:{sink.server_address[1]}/1"
        out = run(SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="district-test", SENTRY_RELEASE="r42")
        assert out.split()[:2] == ["True", "False"] and "['celery', 'django']" in out
        assert wait_until(lambda: _Sink.received, timeout=10)
    finally:
        sink.shutdown()
    envelope = b"\n".join(_Sink.received).decode()
    assert "observe-sentry-probe" in envelope
    assert '"environment":"district-test"' in envelope.replace(" ", "")
    assert '"release":"r42"' in envelope.replace(" ", "")
    assert '"request_id":"sentry-req-77"' in envelope.replace(" ", "")
