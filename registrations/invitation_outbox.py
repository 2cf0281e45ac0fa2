"""The invitation outbox: a cleared learner's invitation, sent once.

`registrations.clearing` writes the `Invitation` row when it clears a learner and queues its send
after the transaction commits (`invitation_queue_on_commit`, `invitations_queue_on_commit`). The
send itself, and why it happens exactly once, is in `registrations/tasks.py`; the state changes
it makes are here, each its own short transaction: `invitation_claim` takes the lease,
`invitation_deliver` hands the e-mail (`invitation_email`) to the mail server or the invitation
to Coursera's API with no transaction open, `invitation_mark_sent` / `invitation_mark_failed`
record the result. HEC staff resend a failed invitation (`invitation_resend`); the sweep
(`invitations_sweep`, beat) queues again those whose task may have been lost.
"""

import dataclasses
import datetime
import smtplib
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from core.mail import bilingual_email_from
from quotas.license_year import license_last_day

from . import coursera_api
from .exceptions import RegistrationError
from .learner_page import learner_page_url
from .models import Invitation, InvitationAttempt, Nomination, NominationStatus

State = Invitation.State
Outcome = InvitationAttempt.Outcome
Kind = InvitationAttempt.Kind


# Queueing the send --------------------------------------------------------------------------


def invitation_queue_on_commit(*, invitation_id: int) -> None:
    """Queue the invitation's send task once the current transaction has committed (never before:
    a worker must find the row). `robust`: a broker that is down at that moment must not turn a
    committed clearing into an error page; the row stays QUEUED and the sweep queues it again."""

    def enqueue() -> None:
        from .tasks import invitation_send  # registrations.tasks imports this module: looked up when queued

        invitation_send.delay(invitation_id)

    transaction.on_commit(enqueue, robust=True)


def invitations_queue_on_commit(*, invitation_ids: list[int]) -> None:
    """`invitation_queue_on_commit` for many invitations, fanned out: after commit, one
    `invitations_send_batch` message per INVITATION_FANOUT_CHUNK ids, over one broker connection;
    a worker turns each into the per-invitation `invitation_send` tasks. Publishing 24,000
    messages one by one would keep the paying request waiting over a minute. A message lost
    anywhere on the way (the broker down at commit, a worker killed while fanning out) leaves its
    rows QUEUED, and the sweep queues them again, as for a single one."""
    if not invitation_ids:
        return
    if len(invitation_ids) == 1:  # one learner cleared: straight to its send task, no fan-out step
        invitation_queue_on_commit(invitation_id=invitation_ids[0])
        return
    ids = list(invitation_ids)

    def enqueue() -> None:
        from .tasks import invitations_send_batch  # registrations.tasks imports this module: looked up when queued

        chunk = settings.INVITATION_FANOUT_CHUNK
        with invitations_send_batch.app.producer_or_acquire() as producer:
            for start in range(0, len(ids), chunk):
                invitations_send_batch.apply_async((ids[start : start + chunk],), producer=producer)

    transaction.on_commit(enqueue, robust=True)


# The send, step by step (called by registrations.tasks.invitation_send) -------------------------


@dataclasses.dataclass(frozen=True)
class Claim:
    """One worker's lease on one send: the invitation and the attempt recorded for it."""

    invitation_id: int
    attempt_id: int


def invitation_claim(*, invitation_id: int) -> Claim | None:
    """Take the lease on an invitation for one send, or None when there is nothing to do: already
    sent, failed (only staff resend it), or being sent by a live worker. (A RETRYING row is taken
    by its retry task; the sweep queues one again only long after `retry_at`, if it was lost.)"""
    now = timezone.now()
    lease_start = now - datetime.timedelta(seconds=settings.INVITATION_LEASE_SECONDS)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(pk=invitation_id).first()
        if invitation is None or invitation.state in (State.SENT, State.FAILED):
            return None
        if invitation.state == State.SENDING and invitation.sending_since and invitation.sending_since > lease_start:
            return None
        status = Nomination.objects.filter(pk=invitation.nomination_id).values_list("status", flat=True).get()
        if status != NominationStatus.SEATED:
            # Withdrawn or rejected between the clearing and the send: nobody to invite any more.
            _invitation_withdraw(invitation=invitation, status=status, now=now)
            return None
        # An attempt still "being sent" belongs to a worker that died: the mail server may or may
        # not have taken that message; we cannot know, so it is recorded as interrupted.
        interrupted = InvitationAttempt.objects.filter(invitation=invitation, outcome=Outcome.SENDING).update(
            outcome=Outcome.INTERRUPTED,
            finished_at=now,
            error=_("The worker stopped during this attempt; the lease expired."),
        )
        attempt = (
            InvitationAttempt.objects.filter(invitation=invitation, outcome=Outcome.REQUESTED).order_by("-id").first()
        )
        if attempt is None:
            if interrupted:
                kind = Kind.RECOVERY
            elif invitation.state == State.RETRYING:
                kind = Kind.RETRY
            else:
                kind = Kind.FIRST if invitation.attempts == 0 else Kind.RECOVERY
            attempt = InvitationAttempt.objects.create(invitation=invitation, kind=kind, outcome=Outcome.SENDING)
        attempt.outcome = Outcome.SENDING
        attempt.started_at = now
        attempt.save(update_fields=["outcome", "started_at"])
        invitation.state = State.SENDING
        invitation.sending_since = now
        invitation.attempts += 1
        invitation.save(update_fields=["state", "sending_since", "attempts"])
        audit_record(
            actor=None,
            action="invitation.sending",
            target=invitation,
            summary=f"Invitation {invitation.pk}: send attempt {invitation.attempts} started",
            data={"attempt": attempt.pk, "kind": attempt.kind},
        )
    return Claim(invitation_id=invitation.pk, attempt_id=attempt.pk)


def _invitation_withdraw(*, invitation: Invitation, status: str, now: datetime.datetime) -> None:
    invitation.state = State.FAILED
    invitation.failed_at = now
    invitation.last_error = _("Not sent: the nomination is %(status)s.") % {
        "status": NominationStatus(status).label.lower()
    }
    invitation.save(update_fields=["state", "failed_at", "last_error"])
    audit_record(
        actor=None,
        action="invitation.cancel",
        target=invitation,
        summary=f"Invitation {invitation.pk} not sent: nomination {status}",
    )


def invitation_email(*, invitation: Invitation) -> EmailMultiAlternatives:
    """The invitation e-mail: text and HTML, English first and Urdu below, with the phase's
    Coursera link and what the learner must do next."""
    nomination = invitation.nomination
    phase = nomination.phase
    starts_on = nomination.activated_on or timezone.localdate()
    context = {
        "nomination": nomination,
        "phase": phase,
        "invitation_url": phase.coursera_invitation_url,
        "license_years": phase.license_years,
        "last_day": license_last_day(activated_on=starts_on, years=phase.license_years),
        "courses_for_refund": phase.courses_for_refund,
        "learner_url": learner_page_url(),
    }
    return bilingual_email_from(prefix="registrations/email/invitation", context=context, to=[nomination.email])


def invitation_deliver(*, claim: Claim) -> None:
    """Hand the invitation to the mail server. Raises OSError (smtplib errors are OSErrors) on failure.

    No database write here and no transaction open: the claim has committed before, the result
    is recorded after."""
    invitation = Invitation.objects.select_related("nomination__phase").get(pk=claim.invitation_id)
    nomination = invitation.nomination
    if coursera_api.invitations_by_api(nomination.phase):
        # Coursera invites (and e-mails) the learner itself. A transient failure is an OSError and
        # is retried like an SMTP one; a refusal (credentials, app not registered) is permanent.
        try:
            coursera_api.invitation_create(
                phase=nomination.phase,
                external_id=nomination.learner_id_external,
                full_name=nomination.full_name,
                email=nomination.email,
            )
        except coursera_api.CourseraApiError as error:
            if error.transient:
                raise
            raise InvitationUndeliverable(error.message) from error
        return
    if not invitation.nomination.phase.coursera_invitation_url:
        raise InvitationUndeliverable(
            _("The phase %(phase)s has no Coursera invitation link; set it on the phase, then resend.")
            % {"phase": invitation.nomination.phase.slug}
        )
    connection = get_connection(timeout=settings.INVITATION_SMTP_TIMEOUT)
    message = invitation_email(invitation=invitation)
    message.connection = connection
    message.send(fail_silently=False)


class InvitationUndeliverable(Exception):
    """A failure that no retry can mend (no link on the phase, an address the server refuses)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def error_is_permanent(error: BaseException) -> bool:
    """A 5xx answer (or no link to send) will not change on a retry; 4xx and network errors may."""
    if isinstance(error, InvitationUndeliverable):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _message in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 500 <= error.smtp_code < 600
    return False


def invitation_mark_sent(*, claim: Claim) -> None:
    """Record the send: SENT, the attempt, and the start of the license year (unless a Coursera
    membership report already gave the real join date)."""
    now = timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().select_related("nomination").get(pk=claim.invitation_id)
        InvitationAttempt.objects.filter(pk=claim.attempt_id).update(outcome=Outcome.SENT, finished_at=now, error="")
        if invitation.state == State.SENT:
            # Another worker took over after our lease expired and recorded first: both messages
            # went out. Recorded as such (the attempt above), nothing else changes.
            audit_record(
                actor=None,
                action="invitation.duplicate",
                target=invitation,
                summary=f"Invitation {invitation.pk} was sent again by a worker whose lease had expired",
                data={"attempt": claim.attempt_id},
            )
            return
        nomination = Nomination.objects.select_for_update().get(pk=invitation.nomination_id)
        invitation.state = State.SENT
        invitation.sent_at = now
        invitation.sent_to = nomination.email
        invitation.sending_since = None
        invitation.retry_at = None
        invitation.last_error = ""
        invitation.save(update_fields=["state", "sent_at", "sent_to", "sending_since", "retry_at", "last_error"])
        if nomination.activated_on is None:
            nomination.activated_on = timezone.localdate(now)
            nomination.save(update_fields=["activated_on"])
        audit_record(
            actor=None,
            action="invitation.sent",
            target=invitation,
            summary=f"Invitation {invitation.pk} sent to {nomination.email}",
            data={"attempt": claim.attempt_id, "activated_on": nomination.activated_on.isoformat()},
        )


def invitation_mark_failed(*, claim: Claim, error: str, permanent: bool, retry_in: float) -> str:
    """Record a failed send. Returns the new state: RETRYING (a retry is due in `retry_in`
    seconds) or FAILED after the last retry or a permanent refusal."""
    now = timezone.now()
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=claim.invitation_id)
        InvitationAttempt.objects.filter(pk=claim.attempt_id).update(
            outcome=Outcome.FAILED, finished_at=now, error=error[:2000]
        )
        if invitation.state == State.SENT:  # another worker got it out meanwhile
            return State.SENT
        tries_this_round = InvitationAttempt.objects.filter(
            invitation=invitation, outcome__in=[Outcome.FAILED, Outcome.INTERRUPTED], id__gt=_round_start(invitation)
        ).count()
        final = permanent or tries_this_round > settings.INVITATION_MAX_RETRIES
        invitation.last_error = error[:2000]
        invitation.sending_since = None
        if final:
            invitation.state = State.FAILED
            invitation.failed_at = now
            invitation.retry_at = None
        else:
            invitation.state = State.RETRYING
            invitation.retry_at = now + datetime.timedelta(seconds=retry_in)
            invitation.enqueued_at = invitation.retry_at
        invitation.save(update_fields=["state", "failed_at", "retry_at", "enqueued_at", "last_error", "sending_since"])
        audit_record(
            actor=None,
            action="invitation.failed" if final else "invitation.retry",
            target=invitation,
            summary=f"Invitation {invitation.pk}: {'failed' if final else 'will retry'}: {error}",
            data={"attempt": claim.attempt_id, "retry_in": None if final else retry_in},
        )
    return invitation.state


def _round_start(invitation: Invitation) -> int:
    """Attempts with a greater id belong to the current round: since the latest staff resend."""
    last = invitation.attempt_rows.filter(kind=Kind.RESEND).order_by("-id").values_list("id", flat=True).first()
    return last - 1 if last else 0


# Staff's resend, and the sweep -------------------------------------------------------------


def invitation_resend(*, invitation: Invitation, actor: Any) -> InvitationAttempt:
    """A staff resend of a failed invitation: a new, recorded attempt, queued after commit."""
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().select_related("nomination").get(pk=invitation.pk)
        if locked.state != State.FAILED:
            raise RegistrationError(
                _("The invitation to %(email)s is %(state)s; only a failed invitation can be resent.")
                % {"email": locked.nomination.email, "state": locked.get_state_display().lower()}
            )
        if locked.nomination.status != NominationStatus.SEATED:
            raise RegistrationError(
                _("%(name)s's nomination is %(status)s; the invitation cannot be resent.")
                % {"name": locked.nomination.full_name, "status": locked.nomination.get_status_display().lower()}
            )
        now = timezone.now()
        attempt = InvitationAttempt.objects.create(
            invitation=locked, kind=Kind.RESEND, outcome=Outcome.REQUESTED, requested_by=actor
        )
        locked.state = State.QUEUED
        locked.enqueued_at = now
        locked.failed_at = None
        locked.save(update_fields=["state", "enqueued_at", "failed_at"])
        audit_record(
            actor=actor,
            action="invitation.resend",
            target=locked,
            summary=f"Invitation {locked.pk} to {locked.nomination.email} resent by staff",
            data={"attempt": attempt.pk, "previous_error": locked.last_error},
        )
        invitation_queue_on_commit(invitation_id=locked.pk)
    invitation.refresh_from_db()
    return attempt


def invitations_resend(*, invitations: Iterable[Invitation], actor: Any) -> tuple[int, list[str]]:
    """Resend many (the admin action): how many were queued, and why the others were not."""
    resent, refusals = 0, []
    for invitation in invitations:
        try:
            invitation_resend(invitation=invitation, actor=actor)
        except RegistrationError as error:
            refusals.append(error.message)
        else:
            resent += 1
    return resent, refusals


def invitations_sweep(*, queue_is_empty: bool = True) -> int:
    """Queue again every invitation whose task may have been lost: QUEUED for longer than the
    re-queue delay, SENDING with an expired lease (the worker died), RETRYING long past its retry
    time. Run by beat every minute and once when a worker starts, so a killed worker's invitations
    go out within minutes instead of after Redis's visibility timeout (an hour by default).

    While the broker still holds waiting messages (`queue_is_empty` False: a big batch draining
    under the rate limit), a QUEUED row's task is most likely among them, so QUEUED rows are left
    alone until the queue has drained; re-queueing them would only fill the queue with tasks that
    find nothing to do and use up the rate limit. A re-queued task that finds its row already
    handled does nothing, so a generous sweep costs a queue message, never a second e-mail.
    Returns how many were queued."""
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=settings.INVITATION_REQUEUE_AFTER_SECONDS)
    lease_start = now - datetime.timedelta(seconds=settings.INVITATION_LEASE_SECONDS)
    lost = Q(state=State.SENDING, sending_since__lt=lease_start) | Q(state=State.RETRYING, retry_at__lt=stale)
    if queue_is_empty:
        lost |= Q(state=State.QUEUED)
    with transaction.atomic():
        due = (
            Invitation.objects.select_for_update(skip_locked=True)
            .filter(Q(enqueued_at__lt=stale) | Q(enqueued_at__isnull=True))
            .filter(lost)
            .order_by("enqueued_at", "id")
            .values_list("id", flat=True)[: settings.INVITATION_SWEEP_LIMIT]
        )
        ids = list(due)
        if not ids:
            return 0
        Invitation.objects.filter(pk__in=ids).update(enqueued_at=now)
        audit_record(
            actor=None,
            action="invitation.sweep",
            target_type="registrations.invitation",
            summary=f"{len(ids)} invitations queued again by the sweep",
            data={"ids": ids[:100]},
        )
        for invitation_id in ids:
            invitation_queue_on_commit(invitation_id=invitation_id)
    return len(ids)
