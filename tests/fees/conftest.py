"""Fixtures of the fees tests: learners built through the real registration services, small
valid PDF/PNG files to upload, Coursera completion reports, and learners with a deposit whose
license year starts on START."""

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from fees.completions import completions_import
from fees.models import Deposit
from registrations.services import nomination_submit
from tests import factories

# The nominee and file builders live in tests.factories; these names stay importable from here.
from tests.factories import (  # noqa: F401
    PDF,
    PNG,
    alumnus_data,
    cnic_for,
    disclaimer_on_file,
    learner_account,
    pdf_upload,
    png_upload,
    student_data,
)


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


# Coursera's completion report, and learners with a deposit, for refund decisions ------------

# The columns as the Coursera admin's usage report writes them (several more than we read).
HEADER = (
    "Name,Email,External Id,Course,Course ID,Course Slug,University,Enrollment Time,Overall Progress,"
    "Completed,Removed From Program,Completion Time,Course Grade,Course Certificate URL,Course Type"
)


def line(*, name="A Learner", email="", external_id="", course="Machine Learning", slug="machine-learning",
         completed="Yes", time="2022-03-04 10:22:33 UTC", cert="", course_type="Course") -> str:  # fmt: skip
    return (
        f'"{name}",{email},{external_id},"{course}",c1,{slug},Stanford,2021-10-01 00:00:00 UTC,100,'
        f"{completed},No,{time},0.9,{cert},{course_type}"
    )


def report(*lines: str, bom: bool = True) -> bytes:
    text = "\r\n".join([HEADER, *lines]) + "\r\n"
    return ("\ufeff" + text if bom else text).encode()


START = dt.date(2021, 10, 1)  # activation; the license year runs to 2022-09-30, 2022-10-01 is the end
LAST_DAY = dt.date(2022, 9, 30)
END = dt.date(2022, 10, 1)


def learner(phase, uni, *, activated_on=START, deposit=4000, role="student", **kwargs):
    nomination = factories.make_seated_nomination(
        phase=phase, university=uni, role=role, activated_on=activated_on, **kwargs
    )
    if deposit:
        deposit_record(nomination, amount=deposit)
    return nomination


def deposit_record(nomination, *, amount=4000, receipt=None, supersedes=None):
    return Deposit.objects.create(
        nomination=nomination,
        amount=amount,
        receipt=receipt or f"R-{nomination.pk}-{amount}",
        paid_on=dt.date(2021, 9, 20),
        recorded_by=nomination.submitted_by,
        supersedes=supersedes,
    )


def complete(phase, nomination, *courses, staff=None):
    """Import a report in which ``nomination`` completed each (slug, day[, course type])."""
    lines = [
        line(
            email=nomination.email,
            slug=course[0],
            course=course[0].title(),
            time=f"{course[1].isoformat()} 09:00:00 UTC",
            course_type=course[2] if len(course) > 2 else "Course",
        )
        for course in courses
    ]
    return completions_import(phase=phase, data=report(*lines), filename="r.csv", actor=staff)


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


@pytest.fixture
def alumni_pool(phase):
    return factories.make_quota(phase=phase, university=None, licenses=5)


@pytest.fixture
def qau(phase):
    return university_ready(phase=phase, code="QAU", reserved=1)


@pytest.fixture
def uni(db):
    return factories.make_university(code="QAU")
