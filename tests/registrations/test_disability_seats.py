"""The seats reserved for disability are for students of public universities: a file row may say
disability with the certificate following on the nominee's page; without it in time, a general
seat or the waiting list, with an e-mail; unused reserved seats can be released to general seats."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from quotas.models import Quota
from registrations.imports import nominations_file_commit, nominations_file_preview
from registrations.models import Nomination, NominationStatus
from registrations.services import (
    disability_certificates_overdue,
    disability_reserves_release_due,
    nomination_submit,
)
from tests.factories import PDF, pdf_upload
from tests.factories import student_data as student
from tests.registrations.conftest import csv_file, row


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def reserved(phase, university, focal, quota):
    """QAU: 3 licenses, 1 of them reserved for disability."""
    Quota.objects.filter(pk=quota.pk).update(disability_reserved=1)
    return quota


def test_a_faculty_member_with_a_certificate_takes_a_general_seat_and_is_told_why(client, phase, focal, reserved):
    client.force_login(focal)
    response = client.post(
        reverse("registrations:focal_nominee_add"),
        {
            "full_name": "Dr Sana Tariq",
            "cnic": "35202-1111111-1",
            "email": "sana.tariq@qau.edu.pk",
            "role": "faculty",
            "disability": "on",
            "disability_certificate": pdf_upload("certificate.pdf"),
        },
        follow=True,
    )
    nomination = Nomination.objects.get()
    assert (nomination.status, nomination.seat_kind) == ("seated", "general")
    assert "seats reserved for disability are for students" in page(response)
    assert Quota.objects.get(pk=reserved.pk).disability_seated == 0


def test_a_student_with_a_certificate_takes_the_reserved_seat(phase, university, focal, reserved):
    nomination = nomination_submit(
        phase=phase,
        university=university,
        data=student(disability=True),
        actor=focal,
        disability_certificate=pdf_upload("certificate.pdf"),
    )
    assert nomination.seat_kind == "disability" and nomination.certificate_due_at is None


def test_a_file_row_saying_disability_takes_a_reserved_seat_pending_its_certificate(phase, university, focal, reserved):
    data = csv_file(
        row(1, disability="yes"), row(2, disability="yes"), row(3, role="faculty", years="", disability="yes")
    )

    preview = nominations_file_preview(phase=phase, university=university, data=data, filename="list.csv")
    assert [(r.outcome, r.seat_kind) for r in preview.rows] == [
        ("seated", "disability"),
        ("seated", "general"),  # the one reserved seat is taken: a general seat, with the deposit
        ("seated", "general"),  # faculty take general seats
    ]

    report = nominations_file_commit(phase=phase, university=university, data=data, filename="list.csv", actor=focal)
    assert [(r.outcome, r.seat_kind) for r in report.rows] == [(r.outcome, r.seat_kind) for r in preview.rows]
    first = Nomination.objects.get(pk=report.rows[0].nomination_id)
    assert first.seat_kind == "disability" and not first.disability_certificate
    due = first.certificate_due_at - first.seated_at
    assert due == datetime.timedelta(days=phase.disability_certificate_days) == datetime.timedelta(days=14)
    quota = Quota.objects.get(pk=reserved.pk)
    assert (quota.disability_seated, quota.general_seated) == (1, 2)


def test_the_certificate_follows_on_the_nominees_page_and_the_seat_is_kept(client, phase, university, focal, reserved):
    report = nominations_file_commit(
        phase=phase, university=university, data=csv_file(row(1, disability="yes")), filename="l.csv", actor=focal
    )
    nomination = Nomination.objects.get(pk=report.rows[0].nomination_id)
    client.force_login(focal)
    nominee_page = page(client.get(reverse("registrations:focal_nominee", args=[nomination.pk])))
    assert "Certificate awaited by" in nominee_page and "Attach the certificate" in nominee_page

    client.post(
        reverse("registrations:focal_nominee", args=[nomination.pk]),
        {"action": "certificate", "certificate": pdf_upload("certificate.pdf")},
    )
    nomination.refresh_from_db()
    assert nomination.disability_certificate.read() == PDF
    assert AuditEntry.objects.filter(action="nomination.certificate_attach", target_id=str(nomination.pk)).exists()
    later = timezone.now() + datetime.timedelta(days=30)
    assert disability_certificates_overdue(now=later) == 0  # on file: nothing moves
    nomination.refresh_from_db()
    assert nomination.seat_kind == "disability"


def test_without_the_certificate_in_time_a_general_seat_or_the_waiting_list_with_an_e_mail(
    phase, university, focal, reserved, django_capture_on_commit_callbacks
):
    Quota.objects.filter(pk=reserved.pk).update(licenses=3, disability_reserved=1)
    data = csv_file(row(1, disability="yes"), row(2), row(3), row(4, disability="yes"))
    report = nominations_file_commit(phase=phase, university=university, data=data, filename="l.csv", actor=focal)
    first, _second, _third, fourth = (Nomination.objects.get(pk=r.nomination_id) for r in report.rows)
    assert (first.seat_kind, fourth.status) == ("disability", "waiting")
    mail.outbox.clear()

    # Before the day nothing happens; after it, no general seat is free: the waiting list.
    assert disability_certificates_overdue(now=first.certificate_due_at - datetime.timedelta(minutes=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert disability_certificates_overdue(now=first.certificate_due_at + datetime.timedelta(minutes=1)) == 1
    first.refresh_from_db()
    fourth.refresh_from_db()
    assert (first.status, first.seat_kind) == ("waiting", "")
    assert "did not arrive" in first.status_reason
    # The freed reserved seat goes to the next student waiting for one (the certificate follows).
    assert (fourth.status, fourth.seat_kind) == ("seated", "disability")
    told = [m for m in mail.outbox if m.to == [first.email]]
    assert len(told) == 1 and "waiting list" in told[0].body
    assert AuditEntry.objects.filter(action="nomination.certificate_overdue", target_id=str(first.pk)).exists()
    # A second run changes nothing more for the first; the fourth has its own days.
    assert disability_certificates_overdue(now=first.certificate_due_at + datetime.timedelta(minutes=2)) == 0


def test_without_the_certificate_a_free_general_seat_is_taken(
    phase, university, focal, reserved, django_capture_on_commit_callbacks
):
    report = nominations_file_commit(
        phase=phase, university=university, data=csv_file(row(1, disability="yes")), filename="l.csv", actor=focal
    )
    nomination = Nomination.objects.get(pk=report.rows[0].nomination_id)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        disability_certificates_overdue(now=nomination.certificate_due_at + datetime.timedelta(hours=1))
    nomination.refresh_from_db()
    assert (nomination.status, nomination.seat_kind) == (NominationStatus.SEATED, "general")
    (told,) = mail.outbox
    assert "You now hold a general seat instead" in told.body and "Rs 4,000 deposit" in told.body
    quota = Quota.objects.get(pk=reserved.pk)
    assert (quota.disability_seated, quota.general_seated) == (0, 1)


def test_staff_release_the_unused_reserved_seats_and_the_waiting_list_takes_them(
    client, phase, university, focal, reserved, hec_staff
):
    for n in range(4):
        nomination_submit(phase=phase, university=university, data=student(n), actor=focal)
    waiting = Nomination.objects.filter(status="waiting").order_by("id").first()  # 2 general seats, 2 waiting
    client.force_login(hec_staff)
    response = client.post(reverse("registrations:staff_reserve_release", args=[phase.slug]), follow=True)
    assert "1 unused seat reserved for disability went to the general seats" in page(response)
    waiting.refresh_from_db()
    assert waiting.status == "seated"
    assert Quota.objects.get(pk=reserved.pk).disability_reserved == 0
    entry = AuditEntry.objects.get(action="quota.reserve_release")
    assert (entry.actor, entry.data["released"]) == (hec_staff, 1)


def test_on_the_phase_release_date_the_unused_reserved_seats_go_by_themselves(phase, university, focal, reserved):
    phase.disability_release_on = timezone.localdate()
    phase.save(update_fields=["disability_release_on"])
    assert disability_reserves_release_due(today=timezone.localdate() - datetime.timedelta(days=1)) == 0
    assert disability_reserves_release_due() == 1
    assert disability_reserves_release_due() == 0  # idempotent
    assert Quota.objects.get(pk=reserved.pk).disability_reserved == 0
