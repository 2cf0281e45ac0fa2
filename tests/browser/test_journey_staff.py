"""HEC staff's journey in Chromium: preview and publish an allocation, verify an alumni payment in
the admin, import a Coursera completion report, decide refunds and download a ledger."""

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from fees.completions import completion_import_run, completions_upload
from fees.deposits import deposit_record
from fees.models import AlumniPayment, PaymentStatus, RefundDecision
from quotas.license_year import latest_activation_ended_by
from quotas.models import Allocation, Quota
from registrations.eligibility import NomineeData
from registrations.models import Nomination
from registrations.services import disclaimer_upload, nomination_submit
from tests import factories
from tests.browser.conftest import PDF, sign_in

HEADER = (
    "Name,Email,External Id,Course,Course ID,Course Slug,University,Enrollment Time,Overall Progress,"
    "Completed,Removed From Program,Completion Time,Course Grade,Course Certificate URL,Course Type"
)


def small_phase():
    """100 licenses: public 60 (10 to a distance-learning grant), NAHE 10, alumni 10, private 20."""
    phase = factories.make_small_phase(
        slug="phase-staff", coursera_invitation_url="https://www.coursera.org/programs/dlsei-test?authProvider=hec"
    )
    factories.make_university(code="DL", enrolment=500_000, distance_learning_licenses=10)
    factories.make_university(code="BIG", enrolment=30_000)
    factories.make_university(code="MID", enrolment=20_000)
    factories.make_university(code="NAHE", sector="nahe", enrolment=0)
    factories.make_university(code="PRI", sector="private", enrolment=4_000)
    factories.make_university(code="PRJ", sector="private", enrolment=2_000)
    return phase


def student(n: int, name: str) -> NomineeData:
    return NomineeData(
        full_name=name,
        cnic=f"35202-{6000000 + n:07d}-{n}",
        email=f"student{n}@big.edu.pk",
        phone="0300 6666666",
        role="student",
        programme_years=16,
    )


def row(*, email: str, course: str, day: datetime.date) -> str:
    slug = course.lower().replace(" ", "-")
    return (
        f'"Learner",{email},,"{course}",c-{slug},{slug},Stanford,{day.isoformat()} 08:00:00 UTC,100,'
        f"Yes,No,{day.isoformat()} 12:00:00 UTC,0.9,,Course"
    )


def learners_after_publish(*, phase, staff):
    """What happens between publishing and the end of the year, made through the real services:
    an alumnus who uploaded a paid challan, two students whose deposits were recorded."""
    alumnus = factories.alumnus_payment_waiting(
        phase=phase,
        data=NomineeData(
            full_name="Zara Hussain",
            cnic="35202-8888888-8",
            email="zara@example.pk",
            phone="0300 8888888",
            role="alumnus",
            degree="BS Physics",
            graduated_from="University BIG",
            graduation_date=datetime.date(2020, 6, 30),
        ),
    )
    big = Quota.objects.get(phase=phase, university__code="BIG").university
    focal = factories.make_focal_person(university=big, email="focal@big.edu.pk")
    disclaimer_upload(phase=phase, university=big, file=SimpleUploadedFile("form.pdf", PDF), actor=focal)
    today = timezone.localdate()
    achiever = nomination_submit(phase=phase, university=big, data=student(1, "Adeel Raza"), actor=focal)
    idle = nomination_submit(phase=phase, university=big, data=student(2, "Fatima Noor"), actor=focal)
    for nomination, paid_on in (
        (achiever, today - datetime.timedelta(days=60)),
        (idle, latest_activation_ended_by(day=today - datetime.timedelta(days=10), years=phase.license_years)),
    ):
        deposit_record(nomination=nomination, receipt=f"BIG-{nomination.pk}", paid_on=paid_on, actor=focal)
        Nomination.objects.filter(pk=nomination.pk).update(activated_on=paid_on)
    return alumnus, achiever, idle


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_hec_staff_publish_verify_import_decide_and_export(page, journey):
    phase = small_phase()
    staff = factories.make_hec_staff(email="staff@hec.gov.pk")
    j = journey("staff")

    sign_in(page, email="staff@hec.gov.pk")
    page.goto("/admin/")  # wherever staff land after signing in, the journey goes on from the admin
    j.step("administration")

    page.goto("/quotas/")
    j.step("phases")
    page.get_by_role("link", name=phase.name).click()
    page.wait_for_url(f"**/quotas/{phase.slug}/")
    j.step("allocations of the phase")
    with page.expect_navigation():
        page.get_by_role("button", name="Run a new allocation").click()
    assert "Version 1 was computed. Check it below, then publish it." in page.content()
    j.step("allocation preview")
    page.get_by_role("link", name="Publish this version").click()
    page.wait_for_url(f"**/fees/staff/{phase.slug}/v1/publish/")
    j.step("publish confirmation")
    page.locator("input[name=confirm]").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Publish this version").click()
    assert "Version 1 is published: registration now counts against it." in page.content()
    assert Allocation.objects.get().status == Allocation.Status.PUBLISHED
    assert sum(Quota.objects.filter(phase=phase).values_list("licenses", flat=True)) == 100
    j.step("allocation published")

    alumnus, achiever, idle = learners_after_publish(phase=phase, staff=staff)

    page.goto("/admin/fees/alumnipayment/")
    assert "Zara Hussain" in page.locator("#result_list").inner_text()
    j.step("payments in the admin")
    page.locator("input[name=_selected_action]").first.check()
    page.locator("select[name=action]").select_option("verify")
    with page.expect_navigation():
        page.locator("button[name=index]").click()
    assert "1 payment verified." in page.content()
    assert AlumniPayment.objects.get().status == PaymentStatus.VERIFIED
    alumnus.refresh_from_db()
    assert alumnus.cleared_at is not None
    j.step("payment verified")

    page.goto("/fees/completions/")
    j.step("completion report upload")
    today = timezone.localdate()
    started = today - datetime.timedelta(days=60)  # the achiever's license year began then
    report = "\r\n".join(
        [
            HEADER,
            row(email=achiever.email, course="Machine Learning", day=started + datetime.timedelta(days=3)),
            row(email=achiever.email, course="Machine Learning", day=started + datetime.timedelta(days=4)),
            row(email=achiever.email, course="Python for Everybody", day=started + datetime.timedelta(days=9)),
            row(email=achiever.email, course="Financial Markets", day=started + datetime.timedelta(days=30)),
            row(email=idle.email, course="Machine Learning", day=today - datetime.timedelta(days=370)),
            row(email="stranger@example.com", course="Machine Learning", day=started),
        ]
    )
    page.locator("input[name=file]").set_input_files(
        {"name": "usage-report.csv", "mimeType": "text/csv", "buffer": ("\ufeff" + report + "\r\n").encode()}
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Import the report").click()
    # Without a broker the import runs as soon as the upload commits, so the page it leads to
    # shows the finished import: the full bar, no self-refresh, the outcome and the stray row.
    assert "usage-report.csv imported: 4 new completions, 1 rows matched nobody." in page.content()
    bar = page.locator("progress#import-progress")
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("6", "6")
    assert page.get_by_label("Every row of the report was imported.").count() == 1
    assert "6 of 6 rows (100 %)" in page.locator("#import-progress-text").inner_text()
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    assert "stranger@example.com" in page.locator("main").inner_text()
    j.step("completion report progress")

    # A report still waiting for a worker (uploaded through the service, its task not queued):
    # the page keeps itself up to date, and a reader can stop that.
    waiting = completions_upload(
        phase=phase, data=("\ufeff" + report + "\r\n").encode(), filename="later-report.csv", actor=staff, queue=False
    )
    page.goto(f"/fees/completions/{waiting.pk}/")
    assert page.locator("[data-poll]").count() == 1
    j.step("completion report waiting")
    with page.expect_navigation(url="**/?refresh=off"):
        page.get_by_role("link", name="Stop refreshing").click()
    assert page.locator("[data-poll]").count() == 0
    bar = page.locator("progress#import-progress")
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("0", "6")
    assert "0 of 6 rows (0 %)" in page.locator("#import-progress-text").inner_text()
    j.step("completion report waiting, not refreshing")

    # Watched while a worker imports it: the bar reaches the end with nobody touching the page.
    page.goto(f"/fees/completions/{waiting.pk}/")
    completion_import_run(completion_import_id=waiting.pk)
    page.wait_for_selector("text=6 of 6 rows (100 %)", timeout=20_000)
    assert page.get_by_label("Every row of the report was imported.").count() == 1
    assert page.locator("[data-poll]").count() == 0
    j.step("completion report finished while watched")

    page.goto(f"/fees/refunds/?phase={phase.slug}")
    j.step("refund cases")
    with page.expect_navigation():
        page.get_by_role("button", name="Decide refunds").click()
    assert "2 decisions recorded" in page.content() and "1 refunds, 1 forfeits" in page.content()
    decisions = dict(RefundDecision.objects.values_list("nomination__full_name", "decision"))
    assert decisions == {"Adeel Raza": "refund", "Fatima Noor": "forfeit"}
    j.step("refunds decided")

    page.goto(f"/dashboard/?phase={phase.slug}")
    assert page.locator("main svg[role=img]").count() >= 4
    j.step("dashboard")

    page.goto(f"/fees/ledgers/?phase={phase.slug}")
    j.step("ledgers")
    with page.expect_download() as download_info:
        page.locator("a[href*='/fees/ledgers/refund.csv']").first.click()
    ledger = download_info.value
    assert ledger.suggested_filename.endswith(".csv")
    with open(ledger.path(), encoding="utf-8-sig") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    assert any("Adeel Raza" in cells for cells in rows)
    assert not any("Fatima Noor" in cells for cells in rows)
