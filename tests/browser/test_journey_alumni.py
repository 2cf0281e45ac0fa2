"""The alumnus's journey in Chromium: sign up, verify the e-mail, register, download the challan,
pay it by consumer number through 1Bill (the bank network's BillInquiry and BillPayment), upload the
transcript, and see the status change once HEC staff verify it on the payment's admin page."""

import re

import pytest
from django.core import mail

from fees.models import AlumniPayment, BillPayment
from registrations.models import Nomination, NominationStatus
from tests import factories
from tests.browser.conftest import Journey, pdf_file, sign_in

EMAIL = "sana.malik@example.pk"
PASSWORD = "a-long-passphrase-for-sana"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_alumnus_signs_up_registers_pays_and_is_verified(page, journey, phase, chromium, live_server, settings):
    settings.ONEBILL_USERNAME, settings.ONEBILL_PASSWORD = "onelink", "biller-secret"
    bank = {"username": "onelink", "password": "biller-secret"}
    factories.make_quota(phase=phase, university=None, licenses=5)
    university = factories.make_university(code="QAU", enrolment=20_000)
    factories.make_hec_staff(email="staff@hec.gov.pk")
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
        page.get_by_role("button", name="Download the challan (PDF)").click()
    challan = download_info.value
    with open(challan.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert challan.suggested_filename.endswith(".pdf")
    page.reload()
    number = nomination.challans.get().number
    assert number in page.locator("main").inner_text()
    j.step("challan downloaded")

    # Paid in a bank app by consumer number: the bank network asks for the bill, then posts the payment.
    consumer_number = nomination.challans.get().consumer_number
    assert consumer_number in page.locator("main").inner_text()
    bill = page.request.post(
        "/api/1bill/BillInquiry",
        data={"consumer_number": consumer_number, "bank_mnemonic": "MEEZAN", "reserved": ""},
        headers=bank,
    ).json()
    assert (bill["response_Code"], bill["consumer_Detail"], bill["bill_status"]) == ("00", "Sana Malik", "U")
    assert bill["amount_within_dueDate"] == "+0000000800000"
    paid = page.request.post(
        "/api/1bill/BillPayment",
        data={
            "consumer_number": consumer_number, "tran_auth_id": "402117", "transaction_amount": "000000800000",
            "tran_date": "20211015", "tran_time": "113000", "bank_mnemonic": "MEEZAN", "reserved": "",
        },
        headers=bank,
    ).json()  # fmt: skip
    assert paid["response_Code"] == "00"
    assert BillPayment.objects.get().challan.nomination == nomination
    page.reload()
    assert "HEC has the bank's record, so you do not need to upload it." in page.locator("main").inner_text()
    assert page.locator("input[name=paid_challan]").count() == 0
    j.step("challan paid through 1Bill")

    # The transcript was given with the registration: it is not asked for again, only sent for the check.
    assert page.locator("input[name=transcript]").count() == 0
    with page.expect_navigation():
        page.get_by_role("button", name="Send for HEC's check", exact=True).click()
    assert "HEC will check your transcript" in page.content()
    payment = AlumniPayment.objects.get(nomination=nomination)
    assert not payment.paid_challan
    j.step("sent for HEC's check")

    # HEC staff verify it on the payment's page in the admin, from the queue the menu links to.
    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(8_000)
    staff_page = context.new_page()
    sign_in(staff_page, email="staff@hec.gov.pk")
    staff_page.goto("/dashboard/")
    staff_page.get_by_role("link", name="1 alumni payment waits for review").click()
    staff_page.wait_for_url("**/admin/fees/alumnipayment/?status__exact=submitted")
    staff_page.get_by_role("link", name=re.compile("Sana Malik")).click()
    staff_page.wait_for_url(f"**/admin/fees/alumnipayment/{payment.pk}/change/**")
    assert "through 1Bill (MEEZAN, transaction 402117)" in staff_page.content()
    staff = Journey(staff_page, "alumni-staff")
    staff.step("payment to verify", urdu=False)
    with staff_page.expect_navigation():
        staff_page.get_by_role("button", name="Verify").click()
    assert "The payment is verified; the alumnus is invited." in staff_page.content()
    context.close()
    assert AlumniPayment.objects.get(pk=payment.pk).status == "verified"

    page.reload()
    summary = page.locator("main").inner_text()
    assert "Verified" in summary
    assert "Cleared on" in summary and "the invitation is sent to your e-mail address" in summary
    assert any(m.to == [EMAIL] and "coursera.org/programs/dlsei-test" in m.body for m in mail.outbox)
    j.step("payment verified")
