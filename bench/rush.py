#!/usr/bin/env python
"""Registration day: C clients submit nominations and alumni registrations at the same moment.

    .venv/bin/python bench/rush.py [--clients 16,64,256]

Starts the portal under gunicorn on 127.0.0.1 against PostgreSQL (a scratch database it creates,
`dlsei_bench` unless BENCH_DATABASE_URL says otherwise), prepares a phase per round with many
universities whose quotas are small enough that the waiting lists fill, then from a separate
client process fires every client at once. After each round it counts in the database what the
replies claimed, and runs the same clients against a minimal logged-in view that inserts one
row (the framework's ceiling on this machine). Prints one JSON object per client count.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


# --- the parent: database, server, rounds -------------------------------------------------


def server_env(database_url: str, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "EMAIL_URL"}}
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY="bench-" + "k" * 60,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        BENCH_ENDPOINTS="1",
        EMAIL_URL="dummymail://",
        VAR_DIR=str(var_dir),
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def recreate_database(database_url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    name = database_url.rsplit("/", 1)[1]
    admin = psycopg2.connect(database_url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def child(mode: str, env: dict[str, str], payload: dict | None = None) -> dict:
    result = subprocess.run(
        [PYTHON, __file__, f"--{mode}"],
        input=json.dumps(payload or {}),
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="16,64,256")
    parser.add_argument("--universities", type=int, default=40)
    parser.add_argument("--seats", type=int, default=6, help="licenses per university quota")
    parser.add_argument("--alumni-seats", type=int, default=20)
    parser.add_argument("--requests", type=int, default=4, help="nominations per focal-person client")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (above 1: gthread)")
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dlsei_bench")
    var_dir = Path(os.environ.get("BENCH_VAR_DIR", "/tmp/dlsei-bench"))
    var_dir.mkdir(parents=True, exist_ok=True)
    env = server_env(database_url, var_dir)
    recreate_database(database_url)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)

    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(PYTHON).with_name("gunicorn")),
            "dlsei.wsgi:application",
            f"--workers={args.workers}",
            f"--threads={args.threads}",
            f"--bind=127.0.0.1:{port}",
            "--timeout=60",
            "--log-level=warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )

    def round_plan(clients: int) -> dict:
        spec = {
            "clients": clients,
            "universities": args.universities,
            "seats": args.seats,
            "alumni_seats": args.alumni_seats,
            "requests": args.requests,
        }
        return child("setup", env, spec)

    def ceiling_plan(plan: dict) -> list[dict]:
        """The same clients, sessions and number of requests, each one the one-row view."""
        request = {"path": "/bench/ceiling/", "kind": "ceiling", "fields": {}, "accepted_status": 200}
        return [{"cookies": c["cookies"], "requests": [request] * len(c["requests"])} for c in plan["clients"]]

    try:
        wait_for(port)
        # An unmeasured round first, so that every worker has served both kinds of request once
        # (imports, URL resolver, templates, catalogues, database connection): the rounds below
        # then compare warm workers with warm workers, as the ceiling always did.
        warm = round_plan(8 * args.workers)
        child("drive", env, {"port": port, "clients": warm["clients"]})
        child("drive", env, {"port": port, "clients": ceiling_plan(warm)})
        for clients in [int(c) for c in args.clients.split(",")]:
            plan = round_plan(clients)
            rush = child("drive", env, {"port": port, "clients": plan["clients"]})
            counted = child("verify", env, {"phase": plan["phase"], "accepted": rush["accepted"]})
            ceiling = child("drive", env, {"port": port, "clients": ceiling_plan(plan)})
            print(
                json.dumps(
                    {
                        "clients": clients,
                        "attempts": rush["attempts"],
                        "seated": counted["seated"],
                        "waiting": counted["waiting"],
                        "errors": rush["errors"],
                        "refused": rush["refused"],
                        "oversubscribed": counted["oversubscribed"],
                        "lost": counted["lost"],
                        "throughput_rps": rush["throughput_rps"],
                        "p50_ms": rush["p50_ms"],
                        "p95_ms": rush["p95_ms"],
                        "p99_ms": rush["p99_ms"],
                        "baseline_rps": ceiling["throughput_rps"],
                        "baseline_p99_ms": ceiling["p99_ms"],
                        "ratio": round(rush["throughput_rps"] / ceiling["throughput_rps"], 3)
                        if ceiling["throughput_rps"]
                        else None,
                        "statements": rush["statements"] | ceiling["statements"],
                        "gunicorn_workers": args.workers,
                        "gunicorn_threads": args.threads,
                        "loadavg": Path("/proc/loadavg").read_text().split()[0],
                        "cpus": os.cpu_count(),
                    }
                ),
                flush=True,
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


# --- children that run inside Django: setup and verify --------------------------------------


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dlsei.settings")
    import django

    django.setup()


def setup_round(spec: dict) -> dict:
    """A fresh phase with small quotas, disclaimers, focal persons and alumni with live sessions."""
    _django()
    from allauth.account.models import EmailAddress
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.files.base import ContentFile
    from django.urls import reverse
    from django.utils import timezone

    from quotas.models import Quota, University
    from quotas.services import phase_create
    from registrations.models import Disclaimer, FocalPerson
    from registrations.roles import roles_ensure

    User = get_user_model()
    roles_ensure()  # as on a real server: new learners join the Learner group
    run = uuid.uuid4().hex[:6]
    phase = phase_create(slug=f"rush-{spec['clients']}-{run}", launch=timezone.localdate())
    phase.registration_opens_at = timezone.now()
    phase.save(update_fields=["registration_opens_at"])

    def session_for(user) -> dict[str, str]:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return {"sessionid": store.session_key, "csrftoken": uuid.uuid4().hex}

    def user(email: str):
        account, _ = User.objects.get_or_create(username=email, defaults={"email": email})
        EmailAddress.objects.get_or_create(user=account, email=email, defaults={"verified": True, "primary": True})
        return account

    focal = []
    for n in range(spec["universities"]):
        university, _ = University.objects.get_or_create(
            code=f"RUSH{n:03d}", defaults={"name": f"Rush University {n}", "sector": "public", "enrolment": 10_000}
        )
        Quota.objects.create(phase=phase, university=university, pool="public", licenses=spec["seats"])
        account = user(f"focal{n}@rush.bench")
        FocalPerson.objects.get_or_create(user=account, defaults={"university": university})
        Disclaimer.objects.create(
            phase=phase, university=university, uploaded_by=account, file=ContentFile(TINY_PDF, name="disclaimer.pdf")
        )
        focal.append(account)
    Quota.objects.create(phase=phase, university=None, pool="alumni", licenses=spec["alumni_seats"])

    # A view answers 302 when it took the nomination (seat or waiting list), 400 when it refused.
    nominate = reverse("registrations:focal_nominee_add")
    register = reverse("registrations:alumni_register")
    graduated = (phase.alumni_graduated_until).isoformat()
    clients = []
    for i in range(spec["clients"]):
        if i % 4 == 3:  # every fourth client is an alumnus registering once
            email = f"alumnus{i}-{run}@rush.bench"
            clients.append(
                {
                    "cookies": session_for(user(email)),
                    "requests": [
                        {
                            "path": register,
                            "kind": "alumni_registration",
                            "email": email,
                            "fields": {
                                "full_name": f"Alumnus {i}",
                                "cnic": f"{9_000_000_000_000 + i * 1000 + int(run, 16) % 997:013d}",
                                "phone": "03001234567",
                                "graduated_from": "Rush University",
                                "degree": "BS",
                                "graduation_date": graduated,
                            },
                            "files": {"transcript": ["transcript.pdf", "application/pdf"]},
                        }
                    ],
                }
            )
            continue
        account = focal[i % len(focal)]
        requests = []
        for r in range(spec["requests"]):
            email = f"n{i}-{r}-{run}@rush.bench"
            requests.append(
                {
                    "path": nominate,
                    "kind": "nomination",
                    "email": email,
                    "fields": {
                        "full_name": f"Nominee {i}-{r}",
                        "cnic": f"{3_000_000_000_000 + (i * 100 + r) * 1000 + int(run, 16) % 997:013d}",
                        "email": email,
                        "phone": "03001234567",
                        "role": "student",
                        "programme_years": "16",
                    },
                }
            )
        clients.append({"cookies": session_for(account), "requests": requests})
    return {"phase": phase.pk, "clients": clients}


def verify_round(spec: dict) -> dict:
    """What the database holds after the rush, against what the replies said."""
    _django()
    from django.db.models import Count, Q

    from quotas.models import Quota
    from registrations.models import Nomination

    quotas = Quota.objects.filter(phase_id=spec["phase"]).annotate(
        seated_rows=Count("nominations", filter=Q(nominations__status="seated"))
    )
    oversubscribed = sum(max(0, q.seated_rows - q.licenses) for q in quotas)
    mismatched = sum(1 for q in quotas if q.seated_rows != q.general_seated + q.disability_seated)
    rows = Nomination.objects.filter(phase_id=spec["phase"])
    emails = set(rows.values_list("email", flat=True))
    return {
        "seated": rows.filter(status="seated").count(),
        "waiting": rows.filter(status="waiting").count(),
        "oversubscribed": oversubscribed + mismatched,
        "lost": sum(1 for email in spec["accepted"] if email not in emails),
    }


# --- the client process: threads released together -------------------------------------------


def _multipart(fields: dict[str, str], files: dict[str, list[str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + TINY_PDF
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def drive(spec: dict) -> dict:
    import http.client
    from urllib.parse import urlencode

    port, plans = spec["port"], spec["clients"]
    barrier = threading.Barrier(len(plans) + 1)
    latencies: list[float] = []
    statements: dict[str, list[int]] = {}
    outcomes = {"errors": 0, "refused": 0}
    accepted: list[str] = []
    lock = threading.Lock()

    def client(plan: dict) -> None:
        cookies = plan["cookies"]
        cookie = f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}"
        barrier.wait()
        for request in plan["requests"]:
            fields = dict(request["fields"], csrfmiddlewaretoken=cookies["csrftoken"])
            if request.get("files"):
                body, content_type = _multipart(fields, request["files"])
            else:
                body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request(
                    "POST", request["path"], body=body, headers={"Cookie": cookie, "Content-Type": content_type}
                )
                response = connection.getresponse()
                response.read()
                status = response.status
                counted = response.getheader("X-Bench-Statements")
                connection.close()
            except OSError:
                status, counted = 0, None
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                if counted is not None:
                    statements.setdefault(request.get("kind", request["path"]), []).append(int(counted))
                if status == 0 or status >= 500:
                    outcomes["errors"] += 1
                elif status == request.get("accepted_status", 302):
                    if "email" in request:
                        accepted.append(request["email"])
                else:
                    outcomes["refused"] += 1

    threads = [threading.Thread(target=client, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else 0.0

    return {
        "attempts": len(latencies),
        "errors": outcomes["errors"],
        "refused": outcomes["refused"],
        "accepted": accepted,
        "throughput_rps": round(len(latencies) / wall, 1) if wall else 0.0,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        # SQL statements per request as the server counted them, by kind of request: the median
        # and the most any one request needed (a waiting list or a refused duplicate costs more).
        "statements": {
            kind: {"median": statistics.median(counts), "max": max(counts)}
            for kind, counts in sorted(statements.items())
        },
    }


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] in {"--setup", "--drive", "--verify"}:
        sys.path.insert(0, str(ROOT))
        task = {"--setup": setup_round, "--drive": drive, "--verify": verify_round}[sys.argv[1]]
        print(json.dumps(task(json.loads(sys.stdin.read()))))
    else:
        main()
