"""A report's .docx as PDF, by headless LibreOffice (``soffice``, installed by
scripts/bootstrap): how the tests check that a report opens outside Word, and how the page
images under docs/annual-report/ are made.

LibreOffice runs with a profile of its own in a temporary directory (two conversions at once
would otherwise fight over the user's profile lock) and with ``fonts.conf`` beside this module,
which maps the fonts a report names (仿宋_GB2312, 黑体, 楷体_GB2312 …) to the free ones installed
here, as Word users' machines have the originals.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

FONTS_CONF = Path(__file__).with_name("fonts.conf")
TIMEOUT_SECONDS = 180


class ConversionError(RuntimeError):
    """LibreOffice is missing or could not convert the file."""


def soffice() -> str | None:
    """The LibreOffice executable, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(docx: Path, outdir: Path) -> Path:
    """Convert ``docx`` to ``outdir/<stem>.pdf`` and return that path."""
    program = soffice()
    if program is None:
        raise ConversionError("soffice not found: run scripts/bootstrap")
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="soffice-profile-") as profile:
        env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "HOME": profile}
        done = subprocess.run(
            [
                program,
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(outdir),
                str(docx),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    pdf = outdir / f"{docx.stem}.pdf"
    if done.returncode != 0 or not pdf.exists():
        raise ConversionError(f"soffice failed ({done.returncode}): {done.stderr or done.stdout}")
    return pdf
