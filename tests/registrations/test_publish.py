"""Publishing an allocation again: the seats it adds go to the waiting lists at once (as licenses
moved in do), and a version that would leave a quota below its seats taken is refused."""

import io

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit.models import AuditEntry
from quotas.exceptions import QuotaError
from quotas.models import Allocation, Quota
from quotas.services import allocation_run
from registrations.models import Nomination, NominationStatus
from registrations.services import allocation_publish_and_promote, nomination_submit
from tests import factories
from tests.factories import disclaimer_on_file
from tests.factories import student_data as student

SEATED, WAITING = NominationStatus.SEATED, NominationStatus.WAITING


@pytest.fixture
def world(db, hec_staff):
    """A 100-license phase: public pool 60 (10 to a distance-learning grant), BIG 30 and MID 20
    licenses (one reserved each); MID's 19 general seats taken and two nominees waiting."""
    phase = factories.make_small_phase(slug="republish")
    factories.make_university(code="DL", enrolment=500_000, distance_learning_licenses=10)
    big = factories.make_university(code="BIG", enrolment=30_000)
    mid = factories.make_university(code="MID", enrolment=20_000)
    factories.make_university(code="NAHE", sector="nahe", enrolment=0)
    factories.make_university(code="PRI", sector="private", enrolment=4_000)
    factories.make_university(code="PRJ", sector="private", enrolment=2_000)
    allocation_publish_and_promote(allocation=allocation_run(phase=phase, actor=hec_staff), actor=hec_staff)
    focal = factories.make_focal_person(university=mid, email="focal@mid.edu.pk")
    disclaimer_on_file(phase=phase, university=mid, user=focal)
    nominations = [nomination_submit(phase=phase, university=mid, data=student(), actor=focal) for _ in range(21)]
    return phase, big, mid, nominations


def quota_of(phase, code) -> Quota:
    return Quota.objects.get(phase=phase, university__code=code)


def test_a_republish_with_more_licenses_seats_the_waiting_list_and_tells_them(
    client, world, hec_staff, django_capture_on_commit_callbacks
):
    phase, _big, mid, nominations = world
    first_waiting, second_waiting = nominations[-2:]
    assert (first_waiting.status, second_waiting.status) == (WAITING, WAITING)
    mid.enrolment = 40_000  # MID goes from 20 to 29 licenses, BIG from 30 to 21
    mid.save(update_fields=["enrolment"])
    allocation_run(phase=phase, actor=hec_staff)
    client.force_login(hec_staff)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("fees:staff_allocation_publish", args=[phase.slug, 2]), {"confirm": "on"})

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Version 2 is published: registration now counts against it.",
        "2 nominations on waiting lists took the new seats.",
    ]
    assert Allocation.objects.get(phase=phase, version=2).status == Allocation.Status.PUBLISHED
    mid_quota = quota_of(phase, "MID")
    assert (mid_quota.licenses, mid_quota.general_seated) == (29, 21)
    for nomination in (first_waiting, second_waiting):
        nomination.refresh_from_db()
        assert (nomination.status, nomination.seat_kind) == (SEATED, "general")
        assert AuditEntry.objects.filter(action="nomination.promote", target_id=str(nomination.pk)).exists()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([first_waiting.email, second_waiting.email])
    assert all("A DLSEI seat is now yours" in m.subject for m in mail.outbox)
    assert AuditEntry.objects.filter(action="allocation.publish").count() == 2


def test_allocate_quotas_with_publish_promotes_the_waiting_list_too(world, django_capture_on_commit_callbacks):
    phase, _big, mid, nominations = world
    mid.enrolment = 40_000
    mid.save(update_fields=["enrolment"])

    with django_capture_on_commit_callbacks(execute=True):
        call_command("allocate_quotas", "--phase", phase.slug, "--publish", stdout=io.StringIO())

    assert Nomination.objects.filter(pk__in=[n.pk for n in nominations], status=WAITING).count() == 0
    assert quota_of(phase, "MID").general_seated == 21
    assert len(mail.outbox) == 2


def test_a_republish_that_grows_nobody_promotes_nobody(world, hec_staff, django_capture_on_commit_callbacks):
    phase, _big, _mid, nominations = world

    with django_capture_on_commit_callbacks(execute=True):
        allocation, promoted = allocation_publish_and_promote(
            allocation=allocation_run(phase=phase, actor=hec_staff), actor=hec_staff
        )

    assert (allocation.version, promoted) == (2, [])
    assert [n.status for n in Nomination.objects.filter(pk__in=[n.pk for n in nominations[-2:]])] == [WAITING] * 2
    assert mail.outbox == []


def test_a_republish_below_the_seats_taken_is_refused_and_changes_nothing(world, hec_staff):
    phase, big, mid, nominations = world
    big.enrolment = 60_000  # MID would drop to 13 licenses, under its 19 seats taken
    big.save(update_fields=["enrolment"])
    draft = allocation_run(phase=phase, actor=hec_staff)

    with pytest.raises(QuotaError) as refused:
        allocation_publish_and_promote(allocation=draft, actor=hec_staff)

    assert "MID would have" in refused.value.message
    assert "19 general and 0 reserved seats are already taken" in refused.value.message
    assert "Nothing was changed" in refused.value.message
    draft.refresh_from_db()
    assert draft.status == Allocation.Status.DRAFT
    assert (quota_of(phase, "MID").licenses, quota_of(phase, "BIG").licenses) == (20, 30)
    assert Nomination.objects.filter(pk__in=[n.pk for n in nominations], status=WAITING).count() == 2


def test_the_command_refusing_a_republish_says_why_and_leaves_no_draft(world):
    phase, big, _mid, _nominations = world
    big.enrolment = 60_000
    big.save(update_fields=["enrolment"])

    with pytest.raises(CommandError, match="MID would have"):
        call_command("allocate_quotas", "--phase", phase.slug, "--publish", stdout=io.StringIO())

    assert Allocation.objects.filter(phase=phase).count() == 1
