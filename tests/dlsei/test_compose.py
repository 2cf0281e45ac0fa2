"""docker-compose.yml and the Dockerfile name real things.

No Docker engine runs where the tests do, so these tests read both files and hold every name in
them against the project: the WSGI application, the Celery app and its beat schedule, management
commands, the settings that read each variable, pinned images and the files the Dockerfile copies.
The health checks are run for real: against a live server, a running worker and a running beat.
"""

import importlib
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from django.conf import settings
from django.core.management import get_commands
from django.test import Client

from tests.dlsei.conftest import settings_env_names
from tests.private_servers import REAL_PROCESSES

ROOT = Path(settings.BASE_DIR)
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict = COMPOSE["services"]
PORTAL = sorted(name for name, service in SERVICES.items() if "build" in service)
DOCKERFILE = (ROOT / "Dockerfile").read_text()

_VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}|\$\$")


def interpolate(value: str, environ: dict[str, str]) -> str:
    """Resolve ${NAME}, ${NAME:-default}, ${NAME:?error} and $$ as `docker compose` does."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, kind, argument = match.groups()
        if environ.get(name):
            return environ[name]
        if kind == "?":
            raise KeyError(f"{name} is required: {argument}")
        return argument if kind == "-" else ""

    return _VARIABLE.sub(replace, value)


def portal_environment(service: str, environ: dict[str, str]) -> dict[str, str]:
    return {name: interpolate(str(value), environ) for name, value in SERVICES[service]["environment"].items()}


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any variable the settings read, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if name not in settings_env_names()}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["DJANGO_SETTINGS_MODULE"] = "dlsei.settings"
    return env | extra


def health_check(service: str) -> list[str]:
    """The service's health check as an argv to run here (CMD-SHELL through sh, as Docker does)."""
    kind, *rest = SERVICES[service]["healthcheck"]["test"]
    rest = [interpolate(part, {}) for part in rest]
    if kind == "CMD-SHELL":
        return ["sh", "-c", rest[0]]
    assert kind == "CMD"
    return rest


def dockerfile_instructions(keyword: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.split(None, 1)[:1] == [keyword]]


@pytest.fixture
def test_redis(private_redis) -> str:
    """This test process's own Redis (tests/conftest.py): its worker and beat never meet anyone else's."""
    return private_redis.url


def wait_for(check, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- The stack ------------------------------------------------------------------------------


def test_the_stack_has_the_portal_its_services_and_a_mail_catcher():
    assert set(SERVICES) == {"migrate", "web", "worker", "beat", "db", "redis", "mailpit"}
    assert PORTAL == ["beat", "migrate", "web", "worker"]
    assert all(SERVICES[name]["build"] == "." for name in PORTAL)


def test_every_image_is_pinned_to_a_major_version():
    for name in set(SERVICES) - set(PORTAL):
        image, _, tag = SERVICES[name]["image"].rpartition(":")
        assert image and re.fullmatch(r"v?\d+(\.\d+)*(-[a-z0-9]+)?", tag), f"{name}: pin {image or tag} to a version"
    assert SERVICES["db"]["image"].startswith("postgres:15")
    assert SERVICES["redis"]["image"].startswith("redis:7")


def test_every_long_running_service_has_a_health_check_and_starts_after_migrate():
    for name, service in SERVICES.items():
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        assert service["healthcheck"]["test"], name
    assert SERVICES["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in ("web", "worker", "beat"):
        assert SERVICES[name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }


def test_private_uploads_are_a_volume_every_portal_service_mounts():
    assert "private-uploads" in COMPOSE["volumes"]
    for name in PORTAL:
        environment = portal_environment(name, {"SECRET_KEY": "x"})
        assert f"private-uploads:{environment['PRIVATE_MEDIA_ROOT']}" in SERVICES[name]["volumes"]


# --- Commands name real things --------------------------------------------------------------


def test_web_serves_the_projects_wsgi_application():
    command = SERVICES["web"]["command"]
    assert command[0] == "gunicorn"
    module, attribute = command[1].split(":")
    application = getattr(importlib.import_module(module), attribute)
    assert callable(application)
    assert f"{module}.{attribute}" == settings.WSGI_APPLICATION
    assert command[command.index("--bind") + 1] == "0.0.0.0:8000"
    assert "8000:8000" in SERVICES["web"]["ports"]


def test_worker_and_beat_run_the_projects_celery_app():
    for name in ("worker", "beat"):
        command = SERVICES[name]["command"]
        assert command[:4] == ["celery", "-A", "dlsei", name]
        app = find_app(command[2])  # what `celery -A dlsei` itself resolves
        assert isinstance(app, Celery)
        assert app is importlib.import_module("dlsei.celery").app


def test_beat_schedules_only_tasks_the_worker_knows():
    app = find_app("dlsei")
    app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert isinstance(schedule, dict)
    unknown = {entry["task"] for entry in schedule.values()} - set(app.tasks)
    assert not unknown, f"CELERY_BEAT_SCHEDULE names tasks no app defines: {sorted(unknown)}"


def test_management_commands_named_in_compose_and_dockerfile_exist():
    named = {
        service["command"][2]
        for service in SERVICES.values()
        if service.get("command", [])[:2] == ["python", "manage.py"]
    }
    named |= set(re.findall(r"manage\.py (\w+)", DOCKERFILE))
    assert named == {"migrate", "collectstatic", "compilemessages"}
    assert named <= set(get_commands())


def test_every_variable_given_to_the_portal_is_read_by_the_settings():
    read = settings_env_names()
    for name in PORTAL:
        given = set(SERVICES[name]["environment"])
        assert given <= read, f"{name}: settings.py never reads {sorted(given - read)}"
        assert SERVICES[name]["environment"] == SERVICES["web"]["environment"]


def test_secret_key_must_be_given():
    assert SERVICES["web"]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")
    with pytest.raises(KeyError, match="SECRET_KEY is required"):
        portal_environment("web", {})


def test_the_compose_environment_is_a_clean_production_configuration(tmp_path):
    secret = "compose-check-" + "k" * 50
    environment = portal_environment("web", {"SECRET_KEY": secret}) | {
        # Paths inside the container; this process writes under tmp_path instead.
        "VAR_DIR": str(tmp_path / "var"),
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "private"),
    }
    env = clean_environment(**environment)
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "System check identified no issues (0 silenced)." in check.stdout

    probe = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; "
        "print(json.dumps({'db': [d['ENGINE'], d['HOST'], d['PORT'], d['NAME'], d['USER'], d['PASSWORD']], "
        "'broker': s.CELERY_BROKER_URL, 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
        "'email': [s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT], 'debug': s.DEBUG, 'secret': s.SECRET_KEY}))"
    )
    resolved = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    got = json.loads(resolved.stdout)
    database = SERVICES["db"]["environment"]
    password = interpolate(database["POSTGRES_PASSWORD"], {})
    assert got["db"] == [
        "django.db.backends.postgresql",
        "db",
        5432,
        database["POSTGRES_DB"],
        database["POSTGRES_USER"],
        password,
    ]
    broker = urlsplit(got["broker"])
    assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)
    assert got["eager"] is False
    assert got["email"] == ["django.core.mail.backends.smtp.EmailBackend", "mailpit", 1025]
    assert got["debug"] is False
    assert got["secret"] == secret


# --- Health checks, run for real -----------------------------------------------------------


def test_web_health_check_needs_the_forwarded_https_header_it_sends(settings, db):
    host = portal_environment("web", {"SECRET_KEY": "x"})["ALLOWED_HOSTS"].split(",")[0]
    settings.ALLOWED_HOSTS = [host]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    snippet = health_check("web")[-1]
    assert '"X-Forwarded-Proto": "https"' in snippet and 'http://127.0.0.1:8000/"' in snippet
    # Behind the proxy, as the check asks: the page itself.
    assert Client().get("/", headers={"host": host, "x-forwarded-proto": "https"}).status_code == 200
    # Plain HTTP would only ever see the redirect to HTTPS.
    assert Client().get("/", headers={"host": host}).status_code == 301


def test_web_health_check_passes_against_a_running_portal(live_server, settings, transactional_db):
    host = portal_environment("web", {"SECRET_KEY": "x"})["ALLOWED_HOSTS"].split(",")[0]
    settings.ALLOWED_HOSTS = [host]
    argv = [part.replace("http://127.0.0.1:8000/", f"{live_server.url}/") for part in health_check("web")]
    argv[0] = sys.executable
    env = clean_environment(ALLOWED_HOSTS=portal_environment("web", {"SECRET_KEY": "x"})["ALLOWED_HOSTS"])
    passed = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert passed.returncode == 0, passed.stderr
    settings.ALLOWED_HOSTS = ["somewhere.else"]
    refused = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "HTTP Error 400" in refused.stderr


@REAL_PROCESSES
def test_worker_health_check_answers_while_the_worker_runs(tmp_path, test_redis):
    command = SERVICES["worker"]["command"]
    hostname = socket.gethostname()  # what Docker puts in $HOSTNAME and the worker names itself by
    env = clean_environment(REDIS_URL=test_redis, VAR_DIR=str(tmp_path), HOSTNAME=hostname)
    check = health_check("worker")
    assert shlex.split(check[-1])[:5] == ["celery", "-A", "dlsei", "inspect", "ping"]
    assert "--timeout 10" in check[-1]

    def healthy() -> subprocess.CompletedProcess:
        return subprocess.run(check, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    worker = subprocess.Popen(
        [sys.executable, "-m", *command, "--pool=solo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    quick = [check[0], check[1], check[2].replace("--timeout 10", "--timeout 1")]

    def answers_quickly() -> bool:
        return subprocess.run(quick, cwd=ROOT, env=env, capture_output=True, timeout=60).returncode == 0

    try:
        assert wait_for(answers_quickly, seconds=120), "the worker never answered a ping"
        answer = healthy()
        assert answer.returncode == 0, answer.stdout + answer.stderr
        assert f"celery@{hostname}: OK" in answer.stdout
    finally:
        stop(worker)
    assert healthy().returncode != 0


@REAL_PROCESSES
def test_beat_health_check_follows_the_beat_process(tmp_path, test_redis):
    command = SERVICES["beat"]["command"]
    pidfile = next(arg.split("=", 1)[1] for arg in command if arg.startswith("--pidfile="))
    check = health_check("beat")
    assert pidfile in check[-1], "the health check must read the pid file beat writes"
    local_pidfile = str(tmp_path / "celerybeat.pid")
    argv = [arg.replace("/tmp/", f"{tmp_path}/") for arg in command]
    check = [part.replace(pidfile, local_pidfile) for part in check]
    check[0] = sys.executable
    env = clean_environment(REDIS_URL=test_redis, VAR_DIR=str(tmp_path))

    def healthy() -> bool:
        return subprocess.run(check, env=env, capture_output=True, timeout=60).returncode == 0

    assert not healthy()
    beat = subprocess.Popen(
        [sys.executable, "-m", *argv], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        assert wait_for(lambda: Path(local_pidfile).exists() and healthy()), "beat never wrote its pid file"
    finally:
        stop(beat)
    assert not healthy()


def test_db_redis_and_mailpit_checks_probe_what_the_portal_uses():
    database = SERVICES["db"]["environment"]
    assert SERVICES["db"]["healthcheck"]["test"] == [
        "CMD",
        "pg_isready",
        f"--username={database['POSTGRES_USER']}",
        f"--dbname={database['POSTGRES_DB']}",
    ]
    assert SERVICES["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert SERVICES["mailpit"]["healthcheck"]["test"] == ["CMD", "/mailpit", "readyz"]
    email = urlsplit(portal_environment("web", {"SECRET_KEY": "x"})["EMAIL_URL"])
    assert (email.hostname, email.port) == ("mailpit", 1025)


# --- The Dockerfile -------------------------------------------------------------------------


def test_dockerfile_builds_on_python_311_and_runs_as_a_user():
    assert dockerfile_instructions("FROM") == ["python:3.11-slim-bookworm"]
    users = dockerfile_instructions("USER")
    assert users and users[-1] not in {"root", "0"}
    apt = " ".join(dockerfile_instructions("RUN"))
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b", "fonts-noto-core", "gettext"):
        assert f" {package} " in apt
    assert "pip install -c constraints.txt ." in apt


def test_dockerfile_default_command_is_the_web_command():
    (command,) = dockerfile_instructions("CMD")
    assert json.loads(command) == SERVICES["web"]["command"]


def test_dockerfile_copies_files_that_exist_and_reach_the_build():
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def is_ignored(path: str) -> bool:
        return any(fnmatch(path, pattern) or path.split("/")[0] == pattern for pattern in ignored)

    copies = dockerfile_instructions("COPY")
    assert copies
    for copy in copies:
        *sources, _destination = copy.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source == "." or not is_ignored(source), f"{source} is in .dockerignore"
    # What the running image needs from the copied tree.
    apps = ("core", "audit", "quotas", "registrations", "fees", "portal")
    for needed in ("manage.py", "dlsei", *apps, "templates", "static"):
        assert (ROOT / needed).exists() and not is_ignored(needed), needed


def test_constraints_pin_every_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [req for reqs in project["optional-dependencies"].values() for req in reqs]

    def normalise(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    pinned = {
        normalise(line.split("==")[0]) for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line
    }
    names = {normalise(re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)) for requirement in declared}
    assert names - pinned == set()
