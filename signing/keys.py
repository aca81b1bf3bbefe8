"""Where a unit's signing key is: files under ``SIGNING_KEYS_DIR`` or a PKCS#11 token.

The key never enters the database: the settings name a directory (or a token) and this module
finds the unit's key there, else the district's. Files, for unit ``pk``::

    SIGNING_KEYS_DIR/unit-<pk>.key.pem   unit-<pk>.cert.pem   (the unit's own, when it has one)
    SIGNING_KEYS_DIR/district.key.pem    district.cert.pem    (everyone else's)
    SIGNING_KEYS_DIR/chain.pem           the issuing CA(s); also what verification trusts

With ``SIGNING_PKCS11_MODULE`` set the keys are on a token instead: the key labelled
``unit-<pk>`` (else ``district``) with its certificate of the same label.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from pyhanko.keys import load_certs_from_pemder
from pyhanko.sign import signers

from signing.models import UnitSeal


class NoSigningKey(LookupError):
    """Neither the unit nor the district has a key configured."""


@dataclass(frozen=True)
class KeySource:
    """Where one signature's key is (``label`` is the file stem or the token's label)."""

    label: str
    key_path: Path | None = None
    cert_path: Path | None = None

    @property
    def on_token(self) -> bool:
        return self.key_path is None


#: Where ``load_demo`` puts its demo CA and certificates (under MEDIA_ROOT, which is never
#: served). Used only while ``SIGNING_KEYS_DIR`` is unset, and only for a unit that carries the
#: demo's 演示 seal (``DEMO_SEAL_PREFIX``): the demo keys sign the demo's units and nothing
#: else, so a database without the demo (a test's, a deployment's) never signs with them.
DEMO_DIR_NAME = "demo-signing-keys"
DEMO_SEAL_PREFIX = "seals/demo-"


def demo_keys_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / DEMO_DIR_NAME


def keys_dir(unit_id: int | None = None) -> Path | None:
    """``SIGNING_KEYS_DIR``; unset, the demo's keys for a demo unit (``load_demo``)."""
    value = getattr(settings, "SIGNING_KEYS_DIR", "")
    if value:
        return Path(value)
    demo = demo_keys_dir()
    if unit_id is not None and demo.is_dir() and _is_demo_unit(unit_id):
        return demo
    return None


def _is_demo_unit(unit_id: int) -> bool:
    return UnitSeal.objects.filter(unit_id=unit_id, image__startswith=DEMO_SEAL_PREFIX).exists()


def chain_path(directory: Path | None = None) -> Path | None:
    directory = directory or keys_dir()
    path = directory / "chain.pem" if directory else None
    return path if path and path.exists() else None


def trust_roots() -> list:
    """The certificates verification trusts: ``chain.pem`` plus ``SIGNING_TRUST_ROOTS``; with
    ``SIGNING_KEYS_DIR`` unset, the demo's CA (its name says 演示) if ``load_demo`` made it."""
    own = chain_path() or (
        chain_path(demo_keys_dir()) if not getattr(settings, "SIGNING_KEYS_DIR", "") else None
    )
    paths = [own, *(Path(p) for p in getattr(settings, "SIGNING_TRUST_ROOTS", []))]
    return [
        cert
        for path in paths
        if path and path.exists()
        for cert in load_certs_from_pemder([str(path)])
    ]


def key_source(unit_id: int | None, *, own: bool = True) -> KeySource:
    """The unit's key if it has one (``own=False``: not asked), else the district's;
    ``NoSigningKey`` when neither."""
    labels = ([f"unit-{unit_id}"] if unit_id and own else []) + ["district"]
    if getattr(settings, "SIGNING_PKCS11_MODULE", ""):
        # Which labels the token holds is asked when signing; the unit's label is tried first.
        return KeySource(label=labels[0])
    directory = keys_dir(unit_id)
    if directory is not None:
        for label in labels:
            key, cert = directory / f"{label}.key.pem", directory / f"{label}.cert.pem"
            if key.exists() and cert.exists():
                return KeySource(label=label, key_path=key, cert_path=cert)
    raise NoSigningKey(unit_id)


def has_key(unit_id: int | None) -> bool:
    try:
        key_source(unit_id)
    except NoSigningKey:
        return False
    return True


def load_signer(source: KeySource) -> signers.Signer:
    """A pyHanko signer for ``source`` (files, or the PKCS#11 token of the settings)."""
    if source.on_token:
        return _pkcs11_signer(source.label)
    passphrase = getattr(settings, "SIGNING_KEY_PASSPHRASE", "") or None
    chain = chain_path(source.key_path.parent if source.key_path else None)
    signer = signers.SimpleSigner.load(
        str(source.key_path),
        str(source.cert_path),
        ca_chain_files=[str(chain)] if chain else None,
        key_passphrase=passphrase.encode() if passphrase else None,
    )
    if signer is None:
        raise NoSigningKey(source.label)
    return signer


def _pkcs11_signer(label: str) -> signers.Signer:  # pragma: no cover - needs a token
    """A signer on the configured PKCS#11 token (python-pkcs11, pyHanko's ``pkcs11`` extra)."""
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign import pkcs11

    token = getattr(settings, "SIGNING_PKCS11_TOKEN", "")
    session = pkcs11.open_pkcs11_session(
        settings.SIGNING_PKCS11_MODULE,
        token_criteria=TokenCriteria(label=token) if token else None,
        user_pin=getattr(settings, "SIGNING_PKCS11_PIN", "") or None,
    )
    return pkcs11.PKCS11Signer(session, key_label=label, cert_label=label)
