"""`manage.py import_completions --phase SLUG FILE`: the same import as the staff page, run here
chunk by chunk, printing its progress."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fees.completions import CHUNK_ROWS, completions_import
from fees.exceptions import FeeError
from quotas.models import Phase


class Command(BaseCommand):
    help = "Import a Coursera completion (usage) report CSV for a phase; unmatched rows are listed."

    def add_arguments(self, parser):
        parser.add_argument("--phase", required=True, help="Slug of the phase the learners belong to.")
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--chunk-rows", type=int, default=CHUNK_ROWS, help=f"Rows per transaction (default {CHUNK_ROWS:,})."
        )

    def handle(self, *args, phase: str, file: Path, chunk_rows: int, **options):
        if chunk_rows < 1:
            raise CommandError("--chunk-rows must be at least 1.")
        try:
            the_phase = Phase.objects.get(slug=phase)
        except Phase.DoesNotExist:
            raise CommandError(f"No phase called “{phase}”.") from None
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None

        def progress(record) -> None:
            self.stdout.write(f"  {record.processed:,} of {record.rows:,} rows ({record.percent} %)")

        try:
            result = completions_import(
                phase=the_phase, data=data, filename=file.name, actor=None, chunk_rows=chunk_rows, on_progress=progress
            )
        except FeeError as error:
            raise CommandError(error.message) from None
        if result.state == result.State.FAILED:
            raise CommandError(f"The import stopped after {result.processed} of {result.rows} rows: {result.error}")
        self.stdout.write(
            f"Imported {file.name}: {result.rows} rows, {result.matched} matched, {result.unmatched} unmatched, "
            f"{result.new_completions} new completion(s), {result.duplicates} already known, "
            f"{result.ignored} not a completion."
        )
        for row in result.unmatched_rows.all():
            who = f"{row.email or '-'} {row.external_id or '-'}"
            self.stdout.write(f"  row {row.row_number}: {who} {row.course}: {row.reason}")
