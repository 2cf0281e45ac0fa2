"""`manage.py import_memberships --phase SLUG FILE`: activation dates from Coursera's membership
report (columns Email, External Id, Join Date; other columns are ignored)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quotas.models import Phase
from registrations.exceptions import RegistrationError
from registrations.reminders import memberships_import


class Command(BaseCommand):
    help = "Set each learner's license start to the Join Date of Coursera's membership report (CSV or XLSX)."

    def add_arguments(self, parser):
        parser.add_argument("--phase", required=True, help="The phase's slug.")
        parser.add_argument("file", type=Path)

    def handle(self, *args, phase: str, file: Path, **options):
        found = Phase.objects.filter(slug=phase).first()
        if found is None:
            raise CommandError(f"There is no phase called “{phase}”.")
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        try:
            counts = memberships_import(phase=found, data=data, filename=file.name)
        except RegistrationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"Activation dates: {counts['updated']} updated, {counts['unchanged']} unchanged, "
            f"{counts['unmatched']} rows not matching a learner of {found.slug}."
        )
