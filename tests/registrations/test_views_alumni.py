"""Alumni sign up (e-mail verified), register and see their status; learners sign in with an e-mailed code."""

import datetime
import html
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from registrations.models import Nomination, NominationStatus
from registrations.services import NomineeData, disclaimer_upload, nomination_submit
from registrations.views_alumni import learner_home_url
from tests import factories
from tests.factories import PDF, PNG

PASSWORD = "graduated-in-twenty-twenty"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def alumni_pool(phase):
    return factories.make_quota(phase=phase, university=None, licenses=1)


@pytest.fixture
def alumnus(client, alumni_pool):
    user = factories.make_user(email="zara@example.pk", password=PASSWORD)
    client.force_login(user)
    return user


def registration(**fields) -> dict:
    data = {
        "full_name": "Zara Malik",
        "cnic": "61101-1234567-8",
        "phone": "0312-7654321",
        "graduated_from": "University of the Punjab",
        "degree": "BS Computer Science",
        "graduation_date": "2020-06-30",
        "transcript": SimpleUploadedFile("transcript.pdf", PDF),
    }
    data.update(fields)
    return data


@pytest.mark.django_db
def test_alumnus_signs_up_verifies_the_email_registers_and_sees_the_status(client, phase, alumni_pool):
    signup = client.get(reverse("account_signup"))
    assert signup.status_code == 200
    assert "Create an alumni account" in text(signup)

    response = client.post(
        reverse("account_signup"),
        {"email": "Zara@Example.pk", "password1": PASSWORD, "password2": PASSWORD},
        follow=True,
    )
    assert "Confirm your e-mail address" in text(response)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["zara@example.pk"]
    user = EmailAddress.objects.get(email="zara@example.pk").user
    assert list(user.groups.values_list("name", flat=True)) == ["Learner"]
    assert not user.is_staff and not hasattr(user, "focal_person")
    code = _code_from(mail.outbox[0])

    # Before the address is confirmed, the password alone does not open the portal.
    other_browser = Client()
    blocked = other_browser.post(
        reverse("account_login"), {"login": "zara@example.pk", "password": PASSWORD}, follow=True
    )
    assert not blocked.wsgi_request.user.is_authenticated

    # The code is typed in the browser that signed up; it signs the alumnus in.
    confirmed = client.post(reverse("account_email_verification_sent"), {"code": code}, follow=True)
    assert confirmed.wsgi_request.user == user
    assert EmailAddress.objects.get(email="zara@example.pk").verified
    client.logout()

    signed_in = client.post(reverse("account_login"), {"login": "zara@example.pk", "password": PASSWORD}, follow=True)
    assert signed_in.wsgi_request.user.is_authenticated
    assert signed_in.redirect_chain[-1][0] == reverse("registrations:alumni_register")
    page = text(signed_in)
    assert "Register in the alumni (open merit) pool" in page
    assert "zara@example.pk" in page

    before = timezone.now()
    registered = client.post(reverse("registrations:alumni_register"), registration())
    assert registered.status_code == 302
    assert registered["Location"] == learner_home_url()
    nomination = Nomination.objects.get()
    assert nomination.email == "zara@example.pk"
    assert nomination.submitted_by.email == "zara@example.pk"
    assert nomination.role == "alumnus" and nomination.university is None
    assert nomination.status == NominationStatus.SEATED
    held = nomination.hold_expires_at - before
    assert (
        datetime.timedelta(days=phase.payment_hold_days)
        <= held
        < datetime.timedelta(days=phase.payment_hold_days, minutes=5)
    )
    assert nomination.transcript

    status = text(client.get(reverse("registrations:my_status")))
    assert "Seated" in status and "Seat held until" in status
    assert "*****-*****56-7" not in status and "*****-*****67-8" in status

    again = client.get(reverse("registrations:alumni_register"))
    assert "You are already registered" in text(again)
    assert "<form" not in text(again).split("<main", 1)[1]


@pytest.mark.django_db
def test_when_the_pool_is_full_the_alumnus_waits(client, phase, alumni_pool):
    first = factories.make_user(email="first@example.pk")
    client.force_login(first)
    client.post(reverse("registrations:alumni_register"), registration(cnic="61101-1111111-1"))
    second = factories.make_user(email="second@example.pk")
    client.force_login(second)
    response = client.post(reverse("registrations:alumni_register"), registration(cnic="61101-2222222-2"), follow=True)
    assert "every alumni seat is taken" in text(response)
    assert Nomination.objects.get(email="second@example.pk").status == NominationStatus.WAITING


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"graduation_date": "2019-09-08"}, "graduation_date", "This phase is for alumni who graduated from"),
        ({"graduation_date": "2022-01-01"}, "graduation_date", "(both days included)"),
        ({"graduation_date": "last year"}, "graduation_date", "“last year” is not a date. Write the date as"),
        ({"cnic": "61101-123456-8"}, "cnic", "This number is too short"),
        ({"graduated_from": ""}, "graduated_from", "Choose your university from the list or type its name."),
        ({"transcript": SimpleUploadedFile("t.pdf", b"<html>")}, "transcript", "This file is not a PDF, PNG or JPEG"),
        ({"transcript": SimpleUploadedFile("t.png", PNG[:-4])}, "transcript", "This file is incomplete"),
        ({"disability": "on"}, "disability_certificate", "Attach your disability certificate"),
    ],
)
def test_ineligible_registrations_are_refused_on_the_field(client, alumnus, fields, field, says):
    response = client.post(reverse("registrations:alumni_register"), registration(**fields))
    assert response.status_code == 400
    page = text(response)
    assert says in page
    assert f'id="id_{field}_error"' in page
    assert not Nomination.objects.exists()


@pytest.mark.django_db
def test_a_university_in_the_list_can_be_chosen_and_an_alumnus_takes_a_general_seat(client, phase, alumnus):
    from quotas.models import Quota

    Quota.objects.filter(phase=phase, university__isnull=True).update(licenses=5, disability_reserved=1)
    punjab = factories.make_university(code="PU")
    response = client.post(
        reverse("registrations:alumni_register"),
        registration(
            graduated_from="",
            graduated_from_choice=str(punjab.pk),
            disability="on",
            disability_certificate=SimpleUploadedFile("cert.png", PNG),
        ),
    )
    assert response.status_code == 302
    nomination = Nomination.objects.get()
    assert nomination.graduated_from == punjab.name
    # The reserved seats are for students of public universities; the alumni pool has none to give.
    assert nomination.seat_kind == "general" and nomination.disability


@pytest.mark.django_db
def test_a_person_nominated_by_a_university_cannot_also_register_as_alumnus(client, phase, alumni_pool):
    university = factories.make_university(code="QAU")
    factories.make_quota(phase=phase, university=university, licenses=5)
    focal = factories.make_focal_person(university=university)
    disclaimer_upload(phase=phase, university=university, file=SimpleUploadedFile("f.pdf", PDF), actor=focal)
    data = NomineeData(
        full_name="Zara Malik", cnic="61101-1234567-8", email="other@qau.edu.pk", role="student", programme_years=16
    )
    nomination_submit(phase=phase, university=university, data=data, actor=focal)

    client.force_login(factories.make_user(email="zara@example.pk"))
    response = client.post(reverse("registrations:alumni_register"), registration())
    assert response.status_code == 400
    page = text(response)
    assert "This CNIC is already registered in this phase through another university or the alumni pool." in page
    error = re.search(r'<ul class="errorlist" id="id_cnic_error">(.*?)</ul>', page, re.S).group(1)
    assert "QAU" not in error and "Zara" not in error
    assert Nomination.objects.count() == 1


@pytest.mark.django_db
def test_register_needs_a_signed_in_person(client, alumni_pool):
    response = client.get(reverse("registrations:alumni_register"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["focal", "staff"])
def test_focal_persons_and_hec_staff_are_not_offered_the_alumni_form(client, phase, alumni_pool, who):
    if who == "focal":
        account = factories.make_focal_person(university=factories.make_university(code="QAU"))
    else:
        account = factories.make_hec_staff(email="officer@hec.gov.pk")
    client.force_login(account)
    response = client.get(reverse("registrations:alumni_register"), follow=True)
    assert "HEC staff and focal person accounts cannot register as alumni." in text(response)
    posted = client.post(reverse("registrations:alumni_register"), registration(), follow=True)
    assert "cannot register as alumni" in text(posted)
    assert not Nomination.objects.exists()


# Learners: sign-in by e-mailed code -------------------------------------------------------------------


def _code_from(message) -> str:
    lines = [line.strip() for line in message.body.splitlines()]
    codes = [line for line in lines if re.fullmatch(r"[A-Z0-9-]{4,12}", line)]
    assert codes, message.body
    return codes[0]


@pytest.mark.django_db
def test_a_nominee_signs_in_with_an_emailed_code_and_sees_their_status(client, phase):
    university = factories.make_university(code="QAU")
    factories.make_quota(phase=phase, university=university, licenses=5)
    focal = factories.make_focal_person(university=university)
    disclaimer_upload(phase=phase, university=university, file=SimpleUploadedFile("f.pdf", PDF), actor=focal)
    data = NomineeData(
        full_name="Hamza Ali", cnic="35202-7654321-3", email="hamza@qau.edu.pk", role="student", programme_years=16
    )
    nomination = nomination_submit(phase=phase, university=university, data=data, actor=focal)
    assert not EmailAddress.objects.filter(email="hamza@qau.edu.pk").exists()  # no account before the code
    mail.outbox.clear()

    page = client.get(reverse("account_request_login_code"))
    assert "Sign in with an e-mailed code" in text(page)
    sent = client.post(reverse("account_request_login_code"), {"email": "Hamza@QAU.edu.pk"}, follow=True)
    assert "Enter your sign-in code" in text(sent)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["hamza@qau.edu.pk"]

    wrong = client.post(reverse("account_confirm_login_code"), {"code": "WRONG1"})
    assert not wrong.wsgi_request.user.is_authenticated

    signed_in = client.post(reverse("account_confirm_login_code"), {"code": _code_from(mail.outbox[0])}, follow=True)
    learner = signed_in.wsgi_request.user
    assert learner.is_authenticated and learner.email == "hamza@qau.edu.pk"
    assert not learner.has_usable_password()
    assert signed_in.redirect_chain[-1][0] == learner_home_url()
    assert EmailAddress.objects.get(user=learner).verified
    assert nomination.email == "hamza@qau.edu.pk"

    status = text(client.get(reverse("registrations:my_status")))
    assert "Hamza Ali" in status and "Seated" in status and university.name in status


@pytest.mark.django_db
def test_an_unknown_address_gets_no_code(client, phase):
    response = client.post(reverse("account_request_login_code"), {"email": "nobody@example.pk"}, follow=True)
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    assert all(not re.search(r"^[A-Z0-9]{6}$", m.body, re.M) for m in mail.outbox)
