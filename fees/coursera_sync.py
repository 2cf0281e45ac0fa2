"""Coursera's enrollment reports through the API, into the same completion records the CSV writes.

:func:`enrollment_reports_sync` asks Coursera (registrations.coursera_api) for the program's
enrollment records completed since shortly before the latest completion the portal holds, turns
them into the rows of Coursera's usage report (its own column names: Email, External Id, Course,
Course Slug, Course Type, Completed, Completion Time, Estimated Learning Hours, Course
Certificate URL) and imports those exactly as an uploaded report is imported
(``fees.completions.completions_import``): the same matching, each course once per learner, the
unmatched rows listed, the learners marked as joined, the audit entry. Every sync is a
``CourseraSync`` row, with the import it fed, or the error and what to do.

Nothing is ever deleted: a learner removed from the program on Coursera (whose rows then vanish
from Coursera's reports) keeps the completions already imported and any refund decision.

Off unless configured: without the API settings and the phase's Coursera program id, the beat
task does nothing and the CSV upload is the only way in, as before.
"""

import csv
import datetime as dt
import io
import logging
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from quotas.models import Phase
from registrations import coursera_api

from . import completions
from .exceptions import FeeError
from .models import CompletionImport, CourseCompletion, CourseraSync

logger = logging.getLogger(__name__)

# Look back this far before the latest completion held, so a record Coursera reports late is not missed
# (importing one again records nothing twice).
OVERLAP = dt.timedelta(days=3)
REPORT_COLUMNS = [
    completions.EMAIL, completions.EXTERNAL_ID, completions.COURSE, completions.COURSE_SLUG, completions.COURSE_TYPE,
    completions.COMPLETED, completions.COMPLETION_TIME, completions.LEARNING_HOURS, completions.CERTIFICATE_URL,
]  # fmt: skip
# Coursera's contentType codes, as the usage report writes the types.
CONTENT_TYPES = {
    "course": "Course",
    "specialization": "Specialization",
    "professionalcertificate": "Professional Certificate",
    "guidedproject": "Guided Project",
    "project": "Project",
}


def content_type_name(value: Any) -> str:
    """``"COURSE"``, ``"PROFESSIONAL_CERTIFICATE"``, ``"GuidedProject"`` → the report's ``"Course"``, …"""
    text = str(value or "").strip()
    key = "".join(ch for ch in text.casefold() if ch.isalnum())
    return CONTENT_TYPES.get(key, text.replace("_", " ").title())


def _time(value: Any) -> str:
    """Coursera's time (epoch milliseconds, or ISO 8601 text) as the report writes it, in UTC."""
    if value in (None, ""):
        return ""
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        moment = dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.UTC)
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value).strip()


def _yes(value: Any) -> str:
    if isinstance(value, str):
        return "Yes" if value.strip().casefold() in {"true", "yes", "1"} else "No"
    return "Yes" if value else "No"


def report_row(element: dict) -> list[str]:
    """One enrollment record as a row of the usage report."""
    hours = element.get("approxTotalCourseHrs")
    return [
        str(element.get("email") or ""),
        str(element.get("externalId") or ""),
        str(element.get("contentName") or ""),
        str(element.get("contentId") or ""),
        content_type_name(element.get("contentType")),
        _yes(element.get("isCompleted")),
        _time(element.get("completedAt")),
        "" if hours in (None, "") else str(hours),
        str(element.get("contentCertificateUrl") or ""),
    ]


def _report(rows: list[list[str]]) -> bytes:
    """The rows as a CSV file in the report's shape (plain CSV: these cells are data, not for a spreadsheet)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def completed_after(*, phase: Phase) -> dt.datetime:
    """Where the next sync starts: a little before the latest completion held, else the launch."""
    latest = CourseCompletion.objects.filter(nomination__phase=phase).aggregate(at=Max("completed_at"))["at"]
    if latest is not None:
        return latest - OVERLAP
    return timezone.make_aware(dt.datetime.combine(phase.launch_date, dt.time.min))


def _sync_start(*, phase: Phase, trigger: str, actor: Any, after: dt.datetime) -> CourseraSync:
    with transaction.atomic():
        sync = CourseraSync.objects.create(
            phase=phase,
            trigger=trigger,
            requested_by=actor if getattr(actor, "pk", None) else None,
            completed_after=after,
        )
        audit_record(
            actor=actor,
            action="coursera.sync_start",
            target=sync,
            summary=f"Coursera enrollment reports of {phase.slug} asked for, completed after {after.isoformat()}",
        )
    return sync


def _sync_finish(*, sync: CourseraSync, state: str, actor: Any, **fields) -> CourseraSync:
    with transaction.atomic():
        for name, value in fields.items():
            setattr(sync, name, value)
        sync.state = state
        sync.finished_at = timezone.now()
        sync.save()
        if state == CourseraSync.State.DONE:
            summary = f"Coursera sync of {sync.phase.slug}: {sync.records} records in {sync.pages} pages"
        else:
            summary = f"Coursera sync of {sync.phase.slug} stopped: {sync.error}"
        audit_record(
            actor=actor,
            action="coursera.sync" if state == CourseraSync.State.DONE else "coursera.sync_failed",
            target=sync,
            summary=summary,
            data={"records": sync.records, "pages": sync.pages, "http_status": sync.http_status},
        )
    return sync


def enrollment_reports_sync(
    *, phase: Phase, trigger: str = CourseraSync.Trigger.COMMAND, actor: Any = None
) -> CourseraSync:
    """Pull the phase's enrollment reports from Coursera into its completions; returns the sync.

    Raises FeeError (nothing asked, nothing recorded) when the API is not configured for the
    phase. A failure of Coursera's API is recorded on the sync (FAILED, with what to do) and
    imports nothing; completions held before stay as they are."""
    if not coursera_api.phase_api_ready(phase):
        missing = coursera_api.api_missing_settings()
        if missing:
            raise FeeError(
                _("The Coursera API is off: set %(names)s to use it. Completions come from the CSV upload.")
                % {"names": ", ".join(missing)}
            )
        raise FeeError(
            _("The phase %(phase)s has no Coursera program id; set it on the phase to sync it through the API.")
            % {"phase": phase.name}
        )
    after = completed_after(phase=phase)
    sync = _sync_start(phase=phase, trigger=trigger, actor=actor, after=after)
    rows: list[list[str]] = []
    pages = 0
    try:
        for page in coursera_api.enrollment_reports(
            program_id=phase.coursera_program_id.strip(), completed_after_ms=int(after.timestamp() * 1000)
        ):
            pages = page.number
            rows.extend(report_row(element) for element in page.elements)
    except coursera_api.CourseraApiError as error:
        logger.warning("Coursera sync of %s stopped: %s", phase.slug, error.message)
        return _sync_finish(
            sync=sync, state=CourseraSync.State.FAILED, actor=actor, records=len(rows), pages=pages,
            http_status=error.status, error=error.message,
        )  # fmt: skip
    record: CompletionImport | None = None
    if rows:
        filename = f"coursera-api-{phase.slug}-{timezone.localtime(sync.started_at):%Y%m%d-%H%M%S}.csv"
        try:
            record = completions.completions_import(phase=phase, data=_report(rows), filename=filename, actor=actor)
        except FeeError as error:
            return _sync_finish(
                sync=sync, state=CourseraSync.State.FAILED, actor=actor, records=len(rows), pages=pages,
                error=error.message,
            )  # fmt: skip
    return _sync_finish(
        sync=sync, state=CourseraSync.State.DONE, actor=actor, records=len(rows), pages=pages, completion_import=record
    )


def enrollment_reports_sync_all(*, trigger: str = CourseraSync.Trigger.BEAT) -> list[CourseraSync]:
    """Beat: sync every phase that has a Coursera program id, when the API is configured at all."""
    if not coursera_api.api_configured():
        return []
    phases = Phase.objects.exclude(coursera_program_id="").order_by("launch_date", "pk")
    return [enrollment_reports_sync(phase=phase, trigger=trigger) for phase in phases]
