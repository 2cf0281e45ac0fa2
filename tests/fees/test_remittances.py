"""Remittance statements: the forfeited deposits a university holds, on a statement (PDF and CSV)
with its own consumer number, paid like any bill, so HEC sees which universities have remitted."""

import csv
import io

import pytest
from django.urls import reverse

from fees.bills import bill_payments_post
from fees.exceptions import FeeError
from fees.models import Remittance
from fees.onebill import payment_read
from fees.refunds import refunds_decide
from fees.remittances import remittance_issue
from tests import factories
from tests.fees.conftest import END, complete, day, learner, pdf_text

pytestmark = pytest.mark.django_db


def test_a_statement_of_the_forfeits_paid_by_consumer_number(client, phase, hec_staff, settings):
    uni = factories.make_university(code="QAU")
    focal = factories.make_focal_person(university=uni, email="focal@qau.edu.pk")
    learner(phase, uni, full_name="Idle One", email="one@example.pk", cnic="3520212345671")
    learner(phase, uni, full_name="Idle Two", email="two@example.pk")
    done = learner(phase, uni, full_name="Done Three", email="three@example.pk")
    complete(phase, done, ("a", day(1)), ("b", day(2)), ("c", day(3)))
    refunds_decide(phase=phase, as_of=END, actor=hec_staff)
    client.force_login(focal)
    assert (
        "Rs 8,000 of forfeited deposits is not on a statement yet."
        in client.get(reverse("fees:refund_payouts")).content.decode()
    )

    issued = client.post(reverse("fees:remittance_issue"), follow=True).content.decode()

    remittance = Remittance.objects.get()
    assert (remittance.amount, len(remittance.decisions), len(remittance.consumer_number)) == (8000, 2, 18)
    assert f"consumer number {remittance.consumer_number}" in issued and "Not yet" in issued
    pages, text = pdf_text(client.get(reverse("fees:remittance_download", args=[remittance.pk, "pdf"])).content)
    assert pages == 1
    for expected in ("Idle One", "Idle Two", "Rs 8,000", "Eight Thousand", remittance.number, "*****-*****67-1"):
        assert expected in text
    assert "Done Three" not in text and settings.ONEBILL_BILLER_PREFIX + " 0000" in text
    rows = list(csv.DictReader(io.StringIO(
        client.get(reverse("fees:remittance_download", args=[remittance.pk, "csv"])).content.decode("utf-8-sig")
    )))  # fmt: skip
    assert [(r["full_name"], r["amount"], r["consumer_number"]) for r in rows] == [
        ("Idle One", "4000", remittance.consumer_number), ("Idle Two", "4000", remittance.consumer_number),
    ]  # fmt: skip
    with pytest.raises(FeeError, match="nothing to put on a statement"):
        remittance_issue(phase=phase, university=uni, actor=focal)

    paid = payment_read({
        "consumer_number": remittance.consumer_number, "tran_auth_id": "500500", "transaction_amount": "000000800000",
        "tran_date": "20221020", "tran_time": "120000", "bank_mnemonic": "NBP",
    })  # fmt: skip
    assert bill_payments_post(payments=[paid], channel="1bill", actor=None)[0].posted
    assert "Paid on Oct. 20, 2022" in client.get(reverse("fees:refund_payouts")).content.decode()
    client.force_login(hec_staff)
    listed = client.get(reverse("admin:fees_remittance_changelist")).content.decode()
    assert remittance.number in listed and "Oct. 20, 2022" in listed
    assert client.get(reverse("fees:remittance_download", args=[remittance.pk, "csv"])).status_code == 200

    other = factories.make_focal_person(university=factories.make_university(code="PU"), email="focal@pu.edu.pk")
    client.force_login(other)
    assert client.get(reverse("fees:remittance_download", args=[remittance.pk, "pdf"])).status_code == 404
