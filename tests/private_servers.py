"""Private servers and real worker processes for the tests that run them.

The machine's own PostgreSQL and Redis serve other work at the same time (another test run, or
another pytest-xdist worker of this one), so a test that needs a server of its own starts one: a
PostgreSQL cluster made with initdb in a temporary directory (run as the `postgres` OS user when
the tests run as root, since PostgreSQL refuses to run as root), or a `redis-server` on a free
port, persisting nothing. Both listen on 127.0.0.1 only, and both are stopped and removed by
`close()`. The fault tests (tests/dlsei/test_faults.py) stop and restart theirs; the real-worker,
sign-in-limit and compose tests share one Redis per test process (tests/conftest.py's
`private_redis`), so no Redis database number is shared between runs.

`Workers` starts real `celery worker` processes on the test database and a private broker.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.smtp_sink import free_port


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries on the machine (Debian's layout), or None."""
    found = sorted(
        (path for path in Path("/usr/lib/postgresql").glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    return found[-1] if found else None


REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"

# The tests that start many processes and wait for them against the clock (Celery workers, eight
# clients racing for seats, a PostgreSQL cluster and gunicorn) run in one pytest-xdist worker, one
# after another (`make test` passes --dist loadgroup): each has the other cores to itself instead
# of racing another such test for them, while the other workers run the ordinary tests.
REAL_PROCESSES = pytest.mark.xdist_group("real-processes")


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port, trust authentication for `postgres`."""

    def __init__(self):
        self.bin = postgres_bin()
        assert self.bin is not None, (
            "no PostgreSQL server binaries under /usr/lib/postgresql: install Debian's postgresql package "
            "(.ci/run does), the fault tests run a private cluster of their own"
        )
        # Not under pytest's tmp_path: its parents are private to root, and the server runs as postgres.
        self.dir = Path(tempfile.mkdtemp(prefix="dlsei-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.dir, user="postgres", group="postgres")

    def _run(self, program: str, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        assert result.returncode == 0, f"{program} {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"

    def start(self) -> "PrivatePostgres":
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        # fsync off: the tests crash the server process, never the machine, so what was written
        # reaches the kernel and survives; a commit is still written out before it is acknowledged.
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=50 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "90", "-o", options, "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """`immediate` is a crash: every backend dies at once and the next start replays the WAL."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "90", "-m", mode, "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg2

        admin = psycopg2.connect(self.url())
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        admin.close()
        return self.url(name)

    def close(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A `redis-server` on a free port that can be stopped and started again on the same port."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="dlsei-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "PrivateRedis":
        log = (self.dir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return self
            except redis.ConnectionError:
                assert self.process.poll() is None, (self.dir / "redis.log").read_text()
                time.sleep(0.1)
        raise AssertionError("redis-server did not answer PING within 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # a broker that dies, not one that says goodbye
            self.process.wait(timeout=10)
        self.process = None

    def pause(self) -> None:
        """A hung broker: the kernel still accepts connections, nothing answers on them."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


# --- Real Celery workers -----------------------------------------------------------------------

CONCURRENCY = 2  # pool processes of each worker
CELERY = Path(sys.executable).with_name("celery")
# Back-off, lease and sweep times in seconds, read from the environment by the worker, so that a
# test of recovery takes seconds; Redis's visibility timeout stays at its hour, so recovery
# cannot come from Redis.
WORKER_SETTINGS = {
    "INVITATION_LEASE_SECONDS": "8",
    "INVITATION_SMTP_TIMEOUT": "4",
    "INVITATION_REQUEUE_AFTER_SECONDS": "4",
    "INVITATION_SWEEP_EVERY_SECONDS": "2",
    "INVITATION_RETRY_BACKOFF": "1",
    "INVITATION_RETRY_BACKOFF_MAX": "2",
    "INVITATION_MAX_RETRIES": "2",
    "INVITATION_RATE_LIMIT": "6000/m",
    "REMINDERS_EVERY_SECONDS": "3600",
    "HOLDS_EXPIRE_EVERY_SECONDS": "3600",
}


def child_database_url() -> str:
    """This test process's test database (under pytest-xdist, its worker's own), as a DATABASE_URL."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}?timeout=30&transaction_mode=IMMEDIATE"
    credentials = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """This test process queues tasks on the broker at `url`, as the web process does in
    production (the ordinary suite runs them in-process); back to in-process on exit."""
    from dlsei.celery import app

    saved = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}

    def reconnect() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.update(broker_url=url, task_always_eager=False)
    reconnect()
    try:
        yield
    finally:
        app.conf.update(**saved)
        reconnect()


class Workers:
    """Start and kill `celery worker` processes (each with its pool children, in its own group) on
    the test database and the broker at `broker_url`, sending mail to the SMTP server on `smtp_port`."""

    def __init__(self, *, tmp_path: Path, smtp_port: int, broker_url: str):
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            **WORKER_SETTINGS,
            "DJANGO_SETTINGS_MODULE": "dlsei.settings",
            "REDIS_URL": broker_url,
            "DATABASE_URL": child_database_url(),
            "VAR_DIR": str(settings.VAR_DIR),
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self) -> subprocess.Popen:
        number = len(self.processes) + 1
        log = self.tmp_path / f"worker-{number}.log"
        process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "dlsei",
                "worker",
                "-B",
                "-s",
                str(self.tmp_path / f"beat-{number}"),
                "--concurrency",
                str(CONCURRENCY),
                "--loglevel",
                "INFO",
                "-n",
                f"invite-test-{number}@%h",
                "--without-gossip",
                "--without-mingle",
            ],  # fmt: skip
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log = log
        self.processes.append(process)
        deadline = time.monotonic() + 90  # a loaded CI machine can take a while to import Django and Celery
        while time.monotonic() < deadline:
            if b" ready." in log.read_bytes():
                return process
            assert process.poll() is None, f"the worker stopped:\n{log.read_text()[-3000:]}"
            time.sleep(0.2)
        raise AssertionError(f"the worker did not start in 90 s:\n{log.read_text()[-3000:]}")

    def kill(self, process: subprocess.Popen) -> None:
        """kill -9 the worker and its pool processes at once, like a power cut."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(p.log.read_text(errors="replace")[-4000:] for p in self.processes)


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, workers: Workers) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"{what} did not happen within {timeout} s. Worker logs:\n{workers.logs()}")
