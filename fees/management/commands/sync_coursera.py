"""`manage.py sync_coursera [--phase SLUG]`: Coursera's enrollment reports through its API, into the
phase's completions (the same records the CSV upload writes). Needs the API settings and the
phase's Coursera program id; without --phase, every phase that has one."""

from django.core.management.base import BaseCommand, CommandError

from fees.coursera_sync import enrollment_reports_sync, enrollment_reports_sync_all
from fees.exceptions import FeeError
from fees.models import CourseraSync
from quotas.models import Phase
from registrations.coursera_api import api_missing_settings


class Command(BaseCommand):
    help = "Pull Coursera's enrollment reports through the API into the completions (the CSV stays the default)."

    def add_arguments(self, parser):
        parser.add_argument("--phase", default="", help="The phase's slug (default: every phase with a program id).")

    def handle(self, *args, phase: str, **options):
        if phase:
            found = Phase.objects.filter(slug=phase).first()
            if found is None:
                raise CommandError(f"There is no phase called “{phase}”.")
            try:
                syncs = [enrollment_reports_sync(phase=found, trigger=CourseraSync.Trigger.COMMAND)]
            except FeeError as error:
                raise CommandError(error.message) from None
        else:
            missing = api_missing_settings()
            if missing:
                raise CommandError(f"The Coursera API is off: set {', '.join(missing)} to use it.")
            syncs = enrollment_reports_sync_all(trigger=CourseraSync.Trigger.COMMAND)
            if not syncs:
                self.stdout.write("No phase has a Coursera program id: nothing to sync.")
        failed = False
        for sync in syncs:
            if sync.state == CourseraSync.State.DONE:
                imported = sync.completion_import
                news = imported.new_completions if imported else 0
                self.stdout.write(
                    f"{sync.phase.slug}: {sync.records} enrollment records in {sync.pages} pages, "
                    f"{news} new completions."
                )
            else:
                failed = True
                self.stderr.write(f"{sync.phase.slug}: {sync.error}")
        if failed:
            raise CommandError("The Coursera sync did not finish; see above.")
