"""HEC staff's payments queue in the admin: opened on what waits, oldest first, counted on the
menu and the dashboard; the change page shows how the challan was paid and decides with buttons."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from fees.alumni_payments import alumni_payment_submit, alumni_payment_verify
from fees.bills import bill_payments_post
from fees.challans import challan_issue
from fees.models import AlumniPayment
from fees.onebill import payment_read
from registrations.services import nomination_reject
from tests.factories import learner_account, pdf_upload
from tests.fees.conftest import png_upload, register_alumnus

pytestmark = pytest.mark.django_db


def _alumnus(phase, name: str, *, by_bank: bool):
    nomination = register_alumnus(
        phase=phase, full_name=name, degree="BS Physics", graduation_date=datetime.date(2020, 6, 30)
    )
    challan = challan_issue(nomination=nomination, actor=learner_account(nomination))
    if by_bank:
        payment = payment_read({
            "consumer_number": challan.consumer_number, "tran_auth_id": "123456",
            "transaction_amount": "000000800000", "tran_date": "20211012", "tran_time": "101010",
            "bank_mnemonic": "HBL",
        })  # fmt: skip
        assert bill_payments_post(payments=[payment], channel="1bill", actor=None)[0].posted
    return alumni_payment_submit(
        nomination=nomination,
        paid_challan=None if by_bank else pdf_upload("paid.pdf"),
        transcript=png_upload("transcript.png"),
        actor=learner_account(nomination),
    )


@pytest.fixture
def queue(phase, alumni_pool, hec_staff):
    scanned = _alumnus(phase, "Sana Scan", by_bank=False)
    banked = _alumnus(phase, "Bilal Bank", by_bank=True)
    done = _alumnus(phase, "Done Already", by_bank=False)
    alumni_payment_verify(payment=done, actor=hec_staff)
    AlumniPayment.objects.filter(pk=scanned.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=2))
    return scanned, banked, done


def test_the_queue_opens_on_what_waits_oldest_first_and_is_counted(client, queue, hec_staff):
    scanned, banked, _ = queue
    client.force_login(hec_staff)

    listed = client.get(reverse("admin:fees_alumnipayment_changelist")).content.decode()
    assert listed.index("Sana Scan") < listed.index("Bilal Bank") and "Done Already" not in listed
    everything = client.get(reverse("admin:fees_alumnipayment_changelist"), {"status__exact": "verified"})
    assert "Done Already" in everything.content.decode()
    assert "Scan of the stamped challan uploaded" in listed and "through 1Bill (HBL, transaction 123456)" in listed

    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "2 alumni payments wait for review" in dashboard
    assert 'Payments to check <span class="count"' in dashboard and ">2</span>" in dashboard
    assert reverse("admin:fees_alumnipayment_changelist") + "?status__exact=submitted" in dashboard


def test_verify_and_reject_from_the_change_page(client, queue, hec_staff, django_capture_on_commit_callbacks):
    scanned, banked, _ = queue
    client.force_login(hec_staff)

    change = client.get(reverse("admin:fees_alumnipayment_change", args=[banked.pk])).content.decode()
    assert "Paid on Oct. 12, 2021 through 1Bill (HBL, transaction 123456)" in change
    assert "BS Physics, graduated on June 30, 2020" in change and banked.challan.consumer_number in change
    assert 'value="Verify"' in change and 'value="Reject"' in change
    verified = client.post(reverse("admin:fees_alumnipayment_decide", args=[banked.pk, "verify"]), follow=True)
    assert "The payment is verified; the alumnus is invited." in verified.content.decode()
    banked.refresh_from_db()
    assert banked.status == "verified" and banked.nomination.settled_at is not None
    assert 'value="Verify"' not in verified.content.decode()

    url = reverse("admin:fees_alumnipayment_decide", args=[scanned.pk, "reject"])
    refused = client.post(url, {"reason": ""}, follow=True)
    assert "Please give the reason for the rejection" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"reason": "The stamp is not readable."})
    scanned.refresh_from_db()
    assert scanned.status == "rejected" and scanned.reason == "The stamp is not readable."
    assert any("The stamp is not readable." in m.body for m in mail.outbox)
    again = client.post(url, {"reason": "twice"}, follow=True)
    assert "already decided" in again.content.decode()
    assert client.get(reverse("admin:fees_alumnipayment_decide", args=[scanned.pk, "verify"])).status_code == 404


def test_a_refusal_from_registrations_reaches_hec_staff_as_a_message_and_nothing_changes(client, queue, hec_staff):
    """Verifying settles the alumnus in registrations. When registrations refuses (HEC rejected the
    nomination meanwhile), staff read its reason on the change page and from the bulk action alike."""
    scanned, banked, _ = queue
    for payment in (scanned, banked):
        nomination_reject(nomination=payment.nomination, actor=hec_staff, reason="Not a graduate of 2020.")
    client.force_login(hec_staff)

    page = client.post(reverse("admin:fees_alumnipayment_decide", args=[banked.pk, "verify"]), follow=True)
    assert page.status_code == 200
    assert "nomination is rejected, so nothing can be settled for it." in page.content.decode()
    listed = client.post(
        reverse("admin:fees_alumnipayment_changelist"),
        {"action": "verify", "_selected_action": [scanned.pk]},
        follow=True,
    )
    assert listed.status_code == 200
    assert "nomination is rejected, so nothing can be settled for it." in listed.content.decode()
    for payment in (scanned, banked):
        payment.refresh_from_db()
        assert payment.status == "submitted" and payment.nomination.settled_at is None
