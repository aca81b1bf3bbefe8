"""A throw-away CA made in the test, its certificates as files, and rendered letters."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from replies.pdf import render_letter_pdf
from replies.tests.conftest import build_joint_letter, seed_letter
from signing import certificates

ORGANS = ("上海市普陀区发展和改革委员会", "上海市普陀区财政局", "上海市普陀区商务委员会")


def write_ca(directory, name: str = "测试根证书") -> certificates.Issued:
    ca = certificates.make_ca(name)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "chain.pem").write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    return ca


#: The CA of each keys directory made here, to issue more certificates in a test.
CAS: dict[Path, certificates.Issued] = {}


@pytest.fixture
def keys_dir(tmp_path, settings):
    """SIGNING_KEYS_DIR with a fresh CA and the district's certificate."""
    directory = tmp_path / "keys"
    ca = write_ca(directory)
    certificates.issue_certificate(ca, "区政协提案办理系统测试").write(directory, "district")
    settings.SIGNING_KEYS_DIR = str(directory)
    settings.SIGNING_TSA_URL = ""
    CAS[directory] = ca
    return directory


@pytest.fixture(scope="session")
def signed_001() -> tuple:
    letter = seed_letter("001")
    return letter, render_letter_pdf(letter)


def joint(count: int):
    letter = build_joint_letter(
        organs=ORGANS[:count],
        signature_organ=ORGANS[0],
        signature_organs=ORGANS[:count],
        date=datetime.date(2024, 6, 3),
    )
    return letter


@pytest.fixture(scope="session")
def joint_pdfs() -> dict:
    return {n: (joint(n), render_letter_pdf(joint(n))) for n in (2, 3)}


__all__ = ["CAS", "ORGANS", "joint", "write_ca"]
