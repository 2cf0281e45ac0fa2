"""Settling and clearing a learner: the money side is done and the seat is held, so the
invitation can go out.

`fees` calls `nomination_settle()` / `nominations_settle()` / `university_settle()` when the
money side is done; registration calls `nomination_clear_if_ready()` whenever a nomination is
seated. A learner who is seated *and* settled is cleared: `cleared_at` is set and the
`Invitation` outbox row is written in the same transaction, and its send is queued only after
that transaction commits (`registrations.invitation_outbox`). A phase without its Coursera
invitation link clears nobody; its settled learners are cleared once HEC sets the link
(`nominations_clear_waiting_for_link`).
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, audit_records
from quotas.models import Phase, Sector, University

from .exceptions import RegistrationError
from .invitation_outbox import invitations_queue_on_commit
from .models import ACTIVE_STATUSES, Invitation, Nomination, NominationStatus, UniversitySettlement
from .selectors import waiting_order

SETTLE_BATCH = 5000  # nominations per UPDATE / per lookup of many ids


def nomination_settle(*, nomination: Nomination, reason: str, actor: Any) -> None:
    """The money side of a nomination is done (deposit recorded, disability waiver approved, alumni
    payment verified): ``nominations_settle`` with a list of one."""
    nominations_settle(nominations=[nomination], reason=reason, actor=actor)


def nominations_settle(*, nominations: Iterable[Nomination], reason: str, actor: Any) -> int:
    """`nomination_settle` for many nominations at once (a nominations file's deposits): the same
    rows, audit entries and invitations, in a fixed number of queries. If one of them cannot be
    settled (withdrawn, rejected, expired), RegistrationError names the first such, in the order
    given, and nothing is written. Returns how many were settled by this call."""
    given = list(nominations)
    if not given:
        return 0
    with transaction.atomic():
        locked = {
            row[0]: row
            for start in range(0, len(given), SETTLE_BATCH)
            for row in Nomination.objects.select_for_update()
            .filter(pk__in=[n.pk for n in given[start : start + SETTLE_BATCH]])
            .order_by("id")
            .values_list("id", "status", "settled_at", "cleared_at", "full_name")
        }
        for nomination in given:
            _pk, status, settled_at, _cleared, name = locked[nomination.pk]
            if settled_at is None and status not in ACTIVE_STATUSES:
                raise RegistrationError(
                    _("%(name)s's nomination is %(status)s, so nothing can be settled for it.")
                    % {"name": name, "status": NominationStatus(status).label.lower()}
                )
        now = timezone.now()
        settled, cleared = _settle_and_clear_many(
            rows=[row[:4] for row in locked.values()], reason=reason, actor=actor, now=now
        )
    for nomination in given:
        if nomination.pk in settled:
            nomination.settled_at, nomination.settled_reason = now, reason[:200]
        if nomination.pk in cleared:
            nomination.cleared_at = now
    return len(settled)


def university_settle(
    *, phase: Phase, university: University, reason: str, actor: Any, licenses: int | None = None
) -> int:
    """A private university's invoices for the phase are paid, for ``licenses`` licenses in all.
    Records the settlement (raising its paid count on a supplementary invoice) and settles that
    many active nominations of the university, seated ones first then the waiting list, each in
    arrival order; seated ones are cleared now, those seated later when they are seated
    (`nomination_clear_if_ready`). Nominees above the paid count wait for the next payment.

    Returns how many nominations were settled by this call (0 on a repeat)."""
    if university.sector != Sector.PRIVATE:
        raise RegistrationError(
            _("%(university)s is not a private university; only private universities pay by invoice.")
            % {"university": university.name}
        )
    with transaction.atomic():
        settlement = UniversitySettlement.objects.select_for_update().filter(phase=phase, university=university).first()
        if settlement is None:
            settlement = UniversitySettlement.objects.create(
                phase=phase,
                university=university,
                reason=reason[:200],
                actor=actor if getattr(actor, "pk", None) else None,
                licenses=licenses,
            )
            audit_record(
                actor=actor,
                action="university.settle",
                target=settlement,
                summary=f"{university.code} invoice for {phase.slug} paid: {reason}",
                data={"phase": phase.pk, "university": university.pk, "reason": reason, "licenses": licenses},
            )
        elif licenses is not None and settlement.licenses is not None and licenses > settlement.licenses:
            before = settlement.licenses
            settlement.licenses = licenses
            settlement.save(update_fields=["licenses"])
            audit_record(
                actor=actor,
                action="university.settle_more",
                target=settlement,
                summary=f"{university.code} paid for {licenses} licenses of {phase.slug} ({before} before): {reason}",
                data={"from": before, "to": licenses, "reason": reason},
            )
        now = timezone.now()
        left = _paid_seats_left(settlement=settlement)
        candidates = (
            Nomination.objects.select_for_update()
            .filter(phase=phase, university=university, status__in=ACTIVE_STATUSES, settled_at__isnull=True)
            .order_by("status", *waiting_order())  # "seated" sorts before "waiting"
            .values_list("id", "status", "settled_at", "cleared_at")
        )
        rows = list(candidates if left is None else candidates[:left])
        settled, _cleared = _settle_and_clear_many(rows=rows, reason=reason, actor=actor, now=now)
    return len(settled)


def nomination_clear_if_ready(*, nomination: Nomination) -> bool:
    """Clear the nomination if it is seated and settled (or its private university has paid) and
    queue its invitation after commit. Call it whenever a nomination becomes seated. Idempotent;
    True only when this call cleared it."""
    with transaction.atomic():
        locked = Nomination.objects.select_for_update().get(pk=nomination.pk)
        if locked.cleared_at is not None or locked.status != NominationStatus.SEATED:
            return False
        reason = ""
        if locked.settled_at is None:
            settlement = _university_settlement(locked)
            if settlement is None or _paid_seats_left(settlement=settlement) == 0:
                return False  # not paid, or paid for fewer licenses: waits for the next invoice
            reason = settlement.reason
        now = timezone.now()
        settled, cleared = _settle_and_clear_many(
            rows=[(locked.pk, locked.status, locked.settled_at, locked.cleared_at)], reason=reason, actor=None, now=now
        )
    if locked.pk in settled:
        nomination.settled_at, nomination.settled_reason = now, reason[:200]
    if locked.pk in cleared:
        nomination.cleared_at = now
    return locked.pk in cleared


def nominations_clear_waiting_for_link() -> int:
    """Clear the seated, settled learners that wait only for their phase's Coursera link, in the
    phases that have one now (beat, with the invitation sweep). Idempotent; returns how many."""
    cleared = 0
    for phase_id in Phase.objects.exclude(coursera_invitation_url="").values_list("pk", flat=True):
        with transaction.atomic():
            rows = list(
                Nomination.objects.select_for_update()
                .filter(
                    phase_id=phase_id,
                    status=NominationStatus.SEATED,
                    settled_at__isnull=False,
                    cleared_at__isnull=True,
                )
                .order_by("id")
                .values_list("id", "status", "settled_at", "cleared_at")
            )
            if rows:
                _settled, done = _settle_and_clear_many(rows=rows, reason="", actor=None, now=timezone.now())
                cleared += len(done)
    return cleared


# The one path for one learner and for 24,000 ------------------------------------------------


def _settle_and_clear_many(
    *, rows: list[tuple[int, str, datetime.datetime | None, datetime.datetime | None]], reason: str, actor: Any,
    now: datetime.datetime,
) -> tuple[set[int], set[int]]:  # fmt: skip
    """Settle and clear locked nominations, given as (id, status, settled_at, cleared_at): the one
    path for one nomination and for 24,000. Settling records that the money side is done (once; a
    second settle changes nothing); clearing a seated, settled nomination writes its outbox row and
    queues the send after commit. Not while the phase has no Coursera invitation link: the learner
    stays settled and is cleared when HEC sets it (``nominations_clear_waiting_for_link``), instead
    of an invitation failing for every learner. Set-based: the nominations updated 5,000 per
    UPDATE, the outbox rows and the audit entries inserted together. Returns the ids settled and
    the ids cleared by this call."""
    reason = reason[:200]
    seated = NominationStatus.SEATED
    to_settle = [pk for pk, _status, settled_at, _cleared in rows if settled_at is None]
    to_clear = [pk for pk, status, _settled, cleared_at in rows if status == seated and cleared_at is None]
    if to_clear:  # not in a phase without its Coursera link
        unlinked = set()
        for start in range(0, len(to_clear), SETTLE_BATCH):
            unlinked.update(
                Nomination.objects.filter(
                    pk__in=to_clear[start : start + SETTLE_BATCH], phase__coursera_invitation_url=""
                ).values_list("pk", flat=True)
            )
        to_clear = [pk for pk in to_clear if pk not in unlinked]
    # Most rows are settled and cleared at once: one UPDATE writes both, so PostgreSQL writes each
    # row's new version once instead of twice.
    settling = set(to_settle)
    both = [pk for pk in to_clear if pk in settling]
    clearing = set(to_clear)
    settle = {"settled_at": now, "settled_reason": reason}
    changes = (
        (both, {"settled_at__isnull": True, "cleared_at__isnull": True}, {**settle, "cleared_at": now}),
        ([pk for pk in to_settle if pk not in clearing], {"settled_at__isnull": True}, settle),
        ([pk for pk in to_clear if pk not in settling], {"cleared_at__isnull": True}, {"cleared_at": now}),
    )
    for ids, unchanged, values in changes:
        for start in range(0, len(ids), SETTLE_BATCH):
            Nomination.objects.filter(pk__in=ids[start : start + SETTLE_BATCH], **unchanged).update(**values)
    audit_records(
        actor=actor,
        action="nomination.settle",
        target_type="registrations.nomination",
        entries=[(pk, f"Nomination {pk} settled: {reason}", {"reason": reason}) for pk in to_settle],
    )
    outbox: dict[int, int] = {}
    for start in range(0, len(to_clear), SETTLE_BATCH):
        outbox.update(
            Invitation.objects.filter(nomination_id__in=to_clear[start : start + SETTLE_BATCH]).values_list(
                "nomination_id", "id"
            )
        )
    created = [Invitation(nomination_id=pk, enqueued_at=now) for pk in to_clear if pk not in outbox]
    Invitation.objects.bulk_create(created, batch_size=SETTLE_BATCH)
    outbox.update((invitation.nomination_id, invitation.pk) for invitation in created)
    audit_records(
        actor=None,
        action="nomination.clear",
        target_type="registrations.nomination",
        entries=[
            (pk, f"Nomination {pk} cleared; invitation {outbox[pk]} queued", {"invitation": outbox[pk]})
            for pk in to_clear
        ],
    )
    invitations_queue_on_commit(invitation_ids=[invitation.pk for invitation in created])
    return set(to_settle), set(to_clear)


def _university_settlement(nomination: Nomination) -> UniversitySettlement | None:
    if nomination.university_id is None:
        return None
    # Locked: two nominees seated at once must not both take the last paid license.
    return (
        UniversitySettlement.objects.select_for_update()
        .filter(phase_id=nomination.phase_id, university_id=nomination.university_id)
        .first()
    )


def _paid_seats_left(*, settlement: UniversitySettlement) -> int | None:
    """How many more of the university's active nominees its paid licenses settle (None: all)."""
    if settlement.licenses is None:
        return None
    settled = Nomination.objects.filter(
        phase_id=settlement.phase_id,
        university_id=settlement.university_id,
        status__in=ACTIVE_STATUSES,
        settled_at__isnull=False,
    ).count()
    return max(settlement.licenses - settled, 0)
