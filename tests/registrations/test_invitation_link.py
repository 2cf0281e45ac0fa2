"""A phase without its Coursera invitation link clears nobody: settled learners wait for it (HEC is
warned on the allocation pages), and are invited once it is set; create_phase takes the link."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from fees.deposits import deposit_record
from quotas.models import Phase
from registrations.clearing import nominations_clear_waiting_for_link
from registrations.models import Invitation
from registrations.services import nomination_submit
from tests.factories import student_data as student

pytestmark = pytest.mark.django_db


def test_without_the_link_nobody_is_cleared_and_setting_it_clears_them(
    client, phase, university, focal, quota, hec_staff
):
    Phase.objects.filter(pk=phase.pk).update(coursera_invitation_url="")
    phase.refresh_from_db()
    nomination = nomination_submit(phase=phase, university=university, data=student(1), actor=focal)
    deposit_record(nomination=nomination, receipt="R-1", paid_on=phase.launch_date, actor=focal)
    nomination.refresh_from_db()
    assert nomination.settled_at is not None and nomination.cleared_at is None
    assert not Invitation.objects.exists()

    client.force_login(hec_staff)
    page = client.get(reverse("quotas:allocation_list", args=[phase.slug])).content.decode()
    assert "has no Coursera invitation link yet, so nobody is cleared for an invitation" in page

    assert nominations_clear_waiting_for_link() == 0  # still no link: still waiting
    Phase.objects.filter(pk=phase.pk).update(coursera_invitation_url="https://www.coursera.org/programs/dlsei")
    assert nominations_clear_waiting_for_link() == 1
    nomination.refresh_from_db()
    assert nomination.cleared_at is not None and Invitation.objects.filter(nomination=nomination).exists()
    assert nominations_clear_waiting_for_link() == 0


def test_create_phase_takes_the_invitation_link(db):
    out = io.StringIO()
    call_command(
        "create_phase", "--slug", "p2", "--launch", "2022-09-01",
        "--coursera-invitation-url", "https://www.coursera.org/programs/dlsei-2", stdout=out,
    )  # fmt: skip
    assert Phase.objects.get(slug="p2").coursera_invitation_url == "https://www.coursera.org/programs/dlsei-2"
    assert "No Coursera invitation link" not in out.getvalue()
    with pytest.raises(CommandError, match="must be a full https:// address"):
        call_command("create_phase", "--slug", "p3", "--launch", "2022-09-01", "--coursera-invitation-url", "coursera")
    assert not Phase.objects.filter(slug="p3").exists()
    out = io.StringIO()
    call_command("create_phase", "--slug", "p4", "--launch", "2022-09-01", stdout=out)
    assert "No Coursera invitation link yet" in out.getvalue()
