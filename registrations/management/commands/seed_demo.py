"""Demo data for trying the portal: phase 1, universities, HEC staff and focal persons."""

import datetime
from pathlib import Path

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from quotas.exceptions import QuotaError
from quotas.models import Phase, University
from quotas.selectors import allocation_published
from quotas.services import allocation_publish, allocation_run, phase_create, universities_import
from registrations.models import FocalPerson
from registrations.roles import FOCAL_PERSON, HEC_STAFF, roles_ensure

DEMO_PASSWORD = "dlsei-demo-2021"  # noqa: S105 - demo accounts on a developer machine
DEMO_FOCAL_UNIVERSITIES = ["QAU", "PU", "UOK", "LUMS", "NAHE"]
UNIVERSITIES_CSV = Path(__file__).resolve().parents[3] / "quotas" / "demo" / "universities.csv"


def _user(email: str, *, staff: bool = False):
    user, created = get_user_model().objects.get_or_create(username=email, defaults={"email": email, "is_staff": staff})
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


class Command(BaseCommand):
    help = "Create (idempotently) demo data: phase 1, universities, an HEC staff user and focal persons."

    @transaction.atomic
    def handle(self, *args, **options):
        groups = roles_ensure()
        phase = Phase.objects.filter(slug="phase-1").first() or phase_create(
            slug="phase-1", launch=datetime.date(2021, 9, 9), name="DLSEI Phase 1 (2021)"
        )
        if not phase.coursera_invitation_url:
            phase.coursera_invitation_url = "https://www.coursera.org/programs/hec-dlsei-demo/invitation"
            phase.save(update_fields=["coursera_invitation_url"])
        universities_import(data=UNIVERSITIES_CSV.read_bytes())
        if allocation_published(phase=phase) is None:
            try:
                allocation = allocation_publish(allocation=allocation_run(phase=phase, actor=None), actor=None)
            except QuotaError as error:
                self.stderr.write(f"The demo allocation could not be made, none is published: {error.message}")
            else:
                self.stdout.write(f"Demo allocation v{allocation.version} of {phase.slug} published.")

        staff = _user("hec.staff@demo.dlsei.pk", staff=True)
        staff.groups.add(groups[HEC_STAFF])
        logins = [("HEC staff", staff.email)]
        for code in DEMO_FOCAL_UNIVERSITIES:
            university = University.objects.get(code=code)
            user = _user(f"focal.{code.lower()}@demo.dlsei.pk")
            user.groups.add(groups[FOCAL_PERSON])
            FocalPerson.objects.get_or_create(user=user, defaults={"university": university})
            logins.append((f"Focal person, {university.name}", user.email))

        self.stdout.write(f"Demo phase: {phase.name} ({phase.slug}), {University.objects.count()} universities.")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for role, email in logins:
            self.stdout.write(f"  {role:<55} {email}")
