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
    return factories.make_small_phase(), universities
