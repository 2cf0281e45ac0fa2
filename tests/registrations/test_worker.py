"""Real Celery workers on a real Redis broker, sending to a real SMTP server (tests/smtp_sink.py).

These tests start `celery -A dlsei worker -B` as subprocesses on the test database and this test
process's own redis-server (tests/private_servers.py, the `workers` and `broker` fixtures of
tests/conftest.py), kill them with SIGKILL in the middle of a batch, and count the messages the
SMTP server received. Back-off, lease and sweep times come from the environment in seconds, so
the whole file runs in about a minute; Redis's visibility timeout stays at its hour, so recovery
cannot come from Redis.
"""

import datetime
import json
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from registrations.clearing import university_settle
from registrations.models import Invitation, InvitationAttempt, Nomination, NominationStatus, ReminderSent
from tests import factories
from tests.private_servers import CONCURRENCY, REAL_PROCESSES, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), REAL_PROCESSES]


def private_university_with_nominees(phase, count: int):
    """A private university with `count` seated nominees, as registration leaves them."""
    university = factories.make_university(code="PRIV", sector="private")
    first = factories.make_seated_nomination(phase=phase, university=university)
    Nomination.objects.bulk_create(
        Nomination(
            phase=phase, quota_id=first.quota_id, university=university, pool="private", role="student",
            full_name=f"Learner {number}", cnic=f"{4210100000000 + number:013d}", email=f"l{number}@example.pk",
            status=NominationStatus.SEATED, seat_kind="general", submitted_by_id=first.submitted_by_id,
        )
        for number in range(1, count)
    )  # fmt: skip
    return university, list(Nomination.objects.filter(university=university))


@pytest.fixture
def phase():
    return factories.make_phase(slug="p2021", coursera_invitation_url="https://www.coursera.org/programs/dlsei")


def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_at_most_its_in_flight_sends(
    phase, workers, sink, hec_staff
):
    total = 200
    sink.delay = 0.03  # a mail server that takes a moment per message, so the kill lands mid-batch
    university, nominations = private_university_with_nominees(phase, total)
    first = workers.start()

    # One paid invoice clears 200 learners; their tasks go to Redis when the transaction commits.
    assert university_settle(phase=phase, university=university, reason="Invoice paid", actor=hec_staff) == total
    assert Invitation.objects.filter(state=Invitation.State.QUEUED).count() <= total
    wait_until(lambda: sink.count >= 40, timeout=60, what="the first 40 messages", workers=workers)
    workers.kill(first)
    received_at_kill = sink.count
    assert received_at_kill < total, "the batch finished before the kill; the test proves nothing"
    unsent = Invitation.objects.exclude(state=Invitation.State.SENT).count()
    assert unsent > 0

    started = time.monotonic()
    workers.start()
    wait_until(
        lambda: Invitation.objects.filter(state=Invitation.State.SENT).count() == total,
        timeout=120,
        what=f"every invitation SENT after the restart ({received_at_kill} received before the kill, "
        f"{unsent} unsent then)",
        workers=workers,
    )
    assert time.monotonic() - started < 120

    emails = sorted(n.email for n in nominations)
    assert sorted(set(sink.recipients())) == emails  # every learner got their invitation
    killed_workers = 1
    assert total <= sink.count <= total + killed_workers * CONCURRENCY, sink.count
    repeats = len(sink.recipients()) - len(set(sink.recipients()))
    assert repeats <= killed_workers * CONCURRENCY
    assert Invitation.objects.count() == total
    assert not Nomination.objects.filter(activated_on__isnull=True).exists()
    time.sleep(3)  # a sweep or two later, nothing more goes out
    assert sink.count == total + repeats


def queued_task_names(broker) -> list[str]:
    """The tasks waiting in the default queue, by name (kombu's JSON messages on Redis)."""
    return [json.loads(message)["headers"]["task"].rsplit(".", 1)[1] for message in broker.lrange("celery", 0, -1)]


def test_a_big_settlement_goes_out_in_batches_and_each_learner_gets_exactly_one_invitation(
    phase, workers, broker, sink, hec_staff, settings
):
    total, chunk = 300, 50
    settings.INVITATION_FANOUT_CHUNK = chunk
    university, nominations = private_university_with_nominees(phase, total)

    # The paying request publishes one message per 50 learners, not one per learner.
    assert university_settle(phase=phase, university=university, reason="Invoice paid", actor=hec_staff) == total
    assert queued_task_names(broker) == ["invitations_send_batch"] * (total // chunk)

    workers.start()
    wait_until(
        lambda: Invitation.objects.filter(state=Invitation.State.SENT).count() == total,
        timeout=120,
        what="every invitation SENT",
        workers=workers,
    )
    time.sleep(3)  # a sweep or two later (every 2 s), nothing more goes out
    assert sink.count == total
    assert sorted(sink.recipients()) == sorted(n.email for n in nominations)
    assert InvitationAttempt.objects.count() == total
    assert set(InvitationAttempt.objects.values_list("kind", "outcome")) == {("first", "sent")}
    assert broker.llen("celery") == 0


def test_a_refusing_mail_server_retries_then_fails_visibly_then_a_resend_sends_one(
    phase, workers, sink, hec_staff, client
):
    sink.fail_first = 3  # 451 for the first send and both retries (INVITATION_MAX_RETRIES=2)
    nomination = factories.make_seated_nomination(phase=phase, email="zainab@example.pk")
    workers.start()
    from registrations.clearing import nomination_settle

    nomination_settle(nomination=nomination, reason="Deposit recorded", actor=hec_staff)
    wait_until(
        lambda: Invitation.objects.filter(state=Invitation.State.FAILED).exists(),
        timeout=60,
        what="the invitation FAILED after its retries",
        workers=workers,
    )
    invitation = Invitation.objects.get()
    assert sink.attempts == 3 and sink.count == 0
    assert "451" in invitation.last_error
    assert list(invitation.attempt_rows.order_by("id").values_list("kind", "outcome")) == [
        ("first", "failed"),
        ("retry", "failed"),
        ("retry", "failed"),
    ]

    client.force_login(hec_staff)
    changelist = reverse("admin:registrations_invitation_changelist")
    page = client.get(changelist, {"state__exact": "failed"}).content.decode()
    assert "Failed: 1" in page and "zainab@example.pk" in page and "451" in page
    client.post(changelist, {"action": "resend_selected", "_selected_action": [invitation.pk]})
    wait_until(
        lambda: Invitation.objects.filter(state=Invitation.State.SENT).exists(),
        timeout=60,
        what="the resent invitation SENT",
        workers=workers,
    )
    time.sleep(3)  # the sweep runs every 2 s: nothing more goes out
    assert sink.count == 1 and sink.recipients() == ["zainab@example.pk"]
    resend = Invitation.objects.get().attempt_rows.get(kind="resend")
    assert resend.requested_by == hec_staff and resend.outcome == "sent"


def test_beat_tasks_on_a_real_worker_remind_and_expire_once(phase, workers, sink):
    from registrations.tasks import alumni_holds_expire, reminders_send

    learner = factories.make_seated_nomination(
        phase=phase,
        email="learner@example.pk",
        activated_on=factories.activated_with_days_left(phase, 7),
    )
    alumnus = factories.make_seated_nomination(phase=phase, email="alum@example.pk")
    Nomination.objects.filter(pk=alumnus.pk).update(hold_expires_at=timezone.now() - datetime.timedelta(hours=1))
    alumnus.quota.__class__.objects.filter(pk=alumnus.quota_id).update(general_seated=2)
    workers.start()
    for _ in range(2):
        reminders_send.delay()
        alumni_holds_expire.delay()
    wait_until(lambda: sink.count >= 2, timeout=60, what="the reminder and the hold-expiry e-mails", workers=workers)
    time.sleep(3)
    assert sorted(sink.recipients()) == ["alum@example.pk", "learner@example.pk"]
    assert list(ReminderSent.objects.values_list("nomination_id", "days_before")) == [(learner.pk, 7)]
    assert Nomination.objects.get(pk=alumnus.pk).status == NominationStatus.EXPIRED


def test_the_sweep_leaves_queued_invitations_alone_while_the_queue_drains(phase, broker):
    """A big batch waits in Redis under the rate limit: the sweep must not queue it all again."""
    from registrations.clearing import nomination_settle
    from registrations.tasks import invitations_sweep

    for _ in range(3):
        nomination_settle(nomination=factories.make_seated_nomination(phase=phase), reason="Deposit", actor=None)
    assert broker.llen("celery") == 3  # queued after commit, no worker running
    Invitation.objects.update(enqueued_at=timezone.now() - datetime.timedelta(minutes=10))
    assert invitations_sweep() == 0
    assert broker.llen("celery") == 3

    broker.delete("celery")  # the messages are gone (say, with a killed worker): now they are lost
    assert invitations_sweep() == 3
    assert broker.llen("celery") == 3
    assert set(Invitation.objects.values_list("state", flat=True)) == {"queued"}


def test_a_lost_batch_message_is_recovered_by_the_sweep(phase, broker, hec_staff):
    """The fan-out message itself can be lost (a worker killed while fanning it out)."""
    from registrations.tasks import invitations_sweep

    university, _nominations = private_university_with_nominees(phase, 3)
    assert university_settle(phase=phase, university=university, reason="Invoice paid", actor=hec_staff) == 3
    assert queued_task_names(broker) == ["invitations_send_batch"]
    Invitation.objects.update(enqueued_at=timezone.now() - datetime.timedelta(minutes=10))
    assert invitations_sweep() == 0  # its batch is still waiting in the queue

    broker.delete("celery")
    assert invitations_sweep() == 3
    assert queued_task_names(broker) == ["invitation_send"] * 3
