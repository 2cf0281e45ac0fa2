"""Celery tasks of fees: importing an uploaded completion report, syncing Coursera, e-mails.

Tasks take primary keys, fetch, and call services. Without REDIS_URL they run in-process after
the transaction commits (CELERY_TASK_ALWAYS_EAGER); with it, in `celery -A dlsei worker`.
"""

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model

from core.mail import MAIL_TASK_OPTIONS
from quotas.models import Phase

from . import alumni_payments, bills, completions, coursera_sync, refund_payouts
from .exceptions import FeeError
from .models import CourseraSync


# acks_late: a worker killed mid-import leaves the message to be delivered again, and the import
# resumes from its last committed chunk (fees.completions.completion_import_run).
@shared_task(acks_late=True, reject_on_worker_lost=True)
def completion_import_run_task(completion_import_id: int) -> None:
    completions.completion_import_run(completion_import_id=completion_import_id)


@shared_task
def completion_imports_requeue() -> int:
    waiting = completions.completion_imports_requeue(
        waiting_longer_than=dt.timedelta(seconds=settings.COMPLETION_IMPORT_REQUEUE_AFTER_SECONDS)
    )
    return len(waiting)


@shared_task(acks_late=True)
def enrollment_reports_sync_all() -> int:
    """Beat: Coursera's enrollment reports through the API, for every phase with a program id.
    Does nothing unless the API is configured (the CSV upload stays the default)."""
    return len(coursera_sync.enrollment_reports_sync_all())


@shared_task(acks_late=True)
def enrollment_reports_sync_task(phase_id: int, user_id: int | None = None) -> int | None:
    """A sync asked for by HEC staff on the Coursera API page; returns the CourseraSync's id."""
    phase = Phase.objects.filter(pk=phase_id).first()
    actor = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    if phase is None:
        return None
    try:
        return coursera_sync.enrollment_reports_sync(phase=phase, trigger=CourseraSync.Trigger.STAFF, actor=actor).pk
    except FeeError:
        return None  # not configured any more: the page says so


# The e-mails of fees, by kind, with the primary key of what they are about.
EMAILS = {
    "payment_rejected": lambda pk: alumni_payments.payment_rejection_email_send(payment_id=pk),
    "challan_paid": lambda pk: bills.challan_paid_email_send(payment_id=pk),
    "refund_iban_reminder": lambda pk: refund_payouts.iban_reminder_email_send(nomination_id=pk),
}


@shared_task(**MAIL_TASK_OPTIONS)
def email_send(self, kind: str, object_id: int) -> None:  # noqa: ARG001 - bound for autoretry
    """Send one of ``EMAILS``; retried while the mail server fails."""
    EMAILS[kind](object_id)
