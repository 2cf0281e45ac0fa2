"""Invitations through Coursera's API instead of the portal's e-mail (COURSERA_API_SEND_INVITATIONS),
against a small local fake of the API (tests/coursera_fake.py): the same outbox, exactly once,
failures recorded for HEC staff with what to do. Off unless configured."""

import pytest
from django.core import mail

from registrations.clearing import nomination_settle
from registrations.models import Invitation, InvitationAttempt
from tests import factories
from tests.coursera_fake import PROGRAM_ID, FakeCoursera

pytestmark = pytest.mark.django_db

LINK = "https://www.coursera.org/programs/dlsei-hec"


@pytest.fixture
def phase(db):
    return factories.make_phase(slug="p2021", coursera_invitation_url=LINK, coursera_program_id=PROGRAM_ID)


@pytest.fixture
def coursera():
    with FakeCoursera() as fake:
        yield fake


def clear(nomination, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        nomination_settle(nomination=nomination, reason="Deposit recorded", actor=None)
    return Invitation.objects.get(nomination=nomination)


def test_coursera_invites_the_learner_instead_of_the_portals_e_mail(
    phase, coursera, settings, django_capture_on_commit_callbacks
):
    coursera.settings(settings, invitations=True)
    nomination = factories.make_seated_nomination(phase=phase, full_name="Ayesha Khan", email="ayesha@example.pk")
    invitation = clear(nomination, django_capture_on_commit_callbacks)

    assert coursera.invitations == [
        {"programId": PROGRAM_ID, "externalId": nomination.learner_id_external, "fullName": "Ayesha Khan",
         "email": "ayesha@example.pk", "sendEmail": True}
    ]  # fmt: skip
    assert [r[1] for r in coursera.api_requests("POST")] == [
        f"/api/businesses.v1/org-hec/programs/{PROGRAM_ID}/invitations"
    ]
    assert mail.outbox == []  # Coursera e-mails the learner
    assert (invitation.state, invitation.sent_to) == (Invitation.State.SENT, "ayesha@example.pk")
    nomination.refresh_from_db()
    assert nomination.activated_on is not None
    # Once: a second run of the task finds it sent and asks Coursera nothing more.
    from registrations.tasks import invitation_send

    assert invitation_send.apply(args=[invitation.pk]).get() == "nothing to do"
    assert len(coursera.invitations) == 1


def test_the_portal_e_mails_as_before_unless_invitations_by_api_are_on(
    phase, coursera, settings, django_capture_on_commit_callbacks
):
    coursera.settings(settings, invitations=False)
    invitation = clear(factories.make_seated_nomination(phase=phase), django_capture_on_commit_callbacks)
    assert invitation.state == Invitation.State.SENT
    assert coursera.requests == [] and len(mail.outbox) == 1 and LINK in mail.outbox[0].body


def test_an_app_not_registered_for_the_organisation_fails_with_what_to_do(
    phase, coursera, settings, django_capture_on_commit_callbacks
):
    coursera.settings(settings, invitations=True)
    settings.COURSERA_API_ORG_ID = "another-org"
    invitation = clear(factories.make_seated_nomination(phase=phase), django_capture_on_commit_callbacks)
    assert invitation.state == Invitation.State.FAILED  # permanent: staff fix the setup and resend
    assert "administrator of the Coursera organisation must authorise the app" in invitation.last_error
    assert InvitationAttempt.objects.get(invitation=invitation).outcome == InvitationAttempt.Outcome.FAILED


def test_a_rate_limited_invitation_waits_to_be_retried(phase, coursera, settings, django_capture_on_commit_callbacks):
    coursera.settings(settings, invitations=True)
    coursera.fail_next(429)
    invitation = clear(factories.make_seated_nomination(phase=phase), django_capture_on_commit_callbacks)
    # In-process tasks do not wait for the back-off: the retry ran at once and went through.
    assert invitation.state == Invitation.State.SENT
    outcomes = list(
        InvitationAttempt.objects.filter(invitation=invitation).order_by("id").values_list("outcome", "kind")
    )
    assert outcomes == [("failed", "first"), ("sent", "retry")]
    assert (
        "429 Too Many Requests" in InvitationAttempt.objects.filter(invitation=invitation).order_by("id").first().error
    )
    assert len(coursera.invitations) == 1
