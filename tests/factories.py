"""Small factories for tests. Prefer the real services; these make the rows services start from."""

import datetime
import itertools
from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from fees.alumni_payments import alumni_payment_submit
from fees.challans import challan_issue
from fees.invoices import invoice_issue
from fees.waivers import waiver_request
from quotas.license_year import latest_activation_ended_by
from quotas.models import Allocation, Phase, Pool, Quota, University
from quotas.services import allocation_publish, allocation_run, phase_create
from registrations.eligibility import NomineeData
from registrations.imports import nomination_upload_store
from registrations.models import Disclaimer, FocalPerson, Nomination, NominationStatus, NominationUpload
from registrations.roles import FOCAL_PERSON, HEC_STAFF, roles_ensure
from registrations.services import disclaimer_upload, nomination_submit

_seq = itertools.count(1)
_people = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"
# Small valid files to upload (the portal checks an upload's content, not its name).
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
# The columns of the nominations file, as its template has them.
NOMINATIONS_FILE_HEADER = "full_name,cnic,email,phone,role,programme_years,disability,deposit_receipt,deposit_date"


def make_phase(
    *,
    slug: str | None = None,
    launch: datetime.date = datetime.date(2021, 9, 9),
    coursera_invitation_url: str = "https://www.coursera.org/programs/dlsei-test",
    **numbers,
) -> Phase:
    """A phase as HEC sets one up: the SOP's numbers, and its Coursera invitation link (pass "" for
    a phase without one: nobody is cleared for an invitation then)."""
    phase = phase_create(
        slug=slug or f"phase-{next(_seq)}", launch=launch, coursera_invitation_url=coursera_invitation_url
    )
    if numbers:
        for field, value in numbers.items():
            setattr(phase, field, value)
        phase.save(update_fields=list(numbers))
    return phase


def make_small_phase(*, slug: str | None = None, **numbers) -> Phase:
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
    return make_phase(slug=slug, **(defaults | numbers))


def small_universities(phase: Phase) -> Phase:
    """Let ``phase`` hold universities of a few licenses each (tests of seats and moves): no least
    number of licenses per university and no disability reserve to keep."""
    phase.public_min_licenses = 0
    phase.disability_percent = 0
    phase.save(update_fields=["public_min_licenses", "disability_percent"])
    return phase


def activated_with_days_left(phase: Phase, days_left: int, today: datetime.date | None = None) -> datetime.date:
    """The activation date whose license year (a calendar year) has ``days_left`` days to run
    after ``today`` (the year's end, the first day after it, is ``today + days_left``)."""

    today = today or timezone.localdate()
    return latest_activation_ended_by(day=today + datetime.timedelta(days=days_left), years=phase.license_years)


def make_university(
    *, code: str | None = None, sector: str = "public", enrolment: int = 10_000, **fields
) -> University:
    code = code or f"U{next(_seq)}"
    return University.objects.create(code=code, name=f"University {code}", sector=sector, enrolment=enrolment, **fields)


def make_quota(*, phase: Phase, university: University | None, licenses: int, disability_reserved: int = 0) -> Quota:
    """A seat counter as a published allocation leaves it (tests of registration start here)."""
    pool = university.sector if university else Pool.ALUMNI
    return Quota.objects.create(
        phase=phase, university=university, pool=pool, licenses=licenses, disability_reserved=disability_reserved
    )


def make_user(*, email: str | None = None, staff: bool = False, password: str = PASSWORD, verified: bool = True):
    email = (email or f"user{next(_seq)}@example.pk").lower()
    user = get_user_model().objects.create_user(username=email, email=email, password=password, is_staff=staff)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def learner_account(nomination):
    """The nominee's account as signing in by code leaves it: the nomination's address, verified,
    no password. The same account every time for one address."""
    address = EmailAddress.objects.filter(email=nomination.email, verified=True).select_related("user").first()
    if address is not None:
        return address.user
    user = get_user_model().objects.create_user(username=nomination.email, email=nomination.email)
    EmailAddress.objects.create(user=user, email=nomination.email, verified=True, primary=True)
    return user


def make_hec_staff(**kwargs):
    user = make_user(staff=True, **kwargs)
    user.groups.add(roles_ensure()[HEC_STAFF])
    return user


def make_focal_person(*, university: University, **kwargs):
    user = make_user(**kwargs)
    user.groups.add(roles_ensure()[FOCAL_PERSON])
    FocalPerson.objects.create(user=user, university=university)
    return user


def make_seated_nomination(
    *,
    phase: Phase,
    university: University | None = None,
    role: str = "student",
    email: str | None = None,
    cnic: str | None = None,
    activated_on: datetime.date | None = None,
    full_name: str | None = None,
    seat_kind: str = "general",
    submitted_by=None,
):
    """A nomination holding a seat (as registration leaves it), its quota made when missing."""

    n = next(_seq)
    pool = university.sector if university else Pool.ALUMNI
    quota = Quota.objects.filter(phase=phase, university=university).first() or make_quota(
        phase=phase, university=university, licenses=1_000_000
    )
    return Nomination.objects.create(
        phase=phase,
        quota=quota,
        university=university,
        pool=pool,
        role=role if university else "alumnus",
        full_name=full_name or f"Learner {n}",
        cnic=cnic or f"{3520100000000 + n:013d}",
        email=(email or f"learner{n}@example.pk").lower(),
        status=NominationStatus.SEATED,
        seat_kind=seat_kind,
        activated_on=activated_on,
        submitted_by=submitted_by or make_user(),
    )


# Nominee data and files, as a focal person or an alumnus would give them to the services ---------


def pdf_upload(name: str = "scan.pdf", data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def png_upload(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def cnic_for(n: int) -> str:
    """A distinct, valid CNIC per number, written with dashes as people do."""
    digits = f"{3520200000000 + n:013d}"
    return f"{digits[:5]}-{digits[5:12]}-{digits[12]}"


def student_data(n: int | None = None, **changes) -> NomineeData:
    """A 16-year student's details; n (or the next number) makes the name, CNIC and e-mail distinct."""
    n = next(_people) if n is None else n
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


def alumnus_data(n: int | None = None, **changes) -> NomineeData:
    """An alumnus who graduated inside the first phase's window."""
    n = next(_people) if n is None else n
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


def alumnus_register(*, phase: Phase, data: NomineeData | None = None, **changes):
    """An alumnus registered as on the page: signed up (address verified), then registered through
    the real service with their own account as the actor."""

    data = data or alumnus_data(**changes)
    account = EmailAddress.objects.filter(email=data.email.lower(), verified=True).select_related("user").first()
    actor = account.user if account is not None else make_user(email=data.email)
    return nomination_submit(phase=phase, university=None, data=data, actor=actor)


def alumnus_payment_waiting(*, phase: Phase, data: NomineeData | None = None, **changes):
    """An alumnus registered, challan issued, the paid challan and transcript uploaded: a payment
    waiting for HEC's check, made through the real services with the alumnus as the actor."""

    alumnus = alumnus_register(phase=phase, data=data, **changes)
    challan_issue(nomination=alumnus, actor=learner_account(alumnus))
    alumni_payment_submit(
        nomination=alumnus,
        paid_challan=pdf_upload("paid.pdf"),
        transcript=pdf_upload("transcript.pdf"),
        actor=learner_account(alumnus),
    )
    return alumnus


def disclaimer_on_file(*, phase: Phase, university: University, user) -> Disclaimer:
    """The university's signed disclaimer, as if its focal person had uploaded it."""
    disclaimer = Disclaimer(phase=phase, university=university, uploaded_by=user)
    disclaimer.file.save("disclaimer.pdf", SimpleUploadedFile("disclaimer.pdf", PDF), save=False)
    disclaimer.save()
    return disclaimer


def private_files_in(settings, folder) -> None:
    """Uploads of the test stored under ``folder`` (a tmp_path), as PRIVATE_MEDIA_ROOT is in production."""
    settings.PRIVATE_MEDIA_ROOT = folder
    settings.MEDIA_ROOT = folder
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": folder, "base_url": "/never/"},
        },
    }


# The world of the authorization, security, Urdu and page-weight tests ----------------------------


@dataclass
class World:
    phase: Phase
    uni_a: University
    uni_b: University
    private: University
    users: dict[str, Any]
    learner_nomination: Nomination  # B's student with a disability certificate (a reserved seat)
    plain_nomination: Nomination  # B's student on a general seat
    alumni_nomination: Nomination
    upload: NominationUpload
    disclaimer_b: Any
    payment: Any
    waiver: Any
    invoice: Any
    allocation: Allocation
    extra: dict = field(default_factory=dict)


def build_world() -> World:
    """Every role and a row of each kind: two public universities A and B with published quotas,
    signed disclaimers and nominees of B, a registered alumnus with a paid challan uploaded, a
    disability waiver, a private invoice."""

    phase = make_small_phase(slug="auth-phase", private_max_licenses=20)
    make_university(code="DL", enrolment=500_000, distance_learning_licenses=10)
    uni_a = make_university(code="UNIA", enrolment=20_000)
    uni_b = make_university(code="UNIB", enrolment=30_000)
    make_university(code="NAHE", sector="nahe", enrolment=0)
    private = make_university(code="PRIV", sector="private", enrolment=4_000)
    staff = make_hec_staff(email="staff@hec.gov.pk")
    published = allocation_run(phase=phase, actor=staff)
    allocation_publish(allocation=published, actor=staff)
    draft = allocation_run(phase=phase, actor=staff)

    focal_a = make_focal_person(university=uni_a, email="focal@unia.edu.pk")
    focal_b = make_focal_person(university=uni_b, email="focal@unib.edu.pk")
    disclaimer_upload(phase=phase, university=uni_a, file=pdf_upload("a.pdf"), actor=focal_a)
    disclaimer_b = disclaimer_upload(phase=phase, university=uni_b, file=pdf_upload("b.pdf"), actor=focal_b)

    learner_nomination = nomination_submit(
        phase=phase,
        university=uni_b,
        data=student_data(1, disability=True),
        actor=focal_b,
        disability_certificate=pdf_upload("certificate.pdf"),
    )
    plain_nomination = nomination_submit(phase=phase, university=uni_b, data=student_data(2), actor=focal_b)

    alumnus = make_user(email="alumnus@example.pk")
    alumni_nomination = nomination_submit(
        phase=phase,
        university=None,
        data=alumnus_data(1, email=alumnus.email),
        actor=alumnus,
        transcript=pdf_upload("transcript.pdf"),
    )
    challan_issue(nomination=alumni_nomination, actor=alumnus)
    payment = alumni_payment_submit(
        nomination=alumni_nomination,
        paid_challan=pdf_upload("paid.pdf"),
        transcript=pdf_upload("transcript.pdf"),
        actor=alumnus,
    )
    waiver = waiver_request(nomination=learner_nomination, actor=staff)
    invoice = invoice_issue(phase=phase, university=private, actor=staff)
    csv = (
        "full_name,cnic,email,phone,role,programme_years,disability\n"
        "Zara Ali,37405-0000009-9,zara@example.edu.pk,,student,16,no\n"
    )
    upload = nomination_upload_store(
        phase=phase, university=uni_b, data=csv.encode(), filename="list.csv", actor=focal_b
    )
    users = {
        "anonymous": None,
        "learner": learner_account(learner_nomination),
        "alumnus": alumnus,
        "focal_other": focal_a,
        "staff": staff,
        "focal_own": focal_b,
    }
    return World(
        phase=phase,
        uni_a=uni_a,
        uni_b=uni_b,
        private=private,
        users=users,
        learner_nomination=learner_nomination,
        plain_nomination=plain_nomination,
        alumni_nomination=alumni_nomination,
        upload=upload,
        disclaimer_b=disclaimer_b,
        payment=payment,
        waiver=waiver,
        invoice=invoice,
        allocation=draft,
    )


def client_for(world: World, role: str) -> Client:
    """A test client signed in as the world's person in `role` ("anonymous": nobody)."""
    client = Client()
    client.raise_request_exception = False
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    return client
