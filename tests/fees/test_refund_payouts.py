"""Refunds paid out: the IBAN check, the learner's account form, the focal person's payout sheet
(CSV and XLSX) and its round trip back with the paid references, the reminder e-mail."""

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import AuditEntry
from core.tabular import read_table, write_csv, write_xlsx
from fees.exceptions import FeeError
from fees.models import RefundPayment
from fees.refund_payouts import SHEET_COLUMNS, iban_check, refund_account_set
from fees.refunds import refunds_decide
from tests import factories
from tests.factories import learner_account
from tests.fees.conftest import END, complete, day, learner

pytestmark = pytest.mark.django_db
VALID = "PK36SCBL0000001123456702"


@pytest.mark.parametrize("typed", [VALID, "pk36 scbl 0000 0011 2345 6702", " PK36SCBL0000001123456702 "])
def test_valid_pakistani_ibans_are_accepted_as_typed(typed):
    assert iban_check(typed) == VALID


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the IBAN"),
        ("PK37SCBL0000001123456702", "check digits of this IBAN do not match"),
        ("PK36SCBL0000001123456703", "check digits of this IBAN do not match"),
        ("GB82WEST12345698765432", "starts with PK"),
        ("PK36SCBL000000112345670", "has 24 characters; this one has 23"),
        ("PK36SCBL00000011234567-2", "only letters and digits"),
        ("PK3６SCBL0000001123456702", "only letters and digits"),
        ("PK36SCB10000001123456702", "4 letters of the bank"),
    ],
)
def test_invalid_ibans_are_refused_with_a_clear_message(typed, message):
    with pytest.raises(FeeError, match=message):
        iban_check(typed)


@pytest.fixture
def refunds(phase, hec_staff):
    uni = factories.make_university(code="QAU")
    focal = factories.make_focal_person(university=uni, email="focal@qau.edu.pk")
    ayesha = learner(phase, uni, full_name="Ayesha Siddiqui", email="ayesha@example.pk")
    bilal = learner(phase, uni, full_name="Bilal Ahmed", email="bilal@example.pk")
    idle = learner(phase, uni, full_name="Idle Learner", email="idle@example.pk")
    for nomination in (ayesha, bilal):
        complete(phase, nomination, ("a", day(1)), ("b", day(2)), ("c", day(3)))
    refunds_decide(phase=phase, as_of=END, actor=hec_staff)
    return uni, focal, ayesha, bilal, idle


def test_the_learner_enters_an_iban_for_the_refund(client, refunds):
    _, _, ayesha, _, idle = refunds
    client.force_login(learner_account(ayesha))
    page = client.get(reverse("fees:my_license")).content.decode()
    assert "Enter the IBAN and title of your bank account" in page

    wrong = client.post(reverse("fees:refund_account"), {"iban": "PK37SCBL0000001123456702", "account_title": "A"})
    assert "check digits of this IBAN do not match" in client.get(wrong.url).content.decode()
    assert not ayesha.refund_accounts.exists()
    client.post(reverse("fees:refund_account"), {"iban": "pk36 scbl 0000 0011 2345 6702", "account_title": "Ayesha S"})
    page = client.get(reverse("fees:my_license")).content.decode()
    assert f"Your refund will be paid to {VALID} (Ayesha S)." in page
    assert AuditEntry.objects.filter(action="refund_account.set").count() == 1
    with pytest.raises(FeeError, match="No refund is due to you"):
        refund_account_set(nomination=idle, iban=VALID, account_title="x", actor=learner_account(idle))


def _sheet_back(data: bytes, *, kind: str, references: dict[str, str]) -> bytes:
    rows = read_table(data, filename=f"sheet.{kind}", required=SHEET_COLUMNS, optional=[], max_bytes=10**7,
                      max_rows=100)  # fmt: skip
    filled = [[row[c] if c != "paid_reference" else references.get(row["full_name"], "") for c in SHEET_COLUMNS]
              for row in rows]  # fmt: skip
    return write_csv(filled, SHEET_COLUMNS) if kind == "csv" else write_xlsx(filled, SHEET_COLUMNS)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_payout_sheet_round_trip(client, refunds, kind, django_capture_on_commit_callbacks):
    _, focal, ayesha, bilal, _ = refunds
    refund_account_set(nomination=ayesha, iban=VALID, account_title="Ayesha S", actor=learner_account(ayesha))
    client.force_login(focal)

    page = client.get(reverse("fees:refund_payouts")).content.decode()
    assert "Ayesha Siddiqui" in page and VALID in page
    assert "Bilal Ahmed (bilal@example.pk)" in page  # due, no IBAN: listed apart
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "Refunds to pay" in title and "<" not in title  # the tab shows the page's name, nothing else
    assert page.count("Forfeited deposits to remit to HEC") == 1
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("fees:refund_payouts"), {"remind": "1"})
    assert [m.to for m in mail.outbox] == [["bilal@example.pk"]]
    assert "enter the IBAN" in mail.outbox[0].body

    sheet = client.get(reverse("fees:refund_payouts_download", args=[kind]))
    assert sheet["Content-Disposition"] == f'attachment; filename="refund-payouts-QAU-phase-test.{kind}"'
    if kind == "xlsx":
        cells = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
        assert cells[0] == tuple(SHEET_COLUMNS) and cells[1][1:5] == ("Ayesha Siddiqui", VALID, "Ayesha S", 4000)
        assert cells[1][0].startswith("DLSEI-RF-") and len(cells) == 2
    back = _sheet_back(sheet.content, kind=kind, references={"Ayesha Siddiqui": "HBL-FT-0042"})
    upload = SimpleUploadedFile(f"paid.{kind}", back)
    done = client.post(reverse("fees:refund_payouts"), {"file": upload, "paid_on": "2022-10-05"}, follow=True)
    assert "1 refund(s) recorded as paid; 0 were already; 0 rows have no reference." in done.content.decode()

    payment = RefundPayment.objects.get()
    assert (payment.decision.nomination, payment.paid_reference, payment.paid_on, payment.iban) == (
        ayesha, "HBL-FT-0042", dt.date(2022, 10, 5), VALID,
    )  # fmt: skip
    assert AuditEntry.objects.filter(action="refund.paid").count() == 1
    again = client.post(
        reverse("fees:refund_payouts"), {"file": SimpleUploadedFile(f"paid.{kind}", back), "paid_on": "2022-10-05"},
        follow=True,
    )  # fmt: skip
    assert "0 refund(s) recorded as paid; 1 were already" in again.content.decode()
    assert RefundPayment.objects.count() == 1
    assert "Ayesha Siddiqui" not in client.get(reverse("fees:refund_payouts")).content.decode()

    client.force_login(learner_account(ayesha))
    page = client.get(reverse("fees:my_license")).content.decode()
    assert "Refunded on Oct. 5, 2022, reference HBL-FT-0042 (Rs 4,000)." in page
    client.force_login(learner_account(bilal))
    assert "Refunded on" not in client.get(reverse("fees:my_license")).content.decode()


def test_a_sheet_naming_another_refund_records_nothing(client, refunds, phase):
    _, focal, ayesha, _, _ = refunds
    refund_account_set(nomination=ayesha, iban=VALID, account_title="Ayesha S", actor=learner_account(ayesha))
    other_uni = factories.make_university(code="PU")
    other = learner(phase, other_uni, email="other@example.pk")
    complete(phase, other, ("a", day(1)), ("b", day(2)), ("c", day(3)))
    (decision,) = refunds_decide(phase=phase, as_of=END, actor=None)
    client.force_login(focal)
    rows = [[f"DLSEI-RF-{ayesha.refund_decisions.get().pk:07d}", "", "", "", "", "REF-1"],
            [f"DLSEI-RF-{decision.pk:07d}", "", "", "", "", "REF-2"]]  # fmt: skip
    upload = SimpleUploadedFile("paid.csv", write_csv(rows, SHEET_COLUMNS))
    page = client.post(reverse("fees:refund_payouts"), {"file": upload, "paid_on": "2022-10-05"}, follow=True)
    assert "Row 3: DLSEI-RF-" in page.content.decode() and "Nothing was recorded." in page.content.decode()
    assert not RefundPayment.objects.exists()
    client.force_login(learner_account(ayesha))
    assert client.get(reverse("fees:refund_payouts")).status_code == 404


def test_a_row_marked_paid_on_the_page(client, refunds):
    _, focal, ayesha, bilal, _ = refunds
    refund_account_set(nomination=ayesha, iban=VALID, account_title="Ayesha S", actor=learner_account(ayesha))
    reference = f"DLSEI-RF-{ayesha.refund_decisions.get().pk:07d}"
    client.force_login(focal)
    url = reverse("fees:refund_mark_paid")

    empty = client.post(url, {"reference": reference, "paid_reference": "", "paid_on": "2022-10-06"}, follow=True)
    assert "Enter the bank reference of the transfer" in empty.content.decode()
    done = client.post(url, {"reference": reference, "paid_reference": "MCB-9", "paid_on": "2022-10-06"}, follow=True)
    assert f"The refund {reference} is recorded as paid." in done.content.decode()
    again = client.post(url, {"reference": reference, "paid_reference": "MCB-10", "paid_on": "2022-10-06"}, follow=True)
    assert "already recorded as paid" in again.content.decode()
    assert RefundPayment.objects.get().paid_reference == "MCB-9"
    bilal_ref = f"DLSEI-RF-{bilal.refund_decisions.get().pk:07d}"
    no_iban = client.post(url, {"reference": bilal_ref, "paid_reference": "X", "paid_on": "2022-10-06"}, follow=True)
    assert "has entered no IBAN" in no_iban.content.decode() and RefundPayment.objects.count() == 1
