"""`manage.py import_bank_scroll FILE [--json]`: post a bank's scroll (CSV or XLSX with the columns
consumer_number, amount, paid_on, tran_auth_id, bank) as the staff page does."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import PortalError
from fees.scrolls import bank_scroll_import


class Command(BaseCommand):
    help = "Import a bank scroll: post every row to its bill; list what could not be posted."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--json", action="store_true", help="Print the outcome as JSON.")

    def handle(self, *args, file: Path, **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        try:
            _scroll, report = bank_scroll_import(data=data, filename=file.name, actor=None)
        except PortalError as error:
            raise CommandError(error.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json(), indent=2))
            return
        self.stdout.write(
            f"{file.name}: {report.posted} posted, {report.already_paid} already paid, "
            f"{len(report.unmatched)} unmatched, {len(report.amount_mismatch)} with another amount."
        )
        for row in report.unmatched:
            self.stdout.write(f"  row {row['row']}: {row['reason']}")
        for row in report.amount_mismatch:
            self.stdout.write(f"  row {row['row']}: {row['found']} paid, {row['expected']} due")
