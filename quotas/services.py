"""Write operations of the quotas app: phases, universities, allocations, seat counters, moves.

The seat counters (`quota_seat_take`, `quota_seat_release`) are the heart of first come, first
served: each is one conditional UPDATE on the quota row, so two simultaneous nominations can
never both take the last seat, on PostgreSQL or SQLite. Registrations calls them inside its own
transaction.
"""

import datetime
import io
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import tablib
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record

from .allocation import AllocationResult, PhaseNumbers, UniversityInput, allocate, disability_reserve
from .exceptions import QuotaError
from .models import Allocation, AllocationLine, LicenseMove, Phase, Pool, Quota, Sector, University
from .resources import UNIVERSITY_COLUMNS, UniversityResource


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@transaction.atomic
def phase_create(
    *, slug: str, launch: datetime.date, name: str = "", coursera_invitation_url: str = "", actor=None
) -> Phase:
    """A new phase with the SOP's default numbers; registration opens at the start of launch day.
    Without the Coursera program's invitation link nobody is cleared for an invitation until HEC
    sets it (the allocation pages say so)."""
    coursera_invitation_url = (coursera_invitation_url or "").strip()
    if coursera_invitation_url:
        try:
            URLValidator(schemes=["https"])(coursera_invitation_url)
        except ValidationError:
            raise QuotaError(
                _("The Coursera invitation link must be a full https:// address, not “%(url)s”.")
                % {"url": coursera_invitation_url}
            ) from None
    if Phase.objects.filter(slug=slug).exists():
        raise QuotaError(
            _("A phase called “%(slug)s” already exists. Choose another name, or change the existing phase.")
            % {"slug": slug}
        )
    opens_at = timezone.make_aware(datetime.datetime.combine(launch, datetime.time.min))
    phase = Phase.objects.create(
        slug=slug,
        name=name or _("DLSEI phase %(slug)s") % {"slug": slug},
        launch_date=launch,
        registration_opens_at=opens_at,
        alumni_graduated_from=_years_before(launch, 2),
        alumni_graduated_until=launch,
        coursera_invitation_url=coursera_invitation_url,
    )
    audit_record(actor=actor, action="phase.create", target=phase, summary=f"Phase {slug} created, launch {launch}")
    return phase


def universities_import(*, data: bytes, actor=None, dry_run: bool = False) -> dict[str, int]:
    """Create or update universities by code from a CSV; a bad file changes nothing.

    Returns counts of new, updated and unchanged rows. Raises QuotaError listing every bad row.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise QuotaError(_("The file is not UTF-8 text. In Excel use “Save as → CSV UTF-8”.")) from None
    dataset = tablib.Dataset()
    try:
        dataset.load(io.StringIO(text), format="csv")
    except Exception:
        raise QuotaError(
            _("The file could not be read as CSV. In Excel use “Save as → CSV UTF-8”, then upload it again.")
        ) from None
    headers = [h.strip().lower() for h in (dataset.headers or [])]
    missing = [c for c in UNIVERSITY_COLUMNS if c not in headers]
    if missing:
        raise QuotaError(_("The file is missing the columns: %(columns)s.") % {"columns": ", ".join(missing)})
    dataset.headers = headers
    if not len(dataset):
        raise QuotaError(
            _("The file has no universities in it. Put one on each row below the header, then upload it again.")
        )

    with transaction.atomic():
        result = UniversityResource().import_data(dataset, dry_run=True, raise_errors=False)
        problems = [
            _("row %(row)s: %(error)s") % {"row": number + 1, "error": error.error}
            for number, errors in result.row_errors()
            for error in errors
        ]
        for invalid in result.invalid_rows:
            details = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in invalid.error_dict.items())
            problems.append(_("row %(row)s: %(error)s") % {"row": invalid.number + 1, "error": details})
        if problems:
            raise QuotaError(_("Nothing was imported. ") + " ".join(problems))
        if not dry_run:
            result = UniversityResource().import_data(dataset, dry_run=False, raise_errors=True)
            audit_record(
                actor=actor,
                action="university.import",
                target_type="quotas.university",
                summary=f"Universities imported: {result.totals}",
            )
    return {"new": result.totals["new"], "updated": result.totals["update"], "unchanged": result.totals["skip"]}


# --- Allocation -----------------------------------------------------------------------------

SHARE_PLACES = Decimal("0.0001")


def _phase_numbers(phase: Phase) -> PhaseNumbers:
    return PhaseNumbers(
        total=phase.total_licenses,
        public=phase.public_pool_licenses,
        nahe=phase.nahe_pool_licenses,
        alumni=phase.alumni_pool_licenses,
        private=phase.private_pool_licenses,
        distance_learning_budget=phase.distance_learning_licenses,
        public_min=phase.public_min_licenses,
        public_max=phase.public_max_licenses,
        private_min=phase.private_min_licenses,
        private_max=phase.private_max_licenses,
        disability_percent=Decimal(phase.disability_percent),
        disability_rounding=phase.disability_rounding,
    )


def _university_inputs(universities: list[University]) -> list[UniversityInput]:
    # Only private universities opt in or out; public ones and NAHE always take part.
    return [
        UniversityInput(
            code=u.code,
            sector=u.sector,
            enrolment=u.enrolment,
            fixed_grant=u.distance_learning_licenses,
            participates=u.participates if u.sector == Sector.PRIVATE else True,
        )
        for u in universities
    ]


def _share_decimal(share: Fraction) -> Decimal:
    return (Decimal(share.numerator) / Decimal(share.denominator)).quantize(SHARE_PLACES, rounding=ROUND_HALF_UP)


def _actor_or_none(actor):
    return actor if getattr(actor, "pk", None) else None


@transaction.atomic
def allocation_run(*, phase: Phase, actor) -> Allocation:
    """Run the engine on today's universities and store the result as the phase's next DRAFT version.

    The phase row is locked so two runs never get the same version number. A QuotaError from the
    engine (impossible settings) propagates and nothing is written.
    """
    locked = Phase.objects.select_for_update().get(pk=phase.pk)
    universities = list(University.objects.order_by("code"))
    result: AllocationResult = allocate(numbers=_phase_numbers(locked), universities=_university_inputs(universities))
    version = (Allocation.objects.filter(phase=locked).aggregate(last=Max("version"))["last"] or 0) + 1
    allocation = Allocation.objects.create(
        phase=locked, version=version, created_by=_actor_or_none(actor), pools=dict(result.pools)
    )
    by_code = {u.code: u for u in universities}
    AllocationLine.objects.bulk_create(
        AllocationLine(
            allocation=allocation,
            university=by_code[share.code],
            pool=share.pool,
            enrolment=share.enrolment,
            exact_share=_share_decimal(share.exact_share),
            licenses=share.licenses,
            disability_reserved=share.disability_reserved,
            bound=share.bound,
        )
        for share in result.universities
    )
    audit_record(
        actor=actor,
        action="allocation.run",
        target=allocation,
        summary=f"Allocation v{version} of {locked.slug} computed for {len(result.universities)} universities",
        data={
            "pools": dict(result.pools),
            "lambda_public": str(result.lam_public) if result.lam_public is not None else None,
            "lambda_private": str(result.lam_private) if result.lam_private is not None else None,
        },
    )
    return allocation


def _net_moves(*, phase: Phase) -> dict[int, int]:
    """Licenses moved in minus moved out so far, per quota id."""
    net: dict[int, int] = defaultdict(int)
    for row in LicenseMove.objects.filter(phase=phase).values("to_quota_id").annotate(n=Sum("licenses")):
        net[row["to_quota_id"]] += row["n"]
    for row in LicenseMove.objects.filter(phase=phase).values("from_quota_id").annotate(n=Sum("licenses")):
        net[row["from_quota_id"]] -= row["n"]
    return net


@transaction.atomic
def allocation_publish(*, allocation: Allocation, actor) -> Allocation:
    """Make a draft the phase's published allocation and set every seat counter from it.

    Each university's quota becomes its licenses in this version plus the licenses moved in and
    minus those moved out so far; the alumni pool gets its own row. The previously published
    version becomes superseded. Publishing is refused, with every conflicting number named and
    nothing changed, when a quota would fall below the seats already taken in it.
    """
    phase = Phase.objects.select_for_update().get(pk=allocation.phase_id)
    allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
    if allocation.status != Allocation.Status.DRAFT:
        raise QuotaError(
            _("Version %(version)s is %(status)s; only a draft can be published. Run a new allocation instead.")
            % {"version": allocation.version, "status": allocation.get_status_display().lower()}
        )
    lines = list(allocation.lines.select_related("university"))
    existing = {
        q.university_id: q
        for q in Quota.objects.select_for_update(of=("self",))
        .select_related("university")
        .filter(phase=phase)
        .order_by("pk")
    }
    net = _net_moves(phase=phase)

    # What every counter should hold: university id (None = alumni pool) -> (pool, licenses, reserved, code).
    targets: dict[int | None, tuple[str, int, int, str]] = {
        line.university_id: (line.pool, line.licenses, line.disability_reserved, line.university.code) for line in lines
    }
    in_version = set(targets)
    targets[None] = (Pool.ALUMNI, int(allocation.pools.get(Pool.ALUMNI, 0)), 0, _("the alumni pool"))
    for university_id, quota in existing.items():
        if university_id not in targets:  # left out of this version (e.g. a private university opted out)
            targets[university_id] = (quota.pool, 0, 0, quota.university.code)

    conflicts: list[str] = []
    final: dict[int | None, tuple[str, int, int]] = {}
    for university_id, (pool, licenses, reserved, label) in targets.items():
        quota = existing.get(university_id)
        moved = net.get(quota.pk, 0) if quota else 0
        total = licenses + moved
        if total < 0:
            conflicts.append(
                _("%(who)s would have %(licenses)s licenses, but %(moved)s were already moved out of it")
                % {"who": label, "licenses": licenses, "moved": -moved}
            )
            continue
        # The reserve is the phase's share of what the university holds after its moves, never
        # below the reserved seats already taken.
        reserved = reserve_for(
            phase=phase, pool=pool, licenses=total, seated=quota.disability_seated if quota is not None else 0
        )
        if quota is not None and (quota.general_seated > total - reserved or quota.disability_seated > reserved):
            if university_id is not None and university_id not in in_version:
                conflicts.append(
                    _("%(who)s is not in this version but already has %(seated)s seats taken")
                    % {"who": label, "seated": quota.seated}
                )
            else:
                conflicts.append(
                    _(
                        "%(who)s would have %(general)s general and %(reserved)s reserved seats, but "
                        "%(general_seated)s general and %(disability_seated)s reserved seats are already taken"
                    )
                    % {
                        "who": label,
                        "general": total - reserved,
                        "reserved": reserved,
                        "general_seated": quota.general_seated,
                        "disability_seated": quota.disability_seated,
                    }
                )
            continue
        final[university_id] = (pool, total, reserved)
    if conflicts:
        raise QuotaError(
            _("Version %(version)s cannot be published: %(conflicts)s. Nothing was changed.")
            % {"version": allocation.version, "conflicts": "; ".join(sorted(conflicts))}
        )

    Allocation.objects.filter(phase=phase, status=Allocation.Status.PUBLISHED).update(
        status=Allocation.Status.SUPERSEDED
    )
    allocation.status = Allocation.Status.PUBLISHED
    allocation.published_at = timezone.now()
    allocation.published_by = _actor_or_none(actor)
    allocation.save(update_fields=["status", "published_at", "published_by"])

    to_update: list[Quota] = []
    to_create: list[Quota] = []
    for university_id, (pool, licenses, reserved) in final.items():
        quota = existing.get(university_id)
        if quota is None:
            to_create.append(
                Quota(
                    phase=phase, university_id=university_id, pool=pool, licenses=licenses, disability_reserved=reserved
                )
            )
        elif (quota.pool, quota.licenses, quota.disability_reserved) != (pool, licenses, reserved):
            quota.pool, quota.licenses, quota.disability_reserved = pool, licenses, reserved
            to_update.append(quota)
    # Only these three columns are written; the seat counters stay as the seat services left them.
    Quota.objects.bulk_update(to_update, ["pool", "licenses", "disability_reserved"], batch_size=500)
    Quota.objects.bulk_create(to_create, batch_size=500)
    audit_record(
        actor=actor,
        action="allocation.publish",
        target=allocation,
        summary=f"Allocation v{allocation.version} of {phase.slug} published "
        f"({len(to_create)} quotas created, {len(to_update)} changed)",
        data={"pools": allocation.pools, "created": len(to_create), "changed": len(to_update)},
    )
    return allocation


# --- Seat counters --------------------------------------------------------------------------

SEAT_FIELDS = {"general": "general_seated", "disability": "disability_seated"}


def quota_seat_take(*, quota_id: int, disability: bool) -> str | None:
    """Take one seat of the quota: a reserved one first for a nominee with a disability, else a
    general one. Returns "disability", "general" or None (full). Runs inside the caller's
    transaction; every attempt is a single conditional UPDATE, never read-then-write."""
    if disability and Quota.objects.filter(pk=quota_id, disability_seated__lt=F("disability_reserved")).update(
        disability_seated=F("disability_seated") + 1
    ):
        return "disability"
    if Quota.objects.filter(pk=quota_id, general_seated__lt=F("licenses") - F("disability_reserved")).update(
        general_seated=F("general_seated") + 1
    ):
        return "general"
    return None


def quota_seat_release(*, quota_id: int, seat_kind: str) -> None:
    """Give back one seat of ``seat_kind`` ("general" or "disability"); never below zero."""
    field = SEAT_FIELDS.get(seat_kind)
    if field is None:
        raise QuotaError(_("Unknown kind of seat: %(kind)s.") % {"kind": seat_kind})
    if not Quota.objects.filter(pk=quota_id, **{f"{field}__gt": 0}).update(**{field: F(field) - 1}):
        raise QuotaError(_("There is no %(kind)s seat taken in this quota to give back.") % {"kind": seat_kind})


# --- Moving unused licenses -----------------------------------------------------------------


def _pool_caps(*, phase: Phase, pool: str) -> tuple[int, int | None]:
    """The least and most licenses a university of ``pool`` holds in the phase (no caps: 0, None)."""
    if pool == Pool.PUBLIC:
        return phase.public_min_licenses, phase.public_max_licenses
    if pool == Pool.PRIVATE:
        return phase.private_min_licenses, phase.private_max_licenses
    return 0, None


def reserve_for(*, phase: Phase, pool: str, licenses: int, seated: int = 0) -> int:
    """The disability reserve of a university holding ``licenses``: the phase's share for a public
    university, never below the ``seated`` reserved seats already taken; none in other pools."""
    if pool != Pool.PUBLIC or (
        phase.disability_release_on is not None and timezone.localdate() >= phase.disability_release_on
    ):
        return seated  # no reserve, or released to the general seats from the phase's date on
    share = disability_reserve(licenses=licenses, percent=phase.disability_percent, rounding=phase.disability_rounding)
    return min(max(share, seated), licenses)


@transaction.atomic
def license_move(
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
    """Move ``licenses`` unused licenses of ``from_university`` to ``to_university`` in ``phase``.

    Only unused general licenses move: the source keeps at least its seated nominees and its
    disability reserve. The allocation stays true after it:

    * a move between two pools (public, private, NAHE) changes the pools' totals, so it is taken
      only as that explicit action (``across_pools``);
    * each university stays within its pool's least and most licenses of the phase, unless HEC
      staff override the caps (``beyond_caps``), which the move records with its reason;
    * both disability reserves are worked out again from the new licenses (a public
      university's share of the phase), never below the reserved seats already taken.

    Refused with a clear message (nothing changed) when either university has no published quota,
    the number is not positive, the reason is empty, the two are the same, or a rule above holds
    the move back.
    """
    reason = (reason or "").strip()
    if not reason:
        raise QuotaError(_("Please say why the licenses are moved; every move is recorded with its reason."))
    if licenses is None or int(licenses) <= 0:
        raise QuotaError(_("The number of licenses to move must be 1 or more."))
    licenses = int(licenses)
    if from_university.pk == to_university.pk:
        raise QuotaError(
            _("Licenses can only be moved between two different universities; choose another one to move them to.")
        )
    quotas = {
        q.university_id: q
        for q in Quota.objects.select_for_update()
        .filter(phase=phase, university_id__in=[from_university.pk, to_university.pk])
        .order_by("pk")  # always the same locking order: two opposite moves cannot deadlock
    }
    for university in (from_university, to_university):
        if university.pk not in quotas:
            raise QuotaError(
                _("%(code)s has no published quota in %(phase)s; publish an allocation that includes it first.")
                % {"code": university.code, "phase": phase.name}
            )
    source, target = quotas[from_university.pk], quotas[to_university.pk]
    crosses = source.pool != target.pool
    if crosses and not across_pools:
        raise QuotaError(
            _(
                "%(source)s is in the %(source_pool)s pool and %(target)s in the %(target_pool)s pool: the move "
                "would change the pools' totals. Moving licenses across pools is a separate action; choose it "
                "and say why."
            )
            % {
                "source": from_university.code,
                "source_pool": source.get_pool_display().lower(),
                "target": to_university.code,
                "target_pool": target.get_pool_display().lower(),
            }
        )
    source_left = source.licenses - licenses
    source_reserve = reserve_for(
        phase=phase, pool=source.pool, licenses=max(source_left, 0), seated=source.disability_seated
    )
    if source_left < source.general_seated + source_reserve:
        unused = max(source.licenses - source.disability_reserved - source.general_seated, 0)
        raise QuotaError(
            _(
                "%(code)s has only %(unused)s unused licenses (%(licenses)s licenses, %(seated)s general seats taken, "
                "%(reserved)s reserved for students with disabilities); %(asked)s cannot be moved."
            )
            % {
                "code": from_university.code,
                "unused": unused,
                "licenses": source.licenses,
                "seated": source.general_seated,
                "reserved": source.disability_reserved,
                "asked": licenses,
            }
        )
    if not beyond_caps:
        least, _most = _pool_caps(phase=phase, pool=source.pool)
        _least, most = _pool_caps(phase=phase, pool=target.pool)
        if source.licenses - licenses < least:
            raise QuotaError(
                _(
                    "%(code)s would keep %(left)s licenses, below the least of %(least)s a university of its pool "
                    "holds in %(phase)s. Move fewer, or override the caps and say why."
                )
                % {
                    "code": from_university.code,
                    "left": source.licenses - licenses,
                    "least": least,
                    "phase": phase.name,
                }
            )
        if most is not None and target.licenses + licenses > most:
            raise QuotaError(
                _(
                    "%(code)s would hold %(total)s licenses, above the most of %(most)s a university of its pool "
                    "holds in %(phase)s. Move fewer, or override the caps and say why."
                )
                % {"code": to_university.code, "total": target.licenses + licenses, "most": most, "phase": phase.name}
            )
    target_total = target.licenses + licenses
    target_reserve = reserve_for(phase=phase, pool=target.pool, licenses=target_total, seated=target.disability_seated)
    # The rows are locked above; each UPDATE still states what it expects, and the check
    # constraints refuse any oversubscription whatever happens.
    Quota.objects.filter(pk=source.pk, licenses=source.licenses).update(
        licenses=source_left, disability_reserved=source_reserve
    )
    Quota.objects.filter(pk=target.pk, licenses=target.licenses).update(
        licenses=target_total, disability_reserved=target_reserve
    )
    move = LicenseMove.objects.create(
        phase=phase,
        from_quota=source,
        to_quota=target,
        licenses=licenses,
        reason=reason,
        moved_by=actor,
        across_pools=crosses,
        beyond_caps=beyond_caps,
    )
    audit_record(
        actor=actor,
        action="license.move",
        target=move,
        summary=f"{licenses} licenses moved {from_university.code} → {to_university.code} in {phase.slug}"
        f"{' across pools' if crosses else ''}{' beyond the caps' if beyond_caps else ''}: {reason}",
        data={
            "from": from_university.code,
            "to": to_university.code,
            "licenses": licenses,
            "across_pools": crosses,
            "beyond_caps": beyond_caps,
            "reserves": {from_university.code: source_reserve, to_university.code: target_reserve},
        },
    )
    return move
