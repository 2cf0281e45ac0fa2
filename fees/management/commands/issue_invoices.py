"""`manage.py issue_invoices --phase SLUG [--university CODE] [--json]`: invoice every participating
private university of the phase that has licenses and no invoice yet (the same service as the admin).

With --json it prints, instead of the lines, every invoice of the phase (of the university, when
one is named) with its consumer number, for the bank or a script to take over.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from fees.exceptions import FeeError
from fees.invoices import invoice_issue
from fees.models import Invoice, InvoiceStatus
from quotas.models import Phase, Quota, Sector


class Command(BaseCommand):
    help = "Issue the invoices of the private universities of a phase (licenses × the phase's fee)."

    def add_arguments(self, parser):
        parser.add_argument("--phase", required=True, help="Slug of the phase.")
        parser.add_argument("--university", default="", help="Only this university (its code).")
        parser.add_argument("--json", action="store_true", help="Print every invoice of the phase as JSON.")

    def handle(self, *args, phase: str, university: str, **options):
        as_json = options.get("json", False)
        the_phase = Phase.objects.filter(slug=phase).first()
        if the_phase is None:
            raise CommandError(f"No phase called “{phase}”.")
        quotas = Quota.objects.filter(
            phase=the_phase, university__sector=Sector.PRIVATE, university__participates=True, licenses__gt=0
        ).select_related("university")
        if university:
            quotas = quotas.filter(university__code__iexact=university)
            if not quotas.exists():
                raise CommandError(f"“{university}” is not a private university with licenses in {the_phase.slug}.")
        invoiced = set(
            Invoice.objects.filter(phase=the_phase)
            .exclude(status=InvoiceStatus.CANCELLED)
            .values_list("university_id", flat=True)
        )
        issued = 0
        for quota in quotas.order_by("university__code"):
            if quota.university_id in invoiced:
                continue
            try:
                invoice = invoice_issue(phase=the_phase, university=quota.university, actor=None)
            except FeeError as error:
                raise CommandError(error.message) from None
            issued += 1
            if as_json:
                continue
            self.stdout.write(
                f"{invoice.number} {quota.university.code}: {invoice.licenses} × {invoice.unit_fee} = "
                f"{invoice.amount} rupees ({invoice.get_channel_display()})"
            )
        if not as_json:
            self.stdout.write(f"{issued} invoice(s) issued.")
            return
        invoices = Invoice.objects.filter(phase=the_phase).select_related("university").order_by("issued_at", "id")
        if university:
            invoices = invoices.filter(university__code__iexact=university)
        rows = [
            {
                "number": invoice.number,
                "university": invoice.university.code,
                "licenses": invoice.licenses,
                "amount": invoice.amount,
                "consumer_number": invoice.consumer_number or "",
                "status": invoice.status,
            }
            for invoice in invoices
        ]
        self.stdout.write(json.dumps(rows, indent=2))
