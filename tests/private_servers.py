"""Private PostgreSQL and Redis servers for the fault tests (tests/dlsei/test_faults.py).

The fault tests stop and restart servers; the machine's own PostgreSQL and Redis serve other work
at the same time, so each test starts its own: a PostgreSQL cluster made with initdb in a
temporary directory (run as the `postgres` OS user when the tests run as root, since PostgreSQL
refuses to run as root), or a `redis-server` on a free port, persisting nothing. Both listen on
127.0.0.1 only, and both are stopped and removed by `close()`.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.smtp_sink import free_port


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries on the machine (Debian's layout), or None."""
    found = sorted(
        (path for path in Path("/usr/lib/postgresql").glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    return found[-1] if found else None


REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


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
