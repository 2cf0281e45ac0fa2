"""Reads of the fees app used by its pages, the admin and commands."""

import dataclasses
import enum

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext as _

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


class FeeKind(enum.Enum):
    """How a learner's license is paid for."""

    CHALLAN = enum.auto()  # an alumnus pays HEC the alumni fee by bank challan
    DEPOSIT = enum.auto()  # a public or NAHE learner pays the refundable deposit to the focal person
    WAIVER = enum.auto()  # a reserved disability seat: free once HEC checks the certificate
    INVOICE = enum.auto()  # a private university's learner: the university pays HEC's invoice


@dataclasses.dataclass
class LearnerFees:
    """What the learner's own page shows about the money side of their nomination."""

    kind: FeeKind
    challan: Challan | None = None
    payments: list[AlumniPayment] = dataclasses.field(default_factory=list)
    deposit: Deposit | None = None
    waiver: DisabilityWaiver | None = None
    invoice: Invoice | None = None
    bill_payment: BillPayment | None = None  # the challan paid through 1Bill or a bank scroll

    @property
    def by_challan(self) -> bool:
        return self.kind is FeeKind.CHALLAN

    @property
    def by_deposit(self) -> bool:
        return self.kind is FeeKind.DEPOSIT

    @property
    def by_waiver(self) -> bool:
        return self.kind is FeeKind.WAIVER

    @property
    def by_invoice(self) -> bool:
        return self.kind is FeeKind.INVOICE

    @property
    def latest_payment(self) -> AlumniPayment | None:
        return self.payments[0] if self.payments else None

    @property
    def proof_uploaded(self) -> bool:
        """The alumnus's newest upload is waiting for HEC or verified (not rejected)."""
        return self.latest_payment is not None and not self.latest_payment.is_rejected


def learner_fees(*, nomination: Nomination) -> LearnerFees:
    if nomination.pool == Pool.ALUMNI:
        challan = Challan.objects.filter(nomination=nomination, cancelled_at__isnull=True).first()
        return LearnerFees(
            kind=FeeKind.CHALLAN,
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
        return LearnerFees(kind=FeeKind.INVOICE, invoice=invoice)
    if nomination.holds_disability_seat:
        return LearnerFees(kind=FeeKind.WAIVER, waiver=DisabilityWaiver.objects.filter(nomination=nomination).first())
    return LearnerFees(
        kind=FeeKind.DEPOSIT, deposit=Deposit.objects.filter(nomination=nomination, superseded_by__isnull=True).first()
    )


def challan_issue_refusal(*, nomination: Nomination) -> str:
    """Why no new challan can be issued to this learner now, or "" when one can: only to an
    alumnus holding a seat whose fee is not settled and whose payment hold is running.

    challan_issue refuses with it, and the learner's page offers the challan by it
    (:func:`challan_available`).
    """
    if nomination.pool != Pool.ALUMNI:
        return _("Only alumni pay by bank challan; students and faculty pay through their university.")
    if not nomination.is_seated:
        return _("A challan is issued only for a seat you hold; the status of your registration is “%(status)s”.") % {
            "status": nomination.get_status_display()
        }
    if nomination.settled_at is not None:
        return _("Your fee is already settled; there is nothing more to pay.")
    if nomination.hold_expires_at is None:
        return _("Your seat is not waiting for a payment, so no challan can be issued now.")
    return ""


def challan_available(*, nomination: Nomination, challan: Challan | None) -> bool:
    """Whether the learner's page offers the challan: the current one to download, or a first one
    that challan_issue would issue now."""
    return challan is not None or not challan_issue_refusal(nomination=nomination)


def alumni_payment_refusal(*, nomination: Nomination, latest: AlumniPayment | None) -> str:
    """Why the alumnus cannot send their paid challan (or, when the bank reported it paid, their
    transcript) for HEC's check now, or "" when they can: seated, not settled, and their newest
    upload (``latest``, if any) rejected.

    alumni_payment_submit refuses with it, and the learner's page shows the upload form exactly
    when it is "".
    """
    if nomination.pool != Pool.ALUMNI:
        return _("Only alumni upload a paid challan.")
    if not nomination.is_seated:
        return _("A payment cannot be accepted: the status of your registration is “%(status)s”.") % {
            "status": nomination.get_status_display()
        }
    if latest is not None and latest.is_verified:
        return _("Your payment is already verified; there is nothing more to upload.")
    if latest is not None and latest.is_submitted:
        return _("Your earlier upload is still waiting for HEC to check it; please wait for their answer.")
    if nomination.settled_at is not None:
        return _("Your fee is already settled; there is nothing more to pay.")
    return ""


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
