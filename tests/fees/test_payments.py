"""Alumni payments: upload of the paid challan and transcript, HEC's verification or rejection in
the admin (with the uploads beside the record), the e-mail with the reason, and uploading again."""

import datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from fees.alumni_payments import alumni_payment_reject, alumni_payment_submit, alumni_payment_verify
from fees.challans import challan_issue
from fees.exceptions import FeeError
from fees.models import AlumniPayment, Challan
from registrations.models import Invitation
from registrations.services import alumni_hold_set, alumni_holds_expire
from tests import factories
from tests.factories import learner_account, pdf_upload
from tests.fees.conftest import png_upload, register_alumnus

pytestmark = pytest.mark.django_db


@pytest.fixture
def alumnus(phase, alumni_pool):
    phase.coursera_invitation_url = "https://www.coursera.org/programs/dlsei-phase-test?invite=abc"
    phase.save(update_fields=["coursera_invitation_url"])
    nomination = register_alumnus(phase=phase, full_name="Bilal Ahmed", email="bilal@example.pk")
    challan_issue(nomination=nomination, actor=learner_account(nomination))
    return nomination


def upload(client, *, paid=None, transcript=None):
    return client.post(
        reverse("fees:payment_submit"),
        {"paid_challan": paid or pdf_upload("paid.pdf"), "transcript": transcript or png_upload("transcript.png")},
    )


def admin_action(client, model: str, action: str, pks, **extra):
    data = {"action": action, "_selected_action": [str(pk) for pk in pks], **extra}
    return client.post(reverse(f"admin:fees_{model}_changelist"), data, follow=True)


def test_upload_stops_the_hold_and_waits_for_hec(client, alumnus):
    client.force_login(learner_account(alumnus))

    response = upload(client)

    assert response.status_code == 302
    payment = AlumniPayment.objects.get()
    assert payment.status == "submitted" and payment.challan.nomination == alumnus
    assert payment.paid_challan.read().startswith(b"%PDF-")
    alumnus.refresh_from_db()
    assert alumnus.hold_expires_at is None
    assert alumni_holds_expire(now=timezone.now() + datetime.timedelta(days=60)) == 0
    page = client.get(reverse("fees:my_license")).content.decode()
    assert "Submitted, waiting for HEC" in page
    assert 'action="/fees/me/payment/"' not in page  # no second upload while HEC looks


def test_a_file_that_is_not_a_pdf_or_image_is_refused_and_nothing_changes(client, alumnus):
    client.force_login(learner_account(alumnus))
    fake = SimpleUploadedFile("paid.pdf", b"<html>saved web page</html>", content_type="application/pdf")

    response = upload(client, paid=fake)

    assert response.status_code == 400
    page = response.content.decode()
    assert "This file is not a PDF, PNG or JPEG image" in page
    assert 'aria-describedby="id_paid_challan_helptext id_paid_challan_error"' in page
    assert not AlumniPayment.objects.exists()
    alumnus.refresh_from_db()
    assert alumnus.hold_expires_at is not None


def test_a_second_upload_while_one_waits_is_refused(alumnus):
    alumni_payment_submit(
        nomination=alumnus, paid_challan=pdf_upload(), transcript=pdf_upload(), actor=learner_account(alumnus)
    )
    with pytest.raises(FeeError, match="still waiting for HEC"):
        alumni_payment_submit(
            nomination=alumnus, paid_challan=pdf_upload(), transcript=pdf_upload(), actor=learner_account(alumnus)
        )
    assert AlumniPayment.objects.count() == 1


def test_staff_verify_in_the_admin_and_the_alumnus_is_invited(
    client, alumnus, hec_staff, django_capture_on_commit_callbacks
):
    payment = alumni_payment_submit(
        nomination=alumnus, paid_challan=pdf_upload(), transcript=png_upload(), actor=learner_account(alumnus)
    )
    client.force_login(hec_staff)
    change = client.get(reverse("admin:fees_alumnipayment_change", args=[payment.pk])).content.decode()
    assert reverse("fees:payment_file", args=[payment.pk, "paid_challan"]) in change
    assert f'<img src="{reverse("fees:payment_file", args=[payment.pk, "transcript"])}"' in change
    assert "Rs 8,000" in change
    shown = client.get(reverse("fees:payment_file", args=[payment.pk, "transcript"]))
    assert shown["Content-Type"] == "image/png"

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_action(client, "alumnipayment", "verify", [payment.pk])

    assert "1 payment verified." in response.content.decode()
    payment.refresh_from_db()
    alumnus.refresh_from_db()
    assert payment.status == "verified" and payment.reviewed_by == hec_staff and payment.reviewed_at
    assert alumnus.settled_reason == "alumni payment verified"
    assert alumnus.cleared_at is not None
    assert Invitation.objects.filter(nomination=alumnus).exists()
    assert [m.to for m in mail.outbox] == [["bilal@example.pk"]]  # the invitation

    again = admin_action(client, "alumnipayment", "verify", [payment.pk])
    assert "already decided (“Verified”)" in again.content.decode()


def test_reject_asks_the_reason_mails_it_and_lets_the_alumnus_upload_again(
    client, alumnus, hec_staff, django_capture_on_commit_callbacks
):
    payment = alumni_payment_submit(
        nomination=alumnus, paid_challan=pdf_upload(), transcript=pdf_upload(), actor=learner_account(alumnus)
    )
    client.force_login(hec_staff)
    asked = admin_action(client, "alumnipayment", "reject", [payment.pk])
    assert '<label for="id_reason">' in asked.content.decode()
    assert AlumniPayment.objects.get().status == "submitted"

    with django_capture_on_commit_callbacks(execute=True):
        admin_action(
            client, "alumnipayment", "reject", [payment.pk], apply="1", reason="The bank stamp is not readable."
        )

    payment.refresh_from_db()
    assert payment.status == "rejected" and payment.reason == "The bank stamp is not readable."
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["bilal@example.pk"]
    assert "The bank stamp is not readable." in message.body
    assert "/fees/me/" in message.body
    alumnus.refresh_from_db()
    assert alumnus.hold_expires_at > timezone.now() + datetime.timedelta(days=13)
    assert alumnus.cleared_at is None

    client.force_login(learner_account(alumnus))
    page = client.get(reverse("fees:my_license")).content.decode()
    assert "The bank stamp is not readable." in page and "Upload again" in page
    assert upload(client).status_code == 302
    assert list(AlumniPayment.objects.order_by("id").values_list("status", flat=True)) == ["rejected", "submitted"]


def test_a_rejection_needs_a_reason(alumnus, hec_staff):
    payment = alumni_payment_submit(
        nomination=alumnus, paid_challan=pdf_upload(), transcript=pdf_upload(), actor=learner_account(alumnus)
    )
    with pytest.raises(FeeError, match="reason"):
        alumni_payment_reject(payment=payment, actor=hec_staff, reason="  ")
    assert AlumniPayment.objects.get().status == "submitted"


def test_a_restarted_hold_past_the_due_date_gets_a_new_challan(alumnus, hec_staff):
    first = Challan.objects.get()
    alumni_hold_set(nomination=alumnus, until=timezone.now() + datetime.timedelta(days=1), actor=hec_staff)
    Challan.objects.filter(pk=first.pk).update(due_date=timezone.localdate() + datetime.timedelta(days=1))
    payment = alumni_payment_submit(
        nomination=alumnus, paid_challan=pdf_upload(), transcript=pdf_upload(), actor=learner_account(alumnus)
    )
    alumni_payment_reject(payment=payment, actor=hec_staff, reason="Wrong amount paid.")

    second = challan_issue(nomination=alumnus, actor=learner_account(alumnus))

    first.refresh_from_db()
    assert second.number == "DLSEI-2021-000002" and second.due_date > first.due_date
    assert first.cancelled_at is not None  # kept, never reused
    assert challan_issue(nomination=alumnus, actor=learner_account(alumnus)) == second


def test_an_expired_hold_frees_the_seat_and_no_payment_is_taken(alumnus):
    alumni_holds_expire(now=timezone.now() + datetime.timedelta(days=15))
    alumnus.refresh_from_db()
    assert alumnus.status == "expired"
    with pytest.raises(FeeError, match="Payment hold expired"):
        alumni_payment_submit(
            nomination=alumnus, paid_challan=pdf_upload(), transcript=pdf_upload(), actor=learner_account(alumnus)
        )


def test_uploads_are_for_staff_only(client, alumnus):
    payment = alumni_payment_submit(
        nomination=alumnus, paid_challan=pdf_upload(), transcript=pdf_upload(), actor=learner_account(alumnus)
    )
    client.force_login(learner_account(alumnus))
    assert client.get(reverse("fees:payment_file", args=[payment.pk, "paid_challan"])).status_code == 404
    client.force_login(factories.make_focal_person(university=factories.make_university()))
    assert client.get(reverse("fees:payment_file", args=[payment.pk, "transcript"])).status_code == 404


def test_verify_and_reject_only_for_hec_staff_in_the_admin(client, alumnus):
    payment = alumni_payment_submit(
        nomination=alumnus, paid_challan=pdf_upload(), transcript=pdf_upload(), actor=learner_account(alumnus)
    )
    client.force_login(learner_account(alumnus))
    response = admin_action(client, "alumnipayment", "verify", [payment.pk])
    assert "Log in" in response.content.decode() or response.status_code == 403
    assert AlumniPayment.objects.get().status == "submitted"
    alumni_payment_verify(payment=payment, actor=factories.make_hec_staff())
    assert AlumniPayment.objects.get().status == "verified"


def test_fee_records_in_the_admin_are_read_only_and_never_deletable(client, alumnus, hec_staff):
    payment = alumni_payment_submit(
        nomination=alumnus, paid_challan=pdf_upload(), transcript=pdf_upload(), actor=learner_account(alumnus)
    )
    client.force_login(hec_staff)
    for model in ("challan", "alumnipayment", "deposit", "disabilitywaiver", "invoice"):
        listing = client.get(reverse(f"admin:fees_{model}_changelist"))
        assert listing.status_code == 200
        assert "delete_selected" not in listing.content.decode()
        assert client.get(reverse(f"admin:fees_{model}_add")).status_code == 403
    challan = Challan.objects.get()
    assert client.get(reverse("admin:fees_challan_delete", args=[challan.pk])).status_code == 403
    challan_page = client.get(reverse("admin:fees_challan_change", args=[challan.pk])).content.decode()
    assert challan.number in challan_page and 'name="_save"' not in challan_page
    change = client.get(reverse("admin:fees_alumnipayment_change", args=[payment.pk])).content.decode()
    assert 'name="_save"' not in change

    empty = admin_action(client, "alumnipayment", "reject", [payment.pk], apply="1", reason="")
    assert "This field is required." in empty.content.decode()
    assert AlumniPayment.objects.get().status == "submitted"
