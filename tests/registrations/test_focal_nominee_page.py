"""The focal person's page of one nominee: every detail with the full CNIC, corrections until the
invitation goes out (each recorded), the place on the waiting list; only their own university's."""

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from registrations.models import Nomination
from registrations.services import nomination_submit
from tests.factories import student_data as student


def url(nomination) -> str:
    return reverse("registrations:focal_nominee", args=[nomination.pk])


@pytest.fixture
def nominee(phase, university, focal, quota):
    return nomination_submit(phase=phase, university=university, data=student(1, email="wrong@qau.edu.pk"), actor=focal)


def test_the_focal_person_sees_the_full_cnic_and_corrects_the_details(client, focal, nominee):
    client.force_login(focal)
    page = client.get(url(nominee)).content.decode()
    assert nominee.cnic in page  # the full number they typed, for their own nominee

    response = client.post(
        url(nominee),
        {"action": "correct", "full_name": "Ayesha  Khan", "email": "Right@QAU.edu.pk", "phone": "0300 1234567"},
        follow=True,
    )
    assert "The details of Ayesha Khan are saved." in response.content.decode()
    nominee.refresh_from_db()
    assert (nominee.full_name, nominee.email, nominee.phone) == ("Ayesha Khan", "right@qau.edu.pk", "0300 1234567")
    entry = AuditEntry.objects.get(action="nomination.correct", target_id=str(nominee.pk))
    assert entry.actor == focal and entry.data["changed"]["email"] == ["wrong@qau.edu.pk", "right@qau.edu.pk"]


def test_a_new_e_mail_is_checked_like_a_new_nomination(client, phase, university, focal, nominee, hec_staff):
    other = nomination_submit(phase=phase, university=university, data=student(2), actor=focal)
    client.force_login(focal)
    for email, expected in ((other.email, "already nominated by your university"), (hec_staff.email, "HEC staff")):
        response = client.post(url(nominee), {"action": "correct", "full_name": "A B", "email": email, "phone": ""})
        assert response.status_code == 400 and expected in response.content.decode()
    nominee.refresh_from_db()
    assert nominee.email == "wrong@qau.edu.pk"


def test_after_the_invitation_the_details_no_longer_change(client, focal, nominee):
    Nomination.objects.filter(pk=nominee.pk).update(cleared_at=timezone.now())
    client.force_login(focal)
    page = client.get(url(nominee)).content.decode()
    assert "can no longer be changed here" in page
    response = client.post(url(nominee), {"action": "correct", "full_name": "X Y", "email": "x@y.pk", "phone": ""})
    assert "can no longer be changed" in response.content.decode()
    nominee.refresh_from_db()
    assert nominee.full_name != "X Y"


def test_a_waiting_nominee_shows_their_place_in_the_list(client, phase, university, focal, quota):
    nominations = [
        nomination_submit(phase=phase, university=university, data=student(n), actor=focal) for n in range(5)
    ]
    client.force_login(focal)
    assert "Number 2 on your university's waiting list." in client.get(url(nominations[4])).content.decode()


def test_another_universitys_nominee_is_not_found(client, phase, other_focal, other_quota, nominee):
    client.force_login(other_focal)
    assert client.get(url(nominee)).status_code == 404
    assert client.post(url(nominee), {"action": "correct", "full_name": "X", "email": "x@y.pk"}).status_code == 404
