"""Shared fixtures: the people of the system, one of each kind, and two units."""

import pytest

from proposals.models import Membership
from proposals.tests import factories as f


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 costs ~0.3 s a user; tests create dozens. Production hashing is unchanged."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The test client's login() authenticates without a request, which django-axes refuses;
    # tests of the lockout itself turn it back on (tracker/tests/test_login_controls.py).
    settings.AXES_ENABLED = False


@pytest.fixture
def committee(db):
    return f.CommitteeFactory(username="committee", full_name="王敏")


@pytest.fixture
def supervisor(db):
    return f.SupervisorFactory(username="supervisor", full_name="督查员")


@pytest.fixture
def unit_a(db):
    return f.UnitFactory(
        name="长宁区发展和改革委员会", short_name="区发改委", docno_prefix="长发改"
    )


@pytest.fixture
def unit_b(db):
    return f.UnitFactory(name="长宁区商务委员会", short_name="区商务委", docno_prefix="长商务")


@pytest.fixture
def clerk_a(unit_a):
    user = f.UserFactory(username="clerk_a", full_name="甲联络员")
    f.MembershipFactory(user=user, unit=unit_a, role=Membership.Role.CLERK)
    return user


@pytest.fixture
def signer_a(unit_a):
    user = f.UserFactory(username="signer_a", full_name="叶鹏举")
    f.MembershipFactory(user=user, unit=unit_a, role=Membership.Role.SIGNER)
    return user


@pytest.fixture
def clerk_b(unit_b):
    user = f.UserFactory(username="clerk_b", full_name="乙联络员")
    f.MembershipFactory(user=user, unit=unit_b, role=Membership.Role.CLERK)
    return user


@pytest.fixture
def proposer_user(db):
    user = f.UserFactory(username="member", full_name="张文浩", is_staff=False)
    f.ProposerFactory(name="张文浩", user=user)
    return user


@pytest.fixture
def session(db):
    return f.SessionFactory(term=15, meeting=2, name="十五届二次会议", year=2024)
