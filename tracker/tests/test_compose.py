"""The production stack (docker-compose.yml and the Dockerfile) is wired as the README says.

These tests read the files only: they need neither Docker nor a database.
"""

import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

APP_SERVICES = ("web", "worker", "beat")
REQUIRED_APP_VARIABLES = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def service(compose, name):
    return compose["services"][name]


def command_words(svc):
    command = svc.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


def environment(svc):
    env = svc.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def mounted_volume_names(svc):
    names = set()
    for volume in svc.get("volumes", []):
        source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source")
        names.add(source)
    return names


def test_the_stack_has_web_worker_beat_postgres_and_redis(compose):
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(compose["services"])


def test_web_service_runs_gunicorn_on_the_wsgi_app(compose):
    words = command_words(service(compose, "web"))
    assert words[0] == "gunicorn"
    assert "tracker.wsgi:application" in words


def test_worker_service_runs_a_celery_worker_of_the_tracker_app(compose):
    words = command_words(service(compose, "worker"))
    assert words[:4] == ["celery", "-A", "tracker", "worker"]


def test_worker_consumes_the_mail_and_pdf_queues(compose):
    words = command_words(service(compose, "worker"))
    queues = words[words.index("-Q") + 1].split(",")
    assert {"celery", "mail", "pdf"} <= set(queues)


def test_beat_service_runs_celery_beat_of_the_tracker_app(compose):
    words = command_words(service(compose, "beat"))
    assert words[:4] == ["celery", "-A", "tracker", "beat"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_get_database_redis_and_secret_key_from_the_environment(compose, name):
    env = environment(service(compose, name))
    for variable in REQUIRED_APP_VARIABLES:
        assert env.get(variable), f"{name} lacks {variable}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_use_the_compose_postgres_and_redis(compose, name):
    env = environment(service(compose, name))
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_without_debug(compose, name):
    assert str(environment(service(compose, name)).get("DEBUG")).lower() == "false"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_postgres_and_redis(compose, name):
    depends_on = service(compose, name)["depends_on"]
    for dependency in ("postgres", "redis"):
        assert depends_on[dependency]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["postgres", "redis"])
def test_postgres_and_redis_have_healthchecks(compose, name):
    assert service(compose, name)["healthcheck"]["test"]


def test_postgres_data_lives_in_a_declared_named_volume(compose):
    assert "pgdata" in compose["volumes"]
    assert "pgdata" in mounted_volume_names(service(compose, "postgres"))


def test_media_volume_is_declared_and_shared_by_web_and_worker(compose):
    assert "media" in compose["volumes"]
    for name in ("web", "worker"):
        svc = service(compose, name)
        assert "media" in mounted_volume_names(svc)
        assert environment(svc)["MEDIA_ROOT"] == "/data/media"
        assert "media:/data/media" in svc["volumes"]


def test_redis_keeps_its_data_with_append_only_file(compose):
    redis = service(compose, "redis")
    assert "--appendonly" in command_words(redis)
    assert mounted_volume_names(redis) & set(compose["volumes"])


def test_dockerfile_exists_and_installs_the_cjk_fonts():
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "python:3.11" in text
    assert "fonts-noto-cjk" in text
    assert "fonts-arphic-ukai" in text
    assert "install-fandol-fonts" in text


def test_dockerfile_runs_as_a_non_root_user():
    lines = DOCKERFILE.read_text(encoding="utf-8").splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users
    assert users[-1] not in ("root", "0")
