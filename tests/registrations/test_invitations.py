"""Clearing a learner and the invitation e-mail, with tasks run in-process after commit (no Redis).

What a learner notices: one e-mail with the Coursera link, in English and Urdu, only once the
clearing has committed, however often the send runs. What HEC staff notice: failures with their
error in the admin, the counts, the resend, the Coursera bulk-invite CSV.
"""

import csv
import datetime
import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from quotas.license_year import license_last_day
from registrations.clearing import nomination_clear_if_ready, nomination_settle, university_settle
from registrations.exceptions import RegistrationError
from registrations.invitation_outbox import invitation_claim, invitation_resend, invitations_sweep
from registrations.models import Invitation, InvitationAttempt, Nomination, NominationStatus, UniversitySettlement
from registrations.tasks import invitation_send
from tests import factories
from tests.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db

LINK = "https://www.coursera.org/programs/dlsei-hec-2021?authProvider=hec"


@pytest.fixture
def phase(db):
    return factories.make_phase(slug="p2021", coursera_invitation_url=LINK)


@pytest.fixture
def sink(settings):
    with SmtpSink() as running:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", running.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        yield running


def settle(nomination, reason="Deposit of Rs 4,000 recorded"):
    nomination_settle(nomination=nomination, reason=reason, actor=None)


def test_clearing_sends_one_bilingual_invitation_after_commit(phase, django_capture_on_commit_callbacks):
    nomination = factories.make_seated_nomination(phase=phase, full_name="Ayesha Khan", email="ayesha@example.pk")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        settle(nomination)
        assert mail.outbox == []  # nothing leaves before the clearing has committed
        assert Invitation.objects.get(nomination=nomination).state == Invitation.State.QUEUED
    assert len(callbacks) == 1
    for callback in callbacks:
        callback()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ayesha@example.pk"]
    assert message.subject == "Your DLSEI Coursera license invitation / آپ کا DLSEI Coursera لائسنس دعوت نامہ"
    assert LINK in message.body
    assert message.body.index("Dear Ayesha Khan") < message.body.index("محترم/محترمہ Ayesha Khan")
    assert "same e-mail address (ayesha@example.pk)" in message.body
    assert nomination.learner_id_external in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{LINK}"' in html
    assert html.index('lang="en"') < html.index('<div lang="ur" dir="rtl"')

    invitation = Invitation.objects.get(nomination=nomination)
    assert invitation.state == Invitation.State.SENT and invitation.sent_to == "ayesha@example.pk"
    assert invitation.attempts == 1
    nomination.refresh_from_db()
    assert nomination.cleared_at is not None and nomination.settled_reason == "Deposit of Rs 4,000 recorded"
    assert nomination.activated_on == timezone.localdate()
    last_day = license_last_day(activated_on=nomination.activated_on, years=phase.license_years)
    a_year_on = nomination.activated_on.replace(year=nomination.activated_on.year + 1)
    assert last_day == a_year_on - datetime.timedelta(days=1)
    assert f"its last day is {last_day:%-d %B %Y}" in message.body
    attempt = InvitationAttempt.objects.get(invitation=invitation)
    assert (attempt.kind, attempt.outcome) == (InvitationAttempt.Kind.FIRST, InvitationAttempt.Outcome.SENT)
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"nomination.settle", "nomination.clear", "invitation.sending", "invitation.sent"} <= actions


def test_a_rolled_back_clearing_sends_nothing(phase, django_capture_on_commit_callbacks):
    from django.db import transaction

    nomination = factories.make_seated_nomination(phase=phase)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        settle(nomination)
        raise RuntimeError("the deposit could not be recorded")
    assert mail.outbox == []
    assert not Invitation.objects.exists()
    nomination.refresh_from_db()
    assert nomination.settled_at is None and nomination.cleared_at is None


def test_settling_twice_changes_nothing_and_sends_once(phase, django_capture_on_commit_callbacks):
    nomination = factories.make_seated_nomination(phase=phase)
    with django_capture_on_commit_callbacks(execute=True):
        settle(nomination)
    first = Nomination.objects.get(pk=nomination.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        settle(nomination, reason="Recorded again by mistake")
        assert nomination_clear_if_ready(nomination=nomination) is False
    assert callbacks == []
    again = Nomination.objects.get(pk=nomination.pk)
    assert (again.settled_at, again.settled_reason, again.cleared_at) == (
        first.settled_at,
        first.settled_reason,
        first.cleared_at,
    )
    assert Invitation.objects.count() == 1 and len(mail.outbox) == 1
    assert AuditEntry.objects.filter(action="nomination.settle").count() == 1


def test_the_send_task_however_often_it_runs_sends_once(phase, django_capture_on_commit_callbacks):
    nomination = factories.make_seated_nomination(phase=phase)
    with django_capture_on_commit_callbacks(execute=True):
        settle(nomination)
        invitation = Invitation.objects.get(nomination=nomination)
        for _ in range(3):  # redelivered, swept, queued twice: all the same
            invitation_send.delay(invitation.pk)
        invitation_send.apply(args=[invitation.pk])
    assert len(mail.outbox) == 1
    assert InvitationAttempt.objects.filter(invitation=invitation).count() == 1


def test_a_waiting_nominee_is_settled_now_and_cleared_when_seated(phase, django_capture_on_commit_callbacks):
    nomination = factories.make_seated_nomination(phase=phase)
    Nomination.objects.filter(pk=nomination.pk).update(status=NominationStatus.WAITING, seat_kind="")
    nomination.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        settle(nomination)
    nomination.refresh_from_db()
    assert nomination.settled_at is not None and nomination.cleared_at is None
    assert not Invitation.objects.exists() and mail.outbox == []

    Nomination.objects.filter(pk=nomination.pk).update(status=NominationStatus.SEATED, seat_kind="general")
    with django_capture_on_commit_callbacks(execute=True):
        assert nomination_clear_if_ready(nomination=nomination) is True
    assert nomination.cleared_at is not None
    assert len(mail.outbox) == 1 and Invitation.objects.get().state == Invitation.State.SENT


def test_an_unsettled_seat_is_not_cleared(phase, django_capture_on_commit_callbacks):
    nomination = factories.make_seated_nomination(phase=phase)
    with django_capture_on_commit_callbacks(execute=True):
        assert nomination_clear_if_ready(nomination=nomination) is False
    assert not Invitation.objects.exists() and mail.outbox == []


@pytest.mark.parametrize("status", [NominationStatus.WITHDRAWN, NominationStatus.REJECTED, NominationStatus.EXPIRED])
def test_an_ended_nomination_cannot_be_settled(phase, status):
    nomination = factories.make_seated_nomination(phase=phase, full_name="Bilal Ahmed")
    Nomination.objects.filter(pk=nomination.pk).update(status=status, seat_kind="")
    nomination.refresh_from_db()
    with pytest.raises(RegistrationError, match="Bilal Ahmed's nomination is"):
        settle(nomination)
    nomination.refresh_from_db()
    assert nomination.settled_at is None and not Invitation.objects.exists()


def test_a_paid_private_invoice_clears_its_nominees_now_and_later(phase, hec_staff, django_capture_on_commit_callbacks):
    lums = factories.make_university(code="LUMS", sector="private")
    seated = [factories.make_seated_nomination(phase=phase, university=lums) for _ in range(2)]
    waiting = factories.make_seated_nomination(phase=phase, university=lums)
    Nomination.objects.filter(pk=waiting.pk).update(status=NominationStatus.WAITING, seat_kind="")
    other = factories.make_seated_nomination(phase=phase, university=factories.make_university(sector="private"))

    with django_capture_on_commit_callbacks(execute=True):
        assert university_settle(phase=phase, university=lums, reason="Invoice INV-7 paid", actor=hec_staff) == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(n.email for n in seated)
    assert UniversitySettlement.objects.get().actor == hec_staff
    assert Nomination.objects.get(pk=other.pk).settled_at is None

    # Seated after the payment (a new nomination, a promotion): settled and cleared at that moment.
    later = factories.make_seated_nomination(phase=phase, university=lums)
    with django_capture_on_commit_callbacks(execute=True):
        assert nomination_clear_if_ready(nomination=later) is True
    later.refresh_from_db()
    assert later.settled_reason == "Invoice INV-7 paid" and later.cleared_at is not None
    assert len(mail.outbox) == 3

    with django_capture_on_commit_callbacks(execute=True):
        assert university_settle(phase=phase, university=lums, reason="Paid again?", actor=hec_staff) == 0
    assert len(mail.outbox) == 3 and UniversitySettlement.objects.count() == 1


def test_only_a_private_university_settles_by_invoice(phase, hec_staff):
    public = factories.make_university(sector="public")
    factories.make_seated_nomination(phase=phase, university=public)
    with pytest.raises(RegistrationError, match="not a private university"):
        university_settle(phase=phase, university=public, reason="x", actor=hec_staff)
    assert not UniversitySettlement.objects.exists() and not Nomination.objects.filter(settled_at__isnull=False)


def test_a_refusing_mail_server_leads_to_retries_then_failure_then_one_resent_email(
    phase, sink, settings, hec_staff, client, django_capture_on_commit_callbacks
):
    settings.INVITATION_MAX_RETRIES = 2
    sink.fail_first = 3  # the first send and both retries get "451 try again later"
    nomination = factories.make_seated_nomination(phase=phase, email="zainab@example.pk")
    with django_capture_on_commit_callbacks(execute=True):
        settle(nomination)
    invitation = Invitation.objects.get()
    assert invitation.state == Invitation.State.FAILED
    assert "451" in invitation.last_error and sink.attempts == 3 and sink.count == 0
    assert list(invitation.attempt_rows.values_list("outcome", flat=True)) == ["failed"] * 3
    assert AuditEntry.objects.filter(action="invitation.failed").count() == 1

    client.force_login(hec_staff)
    page = client.get(reverse("admin:registrations_invitation_changelist"), {"state__exact": "failed"})
    text = page.content.decode()
    assert "Failed: 1" in text and "zainab@example.pk" in text and "451" in text

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:registrations_invitation_changelist"),
            {"action": "resend_selected", "_selected_action": [invitation.pk]},
            follow=True,
        )
    assert "1 invitation queued to be sent again." in response.content.decode()
    assert sink.count == 1 and sink.recipients() == ["zainab@example.pk"]
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.SENT and invitation.last_error == ""
    resend = invitation.attempt_rows.get(kind=InvitationAttempt.Kind.RESEND)
    assert resend.requested_by == hec_staff and resend.outcome == InvitationAttempt.Outcome.SENT


def test_a_permanent_refusal_fails_at_once(phase, sink, django_capture_on_commit_callbacks):
    sink.fail_first, sink.fail_code = 1, 550
    with django_capture_on_commit_callbacks(execute=True):
        settle(factories.make_seated_nomination(phase=phase))
    invitation = Invitation.objects.get()
    assert invitation.state == Invitation.State.FAILED and "550" in invitation.last_error
    assert sink.attempts == 1


def test_a_link_taken_off_the_phase_before_the_send_is_a_visible_failure(db, django_capture_on_commit_callbacks):
    phase = factories.make_phase(slug="nolink")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        settle(factories.make_seated_nomination(phase=phase))
    type(phase).objects.filter(pk=phase.pk).update(coursera_invitation_url="")
    for callback in queued:
        callback()
    invitation = Invitation.objects.get()
    assert invitation.state == Invitation.State.FAILED and "no Coursera invitation link" in invitation.last_error
    assert mail.outbox == []


def test_only_a_failed_invitation_can_be_resent(phase, hec_staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        settle(factories.make_seated_nomination(phase=phase, email="sent@example.pk"))
    invitation = Invitation.objects.get()
    with pytest.raises(RegistrationError, match="sent@example.pk is sent; only a failed invitation"):
        invitation_resend(invitation=invitation, actor=hec_staff)
    assert len(mail.outbox) == 1 and not invitation.attempt_rows.filter(kind="resend").exists()


def test_a_resend_of_many_reports_the_ones_it_skipped(phase, hec_staff, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        settle(factories.make_seated_nomination(phase=phase, email="ok@example.pk"))
    client.force_login(hec_staff)
    response = client.post(
        reverse("admin:registrations_invitation_changelist"),
        {"action": "resend_selected", "_selected_action": [Invitation.objects.get().pk]},
        follow=True,
    )
    assert "only a failed invitation can be resent" in response.content.decode()
    assert len(mail.outbox) == 1


def _stale(invitation: Invitation, **fields) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(
        enqueued_at=timezone.now() - datetime.timedelta(minutes=5), **fields
    )


def test_the_sweep_sends_what_was_left_queued_or_in_flight(phase, django_capture_on_commit_callbacks):
    nominations = [factories.make_seated_nomination(phase=phase) for _ in range(4)]
    with django_capture_on_commit_callbacks(execute=False):  # the tasks were lost (e.g. a killed worker)
        for nomination in nominations:
            settle(nomination)
    queued, in_flight, young, live = (Invitation.objects.get(nomination=n) for n in nominations)
    assert invitation_claim(invitation_id=in_flight.pk) and invitation_claim(invitation_id=live.pk)
    _stale(queued)
    _stale(in_flight, sending_since=timezone.now() - datetime.timedelta(minutes=3))  # its worker died
    _stale(live)  # its worker is sending right now (a fresh lease)
    # `young` was queued just now: its task is presumably still on its way.
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations_sweep() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([queued.nomination.email, in_flight.nomination.email])
    states = dict(Invitation.objects.values_list("pk", "state"))
    assert (states[young.pk], states[live.pk]) == ("queued", "sending")
    attempts = in_flight.attempt_rows.order_by("id").values_list("kind", "outcome")
    assert list(attempts) == [("first", "interrupted"), ("recovery", "sent")]
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations_sweep() == 0


def test_a_worker_that_died_mid_send_is_recorded_and_the_send_recovered(phase, django_capture_on_commit_callbacks):
    nomination = factories.make_seated_nomination(phase=phase)
    with django_capture_on_commit_callbacks(execute=False):
        settle(nomination)
    invitation = Invitation.objects.get()
    assert invitation_claim(invitation_id=invitation.pk) is not None  # ... and the worker is killed here
    assert invitation_claim(invitation_id=invitation.pk) is None  # the lease holds off everyone else
    invitation_send.apply(args=[invitation.pk])
    assert mail.outbox == []

    Invitation.objects.filter(pk=invitation.pk).update(sending_since=timezone.now() - datetime.timedelta(minutes=3))
    invitation_send.apply(args=[invitation.pk])
    assert len(mail.outbox) == 1
    outcomes = list(invitation.attempt_rows.order_by("id").values_list("kind", "outcome"))
    assert outcomes == [("first", "interrupted"), ("recovery", "sent")]


def test_admin_shows_counts_and_filters(phase, hec_staff, client, sink, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            settle(factories.make_seated_nomination(phase=phase))
    with django_capture_on_commit_callbacks(execute=False):
        settle(factories.make_seated_nomination(phase=phase))
    client.force_login(hec_staff)
    page = client.get(reverse("admin:registrations_invitation_changelist")).content.decode()
    assert "Sent: 2 · Queued: 1 · Sending: 0 · Waiting to retry: 0 · Failed: 0" in page
    queued_only = client.get(reverse("admin:registrations_invitation_changelist"), {"state__exact": "queued"})
    assert "Sent: 0 · Queued: 1" in queued_only.content.decode()
    invitation = Invitation.objects.first()
    detail = client.get(reverse("admin:registrations_invitation_change", args=[invitation.pk]))
    assert detail.status_code == 200 and "First send" in detail.content.decode()


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_export_coursera_invites_lists_the_cleared_learners(phase, tmp_path, django_capture_on_commit_callbacks):
    cleared = factories.make_seated_nomination(phase=phase, full_name='=HYPERLINK("http://x")', email="a@example.pk")
    factories.make_seated_nomination(phase=phase, email="not-cleared@example.pk")
    with django_capture_on_commit_callbacks(execute=True):
        settle(cleared)
    target = tmp_path / "invites.csv"
    call_command("export_coursera_invites", "--phase", phase.slug, str(target))
    rows = _csv(target.read_bytes())
    assert rows == [
        ["Full Name", "Email", "External ID"],
        ['\'=HYPERLINK("http://x")', "a@example.pk", cleared.learner_id_external],
    ]
    assert re.fullmatch(r"DLSEI-\d+-\d+", rows[1][2])

    out = io.StringIO()
    call_command("export_coursera_invites", "--phase", phase.slug, stdout=out)
    assert "a@example.pk" in out.getvalue() and "not-cleared" not in out.getvalue()


def test_export_command_names_an_unknown_phase(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no phase called “nope”"):
        call_command("export_coursera_invites", "--phase", "nope")


def test_staff_download_the_coursera_csv_from_the_admin(phase, hec_staff, client, django_capture_on_commit_callbacks):
    nomination = factories.make_seated_nomination(phase=phase, full_name="Sana Iqbal", email="sana@example.pk")
    with django_capture_on_commit_callbacks(execute=True):
        settle(nomination)
    client.force_login(hec_staff)
    response = client.post(
        reverse("admin:registrations_invitation_changelist"),
        {"action": "download_coursera_csv", "_selected_action": list(Invitation.objects.values_list("pk", flat=True))},
    )
    assert response["Content-Disposition"].startswith('attachment; filename="coursera-invites-')
    assert _csv(response.content) == [
        ["Full Name", "Email", "External ID"],
        ["Sana Iqbal", "sana@example.pk", nomination.learner_id_external],
    ]


def test_a_learner_withdrawn_before_the_send_is_not_invited(phase, hec_staff, django_capture_on_commit_callbacks):
    nomination = factories.make_seated_nomination(phase=phase, full_name="Omar Farooq")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        settle(nomination)
    Nomination.objects.filter(pk=nomination.pk).update(status=NominationStatus.WITHDRAWN, seat_kind="")
    for callback in callbacks:
        callback()
    invitation = Invitation.objects.get()
    assert mail.outbox == []
    assert invitation.state == Invitation.State.FAILED
    assert invitation.last_error == "Not sent: the nomination is withdrawn."
    with pytest.raises(RegistrationError, match="Omar Farooq's nomination is withdrawn; the invitation cannot be"):
        invitation_resend(invitation=invitation, actor=hec_staff)


def test_the_one_open_window_repeats_that_one_message_and_loses_none(phase, django_capture_on_commit_callbacks):
    """The mail server took the message, then the worker died before writing SENT."""
    from registrations.invitation_outbox import invitation_deliver

    with django_capture_on_commit_callbacks(execute=False):
        settle(factories.make_seated_nomination(phase=phase, email="window@example.pk"))
    invitation = Invitation.objects.get()
    claim = invitation_claim(invitation_id=invitation.pk)
    invitation_deliver(claim=claim)  # accepted by the server ... and the worker is killed here
    assert len(mail.outbox) == 1
    Invitation.objects.filter(pk=invitation.pk).update(
        sending_since=timezone.now() - datetime.timedelta(minutes=3),
        enqueued_at=timezone.now() - datetime.timedelta(minutes=3),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations_sweep() == 1
        assert invitations_sweep() == 0
    assert [m.to for m in mail.outbox] == [["window@example.pk"]] * 2  # one repeat, never a loss
    invitation.refresh_from_db()
    assert invitation.state == Invitation.State.SENT
    assert list(invitation.attempt_rows.order_by("id").values_list("outcome", flat=True)) == ["interrupted", "sent"]
