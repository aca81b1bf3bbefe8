"""Issue 18, "Modules by subject, no cycles": the size of the tracker's modules, and the layers
of its mail (``tracker.mail``), reminders and tasks.

- No module of ``tracker/`` (tests and migrations aside) is over ``MAX_LINES`` lines, except the
  data modules named below (long by nature) and the big modules still to be split, listed so
  that the list only shrinks: one that got under the limit must leave it.
- ``tracker.tasks``, ``tracker.reminders``, ``tracker.reminder_plan`` and each ``tracker.mail``
  module import alone, each the first of them, in a fresh interpreter; and none of them imports
  a tracker module inside a function, the way cycles were once dodged (``tracker/mail/__init__.py``
  gives the layers).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
TRACKER = ROOT / "tracker"
MAX_LINES = 500

#: Data modules, allowed to grow past the limit: what they hold is data, not code.
DATA_MODULES = {
    "tracker/demo/data.py": "the demo's units, sessions, proposers, logins and seed proposals",
    "tracker/demo/synthetic.py": "the demo's synthetic session: its topics, one per story",
    "tracker/demo/texts.py": "what the demo's proposals say, by title",
}

#: Big modules not split yet; each must still be over the limit (else take it off the list).
STILL_TO_SPLIT: dict[str, str] = {}

#: The layered modules: importable alone, and no tracker import inside a function.
LAYERED = (
    "tracker.mail.ledger",
    "tracker.mail.digests",
    "tracker.mail.notices",
    "tracker.reminder_plan",
    "tracker.reminders",
    "tracker.tasks",
)


def _modules() -> dict[str, int]:
    found = {}
    for path in sorted(TRACKER.rglob("*.py")):
        parts = path.relative_to(TRACKER).parts
        if "tests" in parts or "migrations" in parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        found[path.relative_to(ROOT).as_posix()] = len(lines)
    return found


def test_no_module_is_over_the_limit_but_the_listed_ones():
    modules = _modules()
    too_long = {
        name: lines
        for name, lines in modules.items()
        if lines > MAX_LINES and name not in DATA_MODULES and name not in STILL_TO_SPLIT
    }
    assert too_long == {}, f"split these by subject (issue 18), at most {MAX_LINES} lines each"


def test_the_lists_name_only_what_still_needs_them():
    modules = _modules()
    assert set(DATA_MODULES) <= set(modules), "a listed data module no longer exists"
    split_already = {name for name in STILL_TO_SPLIT if modules.get(name, 0) <= MAX_LINES}
    assert split_already == set(), "these are split (or gone): take them off STILL_TO_SPLIT"


def test_the_old_all_in_one_modules_are_gone():
    assert not (TRACKER / "notify.py").exists()
    assert not (TRACKER / "demo.py").exists()
    assert not (TRACKER / "demo_replies.py").exists()


@pytest.mark.parametrize("module", LAYERED)
def test_each_layer_imports_alone_first(module):
    """In a fresh interpreter, ``module`` is the first of the layered ones imported: the app's
    ``ready`` (which imports the notices and the tasks) and the admin's autodiscovery (which
    imports ``tracker.admin``) are held back until it is in, then run."""
    code = (
        "import django, sys\n"
        "import django.contrib.admin as admin\n"
        "import tracker.apps\n"
        "ready, autodiscover = tracker.apps.TrackerConfig.ready, admin.autodiscover\n"
        "tracker.apps.TrackerConfig.ready = lambda self: None\n"
        "admin.autodiscover = lambda: None\n"
        "django.setup()\n"
        f"layered = {LAYERED!r}\n"
        "assert not [m for m in layered if m in sys.modules], 'imported too early'\n"
        f"import {module}\n"
        "for m in layered:\n"
        "    __import__(m)\n"
        "ready(django.apps.apps.get_app_config('tracker'))\n"
        "autodiscover()\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tracker.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def _function_level_tracker_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("tracker"):
                found.append(f"{path.name}:{inner.lineno} from {inner.module}")
            elif isinstance(inner, ast.Import):
                found += [
                    f"{path.name}:{inner.lineno} import {alias.name}"
                    for alias in inner.names
                    if alias.name.startswith("tracker")
                ]
    return found


@pytest.mark.parametrize("module", LAYERED)
def test_no_layer_dodges_a_cycle_with_an_import_inside_a_function(module):
    path = ROOT.joinpath(*module.split(".")).with_suffix(".py")
    assert _function_level_tracker_imports(path) == []
