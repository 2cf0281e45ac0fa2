"""Fixtures of the quotas tests: the demo universities (imported through the real service) and a
phase whose numbers fit them."""

from pathlib import Path

import pytest

from quotas.services import universities_import
from tests import factories

DEMO_CSV = Path(__file__).resolve().parents[2] / "quotas" / "demo" / "universities.csv"


@pytest.fixture
def demo_universities(db):
    universities_import(data=DEMO_CSV.read_bytes())


@pytest.fixture
def demo_phase(demo_universities):
    # The demo file with the SOP's default numbers, as seed_demo uses it.
    return factories.make_phase(slug="demo")


def small_phase(**numbers):
    """A phase of 100 licenses: public 60 (10 to a distance-learning grant), NAHE 10, alumni 10, private 20."""
    defaults = {
        "total_licenses": 100,
        "public_pool_licenses": 60,
        "nahe_pool_licenses": 10,
        "alumni_pool_licenses": 10,
        "private_pool_licenses": 20,
        "distance_learning_licenses": 10,
        "public_min_licenses": 5,
        "public_max_licenses": 40,
        "private_min_licenses": 0,
        "private_max_licenses": 15,
    }
    defaults.update(numbers)
    return factories.make_phase(**defaults)


@pytest.fixture
def small(db):
    """Five universities sharing a 100-license phase."""
    universities = {
        "DL": factories.make_university(code="DL", enrolment=500_000, distance_learning_licenses=10),
        "BIG": factories.make_university(code="BIG", enrolment=30_000),
        "MID": factories.make_university(code="MID", enrolment=20_000),
        "NAHE": factories.make_university(code="NAHE", sector="nahe", enrolment=0),
        "PRI": factories.make_university(code="PRI", sector="private", enrolment=4_000),
        "PRJ": factories.make_university(code="PRJ", sector="private", enrolment=2_000),
    }
    return small_phase(), universities
