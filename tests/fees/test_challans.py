"""Alumni challans: never-reused numbers (also under concurrent requests), a PDF carrying the
right numbers in three copies, and the same stored file on every download."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from fees.challans import challan_issue, challan_pdf
from fees.exceptions import FeeError
from fees.models import Challan
from registrations.services import alumni_hold_set
from tests.factories import learner_account
from tests.fees.conftest import nominate_student, pdf_text, register_alumnus
from tests.private_servers import REAL_PROCESSES

ROOT = Path(settings.BASE_DIR)


@pytest.mark.django_db
def test_challan_pdf_carries_the_numbers_from_the_database(client, phase, alumni_pool):
    nomination = register_alumnus(phase=phase, full_name="Sana Malik", cnic="42101-9876543-7")
    client.force_login(learner_account(nomination))

    response = client.post(reverse("fees:challan_download"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    challan = Challan.objects.get(nomination=nomination)
    assert challan.number == "DLSEI-2021-000001"
    assert challan.consumer_number == settings.ONEBILL_BILLER_PREFIX + "0000000000001"
    assert response["Content-Disposition"] == 'attachment; filename="DLSEI-2021-000001.pdf"'
    pages, text = pdf_text(response.content)
    assert pages == 1
    for expected in (
        "DLSEI-2021-000001",
        "Rs 8,000",
        "Rupees Eight Thousand Only",
        "*****-*****43-7",
        settings.HEC_BANK["account"],
        settings.HEC_BANK["bank"],
        "Sana Malik",
        challan.due_date.strftime("%d-%m-%Y"),
        "Bank copy",
        "HEC copy",
        "Depositor copy",
        settings.ONEBILL_BILLER_PREFIX + " 0000 0000 0000 1",
        "Pay through 1Bill in any bank app, ATM, JazzCash or Easypaisa, or at the branch",
    ):
        assert expected.lower() in text.lower()
    assert text.count("DLSEI-2021-000001") >= 3  # once on each copy
    assert "9876543" not in text  # the full CNIC is never printed
    assert challan.due_date == timezone.localdate(nomination.hold_expires_at)

    again = client.get(reverse("fees:challan_download"))
    assert again.content == response.content
    assert Challan.objects.filter(nomination=nomination).count() == 1
    assert AuditEntry.objects.filter(action="challan.issue").count() == 1


@pytest.mark.django_db
def test_challan_amount_and_due_date_follow_the_phase_not_the_request(client, phase, alumni_pool):
    phase.alumni_fee_rupees = 12_500
    phase.save(update_fields=["alumni_fee_rupees"])
    nomination = register_alumnus(phase=phase)
    client.force_login(learner_account(nomination))

    response = client.post(reverse("fees:challan_download") + "?amount=1&due=2000-01-01")

    _, text = pdf_text(response.content)
    challan = Challan.objects.get(nomination=nomination)
    assert challan.amount == 12_500
    assert "Rs 12,500" in text and "Twelve Thousand Five Hundred" in text
    assert challan.due_date.strftime("%d-%m-%Y") in text


@pytest.mark.django_db
def test_students_and_waiting_alumni_get_no_challan(phase, qau):
    university, focal = qau
    student = nominate_student(phase=phase, university=university, focal=focal)
    with pytest.raises(FeeError, match="Only alumni"):
        challan_issue(nomination=student, actor=focal)

    from tests import factories

    factories.make_quota(phase=phase, university=None, licenses=0)
    waiting = register_alumnus(phase=phase)
    assert waiting.status == "waiting"
    with pytest.raises(FeeError, match="“On the waiting list”"):
        challan_issue(nomination=waiting, actor=learner_account(waiting))
    assert not Challan.objects.exists()


@pytest.mark.django_db
def test_a_person_without_a_nomination_is_sent_back_to_their_page(client, phase):
    from tests import factories

    client.force_login(factories.make_user())
    assert client.get(reverse("fees:challan_download")).status_code == 404


@pytest.mark.django_db
def test_numbers_continue_and_are_never_reused(phase, alumni_pool):
    first = challan_issue(nomination=(a := register_alumnus(phase=phase)), actor=learner_account(a))
    second = challan_issue(nomination=(b := register_alumnus(phase=phase)), actor=learner_account(b))
    assert (first.number, second.number) == ("DLSEI-2021-000001", "DLSEI-2021-000002")
    assert challan_pdf(challan=first) == challan_pdf(challan=first)


CHILD = r"""
import os, sys, time
import django
django.setup()
from django.db import connection
connection.settings_dict["NAME"] = sys.argv[1]
connection.ensure_connection()
from registrations.models import Nomination
from fees.challans import challan_issue
from tests.factories import learner_account
nomination = Nomination.objects.get(pk=int(sys.argv[2]))
print("ready", flush=True)
go = sys.argv[3]
while not os.path.exists(go):
    time.sleep(0.001)
challan = challan_issue(nomination=nomination, actor=learner_account(nomination))
print(challan.number, flush=True)
"""


@pytest.mark.django_db(transaction=True)
@REAL_PROCESSES
def test_challan_numbers_are_unique_under_concurrent_requests(phase, alumni_pool, tmp_path):
    alumni_pool.licenses = 8
    alumni_pool.save(update_fields=["licenses"])
    nominations = [register_alumnus(phase=phase) for _ in range(8)]
    go = tmp_path / "go"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dlsei.settings", "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(connection.settings_dict["NAME"]), str(n.pk), str(go)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in nominations
    ]
    for child in children:  # every process is connected and waiting before any starts
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
    go.touch()
    numbers = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        numbers.append(out.strip())

    assert sorted(numbers) == [f"DLSEI-2021-{i:06d}" for i in range(1, 9)]
    assert sorted(Challan.objects.values_list("number", flat=True)) == sorted(numbers)


@pytest.mark.django_db
def test_opening_the_challan_address_issues_nothing_until_the_button_is_pressed(client, phase, alumni_pool):
    nomination = register_alumnus(phase=phase)
    client.force_login(learner_account(nomination))

    response = client.get(reverse("fees:challan_download"))

    assert response.status_code == 302 and response["Location"] == reverse("fees:my_license")
    assert not Challan.objects.filter(nomination=nomination).exists()
    assert not AuditEntry.objects.filter(action="challan.issue").exists()


@pytest.mark.django_db
def test_the_page_offers_a_challan_only_when_one_can_be_issued(client, phase, alumni_pool, hec_staff):
    nomination = register_alumnus(phase=phase)
    client.force_login(learner_account(nomination))
    button = f'<form method="post" action="{reverse("fees:challan_download")}">'
    assert button in client.get(reverse("fees:my_license")).content.decode()

    alumni_hold_set(nomination=nomination, until=None, actor=hec_staff)  # the seat waits for no payment

    assert button not in client.get(reverse("fees:my_license")).content.decode()
    response = client.post(reverse("fees:challan_download"), follow=True)
    assert "Your seat is not waiting for a payment, so no challan can be issued now." in response.content.decode()
    assert not Challan.objects.exists()
