"""Malformed inputs through the real pages, as the person who would send them.

Every input gets a clear refusal that changes nothing, or is stored safely; never a server error
(the client does not re-raise, so a 500 shows as a 500), never part of a file. Text that looks
like markup is escaped on every page that shows it, and text that a spreadsheet would run as a
formula is neutralised in the exports. The corpus is in tests/dlsei/badinputs.py.
"""

import csv
import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from fees.challans import challan_issue
from fees.deposits import deposit_record
from fees.models import AlumniPayment, Deposit
from registrations.imports import nominations_file_preview
from registrations.models import Disclaimer, Nomination, NominationUpload
from registrations.services import disclaimer_upload, nomination_submit
from tests import factories
from tests.dlsei import badinputs
from tests.factories import alumnus_data, learner_account, pdf_upload, student_data

FILES = badinputs.nomination_files()
DOCUMENTS = badinputs.document_files()
CNIC_RE = re.compile(r"^[0-9]{13}$")
MARKUP = [badinputs.SCRIPT, badinputs.IMG]


@pytest.fixture
def setup(db):
    phase = factories.make_phase(slug="bad-inputs")
    university = factories.make_university(code="BADU")
    factories.make_quota(phase=phase, university=university, licenses=50, disability_reserved=5)
    factories.make_quota(phase=phase, university=None, licenses=50)
    focal = factories.make_focal_person(university=university, email="focal@badu.edu.pk")
    disclaimer_upload(phase=phase, university=university, file=pdf_upload(), actor=focal)
    return phase, university, focal


def signed_in(user) -> Client:
    client = Client()
    client.raise_request_exception = False
    client.force_login(user)
    return client


def counts() -> dict[str, int]:
    return {
        "nominations": Nomination.objects.count(),
        "uploads": NominationUpload.objects.count(),
        "disclaimers": Disclaimer.objects.count(),
        "payments": AlumniPayment.objects.count(),
        "deposits": Deposit.objects.count(),
    }


def page(response) -> str:
    assert response.status_code < 500, response.status_code
    return response.content.decode()


def assert_escaped(html: str, where: str) -> None:
    for markup in MARKUP:
        assert markup not in html, f"unescaped markup on {where}"


def assert_stored_safely() -> None:
    for nomination in Nomination.objects.all():
        assert CNIC_RE.match(nomination.cnic), nomination.cnic
        assert 0 < len(nomination.full_name) <= 200
        assert "\x00" not in nomination.full_name + nomination.email + nomination.phone


# Nomination files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "expectation"), [c[1:] for c in FILES], ids=[c[0] for c in FILES])
def test_a_nominations_file_is_refused_whole_or_previewed_then_committed_whole(setup, name, data, expectation):
    phase, university, focal = setup
    client = signed_in(focal)
    before = counts()
    response = client.post(
        reverse("portal:nominations_upload"), {"file": SimpleUploadedFile(name, data, content_type="text/csv")}
    )
    html = page(response)
    if expectation == "refused":
        assert response.status_code == 400
        assert 'class="errorlist' in html and 'aria-describedby="' in html  # the reason is on the file field
        assert counts() == before
        return

    assert response.status_code == 302, html[:2000]
    upload = NominationUpload.objects.latest("pk")
    preview = client.get(response["Location"])
    assert_escaped(page(preview), "the preview")
    report = nominations_file_preview(phase=phase, university=university, data=data, filename=name)
    assert report.rows, "a previewed file shows its rows"
    expected = report.seated + report.waiting

    confirmed = client.post(reverse("portal:nominations_confirm", kwargs={"upload_id": upload.pk}), follow=True)
    html = page(confirmed)
    added = counts()["nominations"] - before["nominations"]
    assert added == expected, f"{added} of {expected} rows committed"
    assert_stored_safely()
    assert_escaped(html, "the nominee list")  # the admin's list: see the test of every page below


# Documents: signed forms, certificates, transcripts, paid challans -----------------------------------------


def _post_disclaimer(setup, name, data):
    phase, university, focal = setup
    Disclaimer.objects.all().delete()  # the university has not sent its form yet
    before = counts()
    response = signed_in(focal).post(
        reverse("registrations:focal_disclaimer"), {"file": SimpleUploadedFile(name, data)}
    )
    return response, before


def _post_certificate(setup, name, data):
    _phase, _university, focal = setup
    form = nominee_form(disability="on", disability_certificate=SimpleUploadedFile(name, data))
    before = counts()
    return signed_in(focal).post(reverse("registrations:focal_nominee_add"), form), before


def _post_transcript(setup, name, data):
    alumnus = factories.make_user(email="alumna@example.pk")
    before = counts()
    response = signed_in(alumnus).post(
        reverse("registrations:alumni_register"), alumni_form(transcript=SimpleUploadedFile(name, data))
    )
    return response, before


def _post_payment(setup, name, data):
    phase, _university, _focal = setup
    alumnus = factories.make_user(email="payer@example.pk")
    nomination = nomination_submit(
        phase=phase, university=None, data=alumnus_data(90, email=alumnus.email), actor=alumnus,
        transcript=pdf_upload(),
    )  # fmt: skip
    challan_issue(nomination=nomination, actor=alumnus)
    before = counts()
    response = signed_in(alumnus).post(
        reverse("fees:payment_submit"),
        {"paid_challan": SimpleUploadedFile(name, data), "transcript": SimpleUploadedFile("t.pdf", badinputs.PDF)},
    )
    return response, before


ENDPOINTS = {
    "disclaimer": _post_disclaimer,
    "certificate": _post_certificate,
    "transcript": _post_transcript,
    "paid_challan": _post_payment,
}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize(("name", "data"), [c[1:] for c in DOCUMENTS], ids=[c[0] for c in DOCUMENTS])
def test_a_document_that_is_not_what_it_claims_is_refused_and_nothing_changes(setup, endpoint, name, data):
    response, before = ENDPOINTS[endpoint](setup, name, data)
    html = page(response)
    assert response.status_code in (200, 400), response.status_code  # the form again, with the reason
    assert 'class="errorlist' in html and 'aria-describedby="' in html
    assert counts() == before


# Typed forms --------------------------------------------------------------------------------------------


def nominee_form(**changes) -> dict:
    form = {
        "full_name": "Ayesha Khan",
        "cnic": "35202-1234567-1",
        "email": "ayesha@example.edu.pk",
        "phone": "0300 1234567",
        "role": "student",
        "programme_years": "16",
    }
    form.update(changes)
    return form


def alumni_form(**changes) -> dict:
    form = {
        "full_name": "Zara Ahmed",
        "cnic": "61101-1234567-1",
        "phone": "0300 7654321",
        "graduated_from": "Quaid-i-Azam University",
        "degree": "BS Physics",
        "graduation_date": "2020-06-30",
        "transcript": SimpleUploadedFile("transcript.pdf", badinputs.PDF),
    }
    form.update(changes)
    return form


NOMINEE_CASES = badinputs.nominee_forms()
OTHER_DIGITS = {case_id for case_id, _ in badinputs.CNICS_OTHER_DIGITS}


@pytest.mark.parametrize("changes", [c[1] for c in NOMINEE_CASES], ids=[c[0] for c in NOMINEE_CASES])
def test_a_typed_nominee_is_refused_on_the_field_or_stored_safely(setup, changes, request):
    _phase, _university, focal = setup
    client = signed_in(focal)
    before = counts()
    response = client.post(reverse("registrations:focal_nominee_add"), nominee_form(**changes))
    html = page(response)
    assert_escaped(html, "the form page")
    if response.status_code == 400:
        assert counts() == before
        assert 'aria-describedby="' in html and "errorlist" in html  # the reason sits on the field
        return
    assert response.status_code == 302
    assert counts()["nominations"] == before["nominations"] + 1
    assert_stored_safely()
    nomination = Nomination.objects.latest("pk")
    if request.node.callspec.id in OTHER_DIGITS:
        assert nomination.cnic == "3520212345671"
    assert_escaped(page(client.get(reverse("registrations:focal_nominees"))), "the nominee list")


@pytest.mark.parametrize(("case_id", "changes"), [
    ("alumni_name_10000_chars", {"full_name": "Z" * 10_000}),
    ("alumni_degree_10000_chars", {"degree": "D" * 10_000}),
    ("alumni_university_10000_chars", {"graduated_from": "U" * 10_000}),
    ("alumni_cnic_urdu_digits", {"cnic": "۶۱۱۰۱-۱۲۳۴۵۶۷-۱"}),
    ("alumni_cnic_letters", {"cnic": "ABCDE-1234567-1"}),
    ("alumni_date_garbage", {"graduation_date": "30/02/2020<script>"}),
    ("alumni_date_far_future", {"graduation_date": "9999-12-31"}),
    ("alumni_phone_script", {"phone": badinputs.SCRIPT}),
    ("alumni_university_choice_not_a_number", {"graduated_from_choice": "1 OR 1=1"}),
    ("alumni_no_transcript", {"transcript": ""}),
])  # fmt: skip
def test_an_alumni_registration_is_refused_on_the_field_or_stored_safely(setup, case_id, changes):
    client = signed_in(factories.make_user(email="alumnus@example.pk"))
    before = counts()
    response = client.post(reverse("registrations:alumni_register"), alumni_form(**changes))
    html = page(response)
    assert_escaped(html, "the registration form")
    if response.status_code == 400:
        assert counts() == before
        assert "errorlist" in html
        return
    assert response.status_code == 302
    assert counts()["nominations"] == before["nominations"] + 1
    assert_stored_safely()


@pytest.mark.parametrize(("case_id", "form"), [
    ("receipt_script", {"receipt": badinputs.SCRIPT, "paid_on": "2021-09-15"}),
    ("receipt_10000_chars", {"receipt": "R" * 10_000, "paid_on": "2021-09-15"}),
    ("receipt_formula", {"receipt": "=1+1", "paid_on": "2021-09-15"}),
    ("paid_on_garbage", {"receipt": "R-1", "paid_on": "yesterday"}),
    ("paid_on_far_future", {"receipt": "R-1", "paid_on": "9999-12-31"}),
    ("paid_on_missing", {"receipt": "R-1"}),
])  # fmt: skip
def test_a_deposit_is_refused_on_the_field_or_stored_safely(setup, case_id, form):
    phase, university, focal = setup
    nomination = nomination_submit(phase=phase, university=university, data=student_data(80), actor=focal)
    client = signed_in(focal)
    before = counts()
    response = client.post(reverse("fees:deposit_record", kwargs={"nomination_id": nomination.pk}), form)
    assert_escaped(page(response), "the deposit form")
    if counts() == before:
        assert response.status_code in (302, 400)
        follow = client.get(reverse("fees:deposit_record", kwargs={"nomination_id": nomination.pk}))
        assert_escaped(page(follow), "the deposit form")
        return
    assert response.status_code == 302
    deposit = Deposit.objects.get(nomination=nomination)
    assert len(deposit.receipt) <= 50
    assert_escaped(page(client.get(reverse("fees:deposits"))), "the deposits page")


# Escaping on every page, formulas in every export ----------------------------------------------------------


def test_markup_in_every_text_field_is_escaped_on_every_page_that_shows_it(setup):
    phase, university, focal = setup
    script, img = badinputs.SCRIPT, badinputs.IMG
    nominee = nomination_submit(
        phase=phase, university=university, actor=focal,
        data=student_data(70, full_name=script + img, phone=script[:30]),
    )  # fmt: skip
    alumnus = factories.make_user(email="markup@example.pk")
    alumni = nomination_submit(
        phase=phase, university=None, actor=alumnus, transcript=pdf_upload(),
        data=alumnus_data(70, email=alumnus.email, full_name=img + script, degree=script, graduated_from=img),
    )  # fmt: skip
    deposit_record(nomination=nominee, receipt=script[:50], paid_on=datetime.date(2021, 9, 15), actor=focal)
    staff = factories.make_hec_staff()
    pages = [
        (focal, reverse("registrations:focal_nominees")),
        (focal, reverse("registrations:focal_nominee_withdraw", kwargs={"pk": nominee.pk})),
        (focal, reverse("fees:deposits")),
        (focal, reverse("fees:deposit_record", kwargs={"nomination_id": nominee.pk})),
        (learner_account(nominee), reverse("fees:my_license")),
        (learner_account(nominee), reverse("registrations:my_status")),
        (alumnus, reverse("fees:my_license")),
        (alumnus, reverse("registrations:my_status")),
        (alumnus, reverse("registrations:alumni_register")),
        (staff, reverse("admin:registrations_nomination_changelist")),
        (staff, reverse("admin:registrations_nomination_change", args=[nominee.pk])),
        (staff, reverse("admin:registrations_nomination_change", args=[alumni.pk])),
        (staff, reverse("admin:registrations_invitation_changelist")),
        (staff, reverse("admin:fees_deposit_changelist")),
        (staff, reverse("admin:fees_challan_changelist")),
        (staff, reverse("admin:audit_auditentry_changelist")),
    ]
    for user, url in pages:
        response = signed_in(user).get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert_escaped(html, url)
    nominees_page = signed_in(focal).get(reverse("registrations:focal_nominees")).content.decode()
    assert "&lt;script&gt;alert(" in nominees_page  # shown as text, not dropped


def _cells_csv(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def test_exports_neutralise_formulas(setup):
    phase, university, focal = setup
    dangerous = ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"]
    for n, name in enumerate(dangerous):
        nominee = nomination_submit(
            phase=phase, university=university, actor=focal, data=student_data(60 + n, full_name=name)
        )
        deposit_record(nomination=nominee, receipt=f"R-{n}", paid_on=datetime.date(2021, 9, 15), actor=focal)
    university.name = "=1+1 University"
    university.save(update_fields=["name"])
    staff = factories.make_hec_staff()
    client = signed_in(staff)

    from registrations.models import Invitation

    invitations = list(Invitation.objects.values_list("pk", flat=True))
    assert len(invitations) == len(dangerous)  # cleared by their deposits
    coursera = client.post(
        reverse("admin:registrations_invitation_changelist"),
        {"action": "download_coursera_csv", "_selected_action": invitations},
    )
    assert coursera.status_code == 200
    utilisation_csv = client.get(reverse("registrations:staff_utilisation_export", args=[phase.slug, "csv"]))
    utilisation_xlsx = client.get(reverse("registrations:staff_utilisation_export", args=[phase.slug, "xlsx"]))
    ledger = reverse("fees:ledger_download", args=["pending", "csv"]) + f"?phase={phase.slug}"
    ledger_xlsx = reverse("fees:ledger_download", args=["pending", "xlsx"]) + f"?phase={phase.slug}"
    cells = _cells_csv(coursera.content) + _cells_csv(utilisation_csv.content) + _cells_csv(client.get(ledger).content)
    for workbook in (utilisation_xlsx.content, client.get(ledger_xlsx).content):
        book = load_workbook(io.BytesIO(workbook))
        cells += [str(c.value) for row in book.active.iter_rows() for c in row if isinstance(c.value, str)]
    assert sum(cell.startswith("'@SUM") for cell in cells) == 3  # the name in the Coursera CSV and both ledgers
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)
    assert any(cell.startswith("'=1+1 University") for cell in cells)
    for cell in cells:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        assert not (cell.startswith("-") and not re.fullmatch(r"-[0-9.]+", cell)), cell


def test_the_corpus_has_at_least_a_hundred_inputs():
    documents = len(DOCUMENTS) * len(ENDPOINTS)
    assert len(FILES) + documents + len(NOMINEE_CASES) + 16 >= 100


@pytest.mark.parametrize("changes", [c[1] for c in badinputs.MUST_REFUSE], ids=[c[0] for c in badinputs.MUST_REFUSE])
def test_hidden_characters_and_impossible_cnics_are_refused_on_the_field(setup, changes):
    _phase, _university, focal = setup
    client = signed_in(focal)
    before = counts()
    response = client.post(reverse("registrations:focal_nominee_add"), nominee_form(**changes))
    assert response.status_code == 400
    assert counts() == before
    html = page(response)
    # Nothing of it is shown as text (the input keeps what was typed, to correct it).
    shown = re.sub(r'value="[^"]*"', "", html)
    assert "errorlist" in html and "\u202e" not in shown and "\u2067" not in shown


@pytest.mark.parametrize("typed", [c[1] for c in badinputs.DATES_REFUSED], ids=[c[0] for c in badinputs.DATES_REFUSED])
def test_a_graduation_date_outside_the_convention_or_the_years_is_refused(setup, typed):
    client = signed_in(factories.make_user(email="alumnus@example.pk"))
    before = counts()
    response = client.post(reverse("registrations:alumni_register"), alumni_form(graduation_date=typed))
    assert response.status_code == 400 and counts() == before
    html = page(response)
    assert "is not a date" in html or "outside the years" in html or "in the future" in html


def test_a_day_first_graduation_date_is_read_day_first(setup):
    client = signed_in(factories.make_user(email="alumnus@example.pk"))
    response = client.post(reverse("registrations:alumni_register"), alumni_form(graduation_date="02/03/2020"))
    assert response.status_code == 302
    assert Nomination.objects.latest("pk").graduation_date == datetime.date(2020, 3, 2)  # 2 March, not 3 February


def test_a_body_larger_than_the_page_takes_is_refused_unread(setup):
    _phase, _university, focal = setup
    client = signed_in(focal)
    before = counts()
    huge = "x" * (13 * 1024 * 1024)  # REQUEST_BODY_MAX_BYTES is 12 MiB
    response = client.post(reverse("registrations:focal_nominee_add"), nominee_form(full_name=huge))
    assert response.status_code == 413
    assert "this page takes at most 12 MB" in page(response).replace("\xa0", " ") or "at most" in page(response)
    assert counts() == before


def test_spreadsheet_downloads_are_never_cached(setup, hec_staff):
    phase, _university, focal = setup
    downloads = [
        (hec_staff, reverse("registrations:staff_utilisation_export", args=[phase.slug, "csv"])),
        (hec_staff, reverse("registrations:staff_utilisation_export", args=[phase.slug, "xlsx"])),
        (focal, reverse("registrations:focal_template", args=["xlsx"])),
        (focal, reverse("registrations:focal_template", args=["csv"])),
    ]
    for who, url in downloads:
        response = signed_in(who).get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url


def test_the_admin_export_neutralises_every_formula(setup, hec_staff):
    from fees.models import CompletionImport, CourseCompletion

    phase, _university, _focal = setup
    nomination = factories.make_seated_nomination(phase=phase)
    record = CompletionImport.objects.create(phase=phase, filename="r.csv")
    for n, name in enumerate(['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"]):
        CourseCompletion.objects.create(
            nomination=nomination, course_key=f"c{n}", course_name=name, course_type="Course",
            completed_at=timezone.now(), completed_on=timezone.localdate(), first_seen_import=record,
        )  # fmt: skip
    client = signed_in(hec_staff)
    url = reverse("admin:fees_coursecompletion_export")
    for fmt, reader in ((0, "csv"), (1, "xlsx")):
        response = client.post(url, {"format": str(fmt), "resource": "0", "coursecompletionresource_course_name": "on"})
        assert response.status_code == 200, response.content[:300]
        assert response["Cache-Control"] == "private, no-store"
        if reader == "csv":
            cells = [row[0] for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))][1:]
        else:
            sheet = load_workbook(io.BytesIO(response.content)).active
            cells = [cell.value for cell in sheet["A"]][1:]
            assert all(cell.data_type == "s" for cell in sheet["A"])  # text, never a formula
        assert cells and all(str(cell).startswith("'") for cell in cells), cells


def test_the_admin_change_pages_of_a_challan_and_a_disability_seat_mask_the_cnic(setup, hec_staff):
    from fees.challans import challan_issue
    from registrations.models import Nomination

    phase, university, focal = setup
    alumnus = factories.alumnus_register(phase=phase, data=factories.alumnus_data(cnic="61101-2345678-9"))
    challan = challan_issue(nomination=alumnus, actor=factories.learner_account(alumnus))
    seat = factories.make_seated_nomination(
        phase=phase, university=university, seat_kind="disability", cnic="3520198765432"
    )
    client = signed_in(hec_staff)
    challan_page = page(client.get(reverse("admin:fees_challan_change", args=[challan.pk])))
    assert "6110123456789" not in challan_page and "61101-2345678-9" not in challan_page
    assert "*****-*****78-9" in challan_page
    seat_page = page(client.get(reverse("admin:fees_disabilityseat_change", args=[seat.pk])))
    assert "3520198765432" not in seat_page and "*****-*****43-2" in seat_page
    assert Nomination.objects.filter(pk=seat.pk).exists()
