"""Fixtures of the registration tests: a public university with a quota, its focal person, the
signed disclaimer on file, the alumni pool, and helpers to build nominees and files."""

import datetime
import itertools

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registrations.eligibility import NomineeData
from registrations.models import Disclaimer
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
_numbers = itertools.count(1)


def pdf_upload(name: str = "scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def cnic_for(n: int) -> str:
    """A distinct, valid CNIC per number, written with dashes as people do."""
    digits = f"{3520200000000 + n:013d}"
    return f"{digits[:5]}-{digits[5:12]}-{digits[12]}"


def student(n: int | None = None, **changes) -> NomineeData:
    n = next(_numbers) if n is None else n
    fields = {
        "full_name": f"Student {n}",
        "cnic": cnic_for(n),
        "email": f"student{n}@example.edu.pk",
        "phone": "0300 1234567",
        "role": "student",
        "programme_years": 16,
        "disability": False,
    }
    fields.update(changes)
    return NomineeData(**fields)


def alumnus(n: int | None = None, **changes) -> NomineeData:
    n = next(_numbers) if n is None else n
    fields = {
        "full_name": f"Alumnus {n}",
        "cnic": cnic_for(500_000 + n),
        "email": f"alumnus{n}@example.pk",
        "phone": "0300 7654321",
        "role": "alumnus",
        "degree": "BS Computer Science",
        "graduated_from": "Quaid-i-Azam University",
        "graduation_date": datetime.date(2020, 6, 30),
    }
    fields.update(changes)
    return NomineeData(**fields)


def disclaimer_on_file(*, phase, university, user) -> Disclaimer:
    disclaimer = Disclaimer(phase=phase, university=university, uploaded_by=user)
    disclaimer.file.save("disclaimer.pdf", SimpleUploadedFile("disclaimer.pdf", PDF), save=False)
    disclaimer.save()
    return disclaimer


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # test accounts only
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": "/never/"},
        },
    }


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
