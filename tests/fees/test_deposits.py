"""Public deposits recorded by the focal person (or HEC staff), corrections as new rows, the
refusals, and disability waivers checked by HEC staff."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from fees.deposits import deposit_correct, deposit_record
from fees.exceptions import FeeError
from fees.models import Deposit, DisabilityWaiver
from fees.waivers import disability_seat_decide
from registrations.models import Invitation
from tests.factories import learner_account, pdf_upload
from tests.fees.conftest import nominate_student, register_alumnus, university_ready

pytestmark = pytest.mark.django_db
PAID_ON = datetime.date(2021, 9, 15)


@pytest.fixture
def invite_link(phase):
    phase.coursera_invitation_url = "https://www.coursera.org/programs/dlsei?invite=abc"
    phase.save(update_fields=["coursera_invitation_url"])


@pytest.fixture
def student(phase, qau):
    university, focal = qau
    return nominate_student(phase=phase, university=university, focal=focal, full_name="Ayesha Khan")


def test_focal_person_records_a_deposit_and_the_learner_is_invited(
    client, phase, qau, student, invite_link, django_capture_on_commit_callbacks
):
    _, focal = qau
    client.force_login(focal)
    listing = client.get(reverse("fees:deposits")).content.decode()
    assert f'href="{reverse("fees:deposits")}"' in listing  # in the navigation
    assert "Ayesha Khan" in listing and "Not recorded" in listing
    assert "Rs 4,000" in listing

    form = client.get(reverse("fees:deposit_record", args=[student.pk])).content.decode()
    assert '<label for="id_receipt">' in form and 'type="date"' in form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("fees:deposit_record", args=[student.pk]), {"receipt": "RCPT-77", "paid_on": "2021-09-15"}
        )

    assert response.status_code == 302
    deposit = Deposit.objects.get()
    assert (deposit.amount, deposit.receipt, deposit.paid_on, deposit.recorded_by) == (4000, "RCPT-77", PAID_ON, focal)
    student.refresh_from_db()
    assert student.settled_reason == "deposit recorded" and student.cleared_at is not None
    assert Invitation.objects.filter(nomination=student).exists()
    assert [m.to for m in mail.outbox] == [[student.email]]
    assert AuditEntry.objects.filter(action="deposit.record", target_id=str(deposit.pk)).exists()
    listing = client.get(reverse("fees:deposits")).content.decode()
    assert "Receipt RCPT-77" in listing


def test_another_universitys_nominee_is_not_found(client, phase, student):
    _, other_focal = university_ready(phase=phase, code="PU")
    client.force_login(other_focal)
    assert client.get(reverse("fees:deposit_record", args=[student.pk])).status_code == 404
    response = client.post(reverse("fees:deposit_record", args=[student.pk]), {"receipt": "X", "paid_on": "2021-09-15"})
    assert response.status_code == 404
    assert "Ayesha Khan" not in client.get(reverse("fees:deposits")).content.decode()
    with pytest.raises(FeeError, match="Only the focal person"):
        deposit_record(nomination=student, receipt="X", paid_on=PAID_ON, actor=other_focal)
    assert not Deposit.objects.exists()


def test_a_future_date_or_blank_receipt_is_refused_beside_the_field(client, qau, student):
    client.force_login(qau[1])
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post(reverse("fees:deposit_record", args=[student.pk]), {"receipt": " ", "paid_on": tomorrow})
    page = response.content.decode()
    assert response.status_code == 400
    assert f"{tomorrow} is in the future." in page and 'aria-describedby="id_paid_on_helptext id_paid_on_error"' in page
    assert "This field is required" in page or "Enter the receipt number" in page
    assert not Deposit.objects.exists()


def test_a_second_deposit_is_refused_and_a_correction_is_a_new_row(qau, student, hec_staff):
    _, focal = qau
    first = deposit_record(nomination=student, receipt="RCPT-1", paid_on=PAID_ON, actor=focal)
    with pytest.raises(FeeError, match="already recorded .*RCPT-1"):
        deposit_record(nomination=student, receipt="RCPT-2", paid_on=PAID_ON, actor=focal)
    with pytest.raises(FeeError, match="why"):
        deposit_correct(deposit=first, receipt="RCPT-2", paid_on=PAID_ON, reason="", actor=focal)

    correction = deposit_correct(
        deposit=first, receipt="RCPT-2", paid_on=PAID_ON, reason="Receipt number mistyped.", actor=hec_staff
    )

    assert correction.supersedes == first and correction.reason == "Receipt number mistyped."
    assert Deposit.objects.count() == 2  # the first record stays
    with pytest.raises(FeeError, match="already been corrected"):
        deposit_correct(deposit=first, receipt="RCPT-3", paid_on=PAID_ON, reason="again", actor=focal)


def test_correcting_through_the_page_asks_for_a_reason(client, qau, student):
    _, focal = qau
    deposit_record(nomination=student, receipt="RCPT-1", paid_on=PAID_ON, actor=focal)
    client.force_login(focal)
    page = client.get(reverse("fees:deposit_record", args=[student.pk])).content.decode()
    assert "Correct a deposit" in page and 'name="reason"' in page
    client.post(
        reverse("fees:deposit_record", args=[student.pk]),
        {"receipt": "RCPT-9", "paid_on": "2021-09-16", "reason": "Wrong receipt."},
    )
    assert list(Deposit.objects.order_by("id").values_list("receipt", flat=True)) == ["RCPT-1", "RCPT-9"]


def test_refusals_name_the_reason(phase, qau, alumni_pool, hec_staff):
    private, private_focal = university_ready(phase=phase, code="LUMS", sector="private")
    private_student = nominate_student(phase=phase, university=private, focal=private_focal)
    with pytest.raises(FeeError, match="Private university learners pay no deposit"):
        deposit_record(nomination=private_student, receipt="R", paid_on=PAID_ON, actor=hec_staff)

    alumnus = register_alumnus(phase=phase)
    with pytest.raises(FeeError, match="Alumni pay their fee by bank challan"):
        deposit_record(nomination=alumnus, receipt="R", paid_on=PAID_ON, actor=hec_staff)

    university, focal = qau
    disabled = nominate_student(
        phase=phase, university=university, focal=focal, disability=True, certificate=pdf_upload("cert.pdf")
    )
    assert disabled.seat_kind == "disability"
    with pytest.raises(FeeError, match="reserved seat"):
        deposit_record(nomination=disabled, receipt="R", paid_on=PAID_ON, actor=focal)
    assert not Deposit.objects.exists()


def test_listing_a_disability_seat_writes_nothing(client, phase, qau, hec_staff):
    university, focal = qau
    disabled = nominate_student(
        phase=phase, university=university, focal=focal, disability=True, certificate=pdf_upload("cert.pdf")
    )
    audit_entries = AuditEntry.objects.count()

    client.force_login(focal)
    listing = client.get(reverse("fees:deposits")).content.decode()
    assert "Free: disability waiver" in listing and "Waiting for HEC to check the certificate" in listing
    client.force_login(learner_account(disabled))
    assert "HEC is checking your disability certificate" in client.get(reverse("fees:my_license")).content.decode()
    client.force_login(hec_staff)
    seats = client.get(reverse("admin:fees_disabilityseat_changelist")).content.decode()
    assert disabled.full_name in seats and "Waiting for HEC to check the certificate" in seats
    assert reverse("registrations:file_nomination", args=[disabled.pk, "certificate"]) in seats
    assert client.get(reverse("admin:fees_disabilitywaiver_changelist")).status_code == 200

    assert not DisabilityWaiver.objects.exists()
    assert AuditEntry.objects.count() == audit_entries


def test_staff_approving_a_disability_seat_writes_the_waiver_and_invites_the_learner(
    client, phase, qau, hec_staff, invite_link, django_capture_on_commit_callbacks
):
    university, focal = qau
    disabled = nominate_student(
        phase=phase, university=university, focal=focal, disability=True, certificate=pdf_upload("cert.pdf")
    )
    client.force_login(hec_staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:fees_disabilityseat_changelist"), {"action": "approve", "_selected_action": [disabled.pk]}
        )

    waiver = DisabilityWaiver.objects.get(nomination=disabled)
    disabled.refresh_from_db()
    assert waiver.status == "approved" and waiver.checked_by == hec_staff
    assert waiver.certificate.name == disabled.disability_certificate.name
    assert disabled.settled_reason == "disability waiver approved" and disabled.cleared_at is not None
    assert not Deposit.objects.exists()
    assert list(
        AuditEntry.objects.filter(action__startswith="waiver.").order_by("id").values_list("action", flat=True)
    ) == [
        "waiver.request",
        "waiver.approve",
    ]
    seats = client.get(reverse("admin:fees_disabilityseat_changelist")).content.decode()
    assert "Approved" in seats


def test_rejecting_a_disability_seat_needs_a_reason_and_a_refusal_writes_nothing(client, phase, qau, hec_staff):
    university, focal = qau
    disabled = nominate_student(
        phase=phase, university=university, focal=focal, disability=True, certificate=pdf_upload("cert.pdf")
    )
    plain = nominate_student(phase=phase, university=university, focal=focal)
    with pytest.raises(FeeError, match="reason"):
        disability_seat_decide(nomination=disabled, approve=False, actor=hec_staff)
    with pytest.raises(FeeError, match="does not hold a reserved disability seat"):
        disability_seat_decide(nomination=plain, approve=True, actor=hec_staff)
    assert not DisabilityWaiver.objects.exists()

    client.force_login(hec_staff)
    client.post(
        reverse("admin:fees_disabilityseat_changelist"),
        {"action": "reject", "_selected_action": [disabled.pk], "apply": "1", "reason": "The certificate has expired."},
    )
    waiver = DisabilityWaiver.objects.get()
    disabled.refresh_from_db()
    assert waiver.status == "rejected" and waiver.reason == "The certificate has expired."
    assert disabled.settled_at is None
    client.force_login(learner_account(disabled))
    assert "The certificate has expired." in client.get(reverse("fees:my_license")).content.decode()


def test_a_nahe_trainee_pays_the_deposit_like_a_public_learner(phase, hec_staff):
    nahe, focal = university_ready(phase=phase, code="NAHE", sector="nahe")
    trainee = nominate_student(phase=phase, university=nahe, focal=focal, role="faculty", programme_years=None)

    deposit = deposit_record(nomination=trainee, receipt="NAHE-7", paid_on=PAID_ON, actor=focal)

    assert (deposit.amount, deposit.nomination.pool) == (phase.public_deposit_rupees, "nahe")
    trainee.refresh_from_db()
    assert trainee.settled_at is not None


# A deposit belongs to a seat ---------------------------------------------------------------------


def test_a_waiting_nominee_owes_no_deposit_yet(client, phase, qau):
    university, focal = qau  # 10 licenses, 1 reserved
    nominees = [nominate_student(phase=phase, university=university, focal=focal) for _ in range(10)]
    waiting = nominees[-1]
    assert waiting.status == "waiting"
    client.force_login(focal)
    response = client.post(
        reverse("fees:deposit_record", args=[waiting.pk]), {"receipt": "RCPT-9", "paid_on": "2021-09-15"}, follow=True
    )
    assert "is on the waiting list and holds no seat yet" in response.content.decode()
    assert not Deposit.objects.exists()


def test_the_same_receipt_twice_in_one_university_is_refused_naming_who_has_it(client, phase, qau):
    university, focal = qau
    first = nominate_student(phase=phase, university=university, focal=focal, full_name="Ayesha Khan")
    second = nominate_student(phase=phase, university=university, focal=focal, full_name="Bilal Ahmed")
    deposit_record(nomination=first, receipt="RCPT-77", paid_on=PAID_ON, actor=focal)
    client.force_login(focal)
    response = client.post(
        reverse("fees:deposit_record", args=[second.pk]), {"receipt": " rcpt-77", "paid_on": "2021-09-16"}, follow=True
    )
    assert "Receipt rcpt-77 is already recorded for Ayesha Khan&#x27;s deposit." in response.content.decode()
    assert Deposit.objects.count() == 1
    # Another university may have its own receipt 77.
    other, other_focal = university_ready(phase=phase, code="PU")
    third = nominate_student(phase=phase, university=other, focal=other_focal)
    assert deposit_record(nomination=third, receipt="RCPT-77", paid_on=PAID_ON, actor=other_focal).receipt == "RCPT-77"


def test_a_deposit_of_a_nomination_ended_before_its_license_began_is_listed_for_return(client, phase, qau, hec_staff):
    from registrations.services import nomination_withdraw

    university, focal = qau
    leaver = nominate_student(phase=phase, university=university, focal=focal, full_name="Sara Leaves")
    deposit_record(nomination=leaver, receipt="RCPT-5", paid_on=PAID_ON, actor=hec_staff)
    nomination_withdraw(nomination=leaver, actor=hec_staff, reason="Left the university before starting")

    client.force_login(focal)
    page = client.get(reverse("fees:ledgers") + f"?phase={phase.slug}").content.decode()
    assert "To return to the learner" in page and "Deposits to return" in page
    assert page.index("Sara Leaves") > page.index("Deposits to return")
    pending = client.get(reverse("fees:ledger_download", args=["pending", "csv"]) + f"?phase={phase.slug}")
    assert "Sara Leaves" not in pending.content.decode()
    assert "Adds up" in page
