"""Alumni payments: the alumnus uploads the paid challan and the final transcript, HEC staff verify
or reject them.

An upload stops the payment hold from expiring while HEC looks (a challan the bank reported paid,
through 1Bill or a bank scroll, needs no scan). Verifying settles the alumnus through
`registrations.clearing.nomination_settle()`, which clears them and queues the invitation;
rejecting e-mails the reason and starts the hold again so the seat is not held for ever.
"""

import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from core.mail import bilingual_email_from
from core.uploads import UploadedFileLike, UploadRefused, check_upload
from registrations.clearing import nomination_settle
from registrations.models import Nomination, NominationStatus
from registrations.services import alumni_hold_set

from .challans import challan_current
from .emails import email_queue
from .exceptions import FeeError
from .locks import nomination_lock
from .models import AlumniPayment, BillPayment, PaymentStatus
from .selectors import alumni_payment_refusal

PROOF_KINDS = {"pdf", "png", "jpeg"}


def _proof_check(file: UploadedFileLike, *, what: str) -> None:
    # Wrapped, not passed on: core's UploadRefused is no PortalError, and the message must say
    # which of the two files was refused.
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
        locked = nomination_lock(nomination)
        latest = AlumniPayment.objects.filter(nomination=locked).first()
        if refusal := alumni_payment_refusal(nomination=locked, latest=latest):
            raise FeeError(refusal)
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
        nomination_lock(payment.nomination)
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
        locked = nomination_lock(payment.nomination)
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
