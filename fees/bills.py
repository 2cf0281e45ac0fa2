"""Bills payable by consumer number (alumni challans, private invoices, universities' remittances of
forfeited deposits) and the payments the
banks report for them, through 1Bill's biller API (fees.views_onebill) or a bank scroll
(fees.scrolls). Both post through :func:`bill_payments_post`, so a payment is judged and posted
the same way whichever way it arrived.

A payment posts in one transaction with its audit entry, holding the bill's row lock: a second
report of the same payment (the bank retrying, a scroll listing what 1Bill already posted, two
requests at the same moment) waits for the first and is then answered "duplicate"; the unique
bill of a :class:`~fees.models.BillPayment` backs this up in the database.

- An alumni challan paid: its payment hold is lifted (the seat no longer expires); the alumnus
  then uploads only the final transcript, which HEC staff still check before the invitation.
- A private invoice paid: marked paid as HEC staff would (fees.invoices.invoice_mark_paid), so the
  university's learners are cleared through registrations.
- A remittance paid: HEC sees the university has remitted its forfeited deposits.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from core.mail import bilingual_email_from
from registrations.models import Nomination, NominationStatus
from registrations.services import alumni_hold_set

from . import onebill
from .emails import email_queue
from .invoices import invoice_mark_paid
from .models import (
    AlumniPayment,
    BankScroll,
    BillPayment,
    Challan,
    Invoice,
    InvoiceStatus,
    PaymentChannel,
    PaymentStatus,
    Remittance,
)
from .onebill import IncomingPayment

# A private invoice has no due date of its own; the bank network needs one to show.
INVOICE_DUE_DAYS = 30
PAYER_NAME_MAX = 30


@dataclass(frozen=True)
class Bill:
    """A challan, an invoice or a remittance, seen as 1Bill sees a bill."""

    challan: Challan | None = None
    invoice: Invoice | None = None
    remittance: Remittance | None = None

    @property
    def row(self) -> Challan | Invoice | Remittance:
        return self.challan or self.invoice or self.remittance

    @property
    def kind(self) -> str:
        return "challan" if self.challan else "invoice" if self.invoice else "remittance"

    @property
    def amount(self) -> int:
        return self.row.amount

    @property
    def late_fee(self) -> int:
        """What the phase adds when the bill is paid after its due date (0 unless the phase sets one)."""
        return self.row.nomination.phase.late_fee_rupees if self.challan else self.row.phase.late_fee_rupees

    def amount_on(self, day: datetime.date) -> int:
        return self.amount + (self.late_fee if day > self.due_date else 0)

    @property
    def payer(self) -> str:
        name = self.challan.payer_name if self.challan else self.row.university.name
        return " ".join(name.split())[:PAYER_NAME_MAX]

    @property
    def due_date(self) -> datetime.date:
        if self.challan:
            return self.challan.due_date
        return timezone.localdate(self.row.issued_at) + datetime.timedelta(days=INVOICE_DUE_DAYS)

    @property
    def issued_on(self) -> datetime.date:
        return timezone.localdate(self.row.issued_at)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.row.number}"


def bill_find(*, consumer_number: str) -> Bill | None:
    challan = Challan.objects.select_related("nomination").filter(consumer_number=consumer_number).first()
    if challan is not None:
        return Bill(challan=challan)
    invoice = Invoice.objects.select_related("university", "phase").filter(consumer_number=consumer_number).first()
    if invoice is not None:
        return Bill(invoice=invoice)
    remittance = Remittance.objects.select_related("university").filter(consumer_number=consumer_number).first()
    return Bill(remittance=remittance) if remittance is not None else None


def bill_payment_of(bill: Bill) -> BillPayment | None:
    return BillPayment.objects.filter(
        **({"challan": bill.challan} if bill.challan else {"invoice": bill.invoice})
    ).first()


def bill_status(*, bill: Bill, now: datetime.datetime | None = None) -> str:
    """``P`` paid (by a bank, by a scan HEC has or is checking, or marked paid), ``B`` blocked
    (cancelled, or an alumni seat no longer held: hold expired, withdrawn…), else ``U``."""
    now = now or timezone.now()
    if bill_payment_of(bill) is not None:
        return onebill.PAID
    if bill.remittance is not None:
        return onebill.UNPAID
    if bill.invoice is not None:
        if bill.invoice.status == InvoiceStatus.PAID:
            return onebill.PAID
        return onebill.BLOCKED_STATUS if bill.invoice.status == InvoiceStatus.CANCELLED else onebill.UNPAID
    challan = bill.challan
    nomination = challan.nomination
    scanned = AlumniPayment.objects.filter(
        challan=challan, status__in=[PaymentStatus.SUBMITTED, PaymentStatus.VERIFIED]
    ).exclude(paid_challan="")
    if nomination.settled_at is not None or scanned.exists():
        return onebill.PAID
    if challan.cancelled_at is not None or nomination.status != NominationStatus.SEATED:
        return onebill.BLOCKED_STATUS
    if nomination.hold_expires_at is not None and nomination.hold_expires_at < now:
        return onebill.BLOCKED_STATUS
    return onebill.UNPAID


def bill_inquiry(*, consumer_number: str) -> dict:
    """The BillInquiry answer for a consumer number already checked for shape."""
    empty = {
        "consumer_Detail": "", "bill_status": "", "due_date": "", "amount_within_dueDate": "",
        "amount_after_dueDate": "", "billing_month": "", "date_paid": "", "amount_paid": "", "tran_auth_Id": "",
        "reserved": "",
    }  # fmt: skip
    bill = bill_find(consumer_number=consumer_number)
    if bill is None:
        return {"response_Code": onebill.NOT_FOUND, **empty}
    status = bill_status(bill=bill)
    payment = bill_payment_of(bill)
    if payment is not None:
        date_paid, amount_paid, auth = timezone.localdate(payment.paid_at), payment.amount, payment.tran_auth_id
    elif status == onebill.PAID and bill.invoice is not None and bill.invoice.paid_at:
        date_paid, amount_paid, auth = timezone.localdate(bill.invoice.paid_at), bill.amount, ""
    else:
        date_paid, amount_paid, auth = None, None, ""
    return {
        "response_Code": onebill.BLOCKED if status == onebill.BLOCKED_STATUS else onebill.DONE,
        "consumer_Detail": bill.payer,
        "bill_status": status,
        "due_date": onebill.day_format(bill.due_date),
        "amount_within_dueDate": onebill.amount_signed(bill.amount),
        "amount_after_dueDate": onebill.amount_signed(bill.amount + bill.late_fee),
        "billing_month": onebill.month_format(bill.issued_on),
        "date_paid": onebill.day_format(date_paid),
        "amount_paid": onebill.amount_signed(amount_paid) if amount_paid is not None else "",
        "tran_auth_Id": auth,
        "reserved": "",
    }


@dataclass(frozen=True)
class PostResult:
    """What became of one reported payment: a 1Bill response code, and why in words."""

    code: str
    reason: str = ""
    payment: BillPayment | None = None
    expected: int | None = None  # rupees, when the amount was not the bill's

    @property
    def posted(self) -> bool:
        return self.code == onebill.DONE


def _lock_bill(bill: Bill) -> Bill:
    if bill.challan is not None:
        # The nomination first, as every alumni payment service locks it.
        Nomination.objects.select_for_update(of=("self",)).filter(pk=bill.challan.nomination_id).first()
        challan = Challan.objects.select_for_update(of=("self",)).select_related("nomination").get(pk=bill.challan.pk)
        return Bill(challan=challan)
    if bill.remittance is not None:
        remittance = Remittance.objects.select_for_update(of=("self",)).select_related("university")
        return Bill(remittance=remittance.get(pk=bill.remittance.pk))
    invoice = Invoice.objects.select_for_update(of=("self",)).select_related("university", "phase")
    return Bill(invoice=invoice.get(pk=bill.invoice.pk))


def _post_one(*, incoming: IncomingPayment, channel: str, actor: Any, scroll: BankScroll | None) -> PostResult:
    bill = bill_find(consumer_number=incoming.consumer_number)
    if bill is None:
        return PostResult(onebill.NOT_FOUND, _("No challan or invoice has this consumer number."))
    with transaction.atomic():
        bill = _lock_bill(bill)
        same = BillPayment.objects.filter(
            consumer_number=incoming.consumer_number, bank_mnemonic=incoming.bank, tran_auth_id=incoming.tran_auth_id
        ).first()
        if same is not None:
            return PostResult(onebill.DUPLICATE, _("This payment was already posted."), payment=same)
        status = bill_status(bill=bill)
        if status == onebill.PAID:
            return PostResult(onebill.DUPLICATE, _("This bill is already paid."), payment=bill_payment_of(bill))
        if status == onebill.BLOCKED_STATUS:
            return PostResult(onebill.BLOCKED, _("This bill is cancelled or its seat is no longer held."))
        due = bill.amount_on(timezone.localdate(incoming.paid_at))
        if incoming.amount_paisa != due * 100:
            return PostResult(
                onebill.INVALID,
                _("The amount paid is not the amount of the bill (no partial payments)."),
                expected=due,
            )
        try:
            with transaction.atomic():
                payment = BillPayment.objects.create(
                    consumer_number=incoming.consumer_number,
                    challan=bill.challan,
                    invoice=bill.invoice,
                    remittance=bill.remittance,
                    channel=channel,
                    amount=due,
                    bank_mnemonic=incoming.bank,
                    tran_auth_id=incoming.tran_auth_id,
                    paid_at=incoming.paid_at,
                    posted_by=actor if getattr(actor, "pk", None) else None,
                    scroll=scroll,
                )
        except IntegrityError:  # only if the lock above were bypassed: the database refuses a second payment
            return PostResult(onebill.DUPLICATE, _("This bill is already paid."))
        audit_record(
            actor=actor,
            action="bill.pay",
            target=payment,
            summary=f"{bill.label} ({incoming.consumer_number}) paid {due} rupees through {channel}, "
            f"{incoming.bank} {incoming.tran_auth_id}",
            data={
                "consumer_number": incoming.consumer_number,
                "channel": channel,
                "bank": incoming.bank,
                "tran_auth_id": incoming.tran_auth_id,
                "amount": due,
                "paid_at": incoming.paid_at.isoformat(),
            },
        )
        if bill.challan is not None:
            alumni_hold_set(nomination=bill.challan.nomination, until=None, actor=actor)
            email_queue(kind="challan_paid", object_id=payment.pk)
        elif bill.invoice is not None:
            invoice_mark_paid(
                invoice=bill.invoice,
                reference=f"{channel} {incoming.bank} {incoming.tran_auth_id}",
                actor=actor if getattr(actor, "pk", None) else None,
            )
    return PostResult(onebill.DONE, payment=payment)


def challan_paid_email_send(*, payment_id: int) -> None:
    """Tell the alumnus the bank's payment arrived and that only the transcript is left (after commit)."""
    payment = BillPayment.objects.select_related("challan__nomination").get(pk=payment_id)
    nomination = payment.challan.nomination
    context = {
        "nomination": nomination,
        "payment": payment,
        "page_url": settings.SITE_URL.rstrip("/") + reverse("fees:my_license"),
    }
    bilingual_email_from(prefix="fees/email/challan_paid", context=context, to=[nomination.email], html=False).send()


def bill_payments_post(
    *, payments: list[IncomingPayment], channel: str, actor: Any, scroll: BankScroll | None = None
) -> list[PostResult]:
    """Post each reported payment to its bill, each in its own transaction; one result each."""
    if channel not in PaymentChannel.values:
        raise ValueError(channel)
    return [_post_one(incoming=incoming, channel=channel, actor=actor, scroll=scroll) for incoming in payments]
