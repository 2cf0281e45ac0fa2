"""Quota allocation engine: shares a phase's licenses out to universities.

Pure Python on purpose (no Django, no database): the same numbers in give the same
licenses out, so the engine can be tested exhaustively and re-run to audit a published
allocation.

Pools
    The phase total is split into four pools that must add up to it exactly:
    public, NAHE, alumni and private.

    * public: distance-learning universities (``fixed_grant > 0``) get exactly their grant,
      and the grants must add up to the phase's distance-learning budget. The rest of the
      pool is shared in proportion to enrolment among the other public universities, each
      between ``public_min`` and ``public_max``.
    * private: shared the same way among participating private universities, between
      ``private_min`` and ``private_max`` (``None`` means no maximum).
    * NAHE: the whole pool goes to the one university whose sector is ``"nahe"``.
    * alumni: a national pool without universities; only its size is reported.

    A university with ``participates=False`` takes no part in any pool.

Proportional share with caps
    Find the multiplier λ with Σ clamp(λ·enrolment_i, min, max) = licenses. The left side
    is piecewise linear and non-decreasing in λ, with breakpoints at min/e_i and max/e_i,
    so walking the sorted breakpoints finds the segment that contains the pool and λ
    follows from one division. Everything is done with ``Fraction``, so λ and the exact
    shares are exact. Where several λ meet the pool (a flat stretch) the smallest is taken;
    the shares are the same for all of them. A share's ``bound`` is "min" or "max" when the
    cap, not λ·enrolment, set it ("grant" for a fixed grant).

Whole licenses (largest remainder / Hamilton)
    Floor every exact share; the licenses left over (always fewer than the number of
    shares with a fractional part) go one each to the largest fractional parts.

    Tie rule (documented and stable): equal fractional parts are ranked by larger
    enrolment first, then by university code ascending. Ranking larger enrolment first is
    what keeps the result monotone: more enrolment never means fewer licenses in a pool.
    A share held at the maximum is a whole number, so it has no fractional part and never
    gets one more; no cap is ever broken.

Disability reserve
    Every public university (distance-learning ones included) reserves ``percent`` of its
    licenses for students with disabilities, rounded by one of ``ROUNDING_RULES``.

Every impossible setting raises ``QuotaError`` with a message naming the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from quotas.exceptions import QuotaError

POOLS: tuple[str, ...] = ("public", "nahe", "alumni", "private")
SECTORS: tuple[str, ...] = ("public", "private", "nahe")

ROUNDING_RULES: dict[str, str] = {
    "up": "rounded up to the next whole license (2 % of 70 = 1.4 → 2)",
    "down": "rounded down to the whole license below (2 % of 70 = 1.4 → 1)",
    "nearest": "rounded to the nearest whole license, a half rounded up (2 % of 70 = 1.4 → 1; 2 % of 75 = 1.5 → 2)",
}


@dataclass(frozen=True)
class UniversityInput:
    code: str
    sector: str  # "public" | "private" | "nahe"
    enrolment: int
    fixed_grant: int = 0
    participates: bool = True


@dataclass(frozen=True)
class PhaseNumbers:
    total: int
    public: int
    nahe: int
    alumni: int
    private: int
    distance_learning_budget: int
    public_min: int
    public_max: int | None
    private_min: int
    private_max: int | None
    disability_percent: Decimal
    disability_rounding: str


@dataclass(frozen=True)
class UniversityShare:
    code: str
    pool: str
    enrolment: int
    exact_share: Fraction
    licenses: int
    disability_reserved: int
    bound: str  # "" | "min" | "max" | "grant"


@dataclass(frozen=True)
class AllocationResult:
    pools: dict[str, int]  # keys: public, nahe, alumni, private
    universities: tuple[UniversityShare, ...]  # sorted by pool (POOLS order), then code
    lam_public: Fraction | None
    lam_private: Fraction | None


def allocate(*, numbers: PhaseNumbers, universities: Sequence[UniversityInput]) -> AllocationResult:
    """Share the phase's licenses out to ``universities``; raise QuotaError if impossible."""
    _check_numbers(numbers)
    _check_universities(universities)
    taking_part = [u for u in universities if u.participates]

    public = [u for u in taking_part if u.sector == "public"]
    granted = [u for u in public if u.fixed_grant > 0]
    grants = sum(u.fixed_grant for u in granted)
    if grants != numbers.distance_learning_budget:
        listed = ", ".join(f"{u.code} {u.fixed_grant:,}" for u in sorted(granted, key=lambda u: u.code))
        raise QuotaError(
            f"the distance-learning grants add up to {grants:,} ({listed or 'none'}), "
            f"but the phase budgets {numbers.distance_learning_budget:,} licenses for them"
        )
    if grants > numbers.public:
        raise QuotaError(
            f"the distance-learning budget of {grants:,} licenses is more than "
            f"the {numbers.public:,} licenses of the public pool"
        )

    lam_public, public_shares = _solve(
        enrolments={u.code: u.enrolment for u in public if u.fixed_grant == 0},
        licenses=numbers.public - grants,
        minimum=numbers.public_min,
        maximum=numbers.public_max,
        pool_name="public",
    )
    public_shares.update({u.code: (Fraction(u.fixed_grant), u.fixed_grant, "grant") for u in granted})
    lam_private, private_shares = _solve(
        enrolments={u.code: u.enrolment for u in taking_part if u.sector == "private"},
        licenses=numbers.private,
        minimum=numbers.private_min,
        maximum=numbers.private_max,
        pool_name="private",
    )

    nahe = [u for u in taking_part if u.sector == "nahe"]
    if len(nahe) > 1 or (not nahe and numbers.nahe > 0):
        codes = ", ".join(sorted(u.code for u in nahe)) or "none"
        raise QuotaError(
            f"the NAHE pool of {numbers.nahe:,} licenses needs exactly one NAHE institution, "
            f"found {len(nahe):,} ({codes})"
        )
    nahe_shares = {u.code: (Fraction(numbers.nahe), numbers.nahe, "") for u in nahe}

    enrolment = {u.code: u.enrolment for u in taking_part}
    shares: list[UniversityShare] = []
    for pool, pool_shares in (("public", public_shares), ("nahe", nahe_shares), ("private", private_shares)):
        for code, (exact, licenses, bound) in sorted(pool_shares.items()):
            reserved = 0
            if pool == "public":
                reserved = disability_reserve(
                    licenses=licenses,
                    percent=numbers.disability_percent,
                    rounding=numbers.disability_rounding,
                )
            shares.append(UniversityShare(code, pool, enrolment[code], exact, licenses, reserved, bound))

    return AllocationResult(
        pools={pool: getattr(numbers, pool) for pool in POOLS},
        universities=tuple(shares),
        lam_public=lam_public,
        lam_private=lam_private,
    )


def apportion(
    *, enrolments: Mapping[str, int], licenses: int, minimum: int, maximum: int | None, pool_name: str
) -> dict[str, tuple[Fraction, int, str]]:
    """Share ``licenses`` in proportion to ``enrolments`` within the caps.

    Returns code -> (exact share, whole licenses, bound) with bound "" | "min" | "max".
    """
    return _solve(enrolments=enrolments, licenses=licenses, minimum=minimum, maximum=maximum, pool_name=pool_name)[1]


def disability_reserve(*, licenses: int, percent: Decimal, rounding: str) -> int:
    """``percent`` of ``licenses``, rounded as ``ROUNDING_RULES[rounding]`` says, exactly."""
    if isinstance(percent, float):
        # A float has already lost the exact percentage the admin typed.
        raise TypeError("the disability percentage must be a Decimal, not a float")
    if rounding not in ROUNDING_RULES:
        raise QuotaError(
            f"unknown rounding rule {rounding!r} for the disability reserve; use one of {', '.join(ROUNDING_RULES)}"
        )
    if not Decimal(percent).is_finite() or not 0 <= percent <= 100:
        raise QuotaError(f"the disability reserve of {percent} % must be between 0 and 100 %")
    if licenses < 0:
        raise QuotaError(f"cannot reserve a share of {licenses:,} licenses")
    exact = Fraction(licenses) * Fraction(percent) / 100
    if rounding == "up":
        return math.ceil(exact)
    if rounding == "down":
        return math.floor(exact)
    return math.floor(exact + Fraction(1, 2))


def _check_numbers(numbers: PhaseNumbers) -> None:
    for name in (*POOLS, "total", "distance_learning_budget"):
        value = getattr(numbers, name)
        if value < 0:
            raise QuotaError(f"the {name.replace('_', ' ')} of {value:,} licenses cannot be negative")
    pools = numbers.public + numbers.nahe + numbers.alumni + numbers.private
    if pools != numbers.total:
        raise QuotaError(
            f"the pools add up to {numbers.public:,} public + {numbers.nahe:,} NAHE + "
            f"{numbers.alumni:,} alumni + {numbers.private:,} private = {pools:,} licenses, "
            f"not the phase total of {numbers.total:,}"
        )
    # Checked before anything is shared, so a bad setting fails the same way every time.
    disability_reserve(licenses=0, percent=numbers.disability_percent, rounding=numbers.disability_rounding)


def _check_universities(universities: Sequence[UniversityInput]) -> None:
    seen: set[str] = set()
    for u in universities:
        if u.code in seen:
            raise QuotaError(f"university {u.code} is listed more than once")
        seen.add(u.code)
        if u.sector not in SECTORS:
            raise QuotaError(f"university {u.code} has unknown sector {u.sector!r}; use one of {', '.join(SECTORS)}")
        if u.enrolment < 0:
            raise QuotaError(f"university {u.code} has a negative enrolment of {u.enrolment:,}")
        if u.fixed_grant < 0:
            raise QuotaError(f"university {u.code} has a negative fixed grant of {u.fixed_grant:,}")
        if u.fixed_grant and u.sector != "public":
            raise QuotaError(
                f"university {u.code} is {u.sector} but has a fixed grant of {u.fixed_grant:,}; "
                "only public distance-learning universities get fixed grants"
            )


def _solve(
    *, enrolments: Mapping[str, int], licenses: int, minimum: int, maximum: int | None, pool_name: str
) -> tuple[Fraction | None, dict[str, tuple[Fraction, int, str]]]:
    """λ (None when no λ is defined) and the shares; see the module docstring."""
    pool = f"the {licenses:,} licenses of the {pool_name} pool"
    if licenses < 0:
        raise QuotaError(f"the {pool_name} pool cannot have {licenses:,} licenses")
    if minimum < 0:
        raise QuotaError(f"the minimum of the {pool_name} pool cannot be {minimum:,}")
    if maximum is not None and minimum > maximum:
        raise QuotaError(f"the minimum of {minimum:,} is more than the maximum of {maximum:,} in the {pool_name} pool")
    for code, e in sorted(enrolments.items()):
        if e < 0:
            raise QuotaError(f"university {code} has a negative enrolment of {e:,}")
    n = len(enrolments)
    if n == 0:
        if licenses:
            raise QuotaError(f"the {pool_name} pool has {licenses:,} licenses but no universities to share them")
        return None, {}
    if minimum * n > licenses:
        raise QuotaError(f"{minimum:,} × {n:,} universities = {minimum * n:,} is more than {pool}")
    zero = sum(1 for e in enrolments.values() if e == 0)
    if zero == n and licenses != minimum * n:
        raise QuotaError(
            f"all {n:,} universities of the {pool_name} pool have zero enrolment, so nothing can be "
            f"shared in proportion, and their minimums ({minimum:,} × {n:,} = {minimum * n:,}) "
            f"do not make up {pool}"
        )
    if maximum is not None and (most := maximum * (n - zero) + minimum * zero) < licenses:
        # Zero enrolment stays at the minimum whatever λ is, so it cannot rise to the maximum.
        held = f" + {minimum:,} × {zero:,} universities with zero enrolment" if zero else ""
        raise QuotaError(f"{maximum:,} × {n - zero:,} universities{held} = {most:,} is less than {pool}")

    lam = None if zero == n else _multiplier(enrolments, licenses, minimum, maximum)
    exact: dict[str, Fraction] = {}
    bound: dict[str, str] = {}
    for code, e in enrolments.items():
        raw = (lam or 0) * e
        if raw < minimum:
            exact[code], bound[code] = Fraction(minimum), "min"
        elif maximum is not None and raw > maximum:
            exact[code], bound[code] = Fraction(maximum), "max"
        else:
            exact[code], bound[code] = Fraction(raw), ""

    whole = {code: math.floor(share) for code, share in exact.items()}
    leftover = licenses - sum(whole.values())
    ranking = sorted(enrolments, key=lambda c: (-(exact[c] - whole[c]), -enrolments[c], c))
    for code in ranking[:leftover]:
        whole[code] += 1
    return lam, {code: (exact[code], whole[code], bound[code]) for code in sorted(enrolments)}


def _multiplier(enrolments: Mapping[str, int], licenses: int, minimum: int, maximum: int | None) -> Fraction:
    """Smallest λ ≥ 0 with Σ clamp(λ·e, minimum, maximum) = licenses (feasibility already checked)."""
    # On each stretch between breakpoints the sum is constant + slope·λ; the events move a
    # university from "held at minimum" to "growing" (at min/e) and from "growing" to
    # "held at maximum" (at max/e).
    events: dict[Fraction, tuple[int, int]] = {}  # λ -> (change of constant, change of slope)
    for e in enrolments.values():
        if e == 0:
            continue
        start = Fraction(minimum, e)
        c, s = events.get(start, (0, 0))
        events[start] = (c - minimum, s + e)
        if maximum is not None:
            stop = Fraction(maximum, e)
            c, s = events.get(stop, (0, 0))
            events[stop] = (c + maximum, s - e)
    constant, slope = minimum * len(enrolments), 0
    if constant == licenses:
        return Fraction(0)
    for point in sorted(events):
        if constant + slope * point >= licenses:
            return (licenses - constant) / Fraction(slope)
        dc, ds = events[point]
        constant, slope = constant + dc, slope + ds
    # Past the last breakpoint only an uncapped pool still grows; feasibility guarantees slope > 0.
    return (licenses - constant) / Fraction(slope)
