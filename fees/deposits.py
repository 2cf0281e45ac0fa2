"""Deposits of public university and NAHE learners, recorded by the focal person (or HEC staff).

A recorded deposit settles the learner through `registrations.clearing.nominations_settle()`,
which clears them and, if seated, queues the invitation. A wrong record is never edited: a
correction supersedes it with who and why. ``deposits_record`` records many at once, all or
none (a nominations file's deposit columns, `portal.nominations_file`).
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, audit_records
from core.roles import user_is_hec_staff
from quotas.models import DEPOSIT_POOLS, Pool
from registrations.clearing import nominations_settle
from registrations.models import Nomination, NominationStatus, SeatKind

from .exceptions import FeeError
from .locks import nomination_lock
from .models import Deposit


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
            except FeeError as error:  # re-raised naming the file's row and nominee it refuses
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
        locked = nomination_lock(deposit.nomination)
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
