"""Unclaimed seats go to the waiting list.

A learner is invited (the outbox row is SENT) and must then join the phase's Coursera program
within ``phase.join_within_days`` days (default 30). Joining is known from Coursera: the
membership report's Join Date, or a usage report or the API showing the learner enrolled
(`nominations_joined_record`, called by those imports).

- Beat runs :func:`join_reminders_send_due`: a learner who has not joined is reminded at half the
  time and again a week before the last day, each reminder decided once (a ``JoinReminder`` row
  written with the decision) and e-mailed by a task after commit.
- Once the last day has passed, the learner is *unclaimed* (:func:`unclaimed_learners`). Nothing
  happens by itself: HEC staff see the list and reclaim the seats (:func:`seats_reclaim`). Each
  reclaim ends the nomination as RECLAIMED through the same path as a withdrawal
  (``services.nomination_reclaim``): the seat is freed and the earliest waiting nomination of the
  quota promoted in the same transaction (for alumni the seat goes back to the pool, which
  promotes its own waiting list), audited, and the learner told by e-mail after commit. A
  deposit they paid is then listed for return by ``fees.deposit_returns``.

Why a status of its own rather than a withdrawal with a reason: a withdrawal is the
university's act, a reclaim is HEC's, for one defined reason, with its own consequences (the
deposit goes back instead of being refunded or forfeited by the course rule; the learner is
counted as invited but never joined). A status says that without anyone parsing free text, and
HEC can still reinstate a reclaimed nomination like a withdrawn one.

Two reclaims of the same seat at once (two staff members, a double click) reclaim it once: the
nomination row is locked and checked again inside the transaction, so the second finds it
RECLAIMED and reclaims nothing, and the next waiting nominee is promoted once.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, audit_records
from core.mail import bilingual_email_from
from core.roles import user_is_hec_staff
from quotas.models import DEPOSIT_POOLS, Phase, Pool, Quota, University

from .exceptions import RegistrationError
from .learner_page import learner_page_url
from .models import Invitation, JoinReminder, Nomination, NominationStatus
from .services import nomination_reclaim

LAST_WEEK_DAYS = 7
Kind = JoinReminder.Kind


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def join_by(*, invited_on: datetime.date, phase: Phase) -> datetime.date:
    """The last day to join the program: the invitation's day plus the phase's join_within_days."""
    return invited_on + datetime.timedelta(days=phase.join_within_days)


def _not_joined(phase: Phase) -> QuerySet[Nomination]:
    """Seated learners of the phase whose invitation went out and who have not joined (yet)."""
    return Nomination.objects.filter(
        phase=phase,
        status=NominationStatus.SEATED,
        joined_on__isnull=True,
        invitation__state=Invitation.State.SENT,
        invitation__sent_at__isnull=False,
    )


def unclaimed_learners(
    *, phase: Phase, today: datetime.date | None = None, university: University | None = None
) -> QuerySet[Nomination]:
    """The learners whose last day to join has passed without joining: their seats may be
    reclaimed. Annotated with ``invited_at``; the earliest invited first."""
    today = today or timezone.localdate()
    if not phase.join_within_days:
        return Nomination.objects.none()
    # join_by < today  <=>  invited_on < today - join_within_days  <=>  sent_at before that day began
    invited_before = _start_of(today - datetime.timedelta(days=phase.join_within_days))
    learners = _not_joined(phase).filter(invitation__sent_at__lt=invited_before)
    if university is not None:
        learners = learners.filter(university=university)
    return (
        learners.select_related("university", "invitation")
        .annotate(invited_at=F("invitation__sent_at"))
        .order_by("invitation__sent_at", "id")
    )


def not_joined_yet_count(*, phase: Phase, today: datetime.date | None = None) -> int:
    """Learners invited who have not joined but whose last day has not passed: not reclaimable yet."""
    today = today or timezone.localdate()
    invited_before = _start_of(today - datetime.timedelta(days=phase.join_within_days))
    return _not_joined(phase).filter(invitation__sent_at__gte=invited_before).count()


# Joining ---------------------------------------------------------------------------------------


def nominations_joined_record(*, nomination_ids: Iterable[int], day: datetime.date, actor: Any, source: str) -> int:
    """Record that these learners are in the Coursera program (a report or the API shows them
    enrolled), as of ``day`` at the latest. A join date already known (the membership report's)
    is kept. Returns how many learners were newly recorded as joined; each gets an audit entry."""
    ids = sorted(set(nomination_ids))
    if not ids:
        return 0
    with transaction.atomic():
        newly = list(
            Nomination.objects.select_for_update()
            .filter(pk__in=ids, joined_on__isnull=True)
            .order_by("id")
            .values_list("id", flat=True)
        )
        if not newly:
            return 0
        Nomination.objects.filter(pk__in=newly, joined_on__isnull=True).update(joined_on=day)
        audit_records(
            actor=actor,
            action="nomination.joined",
            target_type="registrations.nomination",
            entries=[
                (
                    pk,
                    f"Nomination {pk} is in the Coursera program ({source}), by {day}",
                    {"source": source, "joined_on": day.isoformat()},
                )  # fmt: skip
                for pk in newly
            ],
        )
    return len(newly)


# Reminders to join ----------------------------------------------------------------------------


def _due_kind(*, invited_on: datetime.date, phase: Phase, today: datetime.date) -> str | None:
    """The reminder due today, if any: the last week's once it has started, else the halfway one.
    Nothing after the last day (the seat may be reclaimed then) nor before half the time."""
    last_day = join_by(invited_on=invited_on, phase=phase)
    if today > last_day:
        return None
    if today >= last_day - datetime.timedelta(days=LAST_WEEK_DAYS):
        return Kind.LAST_WEEK
    if today >= invited_on + datetime.timedelta(days=phase.join_within_days // 2):
        return Kind.HALFWAY
    return None


def join_reminders_send_due(*, today: datetime.date | None = None) -> int:
    """Decide every reminder to join that is due today and queue its e-mail. Idempotent: run it as
    often as you like; each (learner, reminder) is decided once, and after the last week's
    reminder no halfway one follows. Returns how many were decided."""
    today = today or timezone.localdate()
    decided = 0
    for phase in Phase.objects.filter(join_within_days__gt=0):
        earliest = _start_of(today - datetime.timedelta(days=phase.join_within_days))
        learners = (
            _not_joined(phase)
            .filter(invitation__sent_at__gte=earliest)
            .annotate(invited_at=F("invitation__sent_at"))
            .order_by("id")
        )
        already: dict[int, set[str]] = {}
        for nomination_id, kind in JoinReminder.objects.filter(nomination__in=learners).values_list(
            "nomination_id", "kind"
        ):
            already.setdefault(nomination_id, set()).add(kind)
        for nomination in learners.iterator():
            invited_on = timezone.localdate(nomination.invited_at)
            kind = _due_kind(invited_on=invited_on, phase=phase, today=today)
            sent = already.get(nomination.pk, set())
            if kind is None or kind in sent or Kind.LAST_WEEK in sent:
                continue
            decided += _join_reminder_decide(
                nomination=nomination, kind=kind, last_day=join_by(invited_on=invited_on, phase=phase)
            )
    return decided


def _join_reminder_decide(*, nomination: Nomination, kind: str, last_day: datetime.date) -> bool:
    try:
        with transaction.atomic():
            reminder = JoinReminder.objects.create(nomination=nomination, kind=kind, join_by=last_day)
            audit_record(
                actor=None,
                action="join_reminder.decide",
                target=reminder,
                summary=f"Reminder to join Coursera ({kind}) by {last_day} for nomination {nomination.pk}",
            )
            transaction.on_commit(partial(_enqueue_join_reminder, reminder.pk), robust=True)
    except IntegrityError:  # decided meanwhile by another run
        return False
    return True


def _enqueue_join_reminder(reminder_id: int) -> None:
    from .tasks import join_reminder_send  # registrations.tasks imports this module: looked up when queued

    join_reminder_send.delay(reminder_id)


def join_reminder_email(*, reminder: JoinReminder) -> EmailMultiAlternatives:
    nomination = reminder.nomination
    context = {
        "nomination": nomination,
        "phase": nomination.phase,
        "join_by": reminder.join_by,
        "days_left": max((reminder.join_by - timezone.localdate()).days, 0),
        "invitation_url": nomination.phase.coursera_invitation_url,
        "learner_url": learner_page_url(),
    }
    return bilingual_email_from(prefix="registrations/email/join_reminder", context=context, to=[nomination.email])


def join_reminder_email_send(*, reminder_id: int) -> str:
    """E-mail a decided reminder to join (raises OSError on an SMTP failure, for the task to retry).
    Not sent when the learner has joined or lost the seat meanwhile."""
    reminder = JoinReminder.objects.select_related("nomination__phase").get(pk=reminder_id)
    if reminder.emailed_at is not None:
        return "already e-mailed"
    nomination = reminder.nomination
    if nomination.joined_on is not None or nomination.status != NominationStatus.SEATED:
        return "no longer due"
    message = join_reminder_email(reminder=reminder)
    message.connection = get_connection(timeout=settings.INVITATION_SMTP_TIMEOUT)
    try:
        message.send(fail_silently=False)
    except OSError as error:
        JoinReminder.objects.filter(pk=reminder.pk).update(error=f"{type(error).__name__}: {error}"[:2000])
        raise
    with transaction.atomic():
        JoinReminder.objects.filter(pk=reminder.pk).update(emailed_at=timezone.now(), error="")
        audit_record(
            actor=None,
            action="join_reminder.sent",
            target=reminder,
            summary=f"Reminder to join Coursera e-mailed to {nomination.email}",
        )
    return "sent"


# Reclaiming ------------------------------------------------------------------------------------


@dataclass
class ReclaimResult:
    reclaimed: list[Nomination] = field(default_factory=list)
    promoted: list[Nomination] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def seats_reclaim(
    *, nominations: Iterable[Nomination | int], actor: Any, reason: str = "", today: datetime.date | None = None
) -> ReclaimResult:
    """HEC staff reclaim the seats of unclaimed learners, each in its own transaction: the
    nomination ends as RECLAIMED, its seat goes to the earliest waiting nomination of its quota
    (promoted and told by e-mail), the learner is told by e-mail after commit, and it is audited.
    A learner who has joined meanwhile, or whose last day has not passed, or whose seat is
    already gone, is refused (said why) and nothing changes for them."""
    if actor is None or not user_is_hec_staff(actor):
        raise RegistrationError(_("Only HEC staff can reclaim a seat."))
    today = today or timezone.localdate()
    result = ReclaimResult()
    for item in nominations:
        pk = item if isinstance(item, int) else item.pk
        try:
            reclaimed, promoted = _seat_reclaim(pk=pk, actor=actor, reason=reason, today=today)
        except RegistrationError as error:
            result.refused.append(error.message)
            continue
        result.reclaimed.append(reclaimed)
        result.promoted.extend(promoted)
    return result


def _seat_reclaim(*, pk: int, actor: Any, reason: str, today: datetime.date) -> tuple[Nomination, list[Nomination]]:
    with transaction.atomic():
        locked = (
            Nomination.objects.select_for_update(of=("self",))
            .select_related("phase", "university")
            .filter(pk=pk)
            .first()
        )
        if locked is None:
            raise RegistrationError(_("There is no such nomination."))
        if not unclaimed_learners(phase=locked.phase, today=today).filter(pk=pk).exists():
            raise RegistrationError(_refusal(locked))
        invited_on = timezone.localdate(locked.invitation.sent_at)
        last_day = join_by(invited_on=invited_on, phase=locked.phase)
        words = reason.strip() or _(
            "Did not join the Coursera program by %(day)s, %(days)s days after the invitation of %(invited)s."
        ) % {"day": last_day.isoformat(), "days": locked.phase.join_within_days, "invited": invited_on.isoformat()}
        # The quota row is locked before the waiting list is read (the release below would lock it
        # anyway), so a reclaim running at the same time cannot promote from the list in between:
        # the nominees promoted are exactly those waiting here and seated after the release.
        Quota.objects.select_for_update().filter(pk=locked.quota_id).first()
        waiting = list(
            Nomination.objects.filter(quota_id=locked.quota_id, status=NominationStatus.WAITING).values_list(
                "id", flat=True
            )
        )
        nomination_reclaim(nomination=locked, actor=actor, reason=words)
        promoted = list(Nomination.objects.filter(pk__in=waiting, status=NominationStatus.SEATED).order_by("id"))
        transaction.on_commit(partial(_enqueue_reclaim_notice, locked.pk), robust=True)
    return locked, promoted


def _refusal(nomination: Nomination) -> str:
    if nomination.status == NominationStatus.RECLAIMED:
        return _("The seat of %(name)s has already been reclaimed.") % {"name": nomination.full_name}
    if nomination.status != NominationStatus.SEATED:
        return _("%(name)s no longer holds a seat (%(status)s); there is nothing to reclaim.") % {
            "name": nomination.full_name,
            "status": nomination.get_status_display().lower(),
        }
    if nomination.joined_on is not None:
        return _("%(name)s has joined the Coursera program; the seat stays theirs.") % {"name": nomination.full_name}
    return _("%(name)s still has time to join the Coursera program; the seat cannot be reclaimed yet.") % {
        "name": nomination.full_name
    }


def _enqueue_reclaim_notice(nomination_id: int) -> None:
    from .tasks import reclaim_notice_send  # registrations.tasks imports this module: looked up when queued

    reclaim_notice_send.delay(nomination_id)


def reclaim_notice_send(*, nomination_id: int) -> str:
    """Tell a learner that their seat was reclaimed (raises OSError for the task to retry)."""
    nomination = Nomination.objects.select_related("phase", "university").filter(pk=nomination_id).first()
    if nomination is None or nomination.status != NominationStatus.RECLAIMED:
        return "nothing to tell"  # reinstated meanwhile
    context = {
        "nomination": nomination,
        "phase": nomination.phase,
        "reason": nomination.status_reason,
        "had_deposit": nomination.pool in DEPOSIT_POOLS,
        "is_alumnus": nomination.pool == Pool.ALUMNI,
        "learner_url": learner_page_url(),
    }
    message = bilingual_email_from(prefix="registrations/email/reclaimed", context=context, to=[nomination.email])
    message.connection = get_connection(timeout=settings.INVITATION_SMTP_TIMEOUT)
    message.send(fail_silently=False)
    audit_record(
        actor=None,
        action="nomination.reclaim_notice",
        target=nomination,
        summary=f"Nomination {nomination.pk}: the learner was told the seat was reclaimed",
    )
    return "sent"
