"""1Bill's biller API: BillInquiry and BillPayment as the bank network calls them, every response
code, duplicates, a blocked challan, a paid private invoice clearing its learners, the log of
every request, and two real processes posting the same payment at the same moment."""

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from fees.alumni_payments import alumni_payment_verify
from fees.challans import challan_issue
from fees.invoices import invoice_issue
from fees.models import AlumniPayment, BillPayment, OneBillLog
from registrations.models import Invitation
from registrations.services import alumni_holds_expire
from tests.factories import learner_account, pdf_upload
from tests.fees.conftest import nominate_student, register_alumnus, university_ready
from tests.private_servers import REAL_PROCESSES

ROOT = Path(settings.BASE_DIR)
USER, PASSWORD = "onelink", "s3cret-biller-password"
HEADERS = {"headers": {"username": USER, "password": PASSWORD}}


@pytest.fixture(autouse=True)
def _credentials(settings):
    settings.ONEBILL_USERNAME, settings.ONEBILL_PASSWORD = USER, PASSWORD


@pytest.fixture
def alumnus(phase, alumni_pool):
    nomination = register_alumnus(phase=phase, full_name="Muhammad Abdullah Khan Niazi Durrani", email="mak@example.pk")
    challan = challan_issue(nomination=nomination, actor=learner_account(nomination))
    return nomination, challan


def inquiry(client, number: str, **extra):
    body = {"consumer_number": number, "bank_mnemonic": "HBL", "reserved": ""}
    return client.post(reverse("onebill:bill_inquiry"), json.dumps(body), content_type="application/json", **extra)


def payment_body(number: str, **changes) -> dict:
    return {
        "consumer_number": number, "tran_auth_id": "123456", "transaction_amount": "000000800000",
        "tran_date": "20211012", "tran_time": "143005", "bank_mnemonic": "HBL", "reserved": "", **changes,
    }  # fmt: skip


def pay(client, number: str, extra=HEADERS, **changes):
    body = payment_body(number, **changes)
    return client.post(reverse("onebill:bill_payment"), json.dumps(body), content_type="application/json", **extra)


@pytest.mark.django_db
def test_the_api_does_not_exist_until_configured_and_refuses_wrong_credentials(client, settings, alumnus):
    _, challan = alumnus
    settings.ONEBILL_USERNAME = settings.ONEBILL_PASSWORD = ""
    assert inquiry(client, challan.consumer_number, **HEADERS).status_code == 404
    assert pay(client, challan.consumer_number).status_code == 404
    assert client.get(reverse("onebill:bill_inquiry")).status_code == 404

    settings.ONEBILL_USERNAME, settings.ONEBILL_PASSWORD = USER, PASSWORD
    assert inquiry(client, challan.consumer_number).status_code == 401
    wrong = {"headers": {"username": USER, "password": "guess"}}
    assert inquiry(client, challan.consumer_number, **wrong).status_code == 401
    assert pay(client, challan.consumer_number, extra=wrong).status_code == 401
    assert pay(client, challan.consumer_number, extra={}).status_code == 401
    assert not BillPayment.objects.exists() and not OneBillLog.objects.exists()
    assert client.get(reverse("onebill:bill_inquiry"), **HEADERS).status_code == 405


@pytest.mark.django_db
def test_inquiry_of_an_unpaid_challan(client, alumnus):
    nomination, challan = alumnus

    response = inquiry(client, challan.consumer_number, **HEADERS)

    assert response.status_code == 200
    assert response.json() == {
        "response_Code": "00",
        "consumer_Detail": "Muhammad Abdullah Khan Niazi D",
        "bill_status": "U",
        "due_date": challan.due_date.strftime("%Y%m%d"),
        "amount_within_dueDate": "+0000000800000",
        "amount_after_dueDate": "+0000000800000",
        "billing_month": timezone.localdate(challan.issued_at).strftime("%y%m"),
        "date_paid": "",
        "amount_paid": "",
        "tran_auth_Id": "",
        "reserved": "",
    }
    log = OneBillLog.objects.get()
    assert (log.endpoint, log.consumer_number, log.bank_mnemonic, log.response_code) == (
        "inquiry", challan.consumer_number, "HBL", "00",
    )  # fmt: skip
    assert log.response == response.json()


@pytest.mark.django_db
def test_inquiry_codes_for_unknown_and_malformed_numbers(client, alumnus):
    assert inquiry(client, settings.ONEBILL_BILLER_PREFIX + "9999999999999", **HEADERS).json()["response_Code"] == "01"
    assert inquiry(client, "12345", **HEADERS).json()["response_Code"] == "04"
    broken = client.post(reverse("onebill:bill_inquiry"), "not json", content_type="application/json", **HEADERS)
    assert broken.status_code == 200 and broken.json()["response_Code"] == "04"
    assert OneBillLog.objects.count() == 3


@pytest.mark.django_db
def test_payment_posts_once_with_its_audit_entry_and_lifts_the_hold(
    client, alumnus, django_capture_on_commit_callbacks
):
    nomination, challan = alumnus

    with django_capture_on_commit_callbacks(execute=True):
        response = pay(client, challan.consumer_number)

    assert response.json() == {
        "response_Code": "00", "Identification_parameter": challan.consumer_number, "reserved": "",
    }  # fmt: skip
    payment = BillPayment.objects.get()
    assert (payment.challan, payment.amount, payment.channel, payment.bank_mnemonic, payment.tran_auth_id) == (
        challan, 8000, "1bill", "HBL", "123456",
    )  # fmt: skip
    assert timezone.localtime(payment.paid_at).strftime("%Y%m%d%H%M%S") == "20211012143005"
    assert AuditEntry.objects.filter(action="bill.pay", target_id=str(payment.pk)).count() == 1
    (told,) = mail.outbox
    assert told.to == ["mak@example.pk"] and "upload your final transcript" in told.body
    assert f"challan {challan.number} of Rs 8,000 is paid" in told.body
    nomination.refresh_from_db()
    assert nomination.hold_expires_at is None
    assert alumni_holds_expire(now=timezone.now() + datetime.timedelta(days=90)) == 0
    answer = inquiry(client, challan.consumer_number, **HEADERS).json()
    assert (answer["bill_status"], answer["date_paid"], answer["amount_paid"], answer["tran_auth_Id"]) == (
        "P", "20211012", "+0000000800000", "123456",
    )  # fmt: skip

    # The same transaction again, and another transaction for the paid bill: nothing posts twice.
    assert pay(client, challan.consumer_number).json()["response_Code"] == "03"
    assert pay(client, challan.consumer_number, tran_auth_id="654321").json()["response_Code"] == "03"
    assert BillPayment.objects.count() == 1
    assert AuditEntry.objects.filter(action="bill.pay").count() == 1
    codes = OneBillLog.objects.filter(endpoint="payment").order_by("id").values_list("response_code", flat=True)
    assert list(codes) == ["00", "03", "03"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [
        {"transaction_amount": "000000400000"},  # partial
        {"transaction_amount": "000000900000"},  # too much
        {"transaction_amount": "8000"},
        {"transaction_amount": "-0000000800000"},
        {"tran_auth_id": "12345"},
        {"tran_auth_id": "ABCDEF"},
        {"tran_date": "20211332"},
        {"tran_time": "256000"},
        {"bank_mnemonic": ""},
        {"consumer_number": "1234"},
        {"tran_date": 20211012},
    ],
)
def test_invalid_data_is_refused_and_changes_nothing(client, alumnus, changes):
    _, challan = alumnus
    assert pay(client, challan.consumer_number, **changes).json()["response_Code"] == "04"
    assert not BillPayment.objects.exists()


@pytest.mark.django_db
def test_the_signed_inquiry_amount_form_is_accepted(client, alumnus):
    _, challan = alumnus
    assert pay(client, challan.consumer_number, transaction_amount="+0000000800000").json()["response_Code"] == "00"


@pytest.mark.django_db
def test_unknown_consumer_number_is_not_found(client, alumnus):
    number = settings.ONEBILL_BILLER_PREFIX + "0000000000777"
    assert pay(client, number).json()["response_Code"] == "01"


@pytest.mark.django_db
def test_a_challan_whose_hold_expired_is_blocked(client, alumnus):
    nomination, challan = alumnus
    later = nomination.hold_expires_at + datetime.timedelta(minutes=1)
    # Past the hold but before the expiry job ran: already blocked.
    nomination.hold_expires_at = timezone.now() - datetime.timedelta(minutes=1)
    nomination.save(update_fields=["hold_expires_at"])
    assert inquiry(client, challan.consumer_number, **HEADERS).json()["bill_status"] == "B"
    assert inquiry(client, challan.consumer_number, **HEADERS).json()["response_Code"] == "02"
    assert pay(client, challan.consumer_number).json()["response_Code"] == "02"
    # And after it ran: the seat is gone, so is the bill.
    assert alumni_holds_expire(now=max(later, timezone.now())) == 1
    assert pay(client, challan.consumer_number).json()["response_Code"] == "02"
    assert not BillPayment.objects.exists()


@pytest.mark.django_db
def test_after_paying_by_1bill_the_alumnus_uploads_only_the_transcript(client, alumnus, hec_staff):
    nomination, challan = alumnus
    pay(client, challan.consumer_number)
    client.force_login(learner_account(nomination))

    page = client.get(reverse("fees:my_license")).content.decode()

    assert challan.consumer_number in page
    assert "HEC has the bank's record, so you do not need to upload it." in page
    assert 'name="paid_challan"' not in page and 'name="transcript"' in page
    response = client.post(reverse("fees:payment_submit"), {"transcript": pdf_upload("transcript.pdf")})
    assert response.status_code == 302
    upload = AlumniPayment.objects.get()
    assert upload.status == "submitted" and not upload.paid_challan and upload.transcript
    alumni_payment_verify(payment=upload, actor=hec_staff)
    nomination.refresh_from_db()
    assert nomination.settled_at is not None and nomination.cleared_at is not None


@pytest.mark.django_db
def test_a_paid_private_invoice_clears_its_learners(client, phase, hec_staff):
    university, focal = university_ready(phase=phase, code="LUMS", sector="private", licenses=3)
    learners = [nominate_student(phase=phase, university=university, focal=focal) for _ in range(2)]
    invoice = invoice_issue(phase=phase, university=university, actor=hec_staff)
    assert inquiry(client, invoice.consumer_number, **HEADERS).json()["consumer_Detail"] == university.name[:30]

    assert pay(client, invoice.consumer_number, transaction_amount="000002400000").json()["response_Code"] == "00"

    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.reference == "1bill HBL 123456" and invoice.marked_paid_by is None
    for learner in learners:
        learner.refresh_from_db()
        assert learner.settled_at is not None
    assert Invitation.objects.filter(nomination__in=learners).count() == 2
    assert pay(client, invoice.consumer_number, tran_auth_id="000001").json()["response_Code"] == "03"


@pytest.mark.django_db
def test_a_cancelled_invoice_is_blocked(client, phase, hec_staff):
    university, _ = university_ready(phase=phase, code="LUMS", sector="private", licenses=3)
    invoice = invoice_issue(phase=phase, university=university, actor=hec_staff)
    type(invoice).objects.filter(pk=invoice.pk).update(status="cancelled")
    assert pay(client, invoice.consumer_number, transaction_amount="000002400000").json()["response_Code"] == "02"


CHILD = r"""
import json, os, sys, time
import django
django.setup()
from django.core import mail
from django.db import connection
connection.settings_dict["NAME"] = sys.argv[1]
connection.ensure_connection()
from django.conf import settings
from django.test import Client
settings.ALLOWED_HOSTS = ["testserver"]
body = json.loads(sys.argv[2])
client = Client()
print("ready", flush=True)
while not os.path.exists(sys.argv[3]):
    time.sleep(0.001)
response = client.post("/api/1bill/BillPayment", json.dumps(body), content_type="application/json",
                       headers={"username": os.environ["ONEBILL_USERNAME"], "password": os.environ["ONEBILL_PASSWORD"]})
print(response.json()["response_Code"], flush=True)
"""


@pytest.mark.django_db(transaction=True)
@REAL_PROCESSES
def test_processes_posting_the_same_payment_at_once_post_it_once(phase, alumni_pool, tmp_path):
    nomination = register_alumnus(phase=phase)
    challan = challan_issue(nomination=nomination, actor=learner_account(nomination))
    go = tmp_path / "go"
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "dlsei.settings", "PYTHONPATH": str(ROOT),
        "ONEBILL_USERNAME": USER, "ONEBILL_PASSWORD": PASSWORD,
        "ONEBILL_BILLER_PREFIX": settings.ONEBILL_BILLER_PREFIX,
    }  # fmt: skip
    body = json.dumps(payment_body(challan.consumer_number))
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(connection.settings_dict["NAME"]), body, str(go)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for child in children:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
    connection.close()  # hold no connection (nor SQLite lock) while the children run
    go.touch()
    codes = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        codes.append(out.strip())

    assert sorted(codes) == ["00", "03", "03", "03"]
    assert BillPayment.objects.filter(challan=challan).count() == 1
    assert AuditEntry.objects.filter(action="bill.pay").count() == 1
    assert OneBillLog.objects.filter(endpoint="payment").count() == 4


@pytest.mark.django_db
def test_hec_staff_filter_and_export_the_payment_log(client, alumnus, hec_staff):
    _, challan = alumnus
    pay(client, challan.consumer_number)
    pay(client, challan.consumer_number)
    client.force_login(hec_staff)

    listed = client.get(reverse("admin:fees_onebilllog_changelist"), {"response_code": "03"}).content.decode()
    assert "1 1Bill request" in listed and challan.consumer_number in listed
    export_page = client.get(reverse("admin:fees_onebilllog_export"))
    assert export_page.status_code == 200 and "csv" in export_page.content.decode().lower()
    payments = client.get(reverse("admin:fees_billpayment_changelist")).content.decode()
    assert challan.number in payments and "123456" in payments


@pytest.mark.django_db
def test_a_late_fee_is_due_after_the_due_date_only_when_the_phase_sets_one(client, phase, hec_staff):
    from fees.bills import Bill

    university, _ = university_ready(phase=phase, code="LUMS", sector="private", licenses=3)
    invoice = invoice_issue(phase=phase, university=university, actor=hec_staff)
    answer = inquiry(client, invoice.consumer_number, **HEADERS).json()
    assert answer["amount_within_dueDate"] == answer["amount_after_dueDate"] == "+0000002400000"

    phase.late_fee_rupees = 500
    phase.save(update_fields=["late_fee_rupees"])
    answer = inquiry(client, invoice.consumer_number, **HEADERS).json()
    assert (answer["amount_within_dueDate"], answer["amount_after_dueDate"]) == ("+0000002400000", "+0000002450000")
    late = (Bill(invoice=invoice).due_date + datetime.timedelta(days=1)).strftime("%Y%m%d")
    on_time = pay(client, invoice.consumer_number, transaction_amount="000002400000", tran_date=late)
    assert on_time.json()["response_Code"] == "04"
    paid = pay(client, invoice.consumer_number, transaction_amount="000002450000", tran_date=late)
    assert paid.json()["response_Code"] == "00" and BillPayment.objects.get().amount == 24_500
