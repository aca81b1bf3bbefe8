"""Sign-in lockout, identical answers, and the audit of every access decision (issue 9)."""

import re

import pytest

from proposals.models import AccessEvent
from proposals.tests import factories as f

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"


def post_login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


def test_five_failures_lock_the_username_even_for_the_right_password(client, axes_on):
    f.UserFactory(username="clerk_x")
    for _ in range(4):
        assert post_login(client, "clerk_x", "wrong-password").status_code == 200
    locked = post_login(client, "clerk_x", "wrong-password")
    assert locked.status_code == 429
    assert "登录已暂停" in locked.content.decode()
    again = post_login(client, "clerk_x", f.PASSWORD)
    assert again.status_code == 429, "the right password does not open a locked account"
    kinds = list(AccessEvent.objects.values_list("kind", flat=True))
    assert kinds.count("login_failed") >= 5
    assert "locked_out" in kinds
    assert "login" not in kinds


def test_a_success_is_audited_and_resets_the_count(client, axes_on):
    user = f.UserFactory(username="clerk_y")
    for _ in range(3):
        post_login(client, "clerk_y", "wrong-password")
    response = post_login(client, "clerk_y", f.PASSWORD)
    assert response.status_code == 302
    event = AccessEvent.objects.filter(kind="login").get()
    assert (event.user, event.ip_address) == (user, "127.0.0.1")


def _form_text(response) -> str:
    text = response.content.decode()
    return (
        re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|nonce="[^"]+"', "", text)
        .replace("no_such_user", "USER")
        .replace("clerk_z", "USER")
    )


def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(client, axes_on):
    f.UserFactory(username="clerk_z")
    unknown = post_login(client, "no_such_user", "Wrong-pass-123")
    wrong = post_login(client, "clerk_z", "Wrong-pass-123")
    assert unknown.status_code == wrong.status_code == 200
    assert _form_text(unknown) == _form_text(wrong)


def test_an_access_refusal_is_audited(client, clerk_a):
    client.force_login(clerk_a)
    response = client.get("/admin/proposals/transition/")
    assert response.status_code == 403
    event = AccessEvent.objects.filter(kind="refused").get()
    assert (event.user, event.path) == (clerk_a, "/admin/proposals/transition/")


def test_a_csrf_failure_is_refused_and_audited(clerk_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk_a)
    response = client.post("/admin/logout/")
    assert response.status_code == 403
    assert AccessEvent.objects.filter(kind="refused", path="/admin/logout/").exists()


def test_access_events_are_append_only(client, clerk_a):
    from proposals.models import AppendOnlyError

    client.force_login(clerk_a)
    client.get("/admin/proposals/transition/")
    event = AccessEvent.objects.filter(kind="refused").get()
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_failures_for_other_usernames_do_not_lock_an_address(axes_on):
    """The lockout keys on username and address together: an office behind one address is not
    locked out by a few people's typos (nor by one attacker guessing one account)."""
    from django.test import Client

    f.UserFactory(username="clerk_ip")
    office = Client(REMOTE_ADDR="10.0.0.66")
    for n in range(5):
        post_login(office, f"colleague_{n}", "wrong-password")
    assert post_login(office, "clerk_ip", f.PASSWORD).status_code == 302


def test_password_spraying_from_one_address_locks_that_address_for_every_username(axes_on):
    """Many usernames, each below the per-username limit, from one address: past
    LOGIN_ADDRESS_FAILURE_LIMIT the address is locked, for a right password too."""
    from django.test import Client

    axes_on.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    f.UserFactory(username="clerk_ip")
    insider = f.UserFactory(username="sprayer_own_account")
    attacker = Client(REMOTE_ADDR="10.0.0.66")
    for n in range(11):
        assert post_login(attacker, f"guess_{n % 4}", "wrong-password").status_code == 200
    # A success with an account of its own does not clear the address's count.
    own = post_login(Client(REMOTE_ADDR="10.0.0.66"), insider.username, f.PASSWORD)
    assert own.status_code == 302
    assert post_login(attacker, "guess_9", "wrong-password").status_code == 429, "the 12th failure"
    locked = post_login(attacker, "clerk_ip", f.PASSWORD)
    assert locked.status_code == 429, "the address is locked even for a right password"
    unknown = post_login(attacker, "no_such_user", "Wrong-pass-123")
    assert unknown.status_code == 429
    assert _form_text(unknown) == _form_text(locked), "the same page, known user or not"
    elsewhere = post_login(Client(REMOTE_ADDR="10.0.0.7"), "clerk_ip", f.PASSWORD)
    assert elsewhere.status_code == 302, "another address still signs in"
    locked_events = AccessEvent.objects.filter(kind="locked_out")
    assert locked_events.filter(ip_address="10.0.0.66").exists()


def test_without_an_address_limit_spraying_is_only_limited_per_username(axes_on):
    from django.test import Client

    axes_on.LOGIN_ADDRESS_FAILURE_LIMIT = 0
    f.UserFactory(username="clerk_ip")
    attacker = Client(REMOTE_ADDR="10.0.0.66")
    for n in range(40):
        post_login(attacker, f"guess_{n % 10}", "wrong-password")
    assert post_login(attacker, "clerk_ip", f.PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, axes_on):
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    f.UserFactory(username="clerk_cool")
    for _ in range(5):
        post_login(client, "clerk_cool", "wrong-password")
    assert post_login(client, "clerk_cool", f.PASSWORD).status_code == 429
    # Thirty-one minutes later (LOGIN_COOLOFF_MINUTES = 30): the attempts have expired.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    assert post_login(client, "clerk_cool", f.PASSWORD).status_code == 302


def test_the_proposer_sign_in_on_my_is_locked_out_as_well(client, axes_on):
    member = f.UserFactory(username="member_lock", is_staff=False)
    f.ProposerFactory(user=member)
    for _ in range(5):
        client.post("/my/login/", {"username": "member_lock", "password": "wrong-password"})
    locked = client.post("/my/login/", {"username": "member_lock", "password": f.PASSWORD})
    assert locked.status_code == 429
    assert "登录已暂停" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_not_found_on_a_real_route_is_audited_but_a_stray_path_is_not(client, clerk_a):
    client.force_login(clerk_a)
    assert client.get("/files/attachments/999999/").status_code == 404
    event = AccessEvent.objects.get(kind="not_found")
    assert (event.user, event.method, event.path) == (clerk_a, "GET", "/files/attachments/999999/")
    assert client.get("/no/such/page/").status_code == 404
    assert AccessEvent.objects.filter(kind="not_found").count() == 1
