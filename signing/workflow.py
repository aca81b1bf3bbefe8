"""The one state change of this app a person makes: a unit's seal uploaded or replaced,
validated, stored and audited together."""

from __future__ import annotations

import hashlib

from django.db import transaction

from proposals.models import User
from proposals.workflow import record_transition
from signing.models import UnitSeal
from signing.seals import validate_seal


@transaction.atomic
def save_seal(seal: UnitSeal, *, actor: User | None) -> UnitSeal:
    """Validate the seal's picture (``ValidationError`` in Chinese), store it, audit it."""
    seal.image.seek(0)
    data = seal.image.read()
    seal.image.seek(0)
    seal.kind = validate_seal(data, seal.image.name or "")
    replaced = seal.pk is not None
    seal.save()
    record_transition(
        seal,
        actor=actor,
        verb="seal_replaced" if replaced else "seal_uploaded",
        note=f"{seal.unit} · {seal.kind} · sha256 {hashlib.sha256(data).hexdigest()[:16]}",
    )
    return seal
