"""Properties and examples of the quota allocation engine (pure Python, no database)."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from itertools import groupby
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quotas.allocation import (
    ROUNDING_RULES,
    PhaseNumbers,
    UniversityInput,
    allocate,
    apportion,
    disability_reserve,
)
from quotas.exceptions import QuotaError

# Pools of up to 250 universities with exact fractions: few examples keep the suite fast.
QUICK = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Small numbers and repeated values make caps bind and fractional parts tie.
enrolment = st.one_of(st.integers(0, 200_000), st.integers(0, 3_000), st.sampled_from([0, 1, 1_000, 50_000]))


@st.composite
def enrolment_lists(draw, most: int = 250) -> list[int]:
    # Drawing the size first: left alone, hypothesis would rarely try long lists.
    n = draw(st.one_of(st.integers(1, 12), st.integers(1, most)))
    return draw(st.lists(enrolment, min_size=n, max_size=n))


maximum_or_none = st.one_of(st.none(), st.integers(0, 1_000))


def codes_for(enrolments: list[int]) -> dict[str, int]:
    # Unpadded numbers, so code order is not enrolment or list order.
    return {f"U{i}": e for i, e in enumerate(enrolments)}


# --- independent references ---------------------------------------------------------------


def hamilton(enrolments: dict[str, int], licenses: int) -> dict[str, int]:
    """Plain largest remainder in integers; ties: larger enrolment, then code."""
    total = sum(enrolments.values())
    seats = {c: licenses * e // total for c, e in enrolments.items()}
    remainder = {c: licenses * e % total for c, e in enrolments.items()}
    order = sorted(enrolments, key=lambda c: (-remainder[c], -enrolments[c], c))
    for c in order[: licenses - sum(seats.values())]:
        seats[c] += 1
    return seats


def feasible(enrolments: dict[str, int], licenses: int, minimum: int, maximum: int | None) -> bool:
    n = len(enrolments)
    zero = sum(1 for e in enrolments.values() if e == 0)
    if n == 0:
        return licenses == 0
    if maximum is not None and minimum > maximum:
        return False
    if zero == n:
        return licenses == minimum * n
    most = math.inf if maximum is None else maximum * (n - zero) + minimum * zero
    return minimum * n <= licenses <= most


def assert_pool(result, enrolments, licenses, minimum, maximum) -> None:
    assert set(result) == set(enrolments)
    assert list(result) == sorted(result)
    assert sum(lic for _, lic, _ in result.values()) == licenses
    assert sum(exact for exact, _, _ in result.values()) == licenses
    for exact, lic, bound in result.values():
        assert isinstance(exact, Fraction)
        assert type(lic) is int
        assert math.floor(exact) <= lic <= math.ceil(exact)
        assert minimum <= lic and (maximum is None or lic <= maximum)
        assert bound in ("", "min", "max")
        if bound == "min":
            assert exact == lic == minimum
        if bound == "max":
            assert exact == lic == maximum
    assert_monotone(enrolments, {c: lic for c, (_, lic, _) in result.items()})


def assert_monotone(enrolments: dict[str, int], licenses: dict[str, int]) -> None:
    most_below = -1
    by_enrolment = sorted(enrolments.items(), key=lambda kv: kv[1])
    for _, group in groupby(by_enrolment, key=lambda kv: kv[1]):
        got = [licenses[c] for c, _ in group]
        assert min(got) >= most_below, "more enrolment got fewer licenses"
        assert max(got) - min(got) <= 1, "equal enrolment differs by more than the tie"
        most_below = max(most_below, *got)


def run(enrolments, licenses, minimum=0, maximum=None, pool_name="public"):
    return apportion(
        enrolments=enrolments,
        licenses=licenses,
        minimum=minimum,
        maximum=maximum,
        pool_name=pool_name,
    )


# --- apportion: properties ----------------------------------------------------------------


@QUICK
@given(
    enrolments=enrolment_lists(),
    minimum=st.integers(0, 100),
    extra=maximum_or_none,
    data=st.data(),
    rnd=st.randoms(use_true_random=False),
)
def test_feasible_caps_meet_every_property(enrolments, minimum, extra, data, rnd):
    maximum = None if extra is None else minimum + extra
    pool = codes_for(enrolments)
    n, zero = len(pool), enrolments.count(0)
    if zero == n:
        most = minimum * n
    elif maximum is None:
        most = minimum * n + 300_000
    else:
        most = maximum * (n - zero) + minimum * zero
    licenses = data.draw(st.integers(minimum * n, most), label="licenses")

    result = run(pool, licenses, minimum, maximum)
    assert_pool(result, pool, licenses, minimum, maximum)

    items = list(pool.items())
    rnd.shuffle(items)
    assert run(dict(items), licenses, minimum, maximum) == result

    if zero < n and all(
        minimum * sum(enrolments) <= licenses * e and (maximum is None or licenses * e <= maximum * sum(enrolments))
        for e in enrolments
    ):
        # No cap binds: the caps must not change plain largest remainder at all.
        assert {c: lic for c, (_, lic, _) in result.items()} == hamilton(pool, licenses)


@QUICK
@given(
    enrolments=enrolment_lists(),
    near=st.sampled_from(["minimum", "average", "maximum"]),
    average=st.integers(0, 1_000),
    jitter=st.integers(-300, 300),
    minimum=st.integers(0, 700),
    maximum=maximum_or_none,
)
def test_any_caps_either_allocate_or_explain(enrolments, near, average, jitter, minimum, maximum):
    # Pools near the limits the caps set, where a setting turns from possible to impossible.
    per_university = {"minimum": minimum, "average": average, "maximum": maximum}[near]
    licenses = max(0, len(enrolments) * (average if per_university is None else per_university) + jitter)
    pool = codes_for(enrolments)
    if feasible(pool, licenses, minimum, maximum):
        assert_pool(run(pool, licenses, minimum, maximum), pool, licenses, minimum, maximum)
    else:
        with pytest.raises(QuotaError) as caught:
            run(pool, licenses, minimum, maximum)
        assert f"{licenses:,}" in caught.value.message or f"{minimum:,}" in caught.value.message


@QUICK
@given(enrolments=enrolment_lists(), licenses=st.integers(0, 200_000))
def test_without_caps_it_is_plain_hamilton(enrolments, licenses):
    pool = codes_for(enrolments)
    if sum(enrolments) == 0:
        if licenses:
            with pytest.raises(QuotaError, match="zero enrolment"):
                run(pool, licenses)
        return
    result = run(pool, licenses)
    assert {c: lic for c, (_, lic, _) in result.items()} == hamilton(pool, licenses)
    assert all(exact == Fraction(licenses * pool[c], sum(enrolments)) for c, (exact, _, _) in result.items())
    assert all(bound == "" for _, _, bound in result.values())


@QUICK
@given(
    enrolments=enrolment_lists(),
    licenses=st.integers(0, 200_000),
    below=st.integers(0, 1_000),
    above=maximum_or_none,
)
def test_caps_that_do_not_bind_change_nothing(enrolments, licenses, below, above):
    pool = codes_for(enrolments)
    total = sum(enrolments)
    if total == 0:
        return
    quotas = [Fraction(licenses * e, total) for e in enrolments]
    minimum = max(0, math.floor(min(quotas)) - below)
    maximum = None if above is None else math.ceil(max(quotas)) + above
    result = run(pool, licenses, minimum, maximum)
    assert {c: lic for c, (_, lic, _) in result.items()} == hamilton(pool, licenses)
    assert [exact for exact, _, _ in (result[c] for c in pool)] == quotas
    # A quota exactly on a cap may be reported as held there (λ is then not unique).
    caps = {"": None, "min": minimum, "max": maximum}
    assert all(bound == "" or exact == caps[bound] for exact, _, bound in result.values())
    if all(minimum < q and (maximum is None or q < maximum) for q in quotas):
        assert all(bound == "" for _, _, bound in result.values())


# --- apportion: worked examples -----------------------------------------------------------


def test_small_example_by_hand():
    # 10 licenses over 10:20:30 -> 1⅔, 3⅓, 5 -> floors 9, the one left goes to the ⅔.
    result = run({"a": 10, "b": 20, "c": 30}, 10)
    assert result == {
        "a": (Fraction(5, 3), 2, ""),
        "b": (Fraction(10, 3), 3, ""),
        "c": (Fraction(5), 5, ""),
    }


def test_tie_goes_to_larger_enrolment_before_code():
    # Shares ½ and 1½: equal fractional parts, so the larger enrolment ("b") gets the one left.
    assert run({"a": 1, "b": 3}, 2) == {"a": (Fraction(1, 2), 0, ""), "b": (Fraction(3, 2), 2, "")}


def test_tie_with_equal_enrolment_goes_by_code():
    result = run({"C": 5, "A": 5, "B": 5}, 2)
    assert {c: lic for c, (_, lic, _) in result.items()} == {"A": 1, "B": 1, "C": 0}


def test_caps_bind_and_lambda_is_exact():
    # λ = 3/5: big capped at 120, small lifted to 20, mid 3/5 × 100 = 60; 120 + 20 + 60 = 200.
    result = run({"big": 1_000, "small": 10, "mid": 100}, 200, minimum=20, maximum=120)
    assert result == {
        "big": (Fraction(120), 120, "max"),
        "mid": (Fraction(60), 60, ""),
        "small": (Fraction(20), 20, "min"),
    }


def test_share_at_maximum_never_gets_the_leftover():
    # Uncapped, "huge" would have the largest fractional part; capped, it stays at 10.
    result = run({"huge": 1_000, "x": 3, "y": 3, "z": 3}, 20, minimum=0, maximum=10)
    assert result["huge"][1:] == (10, "max")
    assert sum(lic for _, lic, _ in result.values()) == 20


def test_all_zero_enrolment_is_fine_when_minimums_make_up_the_pool():
    result = run({"a": 0, "b": 0}, 140, minimum=70, maximum=650)
    assert result == {"a": (Fraction(70), 70, "min"), "b": (Fraction(70), 70, "min")}


def test_empty_pool_with_no_licenses_is_fine():
    assert run({}, 0, pool_name="private") == {}


# --- apportion: impossible settings -------------------------------------------------------


def impossible(match: str, *args, **kwargs) -> str:
    with pytest.raises(QuotaError) as caught:
        run(*args, **kwargs)
    assert match in caught.value.message, caught.value.message
    return caught.value.message


def test_minimums_more_than_the_pool():
    impossible(
        "70 × 300 universities = 21,000 is more than the 17,000 licenses of the public pool",
        {f"U{i}": 5_000 for i in range(300)},
        17_000,
        minimum=70,
        maximum=650,
    )


def test_maximums_less_than_the_pool():
    impossible(
        "650 × 20 universities = 13,000 is less than the 17,000 licenses of the public pool",
        {f"U{i}": 5_000 for i in range(20)},
        17_000,
        minimum=70,
        maximum=650,
    )


def test_maximums_count_zero_enrolment_at_the_minimum():
    message = impossible(
        "650 × 2 universities + 70 × 1 universities with zero enrolment = 1,370 is less than",
        {"a": 10, "b": 10, "c": 0},
        1_400,
        minimum=70,
        maximum=650,
    )
    assert "1,400" in message


def test_pool_with_licenses_but_no_universities():
    impossible("the private pool has 3,600 licenses but no universities", {}, 3_600, pool_name="private")


def test_negative_enrolment_names_the_university():
    impossible("university QAU has a negative enrolment of -5", {"PU": 10, "QAU": -5}, 100)


def test_minimum_more_than_maximum():
    impossible("the minimum of 700 is more than the maximum of 650", {"a": 1}, 700, minimum=700, maximum=650)


def test_all_zero_enrolment_that_minimums_do_not_meet():
    message = impossible("zero enrolment", {"a": 0, "b": 0}, 500, minimum=70, maximum=650)
    assert "70 × 2 = 140" in message and "500" in message


# --- allocate -----------------------------------------------------------------------------


def phase(**overrides) -> PhaseNumbers:
    numbers = {
        "total": 24_000,
        "public": 18_000,
        "nahe": 1_200,
        "alumni": 1_200,
        "private": 3_600,
        "distance_learning_budget": 1_000,
        "public_min": 70,
        "public_max": 650,
        "private_min": 0,
        "private_max": 650,
        "disability_percent": Decimal("2"),
        "disability_rounding": "up",
    }
    numbers.update(overrides)
    return PhaseNumbers(**numbers)


def realistic_universities(seed: int = 2021) -> list[UniversityInput]:
    rnd = random.Random(seed)

    def enrolment() -> int:  # log-uniform, like Pakistani universities from 1,000 to 100,000
        return round(math.exp(rnd.uniform(math.log(1_000), math.log(100_000))))

    universities = [
        UniversityInput("AIOU", "public", 1_200_000, fixed_grant=600),
        UniversityInput("VU", "public", 150_000, fixed_grant=400),
        UniversityInput("NAHE", "nahe", 0),
    ]
    universities += [UniversityInput(f"PUB{i:03d}", "public", enrolment()) for i in range(198)]
    universities += [
        UniversityInput(f"PRV{i:03d}", "private", enrolment(), participates=rnd.random() < 0.8) for i in range(80)
    ]
    return universities


def assert_allocation(result, numbers: PhaseNumbers, universities: list[UniversityInput]) -> None:
    by_code = {u.code: u for u in universities}
    shares = {s.code: s for s in result.universities}
    assert result.pools == {
        "public": numbers.public,
        "nahe": numbers.nahe,
        "alumni": numbers.alumni,
        "private": numbers.private,
    }
    assert sum(s.licenses for s in result.universities) + numbers.alumni == numbers.total
    order = {"public": 0, "nahe": 1, "private": 3}
    assert list(result.universities) == sorted(result.universities, key=lambda s: (order[s.pool], s.code))
    assert set(shares) == {u.code for u in universities if u.participates}
    for pool, minimum, maximum in (
        ("public", numbers.public_min, numbers.public_max),
        ("private", numbers.private_min, numbers.private_max),
    ):
        mine = [s for s in result.universities if s.pool == pool]
        assert sum(s.licenses for s in mine) == getattr(numbers, pool)
        shared = {s.code: (s.exact_share, s.licenses, s.bound) for s in mine if s.bound != "grant"}
        assert_pool(
            shared, {c: shares[c].enrolment for c in shared}, sum(v[1] for v in shared.values()), minimum, maximum
        )
    for s in result.universities:
        u = by_code[s.code]
        assert s.pool == u.sector and s.enrolment == u.enrolment
        if u.fixed_grant:
            assert (s.licenses, s.exact_share, s.bound) == (u.fixed_grant, u.fixed_grant, "grant")
        expected = 0
        if s.pool == "public":
            expected = disability_reserve(
                licenses=s.licenses, percent=numbers.disability_percent, rounding=numbers.disability_rounding
            )
        assert s.disability_reserved == expected
    nahe = [s for s in result.universities if s.pool == "nahe"]
    assert [s.licenses for s in nahe] == ([numbers.nahe] if nahe else [])


def test_realistic_first_phase():
    universities = realistic_universities()
    numbers = phase()
    result = allocate(numbers=numbers, universities=universities)
    assert_allocation(result, numbers, universities)
    shares = {s.code: s for s in result.universities}
    assert (shares["AIOU"].licenses, shares["VU"].licenses) == (600, 400)
    assert shares["NAHE"].licenses == 1_200
    public = [s for s in result.universities if s.pool == "public" and s.bound != "grant"]
    assert len(public) == 198 and sum(s.licenses for s in public) == 17_000
    assert any(s.bound == "min" for s in public), "small universities should be lifted to 70"
    assert all(70 <= s.licenses <= 650 for s in public)
    assert shares["PUB000"].disability_reserved == math.ceil(Fraction(shares["PUB000"].licenses, 50))
    assert shares["AIOU"].disability_reserved == 12
    assert result.lam_public is not None and result.lam_public > 0
    assert result.lam_private is not None and result.lam_private > 0
    assert allocate(numbers=numbers, universities=list(reversed(universities))) == result


@QUICK
@given(
    public=st.one_of(st.just([]), enrolment_lists(most=150)),
    grants=st.lists(st.integers(1, 1_000), max_size=3),
    private=st.lists(st.tuples(enrolment, st.booleans()), max_size=100),
    public_min=st.integers(0, 100),
    public_extra=maximum_or_none,
    private_max=maximum_or_none,
    percent=st.decimals(0, 100, places=2),
    rounding=st.sampled_from(sorted(ROUNDING_RULES)),
    data=st.data(),
    rnd=st.randoms(use_true_random=False),
)
def test_whole_phase_adds_up(
    public, grants, private, public_min, public_extra, private_max, percent, rounding, data, rnd
):
    public_max = None if public_extra is None else public_min + public_extra
    universities = [UniversityInput(f"P{i}", "public", e) for i, e in enumerate(public)]
    universities += [UniversityInput(f"DL{i}", "public", 0, fixed_grant=g) for i, g in enumerate(grants)]
    universities += [UniversityInput(f"R{i}", "private", e, participates=p) for i, (e, p) in enumerate(private)]
    universities.append(UniversityInput("NAHE", "nahe", 0))

    def pool_size(enrolments: list[int], minimum: int, maximum: int | None) -> int:
        n, zero = len(enrolments), enrolments.count(0)
        if zero == n:
            return minimum * n
        most = minimum * n + 50_000 if maximum is None else maximum * (n - zero) + minimum * zero
        return data.draw(st.integers(minimum * n, most))

    rest = pool_size(public, public_min, public_max)
    private_pool = pool_size([e for e, p in private if p], 0, private_max)
    nahe, alumni = data.draw(st.integers(0, 2_000)), data.draw(st.integers(0, 2_000))
    numbers = phase(
        total=rest + sum(grants) + nahe + alumni + private_pool,
        public=rest + sum(grants),
        nahe=nahe,
        alumni=alumni,
        private=private_pool,
        distance_learning_budget=sum(grants),
        public_min=public_min,
        public_max=public_max,
        private_max=private_max,
        disability_percent=percent,
        disability_rounding=rounding,
    )
    result = allocate(numbers=numbers, universities=universities)
    assert_allocation(result, numbers, universities)
    rnd.shuffle(universities)
    assert allocate(numbers=numbers, universities=universities) == result


def test_private_pool_of_zero_without_participants_is_fine():
    universities = [
        UniversityInput("AIOU", "public", 0, fixed_grant=1_000),
        UniversityInput("NAHE", "nahe", 0),
        UniversityInput("LUMS", "private", 5_000, participates=False),
    ]
    numbers = phase(total=3_400, public=1_000, private=0)
    result = allocate(numbers=numbers, universities=universities)
    assert [s.code for s in result.universities] == ["AIOU", "NAHE"]
    assert result.lam_private is None and result.pools["private"] == 0


def test_universities_that_do_not_participate_are_left_out_of_every_pool():
    universities = [
        UniversityInput("AIOU", "public", 0, fixed_grant=1_000),
        UniversityInput("PU", "public", 40_000),
        UniversityInput("QAU", "public", 15_000, participates=False),
        UniversityInput("NAHE", "nahe", 0),
        UniversityInput("LUMS", "private", 5_000),
        UniversityInput("IBA", "private", 4_000, participates=False),
    ]
    numbers = phase(total=2_650, public=1_300, nahe=1_000, alumni=0, private=350, public_max=None)
    result = allocate(numbers=numbers, universities=universities)
    assert [(s.code, s.licenses, s.bound) for s in result.universities] == [
        ("AIOU", 1_000, "grant"),
        ("PU", 300, ""),
        ("NAHE", 1_000, ""),
        ("LUMS", 350, ""),
    ]
    assert result.lam_public == Fraction(300, 40_000) and result.lam_private == Fraction(350, 5_000)
    assert [s.disability_reserved for s in result.universities] == [20, 6, 0, 0]


def allocation_fails(match: str, numbers: PhaseNumbers, universities: list[UniversityInput]) -> None:
    with pytest.raises(QuotaError) as caught:
        allocate(numbers=numbers, universities=universities)
    assert match in caught.value.message, caught.value.message


def test_pools_must_add_up_to_the_total():
    allocation_fails(
        "18,000 public + 1,200 NAHE + 1,200 alumni + 3,600 private = 24,000 licenses, not the phase total of 25,000",
        phase(total=25_000),
        realistic_universities(),
    )


def test_grants_must_add_up_to_the_budget():
    universities = [u for u in realistic_universities() if u.code != "VU"]
    allocation_fails("grants add up to 600 (AIOU 600), but the phase budgets 1,000", phase(), universities)


def test_nahe_pool_needs_exactly_one_institution():
    universities = realistic_universities()
    allocation_fails("found 0 (none)", phase(), [u for u in universities if u.sector != "nahe"])
    allocation_fails("found 2 (NAHE, NAHE2)", phase(), [*universities, UniversityInput("NAHE2", "nahe", 0)])


def test_public_minimums_more_than_the_public_pool():
    universities = realistic_universities()
    allocation_fails(
        "100 × 198 universities = 19,800 is more than the 17,000 licenses of the public pool",
        phase(public_min=100),
        universities,
    )


def test_negative_enrolment_in_a_phase_names_the_university():
    universities = [*realistic_universities(), UniversityInput("BAD", "private", -1, participates=False)]
    allocation_fails("university BAD has a negative enrolment of -1", phase(), universities)


def test_duplicate_university_code():
    universities = [*realistic_universities(), UniversityInput("VU", "private", 10)]
    allocation_fails("university VU is listed more than once", phase(), universities)


def test_unknown_rounding_rule_is_caught_before_sharing():
    allocation_fails("unknown rounding rule 'banker'", phase(disability_rounding="banker"), [])


# --- disability reserve -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("licenses", "percent", "rounding", "reserved"),
    [
        (70, "2", "up", 2),
        (70, "2", "down", 1),
        (70, "2", "nearest", 1),
        (75, "2", "nearest", 2),  # exactly 1.5: a half rounds up
        (75, "2", "down", 1),
        (650, "2", "up", 13),
        (650, "2", "down", 13),
        (0, "2", "up", 0),
        (600, "2.5", "nearest", 15),
        (1, "0", "up", 0),
        (7, "100", "down", 7),
    ],
)
def test_disability_reserve_examples(licenses, percent, rounding, reserved):
    assert disability_reserve(licenses=licenses, percent=Decimal(percent), rounding=rounding) == reserved


@settings(max_examples=200, deadline=None)
@given(licenses=st.integers(0, 100_000), hundredths=st.integers(0, 10_000))
def test_disability_reserve_matches_integer_arithmetic(licenses, hundredths):
    percent = Decimal(hundredths) / 100  # exact: at most two decimal places
    numerator = licenses * hundredths  # the reserve is numerator / 10,000
    assert disability_reserve(licenses=licenses, percent=percent, rounding="up") == -(-numerator // 10_000)
    assert disability_reserve(licenses=licenses, percent=percent, rounding="down") == numerator // 10_000
    assert disability_reserve(licenses=licenses, percent=percent, rounding="nearest") == ((numerator + 5_000) // 10_000)


def test_rounding_rules_are_explained():
    assert set(ROUNDING_RULES) == {"up", "down", "nearest"}
    assert all("2 % of 70 = 1.4" in sentence for sentence in ROUNDING_RULES.values())


@pytest.mark.parametrize(
    ("percent", "rounding", "match"),
    [
        (Decimal("2"), "sideways", "unknown rounding rule 'sideways'"),
        (Decimal("-1"), "up", "-1 %"),
        (Decimal("100.5"), "up", "100.5 %"),
        (Decimal("NaN"), "up", "NaN %"),
    ],
)
def test_disability_reserve_rejects_impossible_settings(percent, rounding, match):
    with pytest.raises(QuotaError, match=match):
        disability_reserve(licenses=70, percent=percent, rounding=rounding)


def test_disability_reserve_refuses_floats():
    with pytest.raises(TypeError):
        disability_reserve(licenses=70, percent=2.0, rounding="up")


def test_engine_does_not_import_django():
    root = Path(__file__).resolve().parents[2]
    code = "import sys, quotas.allocation; assert not any(m.split('.')[0] == 'django' for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
