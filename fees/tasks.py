"""Celery tasks of fees: importing an uploaded completion report.

Tasks take primary keys, fetch, and call services. Without REDIS_URL they run in-process after
the transaction commits (CELERY_TASK_ALWAYS_EAGER); with it, in `celery -A dlsei worker`.
"""

import datetime as dt

from celery import shared_task
from django.conf import settings

from . import completions


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
