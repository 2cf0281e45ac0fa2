"""The central promise: under simultaneous requests no quota is exceeded and no nomination is lost.

Real OS processes (tests/registrations/concurrency_worker.py) run against the real test
database: SQLite when DATABASE_URL is unset, PostgreSQL when it is set; the same tests run on
both. The rows the test writes are committed (``transaction=True``) so the workers see them, and
all workers start at one signal so their requests really overlap.

The control test runs a deliberately unsafe "count, pause, write" variant with the same processes
and shows that the quota IS exceeded then: the real tests are known to be able to fail.
"""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, transaction

from core.tabular import write_csv
from quotas.models import Quota
from registrations.imports import COLUMNS, nominations_file_commit
from registrations.models import ACTIVE_STATUSES, Nomination, NominationStatus
from registrations.services import RegistrationError, nomination_submit, nomination_withdraw
from tests import factories
from tests.factories import alumnus_data as alumnus
from tests.factories import disclaimer_on_file
from tests.factories import student_data as student
from tests.private_servers import REAL_PROCESSES

WORKER = Path(__file__).with_name("concurrency_worker.py")
PROCESSES = 8
EACH = 15
SEATS = 50
SEATED, WAITING = NominationStatus.SEATED, NominationStatus.WAITING

pytestmark = [pytest.mark.django_db(transaction=True), REAL_PROCESSES]


def _as_job_nominee(data) -> dict:
    fields = {name: getattr(data, name) for name in data.__dataclass_fields__}
    if fields["graduation_date"] is not None:
        fields["graduation_date"] = fields["graduation_date"].isoformat()
    return fields


class WorkerPool:
    """PROCESSES worker processes, started once for the module (starting Django takes seconds)."""

    def __init__(self, *, db_name: str, log_dir: Path):
        self.log = log_dir / "workers.log"
        self._log_file = self.log.open("w")
        self.procs = [
            subprocess.Popen(
                [sys.executable, str(WORKER), db_name],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log_file,
                text=True,
                bufsize=1,
            )
            for _ in range(PROCESSES)
        ]

    def run(self, tmp_path: Path, jobs: list[dict]) -> list[list[dict]]:
        """Give each worker its job, release them together, and return each one's results."""
        assert len(jobs) == len(self.procs)
        connection.close()  # hold no connection (nor SQLite lock) while the workers run
        for number, (proc, job) in enumerate(zip(self.procs, jobs, strict=True)):
            job = {**job, "ready_file": str(tmp_path / f"ready-{number}"), "go_file": str(tmp_path / "go")}
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
        deadline = time.monotonic() + 120
        while not all((tmp_path / f"ready-{n}").exists() for n in range(len(jobs))):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                pytest.fail("a worker did not start: " + self.log.read_text()[-3000:])
            time.sleep(0.01)
        (tmp_path / "go").touch()
        outputs = []
        for proc in self.procs:
            line = proc.stdout.readline()
            assert line, "a worker died: " + self.log.read_text()[-3000:]
            results = json.loads(line)
            crashes = [r["crash"] for r in results if "crash" in r]
            assert not crashes, crashes[0]
            outputs.append(results)
        return outputs

    def close(self) -> None:
        for proc in self.procs:
            proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._log_file.close()


@pytest.fixture(scope="module")
def workers(django_db_setup, tmp_path_factory):
    pool = WorkerPool(db_name=str(connection.settings_dict["NAME"]), log_dir=tmp_path_factory.mktemp("workers"))
    yield pool
    pool.close()


def assert_quota_exact(quota: Quota, *, seats: int) -> tuple[list[int], list[int]]:
    """Never more seated than licenses, the counter equal to the seated rows; ids of seated and waiting."""
    quota.refresh_from_db()
    seated = list(Nomination.objects.filter(quota=quota, status=SEATED).order_by("id").values_list("id", flat=True))
    waiting = list(Nomination.objects.filter(quota=quota, status=WAITING).order_by("id").values_list("id", flat=True))
    assert len(seated) == seats
    assert quota.general_seated + quota.disability_seated == len(seated)
    return seated, waiting


def assert_nothing_lost(outputs: list[list[dict]]) -> list[dict]:
    accepted = [r for results in outputs for r in results if r["ok"]]
    rows = dict(Nomination.objects.filter(pk__in=[r["id"] for r in accepted]).values_list("id", "status"))
    for reply in accepted:
        assert rows.get(reply["id"]) == reply["status"], reply  # every accepted reply has its row, as told
    return accepted


@pytest.fixture
def crowd(phase, university, focal):
    disclaimer_on_file(phase=phase, university=university, user=focal)
    return factories.make_quota(phase=phase, university=university, licenses=SEATS)


def test_many_processes_nominating_at_once_never_exceed_the_quota_nor_lose_anyone(
    workers, tmp_path, phase, university, focal, crowd
):
    # Half the processes add nominees one by one, half upload a file of them: both count.
    jobs = [
        {
            "mode": "file" if p % 2 else "submit",
            "phase_id": phase.pk,
            "university_id": university.pk,
            "actor_id": focal.pk,
            "nominees": [_as_job_nominee(student(1000 * (p + 1) + i)) for i in range(EACH)],
        }
        for p in range(PROCESSES)
    ]
    outputs = workers.run(tmp_path, jobs)

    accepted = assert_nothing_lost(outputs)
    assert len(accepted) == PROCESSES * EACH  # nobody refused, nobody lost
    seated, waiting = assert_quota_exact(crowd, seats=SEATS)
    assert len(waiting) == PROCESSES * EACH - SEATS
    # First come, first served: every seated nomination arrived before every waiting one.
    assert max(seated) < min(waiting)

    # A freed seat goes to the earliest waiting nomination.
    nomination_withdraw(nomination=Nomination.objects.get(pk=seated[0]), actor=focal, reason="Left")
    nomination_withdraw(nomination=Nomination.objects.get(pk=seated[1]), actor=focal, reason="Left")
    promoted = set(Nomination.objects.filter(pk__in=waiting[:3], status=SEATED).values_list("id", flat=True))
    assert promoted == set(waiting[:2])
    assert_quota_exact(crowd, seats=SEATS)


def test_many_alumni_registering_at_once_never_exceed_the_pool(workers, tmp_path, phase):
    pool = factories.make_quota(phase=phase, university=None, licenses=SEATS)
    jobs = [
        {
            "mode": "submit",
            "phase_id": phase.pk,
            "university_id": None,
            "actor_id": None,
            "nominees": [_as_job_nominee(alumnus(1000 * (p + 1) + i)) for i in range(EACH)],
        }
        for p in range(PROCESSES)
    ]
    outputs = workers.run(tmp_path, jobs)

    accepted = assert_nothing_lost(outputs)
    assert len(accepted) == PROCESSES * EACH
    seated, waiting = assert_quota_exact(pool, seats=SEATS)
    assert max(seated) < min(waiting)
    assert not Nomination.objects.filter(status=SEATED, hold_expires_at__isnull=True).exists()


def test_control_without_the_conditional_update_the_quota_is_exceeded(workers, tmp_path, phase, focal, crowd):
    """The same processes with the check and the write apart: this is the bug the real code cannot have."""
    jobs = [
        {
            "mode": "unsafe",
            "quota_id": crowd.pk,
            "actor_id": focal.pk,
            "pause": 0.02,
            "nominees": [_as_job_nominee(student(1000 * (p + 1) + i)) for i in range(EACH)],
        }
        for p in range(PROCESSES)
    ]
    workers.run(tmp_path, jobs)
    seated = Nomination.objects.filter(quota=crowd, status=SEATED).count()
    assert seated > SEATS, f"the unsafe variant seated {seated}, expected an oversubscription"


def test_the_same_person_sent_by_two_universities_at_once_is_active_only_once(
    workers, tmp_path, phase, university, other_university, focal, other_focal, crowd, other_quota
):
    # Every process sends the same 15 people (same CNICs, each process its own e-mails), half of
    # them through one university and half through the other.
    jobs = []
    for p in range(PROCESSES):
        through_other = p % 2 == 1
        nominees = [_as_job_nominee(student(2000 + i, email=f"p{p}-person{i}@example.pk")) for i in range(EACH)]
        jobs.append(
            {
                "mode": "submit",
                "phase_id": phase.pk,
                "university_id": (other_university if through_other else university).pk,
                "actor_id": (other_focal if through_other else focal).pk,
                "nominees": nominees,
            }
        )
    outputs = workers.run(tmp_path, jobs)

    accepted = assert_nothing_lost(outputs)
    assert len(accepted) == EACH  # one per person, whoever came first
    for i in range(EACH):
        cnic = student(2000 + i).cnic.replace("-", "")
        assert Nomination.objects.filter(phase=phase, cnic=cnic, status__in=ACTIVE_STATUSES).count() == 1
    refusals = [r["error"] for results in outputs for r in results if not r["ok"]]
    assert len(refusals) == (PROCESSES - 1) * EACH
    assert all("already" in message and "registered" in message or "nominated" in message for message in refusals)
    for quota in (crowd, other_quota):
        quota.refresh_from_db()
        assert quota.general_seated == Nomination.objects.filter(quota=quota, status=SEATED).count()


def test_withdrawals_and_new_nominations_at_once_promote_the_earliest_waiting(
    workers, tmp_path, phase, university, focal, crowd
):
    first = [nomination_submit(phase=phase, university=university, data=student(3000 + i), actor=focal)
             for i in range(SEATS + 30)]  # fmt: skip
    seated = [n.pk for n in first[:SEATS]]
    waiting = [n.pk for n in first[SEATS:]]
    withdrawers = [
        {"mode": "withdraw", "actor_id": focal.pk, "ids": seated[5 * p : 5 * p + 5]} for p in range(PROCESSES // 2)
    ]
    newcomers = [
        {
            "mode": "submit",
            "phase_id": phase.pk,
            "university_id": university.pk,
            "actor_id": focal.pk,
            "nominees": [_as_job_nominee(student(4000 + 100 * p + i)) for i in range(10)],
        }
        for p in range(PROCESSES // 2)
    ]
    outputs = workers.run(tmp_path, withdrawers + newcomers)

    withdrawn = 5 * (PROCESSES // 2)
    accepted = assert_nothing_lost(outputs[PROCESSES // 2 :])
    assert all(reply["status"] == WAITING for reply in accepted)  # earlier waiters take the freed seats
    now_seated, now_waiting = assert_quota_exact(crowd, seats=SEATS)
    assert set(now_seated) == set(seated[withdrawn:]) | set(waiting[:withdrawn])
    assert now_waiting[: 30 - withdrawn] == waiting[withdrawn:]


def _hold_uncommitted_nomination(*, phase, university, actor, data, seconds: float) -> threading.Thread:
    """Another request, in a thread with its own connection, inserts a nomination and keeps its
    transaction open for a while: PostgreSQL's check cannot see the row, only the unique index can."""
    inserted = threading.Event()

    def first() -> None:
        try:
            with transaction.atomic():
                nomination_submit(phase=phase, university=university, data=data, actor=actor)
                inserted.set()
                time.sleep(seconds)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert inserted.wait(30)
    return thread


def test_a_duplicate_that_loses_the_race_at_the_database_gets_the_same_clear_message(
    phase, university, other_university, focal, other_focal, crowd, other_quota
):
    person = student(1)
    thread = _hold_uncommitted_nomination(phase=phase, university=university, actor=focal, data=person, seconds=1)
    try:
        with pytest.raises(RegistrationError) as refused:
            nomination_submit(phase=phase, university=other_university, data=student(2, cnic=person.cnic),
                              actor=other_focal)  # fmt: skip
    finally:
        thread.join()
    assert "already registered in this phase through another university or the alumni pool" in refused.value.message
    assert Nomination.objects.filter(cnic=person.cnic.replace("-", "")).count() == 1
    other_quota.refresh_from_db()
    assert other_quota.general_seated == 0  # the seat it took was given back with the failed insert


def test_a_file_whose_row_loses_a_duplicate_race_still_commits_its_other_rows(
    phase, university, other_university, focal, other_focal, crowd, other_quota
):
    person = student(1)
    thread = _hold_uncommitted_nomination(phase=phase, university=university, actor=focal, data=person, seconds=1)
    rows = [
        [n.full_name, n.cnic, n.email, n.phone, "student", "16", "no"]
        for n in (student(2, cnic=person.cnic), student(3))
    ]
    try:
        report = nominations_file_commit(phase=phase, university=other_university, data=write_csv(rows, COLUMNS[:7]),
                                         filename="list.csv", actor=other_focal)  # fmt: skip
    finally:
        thread.join()
    assert [r.outcome for r in report.rows] == ["refused", "seated"]
    assert "through another university or the alumni pool" in report.rows[0].errors[0]
    assert list(Nomination.objects.filter(university=other_university).values_list("email", flat=True)) == [
        student(3).email
    ]
    other_quota.refresh_from_db()
    assert other_quota.general_seated == 1
