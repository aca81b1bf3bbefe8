"""Changing a password is no oracle for the old one (the probe: 12 wrong old passwords, then the
right one, accepted with no lockout counted — on /my/ and in the admin)."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt

from proposals.models import AccessEvent
from proposals.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "Lantern-Quay-4417"
PAGES = {"my": "/my/password/", "admin": "/admin/password_change/"}


@pytest.fixture
def signed_in(client, proposer_user, committee):
    def sign_in(where: str):
        user = proposer_user if where == "my" else committee
        client.force_login(user)
        return user

    return sign_in


def change(client, where: str, old: str):
    return client.post(
        PAGES[where], {"old_password": old, "new_password1": NEW, "new_password2": NEW}
    )


@pytest.mark.parametrize("where", PAGES)
def test_twelve_wrong_old_passwords_lock_the_account_and_the_right_one_is_refused(
    axes_on, client, signed_in, where
):
    user = signed_in(where)
    for _ in range(12):
        response = change(client, where, "Wrong-Guess-2026")
        assert response.status_code in (200, 429)
    assert AccessAttempt.objects.filter(username=user.username).exists()
    assert (
        AccessEvent.objects.filter(
            kind=AccessEvent.Kind.LOGIN_FAILED, username=user.username
        ).count()
        >= 5
    )

    response = change(client, where, PASSWORD)

    user.refresh_from_db()
    assert user.check_password(PASSWORD) and not user.check_password(NEW)
    assert response.status_code in (200, 429)
    assert "锁定" in response.content.decode()


@pytest.mark.parametrize("where", PAGES)
def test_a_wrong_old_password_is_counted_and_the_right_one_still_works_below_the_limit(
    axes_on, client, signed_in, where
):
    user = signed_in(where)
    change(client, where, "Wrong-Guess-2026")
    attempt = AccessAttempt.objects.get(username=user.username)
    assert attempt.failures_since_start == 1

    response = change(client, where, PASSWORD)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW)
