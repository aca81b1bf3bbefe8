"""Chinese word segmentation for the public search: jieba with the district's own words.

One tokenizer per process, loaded on first use with ``dictionary.txt`` (policy terms: 老旧小区,
加装电梯, 公租房 …) and the names of every handling unit, so a unit's full name, short name and
organ name each stay one word. The index and the query are segmented by the same tokenizer; the
index keeps the fine words too (``cut_for_search``: 老旧小区 → 老旧, 小区, 老旧小区).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path

import jieba

from proposals.models import Unit

logger = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)

DICTIONARY = Path(__file__).with_name("dictionary.txt")
#: Words the search ignores: they match nearly every letter.
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "在",
        "对",
        "为",
        "是",
        "将",
        "把",
        "被",
        "等",
        "中",
        "上",
        "下",
        "关于",
        "有关",
        "进一步",
        "我们",
        "你们",
        "您",
        "其",
        "该",
        "此",
        "这",
        "那",
    ]
)
_WORD = re.compile(r"\w+")
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_known: set[str] = set()


def tokenizer() -> jieba.Tokenizer:
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            t = jieba.Tokenizer()
            t.load_userdict(str(DICTIONARY))
            _tokenizer = t
            _add_unit_names(t)
        return _tokenizer


def _add_unit_names(t: jieba.Tokenizer) -> None:
    try:
        rows = list(Unit.objects.values_list("name", "short_name", "organ_name"))
    except Exception:  # the table may not exist yet (a fresh database being migrated)
        logger.debug("unit names not loaded into the search dictionary", exc_info=True)
        rows = []
    for row in rows:
        _add(t, row)


def _add(t: jieba.Tokenizer, names: Iterable[str]) -> None:
    for name in names:
        name = (name or "").strip()
        if len(name) > 1 and name not in _known:
            t.add_word(name, freq=5000)
            _known.add(name)


def add_words(names: Iterable[str]) -> None:
    """Make ``names`` (a unit's names) single words from now on."""
    t = tokenizer()
    with _lock:
        _add(t, names)


def _clean(words: Iterable[str]) -> list[str]:
    out = []
    for word in words:
        for part in _WORD.findall(word.lower()):
            if part not in STOPWORDS:
                out.append(part)
    return out


def index_words(text: str) -> str:
    """The text as space-separated words for the index (fine and coarse words)."""
    return " ".join(_clean(tokenizer().cut_for_search(text)))


def query_words(text: str) -> list[str]:
    """The words of a query, in order, without repeats: the coarse words jieba cuts, single
    characters dropped unless the query is nothing else."""
    words = list(dict.fromkeys(_clean(tokenizer().cut(text, HMM=False))))
    longer = [w for w in words if len(w) > 1]
    return longer or words


def fine_words(text: str) -> list[str]:
    """The query's fine words (``cut_for_search``), for a second, looser try."""
    words = list(dict.fromkeys(_clean(tokenizer().cut_for_search(text, HMM=False))))
    longer = [w for w in words if len(w) > 1]
    return longer or words
