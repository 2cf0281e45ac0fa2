"""Celery tasks of registrations: invitations, the sweep, license-year reminders, hold expiry.

Tasks take primary keys, fetch, and call services (registrations.invitation_outbox,
registrations.clearing, registrations.reminders, registrations.services). Without REDIS_URL they run in-process after
the transaction commits (CELERY_TASK_ALWAYS_EAGER); with it, in `celery -A dlsei worker`, and
the periodic ones from `celery -A dlsei beat` (settings.CELERY_BEAT_SCHEDULE).

Exactly one invitation e-mail per learner per phase
----------------------------------------------------
The outbox row (`Invitation`, one per nomination: a OneToOne) is written in the transaction that
clears the learner, and the task is queued only after that commits. `invitation_send` then:

1. claims the row in a short transaction: locks it (SELECT … FOR UPDATE; on SQLite the
   IMMEDIATE transaction is the lock), returns if it is SENT, FAILED, or SENDING under a lease
   younger than INVITATION_LEASE_SECONDS (another worker has it); otherwise sets SENDING +
   `sending_since`, records the attempt, and commits;
2. talks to the mail server, with no transaction open;
3. records SENT + `sent_at`, the attempt's outcome and the activation date in a new transaction.

The task is `acks_late`: Redis keeps the message until the task returns, and a worker that dies
leaves it to be delivered again. What a crash (kill -9, power cut) at each point leads to:

- before the claim commits: nothing was written and nothing sent; the row is still QUEUED and
  the sweep queues it again (after INVITATION_REQUEUE_AFTER_SECONDS, once the broker's queue
  has no more waiting messages that could be its task), and that task sends it.
- after the claim commits, before the mail server accepted the message: the row is SENDING
  with a lease; once the lease expires the sweep queues it again, and the next claim records the
  old attempt as interrupted and sends. No message had left, so none is repeated.
- after the mail server accepted the message, before SENT is written (step 3): the one window
  that cannot be closed, since the mail server and our database cannot commit together. The
  lease expires, the row is sent again: the learner gets that one message twice. This costs at
  most one duplicate per send in flight in the killed worker (its concurrency), and never a lost
  invitation. Any other order (record first, send after) would lose invitations instead.
- after SENT is written, before the message is acknowledged: the redelivered task finds SENT and
  does nothing.

Many at once (a paid invoice, a nominations file): the web process publishes one
`invitations_send_batch` message per INVITATION_FANOUT_CHUNK invitation ids, and a worker turns
each into the `invitation_send` tasks above; the web request never pays one message per learner.
The batch message is acks_late too. A crash while a worker fans it out leaves some ids published
and others not: the message is delivered again (at once when only the pool process died, after
the visibility timeout when the whole worker did) and publishes those still QUEUED, and before
that the sweep has queued them anyway once the queue is empty. An id published twice costs a
queue message, never a second e-mail.

A duplicate task (the sweep, a redelivery after the visibility timeout, a staff double-click) is
harmless: the claim under the row lock lets only one of them through while the lease lasts, and
INVITATION_LEASE_SECONDS is kept well above the SMTP timeout so a slow but live send is never
taken over.

Failures: a refused or broken connection (smtplib errors are OSErrors) is recorded on the
attempt and the row waits in RETRYING; Celery retries with exponential back-off
(INVITATION_RETRY_BACKOFF doubled each time, at most INVITATION_RETRY_BACKOFF_MAX). After
INVITATION_MAX_RETRIES retries, or at once on a permanent (5xx) refusal, the row is FAILED with
the error, visible in the admin, where staff resend it (a new recorded attempt).

Throughput: `invitation_send` has Celery's rate limit INVITATION_RATE_LIMIT (per worker), so a
phase's 24,000 invitations drain steadily without the mail server refusing them.
"""

import logging

from celery import current_app, shared_task
from celery.signals import worker_ready
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.contrib.auth import get_user_model

from core.mail import MAIL_TASK_OPTIONS

from . import clearing, focal_accounts, invitation_outbox, notifications, reclaim, reminders, services
from .models import Invitation

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=settings.INVITATION_RETRY_BACKOFF,
    retry_backoff_max=settings.INVITATION_RETRY_BACKOFF_MAX,
    retry_jitter=False,
    # The database decides when retries are over (invitation_mark_failed); Celery's own count is
    # a backstop one higher.
    max_retries=settings.INVITATION_MAX_RETRIES + 1,
    rate_limit=settings.INVITATION_RATE_LIMIT,
)
def invitation_send(self, invitation_id: int) -> str:
    """Send one invitation e-mail, at most once however often this task runs (see above)."""
    claim = invitation_outbox.invitation_claim(invitation_id=invitation_id)
    if claim is None:
        return "nothing to do"
    # Crash here: SENDING is committed; the lease expiry lets the sweep send it again.
    try:
        invitation_outbox.invitation_deliver(claim=claim)
    except (OSError, invitation_outbox.InvitationUndeliverable) as error:
        retry_in = get_exponential_backoff_interval(
            factor=self.retry_backoff,
            retries=self.request.retries,
            maximum=self.retry_backoff_max,
            full_jitter=False,
        )
        state = invitation_outbox.invitation_mark_failed(
            claim=claim,
            error=f"{type(error).__name__}: {error}",
            permanent=invitation_outbox.error_is_permanent(error),
            retry_in=retry_in,
        )
        if state != invitation_outbox.State.RETRYING:
            logger.warning("Invitation %s %s: %s", invitation_id, state, error)
            return str(state)
        raise  # autoretry_for queues the retry with the back-off computed above
    # Crash here: the mail server has the message but SENT is not written: the one duplicate.
    invitation_outbox.invitation_mark_sent(claim=claim)
    return "sent"


@shared_task(acks_late=True, reject_on_worker_lost=True)
def invitations_send_batch(invitation_ids: list[int]) -> int:
    """The fan-out (see above): queue `invitation_send` for each of these invitations that is still
    QUEUED, over one broker connection. Returns how many were queued."""
    waiting = set(
        Invitation.objects.filter(pk__in=invitation_ids, state=Invitation.State.QUEUED).values_list("pk", flat=True)
    )
    # A redelivered batch whose sends already went out queues nothing, so it cannot eat the rate limit.
    due = [invitation_id for invitation_id in invitation_ids if invitation_id in waiting]
    with invitation_send.app.producer_or_acquire() as producer:
        for invitation_id in due:
            invitation_send.apply_async((invitation_id,), producer=producer)
    return len(due)


def broker_queue_is_empty() -> bool:
    """Whether the default queue holds no waiting message (True when tasks run in-process, or
    when the broker cannot tell: then the sweep errs on the side of queueing again)."""
    if current_app.conf.task_always_eager:
        return True
    try:
        with current_app.connection_for_read() as connection:
            declared = connection.default_channel.queue_declare(queue=current_app.conf.task_default_queue, passive=True)
            return declared.message_count == 0
    except Exception:  # noqa: BLE001 - a queue not declared yet, a broker hiccup: assume nothing waits
        logger.info("Could not read the broker's queue length; the sweep re-queues queued invitations.")
        return True


@shared_task(acks_late=True)
def invitations_sweep() -> int:
    """Beat, every minute: clear the learners who waited only for their phase's Coursera link, and
    queue again the invitations whose task may have been lost."""
    clearing.nominations_clear_waiting_for_link()
    return invitation_outbox.invitations_sweep(queue_is_empty=broker_queue_is_empty())


@worker_ready.connect
def sweep_on_worker_start(sender=None, **kwargs) -> None:  # noqa: ARG001 - Celery's signal signature
    """A worker coming back after a crash queues the sweep at once instead of waiting for beat."""
    invitations_sweep.delay()


@shared_task(acks_late=True)
def reminders_send() -> int:
    """Beat: decide and queue the license-year reminders that are due (each one once)."""
    return reminders.reminders_send_due()


@shared_task(**MAIL_TASK_OPTIONS)
def reminder_send(self, reminder_id: int) -> str:  # noqa: ARG001 - bound for autoretry
    """E-mail one reminder that was decided (ReminderSent row); retried on SMTP errors."""
    return reminders.reminder_email_send(reminder_id=reminder_id)


@shared_task(acks_late=True)
def alumni_holds_expire() -> object:
    """Beat, every few minutes: expire unpaid alumni holds (the seat goes to the waiting list)."""
    return services.alumni_holds_expire()


@shared_task(acks_late=True)
def disability_seats_review() -> object:
    """Beat, every hour: reserved seats whose certificate did not arrive go to a general seat or the
    waiting list, and on a phase's release date the unused reserved seats go to general seats."""
    return {
        "certificates_overdue": services.disability_certificates_overdue(),
        "reserved_seats_released": services.disability_reserves_release_due(),
    }


# Unclaimed seats (registrations.reclaim) ---------------------------------------------------------


@shared_task(acks_late=True)
def join_reminders_send() -> int:
    """Beat: decide and queue the reminders to join the Coursera program that are due (each once)."""
    return reclaim.join_reminders_send_due()


@shared_task(**MAIL_TASK_OPTIONS)
def join_reminder_send(self, reminder_id: int) -> str:  # noqa: ARG001 - bound for autoretry
    """E-mail one decided reminder to join (JoinReminder row); retried on SMTP errors."""
    return reclaim.join_reminder_email_send(reminder_id=reminder_id)


@shared_task(**MAIL_TASK_OPTIONS)
def reclaim_notice_send(self, nomination_id: int) -> str:  # noqa: ARG001 - bound for autoretry
    """Tell a learner their unclaimed seat was reclaimed for the waiting list; retried on SMTP errors."""
    return reclaim.reclaim_notice_send(nomination_id=nomination_id)


@shared_task(acks_late=True)
def seats_reclaim_task(nomination_ids: list[int], user_id: int, reason: str = "") -> int:
    """Many seats reclaimed at once by HEC staff on the unclaimed-seats page: the same
    seats_reclaim as the page, one seat per transaction (a redelivered task finds the seats
    already reclaimed and changes nothing). Returns how many were reclaimed by this run."""
    actor = get_user_model().objects.filter(pk=user_id).first()
    return len(reclaim.seats_reclaim(nominations=nomination_ids, actor=actor, reason=reason).reclaimed)


# The e-mails of registrations other than invitations and reminders: by kind, the primary key of
# what they are about; each one fetches what it needs and says nothing if it no longer applies.
EMAILS = {
    "promotion": lambda pk: notifications.promotion_notify(nomination_id=pk),
    "hold_expired": lambda pk: notifications.hold_expired_notify(nomination_id=pk),
    "certificate_overdue": lambda pk: notifications.certificate_overdue_notify(nomination_id=pk),
    "focal_welcome": lambda pk: focal_accounts.focal_welcome_send(user_id=pk),
}


@shared_task(**MAIL_TASK_OPTIONS)
def email_send(self, kind: str, object_id: int) -> None:  # noqa: ARG001 - bound for autoretry
    """Send one of ``EMAILS``; retried while the mail server fails, so a mail server that is down
    never undoes (or errors) the change the e-mail tells of."""
    EMAILS[kind](object_id)
