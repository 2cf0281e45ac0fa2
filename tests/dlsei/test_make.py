"""The two commands of the README: what `make run` and `make test` do (each pytest-xdist worker on
a test database of its own), and the missing-venv message."""

import os
import re
import subprocess
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


def make(*arguments: str) -> subprocess.CompletedProcess:
    # `make test` itself runs this suite: without its MAKELEVEL/MAKEFLAGS the inner make prints
    # only the planned commands, as it does for a person at a shell.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS"}}
    return subprocess.run(["make", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)


def test_make_run_migrates_seeds_the_demo_and_serves_on_port_8000():
    planned = make("--dry-run", "run")
    assert planned.returncode == 0, planned.stderr
    steps = [line.split("manage.py ", 1)[1] for line in planned.stdout.splitlines() if "manage.py " in line]
    assert steps == ["migrate --noinput", "seed_demo", "runserver 127.0.0.1:8000"]
    assert "http://127.0.0.1:8000" in planned.stdout


def test_make_test_runs_pytest_on_every_core_with_the_extra_arguments():
    planned = make("--dry-run", "test", "PYTEST_ARGS=tests/quotas -x")
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.splitlines()[-1] == ".venv/bin/pytest -n auto --dist loadgroup tests/quotas -x"
    one_process = make("--dry-run", "test", "PYTEST_WORKERS=0")
    assert one_process.stdout.splitlines()[-1].rstrip() == ".venv/bin/pytest -n 0 --dist loadgroup"


def test_each_pytest_xdist_worker_has_a_test_database_of_its_own(db):
    # pytest-django names each worker's test database after the worker (gw0, gw1, ...): a SQLite
    # file of its own beside the others in VAR_DIR, or a PostgreSQL database of its own.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = str(connection.settings_dict["NAME"])
    if worker:
        assert name.endswith(f"_{worker}"), name
    else:
        assert not re.search(r"_gw\d+$", name), name


def test_a_python_without_venv_gets_a_clear_message_and_no_half_made_venv(tmp_path):
    venv = tmp_path / "venv"
    failed = make(f"PYTHON={tmp_path / 'no-such-python3'}", f"VENV={venv}", f"{venv}/bin/python")
    assert failed.returncode != 0
    assert "install python3-venv first: sudo apt install python3-venv" in failed.stderr
    assert not venv.exists()
