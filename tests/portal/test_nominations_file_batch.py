"""A confirmed nominations file records its deposit columns together: the same deposits, audit
entries, settlements and invitations as recording each deposit by hand."""

import datetime

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from fees.models import Deposit
from portal.nominations_file import nominations_file_commit
from registrations.models import Invitation, Nomination, NominationUpload
from tests.factories import NOMINATIONS_FILE_HEADER as HEADER
from tests.factories import cnic_for
from tests.fees.conftest import university_ready

pytestmark = pytest.mark.django_db


def line(n: int, *, receipt: str | None = None, date: str = "2021-09-15") -> str:
    receipt = f"RCPT-{n}" if receipt is None else receipt
    paid_on = date if receipt else ""
    return f"Person {n},{cnic_for(n)},person{n}@example.edu.pk,0300 1111111,student,16,no,{receipt},{paid_on}"


def upload_of(phase, university, focal, lines: list[str]) -> NominationUpload:
    upload = NominationUpload(phase=phase, university=university, original_name="list.csv", uploaded_by=focal)
    upload.file.save("list.csv", ContentFile(("\n".join([HEADER, *lines]) + "\n").encode()), save=False)
    upload.save()
    return upload


@pytest.fixture
def invite_link(phase):
    phase.coursera_invitation_url = "https://www.coursera.org/programs/dlsei?invite=abc"
    phase.save(update_fields=["coursera_invitation_url"])


def test_the_deposits_of_a_file_settle_and_invite_as_one_by_one(phase, invite_link, django_capture_on_commit_callbacks):
    university, focal = university_ready(phase=phase, code="QAU", licenses=2)
    upload = upload_of(phase, university, focal, [line(1), line(2, receipt=""), line(3), line(4)])

    with django_capture_on_commit_callbacks(execute=True):
        report = nominations_file_commit(upload=upload, actor=focal)

    assert [row.outcome for row in report.rows] == ["seated", "seated", "waiting", "waiting"]
    # A deposit is recorded only for a seat: the waiting rows' deposits wait, and their rows say so.
    assert all("Deposit not recorded: Person" in row.errors[0] for row in report.rows[2:])
    deposits = {d.nomination.email: d for d in Deposit.objects.select_related("nomination")}
    assert sorted(deposits) == ["person1@example.edu.pk"]
    first = deposits["person1@example.edu.pk"]
    assert (first.amount, first.receipt, first.paid_on, first.recorded_by) == (
        4000,
        "RCPT-1",
        datetime.date(2021, 9, 15),
        focal,
    )
    audit = AuditEntry.objects.get(action="deposit.record", target_id=str(first.pk))
    assert audit.actor == focal
    assert audit.data == {
        "nomination": first.nomination_id,
        "amount": 4000,
        "receipt": "RCPT-1",
        "paid_on": "2021-09-15",
    }

    state = {n.email: (n.settled_reason, n.cleared_at is not None) for n in Nomination.objects.all()}
    assert state == {
        "person1@example.edu.pk": ("deposit recorded", True),  # seated and paid: invited
        "person2@example.edu.pk": ("", False),  # no deposit yet
        "person3@example.edu.pk": ("", False),  # waiting: the deposit is recorded once seated
        "person4@example.edu.pk": ("", False),
    }
    assert list(Invitation.objects.values_list("nomination__email", "state")) == [("person1@example.edu.pk", "sent")]
    assert [m.to for m in mail.outbox] == [["person1@example.edu.pk"]]
    settled = AuditEntry.objects.filter(action="nomination.settle").values_list("target_id", flat=True)
    assert sorted(settled) == sorted(str(deposits[e].nomination_id) for e in deposits)
    assert AuditEntry.objects.filter(action="nomination.clear", target_id=str(first.nomination_id)).count() == 1


def test_a_file_confirmed_by_an_account_that_is_neither_focal_person_nor_staff_saves_nothing(phase):
    from tests import factories

    university, focal = university_ready(phase=phase, code="QAU", licenses=5)
    clerk = factories.make_user(email="clerk@example.pk")  # neither the focal person nor HEC staff
    upload = upload_of(phase, university, focal, [line(1, receipt=""), line(2), line(3)])
    report = nominations_file_commit(upload=upload, actor=clerk)
    assert [row.outcome for row in report.rows] == ["refused"] * 3
    assert {error for row in report.rows for error in row.errors} == {
        "Only the university's focal person or HEC staff can do this."
    }
    assert not Nomination.objects.exists() and not Deposit.objects.exists()
    assert not AuditEntry.objects.filter(action__in=["deposit.record", "nomination.submit"]).exists()


def test_the_queries_of_a_file_with_deposits_do_not_grow_with_the_rows(phase):
    university, focal = university_ready(phase=phase, code="QAU", licenses=100)

    def queries(lines):
        upload = upload_of(phase, university, focal, lines)
        with CaptureQueriesContext(connection) as captured:
            nominations_file_commit(upload=upload, actor=focal)
        return len(captured)

    small = queries([line(n) for n in range(1, 6)])
    large = queries([line(n) for n in range(100, 130)])
    assert small == large
    assert Deposit.objects.count() == Invitation.objects.count() == 35


def test_a_paid_private_invoice_clears_its_learners_in_queries_that_do_not_grow(
    phase, invite_link, hec_staff, django_capture_on_commit_callbacks
):
    from fees.invoices import invoice_issue, invoice_mark_paid

    def paid(code: str, learners: int) -> tuple[int, list[Nomination]]:
        university, focal = university_ready(phase=phase, code=code, sector="private", licenses=learners - 1)
        upload = upload_of(
            phase, university, focal, [line(n, receipt="") for n in range(100 * learners, 101 * learners)]
        )
        nominations_file_commit(upload=upload, actor=focal)  # the last one waits
        invoice = invoice_issue(phase=phase, university=university, actor=hec_staff)
        with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=False):
            invoice_mark_paid(invoice=invoice, reference="PAID-1", actor=hec_staff)
        return len(captured), list(Nomination.objects.filter(university=university).order_by("id"))

    small, few = paid("LUMS", 3)
    large, many = paid("FAST", 40)
    assert small == large
    for nominations in (few, many):
        *seated, waiting = nominations
        assert all(n.settled_at and n.cleared_at and n.invitation.state == "queued" for n in seated)
        # Paid for as many licenses as it holds: the waiting nominee is settled when a paid seat frees up.
        assert waiting.status == "waiting" and waiting.settled_at is None and waiting.cleared_at is None
        cleared = AuditEntry.objects.filter(action="nomination.clear", target_id__in=[str(n.pk) for n in seated])
        assert cleared.count() == len(seated)
    assert not mail.outbox  # sent by the worker after commit (not run here)
