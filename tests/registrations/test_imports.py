"""The nominations file: template, preview (nothing written), commit (file order, atomic), refusals."""

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from openpyxl import Workbook

from core.tabular import read_table
from quotas.models import Quota
from registrations.imports import (
    COLUMNS,
    ImportReport,
    nominations_file_commit,
    nominations_file_preview,
    nominations_template_csv,
    nominations_template_xlsx,
)
from registrations.models import Nomination
from registrations.services import RegistrationError, nomination_submit
from tests import factories
from tests.factories import cnic_for, disclaimer_on_file
from tests.factories import student_data as student
from tests.registrations.conftest import HEADER, csv_file, outcomes, row


def preview(phase, university, data, filename="list.csv") -> ImportReport:
    return nominations_file_preview(phase=phase, university=university, data=data, filename=filename)


def commit(phase, university, focal, data, filename="list.csv") -> ImportReport:
    return nominations_file_commit(phase=phase, university=university, data=data, filename=filename, actor=focal)


# Templates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "name"), [(nominations_template_csv, "t.csv"), (nominations_template_xlsx, "t.xlsx")])
def test_the_templates_hold_the_columns_and_one_example_that_is_never_imported(phase, university, quota, make, name):
    data = make()
    rows = read_table(data, filename=name, required=COLUMNS, optional=[], max_bytes=10**6, max_rows=10)
    assert len(rows) == 1
    assert rows[0]["full_name"] == "Ayesha Khan" and rows[0]["programme_years"] == "16"
    report = preview(phase, university, data, filename=name)
    # Uploaded unedited, the example is refused by name: it never becomes a nomination.
    assert outcomes(report) == ["refused"]
    assert report.rows[0].errors[0] == (
        "This is the template's example row: replace it with a real nominee or delete it."
    )
    assert report.rows[0].deposit_date == datetime.date(2021, 9, 15)


# Preview and commit -----------------------------------------------------------------------------------


def test_the_preview_says_what_would_happen_to_each_row_and_writes_nothing(phase, university, quota):
    data = csv_file(
        row(1),
        row(2, role="faculty", years=""),
        row(3, years="14"),
        row(4),
        row(5, disability="yes"),
        row(6, cnic="12345"),
    )
    report = preview(phase, university, data)

    assert outcomes(report) == ["seated", "seated", "refused", "seated", "waiting", "refused"]
    assert [r.row for r in report.rows] == [2, 3, 4, 5, 6, 7]  # the rows as the spreadsheet numbers them
    assert "16 years of education or more" in report.rows[2].errors[0]
    assert "BA/BSc" in report.rows[2].errors[0]
    assert "too short" in report.rows[5].errors[0]
    assert report.rows[0].cnic_masked == "*****-*****00-1"
    assert (report.seated, report.waiting, report.refused) == (3, 1, 2)
    assert not Nomination.objects.exists()
    assert not get_user_model().objects.filter(email__startswith="person").exists()
    quota.refresh_from_db()
    assert quota.general_seated == 0


def test_commit_writes_the_rows_in_file_order_like_the_preview_said(phase, university, focal, quota):
    data = csv_file(row(1), row(2, years="14"), row(3), row(4), row(5), row(6, role="faculty", years=""))
    said = preview(phase, university, data)
    done = commit(phase, university, focal, data)

    assert outcomes(done) == outcomes(said) == ["seated", "refused", "seated", "seated", "waiting", "waiting"]
    ids = [r.nomination_id for r in done.rows if r.outcome != "refused"]
    assert ids == sorted(ids)  # file order is arrival order
    assert done.rows[1].nomination_id is None
    written = list(Nomination.objects.order_by("id").values_list("email", "status"))
    assert written == [
        ("person1@example.edu.pk", "seated"),
        ("person3@example.edu.pk", "seated"),
        ("person4@example.edu.pk", "seated"),
        ("person5@example.edu.pk", "waiting"),
        ("person6@example.edu.pk", "waiting"),
    ]
    quota.refresh_from_db()
    assert quota.general_seated == 3


def test_the_json_report_has_the_agreed_shape(phase, university, focal, quota):
    report = commit(phase, university, focal, csv_file(row(1), row(2, role="alumnus"), row(3), row(4), row(5)))
    assert report.as_json() == {
        "seated": 3,
        "waiting": 1,
        "refused": [
            {
                "row": 3,
                "errors": ["Alumni are not nominated by a university; they register themselves in the alumni pool."],
            }
        ],
    }


def test_headers_match_without_regard_to_case_or_spaces_and_the_deposit_columns_are_optional(
    phase, university, focal, quota
):
    header = " Full_Name , CNIC,Email ,PHONE,Role,Programme_Years,Disability"
    line = f"Person 1,{cnic_for(1)},person1@example.edu.pk,,student,18,"
    report = commit(phase, university, focal, csv_file(line, header=header))
    assert outcomes(report) == ["seated"]
    nomination = Nomination.objects.get()
    assert (nomination.programme_years, nomination.disability, nomination.phone) == (18, False, "")


def test_an_xlsx_file_is_read_like_a_csv(phase, university, focal, quota):
    book = Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    sheet.append(["Person 1", cnic_for(1), "person1@example.edu.pk", "03001234567", "Faculty", None, "No", None, None])
    sheet.append(["Person 2", 3520200000002, "person2@example.edu.pk", None, "student", 16, "yes", None, None])
    out = io.BytesIO()
    book.save(out)
    report = commit(phase, university, focal, out.getvalue(), filename="list.xlsx")
    assert outcomes(report) == ["seated", "seated"]
    assert Nomination.objects.get(email="person2@example.edu.pk").cnic == "3520200000002"
    assert Nomination.objects.get(email="person2@example.edu.pk").disability is True


# The same person twice ------------------------------------------------------------------------------


def test_a_person_twice_in_the_file_is_refused_on_the_second_row(phase, university, focal, quota):
    data = csv_file(row(1), row(2, cnic=cnic_for(1).replace("-", "")), row(3, email="PERSON1@example.edu.pk"))
    report = commit(phase, university, focal, data)
    assert outcomes(report) == ["seated", "refused", "refused"]
    assert report.rows[1].errors == ["The same CNIC is already on row 2 of this file."]
    assert report.rows[2].errors == ["The same e-mail address is already on row 2 of this file."]
    assert Nomination.objects.count() == 1


def test_a_person_nominated_by_another_university_is_refused_without_saying_which(
    phase, university, other_university, focal, other_focal, quota, other_quota
):
    nomination_submit(phase=phase, university=other_university, data=student(1, cnic=cnic_for(9)), actor=other_focal)
    report = commit(phase, university, focal, csv_file(row(9)))
    assert outcomes(report) == ["refused"]
    (message,) = report.rows[0].errors
    assert "through another university or the alumni pool" in message
    assert "PU" not in message and "Student 1" not in message


def test_a_person_already_nominated_by_the_same_university_is_shown_where(phase, university, focal, quota):
    commit(phase, university, focal, csv_file(row(1)))
    said = preview(phase, university, csv_file(row(1)))
    report = commit(phase, university, focal, csv_file(row(1)))
    assert "already nominated by your university: Person 1" in report.rows[0].errors[0]
    assert said.rows[0].errors == report.rows[0].errors


# Deposits ---------------------------------------------------------------------------------------------


def test_deposit_columns_are_checked(phase, university, quota):
    data = csv_file(
        row(1, receipt="R-1", date="2021-09-15"),
        row(2, receipt="R-2", date="15/09/2021"),
        row(3, receipt="R-3"),
        row(4, receipt="R" * 51, date="2021-09-15"),
        row(5, receipt="R-5", date="Sept 15"),
        row(6, receipt="R-6", date=(timezone.localdate() + datetime.timedelta(days=1)).strftime("%d/%m/%Y")),
        row(7, role="faculty", years="", receipt="R-7", date="2021-09-16"),
    )
    report = preview(phase, university, data)
    assert outcomes(report) == ["seated", "seated", "refused", "refused", "refused", "refused", "seated"]
    assert report.rows[1].deposit_date == datetime.date(2021, 9, 15)
    assert report.rows[0].deposit_receipt == "R-1"
    assert "both the deposit receipt number and the deposit date" in report.rows[2].errors[0]
    assert "too long" in report.rows[3].errors[0]
    assert "YYYY-MM-DD or DD/MM/YYYY" in report.rows[4].errors[0]
    assert "in the future" in report.rows[5].errors[0]


def test_private_nominees_pay_no_deposit(phase, focal):
    institution = factories.make_university(code="XPRIV", sector="private")
    disclaimer_on_file(phase=phase, university=institution, user=focal)
    factories.make_quota(phase=phase, university=institution, licenses=5)
    report = preview(phase, institution, csv_file(row(1, receipt="R-1", date="2021-09-15"), row(2)))
    assert outcomes(report) == ["refused", "seated"]
    assert "pay no deposit (only public universities and NAHE collect the deposit)" in report.rows[0].errors[0]


def test_nahe_nominees_pay_the_deposit_like_public_ones(phase, focal):
    nahe = factories.make_university(code="NAHE", sector="nahe")
    disclaimer_on_file(phase=phase, university=nahe, user=focal)
    factories.make_quota(phase=phase, university=nahe, licenses=5)
    report = preview(phase, nahe, csv_file(row(1, role="faculty", years="", receipt="R-1", date="2021-09-15")))
    assert outcomes(report) == ["seated"]
    assert (report.rows[0].deposit_receipt, report.rows[0].deposit_date) == ("R-1", datetime.date(2021, 9, 15))


# Files refused whole ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty"),
        (b"full_name,cnic,email\nA,1,a@b.pk\n", "lacks these required columns"),
        (
            "full_name,cnic,email,phone,role,programme_years,disability\nZoë,1,a@b.pk,,student,16,no\n".encode(
                "cp1252"
            ),
            "UTF-8",
        ),  # fmt: skip
        (b"%PDF-1.4 not a list", "lacks these required columns"),
        (HEADER.encode() + b"\n", "no rows of data"),
    ],
)
def test_a_bad_file_is_refused_whole_and_nothing_is_written(phase, university, focal, quota, data, says):
    with pytest.raises(RegistrationError, match=says):
        preview(phase, university, data)
    with pytest.raises(RegistrationError, match=says):
        commit(phase, university, focal, data)
    assert not Nomination.objects.exists()


def test_a_file_over_the_size_limit_is_refused(phase, university, focal, quota, settings):
    settings.NOMINATIONS_FILE_MAX_BYTES = 200
    with pytest.raises(RegistrationError, match="the largest accepted is"):
        commit(phase, university, focal, csv_file(*(row(n) for n in range(1, 10))))
    assert not Nomination.objects.exists()


def test_no_file_before_the_disclaimer(phase, university, focal):
    factories.make_quota(phase=phase, university=university, licenses=5)
    with pytest.raises(RegistrationError, match="Upload the signed disclaimer form first."):
        preview(phase, university, csv_file(row(1)))
    with pytest.raises(RegistrationError, match="Upload the signed disclaimer form first."):
        commit(phase, university, focal, csv_file(row(1)))


def test_a_database_failure_on_the_third_row_writes_nothing(phase, university, focal, quota):
    """A real failure of the database part-way (a trigger refuses the 3rd row's insert)."""
    table = Nomination._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TRIGGER refuse_third BEFORE INSERT ON {table} WHEN NEW.email = 'person3@example.edu.pk' "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION refuse_third() RETURNS trigger AS $$ BEGIN "
                "IF NEW.email = 'person3@example.edu.pk' THEN RAISE EXCEPTION 'disk full'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER refuse_third BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_third()"
            )
    users_before = get_user_model().objects.count()

    with pytest.raises(RegistrationError, match="nothing from it was saved"):
        commit(phase, university, focal, csv_file(row(1), row(2), row(3), row(4)))

    assert not Nomination.objects.exists()
    assert get_user_model().objects.count() == users_before
    assert Quota.objects.get(pk=quota.pk).general_seated == 0


def test_registration_closed_refuses_the_whole_file(phase, university, focal, quota):
    from django.utils import timezone

    phase.registration_closes_at = timezone.now() - datetime.timedelta(days=1)
    phase.save(update_fields=["registration_closes_at"])
    with pytest.raises(RegistrationError, match="closed on"):
        preview(phase, university, csv_file(row(1)))
    with pytest.raises(RegistrationError, match="closed on"):
        commit(phase, university, focal, csv_file(row(1)))
    assert not Nomination.objects.exists()
