"""The separate invoice PDF of a private university without a PERN account.

Drawn by WeasyPrint from `templates/fees/pdf/invoice.html`, from the invoice row only, once;
`fees.services.invoice_pdf` stores it and serves the stored bytes afterwards.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from .challans import consumer_number_spaced, rupees_figures
from .models import Invoice
from .words import rupees_in_words


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
