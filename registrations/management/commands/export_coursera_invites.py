"""`manage.py export_coursera_invites --phase SLUG [FILE]`: the phase's cleared learners as the CSV
Coursera's admin accepts for bulk invitations (Full Name, Email, External ID)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quotas.models import Phase
from registrations.coursera_invites import coursera_invites_csv
from registrations.selectors import cleared_learners


class Command(BaseCommand):
    help = "Write the cleared learners of a phase as Coursera's bulk-invite CSV (to FILE, or to standard output)."

    def add_arguments(self, parser):
        parser.add_argument("--phase", required=True, help="The phase's slug.")
        parser.add_argument("file", nargs="?", type=Path)

    def handle(self, *args, phase: str, file: Path | None, **options):
        found = Phase.objects.filter(slug=phase).first()
        if found is None:
            raise CommandError(f"There is no phase called “{phase}”.")
        learners = cleared_learners(phase=found)
        data = coursera_invites_csv(nominations=learners)
        if file is None:
            if self.stdout._out is sys.stdout:
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
            else:  # captured (call_command(stdout=...))
                self.stdout.write(data.decode("utf-8"), ending="")
            return
        try:
            file.write_bytes(data)
        except OSError as error:
            raise CommandError(f"Cannot write {file}: {error.strerror}.") from None
        self.stderr.write(f"{learners.count()} cleared learners written to {file}.")
