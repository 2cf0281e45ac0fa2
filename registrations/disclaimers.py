"""The blank disclaimer form a university signs before nominating: a PDF with its name filled in."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from quotas.models import Phase, University


def disclaimer_form_pdf(*, phase: Phase, university: University) -> bytes:
    """The form for ``university`` in ``phase``; English, like the challan, as an official document."""
    # Imported here: WeasyPrint loads Pango and its fonts on import, and only drawing a PDF needs them.
    from weasyprint import HTML

    with translation.override("en"):
        html = render_to_string("registrations/pdf/disclaimer_form.html", {"phase": phase, "university": university})
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
