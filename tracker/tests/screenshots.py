"""Where the browser tests put their screenshots.

A test run leaves the tree as it found it: screenshots go to a temporary folder, removed when the
run ends. ``make screenshots`` sets ``SCREENSHOTS_DIR`` to ``docs/screenshots/`` to refresh the
pictures the README shows.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path


@functools.cache
def screenshots_dir() -> Path:
    if target := os.environ.get("SCREENSHOTS_DIR"):
        path = Path(target)
        path.mkdir(parents=True, exist_ok=True)
        return path
    path = Path(tempfile.mkdtemp(prefix="tracker-screenshots-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
