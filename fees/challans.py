"""The alumnus's bank challan (`challan_issue`, `challan_pdf`), and the numbers that are never
reused, which invoices and remittances take too.

Numbers come from `NumberSequence`: inside the transaction that writes the document, one
conditional `UPDATE … SET last_number = last_number + 1` on the kind's row for the year. The
UPDATE takes the row's write lock (PostgreSQL) or the database's write lock (SQLite, whose
transactions begin IMMEDIATE in this project), so a second request waits for the first to commit
and then counts on from the committed value: no two documents can get the same number.

The challan is one A4 page with three copies (bank, HEC, depositor), drawn by WeasyPrint from
`templates/fees/pdf/challan.html`. It is drawn once, from the database row only, stored, and the
stored bytes are served on every later download.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from audit.services import audit_record
from registrations.cnic import cnic_mask
from registrations.models import Nomination, NominationStatus

from .exceptions import FeeError
from .locks import nomination_lock
from .models import AlumniPayment, Challan, NumberSequence, PaymentStatus
from .selectors import challan_issue_refusal
from .words import rupees_in_words

CHALLAN = "challan"
INVOICE = "invoice"
# One counter for every bill payable by consumer number (challans, invoices, remittances), never
# per year: a consumer number is unique across all of them and is never given out twice.
CONSUMER = "consumer"
CONSUMER_SERIAL_DIGITS = 13
COPIES = (gettext_noop("Bank copy"), gettext_noop("HEC copy"), gettext_noop("Depositor copy"))


def number_next(*, kind: str, year: int) -> int:
    """The next number of `kind` in `year`; call inside the transaction that uses it."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("number_next must run inside the transaction that writes the document")
    if not NumberSequence.objects.filter(kind=kind, year=year).exists():
        try:
            with transaction.atomic():  # a savepoint: losing the race to create the row is fine
                NumberSequence.objects.create(kind=kind, year=year)
        except IntegrityError:
            pass
    NumberSequence.objects.filter(kind=kind, year=year).update(last_number=F("last_number") + 1)
    return NumberSequence.objects.filter(kind=kind, year=year).values_list("last_number", flat=True).get()


def consumer_number_next() -> str:
    """The next 18-digit consumer number: the biller prefix 1LINK gave HEC and a 13-digit serial.
    Call inside the transaction that writes the bill."""
    prefix = settings.ONEBILL_BILLER_PREFIX
    if not (len(prefix) == 5 and prefix.isdigit()):
        raise ImproperlyConfigured("ONEBILL_BILLER_PREFIX must be the 5 digits 1LINK gave the biller.")
    serial = number_next(kind=CONSUMER, year=0)
    return f"{prefix}{serial:0{CONSUMER_SERIAL_DIGITS}d}"


def consumer_number_spaced(number: str) -> str:
    """``100420000000000001`` → ``10042 0000 0000 0000 1``: easier to read off paper and type."""
    if not number:
        return ""
    serial = number[5:]
    return " ".join([number[:5], *(serial[i : i + 4] for i in range(0, len(serial), 4))])


def challan_number_format(*, year: int, number: int) -> str:
    return f"DLSEI-{year}-{number:06d}"


def invoice_number_format(*, year: int, number: int) -> str:
    return f"DLSEI-INV-{year}-{number:05d}"


def rupees_figures(amount: int) -> str:
    """``8000`` → ``"Rs 8,000"`` (the figures printed beside the words)."""
    return f"Rs {amount:,}"


def challan_pdf_render(challan: Challan) -> bytes:
    """The PDF of `challan`, drawn from its row. Always English: it is a bank document."""
    # Imported here: WeasyPrint loads Pango and its fonts on import, and only drawing a PDF needs them.
    from weasyprint import HTML

    context = {
        "challan": challan,
        "copies": COPIES,
        "amount_figures": rupees_figures(challan.amount),
        "amount_words": rupees_in_words(challan.amount),
        "cnic_masked": cnic_mask(challan.payer_cnic),
        "consumer_number": consumer_number_spaced(challan.consumer_number or ""),
        "bank": settings.HEC_BANK,
        "phase": challan.nomination.phase,
    }
    with translation.override("en"):
        html = render_to_string("fees/pdf/challan.html", context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def stored_pdf(*, model, pk: int, render, name: str) -> bytes:
    """The stored PDF of row `pk` of `model`, drawing and storing it the first time.

    Two first downloads at once may both draw it; only the first to store wins (a conditional
    UPDATE on an empty `pdf`), and both serve the stored bytes, so every download is identical.
    """
    row = model.objects.get(pk=pk)
    if not row.pdf:
        data = render(row)
        stored_name = row.pdf.storage.save(row.pdf.field.generate_filename(row, name), ContentFile(data))
        if not model.objects.filter(pk=pk, pdf="").update(pdf=stored_name):
            row.pdf.storage.delete(stored_name)  # lost the race: an unreferenced copy, never served
        row.refresh_from_db(fields=["pdf"])
    with row.pdf.open("rb") as handle:
        return handle.read()


# The alumnus's challan ------------------------------------------------------------------------


def challan_current(*, nomination: Nomination) -> Challan | None:
    return Challan.objects.filter(nomination=nomination, cancelled_at__isnull=True).first()


def challan_issue(*, nomination: Nomination, actor: Any) -> Challan:
    """The alumnus's current challan, issuing it (with a new number) the first time.

    Amount: the phase's alumni fee; due date: the day the payment hold ends. Asking again returns
    the same challan. Only when HEC restarted the hold after a rejected payment and the new hold
    ends after the challan's due date is the old challan cancelled (kept) and a new one issued.
    """
    with transaction.atomic():
        locked = nomination_lock(nomination)
        current = challan_current(nomination=locked)
        hold_day = timezone.localdate(locked.hold_expires_at) if locked.hold_expires_at else None
        if current is not None:
            open_payment = AlumniPayment.objects.filter(
                challan=current, status__in=[PaymentStatus.SUBMITTED, PaymentStatus.VERIFIED]
            ).exists()
            if (
                open_payment
                or hold_day is None
                or hold_day <= current.due_date
                or locked.status != NominationStatus.SEATED
            ):
                return current
        if refusal := challan_issue_refusal(nomination=locked):
            raise FeeError(refusal)
        if current is not None:
            Challan.objects.filter(pk=current.pk, cancelled_at__isnull=True).update(
                cancelled_at=timezone.now(), cancelled_reason="payment hold restarted; replaced"
            )
        year = locked.phase.launch_date.year
        number = challan_number_format(year=year, number=number_next(kind=CHALLAN, year=year))
        challan = Challan.objects.create(
            number=number,
            consumer_number=consumer_number_next(),
            nomination=locked,
            amount=locked.phase.alumni_fee_rupees,
            due_date=hold_day,
            payer_name=locked.full_name,
            payer_cnic=locked.cnic,
            issued_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_record(
            actor=actor,
            action="challan.issue",
            target=challan,
            summary=f"Challan {number} issued to nomination {locked.pk}: {challan.amount} rupees due {hold_day}",
            data={"nomination": locked.pk, "amount": challan.amount, "replaces": current.number if current else ""},
        )
    return challan


def challan_pdf(*, challan: Challan) -> bytes:
    """The challan's PDF: drawn and stored the first time, the stored bytes every time."""
    return stored_pdf(model=Challan, pk=challan.pk, render=challan_pdf_render, name=f"{challan.number}.pdf")
