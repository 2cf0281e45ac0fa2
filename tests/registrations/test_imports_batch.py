"""The nominations file is checked and written per file, not per row: the same outcome as
nominating each person in turn, in a number of queries that does not grow with the rows."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from quotas.models import Quota
from registrations.imports import nominations_file_commit, nominations_file_preview
from registrations.models import Nomination
from registrations.roles import LEARNER
from registrations.services import nomination_submit, nomination_withdraw
from tests import factories
from tests.factories import disclaimer_on_file
from tests.factories import student_data as student
from tests.registrations.conftest import csv_file, outcomes, row


@pytest.fixture
def big_quota(phase, university, focal):
    disclaimer_on_file(phase=phase, university=university, user=focal)
    return factories.make_quota(phase=phase, university=university, licenses=40)


def commit(phase, university, focal, data):
    return nominations_file_commit(phase=phase, university=university, data=data, filename="list.csv", actor=focal)


def queries(work) -> int:
    with CaptureQueriesContext(connection) as captured:
        work()
    return len(captured)


def test_the_queries_of_preview_and_commit_do_not_grow_with_the_rows(phase, university, focal, big_quota):
    small = csv_file(*(row(n) for n in range(1, 6)))
    large = csv_file(*(row(n) for n in range(100, 130)))  # 30 rows: 35 seated in all, then the waiting list
    larger = csv_file(*(row(n) for n in range(200, 300)))

    def preview(data):
        return lambda: nominations_file_preview(phase=phase, university=university, data=data, filename="l.csv")

    assert queries(preview(small)) == queries(preview(large)) == queries(preview(larger))
    small_commit = queries(lambda: commit(phase, university, focal, small))
    large_commit = queries(lambda: commit(phase, university, focal, large))
    assert small_commit == large_commit
    # SQLite's inserts are split every 999 parameters (about 35 nominations), so a long file adds
    # a few statements there; still nothing per row.
    assert queries(lambda: commit(phase, university, focal, larger)) < small_commit + 15
    assert Nomination.objects.filter(status="seated").count() == 40
    assert Nomination.objects.filter(status="waiting").count() == 95


def test_the_file_takes_the_free_seats_in_file_order_under_one_count(phase, university, focal, big_quota):
    Quota.objects.filter(pk=big_quota.pk).update(licenses=5)
    nomination_submit(phase=phase, university=university, data=student(900), actor=focal)
    data = csv_file(row(1), row(2, years="14"), row(3), row(4), row(5), row(6), row(7))

    report = commit(phase, university, focal, data)

    assert outcomes(report) == ["seated", "refused", "seated", "seated", "seated", "waiting", "waiting"]
    written = list(Nomination.objects.filter(email__startswith="person").order_by("id").values_list("email", "status"))
    assert written == [
        ("person1@example.edu.pk", "seated"),
        ("person3@example.edu.pk", "seated"),
        ("person4@example.edu.pk", "seated"),
        ("person5@example.edu.pk", "seated"),
        ("person6@example.edu.pk", "waiting"),
        ("person7@example.edu.pk", "waiting"),
    ]
    big_quota.refresh_from_db()
    assert (big_quota.general_seated, big_quota.disability_seated) == (5, 0)
    # The waiting list of the file comes after every earlier nominee: a freed seat goes to row 6.
    nomination_withdraw(nomination=Nomination.objects.get(email="person1@example.edu.pk"), actor=focal, reason="Left")
    assert Nomination.objects.get(email="person6@example.edu.pk").status == "seated"
    assert Nomination.objects.get(email="person7@example.edu.pk").status == "waiting"


def test_a_full_quota_puts_the_whole_file_on_the_waiting_list(phase, university, focal, big_quota):
    for n in (901, 902):
        nomination_submit(phase=phase, university=university, data=student(n), actor=focal)
    Quota.objects.filter(pk=big_quota.pk).update(licenses=2)
    report = commit(phase, university, focal, csv_file(row(1), row(2)))
    assert outcomes(report) == ["waiting", "waiting"]
    big_quota.refresh_from_db()
    assert big_quota.general_seated == 2


def test_a_file_makes_no_accounts_and_staff_addresses_are_refused_by_row(phase, university, focal, big_quota):
    User = get_user_model()
    users, addresses = User.objects.count(), EmailAddress.objects.count()
    staff = factories.make_hec_staff(email="officer@hec.gov.pk")

    report = commit(
        phase, university, focal, csv_file(row(1), row(2, email="Officer@HEC.gov.pk"), row(3, email=focal.email))
    )

    assert [r.outcome for r in report.rows] == ["seated", "refused", "refused"]
    assert "HEC staff or focal person account" in report.rows[1].errors[0]
    assert "HEC staff or focal person account" in report.rows[2].errors[0]
    # A nomination is about a person: the file made no account, address or group membership.
    assert (User.objects.count(), EmailAddress.objects.count()) == (users + 1, addresses + 1)  # the staff member
    assert not staff.groups.filter(name=LEARNER).exists()


def test_every_nomination_of_the_file_has_its_audit_entry(phase, university, focal, big_quota):
    Quota.objects.filter(pk=big_quota.pk).update(licenses=1)
    report = commit(phase, university, focal, csv_file(row(1), row(2)))
    entries = AuditEntry.objects.filter(action="nomination.submit").order_by("id")
    assert [(e.target_id, e.actor_id, e.data["status"]) for e in entries] == [
        (str(report.rows[0].nomination_id), focal.pk, "seated"),
        (str(report.rows[1].nomination_id), focal.pk, "waiting"),
    ]
    assert entries[0].summary == f"student *****-*****00-1 nominated in {university.code}: seated"
    assert AuditEntry.objects.get(action="nominations.import").data == report.as_json()


def test_a_focal_person_of_another_university_has_every_row_refused(
    phase, university, other_university, other_focal, big_quota
):
    report = commit(phase, university, other_focal, csv_file(row(1), row(2, years="14")))
    assert outcomes(report) == ["refused", "refused"]
    assert report.rows[0].errors == ["You can act only for your own university."]
    assert "16 years of education" in report.rows[1].errors[0]
    assert not Nomination.objects.exists()


def test_duplicates_in_the_database_are_found_for_the_whole_file_at_once(
    phase, university, other_university, focal, other_focal, big_quota, other_quota
):
    nomination_submit(phase=phase, university=other_university, data=student(1, cnic="35202-0000009-1"),
                      actor=other_focal)  # fmt: skip
    nomination_submit(phase=phase, university=university, data=student(2, email="person8@example.edu.pk"),
                      actor=focal)  # fmt: skip
    data = csv_file(row(5, cnic="35202-0000009-1"), row(6), row(8, years="14"), row(9))

    said = nominations_file_preview(phase=phase, university=university, data=data, filename="list.csv")
    done = commit(phase, university, focal, data)

    assert outcomes(said) == outcomes(done) == ["refused", "seated", "refused", "seated"]
    assert said.rows[0].errors == done.rows[0].errors
    assert "through another university or the alumni pool" in done.rows[0].errors[0]
    # The duplicate comes after the row's other problems, as for a single nomination.
    assert "16 years of education" in done.rows[2].errors[0]
    assert "already nominated by your university: Student 2" in done.rows[2].errors[1]
