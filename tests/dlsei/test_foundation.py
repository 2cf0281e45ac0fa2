"""The foundation: commands that set a phase up, the university import, settings, the home page."""

import datetime
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from quotas.models import Phase, University

pytestmark = pytest.mark.django_db

GOOD_CSV = (
    "code,name,sector,enrolment,distance_learning_licenses,pern_account,city\n"
    "AIOU,Allama Iqbal Open University,public,1200000,600,PERN-1,Islamabad\n"
    "QAU,Quaid-i-Azam University,public,13500,0,,Islamabad\n"
    "LUMS,Lahore University of Management Sciences,private,5000,0,,Lahore\n"
)


def test_create_phase_has_the_spec_numbers(capsys):
    call_command("create_phase", "--slug", "p1", "--launch", "2021-09-09")
    phase = Phase.objects.get(slug="p1")
    assert (phase.total_licenses, phase.public_pool_licenses, phase.nahe_pool_licenses) == (24000, 18000, 1200)
    assert (phase.alumni_pool_licenses, phase.private_pool_licenses, phase.distance_learning_licenses) == (
        1200,
        3600,
        1000,
    )
    assert (phase.public_min_licenses, phase.public_max_licenses, phase.private_max_licenses) == (70, 650, 650)
    assert (phase.public_deposit_rupees, phase.private_fee_rupees, phase.alumni_fee_rupees) == (4000, 8000, 8000)
    assert phase.alumni_graduated_from == datetime.date(2019, 9, 9)
    assert phase.alumni_graduated_until == datetime.date(2021, 9, 9)
    assert timezone.localtime(phase.registration_opens_at).date() == datetime.date(2021, 9, 9)
    assert phase.registration_closes_at is None
    assert "registration opens 2021-09-09" in capsys.readouterr().out


@pytest.mark.parametrize("launch", ["09-09-2021", "2021-13-01", "tomorrow"])
def test_create_phase_refuses_a_bad_date(launch):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("create_phase", "--slug", "p1", "--launch", launch)
    assert not Phase.objects.exists()


def test_create_phase_refuses_a_taken_slug():
    call_command("create_phase", "--slug", "p1", "--launch", "2021-09-09")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_phase", "--slug", "p1", "--launch", "2022-09-09")


def test_import_universities_creates_then_updates_by_code(tmp_path, capsys):
    path = tmp_path / "u.csv"
    path.write_text(GOOD_CSV)
    call_command("import_universities", str(path))
    assert "3 new" in capsys.readouterr().out
    aiou = University.objects.get(code="AIOU")
    assert aiou.is_distance_learning and aiou.distance_learning_licenses == 600 and aiou.sector == "public"
    path.write_text(GOOD_CSV.replace("13500", "14000"))
    call_command("import_universities", str(path))
    assert "1 updated" in capsys.readouterr().out
    assert University.objects.get(code="QAU").enrolment == 14000
    assert University.objects.count() == 3


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        ("XYZ,Somewhere,federal,100,0,,Lahore", "must be public, private or nahe"),
        ("XYZ,Somewhere,public,-5,0,,Lahore", "0 or more"),
        ("XYZ,Somewhere,public,many,0,,Lahore", "row 5: .*whole number of 0 or more, not many"),
    ],
)
def test_import_universities_bad_row_changes_nothing(tmp_path, bad_line, expected):
    path = tmp_path / "u.csv"
    path.write_text(GOOD_CSV + bad_line + "\n")
    with pytest.raises(CommandError, match=expected):
        call_command("import_universities", str(path))
    assert University.objects.count() == 0


def test_import_universities_missing_column_is_named(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("code,name\nQAU,Quaid-i-Azam University\n")
    with pytest.raises(CommandError, match="sector, enrolment"):
        call_command("import_universities", str(path))


def test_import_universities_not_utf8(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(GOOD_CSV.replace("Quaid", "Qu\xe4id").encode("cp1252"))
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_universities", str(path))


def test_seed_demo_is_idempotent_and_prints_working_logins(client, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "hec.staff@demo.dlsei.pk" in out and "focal.qau@demo.dlsei.pk" in out
    assert Phase.objects.filter(slug="phase-1").count() == 1
    assert University.objects.filter(sector="nahe").count() == 1
    password = out.split("password for all: ")[1].split(")")[0]
    response = client.post("/accounts/login/", {"login": "hec.staff@demo.dlsei.pk", "password": password})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_home_page_says_where_each_user_goes(client):
    page = client.get("/").content.decode()
    for words in ["Focal person sign-in", "Alumni sign-up", "Sign in with an e-mailed code", "Staff sign-in"]:
        assert words in page


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_check_deploy_with_production_values_is_clean(tmp_path):
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "x" * 60 + "-production-secret-Zq9",
        "ALLOWED_HOSTS": "dlsei.hec.gov.pk",
        "PATH": "/usr/bin:/bin",
        "VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret(tmp_path):
    env = {"DEBUG": "0", "PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
