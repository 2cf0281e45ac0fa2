"""Every write of the fees app up to the invitation: challans, alumni payments, deposits,
disability waivers and private invoices (a nominations file's deposit columns are recorded
through ``deposits_record`` by portal.nominations_file).

Each function runs in one transaction with its audit entry, locks the nomination it changes
(`select_for_update`), changes statuses with conditional UPDATEs, and leaves e-mail to
`transaction.on_commit`. When the money side of a learner is done it calls
`registrations.invitations.nomination_settle()` (or `university_settle()` for a paid private
invoice); registrations then clears the learner and queues the invitation.

Disability waivers: the reserved seat is taken in registrations, which cannot write a fees row,
so a seat on a reserved disability seat is itself what waits for HEC's check (the admin lists
those seats) and its waiver row is written when HEC staff decide (`disability_seat_decide`).
Pages only read: a seat without a waiver shows as being checked.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, audit_records
from core.mail import bilingual_email_from
from core.roles import user_is_hec_staff
from core.uploads import UploadedFileLike, UploadRefused, check_upload
from quotas.models import DEPOSIT_POOLS, Phase, Pool, Sector, University
from quotas.selectors import quota_for
from registrations.invitations import nomination_settle, nominations_settle, university_settle
from registrations.models import Nomination, NominationStatus, SeatKind
from registrations.services import allocation_publish_and_promote, alumni_hold_set, licenses_move

from . import challans
from .emails import email_queue
from .exceptions import FeeError
from .invoices import invoice_pdf_render
from .models import (
    AlumniPayment,
    BillPayment,
    Challan,
    Deposit,
    DisabilityWaiver,
    Invoice,
    InvoiceChannel,
    InvoiceStatus,
    PaymentStatus,
    WaiverStatus,
)

PROOF_KINDS = {"pdf", "png", "jpeg"}


def _lock(nomination: Nomination) -> Nomination:
    return (
        Nomination.objects.select_for_update(of=("self",)).select_related("phase", "university").get(pk=nomination.pk)
    )


# Challans -----------------------------------------------------------------------------------


def challan_current(*, nomination: Nomination) -> Challan | None:
    return Challan.objects.filter(nomination=nomination, cancelled_at__isnull=True).first()


def challan_issue(*, nomination: Nomination, actor: Any) -> Challan:
    """The alumnus's current challan, issuing it (with a new number) the first time.

    Amount: the phase's alumni fee; due date: the day the payment hold ends. Asking again returns
    the same challan. Only when HEC restarted the hold after a rejected payment and the new hold
    ends after the challan's due date is the old challan cancelled (kept) and a new one issued.
    """
    with transaction.atomic():
        locked = _lock(nomination)
        if locked.pool != Pool.ALUMNI:
            raise FeeError(_("Only alumni pay by bank challan; students and faculty pay through their university."))
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
        if locked.status != NominationStatus.SEATED:
            raise FeeError(
                _("A challan is issued only for a seat you hold; the status of your registration is “%(status)s”.")
                % {"status": locked.get_status_display()}
            )
        if locked.settled_at is not None:
            raise FeeError(_("Your fee is already settled; there is nothing more to pay."))
        if hold_day is None:
            raise FeeError(_("Your seat is not waiting for a payment, so no challan can be issued now."))
        if current is not None:
            Challan.objects.filter(pk=current.pk, cancelled_at__isnull=True).update(
                cancelled_at=timezone.now(), cancelled_reason="payment hold restarted; replaced"
            )
        year = locked.phase.launch_date.year
        number = challans.challan_number_format(
            year=year, number=challans.number_next(kind=challans.CHALLAN, year=year)
        )
        challan = Challan.objects.create(
            number=number,
            consumer_number=challans.consumer_number_next(),
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
    return challans.stored_pdf(
        model=Challan, pk=challan.pk, render=challans.challan_pdf_render, name=f"{challan.number}.pdf"
    )


# Alumni payments ----------------------------------------------------------------------------


def _proof_check(file: UploadedFileLike, *, what: str) -> None:
    try:
        check_upload(file, kinds=PROOF_KINDS, max_bytes=settings.UPLOAD_MAX_BYTES)
    except UploadRefused as refused:
        raise FeeError(f"{what}: {refused.message}") from refused


def alumni_payment_submit(
    *,
    nomination: Nomination,
    paid_challan: UploadedFileLike | None,
    transcript: UploadedFileLike | None = None,
    actor: Any,
) -> AlumniPayment:
    """The alumnus uploads the paid challan and the final transcript; the payment hold stops
    expiring while HEC looks at them. A challan the bank reported paid (1Bill, a bank scroll)
    needs no scan, and a transcript given with the registration is not asked for again: HEC
    still checks it."""
    if paid_challan is not None:
        _proof_check(paid_challan, what=_("The paid challan"))
    if transcript is None:
        if not nomination.transcript:
            raise FeeError(_("Please upload your final transcript with the paid challan."))
        with nomination.transcript.open("rb") as given:
            transcript = ContentFile(given.read(), name=nomination.transcript.name)
    else:
        _proof_check(transcript, what=_("The transcript"))
    with transaction.atomic():
        locked = _lock(nomination)
        if locked.pool != Pool.ALUMNI:
            raise FeeError(_("Only alumni upload a paid challan."))
        if locked.status != NominationStatus.SEATED:
            raise FeeError(
                _("A payment cannot be accepted: the status of your registration is “%(status)s”.")
                % {"status": locked.get_status_display()}
            )
        open_payment = AlumniPayment.objects.filter(
            nomination=locked, status__in=[PaymentStatus.SUBMITTED, PaymentStatus.VERIFIED]
        ).first()
        if open_payment is not None:
            if open_payment.status == PaymentStatus.VERIFIED:
                raise FeeError(_("Your payment is already verified; there is nothing more to upload."))
            raise FeeError(_("Your earlier upload is still waiting for HEC to check it; please wait for their answer."))
        challan = challan_current(nomination=locked)
        if challan is None:
            raise FeeError(_("Please download your challan and pay it at the bank before uploading it."))
        paid_by_bank = BillPayment.objects.filter(challan=challan).exists()
        if not paid_by_bank and paid_challan is None:
            raise FeeError(
                _(
                    "Upload the paid challan with the bank's stamp, or pay it through 1Bill with its consumer "
                    "number and then upload the transcript."
                )
            )
        payment = AlumniPayment(nomination=locked, challan=challan, submitted_by=actor)
        transcript.seek(0)
        if not paid_by_bank:
            paid_challan.seek(0)
            payment.paid_challan.save(
                _upload_name(paid_challan, "paid-challan"), ContentFile(paid_challan.read()), save=False
            )
        payment.transcript.save(_upload_name(transcript, "transcript"), ContentFile(transcript.read()), save=False)
        payment.save()
        alumni_hold_set(nomination=locked, until=None, actor=actor)
        audit_record(
            actor=actor,
            action="alumni_payment.submit",
            target=payment,
            summary=(
                f"Transcript uploaded for nomination {locked.pk}, challan {challan.number} "
                + ("paid through the bank" if paid_by_bank else "with its scan")
            ),
            data={"nomination": locked.pk, "challan": challan.number},
        )
    return payment


def _upload_name(file: UploadedFileLike, stem: str) -> str:
    kind = check_upload(file, kinds=PROOF_KINDS, max_bytes=settings.UPLOAD_MAX_BYTES)
    return f"{stem}.{ {'jpeg': 'jpg'}.get(kind, kind) }"


def _review(*, payment: AlumniPayment, status: str, actor: Any, reason: str = "") -> AlumniPayment:
    changed = AlumniPayment.objects.filter(pk=payment.pk, status=PaymentStatus.SUBMITTED).update(
        status=status, reason=reason, reviewed_by=actor, reviewed_at=timezone.now()
    )
    payment.refresh_from_db()
    if not changed:
        raise FeeError(
            _("This payment was already decided (“%(status)s”); nothing was changed.")
            % {"status": payment.get_status_display()}
        )
    return payment


def alumni_payment_verify(*, payment: AlumniPayment, actor: Any) -> AlumniPayment:
    """HEC staff accept the paid challan: the alumnus is settled and, being seated, invited."""
    with transaction.atomic():
        _lock(payment.nomination)
        _review(payment=payment, status=PaymentStatus.VERIFIED, actor=actor)
        audit_record(
            actor=actor,
            action="alumni_payment.verify",
            target=payment,
            summary=f"Alumni payment {payment.pk} (challan {payment.challan.number}) verified",
            data={"nomination": payment.nomination_id},
        )
        nomination_settle(nomination=payment.nomination, reason="alumni payment verified", actor=actor)
    return payment


def alumni_payment_reject(*, payment: AlumniPayment, actor: Any, reason: str) -> AlumniPayment:
    """HEC staff refuse the proof with a reason: the alumnus is told by e-mail and may upload
    again; the payment hold starts again so the seat is not held for ever."""
    reason = (reason or "").strip()
    if not reason:
        raise FeeError(_("Please give the reason for the rejection; it is sent to the alumnus."))
    with transaction.atomic():
        locked = _lock(payment.nomination)
        _review(payment=payment, status=PaymentStatus.REJECTED, actor=actor, reason=reason)
        if locked.status == NominationStatus.SEATED:
            until = timezone.now() + datetime.timedelta(days=locked.phase.payment_hold_days)
            alumni_hold_set(nomination=locked, until=until, actor=actor)
        audit_record(
            actor=actor,
            action="alumni_payment.reject",
            target=payment,
            summary=f"Alumni payment {payment.pk} (challan {payment.challan.number}) rejected: {reason}",
            data={"nomination": locked.pk, "reason": reason},
        )
        email_queue(kind="payment_rejected", object_id=payment.pk)
    return payment


def payment_rejection_email_send(*, payment_id: int) -> None:
    """The e-mail telling an alumnus why HEC rejected the upload and what to do (after commit)."""
    payment = AlumniPayment.objects.select_related("nomination__phase").get(pk=payment_id)
    nomination = payment.nomination
    context = {
        "payment": payment,
        "nomination": nomination,
        "hold_expires_at": nomination.hold_expires_at,
        "page_url": settings.SITE_URL.rstrip("/") + reverse("fees:my_license"),
    }
    bilingual_email_from(
        prefix="fees/email/payment_rejected", context=context, to=[nomination.email], html=False
    ).send()


# Deposits -----------------------------------------------------------------------------------


def _may_record_deposit(actor: Any, nomination: Nomination) -> bool:
    if user_is_hec_staff(actor):
        return True
    focal = getattr(actor, "focal_person", None) if getattr(actor, "is_authenticated", False) else None
    return (
        focal is not None and nomination.university_id is not None and focal.university_id == nomination.university_id
    )


def deposit_current(*, nomination: Nomination) -> Deposit | None:
    return Deposit.objects.filter(nomination=nomination, superseded_by__isnull=True).first()


def _deposit_fields_check(*, receipt: str, paid_on: datetime.date | None) -> str:
    receipt = (receipt or "").strip()
    if not receipt:
        raise FeeError(_("Enter the receipt number of the deposit."))
    if len(receipt) > 60:
        raise FeeError(_("The receipt number is too long (at most 60 characters)."))
    if not isinstance(paid_on, datetime.date):
        raise FeeError(_("Enter the date the deposit was paid."))
    if paid_on > timezone.localdate():
        raise FeeError(_("The date the deposit was paid cannot be in the future."))
    return receipt


def deposit_refusal(*, nomination: Nomination) -> str:
    """Why no deposit can be recorded for this nomination at all, or "" when one can."""
    if nomination.pool not in DEPOSIT_POOLS:
        if nomination.pool == Pool.ALUMNI:
            return _("Alumni pay their fee by bank challan on the portal, not as a deposit.")
        return _("Private university learners pay no deposit: their university's invoice covers them.")
    if nomination.seat_kind == SeatKind.DISABILITY:
        return _(
            "This nominee holds a reserved seat for a learner with a disability: the license is free once HEC "
            "checks the certificate, so no deposit is taken."
        )
    if nomination.status == NominationStatus.WAITING:
        return _(
            "%(name)s is on the waiting list and holds no seat yet: record the deposit once a seat is given "
            "(you will see it in the list of nominees). A deposit taken now could only wait."
        ) % {"name": nomination.full_name}
    if nomination.status != NominationStatus.SEATED:
        return _("No deposit can be recorded: the status of this nomination is “%(status)s”.") % {
            "status": nomination.get_status_display()
        }
    return ""


def deposit_receipt_taken(*, university_id: int, receipts: list[str]) -> dict[str, Nomination]:
    """Of these receipt numbers, those already standing for a deposit of the university (any
    phase, compared without case or spaces), with the nominee who has each."""
    wanted = {" ".join(r.split()).casefold() for r in receipts if r}
    if not wanted:
        return {}
    found = {}
    for deposit in (
        Deposit.objects.filter(nomination__university_id=university_id, superseded_by__isnull=True)
        .select_related("nomination")
        .only("receipt", "nomination__full_name", "nomination__id")
    ).iterator():
        key = " ".join(deposit.receipt.split()).casefold()
        if key in wanted:
            found[key] = deposit.nomination
    return found


def _receipt_taken_message(*, receipt: str, holder: Nomination) -> str:
    return _(
        "Receipt %(receipt)s is already recorded for %(name)s's deposit. Check the receipt number: one receipt "
        "is one deposit."
    ) % {"receipt": receipt, "name": holder.full_name}


@dataclass(frozen=True)
class DepositEntry:
    """One deposit to record: for whom, the bank's receipt and the day it was paid; ``row`` is the
    nominations file's row that carries it (named when the deposit is refused)."""

    nomination_id: int
    receipt: str
    paid_on: datetime.date | None
    row: int | None = None


def deposit_record(*, nomination: Nomination, receipt: str, paid_on: datetime.date, actor: Any) -> Deposit:
    """The focal person (or HEC staff) records a public/NAHE learner's deposit of the phase's
    amount; the learner is then settled (and, if seated, invited). ``deposits_record`` for one."""
    (deposit,) = deposits_record(
        entries=[DepositEntry(nomination_id=nomination.pk, receipt=receipt, paid_on=paid_on)], actor=actor
    )
    return deposit


def deposits_record(*, entries: list[DepositEntry], actor: Any) -> list[Deposit]:
    """Record deposits, all or none, in a fixed number of queries: every entry checked in order
    (the receipt and day, who may record it, whether the nomination can take a deposit, one
    deposit per nominee, one receipt per deposit in the university), the first refusal refusing
    them all (naming the file's row when there is one), then the deposits and their audit entries
    inserted together and the learners settled."""
    if not entries:
        return []

    def refused(entry: DepositEntry, nomination: Nomination, message: str) -> FeeError:
        if entry.row is None:
            return FeeError(message)
        return FeeError(
            _("Row %(row)s (%(name)s): %(error)s Nothing from this file was saved.")
            % {"row": entry.row, "name": nomination.full_name, "error": message}
        )

    with transaction.atomic():
        nominations = Nomination.objects.select_for_update(of=("self",)).select_related("phase", "university")
        nominations = nominations.in_bulk([entry.nomination_id for entry in entries])
        existing = {
            deposit.nomination_id: deposit
            for deposit in Deposit.objects.filter(nomination_id__in=list(nominations), superseded_by__isnull=True)
        }
        taken: dict[str, Nomination] = {}
        for university_id in {nomination.university_id for nomination in nominations.values()} - {None}:
            taken |= deposit_receipt_taken(university_id=university_id, receipts=[e.receipt for e in entries])
        in_entries: dict[str, DepositEntry] = {}
        deposits = []
        for entry in entries:
            nomination = nominations[entry.nomination_id]
            try:
                receipt = _deposit_fields_check(receipt=entry.receipt, paid_on=entry.paid_on)
            except FeeError as error:
                raise refused(entry, nomination, error.message) from error
            if not _may_record_deposit(actor, nomination):
                raise refused(
                    entry,
                    nomination,
                    _("Only the focal person of the nominee's university or HEC staff may record a deposit."),
                )
            refusal = deposit_refusal(nomination=nomination)
            if refusal:
                raise refused(entry, nomination, refusal)
            if nomination.pk in existing:
                earlier = existing[nomination.pk]
                raise refused(
                    entry,
                    nomination,
                    _(
                        "A deposit is already recorded for %(name)s (receipt %(receipt)s of %(date)s). To change it, "
                        "record a correction with a reason."
                    )
                    % {"name": nomination.full_name, "receipt": earlier.receipt, "date": earlier.paid_on.isoformat()},
                )
            key = " ".join(receipt.split()).casefold()
            if key in taken:
                raise refused(entry, nomination, _receipt_taken_message(receipt=receipt, holder=taken[key]))
            if key in in_entries:
                raise refused(
                    entry,
                    nomination,
                    _("Receipt %(receipt)s is also on row %(other)s of this file; one receipt is one deposit.")
                    % {"receipt": receipt, "other": in_entries[key].row},
                )
            in_entries[key] = entry
            deposits.append(
                Deposit(
                    nomination=nomination,
                    amount=nomination.phase.public_deposit_rupees,
                    receipt=receipt,
                    paid_on=entry.paid_on,
                    recorded_by=actor,
                )
            )
        Deposit.objects.bulk_create(deposits)
        audit_records(
            actor=actor,
            action="deposit.record",
            entries=[
                (
                    deposit,
                    f"Deposit of {deposit.amount} rupees recorded for nomination {deposit.nomination_id}, "
                    f"receipt {deposit.receipt}",
                    {
                        "nomination": deposit.nomination_id,
                        "amount": deposit.amount,
                        "receipt": deposit.receipt,
                        "paid_on": deposit.paid_on.isoformat(),
                    },
                )
                for deposit in deposits
            ],
        )
        nominations_settle(
            nominations=[deposit.nomination for deposit in deposits], reason="deposit recorded", actor=actor
        )
    return deposits


def deposit_correct(*, deposit: Deposit, receipt: str, paid_on: datetime.date, reason: str, actor: Any) -> Deposit:
    """A recorded deposit was wrong: a new row supersedes it, with who and why; nothing is erased."""
    receipt = _deposit_fields_check(receipt=receipt, paid_on=paid_on)
    reason = (reason or "").strip()
    if not reason:
        raise FeeError(_("Please say why the deposit is being corrected."))
    with transaction.atomic():
        locked = _lock(deposit.nomination)
        if not _may_record_deposit(actor, locked):
            raise FeeError(_("Only the focal person of the nominee's university or HEC staff may correct a deposit."))
        if deposit_current(nomination=locked) != deposit:
            raise FeeError(_("This deposit has already been corrected; correct the latest record instead."))
        correction = Deposit.objects.create(
            nomination=locked,
            amount=deposit.amount,
            receipt=receipt,
            paid_on=paid_on,
            recorded_by=actor,
            supersedes=deposit,
            reason=reason,
        )
        audit_record(
            actor=actor,
            action="deposit.correct",
            target=correction,
            summary=f"Deposit {deposit.pk} corrected by {correction.pk}: {reason}",
            data={
                "nomination": locked.pk,
                "old": {"receipt": deposit.receipt, "paid_on": deposit.paid_on.isoformat()},
                "new": {"receipt": receipt, "paid_on": paid_on.isoformat()},
                "reason": reason,
            },
        )
    return correction


# Disability waivers -------------------------------------------------------------------------


def waiver_request(*, nomination: Nomination, actor: Any) -> DisabilityWaiver | None:
    """The pending waiver of a nomination on a reserved disability seat (created once); None for
    any other nomination."""
    with transaction.atomic():
        locked = _lock(nomination)
        if locked.status != NominationStatus.SEATED or locked.seat_kind != SeatKind.DISABILITY:
            return None
        waiver, created = DisabilityWaiver.objects.get_or_create(
            nomination=locked, defaults={"certificate": locked.disability_certificate.name}
        )
        if created:
            audit_record(
                actor=actor,
                action="waiver.request",
                target=waiver,
                summary=f"Disability waiver requested for nomination {locked.pk}",
                data={"nomination": locked.pk},
            )
    return waiver


def waiver_decide(*, waiver: DisabilityWaiver, approve: bool, actor: Any, reason: str = "") -> DisabilityWaiver:
    """HEC staff check the certificate: approved → the learner is settled with no fee."""
    reason = (reason or "").strip()
    if not approve and not reason:
        raise FeeError(_("Please give the reason for rejecting the certificate."))
    with transaction.atomic():
        _lock(waiver.nomination)
        if approve and not waiver.certificate:
            raise FeeError(_("There is no certificate to check; the waiver cannot be approved without one."))
        status = WaiverStatus.APPROVED if approve else WaiverStatus.REJECTED
        changed = DisabilityWaiver.objects.filter(pk=waiver.pk, status=WaiverStatus.PENDING).update(
            status=status, reason=reason, checked_by=actor, checked_at=timezone.now()
        )
        waiver.refresh_from_db()
        if not changed:
            raise FeeError(
                _("This waiver was already decided (“%(status)s”); nothing was changed.")
                % {"status": waiver.get_status_display()}
            )
        audit_record(
            actor=actor,
            action="waiver.approve" if approve else "waiver.reject",
            target=waiver,
            summary=f"Disability waiver {waiver.pk} {status}" + (f": {reason}" if reason else ""),
            data={"nomination": waiver.nomination_id, "reason": reason},
        )
        if approve:
            nomination_settle(nomination=waiver.nomination, reason="disability waiver approved", actor=actor)
    return waiver


def disability_seat_decide(*, nomination: Nomination, approve: bool, actor: Any, reason: str = "") -> DisabilityWaiver:
    """HEC staff's decision on the certificate of a learner on a reserved disability seat: the
    waiver is written here (requested, then decided, in one transaction), never by a page that
    lists the seat. Approved → the learner is settled with no fee."""
    with transaction.atomic():
        waiver = waiver_request(nomination=nomination, actor=actor)
        if waiver is None:
            raise FeeError(
                _("%(name)s does not hold a reserved disability seat, so there is no certificate to decide on.")
                % {"name": nomination.full_name}
            )
        return waiver_decide(waiver=waiver, approve=approve, actor=actor, reason=reason)


# Private university invoices ----------------------------------------------------------------


def _invoiced_licenses(*, phase: Phase, university: University) -> tuple[int, Invoice | None]:
    """Licenses already billed to the university in the phase (invoices not cancelled), and its
    first such invoice (the one a supplementary invoice supplements)."""
    billed = Invoice.objects.filter(phase=phase, university=university).exclude(status=InvoiceStatus.CANCELLED)
    first = billed.order_by("issued_at", "id").first()
    return (billed.aggregate(n=Sum("licenses"))["n"] or 0), first


def invoice_issue(*, phase: Phase, university: University, actor: Any) -> Invoice:
    """The invoice of a private university for the phase: its allocated licenses × the phase's fee,
    billed through PERN when the university has a PERN account, else as a separate PDF invoice.

    A university already invoiced whose licenses have risen since (a license move, a new
    allocation) gets a supplementary invoice for the difference only; its nominees above the
    licenses paid for wait until it is paid. A fall bills nothing and refunds nothing by itself:
    the ledger shows the credit to HEC staff."""
    if university.sector != Sector.PRIVATE:
        raise FeeError(
            _("%(university)s is not a private university; only private universities are invoiced.")
            % {"university": university.name}
        )
    with transaction.atomic():
        University.objects.select_for_update().get(pk=university.pk)
        quota = quota_for(phase=phase, university=university)
        licenses = quota.licenses if quota is not None else 0
        if licenses <= 0:
            raise FeeError(
                _(
                    "%(university)s has no licenses in the published allocation of %(phase)s, "
                    "so there is nothing to invoice."
                )
                % {"university": university.name, "phase": phase.name}
            )
        invoiced, first = _invoiced_licenses(phase=phase, university=university)
        if invoiced >= licenses:
            raise FeeError(
                _("%(university)s already has invoice %(number)s for this phase, for all its %(licenses)s licenses.")
                % {"university": university.name, "number": first.number, "licenses": licenses}
            )
        billed = licenses - invoiced
        year = phase.launch_date.year
        number = challans.invoice_number_format(
            year=year, number=challans.number_next(kind=challans.INVOICE, year=year)
        )
        invoice = Invoice.objects.create(
            phase=phase,
            university=university,
            number=number,
            consumer_number=challans.consumer_number_next(),
            licenses=billed,
            unit_fee=phase.private_fee_rupees,
            amount=billed * phase.private_fee_rupees,
            channel=InvoiceChannel.PERN if university.pern_account else InvoiceChannel.SEPARATE,
            pern_account=university.pern_account,
            issued_by=actor if getattr(actor, "pk", None) else None,
            supplements=first,
        )
        kind = f"supplementary to {first.number}" if first else "first"
        audit_record(
            actor=actor,
            action="invoice.issue",
            target=invoice,
            summary=f"Invoice {number} to {university.code} ({kind}): {billed} × {invoice.unit_fee} = "
            f"{invoice.amount} rupees ({invoice.channel})",
            data={
                "phase": phase.pk,
                "university": university.pk,
                "licenses": billed,
                "amount": invoice.amount,
                "supplements": first.number if first else None,
            },
        )
    return invoice


def invoices_supplement(*, phase: Phase, universities: list[University] | None = None, actor: Any) -> list[Invoice]:
    """Supplementary invoices for every private university of the phase (or of ``universities``)
    that was invoiced already and now holds more licenses than it was billed for."""
    invoiced = Invoice.objects.filter(phase=phase).exclude(status=InvoiceStatus.CANCELLED)
    if universities is not None:
        invoiced = invoiced.filter(university__in=universities)
    issued = []
    for university in University.objects.filter(
        pk__in=invoiced.values("university_id"), sector=Sector.PRIVATE
    ).order_by("code"):
        quota = quota_for(phase=phase, university=university)
        billed, _first = _invoiced_licenses(phase=phase, university=university)
        if quota is not None and quota.licenses > billed:
            issued.append(invoice_issue(phase=phase, university=university, actor=actor))
    return issued


def license_move_billed(
    *,
    phase: Phase,
    from_university: University,
    to_university: University,
    licenses: int,
    reason: str,
    actor: Any,
    across_pools: bool = False,
    beyond_caps: bool = False,
):
    """A license move (registrations promotes the receiving waiting list), and, when a private
    university that was invoiced receives licenses, its supplementary invoice, in one transaction."""
    with transaction.atomic():
        move = licenses_move(
            phase=phase,
            from_university=from_university,
            to_university=to_university,
            licenses=licenses,
            reason=reason,
            actor=actor,
            across_pools=across_pools,
            beyond_caps=beyond_caps,
        )
        supplements = invoices_supplement(phase=phase, universities=[to_university], actor=actor)
    return move, supplements


def allocation_publish_billed(*, allocation, actor: Any):
    """Publish an allocation (registrations promotes the waiting lists of the seats it adds) and
    bill the private universities that were invoiced and now hold more licenses, in one transaction."""
    with transaction.atomic():
        published, promoted = allocation_publish_and_promote(allocation=allocation, actor=actor)
        supplements = invoices_supplement(phase=published.phase, actor=actor)
    return published, promoted, supplements


def invoice_pdf(*, invoice: Invoice) -> bytes:
    """The separate invoice's PDF, drawn once and stored. PERN invoices are billed by PERN."""
    if invoice.channel != InvoiceChannel.SEPARATE:
        raise FeeError(_("This invoice is billed through PERN; there is no separate PDF for it."))
    return challans.stored_pdf(model=Invoice, pk=invoice.pk, render=invoice_pdf_render, name=f"{invoice.number}.pdf")


def invoice_mark_paid(*, invoice: Invoice, reference: str, actor: Any) -> Invoice:
    """HEC staff record that the university paid; as many of its learners as its paid invoices
    cover are then settled (all of them, unless its licenses rose since)."""
    reference = (reference or "").strip()
    if not reference:
        raise FeeError(_("Enter the bank or PERN reference of the payment."))
    with transaction.atomic():
        changed = Invoice.objects.filter(pk=invoice.pk, status=InvoiceStatus.ISSUED).update(
            status=InvoiceStatus.PAID, paid_at=timezone.now(), marked_paid_by=actor, reference=reference[:100]
        )
        invoice.refresh_from_db()
        if not changed:
            raise FeeError(
                _("Invoice %(number)s cannot be marked paid: its status is “%(status)s”.")
                % {"number": invoice.number, "status": invoice.get_status_display()}
            )
        audit_record(
            actor=actor,
            action="invoice.paid",
            target=invoice,
            summary=f"Invoice {invoice.number} marked paid, reference {reference}",
            data={"reference": reference, "amount": invoice.amount},
        )
        paid = (
            Invoice.objects.filter(
                phase=invoice.phase, university=invoice.university, status=InvoiceStatus.PAID
            ).aggregate(n=Sum("licenses"))["n"]
            or 0
        )
        university_settle(
            phase=invoice.phase,
            university=invoice.university,
            reason=f"invoice {invoice.number} paid",
            actor=actor,
            licenses=paid,
        )
    return invoice
