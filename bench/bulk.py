#!/usr/bin/env python
"""Bulk work that HEC staff and focal persons wait for, timed on PostgreSQL.

    .venv/bin/python bench/bulk.py [--baseline-rows N]

(a) upload_650: a 650-row nominations file through the browser path (upload + preview page,
    then confirm), as a signed-in focal person, with Django's test client in this process.
(b) completions_100k: a 100,000-row Coursera completion report through `completions_import`,
    beside django-import-export's default row-by-row import of the same rows and PostgreSQL COPY
    of them into a bare table (the physical limit).
(c) refunds_24k: `refunds_decide` over 24,000 public learners with deposits.
(d) invitations_24k: a paid private invoice clearing 24,000 learners at once: outbox rows and
    the fan-out messages (one per INVITATION_FANOUT_CHUNK invitations) queued on the Redis broker
    (no worker consumes them here; `broker_messages` counts them).

Prints one JSON object. Uses a scratch database it creates (`dlsei_bulk`, or BENCH_DATABASE_URL).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPLETION_ROWS = int(os.environ.get("BENCH_COMPLETION_ROWS", "100000"))
LEARNERS = int(os.environ.get("BENCH_LEARNERS", "24000"))
TINY_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def configure(database_url: str, redis_url: str) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DEBUG="0",
        SECRET_KEY="bench-" + "k" * 60,
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        EMAIL_URL="dummymail://",
        VAR_DIR=os.environ.get("BENCH_VAR_DIR", "/tmp/dlsei-bulk"),
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="dlsei.settings",
    )
    sys.path.insert(0, str(ROOT))
    import psycopg2
    from psycopg2 import sql

    name = database_url.rsplit("/", 1)[1]
    admin = psycopg2.connect(database_url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


CPU_SECONDS: dict[str, float] = {}


def timed(work, name: str = "") -> tuple[float, object]:
    """Wall-clock seconds of `work`; its CPU seconds in this process (Python's share, which other
    work on the machine slows less than the wall clock) are kept in CPU_SECONDS under `name`."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = work()
    seconds = round(time.perf_counter() - started, 3)
    if name:
        CPU_SECONDS[name] = round(time.process_time() - cpu_started, 3)
    print(f"  {name or getattr(work, '__name__', 'work')}: {seconds} s", file=sys.stderr, flush=True)
    return seconds, result


def learners(*, phase, university, quota, count: int, status: str = "seated", prefix: str):
    """Seated nominations made in bulk: the benchmarks time what happens to them, not their making."""
    from django.contrib.auth import get_user_model

    from registrations.models import Nomination

    staff = get_user_model().objects.get(username="bench-staff")
    rows = [
        Nomination(
            phase=phase,
            quota=quota,
            university=university,
            pool=quota.pool,
            role="student",
            full_name=f"Learner {prefix}{n}",
            cnic=f"{(ord(prefix[0]) % 9 + 1) * 10**12 + n:013d}",  # str hashes vary per run
            email=f"{prefix}{n}@learners.bench",
            programme_years=16,
            status=status,
            seat_kind="general" if status == "seated" else "",
            submitted_by=staff,
            activated_on=phase.launch_date,
        )
        for n in range(count)
    ]
    return Nomination.objects.bulk_create(rows, batch_size=5000)


def bench_upload(phase, staff) -> dict:
    from django.test import Client

    from quotas.models import Quota, University
    from registrations.models import Disclaimer, FocalPerson, Nomination
    from tests.factories import make_user

    university = University.objects.create(code="BULKU", name="Bulk University", sector="public", enrolment=50_000)
    Quota.objects.create(phase=phase, university=university, pool="public", licenses=700)
    focal = make_user(email="focal@bulk.bench")
    FocalPerson.objects.create(user=focal, university=university)
    from django.core.files.base import ContentFile

    Disclaimer.objects.create(
        phase=phase, university=university, uploaded_by=focal, file=ContentFile(TINY_PDF, "d.pdf")
    )
    lines = ["full_name,cnic,email,phone,role,programme_years,disability,deposit_receipt,deposit_date"]
    for n in range(650):
        lines.append(
            f"Student {n},{4_220_100_000_000 + n:013d},s{n}@bulk.bench,03001234567,student,16,no,R-{n},2021-09-10"
        )
    data = ("\n".join(lines) + "\n").encode()
    client = Client()
    client.force_login(focal)
    # A served process has loaded its middleware (WhiteNoise indexes the static files) before
    # the focal person's first request; the client does that on its first request, so that one
    # is not timed.
    assert client.get("/registrations/focal/upload/").status_code == 200
    steps: dict[str, float] = {}

    def step(name, request):
        started = time.perf_counter()
        response = request()
        steps[name] = round(time.perf_counter() - started, 3)
        return response

    def upload_and_confirm():
        preview = step("upload", lambda: client.post("/registrations/focal/upload/", {"file": io.BytesIO(data)}))
        assert preview.status_code == 302, preview.status_code
        page = step("preview", lambda: client.get(preview["Location"]))
        assert page.status_code == 200
        upload_id = int(preview["Location"].rstrip("/").rsplit("/", 1)[1])
        confirmed = step("confirm", lambda: client.post(f"/fees/nominations/{upload_id}/confirm/"))
        assert confirmed.status_code == 302, confirmed.status_code

    queued_before = broker_queue_length()
    seconds, _ = timed(upload_and_confirm, "upload_650")
    seated = Nomination.objects.filter(university=university, status="seated").count()
    return {
        "seconds": seconds,
        "steps": steps,
        "rows": 650,
        "seated": seated,
        "broker_messages": broker_queue_length() - queued_before,
        "target_seconds": 1.5,
    }


def broker_queue_length() -> int:
    from dlsei.celery import app

    with app.connection_for_write() as connection:
        return connection.default_channel.client.llen(app.conf.task_default_queue)


def completions_csv(phase, nominations, rows: int) -> bytes:
    header = (
        "Name,Email,External Id,Course,Course Slug,Course Type,Enrollment Time,Completed,Completion Time,"
        "Course Certificate URL,Learning Hours"
    )
    out = [header]
    for n in range(rows):
        nomination = nominations[n % len(nominations)]
        course = n // len(nominations)
        done = "Yes" if n % 5 else "No"
        out.append(
            f"{nomination.full_name},{nomination.email.upper() if n % 2 else nomination.email},"
            f"DLSEI-{phase.pk}-{nomination.pk},Course {course},course-{course},Course,2021-10-01 10:00:00 UTC,"
            f"{done},{'2022-01-15 09:30:00 UTC' if done == 'Yes' else ''},https://coursera.org/verify/{n},12.5"
        )
    return ("\n".join(out) + "\n").encode()


def bench_completions(phase, staff, nominations, baseline_rows: int) -> dict:
    import tablib
    from django.db import connection, transaction
    from import_export import resources

    from fees.completions import completions_import
    from fees.models import CourseCompletion

    data = completions_csv(phase, nominations, COMPLETION_ROWS)
    seconds, record = timed(
        lambda: completions_import(phase=phase, data=data, filename="report.csv", actor=staff), "completions_100k"
    )

    # django-import-export's default: a ModelResource importing row by row (each row looked up,
    # validated and saved on its own), the way a stock admin import would.
    class CompletionRowResource(resources.ModelResource):
        class Meta:
            model = CourseCompletion
            fields = [
                "nomination",
                "course_key",
                "course_name",
                "course_type",
                "completed_at",
                "completed_on",
                "certificate_url",
                "first_seen_import",
            ]
            import_id_fields = ["nomination", "course_key"]

    dataset = tablib.Dataset(headers=CompletionRowResource.Meta.fields)
    baseline_source = completions_csv(phase, nominations, baseline_rows).decode().splitlines()[1:]
    for line in baseline_source:
        cells = line.split(",")
        if cells[7] != "Yes":
            continue
        nomination_id = int(cells[2].rsplit("-", 1)[1])
        dataset.append(
            [
                nomination_id,
                cells[4] + "-rowwise",
                cells[3],
                cells[5],
                "2022-01-15 09:30:00",
                "2022-01-15",
                cells[9],
                record.pk,
            ]
        )
    baseline_seconds, _ = timed(lambda: CompletionRowResource().import_data(dataset, raise_errors=True))
    scale = COMPLETION_ROWS / baseline_rows

    copy_buffer = io.StringIO()
    for line in data.decode().splitlines()[1:]:
        copy_buffer.write(line.replace("\t", " ").replace(",", "\t") + "\n")

    def copy():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE completion_copy (name text, email text, external_id text, course text, slug text,"
                " type text, enrolled text, completed text, completed_at text, url text, hours text) ON COMMIT DROP"
            )
            copy_buffer.seek(0)
            cursor.copy_expert("COPY completion_copy FROM STDIN", copy_buffer)

    copy_seconds, _ = timed(copy)
    baseline_full = round(baseline_seconds * scale, 3)
    return {
        "seconds": seconds,
        "rows": COMPLETION_ROWS,
        "new_completions": record.new_completions,
        "baseline_seconds": baseline_full,
        "baseline_measured_rows": baseline_rows,
        "baseline_extrapolated": baseline_rows != COMPLETION_ROWS,
        "ratio": round(baseline_full / seconds, 1),
        "copy_seconds": copy_seconds,
        "copy_ratio": round(seconds / copy_seconds, 1),
        "target_ratio": 20,
    }


def bench_refunds(phase, staff) -> dict:
    from fees.models import Deposit
    from fees.refunds import refunds_decide
    from quotas.license_year import license_year_end
    from registrations.models import Nomination

    cases = Nomination.objects.filter(phase=phase, university__code="BULKR")
    Deposit.objects.bulk_create(
        [
            Deposit(
                nomination_id=pk,
                amount=phase.public_deposit_rupees,
                receipt=f"R{pk}",
                paid_on=phase.launch_date,
                recorded_by=staff,
            )
            for pk in cases.values_list("pk", flat=True)
        ],
        batch_size=5000,
    )
    as_of = license_year_end(activated_on=phase.launch_date, years=phase.license_years) + dt.timedelta(days=1)
    seconds, decisions = timed(lambda: refunds_decide(phase=phase, as_of=as_of, actor=staff), "refunds_24k")
    by_kind: dict[str, int] = {}
    for decision in decisions:
        by_kind[decision.decision] = by_kind.get(decision.decision, 0) + 1
    return {"seconds": seconds, "learners": cases.count(), "decisions": by_kind, "target_seconds": 3}


def bench_invitations(phase, staff) -> dict:
    from quotas.models import Quota, University
    from registrations.clearing import university_settle
    from registrations.models import Invitation

    university = University.objects.create(code="BULKP", name="Bulk Private", sector="private", enrolment=90_000)
    quota = Quota.objects.create(phase=phase, university=university, pool="private", licenses=LEARNERS)
    learners(phase=phase, university=university, quota=quota, count=LEARNERS, prefix="p")
    Quota.objects.filter(pk=quota.pk).update(general_seated=LEARNERS)
    queued_before = broker_queue_length()
    seconds, settled = timed(
        lambda: university_settle(phase=phase, university=university, reason="invoice paid", actor=staff),
        "invitations_24k",
    )
    return {
        "seconds": seconds,
        "learners": settled,
        "outbox_rows": Invitation.objects.filter(nomination__university=university).count(),
        "broker_messages": broker_queue_length() - queued_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--baseline-rows",
        type=int,
        default=20_000,
        help="rows for the row-by-row baseline (scaled to 100,000; pass 100000 to run it whole)",
    )
    args = parser.parse_args()
    configure(
        os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dlsei_bulk"),
        os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
    )
    from django.contrib.auth import get_user_model

    from dlsei.celery import app
    from quotas.models import Quota, University
    from quotas.services import phase_create

    app.conf.task_always_eager = False
    with app.connection_for_write() as connection:
        connection.default_channel.client.flushdb()
    staff = get_user_model().objects.create_user(username="bench-staff", email="staff@bulk.bench", is_staff=True)
    phase = phase_create(
        slug="bulk", launch=dt.date(2021, 9, 9), coursera_invitation_url="https://www.coursera.org/programs/dlsei"
    )
    load_before = os.getloadavg()
    results = {"upload_650": bench_upload(phase, staff)}

    university = University.objects.create(code="BULKR", name="Bulk Refunds", sector="public", enrolment=900_000)
    quota = Quota.objects.create(phase=phase, university=university, pool="public", licenses=LEARNERS)
    nominations = learners(phase=phase, university=university, quota=quota, count=LEARNERS, prefix="r")
    results["completions_100k"] = bench_completions(phase, staff, nominations, args.baseline_rows)
    results["refunds_24k"] = bench_refunds(phase, staff)
    results["invitations_24k"] = bench_invitations(phase, staff)
    for name, cpu_seconds in CPU_SECONDS.items():
        results[name]["cpu_seconds"] = cpu_seconds
    results["cpus"] = os.cpu_count()
    # Other work on the machine slows every figure; the load says how much.
    results["loadavg_before"] = [round(n, 2) for n in load_before]
    results["loadavg_after"] = [round(n, 2) for n in os.getloadavg()]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
