"""Disability waivers: a learner on a reserved disability seat pays no fee once HEC staff approve
the certificate.

The reserved seat is taken in registrations, which cannot write a fees row, so a seat on a
reserved disability seat is itself what waits for HEC's check (the admin lists those seats) and
its waiver row is written when HEC staff decide (`disability_seat_decide`). Pages only read: a
seat without a waiver shows as being checked. Approving settles the learner through
`registrations.clearing.nomination_settle()`.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from registrations.clearing import nomination_settle
from registrations.models import Nomination, NominationStatus, SeatKind

from .exceptions import FeeError
from .locks import nomination_lock
from .models import DisabilityWaiver, WaiverStatus


def waiver_request(*, nomination: Nomination, actor: Any) -> DisabilityWaiver | None:
    """The pending waiver of a nomination on a reserved disability seat (created once); None for
    any other nomination."""
    with transaction.atomic():
        locked = nomination_lock(nomination)
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
        nomination_lock(waiver.nomination)
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
