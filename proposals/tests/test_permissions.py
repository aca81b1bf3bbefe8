"""Who may sign for a unit: written once (``proposals.permissions``) and asked everywhere."""

import re
from pathlib import Path

import pytest

from proposals import permissions
from proposals.models import Membership
from proposals.tests import factories as f

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_only_active_signers_of_the_unit_may_sign(unit_a, unit_b, clerk_a, signer_a):
    assert permissions.may_sign(signer_a, unit_a.pk)
    assert not permissions.may_sign(signer_a, unit_b.pk)
    assert not permissions.may_sign(clerk_a, unit_a.pk)
    assert permissions.signer_unit_ids(signer_a) == {unit_a.pk}
    loaded = list(Membership.objects.filter(user=signer_a))
    assert permissions.signer_unit_ids(signer_a, loaded) == {unit_a.pk}
    assert (
        permissions.signer_unit_ids(clerk_a, list(Membership.objects.filter(user=clerk_a))) == set()
    )
    assert list(permissions.signers_of(unit_a.pk)) == [signer_a]

    signer_a.is_active = False
    signer_a.save(update_fields=["is_active"])
    assert not permissions.may_sign(signer_a, unit_a.pk)
    assert permissions.signer_unit_ids(signer_a) == set()
    assert list(permissions.signers_of(unit_a.pk)) == []


def test_a_user_signing_for_two_units_signs_for_both(unit_a, unit_b):
    user = f.UserFactory(username="two_units")
    for unit in (unit_a, unit_b):
        f.MembershipFactory(user=user, unit=unit, role=Membership.Role.SIGNER)
    assert permissions.signer_unit_ids(user) == {unit_a.pk, unit_b.pk}


def test_the_signer_rule_is_written_only_in_proposals_permissions():
    """No other module filters memberships by the signer role (the demo's data and the tests
    name it to make signers; the model defines it)."""
    allowed = {ROOT / "proposals" / "permissions.py", ROOT / "proposals" / "models.py"}
    found = []
    for app in ("proposals", "replies", "tracker"):
        for path in (ROOT / app).rglob("*.py"):
            parts = set(path.relative_to(ROOT).parts)
            if path in allowed or parts & {"tests", "migrations", "demo"}:
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"Role\.SIGNER|role\s*=\s*[\"']signer[\"']", text):
                found.append(str(path.relative_to(ROOT)))
    assert not found, found
