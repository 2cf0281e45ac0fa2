"""Bank scrolls: rows posted as 1Bill payments would be, the same scroll imported twice posting
nothing the second time, and the rows that wait for HEC staff to match or dismiss them."""

import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from audit.models import AuditEntry
from core.tabular import write_csv, write_xlsx
from fees.bills import bill_payments_post
from fees.challans import challan_issue
from fees.invoices import invoice_issue
from fees.models import BillPayment, PaymentChannel, UnmatchedScrollRow
from fees.onebill import payment_read
from fees.scrolls import COLUMNS
from tests.factories import learner_account
from tests.fees.conftest import register_alumnus, university_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def bills(phase, alumni_pool, hec_staff):
    challans = []
    for _ in range(4):
        alumnus = register_alumnus(phase=phase)
        challans.append(challan_issue(nomination=alumnus, actor=learner_account(alumnus)))
    university, _ = university_ready(phase=phase, code="LUMS", sector="private", licenses=3)
    invoice = invoice_issue(phase=phase, university=university, actor=hec_staff)
    return challans, invoice


def scroll_rows(challans, invoice) -> list[list[str]]:
    unknown = settings.ONEBILL_BILLER_PREFIX + "0000000009999"
    return [
        [challans[0].consumer_number, "8000", "2021-10-12", "778899", "NBP"],
        [invoice.consumer_number, "24,000.00", "12/10/2021", "778900", "nbp"],
        [unknown, "8000", "2021-10-12", "778901", "NBP"],
        [challans[1].consumer_number, "4000", "2021-10-12", "778902", "NBP"],
        ["12345", "8000", "2021-10-12", "778903", "NBP"],
        [challans[2].consumer_number, "8000", "2021-10-12", "778904", "NBP"],
    ]


def run(path) -> dict:
    out = StringIO()
    call_command("import_bank_scroll", str(path), "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_same_scroll_imported_twice_posts_nothing_the_second_time(bills, tmp_path):
    challans, invoice = bills
    # 1Bill already posted the third challan: the scroll's row for it is "already paid".
    onebill = payment_read({
        "consumer_number": challans[2].consumer_number, "tran_auth_id": "111111", "transaction_amount": "000000800000",
        "tran_date": "20211012", "tran_time": "090000", "bank_mnemonic": "HBL",
    })  # fmt: skip
    assert bill_payments_post(payments=[onebill], channel=PaymentChannel.ONEBILL, actor=None)[0].posted
    path = tmp_path / "scroll.csv"
    path.write_bytes(write_csv(scroll_rows(challans, invoice), COLUMNS))

    first = run(path)

    assert first["posted"] == 2 and first["already_paid"] == 1
    assert [row["row"] for row in first["unmatched"]] == [4, 6]
    assert "No challan or invoice has this consumer number" in first["unmatched"][0]["reason"]
    assert "is not an 18-digit consumer number" in first["unmatched"][1]["reason"]
    assert first["amount_mismatch"] == [{"row": 5, "expected": 8000, "found": 4000}]
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert BillPayment.objects.filter(channel="scroll").count() == 2
    assert UnmatchedScrollRow.objects.filter(state="open").count() == 3

    second = run(path)

    assert second["posted"] == 0 and second["already_paid"] == 3
    assert second["unmatched"] == first["unmatched"] and second["amount_mismatch"] == first["amount_mismatch"]
    assert BillPayment.objects.count() == 3 and UnmatchedScrollRow.objects.count() == 3
    assert AuditEntry.objects.filter(action="bill.pay").count() == 3


def test_staff_import_an_xlsx_scroll_and_resolve_the_rows_that_wait(client, bills, hec_staff):
    challans, invoice = bills
    data = write_xlsx(scroll_rows(challans, invoice), COLUMNS)
    client.force_login(hec_staff)

    response = client.post(
        reverse("fees:bank_scrolls"), {"file": SimpleUploadedFile("nbp-12-oct.xlsx", data)}, follow=True
    )

    page = response.content.decode()
    assert "nbp-12-oct.xlsx: 3 posted, 0 already paid, 2 unmatched, 1 with another amount." in page
    waiting = {row.row_number: row for row in UnmatchedScrollRow.objects.all()}
    assert sorted(waiting) == [4, 5, 6]
    # The unknown number was the fourth challan's, mistyped by the bank.
    url = reverse("fees:scroll_row_resolve", args=[waiting[4].pk, "match"])
    matched = client.post(url, {"consumer_number": challans[3].consumer_number, "reason": "bank typo"}, follow=True)
    assert "Row 4 is posted to its bill." in matched.content.decode()
    assert BillPayment.objects.get(challan=challans[3]).channel == "scroll"
    # Half the fee is no payment of the bill: it cannot be matched, only dismissed.
    url = reverse("fees:scroll_row_resolve", args=[waiting[5].pk, "match"])
    refused = client.post(url, {"consumer_number": challans[1].consumer_number, "reason": "try"}, follow=True)
    assert "The row could not be posted" in refused.content.decode()
    assert not BillPayment.objects.filter(challan=challans[1]).exists()
    url = reverse("fees:scroll_row_resolve", args=[waiting[6].pk, "dismiss"])
    client.post(url, {"reason": "not a DLSEI payment"})
    again = client.post(url, {"reason": "twice"}, follow=True)
    assert "already resolved" in again.content.decode()
    states = dict(UnmatchedScrollRow.objects.values_list("row_number", "state"))
    assert states == {4: "matched", 5: "open", 6: "dismissed"}
    assert client.post(reverse("fees:scroll_row_resolve", args=[waiting[5].pk, "dismiss"]), {}).status_code == 302
    assert UnmatchedScrollRow.objects.get(row_number=5).state == "open"


def test_a_broken_scroll_is_refused_whole(client, bills, hec_staff, tmp_path):
    client.force_login(hec_staff)
    bad = write_csv([["x", "y"]], ["consumer", "money"])
    page = client.post(
        reverse("fees:bank_scrolls"), {"file": SimpleUploadedFile("bad.csv", bad)}, follow=True
    ).content.decode()
    assert "consumer_number" in page and not BillPayment.objects.exists()
    client.force_login(learner_account(bills[0][0].nomination))
    assert client.get(reverse("fees:bank_scrolls")).status_code == 403
