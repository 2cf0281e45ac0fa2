"""Registration writes: nominations, seats, the waiting list, alumni holds, disclaimers.

First come, first served, and never oversubscribed, under any number of simultaneous requests
from any number of processes, on PostgreSQL and on SQLite:

* A seat is taken by one conditional UPDATE of the quota's counter
  (``quotas.services.quota_seat_take``), inside the same transaction that writes the nomination.
  There is no "read the count, then write" anywhere, so no two requests can both see the last
  free seat. The check constraints on ``Quota`` make the database refuse an oversubscription even
  if some code tried.
* On PostgreSQL the UPDATE locks the quota row until the transaction ends, so seat takers of one
  quota queue up behind each other; the nomination row is inserted after the seat is taken, so the
  ids (the arrival order) of seated nominations are always below those of the ones that found the
  quota full. On SQLite every transaction begins IMMEDIATE (see settings), which serialises them.
* One license per person per phase is checked for a clear message, and enforced by the partial
  unique constraints on (phase, cnic) and (phase, email) of active nominations: a request that
  loses that race gets the same friendly message (the failed insert is rolled back to a savepoint,
  so a surrounding transaction such as a file import carries on).
* A freed seat goes to the waiting list in the same transaction that frees it
  (``waiting_list_promote``), so a newcomer can never slip in front of a waiting nomination.
"""

import datetime
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, audit_records
from core.mail import email_after_commit
from core.roles import user_is_hec_staff
from core.uploads import UploadRefused, check_upload
from quotas import services as quota_services
from quotas.models import Allocation, LicenseMove, Phase, Pool, Quota, University

from .clearing import nomination_clear_if_ready
from .cnic import cnic_mask
from .eligibility import (
    NomineeData,
    cnic_problems,
    duplicate_find,
    duplicate_first_id,
    duplicate_message,
    duplicate_problems,
    email_normalise,
    email_problems,
    full_name_problems,
    name_normalise,
    nominee_normalise,
    nominee_problems,
    non_learner_address_exists,
    non_learner_addresses,
    non_learner_message,
    phone_problems,
)
from .exceptions import RegistrationError
from .models import (
    ACTIVE_STATUSES,
    Disclaimer,
    FocalPerson,
    Nomination,
    NominationStatus,
    Role,
    SeatKind,
    UniversitySettlement,
)
from .selectors import waiting_list

__all__ = [
    "NomineeData",
    "alumni_hold_set",
    "alumni_holds_expire",
    "disclaimer_upload",
    "licenses_move",
    "nomination_reclaim",
    "nomination_reinstate",
    "nomination_reject",
    "nomination_submit",
    "nomination_withdraw",
    "nominations_submit_many",
    "waiting_list_promote",
]

logger = logging.getLogger(__name__)

PERSON_FILE_KINDS = {"pdf", "png", "jpeg"}
_EXTENSIONS = {"pdf": "pdf", "png": "png", "jpeg": "jpg"}


class _Refused(RegistrationError):
    """A RegistrationError that also carries each problem separately (for the file import's rows)
    and, where a problem is about one field of the form, which (``on_fields``: field, problem)."""

    def __init__(self, problems: list[str], *, on_fields: list[tuple[str | None, str]] | None = None):
        super().__init__(" ".join(problems))
        self.problems = problems
        self.on_fields = on_fields or [(None, problem) for problem in problems]


def _refuse(problems: list[str]) -> RegistrationError:
    return _Refused(problems)


# Helpers ------------------------------------------------------------------------------------------


def _email_after_commit(kind: str, nomination_id: int) -> None:
    from .tasks import email_send  # registrations.tasks imports this module: looked up when queued

    email_after_commit(email_send, kind, nomination_id)


def _quota_for_submit(*, phase: Phase, university: University | None, cnic: str, email: str) -> Quota | None:
    """The quota a nomination takes its seat from, read with every check a nomination needs of the
    database, in one query: whether the university's signed disclaimer is on file
    (``has_disclaimer``), the person's earliest active nomination of the phase (``duplicate_id``),
    and whether the address is a staff or focal person's (``runs_programme_*``)."""
    checks = {
        "duplicate_id": duplicate_first_id(phase=phase, cnic=cnic, email=email),
        **non_learner_address_exists(email),
    }
    if university is None:
        return Quota.objects.filter(phase=phase, university__isnull=True).annotate(**checks).first()
    on_file = Disclaimer.objects.filter(phase=phase, university=university)
    return (
        Quota.objects.filter(phase=phase, university=university)
        .annotate(has_disclaimer=Exists(on_file), **checks)
        .first()
    )


def _person_problems(
    *, quota: Quota, phase: Phase, university: University | None, cnic: str, email: str, actor
) -> list[tuple[str | None, str]]:
    """One license per person per phase, and no staff or focal address, from the quota's checks."""
    found: list[tuple[str | None, str]] = []
    if quota.duplicate_id is not None:
        existing = Nomination.objects.select_related("university").get(pk=quota.duplicate_id)
        message = duplicate_message(existing=existing, cnic=cnic, email=email, university=university, viewer=actor)
        found.append(("cnic" if existing.cnic == cnic else "email", message))
    if quota.runs_programme_address or quota.runs_programme_account:
        found.append(("email", non_learner_message(email)))
    return found


def _no_quota_message(*, phase: Phase, university: University | None) -> str:
    if university is None:
        return _("The alumni pool of %(phase)s has no licenses yet; please try again later.") % {"phase": phase.name}
    return _("%(university)s has no licenses in %(phase)s yet: HEC has not published its allocation.") % {
        "university": university.name,
        "phase": phase.name,
    }


def _check_acting_for(*, actor, university: University | None) -> None:
    """A university's nominations are made and changed by its own focal person or by HEC staff;
    an operator's command on the server acts with no account (``actor`` None). Nobody acts for the
    alumni pool: each alumnus registers themself."""
    if university is None or actor is None:
        return
    try:
        # The focal views have already read the focal person onto the user: no second query.
        focal = actor.focal_person
    except FocalPerson.DoesNotExist:
        focal = None
    if focal is not None:
        if focal.university_id != university.pk:
            raise RegistrationError(_("You can act only for your own university."))
    elif not user_is_hec_staff(actor):
        raise RegistrationError(_("Only the university's focal person or HEC staff can do this."))


def _require_staff(actor, what: str) -> None:
    if actor is None or not user_is_hec_staff(actor):
        raise RegistrationError(_("Only HEC staff can %(what)s.") % {"what": what})


def _checked_file(file, *, label: str, kinds: set[str], prefix: str) -> tuple[File | None, list[str]]:
    """An upload checked by content, renamed to a random name that keeps no personal data."""
    if not file:
        return None, []
    try:
        kind = check_upload(file, kinds=kinds, max_bytes=settings.UPLOAD_MAX_BYTES)
    except UploadRefused as refused:
        return None, [_("%(label)s: %(reason)s") % {"label": label, "reason": refused.message}]
    return File(file, name=f"{prefix}-{uuid.uuid4().hex}.{_EXTENSIONS.get(kind, kind)}"), []


def _hold_until(*, phase: Phase, now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(days=phase.payment_hold_days)


def reserved_seat_allowed(
    *, role: str, pool: str, disability: bool, has_certificate: bool, certificate_due_at, now: datetime.datetime
) -> bool:
    """THE rule of the seats reserved for disability: a *student* of a public university who says
    they have a disability, with the government certificate or while it may still follow (a file
    row or the form may say disability and the certificate follows on the nominee's page within
    the phase's days). Faculty and other pools take general seats and pay as everyone does."""
    if not (disability and role == Role.STUDENT and pool == Pool.PUBLIC):
        return False
    return has_certificate or certificate_due_at is None or certificate_due_at > now


def _wants_reserved_seat(nomination: Nomination, *, now: datetime.datetime) -> bool:
    return reserved_seat_allowed(
        role=nomination.role,
        pool=nomination.pool,
        disability=nomination.disability,
        has_certificate=bool(nomination.disability_certificate),
        certificate_due_at=nomination.certificate_due_at,
        now=now,
    )


def _clear_if_ready(nomination: Nomination) -> None:
    """A nomination that becomes seated may already be settled (or its private university paid)."""
    nomination_clear_if_ready(nomination=nomination)


def _nomination_new(
    *, clean: NomineeData, phase: Phase, quota: Quota, university: University | None, actor: Any
) -> Nomination:
    """The unsaved, still waiting nomination of ``clean`` on ``quota`` (one or many at a time)."""
    is_alumnus = university is None
    return Nomination(
        phase=phase,
        quota=quota,
        university=university,
        pool=quota.pool,
        role=clean.role,
        full_name=clean.full_name,
        cnic=clean.cnic,
        email=clean.email,
        phone=clean.phone,
        programme_years=clean.programme_years if clean.role == Role.STUDENT else None,
        disability=clean.disability,
        degree=clean.degree if is_alumnus else "",
        graduated_from=clean.graduated_from if is_alumnus else "",
        graduation_date=clean.graduation_date if is_alumnus else None,
        status=NominationStatus.WAITING,
        submitted_by=actor,
    )


def _seat(nomination: Nomination, *, seat_kind: str, now: datetime.datetime) -> list[str]:
    """Set the fields of a nomination that has just taken a seat; returns the fields changed."""
    nomination.status = NominationStatus.SEATED
    nomination.seat_kind = seat_kind
    nomination.seated_at = now
    fields = ["status", "seat_kind", "seated_at"]
    pending = not nomination.disability_certificate and nomination.certificate_due_at is None
    if seat_kind == SeatKind.DISABILITY and pending:  # the certificate follows within the phase's days
        nomination.certificate_due_at = now + datetime.timedelta(days=nomination.phase.disability_certificate_days)
        fields.append("certificate_due_at")
    if nomination.pool == Pool.ALUMNI:
        nomination.hold_expires_at = _hold_until(phase=nomination.phase, now=now)
        fields.append("hold_expires_at")
    return fields


def _copy_state(target: Nomination, source: Nomination) -> None:
    """Let the caller's object show what the locked copy became."""
    if target is source:
        return
    for field in ("status", "seat_kind", "status_reason", "seated_at", "hold_expires_at", "queue_number",
                  "settled_at", "cleared_at"):  # fmt: skip
        setattr(target, field, getattr(source, field))


# Submitting ---------------------------------------------------------------------------------------


def nomination_submit(
    *,
    phase: Phase,
    university: University | None,
    data: NomineeData,
    actor,
    disability_certificate=None,
    transcript=None,
) -> Nomination:
    """Nominate one person: a free seat of the university's quota (or the alumni pool) at once,
    else the end of the waiting list. ``university=None`` is an alumnus registering themself.

    Registration day runs through here: the database checks of a nomination (disclaimer, one
    license per person, no staff address) come with the quota in one query, then the seat's
    conditional UPDATE, the nomination's INSERT and its audit entry. A duplicate that arrives
    between the check and the insert is refused, with the same message, by the partial unique
    indexes.

    Raises RegistrationError with every problem at once; nothing is written then.
    """
    if getattr(actor, "pk", None) is None:  # who nominated, or the alumnus themself, is always kept
        raise RegistrationError(_("Sign in before registering or nominating anyone."))
    _check_acting_for(actor=actor, university=university)

    certificate, problems = _checked_file(
        disability_certificate, label=_("Disability certificate"), kinds=PERSON_FILE_KINDS, prefix="certificate"
    )
    transcript_file, transcript_problems = _checked_file(
        transcript, label=_("Transcript"), kinds=PERSON_FILE_KINDS, prefix="transcript"
    )
    problems += transcript_problems
    clean = nominee_normalise(data)
    cnic = clean.cnic if not cnic_problems(data.cnic) else ""
    email = clean.email if not email_problems(data.email) else ""

    try:
        # No savepoint inside: a lost duplicate race (IntegrityError at the unique indexes) undoes
        # this whole block, which wrote nothing else, and is answered below, outside it; inside a
        # caller's transaction (a file import) this block is itself the savepoint it carries on from.
        with transaction.atomic():
            # Read inside the transaction: on SQLite it holds the write lock already.
            quota = _quota_for_submit(phase=phase, university=university, cnic=cnic, email=email)
            if university is not None and not (
                quota.has_disclaimer
                if quota is not None
                else Disclaimer.objects.filter(phase=phase, university=university).exists()
            ):
                raise RegistrationError(_("Upload the signed disclaimer form first."))
            on_fields = [
                (None, problem)
                for problem in nominee_problems(
                    phase=phase, university=university, data=data, viewer=actor, check_duplicates=quota is None
                )
                + problems
            ]
            if quota is None:
                if not on_fields:
                    on_fields.append((None, _no_quota_message(phase=phase, university=university)))
            else:
                on_fields += _person_problems(
                    quota=quota, phase=phase, university=university, cnic=cnic, email=email, actor=actor
                )
            if on_fields:
                raise _Refused([problem for _field, problem in on_fields], on_fields=on_fields)
            now = timezone.now()
            reserved_ok = reserved_seat_allowed(
                role=clean.role,
                pool=quota.pool,
                disability=clean.disability,
                has_certificate=certificate is not None,
                certificate_due_at=None,
                now=now,
            )
            # The seat is taken as late as possible: its UPDATE locks the quota row until commit.
            seat = quota_services.quota_seat_take(quota_id=quota.pk, disability=reserved_ok)
            nomination = _nomination_new(clean=clean, phase=phase, quota=quota, university=university, actor=actor)
            if certificate is not None:
                nomination.disability_certificate = certificate
            if transcript_file is not None:
                nomination.transcript = transcript_file
            if seat is not None:
                _seat(nomination, seat_kind=seat, now=now)
            _nominations_insert(nominations=[nomination], phase=phase, quota=quota, university=university, actor=actor)
    except IntegrityError:
        existing = duplicate_find(phase=phase, cnic=clean.cnic, email=clean.email)
        if existing is None:
            raise
        message = duplicate_message(
            existing=existing, cnic=clean.cnic, email=clean.email, university=university, viewer=actor
        )
        raise _Refused([message], on_fields=[("cnic" if existing.cnic == clean.cnic else "email", message)]) from None
    return nomination


def seat_kinds_in_order(
    *, people: list[NomineeData], quota: Quota, now: datetime.datetime | None = None
) -> list[str | None]:
    """The seat each of ``people`` takes from ``quota`` in list order, as one by one would: a
    student who says disability takes a reserved seat while one is free (the certificate follows
    on the nominee's page), everyone else a general seat while one is free; None is the waiting
    list. The file's preview and its commit both ask this."""
    now = now or timezone.now()
    reserved_free = max(quota.disability_reserved - quota.disability_seated, 0)
    general_free = max(quota.licenses - quota.disability_reserved - quota.general_seated, 0)
    kinds: list[str | None] = []
    for person in people:
        wants = reserved_seat_allowed(
            role=person.role, pool=quota.pool, disability=person.disability, has_certificate=False,
            certificate_due_at=None, now=now,
        )  # fmt: skip
        if wants and reserved_free:
            reserved_free -= 1
            kinds.append(SeatKind.DISABILITY)
        elif general_free:
            general_free -= 1
            kinds.append(SeatKind.GENERAL)
        else:
            kinds.append(None)
    return kinds


def nominations_submit_many(
    *, phase: Phase, university: University, people: list[NomineeData], actor
) -> list[Nomination]:
    """Nominate a list of people of one university's quota at once, in list order: the same
    outcome as ``nomination_submit`` for each in turn, in a fixed number of queries (the file
    import). The people must already be checked (``nominee_problems``, no duplicates among them);
    they carry no certificates: a student who says disability takes a reserved seat while one is
    free, pending the certificate; everyone else a general seat while free; then the waiting list.

    The quota row is locked (``select_for_update``; on SQLite the IMMEDIATE transaction is the
    lock) for the rest of the caller's transaction, so the free seats counted here stay free and
    single nominations of the same quota queue behind the list; the counter moves by one
    conditional UPDATE that the check constraints still guard. The nominations are inserted in
    one go in list order, so their ids keep the arrival order. A person who meanwhile registered
    elsewhere makes the insert fail with IntegrityError (the partial unique indexes): the caller
    rolls back to its savepoint and takes the row-by-row path, which names that person.
    """
    if not people:
        return []
    _check_acting_for(actor=actor, university=university)
    locked = Quota.objects.select_for_update().get(phase=phase, university=university)
    clean_people = [nominee_normalise(data) for data in people]
    now = timezone.now()
    kinds = seat_kinds_in_order(people=clean_people, quota=locked, now=now)
    general, reserved = kinds.count(SeatKind.GENERAL), kinds.count(SeatKind.DISABILITY)
    if (general or reserved) and not Quota.objects.filter(
        pk=locked.pk,
        general_seated__lte=F("licenses") - F("disability_reserved") - general,
        disability_seated__lte=F("disability_reserved") - reserved,
    ).update(general_seated=F("general_seated") + general, disability_seated=F("disability_seated") + reserved):
        raise IntegrityError("the quota's free seats changed under its lock")  # never expected; the caller falls back
    nominations = []
    for clean, kind in zip(clean_people, kinds, strict=True):
        nomination = _nomination_new(clean=clean, phase=phase, quota=locked, university=university, actor=actor)
        if kind is not None:
            _seat(nomination, seat_kind=kind, now=now)
        nominations.append(nomination)
    _nominations_insert(nominations=nominations, phase=phase, quota=locked, university=university, actor=actor)
    return nominations


def _nominations_insert(
    *, nominations: list[Nomination], phase: Phase, quota: Quota, university: University | None, actor: Any
) -> None:
    """Insert new nominations whose seats are already taken (or who wait), in list order so their
    ids keep the arrival order, with their audit entries; the seated ones of a private university
    that has paid are cleared at once. One path for a single nomination and a whole file."""
    Nomination.objects.bulk_create(nominations)
    if any(nomination.pk is None for nomination in nominations):  # pragma: no cover - PostgreSQL, SQLite ≥ 3.35
        raise IntegrityError("the database returned no ids for the nominations")
    where = university.code if university else "alumni pool"
    audit_records(
        actor=actor,
        action="nomination.submit",
        entries=[
            (
                nomination,
                f"{nomination.role} {cnic_mask(nomination.cnic)} nominated in {where}: {nomination.status}",
                {"status": nomination.status, "seat_kind": nomination.seat_kind, "quota": quota.pk},
            )
            for nomination in nominations
        ],
    )
    # A new nomination is not settled yet, so only a private university that has paid clears it at
    # once (read after the seat's UPDATE, which waits for a concurrent payment).
    seated = [nomination for nomination in nominations if nomination.status == NominationStatus.SEATED]
    if (
        seated
        and quota.pool == Pool.PRIVATE
        and UniversitySettlement.objects.filter(phase=phase, university=university).exists()
    ):
        for nomination in seated:
            _clear_if_ready(nomination)


# Leaving and coming back ----------------------------------------------------------------------------


def _deactivate(*, nomination: Nomination, actor, status: str, reason: str, action: str) -> Nomination:
    with transaction.atomic():
        locked = Nomination.objects.select_for_update(of=("self",)).select_related("phase").get(pk=nomination.pk)
        if locked.status not in ACTIVE_STATUSES:
            raise RegistrationError(
                _("The nomination of %(name)s is already %(status)s.")
                % {"name": locked.full_name, "status": locked.get_status_display().lower()}
            )
        seat_kind = locked.seat_kind if locked.status == NominationStatus.SEATED else ""
        before = locked.status
        locked.status = status
        locked.seat_kind = ""
        locked.status_reason = reason
        locked.save(update_fields=["status", "seat_kind", "status_reason"])
        audit_record(
            actor=actor,
            action=action,
            target=locked,
            summary=f"Nomination {locked.pk} {before} → {status}: {reason}"[:500],
            data={"from": before, "to": status, "seat_kind": seat_kind, "reason": reason},
        )
        if seat_kind:
            quota_services.quota_seat_release(quota_id=locked.quota_id, seat_kind=seat_kind)
            waiting_list_promote(quota_id=locked.quota_id, actor=actor)
    _copy_state(nomination, locked)
    return locked


def nomination_withdraw(*, nomination: Nomination, actor, reason: str) -> Nomination:
    """The university (or HEC) withdraws a seated or waiting nomination; a freed seat goes to the
    earliest waiting nomination at once."""
    _check_acting_for(actor=actor, university=nomination.university)
    if nomination.cleared_at is not None and not (actor is not None and user_is_hec_staff(actor)):
        raise RegistrationError(
            _("%(name)s has already been cleared for the Coursera invitation; only HEC staff can end this license.")
            % {"name": nomination.full_name}
        )
    return _deactivate(
        nomination=nomination,
        actor=actor,
        status=NominationStatus.WITHDRAWN,
        reason=(reason or "").strip(),
        action="nomination.withdraw",
    )


def nomination_correct(*, nomination: Nomination, actor, full_name: str, email: str, phone: str) -> Nomination:
    """The focal person corrects a nominee's name, e-mail or phone, until the Coursera invitation
    has gone out (it is sent to the e-mail). The one-license rule and the staff-address rule hold
    for a new e-mail as for a new nomination; before and after are audited."""
    _check_acting_for(actor=actor, university=nomination.university)
    problems = full_name_problems(full_name) + email_problems(email) + phone_problems(phone)
    if problems:
        raise _refuse(problems)
    new = {"full_name": name_normalise(full_name), "email": email_normalise(email), "phone": (phone or "").strip()}
    try:
        with transaction.atomic():
            locked = Nomination.objects.select_for_update(of=("self",)).select_related("phase").get(pk=nomination.pk)
            if locked.status not in ACTIVE_STATUSES or locked.cleared_at is not None:
                raise RegistrationError(
                    _(
                        "The details of %(name)s can no longer be changed: the nomination is %(status)s. Ask HEC "
                        "if something is wrong."
                    )
                    % {
                        "name": locked.full_name,
                        "status": _("cleared for the invitation")
                        if locked.cleared_at
                        else locked.get_status_display().lower(),
                    }
                )
            before = {field: getattr(locked, field) for field in new}
            if new == before:
                return locked
            if new["email"] != before["email"]:
                on_fields = []
                if new["email"] in non_learner_addresses([new["email"]]):
                    on_fields.append(("email", non_learner_message(new["email"])))
                existing = duplicate_find(phase=locked.phase, cnic="", email=new["email"], exclude_id=locked.pk)
                if existing is not None:
                    message = duplicate_message(
                        existing=existing, cnic="", email=new["email"], university=locked.university, viewer=actor
                    )
                    on_fields.append(("email", message))
                if on_fields:
                    raise _Refused([problem for _field, problem in on_fields], on_fields=on_fields)
            for field, value in new.items():
                setattr(locked, field, value)
            locked.save(update_fields=list(new))
            changed = {field: [before[field], value] for field, value in new.items() if before[field] != value}
            audit_record(
                actor=actor,
                action="nomination.correct",
                target=locked,
                summary=f"Nomination {locked.pk} corrected: {', '.join(changed)}",
                data={"changed": changed},
            )
    except IntegrityError:  # the same e-mail nominated elsewhere at the same moment
        existing = duplicate_find(phase=nomination.phase, cnic="", email=new["email"], exclude_id=nomination.pk)
        if existing is None:
            raise
        message = duplicate_message(
            existing=existing, cnic="", email=new["email"], university=nomination.university, viewer=actor
        )
        raise _Refused([message], on_fields=[("email", message)]) from None
    for field, value in new.items():
        setattr(nomination, field, value)
    return locked


def nomination_reject(*, nomination: Nomination, actor, reason: str) -> Nomination:
    """HEC staff reject a nomination, saying why; a freed seat goes to the waiting list at once."""
    _require_staff(actor, _("reject a nomination"))
    reason = (reason or "").strip()
    if not reason:
        raise RegistrationError(_("Say why the nomination is rejected; the reason is kept with it."))
    return _deactivate(
        nomination=nomination, actor=actor, status=NominationStatus.REJECTED, reason=reason, action="nomination.reject"
    )


def nomination_reclaim(*, nomination: Nomination, actor, reason: str) -> Nomination:
    """HEC staff take back the seat of a learner who never joined the Coursera program
    (registrations.reclaim checks that first): RECLAIMED, the seat to the waiting list at once."""
    _require_staff(actor, _("reclaim a seat"))
    return _deactivate(
        nomination=nomination,
        actor=actor,
        status=NominationStatus.RECLAIMED,
        reason=(reason or "").strip(),
        action="nomination.reclaim",
    )


def _next_queue_number() -> int:
    numbers = Nomination.objects.aggregate(last_id=Max("id"), last_queue=Max("queue_number"))
    return max(numbers["last_id"] or 0, numbers["last_queue"] or 0) + 1


def nomination_reinstate(*, nomination: Nomination, actor) -> Nomination:
    """HEC staff bring back a rejected, withdrawn or reclaimed nomination: a free seat if there is one, else the
    END of the waiting list, like a new arrival. The one-license-per-person rule is checked again."""
    _require_staff(actor, _("reinstate a nomination"))
    with transaction.atomic():
        locked = (
            Nomination.objects.select_for_update(of=("self",))
            .select_related("phase", "university")
            .get(pk=nomination.pk)
        )
        if locked.status not in (NominationStatus.REJECTED, NominationStatus.WITHDRAWN, NominationStatus.RECLAIMED):
            raise RegistrationError(
                _("Only a rejected, withdrawn or reclaimed nomination can be reinstated; this one is %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        problems = duplicate_problems(
            phase=locked.phase,
            cnic=locked.cnic,
            email=locked.email,
            university=locked.university,
            viewer=actor,
            exclude_id=locked.pk,
        )
        if problems:
            raise _refuse(problems)
        before = locked.status
        now = timezone.now()
        try:
            with transaction.atomic():
                locked.queue_number = _next_queue_number()
                locked.status = NominationStatus.WAITING
                locked.status_reason = ""
                fields = ["status", "status_reason", "queue_number"]
                seat = quota_services.quota_seat_take(
                    quota_id=locked.quota_id, disability=_wants_reserved_seat(locked, now=now)
                )
                if seat is not None:
                    fields += _seat(locked, seat_kind=seat, now=now)
                locked.save(update_fields=list(dict.fromkeys(fields)))
        except IntegrityError:
            existing = duplicate_find(phase=locked.phase, cnic=locked.cnic, email=locked.email, exclude_id=locked.pk)
            if existing is None:
                raise
            raise _refuse(
                [
                    duplicate_message(
                        existing=existing,
                        cnic=locked.cnic,
                        email=locked.email,
                        university=locked.university,
                        viewer=actor,
                    )
                ]
            ) from None
        audit_record(
            actor=actor,
            action="nomination.reinstate",
            target=locked,
            summary=f"Nomination {locked.pk} reinstated: {before} → {locked.status}",
            data={"from": before, "to": locked.status, "seat_kind": locked.seat_kind},
        )
        if locked.status == NominationStatus.SEATED:
            _clear_if_ready(locked)
    _copy_state(nomination, locked)
    return locked


# The waiting list --------------------------------------------------------------------------------


def waiting_list_promote(*, quota_id: int, actor=None) -> list[Nomination]:
    """Give every free seat of the quota to the earliest waiting nominations, and tell them by e-mail.

    The waiting rows are locked in arrival order. A nominee with a disability certificate may take
    a freed reserved seat; everyone else only a general seat. A waiter is skipped only when no seat
    of its kind is free, so a reserved seat can go to a later disability nominee while the earlier
    ones wait for a general seat.
    """
    return _promote(quota_id=quota_id, actor=actor, now=timezone.now())


def _promote(*, quota_id: int, actor, now: datetime.datetime) -> list[Nomination]:
    promoted: list[Nomination] = []
    with transaction.atomic():
        waiters = list(waiting_list(quota_id=quota_id).select_for_update(of=("self",)).select_related("phase"))
        general_full = False
        for nomination in waiters:
            reserved_ok = _wants_reserved_seat(nomination, now=now)
            if general_full and not reserved_ok:
                continue
            seat = quota_services.quota_seat_take(quota_id=quota_id, disability=reserved_ok)
            if seat is None:
                if reserved_ok:
                    break  # neither a reserved nor a general seat is left
                general_full = True
                continue
            nomination.save(update_fields=_seat(nomination, seat_kind=seat, now=now))
            audit_record(
                actor=actor,
                action="nomination.promote",
                target=nomination,
                summary=f"Nomination {nomination.pk} promoted from the waiting list to a {seat} seat",
                data={"seat_kind": seat, "quota": quota_id},
            )
            _email_after_commit("promotion", nomination.pk)
            _clear_if_ready(nomination)
            promoted.append(nomination)
    return promoted


# Seats reserved for disability ---------------------------------------------------------------------


def disability_certificates_overdue(*, now: datetime.datetime | None = None) -> int:
    """Every student on a reserved seat whose certificate did not arrive by its day: a general seat
    if one is free, else the waiting list (where only general seats are theirs until the
    certificate is on file), the freed reserved seat to the next student waiting for one, and an
    e-mail saying so. Idempotent (beat runs it); returns how many moved."""
    now = now or timezone.now()
    due = Q(
        status=NominationStatus.SEATED,
        seat_kind=SeatKind.DISABILITY,
        disability_certificate="",
        certificate_due_at__lt=now,
    )
    moved = 0
    for pk in Nomination.objects.filter(due).order_by("id").values_list("id", flat=True):
        with transaction.atomic():
            locked = (
                Nomination.objects.select_for_update(of=("self",)).select_related("phase").filter(due, pk=pk).first()
            )
            if locked is None:  # the certificate came, or the nominee left, meanwhile
                continue
            quota_services.quota_seat_release(quota_id=locked.quota_id, seat_kind=SeatKind.DISABILITY)
            seat = quota_services.quota_seat_take(quota_id=locked.quota_id, disability=False)
            if seat is None:
                locked.status, locked.seat_kind = NominationStatus.WAITING, ""
            else:
                locked.seat_kind = seat
            locked.status_reason = _("The disability certificate did not arrive by %(day)s.") % {
                "day": timezone.localtime(locked.certificate_due_at).strftime("%Y-%m-%d")
            }
            locked.save(update_fields=["status", "seat_kind", "status_reason"])
            audit_record(
                actor=None,
                action="nomination.certificate_overdue",
                target=locked,
                summary=f"Nomination {locked.pk}: no disability certificate by its day; now {locked.status} "
                f"{locked.seat_kind or ''}".strip(),
                data={"status": locked.status, "seat_kind": locked.seat_kind},
            )
            _promote(quota_id=locked.quota_id, actor=None, now=now)
            _email_after_commit("certificate_overdue", locked.pk)
            if locked.status == NominationStatus.SEATED:
                _clear_if_ready(locked)
            moved += 1
    return moved


def nomination_certificate_attach(*, nomination: Nomination, file, actor) -> Nomination:
    """The focal person attaches a nominee's government disability certificate (checked by
    content). HEC checks it as every certificate; a waiting student may now take a free reserved
    seat."""
    _check_acting_for(actor=actor, university=nomination.university)
    certificate, problems = _checked_file(
        file, label=_("Disability certificate"), kinds=PERSON_FILE_KINDS, prefix="certificate"
    )
    if problems or certificate is None:
        raise _refuse(problems or [_("Choose the certificate file to upload.")])
    with transaction.atomic():
        locked = Nomination.objects.select_for_update(of=("self",)).select_related("phase").get(pk=nomination.pk)
        if locked.status not in ACTIVE_STATUSES:
            raise RegistrationError(
                _("The nomination of %(name)s is %(status)s; a certificate can no longer be attached.")
                % {"name": locked.full_name, "status": locked.get_status_display().lower()}
            )
        locked.disability_certificate = certificate
        locked.disability = True
        locked.save(update_fields=["disability_certificate", "disability"])
        audit_record(
            actor=actor,
            action="nomination.certificate_attach",
            target=locked,
            summary=f"Disability certificate attached to nomination {locked.pk}",
        )
        if locked.status == NominationStatus.WAITING:
            _promote(quota_id=locked.quota_id, actor=actor, now=timezone.now())
    _copy_state(nomination, Nomination.objects.get(pk=locked.pk))
    nomination.disability_certificate, nomination.disability = locked.disability_certificate, True
    return locked


def disability_reserves_release(*, phase: Phase, actor, quota_ids: list[int] | None = None) -> int:
    """Release the reserved disability seats still unused in the phase's public universities (or in
    ``quota_ids``) to their general seats: HEC staff decide it, or the phase's release date comes.
    Each release is audited with how many seats; the waiting lists take the new general seats at
    once. Returns the seats released."""
    released = 0
    with transaction.atomic():
        # of=("self",): the alumni quota has no university, and PostgreSQL locks no outer-joined row.
        quotas = Quota.objects.select_for_update(of=("self",)).filter(
            phase=phase, disability_reserved__gt=F("disability_seated")
        )
        if quota_ids is not None:
            quotas = quotas.filter(pk__in=quota_ids)
        for quota in quotas.select_related("university").order_by("pk"):
            unused = quota.disability_reserved - quota.disability_seated
            Quota.objects.filter(pk=quota.pk).update(disability_reserved=F("disability_seated"))
            audit_record(
                actor=actor,
                action="quota.reserve_release",
                target=quota,
                summary=f"{unused} unused disability seats of {quota} released to general seats",
                data={"released": unused, "reserved_before": quota.disability_reserved},
            )
            _promote(quota_id=quota.pk, actor=actor, now=timezone.now())
            released += unused
    return released


def disability_reserves_release_due(*, today: datetime.date | None = None) -> int:
    """Beat: on and after a phase's release date, its unused reserved seats go to general seats."""
    today = today or timezone.localdate()
    return sum(
        disability_reserves_release(phase=phase, actor=None)
        for phase in Phase.objects.filter(disability_release_on__lte=today).order_by("pk")
    )


# Alumni payment holds ----------------------------------------------------------------------------------


def alumni_hold_set(*, nomination: Nomination, until: datetime.datetime | None, actor) -> Nomination:
    """Set (or, with None, lift) the date until which an alumnus's seat waits for the payment."""
    with transaction.atomic():
        locked = Nomination.objects.select_for_update().get(pk=nomination.pk)
        if locked.pool != Pool.ALUMNI:
            raise RegistrationError(_("Only alumni seats are held for a payment."))
        if locked.status not in ACTIVE_STATUSES:
            raise RegistrationError(
                _("The nomination of %(name)s is %(status)s; its seat can no longer be held.")
                % {"name": locked.full_name, "status": locked.get_status_display().lower()}
            )
        before = locked.hold_expires_at
        locked.hold_expires_at = until
        locked.save(update_fields=["hold_expires_at"])
        audit_record(
            actor=actor,
            action="nomination.hold_set",
            target=locked,
            summary=f"Alumni hold of nomination {locked.pk}: {before} → {until}",
            data={"from": before.isoformat() if before else None, "to": until.isoformat() if until else None},
        )
    _copy_state(nomination, locked)
    return locked


def alumni_holds_expire(*, now: datetime.datetime | None = None) -> int:
    """End every alumni seat whose payment hold ran out unpaid: EXPIRED, seat freed, the pool's
    waiting list promoted, the person told by e-mail. Idempotent; returns how many expired."""
    now = now or timezone.now()
    due = Q(pool=Pool.ALUMNI, status=NominationStatus.SEATED, settled_at__isnull=True, hold_expires_at__lt=now)
    expired = 0
    for pk in Nomination.objects.filter(due).order_by("id").values_list("id", flat=True):
        with transaction.atomic():
            locked = Nomination.objects.select_for_update().filter(due, pk=pk).first()
            if locked is None:  # paid or withdrawn meanwhile
                continue
            seat_kind = locked.seat_kind
            locked.status = NominationStatus.EXPIRED
            locked.seat_kind = ""
            locked.status_reason = _("The seat was held until %(until)s and no paid challan arrived.") % {
                "until": timezone.localtime(locked.hold_expires_at).strftime("%Y-%m-%d %H:%M")
            }
            locked.save(update_fields=["status", "seat_kind", "status_reason"])
            audit_record(
                actor=None,
                action="nomination.expire",
                target=locked,
                summary=f"Alumni hold of nomination {locked.pk} expired unpaid",
                data={"hold_expires_at": locked.hold_expires_at.isoformat(), "seat_kind": seat_kind},
            )
            quota_services.quota_seat_release(quota_id=locked.quota_id, seat_kind=seat_kind)
            _promote(quota_id=locked.quota_id, actor=None, now=now)
            _email_after_commit("hold_expired", locked.pk)
            expired += 1
    return expired


# Licenses and disclaimers ----------------------------------------------------------------------------


def licenses_move(
    *,
    phase: Phase,
    from_university: University,
    to_university: University,
    licenses: int,
    reason: str,
    actor,
    across_pools: bool = False,
    beyond_caps: bool = False,
) -> LicenseMove:
    """Move unused licenses between universities (quotas records the move, keeping pools, caps and
    disability reserves true); the receiving university's waiting list takes the new seats in the
    same transaction. A move quotas refuses raises its QuotaError and changes nothing."""
    with transaction.atomic():
        move = quota_services.license_move(
            phase=phase,
            from_university=from_university,
            to_university=to_university,
            licenses=licenses,
            reason=reason,
            actor=actor,
            across_pools=across_pools,
            beyond_caps=beyond_caps,
        )
        waiting_list_promote(quota_id=move.to_quota_id, actor=actor)
    return move


def disclaimer_upload(*, phase: Phase, university: University, file, actor) -> Disclaimer:
    """Keep a university's signed disclaimer form (a real, complete PDF) for the phase."""
    _check_acting_for(actor=actor, university=university)
    try:
        check_upload(file, kinds={"pdf"}, max_bytes=settings.UPLOAD_MAX_BYTES)
    except UploadRefused as refused:
        raise RegistrationError(refused.message) from refused
    with transaction.atomic():
        disclaimer = Disclaimer(phase=phase, university=university, uploaded_by=actor)
        disclaimer.file = File(file, name=f"{university.code}-disclaimer-{uuid.uuid4().hex}.pdf")
        disclaimer.save()
        audit_record(
            actor=actor,
            action="disclaimer.upload",
            target=disclaimer,
            summary=f"Signed disclaimer of {university.code} for {phase.slug} uploaded",
        )
    return disclaimer


# Publishing an allocation ------------------------------------------------------------------------


def allocation_publish_and_promote(*, allocation: Allocation, actor) -> tuple[Allocation, list[Nomination]]:
    """Publish an allocation (quotas sets every seat counter) and give the seats it adds to the
    waiting lists in the same transaction, as moving licenses in does; returns the allocation and
    the nominations promoted. A publish that would leave a quota below its seats taken is refused
    by quotas (its QuotaError) and changes nothing."""
    with transaction.atomic():
        # Locked before the counters are read so that a concurrent publish cannot slip between
        # the snapshot and ours; quotas locks the same row again.
        Phase.objects.select_for_update().get(pk=allocation.phase_id)
        before = {
            pk: (licenses - reserved, reserved)
            for pk, licenses, reserved in Quota.objects.filter(phase_id=allocation.phase_id).values_list(
                "pk", "licenses", "disability_reserved"
            )
        }
        published = quota_services.allocation_publish(allocation=allocation, actor=actor)
        grown = [
            pk
            for pk, licenses, reserved in Quota.objects.filter(phase_id=allocation.phase_id)
            .order_by("pk")
            .values_list("pk", "licenses", "disability_reserved")
            if pk in before and (licenses - reserved > before[pk][0] or reserved > before[pk][1])
        ]
        waiting = set(
            Nomination.objects.filter(quota_id__in=grown, status=NominationStatus.WAITING).values_list(
                "quota_id", flat=True
            )
        )
        now = timezone.now()
        promoted: list[Nomination] = []
        for quota_id in grown:
            if quota_id in waiting:
                promoted.extend(_promote(quota_id=quota_id, actor=actor, now=now))
    return published, promoted
