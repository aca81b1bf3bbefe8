"""The web process's warm-up (tracker/warmup.py) and how gunicorn.conf.py runs it (issue 24).

What the warm-up loads is checked in a new interpreter (this test process has long loaded
everything); what gunicorn.conf.py does is read from the file as gunicorn reads it.
"""

from __future__ import annotations

import gc
import json
import os
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings

from tracker import warmup

CONF = Path(settings.BASE_DIR) / "gunicorn.conf.py"

_PROBE = textwrap.dedent(
    """
    import json, sys
    import django
    django.setup()
    from django.urls import get_resolver
    from django.template import engines
    from django.db import connections
    from tracker import warmup
    before = {"urls": "tracker.urls" in sys.modules}
    timings = warmup.warm()
    loader = engines["django"].engine.template_loaders[0]
    print(json.dumps({
        "before": before,
        "timings": timings,
        "urls": "tracker.urls" in sys.modules and get_resolver()._populated,
        "templates": len(getattr(loader, "get_template_cache", {})),
        "demo_passwords": "tracker.demo" in sys.modules,
        "connections_open": [c.alias for c in connections.all() if c.connection is not None],
        "frozen": __import__("gc").get_freeze_count(),
        "renderer": "weasyprint" in sys.modules or "replies.pdf" in sys.modules,
    }))
    """
)


@pytest.fixture(scope="module")
def warmed() -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tracker.settings", "DEBUG": "false"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=settings.BASE_DIR,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_warm_up_loads_the_urlconf_templates_and_the_sign_in(warmed):
    assert warmed["before"] == {"urls": False}
    assert warmed["urls"] is True
    # Every template of the project and the admin, compiled into the cached loader.
    assert warmed["templates"] > 100
    # A sign-in refuses the published passwords: their list is imported now, not then.
    assert warmed["demo_passwords"] is True
    assert set(warmed["timings"]) == {"urls", "templates", "translations", "auth"}


def test_the_warm_up_leaves_no_connection_to_fork_and_freezes_what_it_loaded(warmed):
    assert warmed["connections_open"] == []
    assert warmed["frozen"] > 0


def test_the_warm_up_does_not_load_the_renderer(warmed):
    # The web never renders a letter (replies.renderer): warming must not load WeasyPrint.
    assert warmed["renderer"] is False


def test_a_failing_step_is_logged_and_the_rest_still_runs(monkeypatch, caplog):
    calls = []

    def broken() -> None:
        raise RuntimeError("no")

    monkeypatch.setattr(warmup, "_urls", broken)
    monkeypatch.setattr(warmup, "_templates", lambda: calls.append("templates"))
    monkeypatch.setattr(warmup, "_translations", lambda: calls.append("translations"))
    monkeypatch.setattr(warmup, "_auth", lambda: calls.append("auth"))
    monkeypatch.setattr(warmup, "_close_connections", lambda: calls.append("closed"))
    try:
        timings = warmup.warm()
    finally:
        gc.unfreeze()
    assert calls == ["templates", "translations", "auth", "closed"]
    assert set(timings) == {"urls", "templates", "translations", "auth"}
    assert "warm-up step urls failed" in caplog.text


@pytest.mark.django_db
def test_warm_worker_opens_the_database_connection():
    from django.db import connection

    connection.close()
    warmup.warm_worker()
    assert connection.connection is not None


@pytest.fixture(autouse=True)
def _metrics_dir(monkeypatch, tmp_path):
    # gunicorn.conf.py makes (and exports) a metrics directory when none is set.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))


def _conf(monkeypatch, **env: str) -> dict:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_gunicorn_preloads_by_default_and_not_with_gunicorn_preload_0(monkeypatch):
    monkeypatch.delenv("GUNICORN_PRELOAD", raising=False)
    assert _conf(monkeypatch)["preload_app"] is True
    assert _conf(monkeypatch, GUNICORN_PRELOAD="0")["preload_app"] is False


class _Cfg:
    def __init__(self, preload: bool) -> None:
        self.preload_app = preload


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str, *args) -> None:
        self.lines.append(message % args)


class _Server:
    def __init__(self, preload: bool) -> None:
        self.cfg = _Cfg(preload)
        self.log = _Log()


@pytest.mark.parametrize("preload", [True, False])
def test_gunicorn_warms_the_master_and_each_worker_only_when_preloading(monkeypatch, preload):
    calls = []
    monkeypatch.setattr(warmup, "warm", lambda: calls.append("master") or {"urls": 0.1})
    monkeypatch.setattr(warmup, "warm_worker", lambda app: calls.append(("worker", app)))
    conf = _conf(monkeypatch)
    server = _Server(preload)
    server.wsgi = "the application"
    conf["when_ready"](server)
    conf["post_worker_init"](server)
    assert calls == (["master", ("worker", "the application")] if preload else [])
    assert bool(server.log.lines) is preload


def test_the_worker_warms_the_renderer_and_the_signing_hook_then_freezes(monkeypatch):
    """``tracker.celery``'s ``worker_init``: what a fresh worker's first letter needs is loaded
    in the main process before the pool forks, then kept out of the collector's sight."""
    from replies import renderer
    from tracker import celery as worker

    calls = []
    monkeypatch.setattr(renderer, "warm", lambda: calls.append("renderer"))
    gc.unfreeze()
    try:
        worker._warm_the_renderer()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert calls == ["renderer"]
    assert "signing.stamping" in sys.modules


class _Worker:
    """What ``worker_init`` is sent with: a worker whose app consumes ``queues``."""

    def __init__(self, *queues: str) -> None:
        self.app = SimpleNamespace(
            amqp=SimpleNamespace(queues=SimpleNamespace(consume_from={q: q for q in queues}))
        )


@pytest.mark.parametrize(
    ("queues", "warmed"),
    [(("celery", "mail", "pdf"), True), (("pdf",), True), (("mail",), False), (("celery",), False)],
)
def test_only_a_worker_of_the_pdf_queue_loads_the_renderer(monkeypatch, queues, warmed):
    from replies import renderer
    from tracker import celery as worker

    calls = []
    monkeypatch.setattr(renderer, "warm", lambda: calls.append("renderer"))
    gc.unfreeze()
    try:
        worker._warm_the_renderer(sender=_Worker(*queues))
        assert gc.get_freeze_count() > 0  # frozen either way, before the pool forks
    finally:
        gc.unfreeze()
    assert calls == (["renderer"] if warmed else [])


def test_a_real_worker_s_queues_are_read_from_its_app():
    from tracker import celery as worker
    from tracker.celery import app

    class Real:
        pass

    real = Real()
    real.app = app
    queues = app.amqp.queues
    before = queues._consume_from
    queues.select(["mail", "pdf"])  # as ``-Q mail,pdf`` does
    try:
        assert worker.consumed_queues(real) == {"mail", "pdf"}
    finally:
        queues._consume_from = before
    assert worker.consumed_queues(object()) is None


@pytest.mark.django_db
def test_warm_worker_serves_the_sign_in_page_once_inside_the_worker():
    seen = []

    def application(environ, start_response):
        seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], environ["HTTP_HOST"]))
        start_response("200 OK", [])
        return [b"ok"]

    warmup.warm_worker(application)
    assert seen == [("GET", "/admin/login/", settings.ALLOWED_HOSTS[0].lstrip("."))]


@pytest.mark.django_db
def test_the_real_sign_in_page_answers_the_warm_up_request():
    from django.core.handlers.wsgi import WSGIHandler

    statuses = []
    handler = WSGIHandler()
    warmup._first_request(lambda env, start: handler(env, lambda s, h, e=None: statuses.append(s)))
    assert statuses == ["200 OK"]
