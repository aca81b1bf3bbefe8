"""Deploy settings, the idle timeout and the password rules (issue 9, login controls)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

ROOT = Path(settings.BASE_DIR)


def test_production_settings_pass_check_deploy():
    env = {
        **os.environ,
        "HTTPS": "true",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "tracker.example.org",
        "DATABASE_URL": "sqlite:////tmp/deploy-check.sqlite3",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


@pytest.mark.parametrize("password", ["abcdefghijk", "abcdefgh1234", "ABCDEFGH1234", "12345-67890"])
def test_passwords_of_fewer_than_three_character_classes_are_refused_in_chinese(password):
    with pytest.raises(ValidationError) as info:
        validate_password(password)
    assert any("至少 3 类" in m for m in info.value.messages)


def test_passwords_shorter_than_ten_characters_are_refused():
    with pytest.raises(ValidationError):
        validate_password("Aa1!Bb2@c")


@pytest.mark.parametrize("password", ["Dome-2026-tian", "Ward.Quill.7731", "k3#pLm9$vQ2w"])
def test_passwords_of_three_character_classes_and_ten_characters_pass(password):
    validate_password(password)


def test_a_session_ends_after_thirty_idle_minutes_and_each_request_renews_it(client, committee):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    client.force_login(committee)
    response = client.get("/admin/")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == 30 * 60
    assert cookie["httponly"]


def _idle(client, minutes: int) -> None:
    """Make the client's session look as if its last request was ``minutes`` ago."""
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    last_request = timezone.now() - timedelta(minutes=minutes)
    Session.objects.filter(session_key=key).update(
        expire_date=last_request + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    )


@pytest.mark.django_db
def test_a_session_idle_for_29_minutes_lives_and_is_renewed(client, committee):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client.force_login(committee)
    client.get("/admin/")
    _idle(client, 29)
    assert client.get("/admin/").status_code == 200
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    remaining = Session.objects.get(session_key=key).expire_date - timezone.now()
    assert remaining.total_seconds() > 29 * 60, "the request renewed the idle clock"


@pytest.mark.django_db
def test_a_session_idle_for_31_minutes_is_over(client, committee):
    client.force_login(committee)
    client.get("/admin/")
    _idle(client, 31)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_pages_refuse_framing_and_keep_the_referrer_on_site(client):
    response = client.get("/admin/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "password",
    [
        "          1Aa",  # the probe's: spaces are not symbols, nor length
        "P@ssw0rd2026",  # the probe's: a common password in disguise
        "1qaz@WSX3edc",  # a keyboard walk
        "Woaini-2026!",  # pinyin: 我爱你
        "Zhengxie@2026",  # pinyin: 政协
        "MimaMima-2026",  # pinyin said twice: 密码密码
        "Shanghai2026!",
    ],
)
def test_weak_passwords_in_disguise_are_refused_in_chinese(password):
    with pytest.raises(ValidationError) as info:
        validate_password(password)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in info.value.messages)


def test_the_minimum_length_does_not_count_spaces_and_says_so_in_chinese():
    with pytest.raises(ValidationError) as info:
        validate_password("Ab1!      x")  # 11 characters, 5 of them not spaces
    assert "密码至少 10 个字符（空格不计）。" in info.value.messages
