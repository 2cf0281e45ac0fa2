"""Ledgers: refunds due per university, forfeits to HEC, pending, totals that add up, safe exports."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from fees.exceptions import FeeError
from fees.ledgers import ledger_export, ledger_rows, ledger_totals, ledger_totals_by_university
from fees.models import Deposit, RefundDecision
from fees.refunds import refunds_decide
from registrations.models import Nomination
from tests import factories
from tests.fees.conftest import END, complete, day, deposit_record, learner

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(phase):
    """QAU: one refund, one forfeit, one pending; UET: one forfeit. Decided as of the end of the year."""
    qau = factories.make_university(code="QAU")
    uet = factories.make_university(code="UET")
    done = learner(phase, qau, full_name="Sana Refund", email="sana@example.pk", cnic="3520112345671")
    complete(phase, done, ("a", day(1)), ("b", day(2)), ("c", day(3)))
    learner(phase, qau, full_name="Ali Forfeit", email="ali@example.pk")
    learner(phase, qau, full_name="Hina Pending", email="hina@example.pk", activated_on=day(200))
    learner(phase, uet, full_name="Omar Forfeit", email="omar@example.pk")
    refunds_decide(phase=phase, as_of=END, actor=None)
    return {"qau": qau, "uet": uet, "done": done}


def test_the_three_columns(phase, world):
    assert [row.full_name for row in ledger_rows(phase=phase, kind="refund")] == ["Sana Refund"]
    assert [row.full_name for row in ledger_rows(phase=phase, kind="forfeit")] == ["Ali Forfeit", "Omar Forfeit"]
    assert [row.full_name for row in ledger_rows(phase=phase, kind="pending")] == ["Hina Pending"]
    [row] = ledger_rows(phase=phase, kind="refund", university=world["qau"])
    assert (row.university_code, row.cnic_masked, row.email, row.amount, row.courses_completed) == (
        "QAU", "*****-*****67-1", "sana@example.pk", 4000, 3,
    )  # fmt: skip
    assert row.receipt == f"R-{world['done'].pk}-4000" and row.decided_on == END
    assert ledger_rows(phase=phase, kind="refund", university=world["uet"]) == []


def test_totals_add_up_to_the_deposits_recorded(phase, world):
    totals = ledger_totals(phase=phase)
    assert (totals.refund_count, totals.refund_amount) == (1, 4000)
    assert (totals.forfeit_count, totals.forfeit_amount) == (2, 8000)
    assert (totals.pending_count, totals.pending_amount) == (1, 4000)
    assert (totals.deposit_count, totals.deposit_amount) == (4, 16000)
    assert totals.adds_up and totals.decided_amount == 16000
    qau = ledger_totals(phase=phase, university=world["qau"])
    assert (qau.refund_amount, qau.forfeit_amount, qau.pending_amount, qau.deposit_amount) == (4000, 4000, 4000, 12000)
    assert qau.adds_up
    by_university = {uni.code: totals for uni, totals in ledger_totals_by_university(phase=phase)}
    assert set(by_university) == {"QAU", "UET"}
    assert by_university["UET"].forfeit_amount == 4000 and by_university["UET"].adds_up
    assert by_university["QAU"] == qau


def test_a_correction_moves_the_money_between_columns(phase, world, hec_staff):
    from fees.refunds import refund_decision_correct

    forfeit = RefundDecision.objects.get(nomination__email="omar@example.pk")
    refund_decision_correct(decision=forfeit, new_decision="refund", reason="Late certificate", actor=hec_staff)
    totals = ledger_totals(phase=phase)
    assert (totals.refund_amount, totals.forfeit_amount, totals.pending_amount) == (8000, 4000, 4000)
    assert totals.adds_up
    assert [row.full_name for row in ledger_rows(phase=phase, kind="refund")] == ["Sana Refund", "Omar Forfeit"]


def test_a_corrected_deposit_counts_once_at_its_current_amount(phase, world):
    nomination = Nomination.objects.get(email="hina@example.pk")
    old = Deposit.objects.get(nomination=nomination)
    deposit_record(nomination, amount=3000, receipt="R-FIX", supersedes=old)
    totals = ledger_totals(phase=phase)
    assert (totals.pending_count, totals.pending_amount, totals.deposit_count, totals.deposit_amount) == (
        1,
        3000,
        4,
        15000,
    )
    assert totals.adds_up


def test_a_deposit_outside_the_rule_shows_that_totals_do_not_add_up(phase, world):
    private = factories.make_seated_nomination(
        phase=phase, university=factories.make_university(code="LUMS", sector="private")
    )
    deposit_record(private, amount=4000)
    totals = ledger_totals(phase=phase)
    assert totals.deposit_amount == 20000 and totals.decided_amount == 16000
    assert not totals.adds_up


def _csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel shows Urdu names
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_csv_export_one_row_per_learner(phase, world):
    filename, content_type, content = ledger_export(phase=phase, kind="forfeit", fmt="csv")
    assert filename == f"dlsei-{phase.slug}-forfeit-all.csv" and content_type.startswith("text/csv")
    rows = _csv(content)
    assert rows[0][:4] == ["University", "Learner", "CNIC", "E-mail"]
    assert [row[1] for row in rows[1:]] == ["Ali Forfeit", "Omar Forfeit"]
    assert rows[1][6] == "4000" and rows[1][2].startswith("*****-")
    assert sum(int(row[6]) for row in rows[1:]) == ledger_totals(phase=phase).forfeit_amount


def test_xlsx_export_of_one_university(phase, world):
    filename, content_type, content = ledger_export(phase=phase, kind="refund", fmt="xlsx", university=world["qau"])
    assert filename == f"dlsei-{phase.slug}-refund-QAU.xlsx" and "spreadsheetml" in content_type
    sheet = load_workbook(io.BytesIO(content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[1][:2] == ["QAU", "Sana Refund"] and values[1][6] == 4000
    assert len(values) == 2


def test_exports_neutralise_formulas(phase):
    uni = factories.make_university(code="QAU")
    learner(phase, uni, full_name='=HYPERLINK("http://evil.example","x")', activated_on=None)
    _name, _type, content = ledger_export(phase=phase, kind="pending", fmt="csv")
    assert _csv(content)[1][1] == '\'=HYPERLINK("http://evil.example","x")'
    _name, _type, content = ledger_export(phase=phase, kind="pending", fmt="xlsx")
    assert load_workbook(io.BytesIO(content)).active["B2"].value.startswith("'=")


def test_unknown_ledger_or_format_is_refused(phase):
    with pytest.raises(FeeError, match="no ledger"):
        ledger_rows(phase=phase, kind="everything")
    with pytest.raises(FeeError, match="CSV or XLSX"):
        ledger_export(phase=phase, kind="refund", fmt="pdf")


def _many(phase, university, count: int) -> None:
    """``count`` forfeited learners, written in bulk (this test is about queries, not about the rule)."""
    quota = factories.make_quota(phase=phase, university=university, licenses=10_000)
    user = factories.make_user()
    start = Nomination.objects.count()
    Nomination.objects.bulk_create(
        [
            Nomination(
                phase=phase,
                quota=quota,
                university=university,
                pool="public",
                role="student",
                full_name=f"Learner {start + i}",
                cnic=f"{4210100000000 + start + i:013d}",
                email=f"many{start + i}@example.pk",
                status="seated",
                seat_kind="general",
                activated_on=dt.date(2021, 10, 1),
                submitted_by=user,
            )  # fmt: skip
            for i in range(count)
        ]
    )
    created = Nomination.objects.filter(university=university)
    Deposit.objects.bulk_create(
        [
            Deposit(nomination=n, amount=4000, receipt=f"R{n.pk}", paid_on=dt.date(2021, 9, 1), recorded_by=user)
            for n in created
        ]
    )
    refunds_decide(phase=phase, as_of=END, actor=None)


def _queries(phase) -> int:
    with CaptureQueriesContext(connection) as captured:
        ledger_rows(phase=phase, kind="forfeit")
        ledger_totals(phase=phase)
        ledger_totals_by_university(phase=phase)
        ledger_export(phase=phase, kind="forfeit", fmt="csv")
        ledger_export(phase=phase, kind="forfeit", fmt="xlsx")
    return len(captured)


def test_queries_do_not_grow_with_the_rows(phase, django_assert_num_queries):
    _many(phase, factories.make_university(code="SMALL"), 10)
    small = _queries(phase)
    _many(phase, factories.make_university(code="LARGE"), 1000)
    with django_assert_num_queries(small):
        _queries(phase)
    assert ledger_totals(phase=phase).forfeit_count == 1010
