"""Sealing and signing a letter's PDF when it is stored (the hook ``replies.rendering`` runs in
the worker, inside the transaction that stores the file).

Each organ that signs (the unit; in a joint letter every organ, the first first) gets its seal
pressed over its name and the date and a PAdES signature made with its key, or the district's.
A joint letter that gets seals is rendered again as sealed (``Letter.sealed``): its names then
stand side by side in rows, one seal over each (GB/T 9704 §7.3.5.2), instead of one a line.
An organ without an uploaded seal is signed without a picture — never a made-up seal — and the
letter admin warns about it before signing (``signing.templatetags``). Without any key
configured (``SIGNING_KEYS_DIR`` or PKCS#11 unset) the PDF is stored as rendered.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace

from django.utils import timezone
from django.utils.translation import gettext as _

from proposals.models import Unit
from replies import renderer
from replies.models import CoOpinion, Reply
from replies.rendering import letter_for
from signing import keys, pades, placement, seals
from signing.models import LetterSignature, UnitSeal

logger = logging.getLogger(__name__)


def signing_organs(obj: Reply | CoOpinion) -> tuple[str, ...]:
    """The organs that sign the letter, in the order they print (the lead unit first)."""
    letter = letter_for(obj, draft=False)
    organs = getattr(letter, "signing_organs", None)  # joint letters (replies.letter)
    if organs is None:
        organs = (letter.signature_organ,)
    return tuple(organ for organ in organs if organ)


def units_by_organ(organs: tuple[str, ...], lead: Unit) -> dict[str, Unit]:
    """The unit of each organ name (the letter's own unit for its own name)."""
    found = {u.organ_name: u for u in Unit.objects.filter(organ_name__in=organs).order_by("pk")}
    found[lead.organ_name] = lead
    return found


def seal_of(unit: Unit | None) -> UnitSeal | None:
    if unit is None:
        return None
    return UnitSeal.objects.filter(unit=unit).first()


def missing_seals(obj: Reply | CoOpinion) -> list[str]:
    """The organs of the letter that have no seal uploaded (what the admin warns about)."""
    organs = signing_organs(obj)
    units = units_by_organ(organs, obj.unit)
    return [organ for organ in organs if seal_of(units.get(organ)) is None]


def seal_and_sign(obj: Reply | CoOpinion, kind: str, data: bytes) -> bytes:
    """The stored letter: ``data`` with its seals and signatures, recorded in LetterSignature."""
    if not keys.has_key(obj.unit_id):
        logger.warning("%s %s: no signing key configured; stored unsigned", kind, obj.pk)
        return data
    if not pades.page_count(data):
        # Not a letter (a test's stand-in file): nothing to seal, nothing worth signing.
        return data
    letter = letter_for(obj, draft=False)
    organs = signing_organs(obj)
    units = units_by_organ(organs, obj.unit)
    sealed = [(organ, units.get(organ), seal_of(units.get(organ))) for organ in organs]
    with_seal = [(organ, unit, seal) for organ, unit, seal in sealed if seal is not None]
    boxes: dict[str, placement.Box] = {}
    page = 0
    if with_seal:
        if len(organs) > 1:
            data = renderer.render_letter_pdf(replace(letter, sealed=True))
        try:
            where = placement.seal_placement(data, organs, letter.date_text)
            page, boxes = where.page, dict(zip(organs, where.boxes, strict=True))
        except placement.SignatureNotFound as error:
            logger.error("%s %s: no seal pressed: %s", kind, obj.pk, error)
    signatures = []
    for index, (organ, unit, seal) in enumerate(with_seal if boxes else [], 1):
        signatures.append(
            pades.SealedSignature(
                source=keys.key_source(unit.pk)
                if unit is not None and keys.has_key(unit.pk)
                else keys.key_source(obj.unit_id, own=False),
                field_name=f"Seal{index}",
                page=page,
                box=boxes[organ],
                picture=seals.seal_picture(seal.read(), seal.kind),
                reason=_("%(organ)s签发") % {"organ": organ},
            )
        )
    if not signatures:
        signatures.append(
            pades.SealedSignature(
                source=keys.key_source(obj.unit_id),
                field_name="Signature1",
                reason=_("%(organ)s签发") % {"organ": obj.unit.organ_name},
            )
        )
    signed = pades.sign_pdf(data, signatures)
    result = pades.verify_pdf(signed)
    LetterSignature.objects.update_or_create(
        kind=kind,
        letter_id=obj.pk,
        defaults={
            "sha256": hashlib.sha256(signed).hexdigest(),
            "signers": "、".join(dict.fromkeys(s.signer for s in result.signatures)),
            "seals": len(signatures) if boxes else 0,
            "signed_at": timezone.now(),
            "status": LetterSignature.Status.INTACT,
            "checked_at": timezone.now(),
            "problem": "",
        },
    )
    return signed
