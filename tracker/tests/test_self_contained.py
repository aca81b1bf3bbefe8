"""The repository stands on its own: a user's clone, a release tarball or the image has nothing
beside it, so nothing tracked may read a path outside the tree; what the code cites as its rules is
in the tree; and the virtualenv holds exactly the locked packages.

These tests read files only (no database). They run from a git checkout (the tracked files) and
from a ``git archive`` copy (every file of the tree, as CI's fresh copy has it).
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

from replies.seeds import SEED_FILES, SEEDS_DIR, seed_path

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve()

#: Never part of the tree, whatever a developer's checkout holds.
UNTRACKED_DIRS = {
    ".git",
    ".venv",
    "media",
    "staticfiles",
    "backups",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "node_modules",
}

#: Where code, build and deployment files live: a path outside the repository here breaks a clone.
CODE_PATTERNS = (
    "*.py",
    "*.sh",
    "*.toml",
    "*.cfg",
    "*.ini",
    "*.yml",
    "*.yaml",
    "*.html",
    "*.css",
    "*.js",
    "*.txt",
    "Makefile",
    "Dockerfile",
    ".dockerignore",
    ".env.example",
    "scripts/*",
    ".ci/*",
)


def tree_files() -> list[Path]:
    """The tracked files (git ls-files), or every file of a copy that is not a checkout."""
    if (ROOT / ".git").exists():
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout
        return [ROOT / name for name in out.decode().split("\0") if name]
    files = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        untracked = UNTRACKED_DIRS.intersection(rel.parts) or rel.name.startswith("db.sqlite3")
        if path.is_file() and not untracked:
            files.append(path)
    return files


def is_code(path: Path) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(path.name, p) for p in CODE_PATTERNS)


def text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, FileNotFoundError):
        return None  # a picture, a font, a file deleted in the work tree


def test_the_seed_letters_are_in_the_tree():
    assert SEEDS_DIR.is_relative_to(ROOT)
    for number in SEED_FILES:
        assert seed_path(number).is_file(), number
        assert seed_path(number).stat().st_size > 5_000
    readme = (SEEDS_DIR / "README.md").read_text(encoding="utf-8")
    for name in SEED_FILES.values():
        assert name in readme, f"replies/seeds/README.md does not say what {name} is"


# The patterns are spelled in pieces so that this file does not match itself (nor a grep for
# the team folder's name over the tree).
TEAM = "".join(("sha", "red"))
OUTSIDE = [
    (re.compile(r"\.\./" + TEAM), "a folder beside the checkout"),
    (re.compile(TEAM + r"/seeds"), "the team's seed folder"),
    (re.compile(r"""parents\[\d+\]\s*/\s*["']""" + TEAM), "a folder beside the checkout"),
    (re.compile(r"""\.parent\s*/\s*["']""" + TEAM + "[\"']"), "a folder beside the checkout"),
    (re.compile(r"(?<![\w.])/" + r"(work|root|Users)/"), "an absolute path of one machine"),
    (re.compile(r"(?<![\w.])/" + r"home/(?!app\b)"), "an absolute path of one machine"),
]


def test_nothing_tracked_reads_a_path_outside_the_repository():
    found = []
    for path in tree_files():
        rel = path.relative_to(ROOT)
        if path == THIS or rel.parts[:2] == ("replies", "seeds"):
            continue
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for pattern, what in OUTSIDE:
                # Documents may name machines' paths in prose; code and build files may not, and
                # nothing may point at the team's seed folder.
                if not is_code(path) and what == "an absolute path of one machine":
                    continue
                if pattern.search(line):
                    found.append(f"{rel}:{number}: {what}: {line.strip()[:100]}")
    assert not found, "\n".join(found)


def test_the_guard_catches_what_it_is_for():
    """The patterns above find the forms the repository once had (so the test can fail)."""
    once = [
        f'SEEDS_DIR = Path(settings.BASE_DIR).parent / "{TEAM}" / "seeds"',
        f'SEEDS = Path(__file__).resolve().parents[3] / "{TEAM}" / "seeds"',
        f"below from ``/work/{TEAM}/seeds/00*.txt``",
        f"cp ../{TEAM}/seeds/*.txt .",
    ]
    for line in once:
        assert any(p.search(line) for p, _ in OUTSIDE), line
    assert not any(p.search("--home-dir /home/app") for p, _ in OUTSIDE)


# --- What the code cites resolves ----------------------------------------------------------

MD_REFERENCE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.md)\b")


def resolve_reference(name: str, cited_in: Path) -> Path | None:
    candidates = [ROOT / name, cited_in.parent / name]
    if "/" not in name:
        candidates.append(ROOT / "docs" / name)
    return next((c for c in candidates if c.is_file()), None)


def test_every_document_the_code_cites_is_in_the_tree():
    missing = []
    for path in tree_files():
        if not is_code(path) or path == THIS:
            continue
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for name in MD_REFERENCE.findall(line):
                if resolve_reference(name, path) is None:
                    missing.append(f"{path.relative_to(ROOT)}:{number}: {name}")
    assert not missing, "cited but not in the repository:\n" + "\n".join(missing)


def test_the_rules_the_code_cites_are_in_docs():
    domain = (ROOT / "docs" / "domain.md").read_text(encoding="utf-8")
    layout = (ROOT / "docs" / "letter-layout.md").read_text(encoding="utf-8")
    headings = {
        line.lstrip("#").strip().split(" ")[0].strip("()（）")
        for line in domain.splitlines()
        if line.startswith("#")
    }
    for cited in ("Deadlines", "Numbering", "Publication", "Statistics"):
        assert cited in headings, f"docs/domain.md has no section {cited!r}"
    assert "〔" in domain and "9704" in layout and "Fonts" in layout


# --- The lock ----------------------------------------------------------------------------------

LOCK_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(name: str) -> dict[str, str]:
    text = (ROOT / "requirements" / name).read_text(encoding="utf-8")
    pins = {}
    for line in text.splitlines():
        if match := LOCK_LINE.match(line):
            pins[normalize(match[1])] = match[2]
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[-1])
    for block in blocks:
        if LOCK_LINE.match(block):
            assert "--hash=sha256:" in block, f"{name}: no hash for {block.splitlines()[0]}"
    return pins


def pyproject_pins(extra: str | None = None) -> dict[str, str]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = project["optional-dependencies"][extra] if extra else project["dependencies"]
    pins = {}
    for spec in specs:
        match = PIN.match(spec)
        assert match, f"pyproject.toml: {spec!r} is not pinned with =="
        pins[normalize(match[1])] = match[2]
    return pins


def test_the_locks_hold_pyprojects_pins_with_hashes():
    dev, prod = read_lock("dev.txt"), read_lock("prod.txt")
    for name, version in pyproject_pins().items():
        assert prod.get(name) == version, f"prod lock: {name} {prod.get(name)} != {version}"
    for name, version in {**pyproject_pins(), **pyproject_pins("dev")}.items():
        assert dev.get(name) == version, f"dev lock: {name} {dev.get(name)} != {version}: make lock"
    # The image's packages are the venv's, version for version.
    assert {n: dev.get(n) for n in prod} == prod
    assert not {"pytest", "ruff", "playwright", "hypothesis", "pip-tools"} & set(prod)


def test_the_virtualenv_holds_exactly_the_lock():
    """What `pip freeze` shows equals requirements/dev.txt (bootstrap syncs it)."""
    site = sysconfig.get_paths()
    installed = {
        normalize(d.metadata["Name"]): d.version
        for d in metadata.distributions(path=[site["purelib"], site["platlib"]])
        if d.metadata["Name"]
    }
    locked = read_lock("dev.txt")
    extra = {n: v for n, v in installed.items() if n not in locked}
    differ = {n: (installed.get(n), v) for n, v in locked.items() if installed.get(n) != v}
    assert not extra, f"installed but not locked: {extra}"
    assert not differ, f"locked (installed, lock): {differ}"


def test_the_image_installs_the_lock_with_hash_checking():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^FROM\s+(\S+)", dockerfile, re.M)[1]
    assert re.fullmatch(r"python:3\.11[\w.-]*@sha256:[0-9a-f]{64}", base), base
    assert "requirements/prod.txt" in dockerfile
    install = next(line for line in dockerfile.splitlines() if "pip install" in line)
    assert "--require-hashes" in install and "-r " in install


@pytest.mark.parametrize("path", ["replies/seeds/001_9332f8a4cbbb0d88.txt", "docs/domain.md"])
def test_the_image_keeps_the_letters_and_the_rules(path):
    """`.dockerignore` does not drop what load_demo and the renderer read at run time."""
    ignored = [
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = Path(path).parts
    for pattern in ignored:
        prefix = [pattern.removeprefix("**/")]
        for i in range(1, len(parts) + 1):
            assert not fnmatch.fnmatch("/".join(parts[:i]), prefix[0]), (path, pattern)
        assert not any(fnmatch.fnmatch(part, prefix[0]) for part in parts[:-1]), (path, pattern)
