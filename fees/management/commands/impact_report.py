"""`manage.py impact_report --phase SLUG [--university CODE] [--json]`: what the licenses achieved."""

import json

from django.core.management.base import BaseCommand, CommandError

from fees.impact import impact_report_build
from quotas.models import Phase, University


class Command(BaseCommand):
    help = (
        "The impact report of a phase (learners invited and joined, courses completed, learning hours, "
        "certificates, per university and per course), as the staff page shows it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--phase", required=True, help="The phase's slug.")
        parser.add_argument(
            "--university", default="", help="Only this university (its code), as its focal person sees it."
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, phase: str, university: str, json: bool, **options):
        found = Phase.objects.filter(slug=phase).first()
        if found is None:
            raise CommandError(f"There is no phase called “{phase}”.")
        scope = None
        if university:
            scope = University.objects.filter(code__iexact=university).first()
            if scope is None:
                raise CommandError(f"There is no university with the code “{university}”.")
        report = impact_report_build(phase=found, university=scope)
        if json:
            self.stdout.write(_dumps(report.as_json()))
            return
        where = f"{scope.code} in {found.slug}" if scope else found.slug
        self.stdout.write(
            f"Impact of {where}: {report.learners_invited} learners invited, {report.learners_joined} joined, "
            f"{report.learners_completed_one} completed at least one course, {report.learners_completed_three} "
            f"completed {report.courses_needed} or more; {report.courses_completed} courses completed, "
            f"{report.learning_hours} learning hours, {report.specializations_completed} specializations and "
            f"{report.professional_certificates_completed} professional certificates."
        )
        for row in report.top_courses:
            self.stdout.write(f"  {row.completions:>6}  {row.course}")


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
