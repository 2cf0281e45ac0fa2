"""Refunds paid, not only decided: the learner's IBAN, the focal person's payout sheet, and the
sheet coming back with the bank's reference of each transfer.

- A learner whose refund is due enters an IBAN and the account title on their page
  (:func:`refund_account_set`); a Pakistani IBAN is checked as ISO 13616 says (:func:`iban_check`).
- The focal person (their university holds the deposits) downloads the payout sheet
  (:func:`payout_sheet_rows`) of their learners with a refund due and an IBAN; those without an
  IBAN are listed apart and can be reminded by e-mail (:func:`refund_iban_reminders_send`).
- The sheet uploaded back with a ``paid_reference`` column records each refund as paid
  (:func:`refund_payouts_record`); the learner then sees "Refunded on DATE, reference …".
"""

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, audit_records
from core.mail import bilingual_email_from
from core.tabular import TableRefused, read_table
from quotas.models import Phase, University
from registrations.models import Nomination

from .emails import email_queue
from .exceptions import FeeError
from .models import RefundAccount, RefundDecision, RefundPayment
from .refunds import REFUND, current_decisions, refund_decision_current, refund_status

IBAN_LENGTH_PK = 24
SHEET_COLUMNS = ["reference", "full_name", "iban", "account_title", "amount", "paid_reference"]
SHEET_MAX_BYTES = 5 * 1024 * 1024
SHEET_MAX_ROWS = 20_000
REFERENCE = re.compile(r"^DLSEI-RF-([0-9]{7})$")


# IBAN -----------------------------------------------------------------------------------------


def iban_check(value: str) -> str:
    """The IBAN as stored (no spaces, capitals), or FeeError saying what is wrong with it."""
    iban = "".join((value or "").split()).upper()
    if not iban:
        raise FeeError(_("Enter the IBAN of the account the refund should be paid to."))
    if not iban.isalnum() or not iban.isascii():
        raise FeeError(_("An IBAN has only letters and digits (spaces are fine)."))
    if not iban.startswith("PK"):
        raise FeeError(_("Enter a Pakistani IBAN: it starts with PK."))
    if len(iban) != IBAN_LENGTH_PK:
        raise FeeError(
            _("A Pakistani IBAN has 24 characters; this one has %(count)d. Copy it from your cheque book or bank app.")
            % {"count": len(iban)}
        )
    if not (iban[2:4].isdigit() and iban[4:8].isalpha() and iban[8:].isdigit()):
        raise FeeError(_("A Pakistani IBAN is PK, 2 digits, 4 letters of the bank, then 16 digits."))
    # ISO 13616: the first four characters moved to the end, letters as numbers (A = 10 … Z = 35).
    digits = "".join(str(int(char, 36)) for char in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        raise FeeError(
            _("The check digits of this IBAN do not match the rest: a character is mistyped. Please check it.")
        )
    return iban


def iban_spaced(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


# The learner's side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LearnerRefund:
    """What the learner's page shows about paying the refund out."""

    due: bool
    decision: RefundDecision | None
    account: RefundAccount | None
    payment: RefundPayment | None


def learner_refund(*, nomination: Nomination) -> LearnerRefund:
    decision = refund_decision_current(nomination=nomination)
    if decision is not None:
        due = decision.decision == REFUND
    else:
        due = refund_status(nomination=nomination, as_of=timezone.localdate())[0] == REFUND
    return LearnerRefund(
        due=due,
        decision=decision,
        account=RefundAccount.objects.filter(nomination=nomination).first(),
        payment=RefundPayment.objects.filter(decision=decision).first() if decision is not None else None,
    )


def refund_account_set(*, nomination: Nomination, iban: str, account_title: str, actor: Any) -> RefundAccount:
    """The learner names the account their refund is paid to (a new row; the newest counts)."""
    iban = iban_check(iban)
    account_title = " ".join((account_title or "").split())
    if not account_title:
        raise FeeError(_("Enter the title of the account, as the bank has it."))
    if len(account_title) > 100:
        raise FeeError(_("The account title is too long (at most 100 characters)."))
    with transaction.atomic():
        locked = Nomination.objects.select_for_update().get(pk=nomination.pk)
        refund = learner_refund(nomination=locked)
        if not refund.due:
            raise FeeError(_("No refund is due to you, so no account is needed."))
        if refund.payment is not None:
            raise FeeError(_("Your refund is already paid; the account can no longer be changed."))
        account = RefundAccount.objects.create(
            nomination=locked, iban=iban, account_title=account_title, entered_by=actor
        )
        audit_record(
            actor=actor,
            action="refund_account.set",
            target=account,
            summary=f"Refund account of nomination {locked.pk} set to {iban[:4]}…{iban[-4:]}",
            data={"nomination": locked.pk},
        )
    return account


# The focal person's side ------------------------------------------------------------------------


def payout_reference(decision_id: int) -> str:
    return f"DLSEI-RF-{decision_id:07d}"


def refunds_unpaid(*, phase: Phase, university: University) -> QuerySet:
    """The university's current refund decisions of the phase not paid out yet, with the learner."""
    return (
        current_decisions()
        .filter(decision=REFUND, nomination__phase=phase, nomination__university=university)
        .filter(~Exists(RefundPayment.objects.filter(decision=OuterRef("pk"))))
        .select_related("nomination")
        .order_by("nomination__full_name", "pk")
    )


@dataclass
class PayoutSheet:
    rows: list[list] = field(default_factory=list)
    without_iban: list[Nomination] = field(default_factory=list)


def payout_sheet(*, phase: Phase, university: University) -> PayoutSheet:
    """The rows of the payout sheet (``SHEET_COLUMNS``), and the learners who have no IBAN yet."""
    sheet = PayoutSheet()
    decisions = list(refunds_unpaid(phase=phase, university=university))
    accounts: dict[int, RefundAccount] = {}
    for account in RefundAccount.objects.filter(nomination__in=[d.nomination_id for d in decisions]).order_by(
        "entered_at", "id"
    ):
        accounts[account.nomination_id] = account  # the newest wins
    for decision in decisions:
        account = accounts.get(decision.nomination_id)
        if account is None:
            sheet.without_iban.append(decision.nomination)
            continue
        sheet.rows.append(
            [payout_reference(decision.pk), decision.nomination.full_name, account.iban, account.account_title,
             decision.amount, ""]
        )  # fmt: skip
    return sheet


def refund_iban_reminders_send(*, phase: Phase, university: University, actor: Any) -> int:
    """E-mail every learner of the university with a refund due and no IBAN yet (after commit)."""
    missing = payout_sheet(phase=phase, university=university).without_iban
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="refund_account.remind",
            target=university,
            summary=f"{len(missing)} learner(s) of {university.code} reminded to enter an IBAN for their refund",
            data={"phase": phase.slug, "nominations": [n.pk for n in missing]},
        )
        for nomination in missing:
            email_queue(kind="refund_iban_reminder", object_id=nomination.pk)
    return len(missing)


def iban_reminder_email_send(*, nomination_id: int) -> None:
    """Remind one learner with a refund due to enter the IBAN it is paid to (by fees.tasks)."""
    nomination = Nomination.objects.select_related("university").get(pk=nomination_id)
    bilingual_email_from(
        prefix="fees/email/refund_iban_reminder",
        context={"nomination": nomination, "page_url": settings.SITE_URL.rstrip("/") + reverse("fees:my_license")},
        to=[nomination.email],
        html=False,
    ).send()


@dataclass
class PayoutReport:
    paid: int = 0
    already_paid: int = 0
    not_paid_yet: int = 0


def refund_payouts_record(
    *, phase: Phase, university: University, data: bytes, filename: str, paid_on: datetime.date, actor: Any
) -> PayoutReport:
    """The payout sheet back from the bank: every row with a ``paid_reference`` records its refund
    as paid on ``paid_on`` (:func:`refund_payments_record`). A row that names no refund of the
    university refuses the file, naming the row, and nothing is recorded."""
    try:
        rows = read_table(data, filename=filename, required=["reference", "paid_reference"],
                          optional=[c for c in SHEET_COLUMNS if c not in ("reference", "paid_reference")],
                          max_bytes=SHEET_MAX_BYTES, max_rows=SHEET_MAX_ROWS)  # fmt: skip
    except TableRefused as refused:
        raise FeeError(refused.message) from refused
    wanted = {row["_row"]: (row["reference"], row["paid_reference"]) for row in rows}
    return refund_payments_record(phase=phase, university=university, paid=wanted, paid_on=paid_on, actor=actor)


def refund_payments_record(
    *, phase: Phase, university: University, paid: dict[int, tuple[str, str]], paid_on: datetime.date, actor: Any
) -> PayoutReport:
    """Record refunds as paid on ``paid_on``: ``paid`` maps a row number (as people see it) to the
    payout sheet's reference and the bank's paid reference (blank: not paid yet). One transaction:
    a row that names no refund due to a learner of the university refuses all, naming the row."""
    if paid_on > timezone.localdate():
        raise FeeError(_("The day the refunds were paid cannot be in the future."))
    wanted = {}
    for number, (reference, paid_reference) in paid.items():
        match = REFERENCE.match((reference or "").strip())
        if match is None:
            raise FeeError(
                _("Row %(row)d: “%(reference)s” is not a reference of the payout sheet. Nothing was recorded.")
                % {"row": number, "reference": reference}
            )
        wanted[number] = (int(match.group(1)), (paid_reference or "").strip())
    report = PayoutReport()
    with transaction.atomic():
        university_decisions = current_decisions().filter(
            decision=REFUND, nomination__phase=phase, nomination__university=university
        )
        decisions = university_decisions.select_for_update(of=("self",)).in_bulk([pk for pk, _paid in wanted.values()])
        paid_already = set(
            RefundPayment.objects.filter(decision_id__in=list(decisions)).values_list("decision_id", flat=True)
        )
        accounts: dict[int, RefundAccount] = {}
        nominations = [d.nomination_id for d in decisions.values()]
        for account in RefundAccount.objects.filter(nomination__in=nominations).order_by("entered_at", "id"):
            accounts[account.nomination_id] = account
        payments = []
        for number, (pk, paid_reference) in wanted.items():
            decision = decisions.get(pk)
            if decision is None:
                raise FeeError(
                    _(
                        "Row %(row)d: %(reference)s is not a refund due to a learner of %(university)s. "
                        "Nothing was recorded."
                    )
                    % {"row": number, "reference": payout_reference(pk), "university": university.name}
                )
            if not paid_reference:
                report.not_paid_yet += 1
                continue
            if pk in paid_already:
                report.already_paid += 1
                continue
            account = accounts.get(decision.nomination_id)
            if account is None:
                raise FeeError(
                    _("Row %(row)d: the learner has entered no IBAN, so the refund cannot have been paid to it.")
                    % {"row": number}
                )
            if len(paid_reference) > 100:
                raise FeeError(
                    _("Row %(row)d: the paid reference is too long (at most 100 characters).") % {"row": number}
                )
            paid_already.add(pk)
            payments.append(
                RefundPayment(
                    decision=decision,
                    amount=decision.amount,
                    iban=account.iban,
                    account_title=account.account_title,
                    paid_reference=paid_reference,
                    paid_on=paid_on,
                    recorded_by=actor,
                )  # fmt: skip
            )
        RefundPayment.objects.bulk_create(payments)
        audit_records(
            actor=actor,
            action="refund.paid",
            entries=[
                (
                    payment,
                    f"Refund {payout_reference(payment.decision_id)} of {payment.amount} rupees paid, "
                    f"reference {payment.paid_reference}",
                    {"paid_reference": payment.paid_reference, "paid_on": paid_on.isoformat()},
                )
                for payment in payments
            ],  # fmt: skip
        )
        report.paid = len(payments)
    return report
