"""The demo's published passwords outside DEBUG (issue 17, row 9): a sign-in with one is
refused with a Chinese message and counted as a failure (admin and /my/), none can be set, and
``load_demo`` still loads without DEBUG and says how its accounts can be used.

The passwords are kept in ``tracker/demo/data.py`` alone; ``settings.PUBLISHED_PASSWORDS`` names it.
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

from proposals.models import AccessEvent, User
from proposals.passwords import published_passwords
from proposals.tests import factories as f
from tracker.demo import DEMO_USERS

pytestmark = pytest.mark.django_db

DEMO = DEMO_USERS[0].password  # the committee's
REFUSED = "演示账号的公开密码不能在正式环境中使用，请管理员重设密码。"
ADMIN, MY = "/admin/login/", "/my/login/"


def with_demo_password(user: User) -> User:
    """An account that still has its demo password (set before the rule, or by load_demo)."""
    user.set_password(DEMO)
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def staff(db):
    return with_demo_password(f.CommitteeFactory(username="committee"))


@pytest.fixture
def proposer(db):
    user = f.UserFactory(username="zhangwenhao", is_staff=False)
    f.ProposerFactory(name="张文浩", user=user)
    return with_demo_password(user)


def sign_in(where: str, username: str, password: str, client: Client | None = None):
    client = client or Client()
    return client.post(where, {"username": username, "password": password, "next": "/my/"})


@pytest.mark.parametrize("where,who", [(ADMIN, "staff"), (MY, "proposer")])
def test_signing_in_with_a_demo_password_is_refused_and_counted_without_debug(
    where, who, request, axes_on, settings
):
    user = request.getfixturevalue(who)
    client = Client()
    response = sign_in(where, user.username, DEMO, client)
    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    assert "_auth_user_id" not in client.session
    failed = AccessEvent.objects.filter(kind=AccessEvent.Kind.LOGIN_FAILED, username=user.username)
    assert failed.count() == 1
    assert not AccessEvent.objects.filter(kind=AccessEvent.Kind.LOGIN).exists()
    assert AccessAttempt.objects.get(username=user.username).failures_since_start == 1

    settings.DEBUG = True  # make run: the demo signs in
    assert sign_in(where, user.username, DEMO, client).status_code == 302
    assert "_auth_user_id" in client.session


def test_five_demo_password_attempts_lock_the_account(staff, axes_on):
    for _ in range(4):
        assert sign_in(ADMIN, "committee", DEMO).status_code == 200
    assert sign_in(ADMIN, "committee", DEMO).status_code == 429
    assert sign_in(ADMIN, "committee", "wrong-Password-1").status_code == 429


def test_the_refusal_is_the_same_for_an_unknown_username(staff, axes_on):
    def page(username: str) -> str:
        text = sign_in(ADMIN, username, DEMO).content.decode()
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|nonce="[^"]+"', "", text)
        return text.replace(username, "USER")

    assert page("committee") == page("nobody_here")


def test_the_test_clients_login_is_refused_too(staff):
    assert not Client().login(username="committee", password=DEMO)


def test_a_demo_password_cannot_be_set_without_debug(staff, settings):
    with pytest.raises(ValidationError) as info:
        validate_password(DEMO, staff)
    assert info.value.messages == ["这是演示账号的公开密码，正式环境中不能使用，请另设一个密码。"]
    form = SetPasswordForm(staff, {"new_password1": DEMO, "new_password2": DEMO})
    assert not form.is_valid()

    settings.DEBUG = True
    validate_password(DEMO, staff)


def test_load_demo_without_debug_loads_its_accounts_and_says_how_to_use_them(settings):
    out, err = io.StringIO(), io.StringIO()
    call_command("load_demo", stdout=out, stderr=err)
    committee = User.objects.get(username="committee")
    assert committee.check_password(DEMO), "the demo's accounts keep their listed passwords"
    assert "只有在 DEBUG=true 时" in err.getvalue() and "重设密码" in err.getvalue()

    settings.DEBUG = True
    out, err = io.StringIO(), io.StringIO()
    call_command("load_demo", "--reset-passwords", stdout=out, stderr=err)
    assert "DEBUG" not in err.getvalue()
    assert Client().login(username="committee", password=DEMO)


def test_each_demo_password_is_written_in_one_place_only():
    assert published_passwords() == {spec.password for spec in DEMO_USERS}
    root = Path(django_settings.BASE_DIR)
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    found: dict[str, set[str]] = {}
    for name in files:
        path = root / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        for password in published_passwords():
            if password in text:
                found.setdefault(password, set()).add(name)
    assert set(found) == published_passwords()
    assert {name for names in found.values() for name in names} == {"tracker/demo/data.py"}
