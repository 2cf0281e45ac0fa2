"""The license year: activation dates (from the invitation, or Coursera's membership report) and
the reminders before the year ends.

The year runs from `Nomination.activated_on` for `phase.license_years` calendar years. Beat runs
`reminders_send_due()`; each reminder (nomination, days before the end) is decided once, by a
unique `ReminderSent` row written in the same transaction as the decision, and e-mailed after
that commits. Courses completed live in `fees`, which this app may not import, so a reminder
names the end date and links to the learner's page where the courses are shown.
"""

import datetime
import re
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from core.mail import bilingual_email_from
from core.tabular import TableRefused, _records, read_table  # _records: the same sniffing and limits
from quotas.license_year import latest_activation_ended_by, license_year_end
from quotas.models import Phase

from .exceptions import RegistrationError
from .learner_page import learner_page_url
from .models import ACTIVE_STATUSES, Nomination, NominationStatus, ReminderSent

MEMBERSHIP_COLUMNS = ["Email", "External Id", "Join Date"]
MEMBERSHIP_MAX_BYTES = 20 * 1024 * 1024
MEMBERSHIP_MAX_ROWS = 50_000


def license_ends_on(*, activated_on: datetime.date, phase: Phase) -> datetime.date:
    """The first day after the license year (a calendar year from activation, quotas.license_year)."""
    return license_year_end(activated_on=activated_on, years=phase.license_years)


def reminder_days(phase: Phase) -> list[int]:
    """The phase's reminder days ("30,7") as whole numbers, largest first; nonsense is ignored."""
    days = {int(part) for part in re.findall(r"\d+", phase.reminder_days or "") if int(part) > 0}
    return sorted(days, reverse=True)


def reminders_send_due(*, today: datetime.date | None = None) -> int:
    """Decide every reminder due today and queue its e-mail. Idempotent: run it as often as you
    like. Of several reminders due at once (a late activation date), only the nearest to the end
    goes out: nobody gets a "30 days left" message with 5 days left. Returns how many were decided."""
    today = today or timezone.localdate()
    decided = 0
    for phase in Phase.objects.all():
        days = reminder_days(phase)
        if not days:
            continue
        # Due for d days before the end: end - d <= today < end, the end a calendar year on.
        first_active = latest_activation_ended_by(day=today, years=phase.license_years) + datetime.timedelta(days=1)
        last_due = latest_activation_ended_by(day=today + datetime.timedelta(days=days[0]), years=phase.license_years)
        candidates = Nomination.objects.filter(
            phase=phase,
            status=NominationStatus.SEATED,
            activated_on__gte=first_active,
            activated_on__lte=last_due,
        ).order_by("id")
        already = set(
            ReminderSent.objects.filter(nomination__in=candidates).values_list("nomination_id", "days_before")
        )
        for nomination in candidates.iterator():
            ends_on = license_ends_on(activated_on=nomination.activated_on, phase=phase)
            due = min(d for d in days if today >= ends_on - datetime.timedelta(days=d))
            if (nomination.pk, due) in already:
                continue
            decided += _reminder_decide(nomination=nomination, days_before=due, ends_on=ends_on)
    return decided


def _reminder_decide(*, nomination: Nomination, days_before: int, ends_on: datetime.date) -> bool:
    try:
        with transaction.atomic():
            reminder = ReminderSent.objects.create(
                nomination=nomination, days_before=days_before, license_ends_on=ends_on
            )
            audit_record(
                actor=None,
                action="reminder.decide",
                target=reminder,
                summary=f"Reminder {days_before} days before {ends_on} for nomination {nomination.pk}",
            )

            def enqueue(reminder_id: int = reminder.pk) -> None:
                from .tasks import reminder_send  # registrations.tasks imports this module: looked up when queued

                reminder_send.delay(reminder_id)

            transaction.on_commit(enqueue, robust=True)
    except IntegrityError:  # decided meanwhile by another run: once is enough
        return False
    return True


def reminder_email(*, reminder: ReminderSent) -> EmailMultiAlternatives:
    nomination = reminder.nomination
    phase = nomination.phase
    context = {
        "nomination": nomination,
        "last_day": reminder.license_ends_on - datetime.timedelta(days=1),
        "days_left": max((reminder.license_ends_on - timezone.localdate()).days, 0),
        "courses_for_refund": phase.courses_for_refund,
        "learner_url": learner_page_url(),
        "invitation_url": phase.coursera_invitation_url,
    }
    return bilingual_email_from(prefix="registrations/email/reminder", context=context, to=[nomination.email])


def reminder_email_send(*, reminder_id: int) -> str:
    """E-mail a decided reminder (raises OSError on an SMTP failure, for the task to retry)."""
    reminder = ReminderSent.objects.select_related("nomination__phase").get(pk=reminder_id)
    if reminder.emailed_at is not None:
        return "already e-mailed"
    message = reminder_email(reminder=reminder)
    message.connection = get_connection(timeout=settings.INVITATION_SMTP_TIMEOUT)
    try:
        message.send(fail_silently=False)
    except OSError as error:
        with transaction.atomic():
            ReminderSent.objects.filter(pk=reminder.pk).update(error=f"{type(error).__name__}: {error}"[:2000])
            audit_record(actor=None, action="reminder.failed", target=reminder, summary=f"Reminder not sent: {error}")
        raise
    with transaction.atomic():
        ReminderSent.objects.filter(pk=reminder.pk).update(emailed_at=timezone.now(), error="")
        audit_record(
            actor=None,
            action="reminder.sent",
            target=reminder,
            summary=f"Reminder e-mailed to {reminder.nomination.email}",
        )
    return "sent"


# Coursera's membership report: the real activation dates -------------------------------------

_EXTERNAL_ID = re.compile(r"^DLSEI-(\d+)-(\d+)$", re.IGNORECASE)


def _parse_join_date(text: str) -> datetime.date | None:
    text = text.strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}", text):
        try:
            return datetime.date.fromisoformat(text[:10])
        except ValueError:
            return None
    match = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})", text)  # Coursera's US-style exports
    if match:
        try:
            return datetime.date(int(match[3]), int(match[1]), int(match[2]))
        except ValueError:
            return None
    return None


def _header(data: bytes, filename: str) -> list[str]:
    """The names in row 1, so that the report's other columns are accepted and ignored."""

    _kind, records = _records(data, filename=filename, max_bytes=MEMBERSHIP_MAX_BYTES)
    try:
        return [" ".join(cell.split()) for cell in next(records, []) if cell.strip()]
    finally:
        records.close()


def memberships_import(*, phase: Phase, data: bytes, filename: str, actor: Any = None) -> dict[str, int]:
    """Set each learner's activation date to the `Join Date` of Coursera's membership report,
    matched by `External Id` (our learner id) or else by `Email`. A bad file or a bad date changes
    nothing and raises RegistrationError naming the rows. Rows of people who are not our learners
    in this phase are counted, not refused. Returns counts: updated, unchanged, unmatched."""
    try:
        others: list[str] = []
        if data and len(data) <= MEMBERSHIP_MAX_BYTES:  # else read_table refuses it in its own words
            wanted = {name.casefold() for name in MEMBERSHIP_COLUMNS}
            others = [name for name in _header(data, filename) if name.casefold() not in wanted]
        rows = read_table(
            data,
            filename=filename,
            required=MEMBERSHIP_COLUMNS,
            optional=list(dict.fromkeys(others)),
            max_bytes=MEMBERSHIP_MAX_BYTES,
            max_rows=MEMBERSHIP_MAX_ROWS,
        )
    except TableRefused as refusal:
        raise RegistrationError(refusal.message) from None

    problems, dates = [], []
    for row in rows:
        join_date = _parse_join_date(row["Join Date"])
        if join_date is None:
            problems.append(
                _("row %(row)d: “%(value)s” is not a date (YYYY-MM-DD)")
                % {"row": row["_row"], "value": row["Join Date"]}
            )
        dates.append(join_date)
    if problems:
        raise RegistrationError(_("Nothing was imported. ") + "; ".join(problems[:20]) + ".")

    by_id = {}
    by_email = {}
    for nomination in Nomination.objects.filter(phase=phase).order_by("id"):
        by_id[nomination.pk] = nomination
        if nomination.status in ACTIVE_STATUSES:
            by_email[nomination.email] = nomination
    counts = {"updated": 0, "unchanged": 0, "unmatched": 0}
    with transaction.atomic():
        for row, join_date in zip(rows, dates, strict=True):
            nomination = None
            match = _EXTERNAL_ID.match(row["External Id"].strip())
            if match and int(match[1]) == phase.pk:
                nomination = by_id.get(int(match[2]))
            if nomination is None:
                nomination = by_email.get(row["Email"].strip().lower())
            if nomination is None:
                counts["unmatched"] += 1
                continue
            if nomination.activated_on == join_date and nomination.joined_on == join_date:
                counts["unchanged"] += 1
                continue
            previous = nomination.activated_on
            nomination.activated_on = join_date
            # The row itself says the learner joined the program (reclaim, impact report).
            nomination.joined_on = join_date
            nomination.save(update_fields=["activated_on", "joined_on"])
            audit_record(
                actor=actor,
                action="nomination.activate",
                target=nomination,
                summary=f"License year of nomination {nomination.pk} starts {join_date} (Coursera join date)",
                data={"previous": previous.isoformat() if previous else None, "join_date": join_date.isoformat()},
            )
            counts["updated"] += 1
        audit_record(
            actor=actor,
            action="memberships.import",
            target=phase,
            summary=f"Coursera membership report {filename} imported for {phase.slug}: {counts}",
            data=counts,
        )
    return counts
