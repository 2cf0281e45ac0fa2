"""The focal person's journey in Chromium: sign in, disclaimer, template, file, preview, confirm,
statuses, a deposit. Every page is screenshotted and checked with axe in English and Urdu."""

import pytest
from django.utils import timezone

from registrations.models import Disclaimer, Nomination, NominationStatus
from tests import factories
from tests.browser.conftest import PDF, sign_in
from tests.factories import NOMINATIONS_FILE_HEADER as HEADER

ROWS = [
    "Ayesha Khan,35202-1111111-1,ayesha@qau.edu.pk,0300 1111111,student,16,no,,",
    "Bilal Ahmed,35202-2222222-2,bilal@qau.edu.pk,0300 2222222,faculty,,no,,",
    "Sara Iqbal,35202-3333333-3,sara@qau.edu.pk,0300 3333333,student,16,no,,",
    "Omar Farooq,35202-4444444-4,omar@qau.edu.pk,0300 4444444,student,14,no,,",
]


def ayesha_deposits():
    return list(Nomination.objects.get(full_name="Ayesha Khan").deposits.all())


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_focal_person_nominates_from_a_file_and_records_a_deposit(page, journey, phase):
    university = factories.make_university(code="QAU", enrolment=20_000)
    factories.make_quota(phase=phase, university=university, licenses=2)
    factories.make_focal_person(university=university, email="focal@qau.edu.pk")
    j = journey("focal")

    page.goto("/")
    j.keyboard_check()
    j.step("home")
    page.goto("/accounts/login/")
    j.step("sign in")
    sign_in(page, email="focal@qau.edu.pk")
    # Until the signed form is on file every page leads to the disclaimer upload.
    page.wait_for_url("**/registrations/focal/disclaimer/")
    assert "Please upload your university's signed disclaimer form first" in page.content()
    j.step("disclaimer asked for")

    page.get_by_label("Signed disclaimer form (PDF)").set_input_files(
        {"name": "disclaimer-signed.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Upload the signed form").click()
    page.wait_for_url("**/registrations/focal/")
    assert "the signed disclaimer form is on file" in page.content()
    assert Disclaimer.objects.filter(phase=phase, university=university).exists()
    j.step("dashboard")

    page.goto("/registrations/focal/upload/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Template as CSV (UTF-8)").click()
    template = download_info.value
    assert template.suggested_filename == "dlsei-nominations-template.csv"
    with open(template.path(), encoding="utf-8-sig") as handle:
        assert handle.readline().strip().startswith("full_name,cnic,email")
    j.step("upload page and template")

    data = "\n".join([HEADER, *ROWS]) + "\n"
    page.get_by_label("Nominations file (CSV or Excel .xlsx)").set_input_files(
        {"name": "nominees.csv", "mimeType": "text/csv", "buffer": data.encode()}
    )
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_url("**/registrations/focal/upload/*/")
    preview = page.locator("main").inner_text()
    assert "4 rows in the file" in preview
    assert "2 would take a seat" in preview and "1 would go on the waiting list" in preview
    assert "1 would be refused" in preview
    rows = page.locator("tbody tr")
    assert rows.count() == 4
    assert "Refused" in rows.nth(3).inner_text()
    assert not Nomination.objects.exists()  # nothing saved before confirmation
    j.step("preview")

    with page.expect_navigation():
        page.get_by_role("button", name="Confirm and save 3 nominations").click()
    statuses = dict(Nomination.objects.values_list("full_name", "status"))
    assert statuses == {
        "Ayesha Khan": NominationStatus.SEATED,
        "Bilal Ahmed": NominationStatus.SEATED,
        "Sara Iqbal": NominationStatus.WAITING,
    }
    j.step("confirmed")

    page.goto("/registrations/focal/nominees/")
    table = page.locator("main table").inner_text()
    assert "Ayesha Khan" in table and "Sara Iqbal" in table and "Omar Farooq" not in table
    assert "35202-3333333-3" not in table  # CNICs are masked in lists
    assert "On the waiting list" in table
    j.step("nominees with statuses")

    page.goto("/fees/deposits/")
    j.step("deposits")
    page.get_by_role("link", name="Record deposit of Ayesha Khan").click()
    page.wait_for_url("**/fees/deposits/*/")
    j.step("deposit form")
    submit = "main form button[type=submit]"
    j.form_errors_step("deposit form with errors", submit=submit, fields=["receipt", "paid_on"])
    assert not ayesha_deposits(), "a refused form records nothing"
    page.get_by_label("Receipt number").fill("QAU-0001")
    page.get_by_label("Date paid").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Record the deposit").click()
    page.wait_for_url("**/fees/deposits/")
    assert "The deposit of Ayesha Khan is recorded." in page.content()
    assert [d.receipt for d in ayesha_deposits()] == ["QAU-0001"]
    j.step("deposit recorded")
