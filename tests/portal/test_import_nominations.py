"""`import_nominations`: the nominations file with its deposit columns, on the same code path as
the focal person's confirmation in the browser, with the --json contract."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from fees.models import Deposit
from portal.nominations_file import nominations_file_commit
from registrations.exceptions import RegistrationError
from registrations.models import Nomination, NominationUpload
from tests.factories import NOMINATIONS_FILE_HEADER as HEADER
from tests.fees.conftest import university_ready

pytestmark = pytest.mark.django_db
ROWS = [
    "Ayesha Khan,35202-1234567-1,ayesha@example.edu.pk,0300 1111111,student,16,no,RCPT-1,2021-09-15",
    "Bilal Ahmed,35202-1234567-3,bilal@example.edu.pk,0300 2222222,faculty,,no,,",
    "Chand Bibi,35202-1234567-5,chand@example.edu.pk,0300 3333333,student,14,no,,",
    "Daud Shah,35202-1234567-7,daud@example.edu.pk,0300 4444444,student,18,no,RCPT-4,15/09/2021",
]


@pytest.fixture
def uni(phase):
    return university_ready(phase=phase, code="QAU", licenses=2)


@pytest.fixture
def csv_file(tmp_path) -> Path:
    path = tmp_path / "nominees.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


def run(*args) -> str:
    out = StringIO()
    call_command("import_nominations", *map(str, args), stdout=out)
    return out.getvalue()


def test_json_contract_and_deposits_from_the_file_columns(phase, uni, csv_file):
    out = run("--phase", phase.slug, "--university", "QAU", csv_file, "--json")

    result = json.loads(out)
    assert list(result) == ["seated", "waiting", "refused"]
    assert (result["seated"], result["waiting"]) == (2, 1)
    assert len(result["refused"]) == 1
    refused = result["refused"][0]
    assert list(refused) == ["row", "errors"] and refused["row"] in (3, 4)
    assert any("16 years" in error for error in refused["errors"])

    deposits = {d.nomination.email: d for d in Deposit.objects.select_related("nomination")}
    # Daud's row carries a deposit too, but he is on the waiting list: a deposit waits for the seat.
    assert sorted(deposits) == ["ayesha@example.edu.pk"]
    assert deposits["ayesha@example.edu.pk"].receipt == "RCPT-1"
    assert all(d.amount == 4000 for d in deposits.values())
    ayesha = Nomination.objects.get(email="ayesha@example.edu.pk")
    daud = Nomination.objects.get(email="daud@example.edu.pk")
    assert ayesha.status == "seated" and ayesha.settled_at is not None and ayesha.cleared_at is not None
    assert daud.status == "waiting" and daud.settled_at is None and daud.cleared_at is None
    upload = NominationUpload.objects.get()
    assert upload.committed_at is not None and upload.result == result


def test_plain_output_and_dry_run_writes_nothing(phase, uni, csv_file):
    out = run("--phase", phase.slug, "--university", "QAU", csv_file, "--dry-run")
    assert "Would seat 2, waiting list 1, refused 1." in out
    assert not Nomination.objects.exists() and not Deposit.objects.exists()
    assert not NominationUpload.objects.exists()

    dry_json = json.loads(run("--phase", phase.slug, "--university", "QAU", csv_file, "--dry-run", "--json"))
    assert (dry_json["seated"], dry_json["waiting"], len(dry_json["refused"])) == (2, 1, 1)


def test_bad_file_exits_non_zero_with_the_reason(phase, uni, tmp_path):
    bad = tmp_path / "nominees.csv"
    bad.write_bytes("full_name,email\nA,b@example.pk\n".encode("utf-16"))
    with pytest.raises(CommandError) as refused:
        run("--phase", phase.slug, "--university", "QAU", bad)
    assert "UTF-8" in str(refused.value)
    missing = tmp_path / "columns.csv"
    missing.write_text("full_name,email\nA,b@example.pk\n", encoding="utf-8")
    with pytest.raises(CommandError, match="cnic"):
        run("--phase", phase.slug, "--university", "QAU", missing)
    with pytest.raises(CommandError, match="No phase"):
        run("--phase", "nope", "--university", "QAU", missing)
    assert not Nomination.objects.exists()


def test_a_confirmed_file_cannot_be_committed_twice(phase, uni, csv_file):
    _, focal = uni
    upload = NominationUpload(phase=phase, university=uni[0], original_name="nominees.csv", uploaded_by=focal)
    upload.file.save("nominees.csv", ContentFile(csv_file.read_bytes()), save=False)
    upload.save()
    report = nominations_file_commit(upload=upload, actor=focal)
    assert report.seated == 2
    with pytest.raises(RegistrationError, match="already added"):
        nominations_file_commit(upload=upload, actor=focal)
    assert Nomination.objects.count() == 3


def test_a_file_imported_as_an_account_that_is_neither_focal_person_nor_staff_saves_nothing(phase, uni, csv_file):
    from tests import factories

    factories.make_user(email="clerk@example.pk")
    out = run("--phase", phase.slug, "--university", "QAU", csv_file, "--as", "clerk@example.pk")
    assert out.startswith("Seated 0, waiting list 0, refused 4.")
    assert "row 2: Only the university's focal person or HEC staff can do this." in out
    assert not Nomination.objects.exists() and not Deposit.objects.exists()


def test_a_nahe_file_records_its_deposits_and_settles_the_trainees(phase, tmp_path):
    university_ready(phase=phase, code="NAHE", sector="nahe", licenses=2)
    path = tmp_path / "nahe.csv"
    path.write_text(
        HEADER + "\nDr Sana Mir,35202-1234567-9,sana@example.edu.pk,0300 5555555,faculty,,no,NAHE-1,2021-09-15\n",
        encoding="utf-8",
    )

    result = json.loads(run("--phase", phase.slug, "--university", "NAHE", path, "--json"))

    assert (result["seated"], result["refused"]) == (1, [])
    deposit = Deposit.objects.select_related("nomination").get()
    assert (deposit.receipt, deposit.amount, deposit.nomination.pool) == ("NAHE-1", 4000, "nahe")
    assert deposit.nomination.settled_at is not None
