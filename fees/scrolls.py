"""Bank scrolls: the list a bank or branch outside 1Bill sends of the bills it collected.

Each row (``consumer_number, amount, paid_on, tran_auth_id, bank``) is posted exactly as a
BillPayment from 1Bill would be (fees.bills.bill_payments_post), so importing the same scroll
twice posts nothing the second time, and a row 1Bill already posted counts as already paid. A row
that cannot post by itself (no such bill, another amount, a blocked bill, unreadable) waits in a
queue (:class:`~fees.models.UnmatchedScrollRow`) until HEC staff match it to a bill or dismiss
it, with a reason.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from core.dates import day_parse
from core.tabular import TableRefused, read_table

from . import bills, onebill
from .exceptions import FeeError
from .models import BankScroll, PaymentChannel, ScrollRowState, UnmatchedScrollRow
from .onebill import IncomingPayment

COLUMNS = ["consumer_number", "amount", "paid_on", "tran_auth_id", "bank"]
SCROLL_MAX_BYTES = 5 * 1024 * 1024
SCROLL_MAX_ROWS = 20_000


@dataclass
class ScrollReport:
    posted: int = 0
    already_paid: int = 0
    unmatched: list[dict] = field(default_factory=list)
    amount_mismatch: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "posted": self.posted,
            "already_paid": self.already_paid,
            "unmatched": self.unmatched,
            "amount_mismatch": self.amount_mismatch,
        }


def _rupees_paisa(text: str) -> int:
    """``"8,000"``, ``"8000.00"``, ``"Rs 8000"`` → 800000 paisa; ValueError when unreadable."""
    cleaned = text.replace(",", "").replace("Rs.", "").replace("Rs", "").replace("PKR", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(text) from None
    paisa = amount * 100
    if amount <= 0 or paisa != paisa.to_integral_value():
        raise ValueError(text)
    return int(paisa)


def _row_read(row: dict) -> IncomingPayment:
    """A scroll row as a reported payment; ValueError with the reason when it cannot be one."""
    number = "".join(row["consumer_number"].split()).replace("-", "")
    if not onebill.CONSUMER_NUMBER.match(number):
        raise ValueError(_("“%(value)s” is not an 18-digit consumer number.") % {"value": row["consumer_number"]})
    try:
        paisa = _rupees_paisa(row["amount"])
    except ValueError:
        raise ValueError(_("“%(value)s” is not an amount in rupees.") % {"value": row["amount"]}) from None
    paid_on = day_parse(row["paid_on"], not_after_today=True)
    tran_auth_id, bank = row["tran_auth_id"].strip(), row["bank"].strip().upper()
    if not tran_auth_id or len(tran_auth_id) > 20:
        raise ValueError(_("The transaction id is missing or longer than 20 characters."))
    if not bank or len(bank) > 20:
        raise ValueError(_("The bank is missing or longer than 20 characters."))
    paid_at = timezone.make_aware(datetime.datetime.combine(paid_on, datetime.time.min))
    return IncomingPayment(consumer_number=number, amount_paisa=paisa, paid_at=paid_at, tran_auth_id=tran_auth_id,
                           bank=bank)  # fmt: skip


def _queue(*, scroll: BankScroll, row: dict, reason: str, paid_on: datetime.date | None) -> None:
    """Queue the row for HEC staff, unless the same row from an earlier scroll is already there."""
    values = {
        "consumer_number": row["consumer_number"][:40],
        "amount": row["amount"][:40],
        "paid_on": paid_on,
        "tran_auth_id": row["tran_auth_id"][:40],
        "bank": row["bank"][:40],
    }
    if not UnmatchedScrollRow.objects.filter(**values).exists():
        UnmatchedScrollRow.objects.create(scroll=scroll, row_number=row["_row"], reason=reason[:200], **values)


def bank_scroll_import(*, data: bytes, filename: str, actor: Any) -> tuple[BankScroll, ScrollReport]:
    """Import a scroll (CSV or XLSX): post what matches, queue what does not, report both."""
    try:
        rows = read_table(data, filename=filename, required=COLUMNS, optional=[], max_bytes=SCROLL_MAX_BYTES,
                          max_rows=SCROLL_MAX_ROWS)  # fmt: skip
    except TableRefused as refused:
        raise FeeError(refused.message) from refused
    scroll = BankScroll(filename=filename[:255], imported_by=actor if getattr(actor, "pk", None) else None)
    scroll.file.save(filename.rsplit("/", 1)[-1][:100] or "scroll", ContentFile(data), save=False)
    scroll.save()
    report = ScrollReport()
    for row in rows:
        try:
            incoming = _row_read(row)
        except ValueError as error:
            report.unmatched.append({"row": row["_row"], "reason": str(error)})
            with transaction.atomic():
                _queue(scroll=scroll, row=row, reason=str(error), paid_on=None)
            continue
        (result,) = bills.bill_payments_post(
            payments=[incoming], channel=PaymentChannel.SCROLL, actor=actor, scroll=scroll
        )
        if result.code == onebill.DONE:
            report.posted += 1
            continue
        if result.code == onebill.DUPLICATE:
            report.already_paid += 1
            continue
        if result.expected is not None:
            found = incoming.amount_paisa / 100
            report.amount_mismatch.append(
                {"row": row["_row"], "expected": result.expected, "found": int(found) if found.is_integer() else found}
            )
        else:
            report.unmatched.append({"row": row["_row"], "reason": result.reason})
        with transaction.atomic():
            _queue(scroll=scroll, row=row, reason=result.reason, paid_on=timezone.localdate(incoming.paid_at))
    with transaction.atomic():
        scroll.result = report.as_json()
        scroll.save(update_fields=["result"])
        audit_record(
            actor=actor,
            action="bank_scroll.import",
            target=scroll,
            summary=f"Bank scroll {filename}: {report.posted} posted, {report.already_paid} already paid, "
            f"{len(report.unmatched)} unmatched, {len(report.amount_mismatch)} amount mismatch",
            data=report.as_json(),
        )
    return scroll, report


def _resolvable(row: UnmatchedScrollRow) -> UnmatchedScrollRow:
    locked = UnmatchedScrollRow.objects.select_for_update().get(pk=row.pk)
    if locked.state != ScrollRowState.OPEN:
        raise FeeError(
            _("This row was already resolved (“%(state)s”); nothing was changed.")
            % {"state": locked.get_state_display()}
        )
    return locked


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise FeeError(_("Say why; the reason is kept with the row."))
    return reason


def scroll_row_match(*, row: UnmatchedScrollRow, consumer_number: str, reason: str, actor: Any) -> UnmatchedScrollRow:
    """HEC staff match a queued row to the bill it pays: posted as the scroll's payment of that bill."""
    reason = _reason(reason)
    number = "".join((consumer_number or "").split())
    if not onebill.CONSUMER_NUMBER.match(number):
        raise FeeError(_("Enter the 18-digit consumer number of the bill this row pays."))
    with transaction.atomic():
        locked = _resolvable(row)
        try:
            paisa = _rupees_paisa(locked.amount)
        except ValueError:
            unreadable = _("The amount of this row cannot be read; dismiss it and settle it with the bank.")
            raise FeeError(unreadable) from None
        paid_on = locked.paid_on or timezone.localdate()
        incoming = IncomingPayment(
            consumer_number=number,
            amount_paisa=paisa,
            paid_at=timezone.make_aware(datetime.datetime.combine(paid_on, datetime.time.min)),
            tran_auth_id=locked.tran_auth_id[:20] or f"row-{locked.pk}",
            bank=(locked.bank[:20] or "SCROLL").upper(),
        )
        (result,) = bills.bill_payments_post(
            payments=[incoming], channel=PaymentChannel.SCROLL, actor=actor, scroll=locked.scroll
        )
        if not result.posted:
            raise FeeError(
                _("The row could not be posted to bill %(number)s: %(reason)s") % {"number": number,
                                                                                    "reason": result.reason}
            )  # fmt: skip
        locked.state, locked.payment = ScrollRowState.MATCHED, result.payment
        locked.resolved_by, locked.resolved_at, locked.resolution = actor, timezone.now(), reason
        locked.save(update_fields=["state", "payment", "resolved_by", "resolved_at", "resolution"])
        audit_record(
            actor=actor,
            action="bank_scroll.row_match",
            target=locked,
            summary=f"Scroll row {locked.pk} matched to {number}: {reason}",
            data={"consumer_number": number, "reason": reason, "payment": result.payment.pk},
        )
    return locked


def scroll_row_dismiss(*, row: UnmatchedScrollRow, reason: str, actor: Any) -> UnmatchedScrollRow:
    """HEC staff set a queued row aside (not a DLSEI payment, refunded by the bank…), with the reason."""
    reason = _reason(reason)
    with transaction.atomic():
        locked = _resolvable(row)
        locked.state = ScrollRowState.DISMISSED
        locked.resolved_by, locked.resolved_at, locked.resolution = actor, timezone.now(), reason
        locked.save(update_fields=["state", "resolved_by", "resolved_at", "resolution"])
        audit_record(
            actor=actor,
            action="bank_scroll.row_dismiss",
            target=locked,
            summary=f"Scroll row {locked.pk} dismissed: {reason}",
            data={"reason": reason},
        )
    return locked
