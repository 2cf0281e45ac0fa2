"""The Celery tasks of registrations, run in-process (no Redis): what beat runs, what a starting
worker does, how the send task is throttled and retried, and that each task is safe to repeat."""

import datetime
import os
import subprocess
import sys

import pytest
from celery.signals import task_prerun
from django.conf import settings
from django.core import mail
from django.utils import timezone

from audit.models import AuditEntry
from dlsei.celery import app
from registrations.clearing import nomination_settle, university_settle
from registrations.models import Invitation, InvitationAttempt, Nomination, ReminderSent
from registrations.tasks import (
    invitation_send,
    invitations_send_batch,
    invitations_sweep,
    reminders_send,
    sweep_on_worker_start,
)
from tests import factories
from tests.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db


@pytest.fixture
def phase(db):
    return factories.make_phase(slug="p2021", coursera_invitation_url="https://www.coursera.org/programs/dlsei")


def lost_invitations(phase, count: int, django_capture_on_commit_callbacks) -> list[Invitation]:
    """Cleared learners whose send tasks never ran (a worker was killed holding them)."""
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(count):
            nomination_settle(nomination=factories.make_seated_nomination(phase=phase), reason="Deposit", actor=None)
    Invitation.objects.update(enqueued_at=timezone.now() - datetime.timedelta(minutes=10))
    return list(Invitation.objects.order_by("id"))


def test_beat_runs_the_sweep_every_minute_and_the_other_periodic_tasks():
    schedule = settings.CELERY_BEAT_SCHEDULE
    app.loader.import_default_modules()
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry["task"]
    tasks = {entry["task"]: entry["schedule"] for entry in schedule.values()}
    assert tasks["registrations.tasks.invitations_sweep"] <= 60
    assert tasks["registrations.tasks.alumni_holds_expire"] <= 15 * 60
    assert tasks["registrations.tasks.reminders_send"] <= 24 * 3600


def test_a_starting_worker_sends_what_a_killed_one_left(phase, django_capture_on_commit_callbacks):
    lost = lost_invitations(phase, 3, django_capture_on_commit_callbacks)
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        sweep_on_worker_start()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(i.nomination.email for i in lost)
    assert set(Invitation.objects.values_list("state", flat=True)) == {"sent"}


def test_the_sweep_is_safe_to_repeat_and_takes_a_bounded_batch(phase, settings, django_capture_on_commit_callbacks):
    settings.INVITATION_SWEEP_LIMIT = 2
    lost_invitations(phase, 3, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations_sweep.apply().get() == 2
    assert len(mail.outbox) == 2
    Invitation.objects.filter(state="queued").update(enqueued_at=timezone.now() - datetime.timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations_sweep.apply().get() == 1
        assert invitations_sweep.apply().get() == 0
    assert len(mail.outbox) == 3


@pytest.fixture
def tasks_run():
    """The tasks that ran in this process, in order, with their arguments (Celery's own signal)."""
    ran: list[tuple[str, tuple]] = []

    def record(sender=None, args=None, **kwargs):
        ran.append((sender.name.rsplit(".", 1)[1], tuple(args or ())))

    task_prerun.connect(record, weak=False)
    yield ran
    task_prerun.disconnect(record)


def test_a_big_settlement_fans_out_in_batches_and_sends_each_invitation_once(
    phase, hec_staff, settings, tasks_run, django_capture_on_commit_callbacks
):
    settings.INVITATION_FANOUT_CHUNK = 3
    private = factories.make_university(code="PRIV", sector="private")
    nominees = [factories.make_seated_nomination(phase=phase, university=private) for _ in range(7)]
    with django_capture_on_commit_callbacks(execute=True):
        assert university_settle(phase=phase, university=private, reason="Invoice paid", actor=hec_staff) == 7

    ids = list(Invitation.objects.order_by("id").values_list("id", flat=True))
    batches = [args[0] for name, args in tasks_run if name == "invitations_send_batch"]
    assert batches == [ids[0:3], ids[3:6], ids[6:7]]
    assert sorted(args[0] for name, args in tasks_run if name == "invitation_send") == ids
    assert sorted(m.to[0] for m in mail.outbox) == sorted(n.email for n in nominees)
    assert set(Invitation.objects.values_list("state", flat=True)) == {"sent"}
    assert InvitationAttempt.objects.count() == 7
    trail = {(a, t, int(i)) for a, t, i in AuditEntry.objects.values_list("action", "target_type", "target_id")}
    for nominee in nominees:
        assert ("nomination.settle", "registrations.nomination", nominee.pk) in trail
        assert ("nomination.clear", "registrations.nomination", nominee.pk) in trail

    # The same batch delivered again (a worker killed before acknowledging it) sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations_send_batch.apply(args=[ids]).get() == 0
    assert len(mail.outbox) == 7 and InvitationAttempt.objects.count() == 7


def test_a_batch_queues_only_what_is_still_waiting(phase, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(3):
            nomination_settle(nomination=factories.make_seated_nomination(phase=phase), reason="Deposit", actor=None)
    first, withdrawn, waiting = Invitation.objects.order_by("id")
    assert invitation_send.apply(args=[first.pk]).get() == "sent"
    Nomination.objects.filter(pk=withdrawn.nomination_id).update(status="withdrawn", seat_kind="")
    assert invitation_send.apply(args=[withdrawn.pk]).get() == "nothing to do"
    mail.outbox.clear()

    assert invitations_send_batch.apply(args=[[first.pk, withdrawn.pk, waiting.pk]]).get() == 1
    assert [m.to[0] for m in mail.outbox] == [waiting.nomination.email]
    assert list(Invitation.objects.order_by("id").values_list("state", flat=True)) == ["sent", "failed", "sent"]


def test_a_task_for_an_unknown_invitation_does_nothing(db):
    assert invitation_send.apply(args=[987654]).get() == "nothing to do"
    assert mail.outbox == []


def test_the_send_task_acknowledges_late_and_is_throttled_by_a_setting():
    assert invitation_send.acks_late and invitation_send.reject_on_worker_lost
    assert invitation_send.rate_limit == settings.INVITATION_RATE_LIMIT
    # The rate limit (and the back-off) are read from the environment by a worker.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dlsei.settings",
        "INVITATION_RATE_LIMIT": "5/s",
        "INVITATION_RETRY_BACKOFF": "7",
    }
    code = (
        "import django; django.setup(); from registrations.tasks import invitation_send as t; "
        "print(t.rate_limit, t.retry_backoff)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["5/s", "7"]


def test_a_reminder_e_mail_refused_once_is_retried_and_sent_once(phase, settings, django_capture_on_commit_callbacks):
    nomination = factories.make_seated_nomination(
        phase=phase, activated_on=factories.activated_with_days_left(phase, 30)
    )
    with SmtpSink(fail_first=1, fail_code=421) as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        with django_capture_on_commit_callbacks(execute=True):
            assert reminders_send.apply().get() == 1
            assert reminders_send.apply().get() == 0
        assert sink.attempts == 2 and sink.recipients() == [nomination.email]
    reminder = ReminderSent.objects.get()
    assert reminder.emailed_at is not None and reminder.error == ""
