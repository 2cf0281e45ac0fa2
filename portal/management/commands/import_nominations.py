"""`manage.py import_nominations --phase SLUG --university CODE FILE [--dry-run] [--json]`.

The same code path as the focal person's upload and confirmation in the browser: the file is kept
as a NominationUpload and committed by portal.nominations_file.nominations_file_commit
(nominations, then the deposits of the file's deposit columns, in one transaction). `--dry-run`
shows the preview and writes nothing. With `--json` the output is exactly
`{"seated": N, "waiting": N, "refused": [{"row": N, "errors": ["…"]}]}`.
A file refused as a whole exits non-zero with the reason.
"""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError

from core.exceptions import PortalError
from portal.nominations_file import nominations_file_commit
from quotas.models import Phase, University
from registrations.imports import ImportReport, nominations_file_preview
from registrations.models import FocalPerson, NominationUpload


class Command(BaseCommand):
    help = "Import a university's nominations file (CSV or XLSX), with its deposit columns."

    def add_arguments(self, parser):
        parser.add_argument("--phase", required=True, help="Slug of the phase.")
        parser.add_argument("--university", required=True, help="Code of the university, e.g. QAU.")
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Show what would happen; write nothing.")
        parser.add_argument("--json", action="store_true", help="Print the outcome as JSON.")
        parser.add_argument(
            "--as",
            dest="as_email",
            default="",
            help="E-mail of the account the import is made as (default: the university's focal person).",
        )

    def _actor(self, *, university: University, email: str):
        if email:
            user = get_user_model().objects.filter(email__iexact=email).first()
            if user is None:
                raise CommandError(f"No account with the e-mail address {email}.")
            return user
        focal = FocalPerson.objects.filter(university=university).select_related("user").order_by("id").first()
        if focal is None:
            raise CommandError(f"{university.code} has no focal person; name the account to import as with --as EMAIL.")
        return focal.user

    def handle(
        self, *args, phase: str, university: str, file: Path, dry_run: bool, json: bool, as_email: str, **options
    ):
        the_phase = Phase.objects.filter(slug=phase).first()
        if the_phase is None:
            raise CommandError(f"No phase called “{phase}”.")
        the_university = University.objects.filter(code__iexact=university).first()
        if the_university is None:
            raise CommandError(f"No university with the code “{university}”.")
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        try:
            if dry_run:
                report = nominations_file_preview(
                    phase=the_phase, university=the_university, data=data, filename=file.name
                )
            else:
                actor = self._actor(university=the_university, email=as_email)
                upload = NominationUpload(
                    phase=the_phase, university=the_university, original_name=file.name, uploaded_by=actor
                )
                upload.file.save(file.name, ContentFile(data), save=False)
                upload.save()
                report = nominations_file_commit(upload=upload, actor=actor)
        except PortalError as error:
            raise CommandError(error.message) from None
        self._print(report, as_json=json, dry_run=dry_run)

    def _print(self, report: ImportReport, *, as_json: bool, dry_run: bool) -> None:
        if as_json:
            self.stdout.write(_json_dumps(report.as_json()))
            return
        verb = "Would seat" if dry_run else "Seated"
        self.stdout.write(f"{verb} {report.seated}, waiting list {report.waiting}, refused {report.refused}.")
        for row in report.refused_rows:
            self.stdout.write(f"  row {row.row}: {' '.join(row.errors)}")


def _json_dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
