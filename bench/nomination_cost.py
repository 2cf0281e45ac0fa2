#!/usr/bin/env python
"""Where one nomination's time goes, statement by statement, beside the one-insert ceiling.

    .venv/bin/python bench/nomination_cost.py [--requests 300]

Runs in one process against PostgreSQL (a scratch database, `dlsei_cost` unless
BENCH_DATABASE_URL says otherwise) with DEBUG off, through Django's test client: the same
middleware, view, form and service as a served request, without the network. For every SQL
statement of a request it records the time the process spent before it (building the query,
running the view's own code) and the time the statement itself took; the remainder after the last
statement is the response. Prints one JSON object: per kind of request (a focal person's
nomination, the ceiling view), the median microseconds of each step and of the whole request.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _label(sql: str) -> str:
    """A statement's kind: its verb and first table, e.g. ``SELECT quotas_quota``."""
    verb = sql.split(None, 1)[0].upper()
    # A SELECT's own table is the one of its first column (its subqueries have FROMs of their own).
    table = re.match(r'SELECT\s+(?:DISTINCT\s+)?"([a-z_]+)"\.', sql, re.I) or re.search(
        r'(?:FROM|INTO|UPDATE)\s+"?([a-z_]+)"?', sql, re.I
    )
    return f"{verb} {table.group(1) if table else ''}".strip()


def measure(client, path: str, payloads: list[dict]) -> dict:
    from django.db import connection

    steps: dict[str, list[float]] = {}
    totals, tails = [], []

    class Recorder:
        """Called around each statement: the time since the last one ended, and its own."""

        def __init__(self) -> None:
            self.marks: list[tuple[str, float, float]] = []
            self.last = time.perf_counter()

        def __call__(self, execute, sql, params, many, context):
            before = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                after = time.perf_counter()
                self.marks.append((_label(sql), before - self.last, after - before))
                self.last = after

    for payload in payloads:
        client.cookies.pop("messages", None)
        recorder = Recorder()
        started = recorder.last = time.perf_counter()
        with connection.execute_wrapper(recorder):
            response = client.post(path, payload, secure=True)
        ended = time.perf_counter()
        assert response.status_code in (200, 302), response.status_code
        totals.append(ended - started)
        tails.append(ended - recorder.last)
        for number, (label, python, database) in enumerate(recorder.marks, start=1):
            steps.setdefault(f"{number:02d} python before {label}", []).append(python)
            steps.setdefault(f"{number:02d} {label}", []).append(database)

    def micro(values: list[float]) -> int:
        return round(statistics.median(values) * 1_000_000)

    return {
        "request_us": micro(totals),
        "steps_us": {name: micro(values) for name, values in sorted(steps.items())},
        "after_last_statement_us": micro(tails),
        "statements": sum(1 for name in steps if " python before " not in name),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dlsei_cost")
    os.environ.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY="bench-" + "k" * 60,
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        EMAIL_URL="dummymail://",
        LOG_LEVEL="WARNING",
        BENCH_ENDPOINTS="1",
        VAR_DIR=os.environ.get("BENCH_VAR_DIR", "/tmp/dlsei-cost"),
        DJANGO_SETTINGS_MODULE="dlsei.settings",
    )
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from rush import recreate_database

    recreate_database(database_url)
    import django

    django.setup()
    from allauth.account.models import EmailAddress
    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from quotas.models import Quota, University
    from quotas.services import phase_create
    from registrations.models import Disclaimer, FocalPerson
    from registrations.roles import roles_ensure

    call_command("migrate", verbosity=0)
    roles_ensure()
    run = uuid.uuid4().hex[:6]
    phase = phase_create(slug=f"cost-{run}", launch=timezone.localdate())
    phase.registration_opens_at = timezone.now()
    phase.save(update_fields=["registration_opens_at"])
    university = University.objects.create(code=f"C{run}", name="Cost University", sector="public", enrolment=10_000)
    # Half the nominations find a seat, half the waiting list, as on registration day.
    Quota.objects.create(phase=phase, university=university, pool="public", licenses=args.requests // 2 + 10)
    from django.contrib.auth import get_user_model

    focal = get_user_model().objects.create_user(username=f"focal-{run}", email=f"focal-{run}@cost.bench")
    EmailAddress.objects.create(user=focal, email=focal.email, verified=True, primary=True)
    FocalPerson.objects.create(user=focal, university=university)
    Disclaimer.objects.create(
        phase=phase, university=university, uploaded_by=focal, file=ContentFile(b"%PDF-1.4\n%%EOF\n", name="d.pdf")
    )
    client = Client()
    client.force_login(focal)

    def nominees(first: int, count: int) -> list[dict]:
        return [
            {
                "full_name": f"Nominee {n}",
                "cnic": f"{3_000_000_000_000 + n:013d}",
                "email": f"n{n}-{run}@cost.bench",
                "phone": "03001234567",
                "role": "student",
                "programme_years": "16",
            }
            for n in range(first, first + count)
        ]

    measure(client, "/registrations/focal/nominees/add/", nominees(0, 10))  # warm: imports, catalogues
    measure(client, "/bench/ceiling/", [{}] * 10)
    result = {
        "nomination": measure(client, "/registrations/focal/nominees/add/", nominees(100, args.requests)),
        "ceiling": measure(client, "/bench/ceiling/", [{}] * args.requests),
        "loadavg": Path("/proc/loadavg").read_text().split()[0],
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
