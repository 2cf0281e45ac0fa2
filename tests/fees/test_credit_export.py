"""Completions for academic credit: a focal person downloads their own university's completions
(CSV and XLSX) for the examinations office; HEC staff download any university's, or all."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from fees.completions import completions_import
from registrations.cnic import cnic_format
from tests.fees.outcomes import outcomes_phase_build, usage_report, usage_row

pytestmark = pytest.mark.django_db

HEADER = ["University", "Full name", "CNIC", "E-mail", "Role", "Course", "Type", "Completion date", "Grade",
          "Certificate URL"]  # fmt: skip


@pytest.fixture
def built(hec_staff, django_capture_on_commit_callbacks):
    return outcomes_phase_build(hec_staff=hec_staff, commit=django_capture_on_commit_callbacks)


def download(client, fmt: str, **params):
    response = client.get(reverse("fees:credit_export_download", args=[fmt]), {"phase": "outcomes", **params})
    assert response.status_code == 200, response.status_code
    return response


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_a_focal_person_downloads_their_universitys_completions_as_csv(client, built):
    client.force_login(built.qau_focal)
    response = download(client, "csv")
    assert response["Content-Disposition"].startswith('attachment; filename="dlsei-outcomes-completions-QAU-')
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    header, *rows = csv_rows(response)
    assert header == HEADER
    q1 = built["q1"]
    assert rows[0] == [
        "QAU", "Learner q1", cnic_format(q1.cnic), "q1@qau.edu.pk", "Student", "Machine Learning", "Course",
        "2021-10-20", "0.98", f"https://coursera.org/verify/{q1.pk}-machine-learning",
    ]  # fmt: skip
    # Every completion of QAU's learners, each course once, every type with its type; nobody else's.
    assert [(row[1], row[5], row[6]) for row in rows] == [
        ("Learner q1", "Machine Learning", "Course"),
        ("Learner q1", "Create a Budget in Sheets", "Guided Project"),
        ("Learner q1", "Python for Everybody", "Course"),
        ("Learner q1", "Excel Skills for Business", "Course"),
        ("Learner q2", "Python for Everybody", "Course"),
        ("Learner q2", "Data Science", "Specialization"),
    ]
    assert {row[0] for row in rows} == {"QAU"}


def test_asking_for_another_university_still_gives_a_focal_person_their_own(client, built):
    client.force_login(built.pu_focal)
    rows = csv_rows(download(client, "csv", university="QAU"))[1:]
    assert {row[0] for row in rows} == {"PU"} and len(rows) == 4


def test_the_xlsx_holds_the_same_rows(client, built):
    client.force_login(built.qau_focal)
    as_csv = csv_rows(download(client, "csv"))
    response = download(client, "xlsx")
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    cells = [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
    assert [row[:7] + row[8:] for row in cells] == [row[:7] + row[8:] for row in as_csv]
    assert cells[1][7].startswith("2021-10-20")  # a real date in Excel


def test_staff_download_one_university_or_all_with_the_alumni(client, built, hec_staff):
    client.force_login(hec_staff)
    pu = csv_rows(download(client, "csv", university="PU"))[1:]
    assert {row[0] for row in pu} == {"PU"} and len(pu) == 4
    everyone = csv_rows(download(client, "csv"))[1:]
    assert len(everyone) == 14  # every completion imported (the unmatched row is nobody's)
    assert [row[1] for row in everyone if row[0] == ""] == ["Learner a1", "Learner a1"]
    assert download(client, "csv").get("Content-Disposition").count("-all-") == 1


def test_a_formula_in_a_report_cell_is_neutralised(client, built, hec_staff):
    usage = usage_report(
        usage_row(built["q3"], "evil", name='=HYPERLINK("http://x","y")', hours="1", when="2022-02-01 08:00:00 UTC")
    )
    completions_import(phase=built.phase, data=usage, filename="evil.csv", actor=hec_staff)
    client.force_login(built.qau_focal)
    rows = csv_rows(download(client, "csv"))
    assert ["Learner q3", '\'=HYPERLINK("http://x","y")'] in [[row[1], row[5]] for row in rows]


def test_the_page_counts_previews_and_links_the_downloads(client, built):
    client.force_login(built.qau_focal)
    html = client.get(reverse("fees:credit_export")).content.decode()
    assert "6 completions by 2 learners." in html
    assert "/fees/credit/completions.csv?phase=outcomes" in html and "/fees/credit/completions.xlsx" in html
    q1 = built["q1"]
    assert f"*****-*****{q1.cnic[10:12]}-{q1.cnic[12]}" in html and cnic_format(q1.cnic) not in html  # masked here
    assert "Learner p1" not in html


def test_only_web_addresses_become_certificate_links(client, built, hec_staff):
    row = usage_row(built["q3"], "python", when="2022-02-01 08:00:00 UTC").replace(
        f"https://coursera.org/verify/{built['q3'].pk}-python", "javascript:alert(1)"
    )
    completions_import(phase=built.phase, data=usage_report(row), filename="odd.csv", actor=hec_staff)
    client.force_login(built.qau_focal)
    html = client.get(reverse("fees:credit_export")).content.decode()
    assert "javascript:" not in html
    assert f'href="https://coursera.org/verify/{built["q1"].pk}-machine-learning"' in html


def test_nothing_imported_yet_says_what_will_appear(client, hec_staff):
    from tests import factories
    from tests.fees.conftest import university_ready

    phase = factories.make_phase(slug="quiet")
    _university, focal = university_ready(phase=phase, code="UET")
    client.force_login(focal)
    html = client.get(reverse("fees:credit_export"), {"phase": "quiet"}).content.decode()
    assert "No completion of this university" in html and "will be listed here" in html
    rows = csv_rows(client.get(reverse("fees:credit_export_download", args=["csv"]), {"phase": "quiet"}))
    assert rows == [HEADER]


def test_who_may_download(client, built):
    url = reverse("fees:credit_export_download", args=["csv"])
    assert client.get(url).status_code == 302
    client.force_login(built.qau_focal)
    assert client.get(reverse("fees:credit_export_download", args=["pdf"])).status_code == 404
    from tests.factories import learner_account

    client.force_login(learner_account(built["q1"]))
    assert client.get(url).status_code == 404
    assert client.get(reverse("fees:credit_export")).status_code == 404
