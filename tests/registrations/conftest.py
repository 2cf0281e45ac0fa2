"""Fixtures of the registration tests: a public university with a quota, its focal person, the
signed disclaimer on file, the alumni pool, and helpers to build nominees and nominations files."""

import pytest

from registrations.imports import COLUMNS, ImportReport
from tests import factories
from tests.factories import NOMINATIONS_FILE_HEADER as HEADER

# The nominee and file builders live in tests.factories; these names stay importable from here.
from tests.factories import PDF, cnic_for, disclaimer_on_file, pdf_upload  # noqa: F401
from tests.factories import alumnus_data as alumnus  # noqa: F401
from tests.factories import student_data as student  # noqa: F401

# A nominations file, as a focal person uploads one ------------------------------------------------


def row(n: int, *, role="student", years="16", disability="no", receipt="", date="", **changes) -> str:
    cells = {
        "full_name": f"Person {n}",
        "cnic": cnic_for(n),
        "email": f"person{n}@example.edu.pk",
        "phone": "0300 1234567",
        "role": role,
        "programme_years": years,
        "disability": disability,
        "deposit_receipt": receipt,
        "deposit_date": date,
    }
    cells.update(changes)
    return ",".join(cells[c] for c in COLUMNS)


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def outcomes(report: ImportReport) -> list[str]:
    return [r.outcome for r in report.rows]


@pytest.fixture
def university(db):
    return factories.make_university(code="QAU", enrolment=20_000)


@pytest.fixture
def other_university(db):
    return factories.make_university(code="PU", enrolment=30_000)


@pytest.fixture
def focal(university):
    return factories.make_focal_person(university=university, email="focal@qau.edu.pk")


@pytest.fixture
def other_focal(other_university):
    return factories.make_focal_person(university=other_university, email="focal@pu.edu.pk")


@pytest.fixture
def quota(phase, university, focal):
    disclaimer_on_file(phase=phase, university=university, user=focal)
    return factories.make_quota(phase=phase, university=university, licenses=3)


@pytest.fixture
def other_quota(phase, other_university, other_focal):
    disclaimer_on_file(phase=phase, university=other_university, user=other_focal)
    return factories.make_quota(phase=phase, university=other_university, licenses=3)


@pytest.fixture
def pool(phase):
    return factories.make_quota(phase=phase, university=None, licenses=2)
