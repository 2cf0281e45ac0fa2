"""Ledgers of the deposits: refunds each university pays back, forfeits owed to HEC, and what is pending.

Every deposit recorded in a phase ends in exactly one of three columns: refund due (the current
decision is "refund"), forfeited to HEC (it is "forfeit") or pending (no final decision yet). The
totals show the three sums next to the deposits recorded and whether they add up.

Each list is one query however many learners it has (decision and deposit come in as
subqueries), and the exports go through ``core.tabular`` so no cell can run as a formula.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from core.tabular import write_csv, write_xlsx
from quotas.models import Phase, University
from registrations.cnic import cnic_mask

from .deposit_returns import returns_totals, returns_totals_by_university
from .exceptions import FeeError
from .refunds import FORFEIT, PENDING, REFUND, current_decisions, current_deposits, refund_cases

KINDS = (REFUND, FORFEIT, PENDING)
FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class LedgerRow:
    university_code: str
    university_name: str
    full_name: str
    cnic_masked: str
    email: str
    receipt: str
    paid_on: dt.date | None
    amount: int
    courses_completed: int | None
    decided_on: dt.date | None


@dataclass(frozen=True)
class LedgerTotals:
    refund_count: int
    refund_amount: int
    forfeit_count: int
    forfeit_amount: int
    pending_count: int
    pending_amount: int
    deposit_count: int
    deposit_amount: int
    # Deposits going back to the learner (a reclaimed seat: fees.deposit_returns).
    return_count: int = 0
    return_amount: int = 0

    @property
    def decided_amount(self) -> int:
        return self.refund_amount + self.forfeit_amount + self.pending_amount + self.return_amount

    @property
    def columns_count(self) -> int:
        return self.refund_count + self.forfeit_count + self.pending_count + self.return_count

    @property
    def adds_up(self) -> bool:
        """Refunds + forfeits + pending + returns = deposits recorded, in learners and in rupees."""
        return self.columns_count == self.deposit_count and self.decided_amount == self.deposit_amount


def _cases(*, phase: Phase, university: University | None):
    """Refund cases annotated with their current decision and deposit (no extra query per row)."""
    decision = current_decisions().filter(nomination=OuterRef("pk"))
    deposit = current_deposits().filter(nomination=OuterRef("pk"))
    cases = refund_cases(phase=phase).annotate(
        decision_value=Subquery(decision.values("decision")[:1]),
        decision_courses=Subquery(decision.values("courses_completed")[:1]),
        decision_on=Subquery(decision.values("as_of")[:1]),
        receipt=Subquery(deposit.values("receipt")[:1]),
        paid_on=Subquery(deposit.values("paid_on")[:1]),
    )
    if university is not None:
        cases = cases.filter(university=university)
    return cases


def _kind_filter(kind: str) -> Q:
    if kind not in KINDS:
        raise FeeError(_("There is no ledger called “%(kind)s”.") % {"kind": kind})
    return Q(decision_value__isnull=True) if kind == PENDING else Q(decision_value=kind)


def ledger_rows(*, phase: Phase, kind: str, university: University | None = None) -> list[LedgerRow]:
    """The learners in one column of the ledger ("refund", "forfeit" or "pending"), by university and name."""
    rows = (
        _cases(phase=phase, university=university)
        .filter(_kind_filter(kind))
        .values_list(
            "university__code",
            "university__name",
            "full_name",
            "cnic",
            "email",
            "receipt",
            "paid_on",
            "deposit_amount",
            "decision_courses",
            "decision_on",
        )
        .order_by("university__code", "full_name", "pk")
    )
    return [
        LedgerRow(
            university_code=code or "",
            university_name=name or "",
            full_name=full_name,
            cnic_masked=cnic_mask(cnic),
            email=email,
            receipt=receipt or "",
            paid_on=paid_on,
            amount=amount or 0,
            courses_completed=courses,
            decided_on=decided_on,
        )
        for code, name, full_name, cnic, email, receipt, paid_on, amount, courses, decided_on in rows
    ]


def _sum(condition: Q) -> Coalesce:
    return Coalesce(Sum("deposit_amount", filter=condition), Value(0), output_field=IntegerField())


def ledger_totals(*, phase: Phase, university: University | None = None) -> LedgerTotals:
    """The three columns' totals and the deposits recorded, to check that they add up. Two queries."""
    columns = _cases(phase=phase, university=university).aggregate(
        refund_count=Count("pk", filter=Q(decision_value=REFUND)),
        refund_amount=_sum(Q(decision_value=REFUND)),
        forfeit_count=Count("pk", filter=Q(decision_value=FORFEIT)),
        forfeit_amount=_sum(Q(decision_value=FORFEIT)),
        pending_count=Count("pk", filter=Q(decision_value__isnull=True)),
        pending_amount=_sum(Q(decision_value__isnull=True)),
    )
    deposits = current_deposits().filter(nomination__phase=phase)
    if university is not None:
        deposits = deposits.filter(nomination__university=university)
    recorded = deposits.aggregate(deposit_count=Count("pk"), deposit_amount=Coalesce(Sum("amount"), 0))
    return LedgerTotals(**columns, **recorded, **returns_totals(phase=phase, university=university))


def ledger_totals_by_university(*, phase: Phase) -> list[tuple[University, LedgerTotals]]:
    """Totals per university with deposits in the phase, in two grouped queries."""
    grouped = (
        _cases(phase=phase, university=None)
        .order_by()
        .values("university")
        .annotate(
            refund_count=Count("pk", filter=Q(decision_value=REFUND)),
            refund_amount=_sum(Q(decision_value=REFUND)),
            forfeit_count=Count("pk", filter=Q(decision_value=FORFEIT)),
            forfeit_amount=_sum(Q(decision_value=FORFEIT)),
            pending_count=Count("pk", filter=Q(decision_value__isnull=True)),
            pending_amount=_sum(Q(decision_value__isnull=True)),
        )
    )
    columns = {row.pop("university"): row for row in grouped}
    recorded = {
        row.pop("nomination__university"): row
        for row in current_deposits()
        .filter(nomination__phase=phase)
        .order_by()
        .values("nomination__university")
        .annotate(deposit_count=Count("pk"), deposit_amount=Coalesce(Sum("amount"), 0))
    }
    empty = dict.fromkeys(
        ["refund_count", "refund_amount", "forfeit_count", "forfeit_amount", "pending_count", "pending_amount"], 0
    )
    returned = returns_totals_by_university(phase=phase)
    universities = University.objects.filter(pk__in=(set(columns) | set(recorded)) - {None}).order_by("code")
    return [
        (
            university,
            LedgerTotals(
                **columns.get(university.pk, empty),
                **recorded.get(university.pk, {"deposit_count": 0, "deposit_amount": 0}),
                **returned.get(university.pk, {}),
            ),
        )
        for university in universities
    ]


def ledger_export(*, phase: Phase, kind: str, fmt: str, university: University | None = None) -> tuple[str, str, bytes]:
    """(file name, content type, content) of one ledger as CSV or XLSX: one row per learner, nothing else.

    The totals and their check are on the ledgers page; a file of rows only sums and filters
    cleanly in a spreadsheet and reads back into another program without a special last line.
    """
    if fmt not in FORMATS:
        raise FeeError(_("Ledgers are downloaded as CSV or XLSX, not “%(format)s”.") % {"format": fmt})
    rows = ledger_rows(phase=phase, kind=kind, university=university)
    header = [
        _("University"),
        _("Learner"),
        _("CNIC"),
        _("E-mail"),
        _("Deposit receipt"),
        _("Paid on"),
        _("Amount (Rs.)"),
        _("Courses completed"),
        _("Decided as of"),
    ]
    cells = [
        [
            row.university_code,
            row.full_name,
            row.cnic_masked,
            row.email,
            row.receipt,
            row.paid_on,
            row.amount,
            row.courses_completed,
            row.decided_on,
        ]
        for row in rows
    ]
    writer = write_csv if fmt == "csv" else write_xlsx
    scope = university.code if university is not None else "all"
    filename = f"dlsei-{phase.slug}-{kind}-{scope}.{fmt}"
    return filename, CONTENT_TYPES[fmt], writer(cells, header)
