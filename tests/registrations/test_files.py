"""Private files are served only to the people allowed to see them, as downloads that are never cached."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from registrations.models import Disclaimer
from registrations.services import NomineeData, disclaimer_upload, nomination_submit
from tests import factories
from tests.factories import JPEG, PDF, PNG, learner_account
from tests.factories import NOMINATIONS_FILE_HEADER as HEADER


@pytest.fixture
def world(db, phase, hec_staff):
    """Two universities with their focal persons, a student with a certificate, an alumnus, strangers."""
    qau = factories.make_university(code="QAU")
    pu = factories.make_university(code="PU")
    for university in (qau, pu):
        factories.make_quota(phase=phase, university=university, licenses=5, disability_reserved=1)
    factories.make_quota(phase=phase, university=None, licenses=5, disability_reserved=1)
    focal_qau = factories.make_focal_person(university=qau, email="focal@qau.edu.pk")
    focal_pu = factories.make_focal_person(university=pu, email="focal@pu.edu.pk")
    disclaimer = disclaimer_upload(
        phase=phase, university=qau, file=SimpleUploadedFile("form.pdf", PDF), actor=focal_qau
    )
    disclaimer_upload(phase=phase, university=pu, file=SimpleUploadedFile("form.pdf", PDF), actor=focal_pu)

    student = nomination_submit(
        phase=phase,
        university=qau,
        data=NomineeData(
            full_name="Sana Student",
            cnic="35202-1111111-1",
            email="sana@qau.edu.pk",
            programme_years=16,
            disability=True,
        ),
        actor=focal_qau,
        disability_certificate=SimpleUploadedFile("certificate.png", PNG),
    )
    alumnus_user = factories.make_user(email="omar@example.pk")
    alumnus = nomination_submit(
        phase=phase,
        university=None,
        data=NomineeData(
            full_name="Omar Alumnus",
            cnic="35202-2222222-2",
            email="omar@example.pk",
            role="alumnus",
            disability=True,
            degree="BS Physics",
            graduated_from="University of the Punjab",
            graduation_date=phase.alumni_graduated_until,
        ),
        actor=alumnus_user,
        transcript=SimpleUploadedFile("transcript.jpg", JPEG),
        disability_certificate=SimpleUploadedFile("certificate.pdf", PDF),
    )
    plain_staff = factories.make_user(email="not-hec@example.pk", staff=True)  # is_staff, but not in HEC's group
    return {
        "disclaimer": disclaimer,
        "student": student,
        "alumnus": alumnus,
        "people": {
            "hec_staff": hec_staff,
            "focal_qau": focal_qau,
            "focal_pu": focal_pu,
            "student": learner_account(student),
            "alumnus": alumnus_user,
            "stranger": factories.make_user(email="stranger@example.pk"),
            "plain_staff": plain_staff,
        },
    }


def _get(world, who: str, url: str):
    client = Client()
    if who != "anonymous":
        client.force_login(world["people"][who])
    return client.get(url)


EVERYONE = ["hec_staff", "focal_qau", "focal_pu", "student", "alumnus", "stranger", "plain_staff"]
MATRIX = {
    # file → who may download it (everyone else: 404)
    "disclaimer": {"hec_staff", "focal_qau"},
    "student_certificate": {"hec_staff", "focal_qau", "student"},
    "alumnus_transcript": {"hec_staff", "alumnus"},
    "alumnus_certificate": {"hec_staff", "alumnus"},
}


def _url(world, what: str) -> str:
    if what == "disclaimer":
        return reverse("registrations:file_disclaimer", args=[world["disclaimer"].pk])
    owner, kind = what.split("_")
    return reverse("registrations:file_nomination", args=[world[owner].pk, kind])


@pytest.mark.django_db
@pytest.mark.parametrize("what", list(MATRIX))
@pytest.mark.parametrize("who", EVERYONE)
def test_who_may_download_what(world, what, who):
    response = _get(world, who, _url(world, what))
    if who in MATRIX[what]:
        assert response.status_code == 200, (who, what)
        assert response["Content-Disposition"].startswith("attachment;")
    else:
        assert response.status_code == 404, (who, what)
        assert "Content-Disposition" not in response


@pytest.mark.django_db
@pytest.mark.parametrize("what", list(MATRIX))
def test_signed_out_people_are_asked_to_sign_in(world, what):
    response = _get(world, "anonymous", _url(world, what))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("what", "content_type", "filename", "content"),
    [
        ("disclaimer", "application/pdf", "disclaimer-QAU-{pk}.pdf", PDF),
        ("student_certificate", "image/png", "certificate-{pk}.png", PNG),
        ("alumnus_transcript", "image/jpeg", "transcript-{pk}.jpg", JPEG),
        ("alumnus_certificate", "application/pdf", "certificate-{pk}.pdf", PDF),
    ],
)
def test_downloads_are_typed_from_the_content_named_safely_and_never_cached(
    world, what, content_type, filename, content
):
    response = _get(world, "hec_staff", _url(world, what))
    pk = world["disclaimer"].pk if what == "disclaimer" else world[what.split("_")[0]].pk
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="{filename.format(pk=pk)}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == content


@pytest.mark.django_db
def test_missing_files_and_unknown_kinds_are_not_found(world):
    student = world["student"]
    assert (
        _get(world, "hec_staff", reverse("registrations:file_nomination", args=[student.pk, "transcript"])).status_code
        == 404
    )
    assert (
        _get(world, "hec_staff", reverse("registrations:file_nomination", args=[student.pk, "passport"])).status_code
        == 404
    )
    assert (
        _get(world, "hec_staff", reverse("registrations:file_nomination", args=[999999, "certificate"])).status_code
        == 404
    )
    assert _get(world, "hec_staff", reverse("registrations:file_disclaimer", args=[999999])).status_code == 404
    # A row whose file went missing from the disk is a 404 too, never a 500.
    Disclaimer.objects.filter(pk=world["disclaimer"].pk).update(file="disclaimers/2021/gone.pdf")
    assert _get(world, "hec_staff", _url(world, "disclaimer")).status_code == 404


@pytest.mark.django_db
def test_a_nominations_file_is_for_its_university_and_staff_only(world):
    client = Client()
    client.force_login(world["people"]["focal_qau"])
    rows = "Ali Raza,35202-3333333-3,ali@qau.edu.pk,,student,16,no,,\n"
    client.post(
        reverse("portal:nominations_upload"),
        {"file": SimpleUploadedFile("list.csv", f"{HEADER}\n{rows}".encode())},
    )
    from registrations.models import NominationUpload

    upload = NominationUpload.objects.get()
    url = reverse("registrations:file_nomination_upload", args=[upload.pk])
    for who in ("hec_staff", "focal_qau"):
        response = _get(world, who, url)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == f'attachment; filename="nominations-QAU-{upload.pk}.csv"'
        assert b"Ali Raza" in b"".join(response.streaming_content)
    for who in ("focal_pu", "student", "stranger"):
        assert _get(world, who, url).status_code == 404
