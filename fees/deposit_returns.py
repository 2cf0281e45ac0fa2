"""Deposits to return to the learner: the nomination ended before the course rule could apply.

That is a seat HEC reclaimed because the learner never joined the Coursera program
(registrations.reclaim), and a nomination withdrawn, rejected or expired before its license began
(no license year ran): the learner never had the license, so the deposit is neither refunded nor
forfeited by the course rule, it goes back. These deposits are left out of the refund cases
(``fees.refunds.refund_cases``) and make a fourth column of the ledgers, so refunds + forfeits +
pending + returns still add up to the deposits recorded. A learner whose refund was already
decided keeps that decision (a decision is only ever corrected, never dropped).

``RETURN_STATUSES`` is the one place that says which ended nominations get their deposit back.
"""

from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from quotas.models import Phase, University
from registrations.cnic import cnic_mask
from registrations.models import NominationStatus

from .models import Deposit, RefundDecision

RETURN_STATUSES = (NominationStatus.RECLAIMED,)
# Ended before the license began (not activated): no license year ran.
ENDED_EARLY_STATUSES = (NominationStatus.WITHDRAWN, NominationStatus.REJECTED, NominationStatus.EXPIRED)


def deposit_is_returned(*, nomination_ref: str = "pk", status_field: str = "status") -> Q:
    """For a Nomination queryset (or, with the field paths, one joined to nominations): the
    nomination ended in a way that returns its deposit, and no refund decision was recorded."""
    decided = RefundDecision.objects.filter(nomination=OuterRef(nomination_ref))
    activated = status_field.removesuffix("status") + "activated_on"
    ended = Q(**{f"{status_field}__in": RETURN_STATUSES}) | Q(
        **{f"{status_field}__in": ENDED_EARLY_STATUSES, f"{activated}__isnull": True}
    )
    return ended & ~Q(Exists(decided))


def deposits_to_return(*, phase: Phase, university: University | None = None) -> QuerySet[Deposit]:
    """The current deposits to give back, by university and learner."""
    deposits = (
        Deposit.objects.filter(superseded_by__isnull=True, nomination__phase=phase)
        .filter(deposit_is_returned(nomination_ref="nomination_id", status_field="nomination__status"))
        .select_related("nomination", "nomination__university")
    )
    if university is not None:
        deposits = deposits.filter(nomination__university=university)
    return deposits.order_by("nomination__university__code", "nomination__full_name", "nomination_id")


@dataclass(frozen=True)
class ReturnRow:
    university_code: str
    full_name: str
    cnic_masked: str
    receipt: str
    amount: int
    reason: str


def returns_listed(*, phase: Phase, university: University | None = None) -> list[ReturnRow]:
    return [
        ReturnRow(
            university_code=deposit.nomination.university.code if deposit.nomination.university else "",
            full_name=deposit.nomination.full_name,
            cnic_masked=cnic_mask(deposit.nomination.cnic),
            receipt=deposit.receipt,
            amount=deposit.amount,
            reason=deposit.nomination.status_reason,
        )
        for deposit in deposits_to_return(phase=phase, university=university)
    ]


def _totals(deposits: QuerySet[Deposit]) -> dict:
    return {
        "return_count": Count("pk"),
        "return_amount": Coalesce(Sum("amount"), Value(0), output_field=IntegerField()),
    }


def returns_totals(*, phase: Phase, university: University | None = None) -> dict[str, int]:
    """{"return_count", "return_amount"} of the deposits to return."""
    deposits = deposits_to_return(phase=phase, university=university).order_by()
    return deposits.aggregate(**_totals(deposits))


def returns_totals_by_university(*, phase: Phase) -> dict[int | None, dict[str, int]]:
    """{university id: {"return_count", "return_amount"}} for the universities with deposits to return."""
    deposits = deposits_to_return(phase=phase).order_by()
    rows = deposits.values("nomination__university").annotate(**_totals(deposits))
    return {row.pop("nomination__university"): row for row in rows}
