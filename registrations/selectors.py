"""Reads of registration: the waiting list, a university's nominations, counts per status, the
invitations by state, the cleared learners."""

import datetime
from collections import defaultdict

from allauth.account.models import EmailAddress
from django.db.models import Count, Exists, PositiveBigIntegerField, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from quotas.models import Phase, University

from .cnic import cnic_normalise
from .models import FocalPerson, Invitation, Nomination, NominationStatus


def _waiting_place() -> Coalesce:
    """A nomination's place on the waiting list, first come first served: its arrival (the id), or
    the place a reinstated nomination was given (``queue_number``, after every id so far)."""
    return Coalesce("queue_number", "id", output_field=PositiveBigIntegerField())


def waiting_order() -> list:
    """The waiting list's order: by place (``_waiting_place``), then by id."""
    return [_waiting_place().asc(), "id"]


def nominations_of_account(*, user) -> QuerySet[Nomination]:
    """The nominations an account may see: those made for an e-mail address it has verified.

    An address the account holds without having proved it shows nothing (registrations.accounts)."""
    if not getattr(user, "is_authenticated", False):
        return Nomination.objects.none()
    verified = EmailAddress.objects.filter(user_id=user.pk, verified=True).values("email")
    return Nomination.objects.filter(email__in=verified)


def learner_standing(*, user) -> tuple[str | None, bool]:
    """In one query: the account's own verified address (primary first, or None), and whether the
    account is a focal person's (who runs the programme and never registers for a license)."""
    is_focal = Exists(FocalPerson.objects.filter(user_id=user.pk))
    row = (
        EmailAddress.objects.filter(user_id=user.pk, verified=True)
        .annotate(is_focal=is_focal)
        .order_by("-primary", "id")
        .values_list("email", "is_focal")
        .first()
    )
    if row is None:
        return None, FocalPerson.objects.filter(user_id=user.pk).exists()
    return row


def address_verified(*, email: str) -> bool:
    """Some account has proved this address (the nominee has signed in)."""
    return EmailAddress.objects.filter(email=(email or "").strip().lower(), verified=True).exists()


def waiting_list(*, quota_id: int) -> QuerySet[Nomination]:
    """The waiting nominations of a quota, the next to be promoted first."""
    return Nomination.objects.filter(quota_id=quota_id, status=NominationStatus.WAITING).order_by(*waiting_order())


def waiting_position(*, nomination: Nomination) -> int | None:
    """1 for the next in line; None when the nomination is not waiting."""
    if nomination.status != NominationStatus.WAITING:
        return None
    mine = Subquery(Nomination.objects.filter(pk=nomination.pk).annotate(place=_waiting_place()).values("place"))
    ahead = (
        waiting_list(quota_id=nomination.quota_id)
        .annotate(place=_waiting_place())
        .filter(Q(place__lt=mine) | Q(place=mine, id__lt=nomination.pk))
        .count()
    )
    return ahead + 1


def nominations_of_university(
    *,
    phase: Phase,
    university: University | None,
    status: str = "",
    role: str = "",
    search: str = "",
) -> QuerySet[Nomination]:
    """A university's nominations (``university=None``: the alumni pool) in arrival order, with
    optional filters; ``search`` matches the name, the e-mail or the CNIC (dashes or not)."""
    nominations = Nomination.objects.filter(phase=phase)
    nominations = (
        nominations.filter(university__isnull=True) if university is None else nominations.filter(university=university)
    )
    if status:
        nominations = nominations.filter(status=status)
    if role:
        nominations = nominations.filter(role=role)
    term = (search or "").strip()
    if term:
        match = Q(full_name__icontains=term) | Q(email__icontains=term.lower())
        try:
            match |= Q(cnic=cnic_normalise(term))
        except ValueError:
            digits = term.replace("-", "")
            if digits.isascii() and digits.isdigit():
                match |= Q(cnic__contains=digits)
        nominations = nominations.filter(match)
    return nominations.order_by("id")


def status_counts(*, phase: Phase) -> dict[int, dict[str, int]]:
    """{quota_id: {status: count}} for every quota of the phase that has nominations."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = Nomination.objects.filter(phase=phase).values("quota_id", "status").annotate(n=Count("id")).order_by()
    for row in rows:
        counts[row["quota_id"]][row["status"]] = row["n"]
    return dict(counts)


def waiting_counts(*, phase: Phase) -> dict[int, int]:
    """{quota_id: how many nominations wait} for the quotas of the phase that have a waiting list."""
    rows = (
        Nomination.objects.filter(phase=phase, status=NominationStatus.WAITING)
        .values("quota_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["quota_id"]: row["n"] for row in rows}


def nominations_per_day(*, phase: Phase) -> dict[datetime.date, int]:
    """{day: nominations submitted that day} for the days of the phase that had any, in date order.

    Days are Pakistan's (the portal's time zone), not UTC's: a nomination sent at 2 a.m. in
    Lahore belongs to that morning, not to the evening before. One query however many nominations.
    """
    rows = (
        Nomination.objects.filter(phase=phase)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    return {row["day"]: row["n"] for row in rows}


def invitations_by_state(
    *, phase: Phase | None = None, invitations: QuerySet[Invitation] | None = None
) -> dict[str, int]:
    """{state: how many invitations are in it}, every state present (0 when none): of the
    ``phase`` (the dashboard) or of ``invitations`` (the admin's list as filtered), else of all."""
    rows = Invitation.objects.all() if invitations is None else invitations
    if phase is not None:
        rows = rows.filter(nomination__phase=phase)
    counts = dict.fromkeys(Invitation.State.values, 0)
    counts.update(dict(rows.order_by().values("state").annotate(n=Count("id")).values_list("state", "n")))
    return counts


def cleared_learners(*, phase: Phase) -> QuerySet[Nomination]:
    """The phase's cleared learners who still hold their seat (to be invited on Coursera), in arrival order."""
    return (
        Nomination.objects.filter(phase=phase, cleared_at__isnull=False, status=NominationStatus.SEATED)
        .select_related("phase")
        .order_by("id")
    )
