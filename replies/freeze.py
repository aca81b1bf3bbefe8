"""What may still change in a signed letter, in one place for Python and PostgreSQL.

Once a reply or a co-handling opinion has a ``signed_on`` it is an official document. From then
on every column is frozen except:

- ``state``, and only along the transition table: the moves of ``signed_moves`` (a reply
  signed → sent → published; an opinion signed → delivered), and into 已公开 only a 主动公开
  reply (``REQUIRES``, the rule of ``publish_reply``). A correction 更正 does not touch the
  signed reply: it is a new reply whose ``supersedes`` points at it.
- the date each of those moves stamps (``STAMPS``), from empty to a value, in the same write
  as the move;
- the PDF (``pdf``, ``pdf_sha256``, ``pdf_size``): written once, from empty to a value (the
  render after signing, or after 重新生成);
- the render's failure record (``pdf_attempts``, ``pdf_error``, ``pdf_failed_at``), while the
  letter has no PDF yet (``store_signed_pdf``, ``rerender_pdf``);
- ``last_edited_by`` may only become empty (the editor's account was deleted: SET NULL);
- ``updated_at``, the row's own timestamp.

The 公开属性 (``disclosure``) is frozen with the text: docs/domain.md, "Publication" — the signed
text is what is published, so disclosure is chosen before signing; there is no workflow verb
that changes it afterwards.

``LetterFields.save`` applies ``refused_changes`` before writing; the PostgreSQL trigger of
migration ``replies/0007_signed_letter_frozen_whole`` applies the same rules to every UPDATE
(and refuses every DELETE of a signed letter). The migration holds its own copy of the moves
and stamps, as a migration must not change once applied; ``replies/tests/test_signed_freeze.py``
asserts that copy equals what this module derives from the transition tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Which date column each post-signing state stamps, per letter table.
STAMPS: dict[str, dict[str, str]] = {
    "reply": {"sent_at": "sent", "published_on": "published"},
    "opinion": {"delivered_at": "delivered"},
}
#: What the row must hold to enter a state (docs/domain.md, "Publication").
REQUIRES: dict[str, dict[str, dict[str, str]]] = {
    "reply": {"published": {"disclosure": "public"}},
    "opinion": {},
}
#: Written once: empty → a value.
WRITE_ONCE = ("pdf", "pdf_sha256", "pdf_size")
#: Writable while the letter has no PDF.
WHILE_NO_PDF = ("pdf_attempts", "pdf_error", "pdf_failed_at")
#: May only become empty.
CLEARABLE = ("last_edited_by_id",)
#: Always writable.
FREE = ("updated_at",)


Table = Mapping[str, tuple[frozenset[str], str]]


def signed_moves(transitions: Table) -> tuple[tuple[str, str], ...]:
    """The (from, to) state pairs a signed letter may still take, derived from its table.

    Start from the state ``sign`` leads to and follow every verb that moves a state reached so
    far to another one, until nothing new is reached. Sorted, for a stable comparison.
    """
    reached = {str(transitions["sign"][1])}
    moves: set[tuple[str, str]] = set()
    grown = True
    while grown:
        grown = False
        for starts, end in transitions.values():
            for start in {str(s) for s in starts} & reached:
                if end and str(end) != start and (start, str(end)) not in moves:
                    moves.add((start, str(end)))
                    reached.add(str(end))
                    grown = True
    return tuple(sorted(moves))


def _empty(value: Any) -> bool:
    return value is None or value == ""


def refused_changes(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    moves: tuple[tuple[str, str], ...],
    stamps: Mapping[str, str],
    requires: Mapping[str, Mapping[str, str]],
) -> list[str]:
    """The columns (attnames) of a signed letter that ``new`` would change against the rules.

    ``old`` is the stored row, ``new`` the values to be written (the columns being saved only).
    """
    has_pdf = not all(_empty(old.get(c)) for c in WRITE_ONCE)
    moving = old.get("state") != new.get("state", old.get("state"))
    refused = []
    for column, value in new.items():
        before = old.get(column)
        if value == before or column in FREE:
            continue
        if column == "state":
            needed = requires.get(value, {}).items()
            ok = (before, value) in moves and all(new.get(c, old.get(c)) == v for c, v in needed)
        elif column in stamps:
            ok = _empty(before) and moving and new.get("state") == stamps[column]
        elif column in WRITE_ONCE:
            ok = _empty(before)
        elif column in WHILE_NO_PDF:
            ok = not has_pdf
        elif column in CLEARABLE:
            ok = value is None
        else:
            ok = False
        if not ok:
            refused.append(column)
    return refused
