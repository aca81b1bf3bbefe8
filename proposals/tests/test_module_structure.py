"""The shape of the code: every module imports on its own, the base app never names the apps
above it, and its modules stay small enough to read (issue 18, "modules by subject, no cycles").

Dependencies run ``tracker`` → ``replies`` → ``proposals``; a module-level import cycle shows up
as an ImportError when one of its modules is the first to be imported, so each module is imported
first in a process of its own (forked after ``django.setup()``, which is what any entry point
does before importing project code).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("proposals", "replies", "publication", "signing", "tracker")
#: The apps ``proposals`` must not import, at any level.
ABOVE_PROPOSALS = ("replies", "publication", "signing", "tracker")
#: ``signing`` (seals, signatures, the Word copy) and ``publication`` (public pages, search,
#: redaction) sit between ``replies`` and ``tracker``: replies runs their hooks
#: (``replies.rendering.SIGNED_PDF_HOOKS``, ``replies.workflow.replies.PUBLISH_CHECKS``)
#: without naming them.
ABOVE_REPLIES = ("publication", "signing")
#: Strings that are words of the domain as well as app labels: the 公开 clock is named
#: ``"publication"`` (docs/domain.md, Deadlines). ``"publication.Search"`` is still seen.
DOMAIN_WORDS = frozenset({"publication"})
MAX_LINES = 500
#: Modules over the limit still waiting to be split; the list may only shrink.
OVERSIZE_PENDING: frozenset[str] = frozenset()

# Runs in a fresh interpreter: set Django up once and load the third-party libraries the modules
# name (WeasyPrint, DRF… — loading them in every child would take a minute), then fork one child
# per module, so each module is imported first in its child whatever the others import. Prints
# the failures as JSON.
_IMPORT_EACH = textwrap.dedent(
    """
    import importlib, json, os, sys, traceback
    import django
    django.setup()
    for library in json.loads(sys.argv[2]):
        try:
            importlib.import_module(library)
        except Exception:
            pass  # an optional dependency, or a name that is not a module: the child will tell
    failures = {}
    for name in json.loads(sys.argv[1]):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            try:
                importlib.import_module(name)
                code = 0
            except BaseException:
                os.write(write, traceback.format_exc().encode())
                code = 1
            os._exit(code)
        os.close(write)
        with os.fdopen(read, "rb") as pipe:
            message = pipe.read().decode()
        _, status = os.waitpid(pid, 0)
        if status:
            failures[name] = message or "exit status %d" % status
    print(json.dumps(failures))
    """
)


def _modules(app: str, root: Path = ROOT) -> list[Path]:
    """The app's source files, without its tests and migrations."""
    return sorted(
        p
        for p in (root / app).rglob("*.py")
        if not {"tests", "migrations"} & set(p.relative_to(root).parts)
    )


def _dotted(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _libraries(paths: list[Path]) -> list[str]:
    """The modules outside the project that ``paths`` import at their top level."""
    found = set()
    for path in paths:
        for node in ast.parse(path.read_text(), str(path)).body:
            for _line, name in _imported_names(node):
                if name.split(".")[0] not in APPS:
                    found.add(name)
    return sorted(found)


def _import_each(
    names: list[str],
    libraries: list[str] = (),
    *,
    cwd: Path = ROOT,
    settings: str = "tracker.settings",
):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, "PYTHONPATH": str(cwd)}
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, json.dumps(names), json.dumps(list(libraries))],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _imported_names(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module an ``import`` names, at any level (functions and ``TYPE_CHECKING`` too)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
    return found


def _named_by_string(tree: ast.AST) -> list[tuple[int, str]]:
    """Strings that name a module or an app label: ``"replies"``, ``"tracker.tasks"`` — what
    ``import_module``, ``apps.get_model`` or a list of app labels would be given."""
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.split(".")[0] in ABOVE_PROPOSALS
        and not any(c.isspace() for c in node.value)
        and node.value not in DOMAIN_WORDS
    ]


@pytest.mark.slow
def test_every_module_of_the_three_apps_imports_first_on_its_own():
    paths = [p for app in APPS for p in _modules(app)]
    names = [_dotted(p) for p in paths]
    assert "proposals.workflow.guards" in names
    failures = _import_each(names, _libraries(paths))
    assert not failures, "\n\n".join(f"{name}:\n{tb}" for name, tb in failures.items())


@pytest.mark.slow
def test_the_import_check_reports_a_module_level_cycle(tmp_path):
    """The harness itself: a cycle between two modules fails whichever is imported first."""
    (tmp_path / "cyclic").mkdir()
    (tmp_path / "cyclic" / "__init__.py").write_text("")
    (tmp_path / "cyclic" / "a.py").write_text("from cyclic.b import B\nA = 1\n")
    (tmp_path / "cyclic" / "b.py").write_text("from cyclic.a import A\nB = 2\n")
    (tmp_path / "quiet_settings.py").write_text("SECRET_KEY = 'x'\nINSTALLED_APPS = []\n")
    failures = _import_each(["cyclic.a", "cyclic.b"], cwd=tmp_path, settings="quiet_settings")
    assert set(failures) == {"cyclic.a", "cyclic.b"}
    assert "ImportError" in failures["cyclic.a"]


def test_proposals_imports_neither_replies_nor_tracker():
    offences = []
    for path in _modules("proposals"):
        tree = ast.parse(path.read_text(), str(path))
        for line, name in _imported_names(tree):
            if name.split(".")[0] in ABOVE_PROPOSALS:
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
        for line, name in _named_by_string(tree):
            offences.append(f"{path.relative_to(ROOT)}:{line} names {name!r}")
    assert not offences, "\n".join(offences)


def test_replies_imports_neither_signing_nor_publication():
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules("replies")
        for line, name in _imported_names(ast.parse(path.read_text(), str(path)))
        if name.split(".")[0] in ABOVE_REPLIES
    ]
    assert not offences, "\n".join(offences)


def test_the_import_scan_sees_imports_inside_functions():
    tree = ast.parse("def f():\n    from replies.models import Reply\n    import tracker.tasks\n")
    assert _imported_names(tree) == [(2, "replies.models"), (3, "tracker.tasks")]


def test_the_scan_sees_app_labels_given_as_strings_but_not_prose():
    tree = ast.parse(
        'OWN = ("proposals", "replies")\n'
        'get_model("tracker.Digest")\n'
        '"""Sent by tracker.tasks, never imported."""\n'
    )
    assert _named_by_string(tree) == [(1, "replies"), (2, "tracker.Digest")]


def test_no_module_of_proposals_or_replies_is_over_500_lines():
    sizes = {
        str(p.relative_to(ROOT)): len(p.read_text().splitlines())
        for app in ("proposals", "replies", "signing")
        for p in _modules(app)
    }
    too_long = {
        name: n for name, n in sizes.items() if n > MAX_LINES and name not in OVERSIZE_PENDING
    }
    assert not too_long, too_long
    # A pending module that has been split leaves the list, so the list cannot go stale.
    assert all(sizes.get(name, 0) > MAX_LINES for name in OVERSIZE_PENDING)
