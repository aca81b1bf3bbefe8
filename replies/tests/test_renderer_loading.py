"""The web processes and the beat never load WeasyPrint (``replies.renderer``).

Each check runs in a new interpreter: this test process has loaded the renderer long ago.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from django.conf import settings

_PROBE = textwrap.dedent(
    """
    import importlib, sys
    import django
    django.setup()
    for name in sys.argv[1:]:
        importlib.import_module(name)
    from django.urls import resolve
    resolve("/admin/")  # the URLconf, with every admin and view module behind it
    print("weasyprint" in sys.modules, "replies.pdf" in sys.modules)
    """
)


def _loaded_after(*modules: str) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tracker.settings"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=settings.BASE_DIR,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_web_process_does_not_load_the_renderer():
    modules = (
        "replies.workflow",
        "replies.tasks",
        "replies.rendering",
        "replies.previews",
        "replies.admin",
        "tracker.admin_tasks",
        "tracker.urls",
        "tracker.celery",
    )
    assert _loaded_after(*modules) == "False False"


def test_the_probe_sees_the_renderer_when_it_is_loaded():
    # The same probe reports True once the renderer is asked for: the check above can fail.
    assert _loaded_after("replies.renderer", "replies.pdf") == "True True"
