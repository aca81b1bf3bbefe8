"""The production stack (docker-compose.yml and the Dockerfile) is wired as the README says.

These tests read the files (there is no Docker engine here); one runs the web service's health
check command against the application served by the test server.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"

APP_SERVICES = ("web", "worker", "beat")
#: Services that run until stopped (init runs once and exits).
LONG_RUNNING = ("web", "worker", "beat", "postgres", "redis")
REQUIRED_APP_VARIABLES = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")
#: What e-mails and links need to be right in production.
LINK_AND_MAIL_VARIABLES = (
    "SITE_URL",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "HTTPS",
    "TRUSTED_PROXIES",
    "DEFAULT_FROM_EMAIL",
    "EMAIL_URL",
    "SENTRY_DSN",
    "TZ",
)


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
    assert words[:3] == ["celery", "-A", "tracker"] and "worker" in words
    assert words.index("--quiet") < words.index("worker")  # no banner in the JSON log


def test_worker_consumes_the_mail_and_pdf_queues(compose):
    words = command_words(service(compose, "worker"))
    queues = words[words.index("-Q") + 1].split(",")
    assert {"celery", "mail", "pdf"} <= set(queues)


def test_beat_service_runs_celery_beat_of_the_tracker_app(compose):
    words = command_words(service(compose, "beat"))
    assert words[:3] == ["celery", "-A", "tracker"] and "beat" in words
    assert words.index("--quiet") < words.index("beat")


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


# --- Configuration: .env.example and interpolation ------------------------------------------


def env_example() -> dict[str, str]:
    """The variables .env.example sets (as docker compose reads the file)."""
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip().strip('"')
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    """docker compose's ${VAR}, ${VAR:-default} (nested) and ${VAR:?error}, for these tests."""
    pattern = re.compile(r"\$\{(\w+)(?:(:?[-?])((?:[^{}]|\$\{[^{}]*\})*))?\}")

    def replace(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        value = env.get(name, "")
        if op in (":-", "-") and not value:
            return interpolate(arg, env)
        if op in (":?", "?") and not value:
            raise KeyError(f"{name} is required: {arg}")
        return value

    return pattern.sub(replace, text.replace("$$", "\0")).replace("\0", "$")


def compose_variables() -> set[str]:
    text = COMPOSE_FILE.read_text(encoding="utf-8").replace("$$", "")
    return set(re.findall(r"\$\{(\w+)", text))


@pytest.fixture(scope="module")
def resolved():
    """docker-compose.yml as docker compose sees it with .env.example copied to .env."""
    text = interpolate(COMPOSE_FILE.read_text(encoding="utf-8"), env_example())
    return yaml.safe_load(text)


def test_every_variable_the_compose_file_uses_is_in_env_example():
    missing = compose_variables() - set(env_example())
    assert not missing, f"not in .env.example: {sorted(missing)}"


def test_every_variable_of_env_example_reaches_the_compose_file():
    """A value set in .env that docker-compose.yml does not name would silently do nothing."""
    unused = set(env_example()) - compose_variables()
    assert not unused, f"set in .env.example, used nowhere in docker-compose.yml: {sorted(unused)}"


@pytest.mark.parametrize("variable", ["SITE_URL", "ALLOWED_HOSTS", "SECRET_KEY", "APP_DB_PASSWORD"])
def test_the_stack_refuses_to_start_without_the_settings_links_depend_on(variable):
    env = {k: v for k, v in env_example().items() if k != variable}
    with pytest.raises(KeyError, match=variable):
        interpolate(COMPOSE_FILE.read_text(encoding="utf-8"), env)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_get_what_links_and_mails_need(resolved, name):
    env = environment(service(resolved, name))
    for variable in LINK_AND_MAIL_VARIABLES:
        assert variable in env, f"{name} lacks {variable}"
    assert env["SITE_URL"] == env_example()["SITE_URL"]
    assert env["SITE_URL"].startswith("https://") and "127.0.0.1" not in env["SITE_URL"]
    # Unset in .env, the CSRF origin is the site's.
    assert env["CSRF_TRUSTED_ORIGINS"] == env["SITE_URL"]
    assert urlsplit(env["SITE_URL"]).hostname in env["ALLOWED_HOSTS"].split(",")


# --- Database roles ---------------------------------------------------------------------------


def database_user(url: str) -> str:
    return urlsplit(url).username


def test_the_init_service_migrates_as_the_owner_then_grants_the_app_role(resolved):
    init = service(resolved, "init")
    web = service(resolved, "web")
    assert init.get("build") == web.get("build") and init["image"] == web["image"]
    script = " ".join(command_words(init))
    assert script.index("manage.py migrate") < script.index("manage.py grant_app_role")
    assert "set -e" in script
    env = environment(init)
    owner = service(resolved, "postgres")["environment"]["POSTGRES_USER"]
    assert database_user(env["DATABASE_URL"]) == owner
    assert env["APP_DB_USER"] == env_example()["APP_DB_USER"]
    assert env["APP_DB_PASSWORD"] == env_example()["APP_DB_PASSWORD"]
    assert init["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert init["restart"] == "no"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_init_to_succeed(compose, name):
    depends_on = service(compose, name)["depends_on"]
    assert depends_on["init"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_connect_as_the_app_role_never_the_owner(resolved, name):
    env = environment(service(resolved, name))
    owner = service(resolved, "postgres")["environment"]["POSTGRES_USER"]
    user = database_user(env["DATABASE_URL"])
    assert user == env_example()["APP_DB_USER"] != owner
    assert urlsplit(env["DATABASE_URL"]).password == env_example()["APP_DB_PASSWORD"]
    # Nor can they reach the owner's password.
    owner_password = "owner-password-4f1c9a"
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    stack = yaml.safe_load(
        interpolate(text, {**env_example(), "POSTGRES_PASSWORD": owner_password})
    )
    assert owner_password not in yaml.safe_dump(environment(service(stack, name)))


def test_only_init_knows_the_owner_password(compose):
    for name, svc in compose["services"].items():
        if "POSTGRES_PASSWORD" in yaml.safe_dump(svc.get("environment", {})):
            assert name in ("init", "postgres"), name


# --- Health and logs --------------------------------------------------------------------------


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck(compose, name):
    check = service(compose, name)["healthcheck"]
    assert check["test"] and not check.get("disable")
    assert check["test"][0] in ("CMD", "CMD-SHELL")


def test_web_is_healthy_when_its_health_page_answers(compose):
    test = " ".join(service(compose, "web")["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/healthz" in test


@pytest.mark.parametrize(("name", "node"), [("worker", "celery"), ("beat", "celerybeat")])
def test_worker_and_beat_answer_a_ping_through_the_broker(compose, name, node):
    svc = service(compose, name)
    test = svc["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    words = shlex.split(test[1])
    assert words[:5] == ["celery", "-A", "tracker", "inspect", "ping"]
    # $$ is compose's escape: the container's shell reads its own $HOSTNAME.
    assert words[words.index("-d") + 1] == f"{node}@$$HOSTNAME"
    if name == "beat":
        assert "--enable-remote-control" in command_words(svc)


def test_postgres_is_healthy_only_when_it_answers_over_tcp(compose):
    """The server postgres runs while it creates a new volume listens on its socket only."""
    words = shlex.split(service(compose, "postgres")["healthcheck"]["test"][1])
    assert words[0] == "pg_isready" and words[words.index("-h") + 1] == "127.0.0.1"


@pytest.mark.parametrize("name", ["init", *LONG_RUNNING])
def test_every_service_rotates_its_logs(resolved, name):
    logging = service(resolved, name)["logging"]
    assert logging["driver"] == "json-file"
    size = logging["options"]["max-size"]
    assert re.fullmatch(r"\d+[kmg]", size), size
    assert int(logging["options"]["max-file"]) >= 1


def test_web_runs_gunicorn_with_the_project_configuration(compose):
    words = command_words(service(compose, "web"))
    assert words[:3] == ["gunicorn", "-c", "gunicorn.conf.py"]
    assert (ROOT / "gunicorn.conf.py").is_file()
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    assert '"gunicorn", "-c", "gunicorn.conf.py"' in cmd


def test_web_is_published_on_loopback_by_default(compose):
    (port,) = service(compose, "web")["ports"]
    assert interpolate(port, {}) == "127.0.0.1:8000:8000"


# --- The image ----------------------------------------------------------------------------------


def dockerfile_lines() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def test_the_image_collects_static_files_with_the_manifest_readable_by_its_user():
    lines = dockerfile_lines()
    collect = next(i for i, line in enumerate(lines) if "collectstatic" in line)
    manifest = next(i for i, line in enumerate(lines) if "STATIC_MANIFEST=true" in line)
    user = max(i for i, line in enumerate(lines) if line.startswith("USER "))
    assert manifest < collect < user
    assert re.search(r"chmod -R a\+rX\S* /app/staticfiles", lines[collect])


def test_backups_and_secrets_stay_out_of_the_image():
    ignored = DOCKERIGNORE.read_text(encoding="utf-8").split()
    assert {".env", "backups/", "media/", "db.sqlite3*"} <= set(ignored)


# --- The web health check, run -------------------------------------------------------------------


def run_web_healthcheck(compose, base_url: str, allowed_hosts: str) -> int:
    script = service(compose, "web")["healthcheck"]["test"][3]
    script = script.replace("http://127.0.0.1:8000", base_url)
    env = {"ALLOWED_HOSTS": allowed_hosts, "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", script], env=env, timeout=60).returncode


@pytest.mark.django_db(transaction=True)
def test_the_web_healthcheck_passes_on_a_healthy_app_and_fails_on_a_sick_one(
    compose, live_server, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    # The first allowed host is what the check sends as Host (here the test server's).
    settings.ALLOWED_HOSTS = ["localhost"]
    url = live_server.url.replace("localhost", "127.0.0.1")
    assert run_web_healthcheck(compose, url, "localhost,other.example") == 0
    # A host the application does not serve: 400, unhealthy.
    assert run_web_healthcheck(compose, url, "elsewhere.example") != 0
    # Media cannot be written: /healthz/web answers 503, unhealthy.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.MEDIA_ROOT = blocker / "media"
    assert run_web_healthcheck(compose, url, "localhost") != 0
