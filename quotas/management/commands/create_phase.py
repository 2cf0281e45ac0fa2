import datetime

from django.core.management.base import BaseCommand, CommandError

from quotas.exceptions import QuotaError
from quotas.services import phase_create


class Command(BaseCommand):
    help = "Create a phase with the SOP's default numbers (HEC edits them in the admin)."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--launch", required=True, help="YYYY-MM-DD")
        parser.add_argument("--name", default="")
        parser.add_argument(
            "--coursera-invitation-url",
            default="",
            help="The Coursera program's invitation link (https://…); nobody is invited until the phase has it.",
        )

    def handle(self, *args, slug, launch, name, coursera_invitation_url, **options):
        try:
            launch_date = datetime.date.fromisoformat(launch)
        except ValueError:
            raise CommandError(f"--launch must be a date written YYYY-MM-DD, not {launch!r}.") from None
        try:
            phase = phase_create(
                slug=slug, launch=launch_date, name=name, coursera_invitation_url=coursera_invitation_url
            )
        except QuotaError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            f"Phase {phase.slug} created: {phase.total_licenses:,} licenses, registration opens "
            f"{phase.registration_opens_at:%Y-%m-%d %H:%M %Z} and stays open until HEC closes it."
        )
        if not phase.coursera_invitation_url:
            self.stdout.write(
                "No Coursera invitation link yet: learners are settled but not invited until it is set on the "
                "phase (--coursera-invitation-url, or in the admin)."
            )
