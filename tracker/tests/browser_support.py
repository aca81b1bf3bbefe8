"""What the browser tests share: Debian's Chromium under Playwright, and where screenshots go.

``chromium()`` starts Playwright's sync API and Debian's ``chromium`` (never a downloaded
browser). While it runs, the test's thread has an event loop, so Django keeps this thread's
database connections in a separate, context-bound set (asgiref's ``Local``): the ORM calls a test
makes between browser steps open connections of their own. They are closed when the browser
stops; left open, they keep the test database busy and its teardown fails ("database … is being
accessed by other users").

A test run leaves the tree as it found it: screenshots go to a temporary folder, removed when the
run ends. ``make screenshots`` sets ``SCREENSHOTS_DIR`` to ``docs/screenshots/`` to refresh the
pictures the README shows.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.db import connections

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium browser (Playwright's ``Browser``) for the duration of the block.

    The ORM calls a test makes between browser steps are ordinary synchronous ones, though the
    thread has an event loop: ``DJANGO_ALLOW_ASYNC_UNSAFE`` says so for the block.
    """
    from playwright.sync_api import sync_playwright

    saved = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with _browser(sync_playwright) as browser:
            yield browser
    finally:
        if saved is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = saved


ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@contextlib.contextmanager
def _browser(sync_playwright) -> Iterator:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # The connections the block opened belong to the event loop's context, which ends
            # with the block: close them while they can still be reached.
            connections.close_all()


@functools.cache
def screenshots_dir() -> Path:
    if target := os.environ.get("SCREENSHOTS_DIR"):
        path = Path(target)
        path.mkdir(parents=True, exist_ok=True)
        return path
    path = Path(tempfile.mkdtemp(prefix="tracker-screenshots-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
