"""`manage.py decide_refunds --phase SLUG [--as-of YYYY-MM-DD] [--json]`.

Records the final decisions due (the same service as the staff page and the admin action), then
lists every refund case: with --json as a JSON list of
``{"email", "cnic" (masked), "courses_completed", "decision", "amount"}``, else as a summary.
"""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from fees.refunds import FORFEIT, PENDING, REFUND, refund_case_rows, refunds_decide
from quotas.models import Phase
from registrations.cnic import cnic_mask


class Command(BaseCommand):
    help = "Decide refund or forfeit for a phase's deposits from the imported completions, and list the cases."

    def add_arguments(self, parser):
        parser.add_argument("--phase", required=True, help="Slug of the phase.")
        parser.add_argument("--as-of", dest="as_of", help="Apply the rule as on this day (YYYY-MM-DD); default today.")
        parser.add_argument("--json", action="store_true", help="Print the cases as a JSON list.")

    def handle(self, *args, phase: str, as_of: str | None, **options):
        try:
            the_phase = Phase.objects.get(slug=phase)
        except Phase.DoesNotExist:
            raise CommandError(f"No phase called “{phase}”.") from None
        if as_of:
            try:
                day = dt.date.fromisoformat(as_of)
            except ValueError:
                raise CommandError(f"--as-of must be a date written YYYY-MM-DD, not “{as_of}”.") from None
        else:
            day = timezone.localdate()
        recorded = refunds_decide(phase=the_phase, as_of=day, actor=None)
        rows = refund_case_rows(phase=the_phase, as_of=day)
        if options["json"]:
            self.stdout.write(_dumps(rows))
            return
        totals = {REFUND: [0, 0], FORFEIT: [0, 0], PENDING: [0, 0]}
        for row in rows:
            totals[row.decision][0] += 1
            totals[row.decision][1] += row.amount
        self.stdout.write(f"{the_phase.slug} as of {day}: {len(recorded)} decision(s) recorded now.")
        for name, label in ((REFUND, "Refund"), (FORFEIT, "Forfeit"), (PENDING, "Pending")):
            count, amount = totals[name]
            self.stdout.write(f"  {label}: {count} learner(s), Rs {amount:,}")
        self.stdout.write(f"  Deposits: {len(rows)} learner(s), Rs {sum(row.amount for row in rows):,}")


def _dumps(rows) -> str:
    return json.dumps(
        [
            {
                "email": row.email,
                "cnic": cnic_mask(row.cnic),
                "courses_completed": row.courses_completed,
                "decision": row.decision,
                "amount": row.amount,
            }
            for row in rows
        ],
        ensure_ascii=False,
        indent=2,
    )
