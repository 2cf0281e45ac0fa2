"""Faults, with real servers and real processes: PostgreSQL crashing in the middle of a rush of
nominations, the Celery broker down when a learner is cleared, a worker killed in the middle of
a send.

Each test starts its own servers (tests/private_servers.py): the machine's PostgreSQL and Redis
are shared with other work and are never stopped here. The tests do not use the suite's
database setting for the server under test, so they run the same in both CI passes.

A worker killed mid-batch (many sends in flight) is in tests/registrations/test_worker.py; the
tests here kill a worker at each of the two points of one send that its design names
(registrations/tasks.py): after the claim, before the mail server took the message (no
duplicate), and after the mail server took it, before SENT was written (the one duplicate the
design accepts, never a loss).
"""

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from fees.models import Deposit
from registrations.clearing import nomination_settle
from registrations.models import Invitation, Nomination
from tests import factories
from tests.private_servers import REAL_PROCESSES, PrivatePostgres, PrivateRedis, Workers, celery_broker, wait_until
from tests.smtp_sink import SmtpSink, free_port
from tests.smtp_sink import _Handler as SinkHandler

ROOT = Path(settings.BASE_DIR)
PYTHON = sys.executable
GUNICORN = Path(sys.executable).with_name("gunicorn")
GUNICORN_WORKERS = 3
BUSY_EN = "The portal is busy or restarting"
BUSY_UR = "پورٹل مصروف ہے یا دوبارہ شروع ہو رہا ہے"

pytestmark = REAL_PROCESSES

# --- PostgreSQL crashes in the middle of a rush ----------------------------------------------


def _portal_env(*, database_url: str, var_dir: Path) -> dict[str, str]:
    """The portal as production runs it (DEBUG off, persistent connections), on the private cluster."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "EMAIL_URL", "CONN_MAX_AGE"}}
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY="faults-" + "k" * 60,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        EMAIL_URL="dummymail://",
        VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="dlsei.settings",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env


def _in_django(env: dict[str, str], task: str, spec: dict) -> dict:
    import json

    result = subprocess.run(
        [PYTHON, "-m", "tests.dlsei.faults_portal", task],
        input=json.dumps(spec), env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"{task} failed:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def _children(pid: int) -> set[int]:
    return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


class Portal:
    """gunicorn (sync workers, as in production) on the private cluster, its workers' pids known."""

    def __init__(self, *, env: dict[str, str], log: Path):
        self.port = free_port()
        self.log = log
        self.process = subprocess.Popen(
            [str(GUNICORN), "dlsei.wsgi:application", f"--workers={GUNICORN_WORKERS}", "--preload",
             f"--bind=127.0.0.1:{self.port}", "--timeout=60"],
            env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn stopped:\n{log.read_text()[-3000:]}"
            if len(_children(self.process.pid)) == GUNICORN_WORKERS and self._answers():
                return
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not start in 90 s:\n{log.read_text()[-3000:]}")

    def _answers(self) -> bool:
        try:
            connection = HTTPConnection("127.0.0.1", self.port, timeout=5)
            connection.request("HEAD", "/static/nothing")
            connection.getresponse().read()
            connection.close()
            return True
        except OSError:
            return False

    def workers(self) -> set[int]:
        return _children(self.process.pid)

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # the test is over: nothing to finish gracefully
            self.process.wait(timeout=30)


class Rush:
    """Focal persons submitting nominations from several threads, without pause, each reply kept."""

    def __init__(self, *, port: int, focal: list[dict]):
        self.port = port
        self.focal = focal
        self.numbers = itertools.count(1)
        self.replies: list[dict] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def nominate(self, *, client: int, language: str = "en") -> dict:
        cookies = self.focal[client % len(self.focal)]
        number = next(self.numbers)
        email = f"n{number}@rush.example.pk"
        fields = {
            "full_name": f"Nominee {number}",
            "cnic": f"{3_000_000_000_000 + number * 1000:013d}",
            "email": email,
            "phone": "03001234567",
            "role": "student",
            "programme_years": "16",
            "csrfmiddlewaretoken": cookies["csrftoken"],
        }
        cookie = f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}; django_language={language}"
        reply = {"email": email, "language": language, "status": 0, "location": "", "retry_after": "", "body": ""}
        try:
            connection = HTTPConnection("127.0.0.1", self.port, timeout=60)
            connection.request(
                "POST", reverse("registrations:focal_nominee_add"), body=urlencode(fields),
                headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
            )  # fmt: skip
            response = connection.getresponse()
            reply["body"] = response.read().decode(errors="replace")
            reply.update(
                status=response.status,
                location=response.getheader("Location") or "",
                retry_after=response.getheader("Retry-After") or "",
            )
            connection.close()
        except OSError as error:
            reply["body"] = f"{type(error).__name__}: {error}"
        with self.lock:
            self.replies.append(reply)
        return reply

    def _client(self, client: int) -> None:
        language = "ur" if client == 0 else "en"  # one focal person reads the portal in Urdu
        while not self.stopping.is_set():
            if self.nominate(client=client, language=language)["status"] == 503:
                time.sleep(0.05)  # as a person would, a moment before trying again

    def start(self, clients: int) -> None:
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(clients)]
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=90)

    def count(self, status: int, since: int = 0) -> int:
        with self.lock:
            return sum(1 for reply in self.replies[since:] if reply["status"] == status)

    def wait(self, condition, *, timeout: float, what: str, log: Path) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        with self.lock:
            statuses = [reply["status"] for reply in self.replies]
        raise AssertionError(
            f"{what} did not happen in {timeout} s; replies {statuses[-40:]}\n{log.read_text()[-3000:]}"
        )


@pytest.fixture
def portal_on_private_postgres(tmp_path):
    cluster = PrivatePostgres()
    portal = None
    try:
        cluster.start()
        env = _portal_env(database_url=cluster.create_database("dlsei_faults"), var_dir=tmp_path / "var")
        plan = _in_django(env, "setup", {"universities": 3, "licenses": 60})
        portal = Portal(env=env, log=tmp_path / "gunicorn.log")
        yield cluster, portal, env, plan
    finally:
        if portal is not None:
            portal.close()
        cluster.close()


def test_postgresql_crashing_mid_rush_gives_clean_errors_no_half_nomination_and_recovers_in_place(
    portal_on_private_postgres,
):
    cluster, portal, env, plan = portal_on_private_postgres
    rush = Rush(port=portal.port, focal=plan["focal"])
    workers_before = portal.workers()

    rush.start(clients=6)
    try:
        rush.wait(lambda: rush.count(302) >= 15, timeout=60, what="15 nominations before the crash", log=portal.log)
        # A crash, not a polite shutdown: every backend dies at once, in whatever transaction it is.
        cluster.stop("immediate")
        down = len(rush.replies)
        rush.wait(lambda: rush.count(503, since=down) >= 6, timeout=60, what="503 replies while down", log=portal.log)
        cluster.start()
        up = len(rush.replies)
        rush.wait(lambda: rush.count(302, since=up) >= 15, timeout=60, what="15 nominations after", log=portal.log)
    finally:
        rush.stop()

    # After the restart, new requests go through on the same gunicorn workers: nobody restarted
    # the portal. Enough of them, one after another, that every worker serves some.
    again = [rush.nominate(client=n) for n in range(4 * GUNICORN_WORKERS)]
    assert [reply["status"] for reply in again] == [302] * len(again), again
    assert portal.process.poll() is None
    assert portal.workers() == workers_before

    replies = rush.replies
    accepted = {reply["email"] for reply in replies if reply["status"] == 302}
    unclear = [reply for reply in replies if reply["status"] not in (302, 503)]
    assert not unclear, unclear[:3]  # never a 500, a 400 or a dropped connection
    for reply in replies:
        if reply["status"] == 302:
            assert reply["location"].endswith(reverse("registrations:focal_nominees")), reply
        else:
            # The friendly page, in the reader's language, asking for a retry; no traceback.
            assert reply["retry_after"] == "60", reply
            assert (BUSY_UR if reply["language"] == "ur" else BUSY_EN) in reply["body"], reply
            assert "Traceback" not in reply["body"] and "Internal Server Error" not in reply["body"]
    assert any(reply["status"] == 503 and reply["language"] == "ur" for reply in replies)
    assert "Database unavailable" in portal.log.read_text()  # and the operator sees why in the log

    held = _in_django(env, "verify", {"phase": plan["phase"]})
    emails = set(held["emails"])
    assert accepted <= emails, f"accepted but lost: {sorted(accepted - emails)[:5]}"
    assert emails <= {reply["email"] for reply in replies}
    # No half-written nomination: each has its audit entry, no account was made for a nominee
    # (they get one when they sign in), and the seat counters equal the seated rows.
    assert held["audited"] == held["audited_distinct"] == len(emails)
    assert held["nominee_accounts"] == 0
    for quota in held["quotas"]:
        assert quota["counted"] == quota["seated_rows"] <= quota["licenses"], quota
    assert "seated" in held["statuses"]


# --- The broker down when a learner is cleared -----------------------------------------------


class StallingSink(SmtpSink):
    """The SMTP sink, able to hold its first conversation at one point until released: at "rcpt"
    (before the message was handed over) or at "quit" (after the server accepted it)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.stall_at: str | None = None
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._controller = Controller(_StallingHandler(self), hostname="127.0.0.1", port=self.port)

    async def stall(self, point: str) -> None:
        if self.stall_at != point or self.stalled.is_set():
            return
        self.stalled.set()
        while not self.release.is_set():
            await asyncio.sleep(0.05)


class _StallingHandler(SinkHandler):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: N802, ARG002 - aiosmtpd's hook
        await self.sink.stall("rcpt")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope) -> str:  # noqa: N802, ARG002 - aiosmtpd's hook
        await self.sink.stall("quit")
        return "221 Bye"


@pytest.fixture
def private_broker():
    """A Redis of this test's own as the broker, for this test process (the web side, queueing
    after commit) and for the workers it starts."""
    server = PrivateRedis()
    try:
        server.start()
        with celery_broker(server.url):
            yield server
    finally:
        server.close()


@pytest.fixture
def sink():
    with StallingSink() as running:
        running.release.set()  # a test that wants a stall clears it
        yield running


@pytest.fixture
def workers(private_broker, sink, tmp_path):
    running = Workers(tmp_path=tmp_path, smtp_port=sink.port, broker_url=private_broker.url)
    try:
        yield running
    finally:
        running.stop_all()


def _deposit(client, nomination) -> dict:
    """The focal person records the deposit on the page; what the browser got back."""
    response = client.post(
        reverse("fees:deposit_record", args=[nomination.pk]),
        {"receipt": f"RCPT-{nomination.pk}", "paid_on": timezone.localdate().isoformat()},
    )
    page = client.get(response["Location"]).content.decode() if response.status_code == 302 else ""
    return {"status": response.status_code, "location": response.get("Location", ""), "page": page}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_broker_down_when_learners_are_cleared_loses_no_invitation_and_sends_each_once_when_back(
    private_broker, workers, sink, client
):
    phase = factories.make_phase(coursera_invitation_url="https://www.coursera.org/programs/dlsei")
    university = factories.make_university(code="PUB")
    focal = factories.make_focal_person(university=university)
    ayesha = factories.make_seated_nomination(
        phase=phase, university=university, email="ayesha@example.pk", full_name="Ayesha"
    )
    bilal = factories.make_seated_nomination(
        phase=phase, university=university, email="bilal@example.pk", full_name="Bilal"
    )
    client.force_login(focal)

    # The broker is dead (connections refused): the deposit is recorded and the learner cleared.
    private_broker.stop()
    reply = _deposit(client, ayesha)
    assert reply["status"] == 302 and reply["location"] == reverse("fees:deposits")
    assert "The deposit of Ayesha is recorded." in reply["page"]
    invitation = Invitation.objects.get(nomination=ayesha)
    assert invitation.state == Invitation.State.QUEUED  # the outbox row, written with the clearing
    assert Nomination.objects.get(pk=ayesha.pk).cleared_at is not None
    assert Deposit.objects.filter(nomination=ayesha).count() == 1

    # The broker hangs (takes the connection, never answers): the request still comes back, after
    # the broker socket timeout, instead of waiting for the broker for ever.
    private_broker.start()
    private_broker.pause()
    replies: list[dict] = []

    def deposit_in_a_thread() -> None:
        try:
            replies.append(_deposit(client, bilal))
        finally:
            connection.close()

    thread = threading.Thread(target=deposit_in_a_thread)
    thread.start()
    thread.join(timeout=90)
    alive = thread.is_alive()
    private_broker.resume()
    assert not alive, "the deposit request hung on the unanswering broker"
    thread.join()
    assert replies[0]["status"] == 302 and "The deposit of Bilal is recorded." in replies[0]["page"]
    assert Invitation.objects.get(nomination=bilal).state == Invitation.State.QUEUED
    assert sink.count == 0

    # The broker answers again and a worker starts: its start-up sweep (and beat's) queue the
    # invitations again; each learner gets exactly one e-mail.
    workers.start()
    wait_until(
        lambda: Invitation.objects.filter(state=Invitation.State.SENT).count() == 2,
        timeout=90,
        what="both invitations SENT once the broker is back",
        workers=workers,
    )
    time.sleep(3)  # a sweep or two later, nothing more goes out
    assert sorted(sink.recipients()) == ["ayesha@example.pk", "bilal@example.pk"]


# --- A worker killed in the middle of one send ------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("killed_at", "messages"),
    [
        ("rcpt", 1),  # the claim is committed, the mail server has not taken the message: no duplicate
        ("quit", 2),  # the mail server took it, SENT is not written yet: the one duplicate, never a loss
    ],
)
def test_a_worker_killed_in_the_middle_of_a_send_loses_nothing(private_broker, workers, sink, killed_at, messages):
    phase = factories.make_phase(coursera_invitation_url="https://www.coursera.org/programs/dlsei")
    nomination = factories.make_seated_nomination(phase=phase, email="sana@example.pk")
    sink.stall_at = killed_at
    sink.release.clear()
    # The held conversation must not time out on the worker's side before the kill.
    workers.env["INVITATION_SMTP_TIMEOUT"] = "30"
    first = workers.start()
    nomination_settle(nomination=nomination, reason="Deposit recorded", actor=None)
    assert sink.stalled.wait(timeout=90), f"the send never reached the mail server:\n{workers.logs()}"
    assert Invitation.objects.get().state == Invitation.State.SENDING
    workers.kill(first)
    sink.release.set()
    assert sink.count == messages - 1

    workers.start()  # the lease expires, the sweep queues the invitation again, this worker sends it
    wait_until(
        lambda: Invitation.objects.filter(state=Invitation.State.SENT).exists(),
        timeout=90,
        what="the invitation SENT after the kill",
        workers=workers,
    )
    time.sleep(3)  # a sweep or two later, nothing more goes out
    assert sink.recipients() == ["sana@example.pk"] * messages
    invitation = Invitation.objects.get()
    assert list(invitation.attempt_rows.order_by("id").values_list("kind", "outcome")) == [
        ("first", "interrupted"),
        ("recovery", "sent"),
    ]
    assert Nomination.objects.get(pk=nomination.pk).activated_on is not None
