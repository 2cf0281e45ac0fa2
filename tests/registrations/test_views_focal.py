"""The focal person's pages, through the test client, as a focal person uses them."""

import csv
import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import AuditEntry
from quotas.models import Quota
from registrations.models import Disclaimer, Nomination, NominationStatus, NominationUpload
from registrations.services import NomineeData, disclaimer_upload, nomination_submit
from tests import factories
from tests.factories import NOMINATIONS_FILE_HEADER as HEADER
from tests.factories import PDF


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def university(db):
    return factories.make_university(code="QAU")


@pytest.fixture
def quota(phase, university):
    return factories.make_quota(phase=phase, university=university, licenses=3, disability_reserved=1)


@pytest.fixture
def focal(university):
    return factories.make_focal_person(university=university, email="focal@qau.edu.pk")


@pytest.fixture
def ready(client, phase, quota, focal, university):
    """A signed-in focal person whose university's disclaimer is on file."""
    disclaimer_upload(phase=phase, university=university, file=SimpleUploadedFile("form.pdf", PDF), actor=focal)
    client.force_login(focal)
    return client


def person(n: int, **fields) -> NomineeData:
    values = {
        "full_name": f"Student {n}",
        "cnic": f"35201-{1000000 + n:07d}-{n % 10}",
        "email": f"student{n}@qau.edu.pk",
        "phone": "",
        "role": "student",
        "programme_years": 16,
    }
    values.update(fields)
    return NomineeData(**values)


def nominate(phase, university, focal, n: int, **fields) -> Nomination:
    return nomination_submit(phase=phase, university=university, data=person(n, **fields), actor=focal)


# Who may see the pages -------------------------------------------------------------------------


FOCAL_PAGES = [
    ("registrations:focal_dashboard", []),
    ("registrations:focal_nominees", []),
    ("registrations:focal_nominee_add", []),
    ("portal:nominations_upload", []),
    ("registrations:focal_template", ["csv"]),
    ("registrations:focal_template", ["xlsx"]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "args"), FOCAL_PAGES)
def test_signed_out_people_are_asked_to_sign_in(client, phase, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "args"), FOCAL_PAGES)
def test_people_who_are_not_focal_persons_find_nothing(client, phase, name, args):
    client.force_login(factories.make_user())
    response = client.get(reverse(name, args=args))
    assert response.status_code == 404
    # Not a bare "not found": what the page is for, and the person's own page.
    assert "This page is for a university's focal person" in text(response)
    assert reverse("fees:my_license") in text(response)


@pytest.mark.django_db
def test_hec_staff_on_a_focal_page_are_told_where_to_go_instead(client, phase, hec_staff):
    client.force_login(hec_staff)
    response = client.get(reverse("registrations:focal_nominees"))
    assert response.status_code == 404
    page = text(response)
    assert "You are signed in as HEC staff." in page
    assert reverse("registrations:staff_utilisation", args=[phase.slug]) in page
    assert reverse("admin:registrations_nomination_changelist") in page


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "args"), FOCAL_PAGES)
def test_every_page_sends_to_the_disclaimer_until_it_is_on_file(client, phase, quota, focal, name, args):
    client.force_login(focal)
    response = client.get(reverse(name, args=args), follow=True)
    assert response.redirect_chain == [(reverse("registrations:focal_disclaimer"), 302)]
    page = text(response)
    assert "Please upload your university's signed disclaimer form first" in page
    assert "HEC accepts nominations from a university only once its signed form is on file" in page


@pytest.mark.django_db
def test_nothing_can_be_added_before_the_disclaimer(client, phase, quota, focal):
    client.force_login(focal)
    response = client.post(reverse("registrations:focal_nominee_add"), person_form(1))
    assert response.status_code == 302
    assert response["Location"] == reverse("registrations:focal_disclaimer")
    assert not Nomination.objects.exists()


# The disclaimer --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "name", "says"),
    [
        (b"<html>not a pdf</html>", "form.pdf", "This file is not a PDF"),
        (PDF[:-7], "form.pdf", "This file is incomplete"),
        (b"", "form.pdf", "The submitted file is empty."),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 20, "scan.png", "This file is not a PDF: its content is a PNG image."),
    ],
)
def test_a_bad_disclaimer_is_refused_with_a_reason(client, phase, quota, focal, content, name, says):
    client.force_login(focal)
    response = client.post(reverse("registrations:focal_disclaimer"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    page = text(response)
    assert says in page
    assert 'aria-describedby="id_file_helptext id_file_error"' in page
    assert not Disclaimer.objects.exists()


@pytest.mark.django_db
def test_the_disclaimer_page_offers_the_blank_form_with_the_universitys_name(client, phase, quota, focal, university):
    from tests.fees.conftest import pdf_text

    client.force_login(focal)
    page = client.get(reverse("registrations:focal_disclaimer")).content.decode()
    link = reverse("registrations:focal_disclaimer_form")
    assert f'href="{link}">Blank disclaimer form (PDF)</a>' in page
    response = client.get(link)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="dlsei-disclaimer-{university.code.lower()}.pdf"'
    pages, words = pdf_text(response.content)
    assert pages >= 1
    assert university.name in words and phase.name in words
    assert "Name of the signatory" in words
    assert not Disclaimer.objects.exists()  # downloading the blank form files nothing


@pytest.mark.django_db
def test_the_signed_disclaimer_opens_the_other_pages(client, phase, quota, focal, university):
    client.force_login(focal)
    response = client.post(
        reverse("registrations:focal_disclaimer"), {"file": SimpleUploadedFile("form.pdf", PDF)}, follow=True
    )
    assert response.redirect_chain == [(reverse("registrations:focal_dashboard"), 302)]
    assert "the signed disclaimer form is on file. You can now nominate." in text(response)
    disclaimer = Disclaimer.objects.get()
    assert disclaimer.university == university and disclaimer.uploaded_by == focal
    assert client.get(reverse("registrations:focal_nominees")).status_code == 200


# The dashboard ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_shows_the_quota_at_a_glance(ready, phase, university, focal):
    for n in range(1, 5):  # 2 general seats, 1 reserved (unused), so 2 seated and 2 waiting
        nominate(phase, university, focal, n)
    page = text(ready.get(reverse("registrations:focal_dashboard")))
    assert university.name in page
    assert "2 of 3 licenses taken (67 %)" in page  # the bar's text alternative
    assert '<rect x="0" y="0" width="67" height="10"' in page
    rows = {
        "Licenses allocated": "3",
        "Seats taken": "2",
        "Free general seats": "0",
        "Free seats reserved for students with disabilities": "1",
        "On the waiting list": "2",
        "Reserved seats for students with disabilities used": "0 of 1",
    }
    for label, value in rows.items():
        assert f'<th scope="row">{label}</th><td class="num">{value}</td>' in page
    # Free seats beside a waiting list: the page says why nobody on the list takes them.
    assert "The free seat is reserved for a student with a disability: only such a nominee can take it." in page


@pytest.mark.django_db
def test_dashboard_before_the_allocation_is_published(client, phase, university, focal):
    disclaimer_upload(phase=phase, university=university, file=SimpleUploadedFile("form.pdf", PDF), actor=focal)
    client.force_login(focal)
    page = text(client.get(reverse("registrations:focal_dashboard")))
    assert "HEC has not published your university's allocation for this phase yet" in page


# Adding and withdrawing one nominee -------------------------------------------------------------


def person_form(n: int, **fields) -> dict:
    data = {
        "full_name": f"Student {n}",
        "cnic": f"35201-{1000000 + n:07d}-{n % 10}",
        "email": f"Student{n}@QAU.edu.pk",
        "phone": "0300-0000000",
        "role": "student",
        "programme_years": "16",
    }
    data.update(fields)
    return data


@pytest.mark.django_db
def test_add_a_nominee_who_takes_a_seat(ready, phase, university):
    response = ready.post(reverse("registrations:focal_nominee_add"), person_form(1), follow=True)
    assert response.redirect_chain == [(reverse("registrations:focal_nominees"), 302)]
    assert "Student 1 is nominated and has a seat." in text(response)
    nomination = Nomination.objects.get()
    assert nomination.status == NominationStatus.SEATED
    assert nomination.cnic == "3520110000011"
    assert nomination.email == "student1@qau.edu.pk"
    assert nomination.university == university
    assert "*****-*****01-1" in text(response)
    assert "3520110000011" not in text(response)


@pytest.mark.django_db
def test_a_nominee_with_a_certificate_takes_a_reserved_seat(ready, phase, university):
    data = person_form(1, disability="on", disability_certificate=SimpleUploadedFile("certificate.pdf", PDF))
    ready.post(reverse("registrations:focal_nominee_add"), data)
    nomination = Nomination.objects.get()
    assert nomination.seat_kind == "disability"
    assert nomination.disability_certificate
    assert Quota.objects.get(university=university).disability_seated == 1


@pytest.mark.django_db
def test_add_when_the_quota_is_full_goes_to_the_waiting_list(ready, phase, university, focal):
    nominate(phase, university, focal, 1)
    nominate(phase, university, focal, 2)
    response = ready.post(reverse("registrations:focal_nominee_add"), person_form(3), follow=True)
    assert "Student 3 is nominated and is on the waiting list: every seat of your quota is taken." in text(response)
    assert Nomination.objects.get(full_name="Student 3").status == NominationStatus.WAITING


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"cnic": "35201-123456"}, "cnic", "This number is too short: it has 11 of the 13 digits."),
        ({"cnic": "3520I-1234567-1"}, "cnic", "A CNIC or B-form number has no letters."),
        ({"programme_years": "14"}, "programme_years", "Only students of a programme of 16 years of education or more"),
        ({"programme_years": ""}, "programme_years", "Give the years of education of the student's programme"),
        ({"role": "faculty", "programme_years": "16"}, "programme_years", "Leave this blank for faculty members."),
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        (
            {"disability_certificate": SimpleUploadedFile("c.pdf", b"GIF89a")},
            "disability_certificate",
            "This file is not a PDF, PNG or JPEG image",
        ),
    ],
)
def test_ineligible_nominees_are_refused_on_the_field(ready, phase, fields, field, says):
    response = ready.post(reverse("registrations:focal_nominee_add"), person_form(1, **fields))
    assert response.status_code == 400
    page = text(response)
    assert says in page
    assert f'id="id_{field}_error"' in page
    assert "Please correct what is marked below; nothing has been saved yet." in page
    assert not Nomination.objects.exists()


@pytest.mark.django_db
def test_the_same_person_twice_is_refused_without_naming_another_university(client, phase, quota, university):
    other = factories.make_university(code="PU")
    factories.make_quota(phase=phase, university=other, licenses=5)
    other_focal = factories.make_focal_person(university=other)
    disclaimer_upload(phase=phase, university=other, file=SimpleUploadedFile("f.pdf", PDF), actor=other_focal)
    nominate(phase, other, other_focal, 1, full_name="Someone Elsewhere")

    focal = factories.make_focal_person(university=university)
    disclaimer_upload(phase=phase, university=university, file=SimpleUploadedFile("f.pdf", PDF), actor=focal)
    client.force_login(focal)
    response = client.post(reverse("registrations:focal_nominee_add"), person_form(1, email="fresh@qau.edu.pk"))
    assert response.status_code == 400
    page = text(response)
    assert "This CNIC is already registered in this phase through another university or the alumni pool." in page
    assert 'id="id_cnic_error"' in page
    # The other university by name or code anywhere on the page (not inside a random CSRF token).
    visible = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
    assert "Someone Elsewhere" not in visible and "University PU" not in visible
    assert not re.search(r"\bPU\b", visible)
    assert Nomination.objects.count() == 1


@pytest.mark.django_db
def test_withdraw_asks_for_a_reason_then_frees_the_seat_for_the_waiting_list(ready, phase, university, focal):
    first = nominate(phase, university, focal, 1)
    nominate(phase, university, focal, 2)
    waiting = nominate(phase, university, focal, 3)
    assert waiting.status == NominationStatus.WAITING
    url = reverse("registrations:focal_nominee_withdraw", args=[first.pk])

    confirm = ready.get(url)
    assert confirm.status_code == 200
    assert "Withdraw the nomination of Student 1?" in text(confirm)
    assert "*****-*****01-1" in text(confirm)
    first.refresh_from_db()
    assert first.status == NominationStatus.SEATED  # a GET changes nothing

    no_reason = ready.post(url, {"reason": "  "})
    assert no_reason.status_code == 400
    assert 'id="id_reason_error"' in text(no_reason)

    done = ready.post(url, {"reason": "Left the university"}, follow=True)
    assert "The nomination of Student 1 is withdrawn." in text(done)
    first.refresh_from_db()
    waiting.refresh_from_db()
    assert first.status == NominationStatus.WITHDRAWN
    assert first.status_reason == "Left the university"
    assert waiting.status == NominationStatus.SEATED
    assert AuditEntry.objects.filter(action="nomination.withdraw", actor=focal).exists()

    again = ready.post(url, {"reason": "twice"}, follow=True)
    assert "Student 1 cannot be withdrawn: the nomination is already withdrawn." in text(again)


@pytest.mark.django_db
def test_another_universitys_nominee_is_not_found(ready, phase, university):
    other = factories.make_university(code="PU")
    factories.make_quota(phase=phase, university=other, licenses=5)
    other_focal = factories.make_focal_person(university=other)
    disclaimer_upload(phase=phase, university=other, file=SimpleUploadedFile("f.pdf", PDF), actor=other_focal)
    theirs = nominate(phase, other, other_focal, 7, full_name="Not Yours")

    url = reverse("registrations:focal_nominee_withdraw", args=[theirs.pk])
    assert ready.get(url).status_code == 404
    assert ready.post(url, {"reason": "mischief"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == NominationStatus.SEATED
    assert "Not Yours" not in text(ready.get(reverse("registrations:focal_nominees")))


# The list ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_filters_by_status_role_and_search(ready, phase, university, focal):
    nominate(phase, university, focal, 1, full_name="Ayesha Siddiqui")
    nominate(phase, university, focal, 2, full_name="Bilal Ahmed", role="faculty", programme_years=None)
    nominate(phase, university, focal, 3, full_name="Chaudhry Waiting")
    url = reverse("registrations:focal_nominees")

    def names(**query) -> set[str]:
        page = text(ready.get(url, query))
        return {n for n in ("Ayesha Siddiqui", "Bilal Ahmed", "Chaudhry Waiting") if n in page}

    assert names() == {"Ayesha Siddiqui", "Bilal Ahmed", "Chaudhry Waiting"}
    assert names(status="waiting") == {"Chaudhry Waiting"}
    assert names(status="seated") == {"Ayesha Siddiqui", "Bilal Ahmed"}
    assert names(role="faculty") == {"Bilal Ahmed"}
    assert names(q="ayesha") == {"Ayesha Siddiqui"}
    assert names(q="student2@qau") == {"Bilal Ahmed"}
    assert names(q="35201-1000003-3") == {"Chaudhry Waiting"}
    assert names(q="3520110000033") == {"Chaudhry Waiting"}
    assert names(status="nonsense") == {"Ayesha Siddiqui", "Bilal Ahmed", "Chaudhry Waiting"}
    page = text(ready.get(url))
    assert "*****-*****00-1" not in page  # sanity of the mask format below
    assert "*****-*****01-1" in page and "3520110000011" not in page
    assert "3 nominees found." in page


@pytest.mark.django_db
def test_list_pages_by_fifty_with_a_constant_number_of_queries(ready, phase, university, focal):
    url = reverse("registrations:focal_nominees")
    for _ in range(3):
        factories.make_seated_nomination(phase=phase, university=university, submitted_by=focal)
    with CaptureQueriesContext(connection) as few:
        assert ready.get(url).status_code == 200
    for _ in range(120):
        factories.make_seated_nomination(phase=phase, university=university, submitted_by=focal)
    with CaptureQueriesContext(connection) as many:
        first = ready.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
    page = text(first)
    assert "123 nominees found." in page
    assert "Page 1 of 3" in page
    assert page.count("Withdraw<span") == 50
    last = text(ready.get(url, {"page": "3"}))
    assert last.count("Withdraw<span") == 23
    assert ready.get(url, {"page": "not-a-number"}).status_code == 200


# The template and the nominations file ----------------------------------------------------------


@pytest.mark.django_db
def test_template_downloads(ready):
    csv_response = ready.get(reverse("registrations:focal_template", args=["csv"]))
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_response["Content-Disposition"] == 'attachment; filename="dlsei-nominations-template.csv"'
    header = next(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert ",".join(header) == HEADER

    xlsx_response = ready.get(reverse("registrations:focal_template", args=["xlsx"]))
    assert xlsx_response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert xlsx_response["Content-Disposition"] == 'attachment; filename="dlsei-nominations-template.xlsx"'
    sheet = load_workbook(io.BytesIO(xlsx_response.content)).worksheets[0]
    assert [cell.value for cell in sheet[1]] == HEADER.split(",")

    assert ready.get("/registrations/focal/template.exe").status_code == 404


@pytest.mark.django_db
def test_the_templates_example_row_uploaded_unedited_is_refused_and_never_saved(ready, phase, university):
    template = ready.get(reverse("registrations:focal_template", args=["csv"])).content
    edited = template.decode("utf-8-sig") + "Bilal Ahmed,35201-1000002-2,bilal@qau.edu.pk,,faculty,,no,,\n"
    response = ready.post(
        reverse("portal:nominations_upload"), {"file": SimpleUploadedFile("list.csv", edited.encode())}, follow=True
    )
    page = text(response)
    assert "This is the template's example row: replace it with a real nominee or delete it." in page
    assert "1 would be refused" in page
    upload = NominationUpload.objects.get()
    ready.post(reverse("portal:nominations_confirm", args=[upload.pk]), follow=True)
    assert list(Nomination.objects.values_list("full_name", flat=True)) == ["Bilal Ahmed"]


def _file(rows: list[str], name: str = "list.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join([HEADER, *rows]) + "\n").encode())


@pytest.mark.django_db
def test_upload_shows_every_row_with_its_outcome_then_confirm_commits(ready, phase, university, focal):
    rows = [
        "Ayesha Siddiqui,35201-1000001-1,ayesha@qau.edu.pk,,student,16,no,,",
        "Bilal Ahmed,35201-1000002-2,bilal@qau.edu.pk,,faculty,,no,,",
        "Too Short,35201-1000003-3,short@qau.edu.pk,,student,14,no,,",
        "Chaudhry Third,35201-1000004-4,third@qau.edu.pk,,student,18,no,,",
        "Bad Number,12345,bad@qau.edu.pk,,student,16,no,,",
    ]
    response = ready.post(reverse("portal:nominations_upload"), {"file": _file(rows)}, follow=True)
    upload = NominationUpload.objects.get()
    assert response.redirect_chain == [(reverse("portal:nominations_preview", args=[upload.pk]), 302)]
    page = text(response)
    assert "5 rows in the file:" in page
    assert "2 would take a seat" in page
    assert "1 would go on the waiting list" in page
    assert "2 would be refused" in page
    for name in ("Ayesha Siddiqui", "Bilal Ahmed", "Too Short", "Chaudhry Third", "Bad Number"):
        assert name in page
    assert "Only students of a programme of 16 years of education or more" in page
    assert "This number is too short" in page
    assert reverse("portal:nominations_confirm", args=[upload.pk]) in page
    assert not Nomination.objects.exists()  # a preview changes nothing

    confirmed = ready.post(reverse("portal:nominations_confirm", args=[upload.pk]), follow=True)
    # Rows were refused: the file's page, which offers them for download with their reasons.
    assert confirmed.redirect_chain[-1][0] == reverse("portal:nominations_preview", args=[upload.pk])
    assert "The file is confirmed: 2 nominated with a seat, 1 on the waiting list, 2 refused." in text(confirmed)
    assert "2 rows of this file were refused." in text(confirmed)
    refused_csv = ready.get(reverse("portal:nominations_refused_rows", args=[upload.pk, "csv"]))
    assert refused_csv["Content-Disposition"] == f'attachment; filename="dlsei-refused-rows-{upload.pk}.csv"'
    table = list(csv.reader(io.StringIO(refused_csv.content.decode("utf-8-sig"))))
    assert table[0] == [*HEADER.split(","), "reason"]
    assert [line[0] for line in table[1:]] == ["Too Short", "Bad Number"]
    assert "Only students of a programme of 16 years of education or more" in table[1][-1]
    assert "This number is too short" in table[2][-1]
    refused_xlsx = ready.get(reverse("portal:nominations_refused_rows", args=[upload.pk, "xlsx"]))
    sheet = load_workbook(io.BytesIO(refused_xlsx.content)).worksheets[0]
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == ["Too Short", "Bad Number"]
    # The corrected rows, uploaded again, are checked like any file.
    again = table[1][:-1]
    again[5] = "16"
    ready.post(reverse("portal:nominations_upload"), {"file": _file([",".join(again)], name="again.csv")})
    assert NominationUpload.objects.count() == 2
    statuses = dict(Nomination.objects.values_list("full_name", "status"))
    assert statuses == {"Ayesha Siddiqui": "seated", "Bilal Ahmed": "seated", "Chaudhry Third": "waiting"}

    twice = ready.post(reverse("portal:nominations_confirm", args=[upload.pk]), follow=True)
    assert "This file was already confirmed" in text(twice)
    assert Nomination.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "name", "says"),
    [
        (b"name,email\nA,a@b.pk\n", "list.csv", "Row 1 lacks these required columns"),
        ("full_name,cnic\nZoë,1\n".encode("utf-16"), "list.csv", "This file is not saved as UTF-8 text"),
        (b"", "list.csv", "The submitted file is empty."),
        ((HEADER + "\n").encode(), "list.csv", "This file has column names but no rows of data."),
        (b"PK\x03\x04 not really a workbook", "list.xlsx", "not an Excel workbook"),
    ],
)
def test_bad_files_are_refused_whole_and_nothing_changes(ready, content, name, says):
    response = ready.post(reverse("portal:nominations_upload"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    page = text(response)
    assert says in page
    assert 'id="id_file_error"' in page
    assert not NominationUpload.objects.exists()
    assert not Nomination.objects.exists()


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused(ready, settings):
    settings.NOMINATIONS_FILE_MAX_BYTES = 1024
    big = _file([f"Person {n},35201-{1000000 + n:07d}-1,p{n}@qau.edu.pk,,student,16,no,," for n in range(60)])
    response = ready.post(reverse("portal:nominations_upload"), {"file": big})
    assert response.status_code == 400
    assert "the largest accepted is 1 KB" in text(response)
    assert not NominationUpload.objects.exists()


@pytest.mark.django_db
def test_another_universitys_upload_cannot_be_seen_or_confirmed(ready, phase):
    other = factories.make_university(code="PU")
    factories.make_quota(phase=phase, university=other, licenses=5)
    other_focal = factories.make_focal_person(university=other)
    disclaimer_upload(phase=phase, university=other, file=SimpleUploadedFile("f.pdf", PDF), actor=other_focal)
    from django.test import Client

    theirs = Client()
    theirs.force_login(other_focal)
    theirs.post(
        reverse("portal:nominations_upload"),
        {"file": _file(["Ayesha Siddiqui,35201-1000001-1,ayesha@pu.edu.pk,,student,16,no,,"])},
    )
    upload = NominationUpload.objects.get()
    assert ready.get(reverse("portal:nominations_preview", args=[upload.pk])).status_code == 404
    assert ready.post(reverse("portal:nominations_confirm", args=[upload.pk])).status_code == 404
    assert not Nomination.objects.exists()


@pytest.mark.django_db
def test_home_sends_each_signed_in_person_to_their_own_page(client, phase, focal, hec_staff):
    client.force_login(focal)
    assert client.get(reverse("home"))["Location"] == reverse("registrations:focal_dashboard")
    client.force_login(hec_staff)
    assert client.get(reverse("home"))["Location"] == reverse("dashboard")
    client.force_login(factories.make_user(email="new.alumnus@example.pk"))
    assert client.get(reverse("home"))["Location"] == reverse("registrations:alumni_register")
    client.logout()
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_adding_before_the_allocation_is_published_says_why(client, phase, university, focal):
    disclaimer_upload(phase=phase, university=university, file=SimpleUploadedFile("form.pdf", PDF), actor=focal)
    client.force_login(focal)
    response = client.post(reverse("registrations:focal_nominee_add"), person_form(1))
    assert response.status_code == 400
    assert "has no licenses in" in text(response) and "HEC has not published its allocation" in text(response)
    assert not Nomination.objects.exists()


@pytest.mark.django_db
def test_adding_after_registration_closed_says_when_it_closed(ready, phase):
    from django.utils import timezone

    phase.registration_closes_at = timezone.now() - timezone.timedelta(days=1)
    phase.save(update_fields=["registration_closes_at"])
    response = ready.post(reverse("registrations:focal_nominee_add"), person_form(1))
    assert response.status_code == 400
    assert f"Registration for {phase.name} closed on" in text(response)
    assert not Nomination.objects.exists()


@pytest.mark.django_db
def test_a_preview_whose_file_went_missing_asks_for_it_again(ready):
    ready.post(
        reverse("portal:nominations_upload"),
        {"file": _file(["Ayesha Siddiqui,35201-1000001-1,ayesha@qau.edu.pk,,student,16,no,,"])},
    )
    upload = NominationUpload.objects.get()
    upload.file.storage.delete(upload.file.name)
    response = ready.get(reverse("portal:nominations_preview", args=[upload.pk]), follow=True)
    assert response.redirect_chain == [(reverse("portal:nominations_upload"), 302)]
    assert "This file is no longer on the server; please upload it again." in text(response)
