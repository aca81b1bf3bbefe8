"""The deployed WSGI application has the fast path in front (``PUBLIC_FASTCACHE=0``: not), and
gunicorn.conf.py's workers: sync by default, threaded with keep-alive on ``GUNICORN_THREADS``."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def conf(monkeypatch, tmp_path, **env: str) -> dict:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("TZ", os.environ.get("TZ", "Asia/Shanghai"))  # the file sets it
    for name in ("GUNICORN_THREADS", "GUNICORN_KEEPALIVE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_workers_are_sync_unless_threads_are_asked_for(monkeypatch, tmp_path):
    default = conf(monkeypatch, tmp_path)
    assert default["threads"] == 1
    assert "worker_class" not in default and "keepalive" not in default
    threaded = conf(monkeypatch, tmp_path, GUNICORN_THREADS="4")
    assert (threaded["threads"], threaded["worker_class"], threaded["keepalive"]) == (
        4,
        "gthread",
        5,
    )
    assert (
        conf(monkeypatch, tmp_path, GUNICORN_THREADS="4", GUNICORN_KEEPALIVE="2")["keepalive"] == 2
    )


@pytest.mark.parametrize(("value", "wrapped"), [(None, True), ("1", True), ("0", False)])
def test_the_wsgi_application_has_the_fast_path_unless_turned_off(value, wrapped):
    env = {k: v for k, v in os.environ.items() if k != "PUBLIC_FASTCACHE"}
    if value is not None:
        env["PUBLIC_FASTCACHE"] = value
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from tracker.wsgi import application\n"
        "from tracker.fastcache import FastCache\n"
        "print(isinstance(application, FastCache))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(wrapped)
