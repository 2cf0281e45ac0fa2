"""Fixtures of the registration tests: a public university with a quota, its focal person, the
signed disclaimer on file, the alumni pool, and helpers to build nominees and files."""

import pytest

from tests import factories

# The nominee and file builders live in tests.factories; these names stay importable from here.
from tests.factories import PDF, cnic_for, disclaimer_on_file, pdf_upload  # noqa: F401
from tests.factories import alumnus_data as alumnus  # noqa: F401
from tests.factories import student_data as student  # noqa: F401


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # test accounts only
    factories.private_files_in(settings, tmp_path / "private")


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
