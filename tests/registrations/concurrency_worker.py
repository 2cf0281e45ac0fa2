"""One worker process of the concurrency tests (tests/registrations/test_concurrency.py).

Run as ``python concurrency_worker.py DB_NAME``. It sets Django up once with the project's
settings against that test database, then reads jobs, one JSON object a line, from stdin. For each
job it says it is ready (a file), waits for the starting signal (another file, so that every worker
starts at the same moment), does the job and prints one line: the JSON list of its results.

Jobs:
  submit   - nominations_submit for each nominee (the real service).
  file     - nominations_file_commit of one CSV holding every nominee (the real import).
  withdraw - nomination_withdraw of each nomination id.
  reclaim  - seats_reclaim of the nomination ids, as HEC staff on the unclaimed-seats page.
  unsafe   - the CONTROL: a deliberately wrong "count the seated rows, pause, then write" in two
             separate transactions, to show that the race the real code closes really exists.
"""

import json
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setup(db_name: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dlsei.settings")
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = db_name
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    import django

    django.setup()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _wait_for_start(job: dict) -> None:
    Path(job["ready_file"]).touch()
    go = Path(job["go_file"])
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            raise SystemExit("no start signal")
        time.sleep(0.002)


def _nominee(item: dict):
    import datetime

    from registrations.eligibility import NomineeData

    fields = dict(item)
    if fields.get("graduation_date"):
        fields["graduation_date"] = datetime.date.fromisoformat(fields["graduation_date"])
    return NomineeData(**fields)


def _submit(job: dict) -> list[dict]:
    from django.contrib.auth import get_user_model

    from quotas.models import Phase, University
    from registrations.exceptions import RegistrationError
    from registrations.services import nomination_submit
    from tests import factories

    phase = Phase.objects.get(pk=job["phase_id"])
    university = University.objects.get(pk=job["university_id"]) if job["university_id"] else None
    actor = get_user_model().objects.get(pk=job["actor_id"]) if job.get("actor_id") else None
    results = []
    for item in job["nominees"]:
        try:
            # An alumnus registers through their own (signed-up) account.
            who = actor or factories.make_user(email=item["email"])
            nomination = nomination_submit(phase=phase, university=university, data=_nominee(item), actor=who)
        except RegistrationError as error:
            results.append({"email": item["email"], "ok": False, "error": error.message})
        else:
            results.append({"email": item["email"], "ok": True, "id": nomination.pk, "status": nomination.status})
    return results


def _file(job: dict) -> list[dict]:
    from django.contrib.auth import get_user_model

    from core.tabular import write_csv
    from quotas.models import Phase, University
    from registrations.imports import COLUMNS, nominations_file_commit

    phase = Phase.objects.get(pk=job["phase_id"])
    university = University.objects.get(pk=job["university_id"])
    actor = get_user_model().objects.get(pk=job["actor_id"])
    rows = [
        [n["full_name"], n["cnic"], n["email"], n["phone"], n["role"], n["programme_years"] or "", "no", "", ""]
        for n in job["nominees"]
    ]
    report = nominations_file_commit(
        phase=phase, university=university, data=write_csv(rows, COLUMNS), filename="list.csv", actor=actor
    )
    return [
        {
            "email": row.email,
            "ok": row.outcome != "refused",
            "id": row.nomination_id,
            "status": row.outcome,
            "error": " ".join(row.errors),
        }  # fmt: skip
        for row in report.rows
    ]


def _withdraw(job: dict) -> list[dict]:
    from django.contrib.auth import get_user_model

    from registrations.models import Nomination
    from registrations.services import nomination_withdraw

    actor = get_user_model().objects.get(pk=job["actor_id"])
    results = []
    for pk in job["ids"]:
        nomination_withdraw(nomination=Nomination.objects.get(pk=pk), actor=actor, reason="Left the university")
        results.append({"id": pk, "ok": True})
    return results


def _reclaim(job: dict) -> list[dict]:
    from django.contrib.auth import get_user_model

    from dlsei.celery import app
    from registrations.reclaim import seats_reclaim

    app.conf.task_always_eager = True  # the e-mails go to this process's outbox, not to a broker
    actor = get_user_model().objects.get(pk=job["actor_id"])
    result = seats_reclaim(nominations=job["ids"], actor=actor)
    return [
        {
            "ok": True,
            "reclaimed": [n.pk for n in result.reclaimed],
            "promoted": [n.pk for n in result.promoted],
            "refused": result.refused,
        }
    ]


def _unsafe(job: dict) -> list[dict]:
    """NOT how registration works: the check and the write are separate, with a pause between."""
    from django.db import transaction

    from quotas.models import Quota
    from registrations.models import Nomination, NominationStatus

    quota = Quota.objects.select_related("phase").get(pk=job["quota_id"])
    results = []
    for item in job["nominees"]:
        with transaction.atomic():
            seated = Nomination.objects.filter(quota=quota, status=NominationStatus.SEATED).count()
        time.sleep(job["pause"])
        with transaction.atomic():
            free = seated < quota.licenses
            nomination = Nomination.objects.create(
                phase=quota.phase,
                quota=quota,
                university_id=quota.university_id,
                pool=quota.pool,
                role=item["role"],
                full_name=item["full_name"],
                cnic=item["cnic"].replace("-", ""),
                email=item["email"],
                status=NominationStatus.SEATED if free else NominationStatus.WAITING,
                seat_kind="general" if free else "",
                submitted_by_id=job["actor_id"],
            )
        results.append({"email": item["email"], "ok": True, "id": nomination.pk, "status": nomination.status})
    return results


def main() -> None:
    _setup(sys.argv[1])
    from django.db import connection

    for line in sys.stdin:
        job = json.loads(line)
        _wait_for_start(job)
        try:
            modes = {"submit": _submit, "file": _file, "withdraw": _withdraw, "reclaim": _reclaim, "unsafe": _unsafe}
            results = modes[job["mode"]](job)
        except Exception:
            results = [{"ok": False, "crash": traceback.format_exc()}]
        connection.close()  # the test database is flushed between tests
        print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
