"""The formats an attachment may have (PDF, JPEG, PNG): their extensions, signatures and types.

``proposals.validators`` checks a file against these; ``tracker.files`` sniffs a stored file with
``sniff_kind`` before serving it as the kind found.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class FileKind:
    """A format we accept, with what identifies it and what we serve it as."""

    name: str
    label: str
    extensions: tuple[str, ...]
    signature: bytes
    content_type: str

    @property
    def extension(self) -> str:
        return self.extensions[0]


PDF = FileKind("pdf", "PDF", (".pdf",), b"%PDF-", "application/pdf")
JPEG = FileKind("jpeg", "JPEG", (".jpg", ".jpeg"), b"\xff\xd8\xff", "image/jpeg")
PNG = FileKind("png", "PNG", (".png",), _PNG_SIGNATURE, "image/png")
KINDS: tuple[FileKind, ...] = (PDF, JPEG, PNG)
ALLOWED_EXTENSIONS: tuple[str, ...] = tuple(e for k in KINDS for e in k.extensions)


def kind_for_name(name: str) -> FileKind | None:
    suffix = PurePath(name or "").suffix.lower()
    return next((k for k in KINDS if suffix in k.extensions), None)


def sniff_kind(head: bytes) -> FileKind | None:
    """The kind whose signature ``head`` starts with (offset 0: no leading garbage)."""
    return next((k for k in KINDS if head.startswith(k.signature)), None)


def _refuse_unreadable(kind: FileKind) -> ValidationError:
    return ValidationError(
        _("文件无法按 %(kind)s 格式读取，可能已损坏或并非扫描原件。") % {"kind": kind.label},
        code="unreadable",
    )
