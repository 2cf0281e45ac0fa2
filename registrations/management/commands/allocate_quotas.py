"""`allocate_quotas --phase SLUG [--publish] [--json]`: the same services as the staff pages.

It lives in registrations, not quotas, because publishing promotes the waiting lists."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.exceptions import PortalError
from quotas.models import Phase
from quotas.selectors import allocation_lines, allocation_pool_totals, phase_get
from quotas.services import allocation_run
from registrations.services import allocation_publish_and_promote


class Command(BaseCommand):
    help = (
        "Run a new allocation version of a phase from today's universities and enrolment "
        "(and publish it with --publish). Impossible settings exit non-zero and write nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--phase", required=True, help="The phase's slug, e.g. phase-1.")
        parser.add_argument("--publish", action="store_true", help="Publish the new version at once.")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print one JSON object instead of a table."
        )

    def handle(self, *args, phase: str, publish: bool, as_json: bool, **options):
        try:
            the_phase = phase_get(slug=phase)
        except Phase.DoesNotExist:
            known = ", ".join(Phase.objects.order_by("slug").values_list("slug", flat=True)) or "none"
            raise CommandError(f"There is no phase called {phase!r} (known phases: {known}).") from None
        try:
            with transaction.atomic():  # a refused publish leaves no draft behind either
                allocation = allocation_run(phase=the_phase, actor=None)
                if publish:
                    allocation, _promoted = allocation_publish_and_promote(allocation=allocation, actor=None)
        except PortalError as error:
            raise CommandError(f"No allocation was made for {phase}: {error.message}") from None

        lines = allocation_lines(allocation=allocation)
        if as_json:
            self._write_json(phase=phase, allocation=allocation, lines=lines)
        else:
            self._write_table(allocation=allocation, lines=lines)

    def _write_json(self, *, phase, allocation, lines) -> None:
        document = {
            "phase": phase,
            "pools": {pool: int(allocation.pools.get(pool, 0)) for pool in ("public", "nahe", "alumni", "private")},
            "universities": [
                {
                    "code": line.university.code,
                    "pool": line.pool,
                    "licenses": line.licenses,
                    "disability_reserved": line.disability_reserved,
                }
                for line in lines
            ],
        }
        self.stdout.write(json.dumps(document, ensure_ascii=False))

    def _write_table(self, *, allocation, lines) -> None:
        state = "published" if allocation.status == allocation.Status.PUBLISHED else "draft, not published"
        self.stdout.write(f"Allocation v{allocation.version} of {allocation.phase.slug} ({state})")
        header = f"{'code':<12} {'pool':<8} {'enrolment':>10} {'share':>12} {'licenses':>9} {'reserved':>9} bound"
        self.stdout.write(header)
        for line in lines:
            self.stdout.write(
                f"{line.university.code:<12} {line.pool:<8} {line.enrolment:>10,} {line.exact_share:>12.4f} "
                f"{line.licenses:>9,} {line.disability_reserved:>9,} {line.bound or '-'}"
            )
        self.stdout.write("")
        for total in allocation_pool_totals(allocation=allocation, lines=lines):
            self.stdout.write(
                f"{total.pool:<8} pool {total.licenses:>7,} licenses, {total.allocated:>7,} allocated "
                f"to {total.universities} universities"
            )
        if allocation.status != allocation.Status.PUBLISHED:
            self.stdout.write("Publish it with --publish or on the staff page.")
