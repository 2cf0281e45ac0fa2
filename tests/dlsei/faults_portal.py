"""The parts of the database fault test that run inside Django against the private cluster.

    python -m tests.dlsei.faults_portal setup|verify  < spec.json  > result.json (last line)

The test process itself stays on the suite's test database; these run as subprocesses with the
private cluster's DATABASE_URL, like the gunicorn they share that cluster with.
"""

import json
import os
import sys
import uuid

TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def setup(spec: dict) -> dict:
    """The schema (migrate), then an open phase, universities with a quota and a disclaimer each,
    and one signed-in focal person per university (a session cookie and a CSRF token for the
    client threads)."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from registrations.models import Disclaimer
    from tests import factories

    phase = factories.make_phase(slug="faults", launch=timezone.localdate())
    phase.registration_opens_at = timezone.now()
    phase.save(update_fields=["registration_opens_at"])
    focal = []
    for number in range(spec["universities"]):
        university = factories.make_university(code=f"FLT{number}")
        factories.make_quota(phase=phase, university=university, licenses=spec["licenses"])
        user = factories.make_focal_person(university=university, email=f"focal{number}@faults.example.pk")
        Disclaimer.objects.create(
            phase=phase, university=university, uploaded_by=user, file=ContentFile(TINY_PDF, name="disclaimer.pdf")
        )
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        focal.append({"sessionid": session.session_key, "csrftoken": uuid.uuid4().hex})
    return {"phase": phase.pk, "focal": focal}


def verify(spec: dict) -> dict:
    """What the database holds: every nomination whole, the counters equal to the rows."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Q

    from audit.models import AuditEntry
    from quotas.models import Quota
    from registrations.models import Nomination

    rows = list(Nomination.objects.filter(phase_id=spec["phase"]).values("id", "email", "status"))
    ids = {str(row["id"]) for row in rows}
    audited = list(
        AuditEntry.objects.filter(
            action="nomination.submit", target_type="registrations.nomination", target_id__in=ids
        ).values_list("target_id", flat=True)
    )
    # Nominees get an account only when they sign in by code: a rush makes none.
    accounts = get_user_model().objects.filter(email__endswith="@rush.example.pk").count()
    accounts += EmailAddress.objects.filter(email__endswith="@rush.example.pk").count()
    quotas = [
        {
            "licenses": quota.licenses,
            "counted": quota.general_seated + quota.disability_seated,
            "seated_rows": quota.seated_rows,
        }
        for quota in Quota.objects.filter(phase_id=spec["phase"]).annotate(
            seated_rows=Count("nominations", filter=Q(nominations__status="seated"))
        )
    ]
    return {
        "emails": sorted(row["email"] for row in rows),
        "statuses": sorted({row["status"] for row in rows}),
        "audited": len(audited),
        "audited_distinct": len(set(audited)),
        "nominee_accounts": accounts,
        "quotas": quotas,
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dlsei.settings")
    import django

    django.setup()
    task = {"setup": setup, "verify": verify}[sys.argv[1]]
    print(json.dumps(task(json.loads(sys.stdin.read() or "{}"))))
