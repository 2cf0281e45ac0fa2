"""Private university invoices: licenses × fee, PERN or a separate PDF, and no invitation for the
university's learners until HEC marks the invoice paid."""

import pytest
from django.core import mail
from django.urls import reverse

from fees.exceptions import FeeError
from fees.invoices import invoice_issue, invoice_mark_paid, invoice_pdf
from fees.models import Invoice
from registrations.models import Invitation
from tests.fees.conftest import nominate_student, pdf_text, university_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def private(phase):
    phase.coursera_invitation_url = "https://www.coursera.org/programs/dlsei?invite=abc"
    phase.save(update_fields=["coursera_invitation_url"])
    university, focal = university_ready(phase=phase, code="LUMS", sector="private", licenses=25, city="Lahore")
    learners = [nominate_student(phase=phase, university=university, focal=focal) for _ in range(2)]
    return university, focal, learners


def test_separate_invoice_pdf_carries_licenses_times_fee(client, phase, private, hec_staff):
    university, _, _ = private

    invoice = invoice_issue(phase=phase, university=university, actor=hec_staff)

    assert (invoice.licenses, invoice.unit_fee, invoice.amount) == (25, 8000, 200_000)
    assert invoice.channel == "separate" and invoice.status == "issued"
    assert invoice.number == "DLSEI-INV-2021-00001"
    client.force_login(hec_staff)
    response = client.get(reverse("fees:invoice_pdf", args=[invoice.pk]))
    assert response["Content-Type"] == "application/pdf"
    pages, text = pdf_text(response.content)
    assert pages == 1
    for expected in ("DLSEI-INV-2021-00001", "University LUMS", "25", "Rs 8,000", "Rs 200,000", "Two Lakh"):
        assert expected in text
    assert client.get(reverse("fees:invoice_pdf", args=[invoice.pk])).content == response.content
    change = client.get(reverse("admin:fees_invoice_change", args=[invoice.pk])).content.decode()
    assert reverse("fees:invoice_pdf", args=[invoice.pk]) in change


def test_a_university_with_a_pern_account_is_billed_through_pern(phase, hec_staff):
    university, _ = university_ready(phase=phase, code="FAST", sector="private", licenses=10, pern_account="PERN-0042")
    invoice = invoice_issue(phase=phase, university=university, actor=hec_staff)
    assert invoice.channel == "pern" and invoice.pern_account == "PERN-0042" and invoice.amount == 80_000
    with pytest.raises(FeeError, match="PERN"):
        invoice_pdf(invoice=invoice)


def test_learners_are_not_invited_until_the_invoice_is_paid(
    client, phase, private, hec_staff, django_capture_on_commit_callbacks
):
    university, focal, learners = private
    invoice = invoice_issue(phase=phase, university=university, actor=hec_staff)
    for learner in learners:
        learner.refresh_from_db()
        assert learner.cleared_at is None
    assert not Invitation.objects.exists()

    client.force_login(hec_staff)
    asked = client.post(
        reverse("admin:fees_invoice_changelist"), {"action": "mark_paid", "_selected_action": [invoice.pk]}
    )
    assert '<label for="id_reference">' in asked.content.decode()
    assert Invoice.objects.get().status == "issued"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:fees_invoice_changelist"),
            {"action": "mark_paid", "_selected_action": [invoice.pk], "apply": "1", "reference": "HBL-TRX-991"},
        )

    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.reference == "HBL-TRX-991" and invoice.marked_paid_by == hec_staff
    assert Invitation.objects.count() == 2
    for learner in learners:
        learner.refresh_from_db()
        assert learner.cleared_at is not None
    assert sorted(m.to[0] for m in mail.outbox) == sorted(learner.email for learner in learners)

    # A learner nominated after the payment is settled at once.
    later = nominate_student(phase=phase, university=university, focal=focal)
    assert later.settled_at is not None and Invitation.objects.filter(nomination=later).exists()


def test_invoice_refusals(phase, private, hec_staff, qau):
    university, _, _ = private
    invoice = invoice_issue(phase=phase, university=university, actor=hec_staff)
    with pytest.raises(FeeError, match="already has invoice DLSEI-INV-2021-00001"):
        invoice_issue(phase=phase, university=university, actor=hec_staff)
    with pytest.raises(FeeError, match="not a private university"):
        invoice_issue(phase=phase, university=qau[0], actor=hec_staff)
    with pytest.raises(FeeError, match="reference"):
        invoice_mark_paid(invoice=invoice, reference=" ", actor=hec_staff)
    invoice_mark_paid(invoice=invoice, reference="R1", actor=hec_staff)
    with pytest.raises(FeeError, match="cannot be marked paid"):
        invoice_mark_paid(invoice=invoice, reference="R2", actor=hec_staff)
    assert Invoice.objects.get().reference == "R1"


def test_invoice_pdf_is_for_staff_only(client, phase, private, hec_staff):
    invoice = invoice_issue(phase=phase, university=private[0], actor=hec_staff)
    client.force_login(private[1])
    assert client.get(reverse("fees:invoice_pdf", args=[invoice.pk])).status_code == 404


def test_issue_invoices_command_invoices_each_private_university_once(phase, private, hec_staff):
    from io import StringIO

    from django.core.management import call_command

    university_ready(phase=phase, code="FAST", sector="private", licenses=3, pern_account="PERN-7")
    university_ready(phase=phase, code="PU", licenses=50)  # public: never invoiced
    out = StringIO()
    call_command("issue_invoices", "--phase", phase.slug, stdout=out)
    assert "2 invoice(s) issued." in out.getvalue()
    assert sorted(Invoice.objects.values_list("university__code", "amount", "channel")) == [
        ("FAST", 24_000, "pern"),
        ("LUMS", 200_000, "separate"),
    ]
    again = StringIO()
    call_command("issue_invoices", "--phase", phase.slug, stdout=again)
    assert "0 invoice(s) issued." in again.getvalue() and Invoice.objects.count() == 2


def test_issue_invoices_json_lists_every_invoice_with_its_consumer_number(phase, private, hec_staff, settings):
    import json
    from io import StringIO

    from django.core.management import call_command

    university_ready(phase=phase, code="FAST", sector="private", licenses=3, pern_account="PERN-7")
    out = StringIO()
    call_command("issue_invoices", "--phase", phase.slug, "--json", stdout=out)
    rows = json.loads(out.getvalue())
    prefix = settings.ONEBILL_BILLER_PREFIX
    assert rows == [
        {"number": "DLSEI-INV-2021-00001", "university": "FAST", "licenses": 3, "amount": 24_000,
         "consumer_number": prefix + "0000000000001", "status": "issued"},
        {"number": "DLSEI-INV-2021-00002", "university": "LUMS", "licenses": 25, "amount": 200_000,
         "consumer_number": prefix + "0000000000002", "status": "issued"},
    ]  # fmt: skip
    invoice_mark_paid(invoice=Invoice.objects.get(university__code="LUMS"), reference="PERN-1", actor=hec_staff)
    again = StringIO()
    call_command("issue_invoices", "--phase", phase.slug, "--university", "lums", "--json", stdout=again)
    assert [(r["university"], r["status"]) for r in json.loads(again.getvalue())] == [("LUMS", "paid")]
    assert Invoice.objects.count() == 2


def test_consumer_numbers_are_shared_by_challans_and_invoices_and_never_reused(phase, private, hec_staff, settings):
    from fees.challans import challan_issue
    from tests import factories
    from tests.factories import learner_account

    factories.make_quota(phase=phase, university=None, licenses=2)
    invoice = invoice_issue(phase=phase, university=private[0], actor=hec_staff)
    alumnus = factories.alumnus_register(phase=phase, data=factories.alumnus_data())
    challan = challan_issue(nomination=alumnus, actor=learner_account(alumnus))
    numbers = [invoice.consumer_number, challan.consumer_number]
    assert numbers == [settings.ONEBILL_BILLER_PREFIX + f"{n:013d}" for n in (1, 2)]
    assert all(len(n) == 18 and n.isdigit() for n in numbers)
    client_pdf_text = pdf_text(invoice_pdf(invoice=invoice))[1]
    assert settings.ONEBILL_BILLER_PREFIX + " 0000 0000 0000 1" in client_pdf_text
    assert "Pay through 1Bill in any bank app, ATM, JazzCash or Easypaisa, or at the branch" in client_pdf_text


def test_the_focal_person_sees_the_invoice_with_its_consumer_number(client, phase, private, hec_staff):
    from fees.bills import bill_payments_post
    from fees.onebill import payment_read

    university, focal, _ = private
    invoice = invoice_issue(phase=phase, university=university, actor=hec_staff)
    client.force_login(focal)
    page = client.get(reverse("fees:focal_invoices")).content.decode()
    assert invoice.number in page and invoice.consumer_number in page and "Rs 200,000" in page
    assert "Issued, not paid" in page and reverse("fees:focal_invoices") in page  # linked from the menu
    paid = payment_read({
        "consumer_number": invoice.consumer_number, "tran_auth_id": "777777", "transaction_amount": "000020000000",
        "tran_date": "20211101", "tran_time": "080000", "bank_mnemonic": "ALFALAH",
    })  # fmt: skip
    assert bill_payments_post(payments=[paid], channel="1bill", actor=None)[0].posted
    assert "(1Bill, ALFALAH)" in client.get(reverse("fees:focal_invoices")).content.decode()
    other = university_ready(phase=phase, code="QAU2")[1]
    client.force_login(other)
    assert invoice.consumer_number not in client.get(reverse("fees:focal_invoices")).content.decode()
