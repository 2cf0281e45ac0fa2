"""Fixtures of the fees tests: learners built through the real registration services, uploads
kept under a temporary directory, and small valid PDF/PNG files to upload."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from registrations.services import nomination_submit
from tests import factories

# The nominee and file builders live in tests.factories; these names stay importable from here.
from tests.factories import PDF, alumnus_data, cnic_for, disclaimer_on_file, learner_account, pdf_upload, student_data  # noqa: F401

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def png_upload(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf_text(data: bytes) -> tuple[int, str]:
    """The number of pages and the text of a PDF, as a reader would see them."""
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def university_ready(*, phase, code: str, sector: str = "public", licenses: int = 10, reserved: int = 0, **fields):
    """A university with its focal person, signed disclaimer and quota: (university, focal user)."""
    university = factories.make_university(code=code, sector=sector, **fields)
    focal = factories.make_focal_person(university=university, email=f"focal@{code.lower()}.edu.pk")
    disclaimer_on_file(phase=phase, university=university, user=focal)
    factories.make_quota(phase=phase, university=university, licenses=licenses, disability_reserved=reserved)
    return university, focal


def nominate_student(*, phase, university, focal, **changes):
    certificate = changes.pop("certificate", None)
    return nomination_submit(
        phase=phase,
        university=university,
        data=student_data(**changes),
        actor=focal,
        disability_certificate=certificate,
    )


def register_alumnus(*, phase, **changes):
    """An alumnus registered through the real service (seated with a payment hold, if a seat is free)."""
    return factories.alumnus_register(phase=phase, data=alumnus_data(**changes))


def login_learner(client, nomination):
    """Sign the nomination's learner in (their account was made by the registration)."""
    user = learner_account(nomination)
    client.force_login(user)
    return user


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    factories.private_files_in(settings, tmp_path / "private")


@pytest.fixture
def alumni_pool(phase):
    return factories.make_quota(phase=phase, university=None, licenses=5)


@pytest.fixture
def qau(phase):
    return university_ready(phase=phase, code="QAU", reserved=1)
