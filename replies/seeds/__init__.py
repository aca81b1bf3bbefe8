"""Published reply letters kept as project data: the reference of the reader
(``replies.legacy``) and the renderer (``replies.pdf``), and the letters of the demo
(``tracker.demo``). What each is, and where it was published: ``README.md`` beside this file.

They live in ``replies`` because the reader and the renderer are this app's; the demo reads them
from here, which keeps the dependencies one way (``tracker`` → ``replies``).
"""

from __future__ import annotations

from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent

#: The documents by their number; 000–003 are reply letters, 004 is a joint policy notice.
SEED_FILES: dict[str, str] = {
    "000": "000_0c70261e90fe6926.txt",
    "001": "001_9332f8a4cbbb0d88.txt",
    "002": "002_1374ff59fa2fbedd.txt",
    "003": "003_9524cd4df80fb0e1.txt",
    "004": "004_e9fa96569d7c780b.txt",
}

#: The four reply letters.
REPLY_SEEDS: tuple[str, ...] = ("000", "001", "002", "003")


def seed_path(number: str) -> Path:
    """The file of seed ``number`` ("000" … "004")."""
    return SEEDS_DIR / SEED_FILES[number]


def seed_text(number: str) -> str:
    """The text of seed ``number``, as published (UTF-8)."""
    return seed_path(number).read_text(encoding="utf-8")
