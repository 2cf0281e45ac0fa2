"""The learner's journey in Chromium: sign in with a code e-mailed to them, then see their license:
courses completed out of 3, days left in the license year and the refund status."""

import datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fees.completions import completions_import
from fees.deposits import deposit_record
from fees.refunds import refunds_decide
from quotas.license_year import license_year_end
from registrations.eligibility import NomineeData
from registrations.models import Nomination
from registrations.services import disclaimer_upload, nomination_submit
from tests import factories
from tests.browser.conftest import PDF

EMAIL = "hina.aslam@qau.edu.pk"
HEADER = (
    "Name,Email,External Id,Course,Course ID,Course Slug,University,Enrollment Time,Overall Progress,"
    "Completed,Removed From Program,Completion Time,Course Grade,Course Certificate URL,Course Type"
)


def completion(*, course: str, slug: str, day: datetime.date) -> str:
    return (
        f'"Hina Aslam",{EMAIL},,"{course}",c-{slug},{slug},Stanford,{day.isoformat()} 08:00:00 UTC,100,'
        f"Yes,No,{day.isoformat()} 12:00:00 UTC,0.95,https://coursera.org/verify/{slug.upper()},Course"
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_learner_signs_in_with_an_emailed_code_and_sees_courses_days_left_and_refund(page, journey, phase):
    university = factories.make_university(code="QAU", enrolment=20_000)
    factories.make_quota(phase=phase, university=university, licenses=5)
    focal = factories.make_focal_person(university=university, email="focal@qau.edu.pk")
    staff = factories.make_hec_staff(email="staff@hec.gov.pk")
    disclaimer_upload(phase=phase, university=university, file=SimpleUploadedFile("form.pdf", PDF), actor=focal)
    data = NomineeData(
        full_name="Hina Aslam",
        cnic="35202-5555555-5",
        email=EMAIL,
        phone="0300 5555555",
        role="student",
        programme_years=16,
    )
    nomination = nomination_submit(phase=phase, university=university, data=data, actor=focal)
    today = timezone.localdate()
    # Paid 40 days ago: the invitation went out and the license year started then.
    deposit_record(nomination=nomination, receipt="QAU-0042", paid_on=today - datetime.timedelta(days=40), actor=focal)
    started = today - datetime.timedelta(days=40)
    Nomination.objects.filter(pk=nomination.pk).update(activated_on=started)
    report = "\r\n".join(
        [
            HEADER,
            completion(course="Machine Learning", slug="machine-learning", day=started + datetime.timedelta(days=5)),
            completion(course="Python for Everybody", slug="python", day=started + datetime.timedelta(days=12)),
            completion(course="Financial Markets", slug="financial-markets", day=started + datetime.timedelta(days=20)),
        ]
    )
    completions_import(phase=phase, data=report.encode(), filename="usage.csv", actor=staff)
    refunds_decide(phase=phase, as_of=today, actor=staff)
    mail.outbox.clear()
    j = journey("learner")

    page.goto("/")
    page.get_by_role("link", name="Sign in with an e-mailed code").click()
    page.wait_for_url("**/accounts/login/code/")
    j.step("ask for a code")
    page.locator("input[name=email]").fill(EMAIL)
    with page.expect_navigation():
        page.get_by_role("button", name="Send me a code").click()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [EMAIL]
    code = mail.outbox[0].body.split("Your sign-in code:")[1].strip().splitlines()[0].strip()
    j.step("enter the code")
    page.locator("input[name=code]").fill(code)
    with page.expect_navigation():
        page.locator("main form").first.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/fees/me/")
    j.keyboard_check()
    j.step("license page")

    progress = page.locator("section.licence-progress").inner_text()
    assert "3 of 3" in progress
    started = timezone.localdate() - datetime.timedelta(days=40)
    days_left = (license_year_end(activated_on=started, years=phase.license_years) - timezone.localdate()).days
    # (one day fewer if midnight in Pakistan passed since the deposit was recorded)
    assert f"{days_left} days" in progress or f"{days_left - 1} days" in progress
    assert "Refund due" in progress
    assert "Machine Learning" in progress and "Financial Markets" in progress
    summary = page.locator("main").inner_text()
    assert "Hina Aslam" in summary and "35202-5555555-5" not in summary
    assert "Your deposit of Rs 4,000 is recorded (receipt QAU-0042" in summary
    assert page.locator("progress").get_attribute("value") == "3"
