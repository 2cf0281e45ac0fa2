"""Reads of the fees app used by its pages, the admin and commands."""

import dataclasses

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Sum

from quotas.models import Phase, Pool, Quota, University
from registrations.cnic import cnic_mask
from registrations.models import ACTIVE_STATUSES, Nomination, NominationStatus, SeatKind
from registrations.selectors import nominations_of_account, nominations_of_university

from .models import (
    AlumniPayment,
    BillPayment,
    Challan,
    Deposit,
    DisabilityWaiver,
    Invoice,
    InvoiceStatus,
    PaymentStatus,
    ScrollRowState,
    UnmatchedScrollRow,
    WaiverStatus,
)


def nomination_of_learner(*, user, phase: Phase | None) -> Nomination | None:
    """The signed-in person's nomination in `phase`, made for one of their verified e-mail
    addresses: the newest one, active ones first."""
    if phase is None:
        return None
    candidates = nominations_of_account(user=user).filter(phase=phase).select_related("phase", "university", "quota")
    return candidates.filter(status__in=ACTIVE_STATUSES).order_by("-id").first() or candidates.order_by("-id").first()


@dataclasses.dataclass
class LearnerFees:
    """What the learner's own page shows about the money side of their nomination."""

    kind: str  # "alumnus", "deposit", "waiver", "private"
    challan: Challan | None = None
    payments: list[AlumniPayment] = dataclasses.field(default_factory=list)
    deposit: Deposit | None = None
    waiver: DisabilityWaiver | None = None
    invoice: Invoice | None = None
    bill_payment: BillPayment | None = None  # the challan paid through 1Bill or a bank scroll

    @property
    def latest_payment(self) -> AlumniPayment | None:
        return self.payments[0] if self.payments else None


def learner_fees(*, nomination: Nomination) -> LearnerFees:
    if nomination.pool == Pool.ALUMNI:
        challan = Challan.objects.filter(nomination=nomination, cancelled_at__isnull=True).first()
        return LearnerFees(
            kind="alumnus",
            challan=challan,
            payments=list(AlumniPayment.objects.filter(nomination=nomination).select_related("challan")),
            bill_payment=BillPayment.objects.filter(challan=challan).first() if challan else None,
        )
    if nomination.pool == Pool.PRIVATE:
        invoice = (
            Invoice.objects.filter(phase_id=nomination.phase_id, university_id=nomination.university_id)
            .exclude(status=InvoiceStatus.CANCELLED)
            .first()
        )
        return LearnerFees(kind="private", invoice=invoice)
    if nomination.seat_kind == SeatKind.DISABILITY:
        return LearnerFees(kind="waiver", waiver=DisabilityWaiver.objects.filter(nomination=nomination).first())
    return LearnerFees(
        kind="deposit", deposit=Deposit.objects.filter(nomination=nomination, superseded_by__isnull=True).first()
    )


def deposit_nominees(
    *, phase: Phase, university: University, search: str = "", deposit: str = ""
) -> QuerySet[Nomination]:
    """The university's seated and waiting nominees in the phase, with their current deposit and
    waiver (for the focal person's deposits page): seated first, each in arrival order.
    ``search`` as on the nominees page; ``deposit`` "missing" or "recorded" narrows the list."""
    nominees = nominations_of_university(phase=phase, university=university, search=search).filter(
        status__in=ACTIVE_STATUSES
    )
    standing = Deposit.objects.filter(nomination=OuterRef("pk"), superseded_by__isnull=True)
    if deposit == "missing":
        nominees = nominees.filter(~Exists(standing), status=NominationStatus.SEATED)
    elif deposit == "recorded":
        nominees = nominees.filter(Exists(standing))
    return (
        nominees.prefetch_related(
            Prefetch(
                "deposits", queryset=Deposit.objects.filter(superseded_by__isnull=True), to_attr="current_deposits"
            ),
        )
        .select_related("disability_waiver", "phase")
        # "seated" sorts before "waiting": seated first, then the waiting list, each in arrival order
        .order_by("status", "id")
    )


def with_masked_cnic(nominations) -> list[Nomination]:
    rows = list(nominations)
    for row in rows:
        row.cnic_masked = cnic_mask(row.cnic)
    return rows


def disability_seated(*, phase: Phase | None = None) -> QuerySet[Nomination]:
    qs = Nomination.objects.filter(status=NominationStatus.SEATED, seat_kind=SeatKind.DISABILITY)
    return qs.filter(phase=phase) if phase is not None else qs


def decisions_waiting(*, phase: Phase) -> tuple[int, int]:
    """What waits for HEC staff in ``phase``: alumni payments to check, and disability seats whose
    certificate has no decision yet (no waiver row, or one still pending)."""
    payments = AlumniPayment.objects.filter(nomination__phase=phase, status=PaymentStatus.SUBMITTED).count()
    certificates = (
        disability_seated(phase=phase)
        .filter(Q(disability_waiver__isnull=True) | Q(disability_waiver__status=WaiverStatus.PENDING))
        .count()
    )
    return payments, certificates


@dataclasses.dataclass
class InvoiceBalance:
    """A private university's licenses against what it was invoiced and paid for in a phase."""

    university: University
    licenses: int
    invoiced: int
    paid: int
    unit_fee: int

    @property
    def to_invoice(self) -> int:
        return max(self.licenses - self.invoiced, 0)

    @property
    def credit_licenses(self) -> int:
        """Licenses paid for and no longer held (its licenses fell after paying): HEC decides."""
        return max(self.paid - self.licenses, 0)

    @property
    def credit_amount(self) -> int:
        return self.credit_licenses * self.unit_fee


def invoice_balances(*, phase: Phase) -> list[InvoiceBalance]:
    """Every invoiced private university of the phase whose licenses and invoices differ."""
    billed = Invoice.objects.filter(phase=phase).exclude(status=InvoiceStatus.CANCELLED)
    sums = {
        row["university_id"]: row
        for row in billed.values("university_id").annotate(
            invoiced=Sum("licenses"), paid=Sum("licenses", filter=Q(status=InvoiceStatus.PAID))
        )
    }
    held = dict(Quota.objects.filter(phase=phase, university_id__in=sums).values_list("university_id", "licenses"))
    balances = [
        InvoiceBalance(
            university=university,
            licenses=held.get(university.pk, 0),
            invoiced=sums[university.pk]["invoiced"] or 0,
            paid=sums[university.pk]["paid"] or 0,
            unit_fee=phase.private_fee_rupees,
        )
        for university in University.objects.filter(pk__in=sums).order_by("name")
    ]
    return [b for b in balances if b.to_invoice or b.credit_licenses]


def payments_waiting_count() -> int:
    """Alumni payments (a scan or a transcript) waiting for HEC staff to verify or reject them."""
    return AlumniPayment.objects.filter(status=PaymentStatus.SUBMITTED).count()


def scroll_rows_waiting_count() -> int:
    """Bank scroll rows that matched no bill by themselves and wait for HEC staff."""
    return UnmatchedScrollRow.objects.filter(state=ScrollRowState.OPEN).count()
