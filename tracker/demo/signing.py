"""The demo's seals and signing keys: a demo CA (演示CA) with a certificate per demo unit, and a
seal marked 演示 for each, so that the demo's signed letters carry real, verifiable signatures
that nobody can take for a real office's.

The keys go to ``MEDIA_ROOT/demo-signing-keys`` (never served), and only while
``SIGNING_KEYS_DIR`` is unset: a deployment with its own keys never gets demo ones.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.files.base import ContentFile

from proposals.models import Unit
from signing import artwork, certificates, keys
from signing.models import UnitSeal
from signing.workflow import save_seal

DEMO_CA_NAME = "提案办理系统演示CA（仅供演示）"


def load_demo_signing(units: Iterable[Unit]) -> None:
    """Demo certificates and seals for ``units``; what exists is kept (idempotent)."""
    units = list(units)
    if not getattr(settings, "SIGNING_KEYS_DIR", ""):
        _demo_keys(units)
    for unit in units:
        if not UnitSeal.objects.filter(unit=unit).exists():
            picture = ContentFile(artwork.draw_seal(unit.organ_name), name=f"demo-{unit.pk}.png")
            save_seal(UnitSeal(unit=unit, image=picture), actor=None)


def _demo_keys(units: list[Unit]) -> None:
    directory = keys.demo_keys_dir()
    ca_key, chain = directory / "demo-ca.key.pem", directory / "chain.pem"
    if ca_key.exists() and chain.exists():
        ca = certificates.Issued(
            x509.load_pem_x509_certificate(chain.read_bytes()),
            serialization.load_pem_private_key(ca_key.read_bytes(), password=None),  # type: ignore[arg-type]
        )
    else:
        ca = certificates.make_ca(DEMO_CA_NAME)
        ca.write(directory, "demo-ca")
        (directory / "demo-ca.cert.pem").rename(chain)
    for unit in units:
        if not (directory / f"unit-{unit.pk}.cert.pem").exists():
            name = f"{unit.organ_name}（演示）"
            certificates.issue_certificate(ca, name, organization=name).write(
                directory, f"unit-{unit.pk}"
            )
    if not (directory / "district.cert.pem").exists():
        name = "区政协提案办理系统（演示）"
        certificates.issue_certificate(ca, name).write(directory, "district")
