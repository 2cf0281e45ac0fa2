"""Quota services: versioned allocations, publishing them as seat counters, seats, license moves."""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from audit.models import AuditEntry
from quotas.exceptions import QuotaError
from quotas.models import Allocation, LicenseMove, Quota, University
from quotas.selectors import (
    allocation_lines,
    allocation_published,
    quota_alumni_pool,
    quota_for,
    quotas_for_phase,
    utilisation_rows,
)
from quotas.services import (
    allocation_publish,
    allocation_run,
    license_move,
    quota_seat_release,
    quota_seat_take,
)
from tests import factories

PUBLISHED, DRAFT, SUPERSEDED = Allocation.Status.PUBLISHED, Allocation.Status.DRAFT, Allocation.Status.SUPERSEDED


def run_and_publish(phase, actor=None) -> Allocation:
    return allocation_publish(allocation=allocation_run(phase=phase, actor=actor), actor=actor)


def quota_of(phase, code) -> Quota:
    return Quota.objects.get(phase=phase, university__code=code)


def seat(quota, n, *, disability=False) -> None:
    for _ in range(n):
        assert quota_seat_take(quota_id=quota.pk, disability=disability) is not None


# Running an allocation ----------------------------------------------------------------------------


def test_a_run_stores_a_draft_with_every_line_and_an_audit_entry(small, hec_staff):
    phase, _ = small
    allocation = allocation_run(phase=phase, actor=hec_staff)

    assert (allocation.version, allocation.status, allocation.created_by) == (1, DRAFT, hec_staff)
    assert allocation.pools == {"public": 60, "nahe": 10, "alumni": 10, "private": 20}
    lines = {line.university.code: line for line in allocation_lines(allocation=allocation)}
    assert {code: (line.pool, line.licenses, line.disability_reserved, line.bound) for code, line in lines.items()} == {
        "DL": ("public", 10, 1, "grant"),
        "BIG": ("public", 30, 1, ""),
        "MID": ("public", 20, 1, ""),
        "NAHE": ("nahe", 10, 0, ""),
        "PRI": ("private", 13, 0, ""),
        "PRJ": ("private", 7, 0, ""),
    }
    assert lines["PRI"].exact_share == Decimal("13.3333")  # 4,000 / 6,000 × 20, to four places
    assert lines["PRJ"].exact_share == Decimal("6.6667")
    assert [line.university.code for line in allocation_lines(allocation=allocation)][:3] == ["BIG", "DL", "MID"]
    entry = AuditEntry.objects.get(action="allocation.run")
    assert (entry.actor, entry.target_id) == (hec_staff, str(allocation.pk))
    # Nothing counts against a draft.
    assert not Quota.objects.filter(phase=phase).exists()
    assert allocation_published(phase=phase) is None


def test_runs_are_numbered_per_phase_and_the_history_stays(small, hec_staff):
    phase, universities = small
    other_phase = factories.make_small_phase()
    first = allocation_run(phase=phase, actor=hec_staff)
    universities["MID"].enrolment = 40_000
    universities["MID"].save(update_fields=["enrolment"])
    second = allocation_run(phase=phase, actor=hec_staff)

    assert (first.version, second.version) == (1, 2)
    assert allocation_run(phase=other_phase, actor=hec_staff).version == 1
    assert first.lines.get(university__code="MID").licenses == 20  # the old version is kept as it was
    assert second.lines.get(university__code="MID").licenses == 29  # 50 × 40/70 = 28.57…, largest remainder


def test_the_demo_universities_share_every_pool_exactly(demo_phase, hec_staff):
    allocation = allocation_run(phase=demo_phase, actor=hec_staff)
    lines = allocation_lines(allocation=allocation)

    for pool in ("public", "nahe", "private"):
        assert sum(line.licenses for line in lines if line.pool == pool) == allocation.pools[pool]
    assert sum(allocation.pools.values()) == 24_000
    by_code = {line.university.code: line for line in lines}
    assert (by_code["AIOU"].licenses, by_code["VU"].licenses) == (600, 400)
    assert by_code["NAHE"].licenses == 1_200
    assert all(70 <= line.licenses <= 1_500 for line in lines if line.pool == "public")
    assert all(line.licenses <= 650 for line in lines if line.pool == "private")
    # 2 % rounded up: every public university reserves at least one seat.
    assert all(line.disability_reserved >= 1 for line in lines if line.pool == "public")


def test_impossible_settings_raise_the_engines_reason_and_write_nothing(demo_universities, hec_staff):
    phase = factories.make_phase(slug="impossible", public_min_licenses=5_000, public_max_licenses=None)
    audit_before = AuditEntry.objects.count()

    with pytest.raises(
        QuotaError, match=r"5,000 × \d+ universities = [\d,]+ is more than the 17,000 licenses of the public pool"
    ):
        allocation_run(phase=phase, actor=hec_staff)

    assert not Allocation.objects.exists()
    assert AuditEntry.objects.count() == audit_before


def test_a_private_university_that_does_not_take_part_gets_no_line(small, hec_staff):
    phase, universities = small
    universities["PRJ"].participates = False
    universities["PRJ"].save(update_fields=["participates"])
    factories.make_university(code="PRK", sector="private", enrolment=3_000)

    allocation = allocation_run(phase=phase, actor=hec_staff)

    assert not allocation.lines.filter(university__code="PRJ").exists()
    # 20 × 4/7 = 11.43 and 20 × 3/7 = 8.57: the larger remainder gets the last license.
    assert allocation.lines.get(university__code="PRI").licenses == 11
    assert allocation.lines.get(university__code="PRK").licenses == 9


# Publishing --------------------------------------------------------------------------------------


def test_publishing_creates_a_quota_per_university_and_the_alumni_pool(small, hec_staff):
    phase, _ = small
    allocation = run_and_publish(phase, hec_staff)

    allocation.refresh_from_db()
    assert (allocation.status, allocation.published_by) == (PUBLISHED, hec_staff)
    assert allocation.published_at is not None
    assert allocation_published(phase=phase) == allocation
    quotas = {(q.university.code if q.university else None): q for q in quotas_for_phase(phase=phase)}
    assert {code: (q.pool, q.licenses, q.disability_reserved) for code, q in quotas.items()} == {
        "DL": ("public", 10, 1),
        "BIG": ("public", 30, 1),
        "MID": ("public", 20, 1),
        "NAHE": ("nahe", 10, 0),
        "PRI": ("private", 13, 0),
        "PRJ": ("private", 7, 0),
        None: ("alumni", 10, 0),
    }
    assert quota_alumni_pool(phase=phase) == quotas[None]
    assert quota_for(phase=phase, university=University.objects.get(code="BIG")) == quotas["BIG"]
    assert sum(q.licenses for q in quotas.values()) == phase.total_licenses
    assert AuditEntry.objects.filter(action="allocation.publish", target_id=str(allocation.pk)).count() == 1


def test_a_new_version_replaces_the_published_one_and_keeps_the_seats(small, hec_staff):
    phase, universities = small
    first = run_and_publish(phase, hec_staff)
    seat(quota_of(phase, "MID"), 5)
    universities["MID"].enrolment = 40_000  # MID now 29, BIG 21
    universities["MID"].save(update_fields=["enrolment"])

    second = run_and_publish(phase, hec_staff)

    first.refresh_from_db()
    assert (first.status, second.status) == (SUPERSEDED, PUBLISHED)
    mid, big = quota_of(phase, "MID"), quota_of(phase, "BIG")
    assert (mid.licenses, mid.general_seated) == (29, 5)
    assert big.licenses == 21
    assert Quota.objects.filter(phase=phase).count() == 7  # updated in place, not duplicated


def test_only_a_draft_can_be_published(small, hec_staff):
    phase, _ = small
    first = run_and_publish(phase, hec_staff)
    with pytest.raises(QuotaError, match="Version 1 is published; only a draft can be published"):
        allocation_publish(allocation=first, actor=hec_staff)

    run_and_publish(phase, hec_staff)
    with pytest.raises(QuotaError, match="Version 1 is superseded"):
        allocation_publish(allocation=first, actor=hec_staff)
    assert allocation_published(phase=phase).version == 2


def test_publishing_is_refused_when_a_quota_would_fall_below_its_seats(small, hec_staff):
    phase, universities = small
    first = run_and_publish(phase, hec_staff)
    big = quota_of(phase, "BIG")
    seat(big, 29)  # every general seat of BIG's 30 (one is reserved)
    seat(big, 1, disability=True)
    universities["MID"].enrolment = 40_000  # BIG would drop to 21
    universities["MID"].save(update_fields=["enrolment"])
    draft = allocation_run(phase=phase, actor=hec_staff)

    with pytest.raises(QuotaError) as refused:
        allocation_publish(allocation=draft, actor=hec_staff)

    assert "BIG would have 20 general and 1 reserved seats, but 29 general and 1 reserved seats are already taken" in (
        refused.value.message
    )
    assert "Nothing was changed" in refused.value.message
    draft.refresh_from_db()
    first.refresh_from_db()
    assert (first.status, draft.status) == (PUBLISHED, DRAFT)
    assert quota_of(phase, "BIG").licenses == 30
    assert quota_of(phase, "MID").licenses == 20


def test_publishing_is_refused_when_a_university_with_seats_leaves_the_allocation(small, hec_staff):
    phase, universities = small
    run_and_publish(phase, hec_staff)
    seat(quota_of(phase, "PRJ"), 2)
    universities["PRJ"].participates = False
    universities["PRJ"].save(update_fields=["participates"])
    factories.make_university(code="PRK", sector="private", enrolment=3_000)
    draft = allocation_run(phase=phase, actor=hec_staff)

    with pytest.raises(QuotaError, match="PRJ is not in this version but already has 2 seats taken"):
        allocation_publish(allocation=draft, actor=hec_staff)
    assert quota_of(phase, "PRJ").licenses == 7


def test_a_university_without_seats_that_leaves_keeps_its_row_with_no_licenses(small, hec_staff):
    phase, universities = small
    run_and_publish(phase, hec_staff)
    universities["PRJ"].participates = False
    universities["PRJ"].save(update_fields=["participates"])
    factories.make_university(code="PRK", sector="private", enrolment=3_000)

    run_and_publish(phase, hec_staff)

    assert quota_of(phase, "PRJ").licenses == 0
    assert quota_of(phase, "PRK").licenses == 9  # 20 × 3/7 = 8.57 → 9 by largest remainder; PRI 11
    assert quota_of(phase, "PRI").licenses == 11


def test_publishing_again_keeps_the_licenses_moved_so_far(small, hec_staff):
    phase, universities = small
    run_and_publish(phase, hec_staff)
    license_move(
        phase=phase,
        from_university=universities["BIG"],
        to_university=universities["MID"],
        licenses=5,
        reason="BIG has few applicants",
        actor=hec_staff,
    )

    run_and_publish(phase, hec_staff)  # same numbers as version 1

    assert (quota_of(phase, "BIG").licenses, quota_of(phase, "MID").licenses) == (25, 25)


# Seats ---------------------------------------------------------------------------------------------


def test_seats_go_to_the_disability_reserve_first_then_to_general_seats(phase):
    quota = factories.make_quota(phase=phase, university=factories.make_university(), licenses=3, disability_reserved=1)

    assert quota_seat_take(quota_id=quota.pk, disability=True) == "disability"
    assert quota_seat_take(quota_id=quota.pk, disability=True) == "general"  # reserve used up
    assert quota_seat_take(quota_id=quota.pk, disability=False) == "general"
    assert quota_seat_take(quota_id=quota.pk, disability=False) is None  # the reserved seat is not for everyone
    assert quota_seat_take(quota_id=quota.pk, disability=True) is None
    quota.refresh_from_db()
    assert (quota.general_seated, quota.disability_seated, quota.free) == (2, 1, 0)


def test_a_general_nominee_never_takes_a_reserved_seat(phase):
    quota = factories.make_quota(phase=phase, university=factories.make_university(), licenses=2, disability_reserved=2)
    assert quota_seat_take(quota_id=quota.pk, disability=False) is None
    assert quota_seat_take(quota_id=quota.pk, disability=True) == "disability"


def test_releasing_a_seat_frees_it_and_never_goes_below_zero(phase):
    quota = factories.make_quota(phase=phase, university=factories.make_university(), licenses=1, disability_reserved=1)
    assert quota_seat_take(quota_id=quota.pk, disability=True) == "disability"
    assert quota_seat_take(quota_id=quota.pk, disability=True) is None

    quota_seat_release(quota_id=quota.pk, seat_kind="disability")
    assert quota_seat_take(quota_id=quota.pk, disability=True) == "disability"

    with pytest.raises(QuotaError, match="no general seat taken"):
        quota_seat_release(quota_id=quota.pk, seat_kind="general")
    with pytest.raises(QuotaError, match="Unknown kind of seat"):
        quota_seat_release(quota_id=quota.pk, seat_kind="vip")
    quota.refresh_from_db()
    assert (quota.general_seated, quota.disability_seated) == (0, 1)


# Moving licenses -----------------------------------------------------------------------------------


@pytest.fixture
def published(small, hec_staff):
    phase, universities = small
    run_and_publish(phase, hec_staff)
    return phase, universities


def test_a_move_takes_unused_licenses_and_records_who_when_how_many_and_why(published, hec_staff):
    phase, u = published
    seat(quota_of(phase, "BIG"), 20)

    move = license_move(
        phase=phase,
        from_university=u["BIG"],
        to_university=u["MID"],
        licenses=9,
        reason="  MID has a long waiting list ",
        actor=hec_staff,
    )

    assert (quota_of(phase, "BIG").licenses, quota_of(phase, "MID").licenses) == (21, 29)
    move.refresh_from_db()
    assert (move.licenses, move.reason, move.moved_by) == (9, "MID has a long waiting list", hec_staff)
    assert move.moved_at is not None
    entry = AuditEntry.objects.get(action="license.move")
    assert (entry.actor, entry.target_id) == (hec_staff, str(move.pk))


def test_a_move_never_takes_seated_or_reserved_licenses(published, hec_staff):
    phase, u = published
    seat(quota_of(phase, "BIG"), 20)  # 30 licenses, 1 reserved, 20 seated: 9 unused

    with pytest.raises(QuotaError, match=r"BIG has only 9 unused licenses \(30 licenses, 20 general seats taken, 1"):
        license_move(
            phase=phase, from_university=u["BIG"], to_university=u["MID"], licenses=10, reason="x", actor=hec_staff
        )

    assert (quota_of(phase, "BIG").licenses, quota_of(phase, "MID").licenses) == (30, 20)
    assert not LicenseMove.objects.exists()


@pytest.mark.parametrize(
    ("licenses", "reason", "to", "message"),
    [
        (3, "   ", "MID", "Please say why"),
        (0, "why", "MID", "must be 1 or more"),
        (-2, "why", "MID", "must be 1 or more"),
        (3, "why", "BIG", "two different universities"),
        (3, "why", "NEW", "NEW has no published quota"),
    ],
)
def test_a_move_is_refused_with_a_reason_and_changes_nothing(published, hec_staff, licenses, reason, to, message):
    phase, u = published
    target = u.get(to) or factories.make_university(code=to)

    with pytest.raises(QuotaError, match=message):
        license_move(
            phase=phase,
            from_university=u["BIG"],
            to_university=target,
            licenses=licenses,
            reason=reason,
            actor=hec_staff,
        )

    assert quota_of(phase, "BIG").licenses == 30
    assert not LicenseMove.objects.exists()
    assert not AuditEntry.objects.filter(action="license.move").exists()


def test_a_move_before_any_allocation_is_published_is_refused(small, hec_staff):
    phase, u = small
    with pytest.raises(QuotaError, match="BIG has no published quota"):
        license_move(
            phase=phase, from_university=u["BIG"], to_university=u["MID"], licenses=1, reason="x", actor=hec_staff
        )


# Utilisation -----------------------------------------------------------------------------------------


def test_utilisation_counts_allocated_moved_seated_waiting_and_free(published, hec_staff):
    phase, u = published
    seat(quota_of(phase, "BIG"), 10)
    seat(quota_of(phase, "MID"), 1, disability=True)
    license_move(phase=phase, from_university=u["BIG"], to_university=u["MID"], licenses=4, reason="x", actor=hec_staff)

    result = utilisation_rows(phase=phase, waiting_by_quota={quota_of(phase, "MID").pk: 7})

    rows = {row.code: row for row in result.rows}
    big, mid = rows["BIG"], rows["MID"]
    assert (big.allocated, big.moved_in, big.moved_out, big.licenses, big.seated, big.waiting, big.free) == (
        30,
        0,
        4,
        26,
        10,
        0,
        16,
    )
    assert (mid.allocated, mid.moved, mid.licenses, mid.disability_seated, mid.waiting, mid.free) == (
        20,
        4,
        24,
        1,
        7,
        23,
    )
    assert rows["ALUMNI"].licenses == 10
    assert [row.code for row in result.rows] == ["BIG", "DL", "MID", "NAHE", "ALUMNI", "PRI", "PRJ"]
    pools = {row.pool: row for row in result.pools}
    assert (pools["public"].allocated, pools["public"].licenses, pools["public"].seated) == (60, 60, 11)
    assert pools["public"].waiting == 7
    assert (result.total.licenses, result.total.seated, result.total.free) == (100, 11, 89)


# Simultaneous staff actions ---------------------------------------------------------------------------


def _at_once(count: int, action) -> list:
    """Run ``action(i)`` in ``count`` threads released together; each thread has its own connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def work(i: int) -> None:
        try:
            barrier.wait()
            results[i] = action(i)
        except Exception as error:  # the test inspects what each thread got
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True)
def test_simultaneous_runs_get_distinct_versions(small):
    phase, _ = small

    results = _at_once(4, lambda i: allocation_run(phase=phase, actor=None).version)

    assert sorted(results) == [1, 2, 3, 4]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_moves_never_take_more_than_the_unused_licenses(small):
    phase, u = small
    staff = factories.make_hec_staff()
    run_and_publish(phase)
    seat(quota_of(phase, "BIG"), 20)  # 9 unused general licenses

    results = _at_once(
        5,
        lambda i: license_move(
            phase=phase, from_university=u["BIG"], to_university=u["MID"], licenses=3, reason=f"move {i}", actor=staff
        ),
    )

    moved = [r for r in results if isinstance(r, LicenseMove)]
    refused = [r for r in results if isinstance(r, QuotaError)]
    assert (len(moved), len(refused)) == (3, 2)
    assert (quota_of(phase, "BIG").licenses, quota_of(phase, "MID").licenses) == (21, 29)
    assert LicenseMove.objects.count() == 3
