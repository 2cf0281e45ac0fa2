"""Remittances: a university pays HEC the forfeited deposits it holds.

The focal person issues a remittance statement (:func:`remittance_issue`) for the forfeits decided
so far that no earlier statement covered; it has its own consumer number, so the university pays
it through 1Bill or at a branch like any bill, and HEC sees which universities have remitted
(fees.bills posts the payment). The statement is a PDF (WeasyPrint, drawn once and stored) and a
CSV with one row per forfeited deposit.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from core.tabular import write_csv
from quotas.models import Phase, University
from registrations.cnic import cnic_mask

from . import challans
from .exceptions import FeeError
from .models import RefundDecision, Remittance
from .refunds import FORFEIT, current_decisions
from .words import rupees_in_words

REMITTANCE = "remittance"
CSV_COLUMNS = ["remittance", "consumer_number", "reference", "full_name", "cnic", "amount"]


def forfeits_unremitted(*, phase: Phase, university: University):
    """The university's current forfeit decisions of the phase that no statement covers yet."""
    covered: set[int] = set()
    for ids in Remittance.objects.filter(phase=phase, university=university).values_list("decisions", flat=True):
        covered.update(ids)
    return (
        current_decisions()
        .filter(decision=FORFEIT, nomination__phase=phase, nomination__university=university)
        .exclude(pk__in=covered)
        .select_related("nomination")
        .order_by("nomination__full_name", "pk")
    )


def remittance_issue(*, phase: Phase, university: University, actor: Any) -> Remittance:
    """A statement of the forfeits not remitted yet, with a new number and consumer number."""
    with transaction.atomic():
        University.objects.select_for_update().get(pk=university.pk)
        forfeits = list(forfeits_unremitted(phase=phase, university=university))
        if not forfeits:
            raise FeeError(_("No forfeited deposit is waiting to be remitted; there is nothing to put on a statement."))
        year = timezone.localdate().year
        remittance = Remittance.objects.create(
            phase=phase,
            university=university,
            number=f"DLSEI-REM-{year}-{challans.number_next(kind=REMITTANCE, year=year):05d}",
            consumer_number=challans.consumer_number_next(),
            amount=sum(decision.amount for decision in forfeits),
            decisions=[decision.pk for decision in forfeits],
            issued_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_record(
            actor=actor,
            action="remittance.issue",
            target=remittance,
            summary=f"Remittance {remittance.number} of {university.code}: {len(forfeits)} forfeited deposit(s), "
            f"{remittance.amount} rupees",
            data={
                "phase": phase.slug,
                "university": university.pk,
                "amount": remittance.amount,
                "decisions": remittance.decisions,
            },  # fmt: skip
        )
    return remittance


@dataclass(frozen=True)
class StatementRow:
    reference: str
    full_name: str
    cnic_masked: str
    amount: int


def statement_rows(remittance: Remittance) -> list[StatementRow]:
    decisions = RefundDecision.objects.filter(pk__in=remittance.decisions).select_related("nomination")
    return [
        StatementRow(
            reference=f"DLSEI-RF-{decision.pk:07d}",
            full_name=decision.nomination.full_name,
            cnic_masked=cnic_mask(decision.nomination.cnic),
            amount=decision.amount,
        )
        for decision in decisions.order_by("nomination__full_name", "pk")
    ]


def remittance_csv(remittance: Remittance) -> bytes:
    rows = [
        [remittance.number, remittance.consumer_number, row.reference, row.full_name, row.cnic_masked, row.amount]
        for row in statement_rows(remittance)
    ]
    return write_csv(rows, CSV_COLUMNS)


def remittance_pdf_render(remittance: Remittance) -> bytes:
    """The statement's PDF. Always English: it is an accounting document."""
    # Imported here: WeasyPrint loads Pango and its fonts on import, and only drawing a PDF needs them.
    from weasyprint import HTML

    context = {
        "remittance": remittance,
        "rows": statement_rows(remittance),
        "amount_figures": challans.rupees_figures(remittance.amount),
        "amount_words": rupees_in_words(remittance.amount),
        "consumer_number": challans.consumer_number_spaced(remittance.consumer_number),
        "bank": settings.HEC_BANK,
    }
    with translation.override("en"):
        html = render_to_string("fees/pdf/remittance.html", context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def remittance_pdf(*, remittance: Remittance) -> bytes:
    """Drawn the first time, the stored bytes every time after."""
    return challans.stored_pdf(
        model=Remittance, pk=remittance.pk, render=remittance_pdf_render, name=f"{remittance.number}.pdf"
    )


def remittances_of(*, phase: Phase, university: University):
    return Remittance.objects.filter(phase=phase, university=university).select_related("bill_payment")


def forfeits_total(*, phase: Phase, university: University) -> int:
    return forfeits_unremitted(phase=phase, university=university).aggregate(total=Sum("amount"))["total"] or 0
