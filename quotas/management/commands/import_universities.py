from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quotas.exceptions import QuotaError
from quotas.services import universities_import


class Command(BaseCommand):
    help = "Create or update universities by code from a CSV (code,name,sector,enrolment,...)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, file: Path, dry_run: bool, **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        try:
            counts = universities_import(data=data, dry_run=dry_run)
        except QuotaError as error:
            raise CommandError(error.message) from None
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(f"{verb}: {counts['new']} new, {counts['updated']} updated, {counts['unchanged']} unchanged.")
