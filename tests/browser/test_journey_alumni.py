"""The alumnus's journey in Chromium: sign up, verify the e-mail, register, download the challan,
upload the paid challan and transcript, see the status change once HEC verifies the payment."""

import re

import pytest
from django.core import mail

from fees.models import AlumniPayment
from fees.services import alumni_payment_verify
from registrations.models import Nomination, NominationStatus
from tests import factories
from tests.browser.conftest import pdf_file

EMAIL = "sana.malik@example.pk"
PASSWORD = "a-long-passphrase-for-sana"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_alumnus_signs_up_registers_pays_and_is_verified(page, journey, phase):
    factories.make_quota(phase=phase, university=None, licenses=5)
    university = factories.make_university(code="QAU", enrolment=20_000)
    staff = factories.make_hec_staff(email="staff@hec.gov.pk")
    j = journey("alumni")

    page.goto("/")
    page.get_by_role("link", name="Alumni sign-up").click()
    page.wait_for_url("**/accounts/signup/")
    j.step("sign up")
    page.locator("input[name=email]").fill(EMAIL)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Create the account").click()
    j.step("verification sent")

    # The code from the e-mail, typed in the browser that signed up: it also signs the alumnus in.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [EMAIL]
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.outbox[0].body, re.M).group(1)
    j.step("confirm e-mail")
    page.get_by_label("Code").fill(code)
    with page.expect_navigation():
        page.get_by_role("button", name="Confirm").click()
    page.goto("/registrations/alumni/register/")
    j.step("registration form")

    page.get_by_label("Full name (as on your CNIC)").fill("Sana Malik")
    page.get_by_label("CNIC number").fill("35202-7654321-3")
    page.get_by_label("Mobile number").fill("0300 7654321")
    page.get_by_label("University you graduated from").select_option(value=str(university.pk))
    page.get_by_label("Degree").fill("BS Computer Science")
    page.get_by_label("Graduation date").fill("2020-06-30")
    page.get_by_label("Final transcript (PDF, JPEG or PNG)").set_input_files(pdf_file("transcript.pdf"))
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Register")).click()
    assert "You are registered and a seat is held for you until" in page.content()
    nomination = Nomination.objects.get(email=EMAIL)
    assert nomination.status == NominationStatus.SEATED and nomination.cnic == "3520276543213"
    assert "Not sent yet." in page.locator("main").inner_text()
    j.step("registered, seat held")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the challan (PDF)").click()
    challan = download_info.value
    with open(challan.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert challan.suggested_filename.endswith(".pdf")
    page.reload()
    number = nomination.challans.get().number
    assert number in page.locator("main").inner_text()
    j.step("challan downloaded")

    page.locator("input[name=paid_challan]").set_input_files(pdf_file("paid-challan.pdf"))
    # The transcript was given with the registration: it is not asked for again.
    assert page.locator("input[name=transcript]").count() == 0
    with page.expect_navigation():
        page.get_by_role("button", name="Upload", exact=True).click()
    assert "HEC will check your paid challan and transcript" in page.content()
    payment = AlumniPayment.objects.get(nomination=nomination)
    j.step("payment uploaded")

    # HEC staff verify the payment (the staff journey does it in the admin).
    alumni_payment_verify(payment=payment, actor=staff)
    page.reload()
    summary = page.locator("main").inner_text()
    assert "Verified" in summary
    assert "Cleared on" in summary and "the invitation is sent to your e-mail address" in summary
    assert any(m.to == [EMAIL] and "coursera.org/programs/dlsei-test" in m.body for m in mail.outbox)
    j.step("payment verified")
