"""The two kinds of letter a unit writes, each described once: a reply 答复 (the lead or a
separate unit's answer to the proposers) and a co-handling opinion 会办意见 (a co-handling
unit's input to the lead unit).

Both are drafted, signed with a 文号 and printed the same way; what differs — the model, its
states and transition table, the fields a clerk may edit, what a draft needs before it goes to
the signer, what the printed letter carries — is data on a ``LetterType``. The workflow
(``replies.workflow``) and the rendering (``replies.rendering``) look the kind up once
(``kind_of``, by model class, or ``kind_named``, by the code a task carries) and ask it,
instead of branching on the model everywhere.

Not to be confused with ``replies.letter.LetterKind`` (what a printed letter is: 答复, 再次答复,
会办意见) nor with ``Reply.Kind`` (答复, 再次答复, 重新办理答复).

This module sits below both ``replies.workflow`` and ``replies.rendering``, so it imports
neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from proposals.workflow import check_state
from replies.letter import LetterKind
from replies.models import (
    OPINION_TRANSITIONS,
    REPLY_TRANSITIONS,
    CoOpinion,
    Disclosure,
    OpinionState,
    Reply,
    ReplyState,
    result_class_for,
)

#: What a clerk may change in a draft of either kind.
EDITABLE_FIELDS = (
    "title",
    "salutation",
    "body",
    "closing",
    "contact_person",
    "contact_phone",
    "contact_address",
    "contact_postcode",
    "cc",
)
#: A reply also carries its result and disclosure.
REPLY_EDITABLE_FIELDS = (*EDITABLE_FIELDS, "result_label", "disclosure", "disclosure_scope")

#: What every draft needs before it goes to the signer: (field, what the error calls it).
_REQUIRED: tuple[tuple[str, Promise], ...] = (
    ("title", gettext_lazy("标题")),
    ("salutation", gettext_lazy("称谓")),
    ("body", gettext_lazy("正文")),
)


#: The model of a kind of letter: ``LetterType[Reply]`` locks and moves replies, not opinions.
L = TypeVar("L", Reply, CoOpinion)


@dataclass(frozen=True)
class LetterType(Generic[L]):
    """One kind of letter and everything the generic workflow and rendering need of it."""

    #: ``"reply"`` or ``"opinion"``: the render task's argument and the PDF's file name.
    code: str
    model: type[L]
    states: type[models.TextChoices]
    #: verb → (states it may start from, state it leads to; "" for a verb that does not move).
    transitions: dict[str, tuple[frozenset[str], str]]
    editable_fields: tuple[str, ...]
    #: Fields a draft must fill before it is submitted: (field, label).
    required: tuple[tuple[str, Promise], ...]
    #: Sets the fields computed from the edited ones; returns their names, to be saved too.
    derive: Callable[[L], tuple[str, ...]]
    #: The kind-specific arguments of the printed ``Letter``: its kind, result, disclosure, note.
    print_marks: Callable[[L], dict[str, Any]]

    def check(self, verb: str, current: str) -> str:
        """The state ``verb`` leads to from ``current``; ``WrongState`` when not allowed."""
        return check_state(self.transitions, verb, current, self.states)


def _derive_reply(reply: Reply) -> tuple[str, ...]:
    """The result class follows the label a clerk picks."""
    reply.result_class = result_class_for(reply.result_label)
    return ("result_class",)


def _derive_nothing(letter: Any) -> tuple[str, ...]:
    return ()


def disclosure_text(reply: Reply) -> str:
    """The 公开属性 line as printed: ``主动公开``, or with its scope ``主动公开 · 全文``."""
    text = str(reply.get_disclosure_display())
    if reply.disclosure == Disclosure.PUBLIC and reply.disclosure_scope:
        text += f" · {reply.get_disclosure_scope_display()}"
    return text


def _reply_marks(reply: Reply) -> dict[str, Any]:
    follow_up = reply.kind == Reply.Kind.FOLLOW_UP
    return {
        "kind": LetterKind.FOLLOW_UP if follow_up else LetterKind.REPLY,
        "result_label": reply.result_label,
        "disclosure": disclosure_text(reply),
        "note": "此件公开发布" if reply.disclosure == Disclosure.PUBLIC else "",
    }


def _opinion_marks(opinion: CoOpinion) -> dict[str, Any]:
    return {"kind": LetterKind.CO_OPINION, "result_label": "", "disclosure": "", "note": ""}


REPLY_KIND: LetterType[Reply] = LetterType(
    code="reply",
    model=Reply,
    states=ReplyState,
    transitions=REPLY_TRANSITIONS,
    editable_fields=REPLY_EDITABLE_FIELDS,
    required=(*_REQUIRED, ("result_label", gettext_lazy("办理结果"))),
    derive=_derive_reply,
    print_marks=_reply_marks,
)

OPINION_KIND: LetterType[CoOpinion] = LetterType(
    code="opinion",
    model=CoOpinion,
    states=OpinionState,
    transitions=OPINION_TRANSITIONS,
    editable_fields=EDITABLE_FIELDS,
    required=_REQUIRED,
    derive=_derive_nothing,
    print_marks=_opinion_marks,
)

#: Every kind, replies first (the order the sweep looks for missing PDFs in).
KINDS: tuple[LetterType[Any], ...] = (REPLY_KIND, OPINION_KIND)
_BY_MODEL = {kind.model: kind for kind in KINDS}
_BY_CODE = {kind.code: kind for kind in KINDS}


def kind_of(letter: Any) -> LetterType[Any]:
    """The kind of a reply or an opinion; ``TypeError`` for anything else."""
    cls = type(letter)
    meta = getattr(cls, "_meta", None)
    model = meta.concrete_model if meta is not None else cls
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise TypeError(
            f"{cls.__module__}.{cls.__qualname__} is not a kind of letter "
            f"(expected one of: {', '.join(k.model.__name__ for k in KINDS)})"
        ) from None


def kind_named(code: str) -> LetterType[Any]:
    """The kind a task names (``"reply"``, ``"opinion"``); ``ValueError`` for another code."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise ValueError(
            f"unknown kind of letter {code!r} (expected one of: {', '.join(_BY_CODE)})"
        ) from None
