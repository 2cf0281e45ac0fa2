"""HEC staff pages with people counts: utilisation (with waiting lists, chart, exports) and license moves."""

import csv
import io
import re

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from quotas.models import LicenseMove, Quota, University
from registrations.models import Nomination, NominationStatus
from registrations.services import nomination_submit
from tests import factories
from tests.factories import student_data as student


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def row_cells(page: str, heading: str) -> list[str]:
    """The cells of the table row whose row header is ``heading`` (first match)."""
    start = page.index(f'<th scope="row">{heading}</th>')
    row = page[start : page.index("</tr>", start)]
    return [re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


@pytest.fixture
def staff_client(client, hec_staff):
    client.force_login(hec_staff)
    return client


@pytest.fixture
def busy(phase, university, focal, quota, other_university, other_focal, other_quota, pool):
    """QAU: 3 licenses, 3 seated and 2 waiting. PU: 3 licenses, 1 seated. Alumni pool: 2 licenses.
    A phase of small universities: no least number of licenses per university, no reserve."""
    factories.small_universities(phase)
    for _ in range(5):
        nomination_submit(phase=phase, university=university, data=student(), actor=focal)
    nomination_submit(phase=phase, university=other_university, data=student(), actor=other_focal)


def urls(phase) -> list[str]:
    return [
        reverse("registrations:staff_utilisation", args=[phase.slug]),
        reverse("registrations:staff_utilisation_export", args=[phase.slug, "csv"]),
        reverse("registrations:staff_utilisation_export", args=[phase.slug, "xlsx"]),
        reverse("fees:staff_license_moves", args=[phase.slug]),
    ]


# Who may come in ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in_and_focal_persons_refused(client, phase, focal, quota, other_quota):
    for url in urls(phase):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login")), url

    client.force_login(focal)
    for url in urls(phase):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "This page is for HEC staff" in response.content.decode()
    refused = client.post(
        reverse("fees:staff_license_moves", args=[phase.slug]),
        {
            "from_university": other_quota.university_id,
            "to_university": quota.university_id,
            "licenses": 1,
            "reason": "x",
        },
    )
    assert refused.status_code == 403
    assert not LicenseMove.objects.exists()


# Utilisation ------------------------------------------------------------------------------------


def test_staff_see_every_pool_and_university_with_seated_waiting_and_free(staff_client, phase, busy):
    response = staff_client.get(reverse("registrations:staff_utilisation", args=[phase.slug]))

    assert response.status_code == 200
    page = response.content.decode()
    # allocated, moved, licenses now, seated, reserved used, waiting, free, used
    assert row_cells(page, "University QAU (QAU)") == ["3", "+0 / −0", "3", "3", "0 of 0", "2", "0", "100 %"]
    assert row_cells(page, "University PU (PU)") == ["3", "+0 / −0", "3", "1", "0 of 0", "0", "2", "33 %"]
    assert row_cells(page, "Alumni (open merit) (ALUMNI)")[2:8] == ["2", "0", "0 of 0", "0", "2", "0 %"]
    assert row_cells(page, "Public sector universities")[2:] == ["6", "4", "0 of 0", "2", "2", "67 %"]
    assert row_cells(page, "All pools")[2:] == ["8", "4", "0 of 0", "2", "4", "50 %"]
    assert "4 of 8 licenses are taken; 2 nominations are waiting." in page
    # The chart: inline SVG with a title and description for screen readers, the table beside it.
    assert page.count("<svg") == 2
    assert '<title id="chart-universities-title">Seats taken per university in' in page
    assert 'aria-labelledby="chart-universities-title chart-universities-desc"' in page
    assert "<title>QAU: Waiting 2</title>" in page
    assert "<script" not in page


def test_the_page_says_so_when_nothing_is_published(staff_client, phase):
    page = staff_client.get(reverse("registrations:staff_utilisation", args=[phase.slug])).content.decode()
    assert "No allocation of this phase is published yet" in page
    assert "<svg" not in page


def test_utilisation_exports_as_csv_and_xlsx_with_formulas_neutralised(staff_client, phase, busy):
    University.objects.filter(code="PU").update(name='=HYPERLINK("http://evil","x")')

    response = staff_client.get(reverse("registrations:staff_utilisation_export", args=[phase.slug, "csv"]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="utilisation-{phase.slug}.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = rows[0]
    assert header[:3] == ["university_code", "university", "pool"]
    by_code = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_code) == {"QAU", "PU", "ALUMNI"}
    assert (by_code["QAU"]["licenses"], by_code["QAU"]["seated"], by_code["QAU"]["waiting"]) == ("3", "3", "2")
    assert by_code["PU"]["free"] == "2"
    assert by_code["PU"]["university"].startswith("'=HYPERLINK")

    xlsx = staff_client.get(reverse("registrations:staff_utilisation_export", args=[phase.slug, "xlsx"]))
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0][:3]) == ["university_code", "university", "pool"]
    xlsx_rows = {row[0]: dict(zip(values[0], row, strict=True)) for row in values[1:]}
    assert (xlsx_rows["QAU"]["seated"], xlsx_rows["QAU"]["waiting"]) == (3, 2)  # numbers stay numbers
    assert xlsx_rows["PU"]["university"].startswith("'=")

    assert staff_client.get(f"/registrations/staff/{phase.slug}/utilisation.pdf").status_code == 404


def _queries_for_utilisation(client, universities: int) -> int:
    phase = factories.make_phase()
    for n in range(universities):
        university = factories.make_university(code=f"U{universities}-{n}")
        factories.make_quota(phase=phase, university=university, licenses=10, disability_reserved=1)
    factories.make_quota(phase=phase, university=None, licenses=10)
    url = reverse("registrations:staff_utilisation", args=[phase.slug])
    client.get(url)  # warm up the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.content.decode().count('<th scope="row">University U') == universities
    return len(queries)


def test_the_utilisation_page_takes_as_many_queries_for_100_universities_as_for_10(staff_client, db):
    assert _queries_for_utilisation(staff_client, 10) == _queries_for_utilisation(staff_client, 100)


# Moving licenses ---------------------------------------------------------------------------------


def test_staff_move_licenses_and_the_waiting_list_is_promoted_at_once(
    staff_client, hec_staff, phase, busy, quota, other_quota, django_capture_on_commit_callbacks
):
    waiting = list(Nomination.objects.filter(quota=quota, status=NominationStatus.WAITING).order_by("id"))
    assert len(waiting) == 2
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("fees:staff_license_moves", args=[phase.slug]),
            {
                "from_university": other_quota.university_id,
                "to_university": quota.university_id,
                "licenses": "2",
                "reason": "PU has seats to spare, QAU a waiting list",
            },
        )

    assert response.status_code == 302
    assert messages_of(response) == ["2 licenses moved from PU to QAU; its waiting list was promoted."]
    quota.refresh_from_db()
    other_quota.refresh_from_db()
    assert (quota.licenses, quota.general_seated, other_quota.licenses) == (5, 5, 1)
    for nomination in waiting:
        nomination.refresh_from_db()
        assert nomination.status == NominationStatus.SEATED
    assert {m.to[0] for m in mail.outbox} >= {n.email for n in waiting}

    history = staff_client.get(response["Location"]).content.decode().split("Moves so far")[1]
    cells = [cell.strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", history, re.S)]
    assert cells == ["PU", "QAU", "2", hec_staff.email, "PU has seats to spare, QAU a waiting list"]


def test_a_move_below_the_seats_taken_is_refused_with_the_numbers(staff_client, phase, busy, quota, other_quota):
    response = staff_client.post(
        reverse("fees:staff_license_moves", args=[phase.slug]),
        {
            "from_university": quota.university_id,
            "to_university": other_quota.university_id,
            "licenses": 1,
            "reason": "x",
        },
        follow=True,
    )

    page = response.content.decode()
    assert "QAU has only 0 unused licenses (3 licenses, 3 general seats taken, 0 reserved" in page
    assert "No licenses have been moved in this phase." in page
    quota.refresh_from_db()
    assert quota.licenses == 3


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"to_university": "from"}, "to_university", "Choose a different university"),
        ({"reason": "   "}, "reason", "Please say why the licenses are moved."),
        ({"licenses": "0"}, "licenses", "Move at least 1 license."),
        ({"licenses": "two"}, "licenses", "Enter a whole number."),
        ({"from_university": "999999"}, "from_university", "Choose a university that has a published quota."),
    ],
)
def test_a_bad_move_form_says_what_is_wrong_next_to_the_field(
    staff_client, phase, quota, other_quota, changes, field, error
):
    data = {
        "from_university": other_quota.university_id,
        "to_university": quota.university_id,
        "licenses": 1,
        "reason": "x",
    }
    data.update(changes)
    if data["to_university"] == "from":
        data["to_university"] = data["from_university"]

    response = staff_client.post(reverse("fees:staff_license_moves", args=[phase.slug]), data)

    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page and error in page
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error[^"]*"', page)
    assert not LicenseMove.objects.exists()
    assert Quota.objects.get(pk=other_quota.pk).licenses == 3


@pytest.mark.django_db
def test_universities_are_listed_by_name_as_people_look_them_up(staff_client, phase):
    """Codes are HEC's; people look a university up by its name, whatever its case."""
    for code, name in (("AAA", "Zhob University"), ("MMM", "air university"), ("ZZZ", "Bahria University")):
        factories.make_quota(phase=phase, university=University.objects.create(code=code, name=name), licenses=3)
    page = staff_client.get(reverse("registrations:staff_utilisation", args=[phase.slug])).content.decode()
    found = re.findall(r"air university|Bahria University|Zhob University", page)
    assert found[:3] == ["air university", "Bahria University", "Zhob University"]
    moves = staff_client.get(reverse("fees:staff_license_moves", args=[phase.slug])).content.decode()
    options = re.findall(r"<option value=\"\d+\">([^<]+)</option>", moves)
    listed = [option.split(" — ", 1)[-1] for option in options if "university" in option.lower()]
    assert listed[:3] == ["air university", "Bahria University", "Zhob University"]
