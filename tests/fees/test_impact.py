"""The impact report: what the licenses achieved, the same in the command, the staff page, the
focal person's page and the PDF snapshot, on a phase built through the real imports
(tests/fees/outcomes.py says what its reports contain)."""

import io
import json
import re
import shutil
import subprocess

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image

from fees.impact import impact_report_build
from fees.views_impact import impact_pdf_render
from registrations.services import nomination_withdraw
from tests import factories
from tests.fees.conftest import pdf_text
from tests.fees.outcomes import outcomes_phase_build

pytestmark = pytest.mark.django_db

EXPECTED = {
    "phase": "outcomes",
    "learners_invited": 9,
    "learners_joined": 6,
    "learners_completed_one": 5,
    "learners_completed_three": 2,
    "courses_completed": 10,
    "learning_hours": 134.0,
    "specializations_completed": 1,
    "professional_certificates_completed": 1,
    "universities": [
        {"code": "LUMS", "name": "Lahore University of Management Sciences", "invited": 2, "joined": 1,
         "completed_three": 0, "courses_completed": 1, "learning_hours": 13.0},
        {"code": "PU", "name": "University of the Punjab", "invited": 2, "joined": 1, "completed_three": 1,
         "courses_completed": 3, "learning_hours": 38.0},
        {"code": "QAU", "name": "Quaid-i-Azam University", "invited": 4, "joined": 3, "completed_three": 1,
         "courses_completed": 4, "learning_hours": 57.5},
    ],
    "top_courses": [
        {"course": "Python for Everybody", "completions": 4},
        {"course": "Machine Learning", "completions": 3},
        {"course": "Excel Skills for Business", "completions": 2},
        {"course": "SQL for Data Science", "completions": 1},
    ],
}  # fmt: skip
HEADLINE = [key for key, value in EXPECTED.items() if isinstance(value, int | float) and key != "phase"]


@pytest.fixture
def built(hec_staff, django_capture_on_commit_callbacks):
    return outcomes_phase_build(hec_staff=hec_staff, commit=django_capture_on_commit_callbacks)


def command_json(*args: str) -> dict:
    out = io.StringIO()
    call_command("impact_report", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def number(text: str) -> int | float:
    text = text.strip().replace(",", "")
    return float(text) if "." in text else int(text)


def page_report(html: str) -> dict:
    """What the page shows, in the JSON's shape: the headline figures, each university's row and
    the top courses (read from the cells a person reads, not from hidden data)."""
    figures = re.search(r'<dl class="figures">(.*?)</dl>', html, re.S).group(1)
    shown = {key: number(value) for key, value in re.findall(r'data-figure="(\w+)">([^<]*)<', figures)}
    shown["universities"] = {
        code: {key: number(value) for key, value in re.findall(r'data-figure="(\w+)">([^<]*)<', row)}
        for code, row in re.findall(r'<tr data-university="([^"]+)">(.*?)</tr>', html, re.S)
    }
    shown["top_courses"] = [
        {"course": course, "completions": number(count)}
        for course, count in re.findall(
            r'<tr data-course><th scope="row">([^<]*)</th><td class="num">([^<]*)</td>', html
        )
    ]
    return shown


def assert_page_agrees(html: str, report: dict) -> None:
    shown = page_report(html)
    assert {key: shown[key] for key in HEADLINE} == {key: report[key] for key in HEADLINE}
    assert shown["universities"] == {
        row["code"]: {key: row[key] for key in ("invited", "joined", "completed_three", "courses_completed",
                                                "learning_hours")}
        for row in report["universities"]
    }  # fmt: skip
    assert shown["top_courses"] == report["top_courses"]


def test_the_command_counts_what_the_imported_reports_say(built):
    assert command_json("--phase", "outcomes") == EXPECTED


def test_the_command_for_one_university_and_in_words(built):
    report = command_json("--phase", "outcomes", "--university", "qau")
    assert (report["learners_invited"], report["courses_completed"], report["learning_hours"]) == (4, 4, 57.5)
    assert [row["code"] for row in report["universities"]] == ["QAU"]
    assert report["specializations_completed"] == 1 and report["professional_certificates_completed"] == 0
    assert report["top_courses"][0] == {"course": "Python for Everybody", "completions": 2}
    out = io.StringIO()
    call_command("impact_report", "--phase", "outcomes", stdout=out)
    assert "9 learners invited, 6 joined" in out.getvalue() and "134.0 learning hours" in out.getvalue()
    with pytest.raises(CommandError, match="no phase called"):
        call_command("impact_report", "--phase", "nope", "--json")
    with pytest.raises(CommandError, match="no university"):
        call_command("impact_report", "--phase", "outcomes", "--university", "XYZ")


def test_the_staff_page_shows_the_same_figures_as_the_command(client, built, hec_staff):
    client.force_login(hec_staff)
    response = client.get(reverse("fees:impact"), {"phase": "outcomes"})
    assert response.status_code == 200
    html = response.content.decode()
    assert_page_agrees(html, command_json("--phase", "outcomes"))
    # Charts drawn on the server, each with its numbers in a table.
    for chart in ("impact-pools", "impact-universities", "impact-months", "impact-courses"):
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in html
    assert "<script" not in html
    pools = dict(re.findall(r'<tr data-pool="(\w+)">.*?data-figure="invited">(\d+)<', html, re.S))
    assert pools == {"public": "6", "alumni": "1", "private": "2"}
    # Completions per month, quiet months as 0: Oct 4, Nov 0 (the repeated ML is not a new course), ...
    months = dict(re.findall(r'<tr data-month="([\d-]+)"><th scope="row">[^<]*</th><td class="num">(\d+)<', html))
    assert months == {"2021-10": "3", "2021-11": "0", "2021-12": "4", "2022-01": "3"}
    assert "usage-2022-02.csv" in html


def test_staff_see_one_university_as_its_focal_person_does(client, built, hec_staff):
    client.force_login(hec_staff)
    html = client.get(reverse("fees:impact"), {"phase": "outcomes", "university": "PU"}).content.decode()
    assert_page_agrees(html, command_json("--phase", "outcomes", "--university", "PU"))
    assert 'data-university="QAU"' not in html


def test_a_focal_person_sees_their_own_university_only(client, built):
    client.force_login(built.qau_focal)
    own = command_json("--phase", "outcomes", "--university", "QAU")
    for asked in ({"phase": "outcomes"}, {"phase": "outcomes", "university": "PU"}):  # asking for another: own
        html = client.get(reverse("fees:impact"), asked).content.decode()
        assert_page_agrees(html, own)
        assert "University of the Punjab" not in html and "Learner p1" not in html
        assert 'data-pool="' not in html  # the pools compare universities: HEC's view only
    assert own["learners_invited"] == 4


def test_the_pdf_snapshot_reads_like_a_case_study_page(client, built, hec_staff):
    client.force_login(hec_staff)
    response = client.get(reverse("fees:impact_pdf"), {"phase": "outcomes"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert 'filename="dlsei-impact-outcomes.pdf"' in response["Content-Disposition"]
    pages, text = pdf_text(response.content)
    assert pages == 1
    flat = re.sub(r"-\s+", "-", " ".join(text.split()))  # words hyphenated across lines, whole again
    assert "What the licenses achieved" in flat and built.phase.name in flat
    for figure, label in (("9", "learners invited"), ("6", "joined Coursera"), ("10", "courses completed"),
                          ("134.0", "learning hours"), ("1", "specializations completed")):  # fmt: skip
        assert re.search(rf"(^|\s){re.escape(figure)}\s*{label}", flat), (figure, label, flat)
    assert "Top universities" in flat and "QAU — Quaid-i-Azam University" in flat
    assert "Python for Everybody 4" in flat
    assert "usage-2022-02.csv" in flat


def rasterise(pdf: bytes, tmp_path) -> Image.Image:
    """The first page as pixels (poppler's pdftoppm), the way a printer or a viewer would draw it."""
    assert shutil.which("pdftoppm"), "pdftoppm is missing: install Debian's poppler-utils (.ci/run does)"
    source = tmp_path / "impact.pdf"
    source.write_bytes(pdf)
    subprocess.run([shutil.which("pdftoppm"), "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                    str(source), str(tmp_path / "page")], check=True, timeout=60)  # fmt: skip
    return Image.open(tmp_path / "page.png").convert("RGB")


def share_of(image: Image.Image, colour: tuple[int, int, int], *, box=None) -> float:
    """The share of the pixels (in ``box``, else the page) within a small distance of ``colour``."""
    region = image.crop(box) if box else image
    raw = region.tobytes()
    pixels = list(zip(raw[0::3], raw[1::3], raw[2::3], strict=True))
    near = sum(1 for pixel in pixels if sum(abs(a - b) for a, b in zip(pixel, colour, strict=True)) < 40)
    return near / len(pixels)


def test_the_pdf_draws_its_chart_and_its_headline_band(built, tmp_path):
    image = rasterise(impact_pdf_render(impact_report_build(phase=built.phase)), tmp_path)
    width, height = image.size
    assert (width, height) == pytest.approx((496, 702), abs=3)  # A4 at 60 dpi
    green, blue, grey = (0x0B, 0x5D, 0x3B), (0x09, 0x69, 0xDA), (0xB6, 0xC2, 0xCC)
    top = (0, 0, width, height // 6)
    assert share_of(image, green, box=top) > 0.3  # the case study's coloured band across the top
    # The per-university chart: completed (green), joined (blue) and not joined (grey) segments.
    middle = (0, height // 6, width, height * 2 // 3)
    assert share_of(image, blue, box=middle) > 0.001
    assert share_of(image, grey, box=middle) > 0.001
    assert share_of(image, green, box=middle) > 0.001
    assert share_of(image, (255, 255, 255)) < 0.9  # not a blank page


def test_an_empty_phase_says_what_will_appear_and_still_prints(client, hec_staff, tmp_path):
    phase = factories.make_phase(slug="empty")
    client.force_login(hec_staff)
    html = client.get(reverse("fees:impact"), {"phase": "empty"}).content.decode()
    assert "No learner of this phase has been invited yet" in html
    assert "No course completion has been imported for this phase yet" in html
    assert "No Coursera usage report has been imported for this phase yet" in html
    report = impact_report_build(phase=phase)
    assert report.as_json() == {**dict.fromkeys(HEADLINE, 0), "learning_hours": 0.0, "phase": "empty",
                                "universities": [], "top_courses": []}  # fmt: skip
    pages, text = pdf_text(impact_pdf_render(report))
    assert pages == 1 and "No course completion has been imported yet." in text


def test_a_learner_withdrawn_later_keeps_what_they_achieved(built, hec_staff):
    nomination_withdraw(nomination=built["q1"], actor=hec_staff, reason="Left the university")
    assert command_json("--phase", "outcomes") == EXPECTED


def test_who_may_see_it(client, built):
    url = reverse("fees:impact")
    assert client.get(url).status_code == 302  # sign in first
    client.force_login(factories.learner_account(built["q1"]))
    assert client.get(url).status_code == 404
    assert client.get(reverse("fees:impact_pdf")).status_code == 404


def test_an_unknown_phase_or_university_is_not_found(client, built, hec_staff):
    client.force_login(hec_staff)
    assert client.get(reverse("fees:impact"), {"phase": "nope"}).status_code == 404
    assert client.get(reverse("fees:impact"), {"phase": "outcomes", "university": "NOPE"}).status_code == 404
    assert client.get(reverse("fees:impact"), {"phase": "not a slug!"}).status_code == 404


def test_the_page_costs_the_same_queries_however_many_learners_it_counts(client, built, hec_staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fees.completions import completions_import
    from tests.fees.conftest import nominate_student
    from tests.fees.outcomes import usage_report, usage_row

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("fees:impact"), {"phase": "outcomes"}).status_code == 200
        return len(captured)

    client.force_login(hec_staff)
    before = queries()
    more = [
        nominate_student(
            phase=built.phase,
            university=built.pu,
            focal=built.pu_focal,
            full_name=f"More {n}",
            email=f"more{n}@pu.edu.pk",
        )  # fmt: skip
        for n in range(5)
    ]
    rows = [usage_row(n, slug, when="2022-02-10 08:00:00 UTC") for n in more for slug in ("python", "sql")]
    completions_import(phase=built.phase, data=usage_report(*rows), filename="more.csv", actor=hec_staff)
    assert command_json("--phase", "outcomes")["courses_completed"] == 20
    assert queries() == before
