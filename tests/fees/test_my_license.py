"""The learner's own page: what each kind of learner sees and what they must do next."""

import datetime
import re

import pytest
from django.urls import reverse

from fees.deposits import deposit_record
from fees.invoices import invoice_issue, invoice_mark_paid
from fees.models import DisabilityWaiver
from tests import factories
from tests.factories import learner_account, pdf_upload
from tests.fees.conftest import nominate_student, register_alumnus, university_ready

pytestmark = pytest.mark.django_db
URL = "/fees/me/"


def page(client, user, *, has_nomination: bool = True) -> str:
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    # The refunds work fills this partial in (courses completed, days left, refund status).
    assert ("fees/partials/licence_progress.html" in [t.name for t in response.templates]) == has_nomination
    return response.content.decode()


def test_the_url_and_sign_in():
    assert reverse("fees:my_license") == URL


def test_anonymous_visitors_are_asked_to_sign_in(client, phase):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_person_without_a_nomination_is_told_what_to_do(client, phase):
    html = page(client, factories.make_user(), has_nomination=False)
    assert "You have no registration in" in html
    assert "ask your university's DLSEI focal person to nominate you" in html
    assert reverse("registrations:alumni_register") in html


def test_a_seated_alumnus_sees_the_challan_and_the_upload_form(client, phase, alumni_pool):
    alumnus = register_alumnus(phase=phase, full_name="Sana Malik")
    html = page(client, learner_account(alumnus))
    assert "Sana Malik" in html and "Seated" in html
    assert "Rs 8,000" in html and "Your seat is held until" in html
    # A sentence ending on a time has one full stop: "until Dec. 4, 2026, 6:32 PM.", not "p.m..".
    assert re.search(r"Your seat is held until [^<]+ [AP]M\.<", html) and ".." not in html.replace("...", "")
    assert reverse("fees:challan_download") in html
    # The steps say "upload it below": the form is there at once, before the challan is downloaded.
    assert "Upload your paid challan and transcript" in html and '<label for="id_paid_challan">' in html
    assert '<li class="done">' not in html

    client.post(reverse("fees:challan_download"))
    html = page(client, learner_account(alumnus))
    assert "DLSEI-2021-000001" in html
    assert 'enctype="multipart/form-data"' in html
    assert '<label for="id_paid_challan">' in html and '<label for="id_transcript">' in html
    assert "*****-" in html and alumnus.cnic not in html


def test_an_alumnus_gives_the_transcript_once_and_sees_each_step_ticked_off(client, phase, alumni_pool, hec_staff):
    from fees.alumni_payments import alumni_payment_verify
    from fees.models import AlumniPayment
    from registrations.services import nomination_submit

    data = factories.alumnus_data(full_name="Sana Malik")
    alumnus = nomination_submit(
        phase=phase,
        university=None,
        data=data,
        actor=factories.make_user(email=data.email),
        transcript=pdf_upload("transcript.pdf"),
    )
    html = page(client, learner_account(alumnus))
    # Given when registering, the transcript is not asked for again.
    assert '<label for="id_paid_challan">' in html and 'name="transcript"' not in html
    assert "the transcript you gave when registering is already on file" in html
    assert html.count('<li class="done">') == 0

    client.post(reverse("fees:challan_download"))
    html = page(client, learner_account(alumnus))
    assert html.count('<li class="done">') == 1  # the challan is downloaded

    uploaded = client.post(reverse("fees:payment_submit"), {"paid_challan": pdf_upload("paid.pdf")})
    assert uploaded.status_code == 302
    payment = AlumniPayment.objects.get(nomination=alumnus)
    assert payment.transcript.read() == factories.PDF  # the registration's transcript, for HEC's check
    html = page(client, learner_account(alumnus))
    assert html.count('<li class="done">') == 2 and 'name="paid_challan"' not in html

    alumni_payment_verify(payment=payment, actor=hec_staff)
    html = page(client, learner_account(alumnus))
    assert html.count('<li class="done">') == 3


def test_a_student_sees_the_deposit_status(client, phase, qau):
    university, focal = qau
    student = nominate_student(phase=phase, university=university, focal=focal)
    html = page(client, learner_account(student))
    assert "Your deposit is not recorded yet" in html and "Rs 4,000" in html
    assert reverse("fees:challan_download") not in html

    deposit_record(nomination=student, receipt="RCPT-12", paid_on=datetime.date(2021, 9, 20), actor=focal)
    html = page(client, learner_account(student))
    assert "Your deposit of Rs 4,000 is recorded (receipt RCPT-12" in html
    assert "Cleared on" in html


def test_a_learner_on_a_disability_seat_sees_the_waiver(client, phase, qau):
    university, focal = qau
    learner = nominate_student(
        phase=phase, university=university, focal=focal, disability=True, certificate=pdf_upload("cert.pdf")
    )
    html = page(client, learner_account(learner))
    assert "HEC is checking your disability certificate" in html
    assert "Your deposit is not recorded yet" not in html
    assert not DisabilityWaiver.objects.exists()  # looking at the page writes nothing


def test_a_private_university_learner_waits_for_the_invoice(client, phase, hec_staff):
    university, focal = university_ready(phase=phase, code="LUMS", sector="private", licenses=5)
    learner = nominate_student(phase=phase, university=university, focal=focal)
    html = page(client, learner_account(learner))
    assert "once HEC has received your university's payment" in html
    invoice = invoice_issue(phase=phase, university=university, actor=hec_staff)
    invoice_mark_paid(invoice=invoice, reference="PERN-1", actor=hec_staff)
    assert "Your university has paid for its licenses" in page(client, learner_account(learner))


def test_a_waiting_learner_is_told_about_the_waiting_list(client, phase):
    university, focal = university_ready(phase=phase, code="PU", licenses=1)
    nominate_student(phase=phase, university=university, focal=focal)
    waiting = nominate_student(phase=phase, university=university, focal=focal)
    second = nominate_student(phase=phase, university=university, focal=focal)
    assert waiting.status == "waiting"
    html = page(client, learner_account(waiting))
    assert "You are on the waiting list" in html
    # Their place in the line, and no request to pay a deposit for a seat they do not hold.
    assert "You are number 1 on the waiting list." in html
    assert "Your deposit is not recorded yet" not in html and "Pay the Rs" not in html
    assert "You are number 2 on the waiting list." in page(client, learner_account(second))


def test_a_learner_sees_only_themself(client, phase, qau):
    university, focal = qau
    one = nominate_student(phase=phase, university=university, focal=focal, full_name="Learner One")
    two = nominate_student(phase=phase, university=university, focal=focal, full_name="Learner Two")
    html = page(client, learner_account(two))
    assert "Learner Two" in html and "Learner One" not in html and one.email not in html
