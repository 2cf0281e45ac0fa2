"""Reads of phases, universities, allocations, quotas and license moves (for views, exports, commands)."""

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from django.utils.translation import gettext

from .models import Allocation, AllocationLine, LicenseMove, Phase, Pool, Quota, University


def phase_current() -> Phase | None:
    """The phase whose registration has opened most recently (the one people act in now)."""
    return Phase.objects.filter(registration_opens_at__lte=timezone.now()).order_by(
        "-registration_opens_at"
    ).first() or (Phase.objects.order_by("registration_opens_at").first())


def phase_get(*, slug: str) -> Phase:
    return Phase.objects.get(slug=slug)


# --- Allocations and quotas -----------------------------------------------------------------

POOL_ORDER: tuple[str, ...] = (Pool.PUBLIC, Pool.NAHE, Pool.ALUMNI, Pool.PRIVATE)


def phases_all() -> QuerySet[Phase]:
    return Phase.objects.order_by("-launch_date", "slug")


def allocations_for_phase(*, phase: Phase) -> QuerySet[Allocation]:
    return (
        Allocation.objects.filter(phase=phase)
        .select_related("created_by", "published_by")
        .annotate(licenses_total=Sum("lines__licenses"), universities_count=Count("lines"))
        .order_by("-version")
    )


def allocation_get(*, phase: Phase, version: int) -> Allocation:
    """The phase's allocation with that version number; Allocation.DoesNotExist if there is none."""
    return Allocation.objects.select_related("phase", "created_by", "published_by").get(phase=phase, version=version)


def allocation_published(*, phase: Phase) -> Allocation | None:
    return Allocation.objects.filter(phase=phase, status=Allocation.Status.PUBLISHED).first()


def allocation_lines(*, allocation: Allocation) -> list[AllocationLine]:
    """The lines in pool order (public, NAHE, private), then by university name, as people look one up."""
    lines = list(allocation.lines.select_related("university"))
    return sorted(lines, key=lambda line: (POOL_ORDER.index(line.pool), line.university.name.casefold()))


@dataclass(frozen=True)
class PoolTotal:
    pool: str
    label: str
    licenses: int  # the pool's size in the allocation
    allocated: int  # sum of the universities' licenses
    universities: int

    @property
    def is_national_pool(self) -> bool:
        """The alumni pool: national, without universities."""
        return self.pool == Pool.ALUMNI


def allocation_pool_totals(*, allocation: Allocation, lines: list[AllocationLine]) -> list[PoolTotal]:
    labels = dict(Pool.choices)
    totals = []
    for pool in POOL_ORDER:
        in_pool = [line for line in lines if line.pool == pool]
        size = int(allocation.pools.get(pool, 0))
        allocated = size if pool == Pool.ALUMNI else sum(line.licenses for line in in_pool)
        totals.append(PoolTotal(pool, str(labels[pool]), size, allocated, len(in_pool)))
    return totals


def quota_for(*, phase: Phase, university: University) -> Quota | None:
    return Quota.objects.filter(phase=phase, university=university).first()


def quota_alumni_pool(*, phase: Phase) -> Quota | None:
    return Quota.objects.filter(phase=phase, university__isnull=True).first()


def quotas_for_phase(*, phase: Phase) -> QuerySet[Quota]:
    return Quota.objects.filter(phase=phase).select_related("university").order_by("pool", "university__code")


def universities_with_quota(*, phase: Phase) -> QuerySet[University]:
    """Universities that have a published quota in the phase (those licenses can move between)."""
    return University.objects.filter(quotas__phase=phase).order_by(Lower("name"), "code")


def license_moves_for_phase(*, phase: Phase) -> QuerySet[LicenseMove]:
    return LicenseMove.objects.filter(phase=phase).select_related(
        "from_quota__university", "to_quota__university", "moved_by"
    )


@dataclass(frozen=True)
class UtilisationRow:
    """One quota (or a pool's or the phase's total) as HEC watches it fill up."""

    quota_id: int | None
    code: str
    name: str
    pool: str
    pool_label: str
    allocated: int  # as published, before any move
    moved_in: int
    moved_out: int
    licenses: int  # allocated + moved in - moved out
    disability_reserved: int
    general_seated: int
    disability_seated: int
    waiting: int

    @property
    def seated(self) -> int:
        return self.general_seated + self.disability_seated

    @property
    def free(self) -> int:
        return self.licenses - self.seated

    @property
    def moved(self) -> int:
        return self.moved_in - self.moved_out

    @property
    def seated_percent(self) -> int:
        return round(100 * self.seated / self.licenses) if self.licenses else 0


@dataclass(frozen=True)
class Utilisation:
    rows: list[UtilisationRow]  # every quota, in pool order then university code
    pools: list[UtilisationRow]  # one total per pool that has quotas
    total: UtilisationRow | None  # the whole phase


def _sum_rows(rows: list[UtilisationRow], *, code: str, name: str, pool: str, pool_label: str) -> UtilisationRow:
    return UtilisationRow(
        quota_id=None,
        code=code,
        name=name,
        pool=pool,
        pool_label=pool_label,
        **{
            field: sum(getattr(row, field) for row in rows)
            for field in (
                "allocated",
                "moved_in",
                "moved_out",
                "licenses",
                "disability_reserved",
                "general_seated",
                "disability_seated",
                "waiting",
            )
        },
    )


def utilisation_rows(*, phase: Phase, waiting_by_quota: dict[int, int]) -> Utilisation:
    """Allocated, moved, seated, waiting and free for every quota of the phase, with pool totals.

    One query however many universities there are. Waiting counts come from the caller
    (registrations), because this app knows no people.
    """
    moves = LicenseMove.objects.filter(phase=phase)
    moved_in = moves.filter(to_quota=OuterRef("pk")).values("to_quota").annotate(n=Sum("licenses")).values("n")
    moved_out = moves.filter(from_quota=OuterRef("pk")).values("from_quota").annotate(n=Sum("licenses")).values("n")
    quotas = (
        Quota.objects.filter(phase=phase)
        .select_related("university")
        .annotate(
            moved_in=Coalesce(Subquery(moved_in, output_field=IntegerField()), 0),
            moved_out=Coalesce(Subquery(moved_out, output_field=IntegerField()), 0),
        )
    )
    labels = dict(Pool.choices)
    rows = []
    for quota in quotas:
        if quota.university_id:
            code, name = quota.university.code, quota.university.name
        else:
            code, name = "ALUMNI", str(labels[Pool.ALUMNI])
        rows.append(
            UtilisationRow(
                quota_id=quota.pk,
                code=code,
                name=name,
                pool=quota.pool,
                pool_label=str(labels.get(quota.pool, quota.pool)),
                allocated=quota.licenses - quota.moved_in + quota.moved_out,
                moved_in=quota.moved_in,
                moved_out=quota.moved_out,
                licenses=quota.licenses,
                disability_reserved=quota.disability_reserved,
                general_seated=quota.general_seated,
                disability_seated=quota.disability_seated,
                waiting=waiting_by_quota.get(quota.pk, 0),
            )
        )
    rows.sort(key=lambda row: (POOL_ORDER.index(row.pool) if row.pool in POOL_ORDER else 99, row.name.casefold()))
    pools = [
        _sum_rows(in_pool, code="", name=str(labels[pool]), pool=pool, pool_label=str(labels[pool]))
        for pool in POOL_ORDER
        if (in_pool := [row for row in rows if row.pool == pool])
    ]
    total = _sum_rows(rows, code="", name=gettext("All pools"), pool="", pool_label="") if rows else None
    return Utilisation(rows=rows, pools=pools, total=total)


def pool_totals(*, phase: Phase) -> list[dict]:
    """Each pool's licenses as the seat counters hold them now (after license moves), beside the
    pool's share in the phase's numbers: a move across pools shows here."""
    held = dict(Quota.objects.filter(phase=phase).values("pool").annotate(n=Sum("licenses")).values_list("pool", "n"))
    planned = {
        Pool.PUBLIC: phase.public_pool_licenses,
        Pool.NAHE: phase.nahe_pool_licenses,
        Pool.ALUMNI: phase.alumni_pool_licenses,
        Pool.PRIVATE: phase.private_pool_licenses,
    }
    return [
        {"pool": pool, "label": pool.label, "planned": planned[pool], "held": held.get(pool, 0)}
        for pool in (Pool.PUBLIC, Pool.NAHE, Pool.ALUMNI, Pool.PRIVATE)
    ]


@dataclass(frozen=True)
class Change:
    """A university's (or a pool's) licenses in the published allocation and in a draft."""

    label: str
    published: int
    draft: int

    @property
    def change(self) -> int:
        return self.draft - self.published


@dataclass(frozen=True)
class Comparison:
    published: Allocation
    rows: list[Change]
    pools: list[Change]


def allocation_comparison(*, allocation: Allocation) -> Comparison | None:
    """A draft against the phase's published allocation, before HEC publishes it: each university's
    licenses in both and the pools' totals side by side. None for the published one itself."""
    published = allocation_published(phase=allocation.phase)
    if published is None or published.pk == allocation.pk or allocation.status != Allocation.Status.DRAFT:
        return None
    before, after = allocation_lines(allocation=published), allocation_lines(allocation=allocation)
    old = {line.university_id: line for line in before}
    new = {line.university_id: line for line in after}
    universities = {line.university_id: line.university for line in before + after}
    rows = [
        Change(
            label=f"{universities[pk].name} ({universities[pk].code})",
            published=old[pk].licenses if pk in old else 0,
            draft=new[pk].licenses if pk in new else 0,
        )
        for pk in universities
    ]
    rows.sort(key=lambda row: row.label.casefold())
    pools = [
        Change(label=now.label, published=then.allocated, draft=now.allocated)
        for then, now in zip(
            allocation_pool_totals(allocation=published, lines=before),
            allocation_pool_totals(allocation=allocation, lines=after),
            strict=True,
        )
    ]
    return Comparison(published=published, rows=rows, pools=pools)
