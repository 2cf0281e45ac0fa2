"""Private universities' invoices: issued for the licenses of the published allocation, billed
again for a rise only (a license move or a new allocation bills it in the same transaction),
marked paid, and the separate PDF of a university without a PERN account.

A paid invoice settles as many of the university's learners as its paid invoices cover, through
`registrations.clearing.university_settle()`. The PDF is drawn by WeasyPrint from
`templates/fees/pdf/invoice.html`, from the invoice row only, once; `invoice_pdf` stores it and
serves the stored bytes afterwards.
"""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from quotas.models import Phase, Sector, University
from quotas.selectors import quota_for
from registrations.clearing import university_settle
from registrations.services import allocation_publish_and_promote, licenses_move

from .challans import (
    INVOICE,
    consumer_number_next,
    consumer_number_spaced,
    invoice_number_format,
    number_next,
    rupees_figures,
    stored_pdf,
)
from .exceptions import FeeError
from .models import Invoice, InvoiceChannel, InvoiceStatus
from .words import rupees_in_words


def _invoiced_licenses(*, phase: Phase, university: University) -> tuple[int, Invoice | None]:
    """Licenses already billed to the university in the phase (invoices not cancelled), and its
    first such invoice (the one a supplementary invoice supplements)."""
    billed = Invoice.objects.filter(phase=phase, university=university).exclude(status=InvoiceStatus.CANCELLED)
    first = billed.order_by("issued_at", "id").first()
    return (billed.aggregate(n=Sum("licenses"))["n"] or 0), first


def invoice_issue(*, phase: Phase, university: University, actor: Any) -> Invoice:
    """The invoice of a private university for the phase: its allocated licenses × the phase's fee,
    billed through PERN when the university has a PERN account, else as a separate PDF invoice.

    A university already invoiced whose licenses have risen since (a license move, a new
    allocation) gets a supplementary invoice for the difference only; its nominees above the
    licenses paid for wait until it is paid. A fall bills nothing and refunds nothing by itself:
    the ledger shows the credit to HEC staff."""
    if university.sector != Sector.PRIVATE:
        raise FeeError(
            _("%(university)s is not a private university; only private universities are invoiced.")
            % {"university": university.name}
        )
    with transaction.atomic():
        University.objects.select_for_update().get(pk=university.pk)
        quota = quota_for(phase=phase, university=university)
        licenses = quota.licenses if quota is not None else 0
        if licenses <= 0:
            raise FeeError(
                _(
                    "%(university)s has no licenses in the published allocation of %(phase)s, "
                    "so there is nothing to invoice."
                )
                % {"university": university.name, "phase": phase.name}
            )
        invoiced, first = _invoiced_licenses(phase=phase, university=university)
        if invoiced >= licenses:
            raise FeeError(
                _("%(university)s already has invoice %(number)s for this phase, for all its %(licenses)s licenses.")
                % {"university": university.name, "number": first.number, "licenses": licenses}
            )
        billed = licenses - invoiced
        year = phase.launch_date.year
        number = invoice_number_format(year=year, number=number_next(kind=INVOICE, year=year))
        invoice = Invoice.objects.create(
            phase=phase,
            university=university,
            number=number,
            consumer_number=consumer_number_next(),
            licenses=billed,
            unit_fee=phase.private_fee_rupees,
            amount=billed * phase.private_fee_rupees,
            channel=InvoiceChannel.PERN if university.pern_account else InvoiceChannel.SEPARATE,
            pern_account=university.pern_account,
            issued_by=actor if getattr(actor, "pk", None) else None,
            supplements=first,
        )
        kind = f"supplementary to {first.number}" if first else "first"
        audit_record(
            actor=actor,
            action="invoice.issue",
            target=invoice,
            summary=f"Invoice {number} to {university.code} ({kind}): {billed} × {invoice.unit_fee} = "
            f"{invoice.amount} rupees ({invoice.channel})",
            data={
                "phase": phase.pk,
                "university": university.pk,
                "licenses": billed,
                "amount": invoice.amount,
                "supplements": first.number if first else None,
            },
        )
    return invoice


def invoices_supplement(*, phase: Phase, universities: list[University] | None = None, actor: Any) -> list[Invoice]:
    """Supplementary invoices for every private university of the phase (or of ``universities``)
    that was invoiced already and now holds more licenses than it was billed for."""
    invoiced = Invoice.objects.filter(phase=phase).exclude(status=InvoiceStatus.CANCELLED)
    if universities is not None:
        invoiced = invoiced.filter(university__in=universities)
    issued = []
    for university in University.objects.filter(
        pk__in=invoiced.values("university_id"), sector=Sector.PRIVATE
    ).order_by("code"):
        quota = quota_for(phase=phase, university=university)
        billed, _first = _invoiced_licenses(phase=phase, university=university)
        if quota is not None and quota.licenses > billed:
            issued.append(invoice_issue(phase=phase, university=university, actor=actor))
    return issued


def license_move_billed(
    *,
    phase: Phase,
    from_university: University,
    to_university: University,
    licenses: int,
    reason: str,
    actor: Any,
    across_pools: bool = False,
    beyond_caps: bool = False,
):
    """A license move (registrations promotes the receiving waiting list), and, when a private
    university that was invoiced receives licenses, its supplementary invoice, in one transaction."""
    with transaction.atomic():
        move = licenses_move(
            phase=phase,
            from_university=from_university,
            to_university=to_university,
            licenses=licenses,
            reason=reason,
            actor=actor,
            across_pools=across_pools,
            beyond_caps=beyond_caps,
        )
        supplements = invoices_supplement(phase=phase, universities=[to_university], actor=actor)
    return move, supplements


def allocation_publish_billed(*, allocation, actor: Any):
    """Publish an allocation (registrations promotes the waiting lists of the seats it adds) and
    bill the private universities that were invoiced and now hold more licenses, in one transaction."""
    with transaction.atomic():
        published, promoted = allocation_publish_and_promote(allocation=allocation, actor=actor)
        supplements = invoices_supplement(phase=published.phase, actor=actor)
    return published, promoted, supplements


def invoice_pdf_render(invoice: Invoice) -> bytes:
    """The PDF of `invoice`. Always English: it is an accounting document."""
    # Imported here: WeasyPrint loads Pango and its fonts on import, and only drawing a PDF needs them.
    from weasyprint import HTML

    context = {
        "invoice": invoice,
        "unit_fee_figures": rupees_figures(invoice.unit_fee),
        "amount_figures": rupees_figures(invoice.amount),
        "amount_words": rupees_in_words(invoice.amount),
        "bank": settings.HEC_BANK,
        "consumer_number": consumer_number_spaced(invoice.consumer_number or ""),
    }
    with translation.override("en"):
        html = render_to_string("fees/pdf/invoice.html", context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def invoice_pdf(*, invoice: Invoice) -> bytes:
    """The separate invoice's PDF, drawn once and stored. PERN invoices are billed by PERN."""
    if invoice.channel != InvoiceChannel.SEPARATE:
        raise FeeError(_("This invoice is billed through PERN; there is no separate PDF for it."))
    return stored_pdf(model=Invoice, pk=invoice.pk, render=invoice_pdf_render, name=f"{invoice.number}.pdf")


def invoice_mark_paid(*, invoice: Invoice, reference: str, actor: Any) -> Invoice:
    """HEC staff record that the university paid; as many of its learners as its paid invoices
    cover are then settled (all of them, unless its licenses rose since)."""
    reference = (reference or "").strip()
    if not reference:
        raise FeeError(_("Enter the bank or PERN reference of the payment."))
    with transaction.atomic():
        changed = Invoice.objects.filter(pk=invoice.pk, status=InvoiceStatus.ISSUED).update(
            status=InvoiceStatus.PAID, paid_at=timezone.now(), marked_paid_by=actor, reference=reference[:100]
        )
        invoice.refresh_from_db()
        if not changed:
            raise FeeError(
                _("Invoice %(number)s cannot be marked paid: its status is “%(status)s”.")
                % {"number": invoice.number, "status": invoice.get_status_display()}
            )
        audit_record(
            actor=actor,
            action="invoice.paid",
            target=invoice,
            summary=f"Invoice {invoice.number} marked paid, reference {reference}",
            data={"reference": reference, "amount": invoice.amount},
        )
        paid = (
            Invoice.objects.filter(
                phase=invoice.phase, university=invoice.university, status=InvoiceStatus.PAID
            ).aggregate(n=Sum("licenses"))["n"]
            or 0
        )
        university_settle(
            phase=invoice.phase,
            university=invoice.university,
            reason=f"invoice {invoice.number} paid",
            actor=actor,
            licenses=paid,
        )
    return invoice
