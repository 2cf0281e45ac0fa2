"""Two reclaims of the same unclaimed seats at once (two HEC staff members, a double click): each
seat is reclaimed once and the next waiting nominee is promoted once.

Two real OS processes (tests/registrations/concurrency_worker.py, mode "reclaim") against the
real test database, SQLite or PostgreSQL as DATABASE_URL says, released together by one signal.
The rows they start from are committed (``transaction=True``) and built through the services.
"""

import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEntry
from quotas.models import Quota
from registrations.clearing import nomination_settle
from registrations.models import Invitation, Nomination, NominationStatus
from registrations.services import nomination_submit
from tests import factories
from tests.factories import disclaimer_on_file
from tests.factories import student_data as student
from tests.private_servers import REAL_PROCESSES

WORKER = Path(__file__).with_name("concurrency_worker.py")
SEATED, WAITING, RECLAIMED = NominationStatus.SEATED, NominationStatus.WAITING, NominationStatus.RECLAIMED

pytestmark = [pytest.mark.django_db(transaction=True), REAL_PROCESSES]


def run_together(tmp_path: Path, jobs: list[dict]) -> list[dict]:
    """Start one worker per job, release them at the same moment, and return each one's result."""
    connection.close()  # hold no connection (nor SQLite lock) while the workers run
    log = (tmp_path / "workers.log").open("w")
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(connection.settings_dict["NAME"])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            bufsize=1,
        )  # fmt: skip
        for _job in jobs
    ]
    try:
        for number, (proc, job) in enumerate(zip(procs, jobs, strict=True)):
            job = {**job, "ready_file": str(tmp_path / f"ready-{number}"), "go_file": str(tmp_path / "go")}
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
        deadline = time.monotonic() + 120
        while not all((tmp_path / f"ready-{n}").exists() for n in range(len(jobs))):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                pytest.fail("a worker did not start: " + (tmp_path / "workers.log").read_text()[-3000:])
            time.sleep(0.01)
        (tmp_path / "go").touch()
        outputs = []
        for proc in procs:
            line = proc.stdout.readline()
            assert line, "a worker died: " + (tmp_path / "workers.log").read_text()[-3000:]
            [result] = json.loads(line)
            assert "crash" not in result, result.get("crash")
            outputs.append(result)
        return outputs
    finally:
        for proc in procs:
            proc.stdin.close()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


@pytest.fixture
def scene(phase, university, focal, hec_staff):
    """QAU's 3 seats held by invited learners, two of them unclaimed (invited 40 days ago and never
    joined), and 3 nominees waiting."""
    disclaimer_on_file(phase=phase, university=university, user=focal)
    quota = factories.make_quota(phase=phase, university=university, licenses=3)
    phase.coursera_invitation_url = "https://www.coursera.org/programs/dlsei"
    phase.save(update_fields=["coursera_invitation_url"])
    seated = []
    for number in range(1, 4):
        nomination = nomination_submit(phase=phase, university=university, data=student(number), actor=focal)
        nomination_settle(nomination=nomination, reason="Deposit recorded", actor=focal)  # invited after commit
        seated.append(nomination)
    waiting = [
        nomination_submit(phase=phase, university=university, data=student(number), actor=focal)
        for number in range(4, 7)
    ]
    assert [n.status for n in waiting] == [WAITING] * 3
    assert Invitation.objects.filter(state=Invitation.State.SENT).count() == 3
    unclaimed = seated[:2]
    Invitation.objects.filter(nomination__in=unclaimed).update(sent_at=timezone.now() - datetime.timedelta(days=40))
    return quota, unclaimed, waiting


def assert_each_once(outputs: list[dict], *, reclaimed: list[int], promoted: list[int]) -> None:
    all_reclaimed = [pk for result in outputs for pk in result["reclaimed"]]
    all_promoted = [pk for result in outputs for pk in result["promoted"]]
    assert sorted(all_reclaimed) == sorted(reclaimed)  # each seat reclaimed by one process only
    assert sorted(all_promoted) == sorted(promoted)  # each waiting nominee promoted by one process only
    for pk in reclaimed:
        assert AuditEntry.objects.filter(action="nomination.reclaim", target_id=str(pk)).count() == 1
    for pk in promoted:
        assert AuditEntry.objects.filter(action="nomination.promote", target_id=str(pk)).count() == 1


def assert_quota_exact(quota: Quota) -> None:
    quota.refresh_from_db()
    seated = Nomination.objects.filter(quota=quota, status=SEATED).count()
    assert seated == quota.licenses == 3
    assert quota.general_seated + quota.disability_seated == seated


def test_two_reclaims_of_the_same_seat_at_once_reclaim_it_once(tmp_path, scene, hec_staff):
    quota, (seat, _other), waiting = scene
    outputs = run_together(tmp_path, [{"mode": "reclaim", "actor_id": hec_staff.pk, "ids": [seat.pk]}] * 2)

    assert_each_once(outputs, reclaimed=[seat.pk], promoted=[waiting[0].pk])
    refusals = [message for result in outputs for message in result["refused"]]
    assert refusals == [f"The seat of {seat.full_name} has already been reclaimed."]
    statuses = [Nomination.objects.get(pk=n.pk).status for n in waiting]
    assert statuses == [SEATED, WAITING, WAITING]
    assert_quota_exact(quota)


def test_two_reclaims_of_two_seats_in_opposite_orders_promote_the_next_two_once_each(tmp_path, scene, hec_staff):
    quota, (first, second), waiting = scene
    jobs = [
        {"mode": "reclaim", "actor_id": hec_staff.pk, "ids": [first.pk, second.pk]},
        {"mode": "reclaim", "actor_id": hec_staff.pk, "ids": [second.pk, first.pk]},
    ]
    outputs = run_together(tmp_path, jobs)

    assert_each_once(outputs, reclaimed=[first.pk, second.pk], promoted=[waiting[0].pk, waiting[1].pk])
    assert {Nomination.objects.get(pk=n.pk).status for n in (first, second)} == {RECLAIMED}
    statuses = [Nomination.objects.get(pk=n.pk).status for n in waiting]
    assert statuses == [SEATED, SEATED, WAITING]  # first come, first served: the earliest two
    assert_quota_exact(quota)
