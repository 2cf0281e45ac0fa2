"""Importing Coursera's completion report (the "usage report" CSV from the Coursera admin).

A report of 100,000 rows takes seconds, too long for a request, so importing has two steps:

1. :func:`completions_upload` (in the request) checks the whole file (size, UTF-8 text, the
   header's columns, every row readable as CSV) and counts its rows; a bad file is refused with
   a message and nothing is stored. A good one is stored privately and recorded as a QUEUED
   ``CompletionImport``, and the task ``fees.tasks.completion_import_run_task`` is queued after
   commit.
2. :func:`completion_import_run` (in the worker) reads the stored file in chunks of
   ``CHUNK_ROWS`` rows, each chunk in its own transaction together with the import's counters
   (``processed`` and the others), so the outcome page shows a progress bar that moves.

Each chunk costs a handful of queries whatever its size: the phase's learners are loaded once
per run into two dicts (External Id → nomination, e-mail → nomination) and its known completions
into a third, kept up to date chunk by chunk, and new completions are inserted in batches on the
unique (learner, course) key, so importing the same or an overlapping report again changes nothing.
Rows that match nobody, or whose completion time cannot be read, are stored as
``UnmatchedCompletionRow`` and shown on the outcome page, never dropped silently.

:func:`completions_import` does both steps at once, for ``manage.py import_completions``, the
admin's import button and the benchmarks.
"""

import csv
import datetime as dt
import io
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from core.uploads import human_size
from quotas.models import Phase
from registrations.models import ACTIVE_STATUSES, Nomination
from registrations.reclaim import nominations_joined_record

from .exceptions import FeeError
from .models import CompletionImport, CourseCompletion, UnmatchedCompletionRow
from .refunds import KNOWN_TYPES, course_type_normal

# Coursera's own column names. Only these matter; every other column of the report is ignored.
EMAIL = "Email"
EXTERNAL_ID = "External Id"
COURSE = "Course"
COURSE_SLUG = "Course Slug"
COURSE_TYPE = "Course Type"
COMPLETED = "Completed"
COMPLETION_TIME = "Completion Time"
CERTIFICATE_URL = "Course Certificate URL"
COURSE_GRADE = "Course Grade"
LEARNING_HOURS = "Estimated Learning Hours"
# Older exports of the usage report call the same column "Learning Hours".
LEARNING_HOURS_OLD = "Learning Hours"
REQUIRED_COLUMNS = [EMAIL, EXTERNAL_ID, COURSE, COURSE_TYPE, COMPLETED, COMPLETION_TIME]
OPTIONAL_COLUMNS = [COURSE_SLUG, CERTIFICATE_URL, COURSE_GRADE, LEARNING_HOURS, LEARNING_HOURS_OLD]
LEARNING_HOURS_MAX = Decimal("99999.99")

BATCH_SIZE = 5_000
CHUNK_ROWS = 5_000  # rows per transaction of the worker: one step of the progress bar
MAX_BYTES = settings.COMPLETIONS_FILE_MAX_BYTES
_YES = frozenset({"yes", "y", "true", "1"})
# Coursera for Campus started long after this; an earlier date is a broken cell, not a completion.
EARLIEST_COMPLETION = dt.date(2000, 1, 1)
_UTC = dt.UTC
State = CompletionImport.State
logger = logging.getLogger(__name__)


def _label(cell: str) -> str:
    return " ".join(cell.split()).casefold()


def _column_positions(header: list[str]) -> dict[str, int]:
    """Where each wanted column is, or FeeError naming the missing ones."""
    positions: dict[str, int] = {}
    wanted = {_label(name): name for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
    for index, cell in enumerate(header):
        name = wanted.get(_label(cell))
        if name is not None and name not in positions:
            positions[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in positions]
    if missing:
        raise FeeError(
            _(
                "This is not a Coursera completion report: row 1 lacks the columns %(names)s. Export the "
                "usage report from the Coursera admin and upload it as it comes (CSV)."
            )
            % {"names": ", ".join(f"“{name}”" for name in missing)}
        )
    return positions


def completion_time_parse(value: str) -> dt.datetime | None:
    """Coursera's time, "2022-03-04 10:22:33 UTC" or ISO 8601 ("2022-03-04T10:22:33Z"), as an aware datetime.

    A time without a zone is UTC (Coursera reports in UTC); a bare date is its midnight UTC.
    Returns None for a blank value; raises ValueError for text that is no time.
    """
    text = value.strip()
    if not text:
        return None
    if text.upper().endswith(" UTC"):
        text = text[:-4].rstrip()
    elif text.upper().endswith("UTC"):
        text = text[:-3]
    try:
        moment = dt.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_UTC)
        moment.astimezone(_UTC)  # a year 1 or 9999 time with an offset runs off the calendar here
    except OverflowError:
        raise ValueError(text) from None
    if not moment.date() >= EARLIEST_COMPLETION:
        raise ValueError(text)
    return moment


def learning_hours_parse(value: str) -> Decimal | None:
    """The report's estimated learning hours ("12.5") as a Decimal of two places; None when blank,
    unreadable or negative (the completion is still recorded, without hours)."""
    text = value.strip()
    if not text:
        return None
    try:
        hours = Decimal(text)
    except InvalidOperation:
        return None
    if not hours.is_finite() or hours < 0:
        return None
    return min(hours, LEARNING_HOURS_MAX).quantize(Decimal("0.01"))


def course_key_make(*, slug: str, name: str) -> str:
    """The key a course is counted by: its slug, or its name when Coursera left the slug blank."""
    slug = slug.strip().lower()
    if slug:
        return slug[:255]
    return ("name:" + " ".join(name.split()).casefold())[:255]


def _learner_maps(phase: Phase) -> tuple[dict[str, int], dict[str, int]]:
    """(External Id → nomination id, e-mail → nomination id) for every nomination of the phase.

    For an e-mail used twice (a withdrawn nomination and a new one) the active one wins.
    """
    by_external: dict[str, int] = {}
    by_email: dict[str, int] = {}
    rows = Nomination.objects.filter(phase=phase).values_list("id", "email", "status").order_by("id")
    prefix = f"DLSEI-{phase.pk}-"
    for pk, email, status in rows.iterator(chunk_size=10_000):
        by_external[f"{prefix}{pk}".upper()] = pk
        key = email.strip().casefold()
        if status in ACTIVE_STATUSES or key not in by_email:
            by_email[key] = pk
    return by_external, by_email


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):  # noqa: B007 - number is used after a failure
            yield number, record
    except csv.Error as error:
        raise FeeError(
            _("Row %(row)d could not be read as CSV (%(error)s). Export the report from Coursera again.")
            % {"row": number + 1, "error": error}
        ) from None


def _text(data: bytes, filename: str) -> str:
    if not data:
        raise FeeError(_("The file “%(name)s” is empty.") % {"name": filename})
    if len(data) > MAX_BYTES:
        raise FeeError(
            _("The file is %(size)s; the largest accepted is %(limit)s.")
            % {"size": human_size(len(data), round_up=True), "limit": human_size(MAX_BYTES)}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        raise FeeError(
            _(
                "The file “%(name)s” is not a CSV text file in UTF-8. Upload the report as Coursera exports "
                "it (CSV), not a workbook saved from Excel."
            )
            % {"name": filename}
        )
    return text


# The columns written for a new completion, in this order; _AT and _ON index its two times.
_INSERT_COLUMNS = [
    "nomination_id", "course_key", "course_name", "course_type", "completed_at", "completed_on", "certificate_url",
    "grade", "learning_hours", "first_seen_import_id",
]  # fmt: skip
_AT, _ON, _GRADE, _HOURS = 4, 5, 7, 8


def _completions_insert(rows) -> int:
    """Insert new completions, skipping any (learner, course) already there; returns how many were new.

    Plain SQL ``INSERT … ON CONFLICT DO NOTHING`` (PostgreSQL and SQLite both have it) in batches:
    the ORM's bulk_create spends most of its time building a model object per row, which is
    what makes 100,000 rows take seconds instead of a minute.
    """
    ops = connection.ops
    table = ops.quote_name(CourseCompletion._meta.db_table)
    columns = ", ".join(ops.quote_name(column) for column in _INSERT_COLUMNS)
    conflict = f"ON CONFLICT ({ops.quote_name('nomination_id')}, {ops.quote_name('course_key')}) DO NOTHING"
    one = "(" + ", ".join(["%s"] * len(_INSERT_COLUMNS)) + ")"
    params = [
        (row[0], row[1], row[2], row[3], ops.adapt_datetimefield_value(row[_AT]),
         ops.adapt_datefield_value(row[_ON]), row[6], row[_GRADE],
         ops.adapt_decimalfield_value(row[_HOURS], 7, 2), row[9])
        for row in rows
    ]  # fmt: skip
    inserted = 0
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":  # executemany runs in C: the fastest way into SQLite
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES {one} {conflict}", params)  # noqa: S608
            inserted = cursor.rowcount
        else:
            for start in range(0, len(params), BATCH_SIZE):
                batch = params[start : start + BATCH_SIZE]
                values = ", ".join([one] * len(batch))
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES {values} {conflict}",  # noqa: S608 - names are ours
                    [value for row in batch for value in row],
                )
                inserted += cursor.rowcount
    return inserted


def _cell(record: list[str], index: int | None) -> str:
    if index is None or index >= len(record):
        return ""
    return record[index].strip()


def _data_rows(text: str, filename: str) -> tuple[dict[str, int], Iterator[tuple[int, list[str]]]]:
    """The wanted columns' positions, and the non-blank rows after the header with their row numbers."""
    rows = _rows(text)
    header: list[str] | None = None
    for _number, record in rows:
        if any(cell.strip() for cell in record):
            header = record
            break
    if header is None:
        raise FeeError(_("The file “%(name)s” has no rows.") % {"name": filename})
    positions = _column_positions(header)
    return positions, ((number, cells) for number, cells in rows if any(cell.strip() for cell in cells))


def _enqueue_on_commit(completion_import_id: int) -> None:
    """Queue the import once the upload has committed (a worker must find the row and its file).
    `robust`: a broker that is down must not turn a stored upload into an error page; the import
    then stays "waiting to start" until beat's `completion_imports_requeue` queues it again."""

    def enqueue() -> None:
        from .tasks import completion_import_run_task  # fees.tasks imports this module: looked up when queued

        completion_import_run_task.delay(completion_import_id)

    transaction.on_commit(enqueue, robust=True)


def completions_upload(*, phase: Phase, data: bytes, filename: str, actor, queue: bool = True) -> CompletionImport:
    """Check a Coursera completion report whole, store it and queue its import; returns the QUEUED import.

    Raises FeeError, storing nothing, when the file is not a readable completion report. With
    ``queue=False`` nothing is queued: the caller runs :func:`completion_import_run` itself.
    """
    text = _text(data, filename)
    _positions, rows = _data_rows(text, filename)
    total = sum(1 for _row in rows)  # reads every row, so a broken one is refused now, not halfway
    with transaction.atomic():
        record = CompletionImport(
            phase=phase,
            imported_by=actor if getattr(actor, "pk", None) else None,
            filename=filename[:255],
            state=State.QUEUED,
            rows=total,
        )
        record.file.save(f"{uuid.uuid4().hex}.csv", ContentFile(data), save=False)
        record.save()
        audit_record(
            actor=actor,
            action="completions.upload",
            target=record,
            summary=f"Completion report {filename} for {phase.slug} uploaded: {total} rows",
            data={"rows": total, "bytes": len(data)},
        )
        if queue:
            _enqueue_on_commit(record.pk)
    return record


@dataclass
class _Chunk:
    """What the rows of one chunk say, before the database is asked which courses are known."""

    start: int  # rows of data before this chunk
    size: int = 0
    matched: int = 0
    unmatched: int = 0
    ignored: int = 0
    # (nomination id, course key, name, type, completed_at, completed_on, certificate URL, grade, hours),
    # in file order
    candidates: list[tuple] = field(default_factory=list)
    problems: list[UnmatchedCompletionRow] = field(default_factory=list)
    unknown_types: dict[str, int] = field(default_factory=dict)
    learners: set[int] = field(default_factory=set)  # matched learners: Coursera shows them in the program


def completion_imports_requeue(*, waiting_longer_than: dt.timedelta) -> list[int]:
    """Queue again the imports still waiting to start after ``waiting_longer_than``; returns their ids.

    Their message was lost (the broker was down at upload, or restarted empty). A healthy worker
    starts an import within seconds, so one still waiting after minutes will not start by itself;
    if its first message does turn up after all, the claim lets only chunks not yet written count.
    """
    cutoff = timezone.now() - waiting_longer_than
    waiting = list(
        CompletionImport.objects.filter(state=State.QUEUED, imported_at__lt=cutoff)
        .order_by("imported_at")
        .values_list("pk", flat=True)[:100]
    )
    for completion_import_id in waiting:
        _enqueue_on_commit(completion_import_id)
    return waiting


def _completion_import_claim(*, completion_import_id: int) -> CompletionImport | None:
    """Mark the import RUNNING and return it, or None when it is already finished (or gone)."""
    with transaction.atomic():
        record = (
            CompletionImport.objects.select_for_update(of=("self",)).select_related("phase", "imported_by")
            .filter(pk=completion_import_id).first()
        )  # fmt: skip
        if record is None or record.state in (State.DONE, State.FAILED):
            return None
        if record.state == State.QUEUED:
            record.state = State.RUNNING
            record.save(update_fields=["state"])
    return record


def _chunk_record(*, record: CompletionImport, chunk: _Chunk, known: dict[tuple[int, str], list]) -> bool:
    """Write one chunk's completions, stray rows and counters in one transaction.

    ``known`` maps (learner, course) to [completion id or None, completed_at, has hours, has grade]
    for every completion of the phase, loaded once per run and kept up to date here; None stands
    for a completion this run inserted (its id is looked up only if a later row shows an earlier
    time for it). A known course whose grade or learning hours were blank (a report imported
    before they were kept, or one without those columns) takes them from the first row that has
    them; values already recorded are never changed. Returns False, writing nothing, when the
    import is no longer at this chunk's start (another delivery of the task got there first).
    """
    with transaction.atomic():
        position = (
            CompletionImport.objects.select_for_update().filter(pk=record.pk).values_list("state", "processed").first()
        )
        if position != (State.RUNNING, chunk.start):
            return False
        duplicates = 0
        fresh: dict[tuple[int, str], list] = {}
        earlier: dict[int, tuple[dt.datetime, dt.date]] = {}
        earlier_unresolved: dict[tuple[int, str], tuple[dt.datetime, dt.date]] = {}
        filled: dict[tuple[int, str], dict] = {}  # known courses given their first grade or hours
        for nomination_id, key, name, kind, completed_at, completed_on, certificate, grade, hours in chunk.candidates:
            pair = (nomination_id, key)
            seen = known.get(pair)
            if seen is not None:
                duplicates += 1
                if completed_at < seen[1]:
                    seen[1] = completed_at
                    if seen[0] is None:
                        earlier_unresolved[pair] = (completed_at, completed_on)
                    else:
                        earlier[seen[0]] = (completed_at, completed_on)
                if hours is not None and not seen[2]:
                    seen[2] = True
                    filled.setdefault(pair, {})["learning_hours"] = hours
                if grade and not seen[3]:
                    seen[3] = True
                    filled.setdefault(pair, {})["grade"] = grade
                continue
            if pair in fresh:
                duplicates += 1
                row = fresh[pair]
                if completed_at < row[_AT]:
                    row[_AT], row[_ON] = completed_at, completed_on
                row[_HOURS] = row[_HOURS] if row[_HOURS] is not None else hours
                row[_GRADE] = row[_GRADE] or grade
                continue
            fresh[pair] = [nomination_id, key, name, kind, completed_at, completed_on, certificate, grade, hours,
                           record.pk]  # fmt: skip
        new = _completions_insert(fresh.values()) if fresh else 0
        duplicates += len(fresh) - new  # recorded meanwhile by another import
        if earlier_unresolved:  # rare: a course repeated in the report with an earlier time, chunks apart
            for pk, nomination_id, key, at in CourseCompletion.objects.filter(
                nomination_id__in={pair[0] for pair in earlier_unresolved},
                course_key__in={pair[1] for pair in earlier_unresolved},
            ).values_list("id", "nomination_id", "course_key", "completed_at"):
                wanted = earlier_unresolved.get((nomination_id, key))
                if wanted is not None and wanted[0] < at:
                    earlier[pk] = wanted
        if earlier:
            moved = [CourseCompletion(pk=pk, completed_at=at, completed_on=on) for pk, (at, on) in earlier.items()]
            CourseCompletion.objects.bulk_update(moved, ["completed_at", "completed_on"], batch_size=BATCH_SIZE)
        if filled:
            _completions_fill(filled)
        UnmatchedCompletionRow.objects.bulk_create(chunk.problems, batch_size=BATCH_SIZE)
        unknown = {}
        if chunk.unknown_types:  # read and written under the import row's lock taken above
            unknown = CompletionImport.objects.filter(pk=record.pk).values_list("unknown_types", flat=True).get()
            for kind, count in chunk.unknown_types.items():
                unknown[kind] = unknown.get(kind, 0) + count
        # A learner in the usage report is enrolled in a course, so has joined the program.
        nominations_joined_record(
            nomination_ids=chunk.learners,
            day=timezone.localdate(),
            actor=record.imported_by,
            source=f"usage report {record.filename}",
        )
        CompletionImport.objects.filter(pk=record.pk).update(
            **({"unknown_types": unknown} if chunk.unknown_types else {}),
            processed=F("processed") + chunk.size,
            matched=F("matched") + chunk.matched,
            unmatched=F("unmatched") + chunk.unmatched,
            ignored=F("ignored") + chunk.ignored,
            new_completions=F("new_completions") + new,
            duplicates=F("duplicates") + duplicates,
        )
    for pair, row in fresh.items():
        known[pair] = [None, row[_AT], row[_HOURS] is not None, bool(row[_GRADE])]
    return True


def _completions_fill(filled: dict[tuple[int, str], dict]) -> None:
    """Give known completions the grade or learning hours they lacked, never overwriting a value.

    Mostly once per course, on the first report imported after these columns were kept; a
    conditional UPDATE per (learner, course), so a value written meanwhile is not replaced."""
    for (nomination_id, key), values in filled.items():
        completions = CourseCompletion.objects.filter(nomination_id=nomination_id, course_key=key)
        if "learning_hours" in values:
            completions.filter(learning_hours__isnull=True).update(learning_hours=values["learning_hours"])
        if "grade" in values:
            completions.filter(grade="").update(grade=values["grade"])


def _completion_import_finish(*, record: CompletionImport) -> CompletionImport:
    with transaction.atomic():
        done = CompletionImport.objects.select_for_update(of=("self",)).select_related("phase").get(pk=record.pk)
        if done.state != State.RUNNING:
            return done
        done.state = State.DONE
        done.finished_at = timezone.now()
        done.save(update_fields=["state", "finished_at"])
        counts = {name: getattr(done, name) for name in ("rows", "matched", "unmatched", "new_completions",
                                                          "duplicates", "ignored")}  # fmt: skip
        audit_record(
            actor=record.imported_by,
            action="completions.import",
            target=done,
            summary=(
                f"Completion report {done.filename} for {done.phase.slug}: {done.rows} rows, {done.matched} matched, "
                f"{done.unmatched} unmatched, {done.new_completions} new completions"
            ),
            data=counts,
        )
    return done


def completion_import_fail(*, completion_import_id: int, error: str) -> None:
    """Mark an unfinished import as stopped, with why; what its finished chunks recorded stays."""
    with transaction.atomic():
        record = CompletionImport.objects.select_for_update().filter(pk=completion_import_id).first()
        if record is None or not record.in_progress:
            return
        record.state = State.FAILED
        record.error = error[:500]
        record.finished_at = timezone.now()
        record.save(update_fields=["state", "error", "finished_at"])
        audit_record(
            actor=None,
            action="completions.import_failed",
            target=record,
            summary=f"Completion report {record.filename} stopped after {record.processed} of {record.rows} rows",
            data={"processed": record.processed, "rows": record.rows, "error": record.error},
        )


def completion_import_run(
    *,
    completion_import_id: int,
    chunk_rows: int = CHUNK_ROWS,
    on_progress: Callable[[CompletionImport], None] | None = None,
) -> CompletionImport | None:
    """Import the rows of an uploaded report, ``chunk_rows`` per transaction; returns the finished import.

    Learners are matched by External Id (the portal's ``DLSEI-<phase>-<id>``) or else by e-mail,
    ignoring case. A row becomes a completion only when ``Completed`` is Yes and it has a
    completion time. A course already known for a learner is not recorded again; when a report
    shows an earlier completion time for it, the earlier time is kept. ``on_progress`` is called
    with the import as it stands after each chunk commits. Returns None when the import had
    already finished; marks it FAILED (and re-raises anything unforeseen) when it cannot go on.
    """
    record = _completion_import_claim(completion_import_id=completion_import_id)
    if record is None:
        return None
    try:
        return _completion_import_rows(record=record, chunk_rows=chunk_rows, on_progress=on_progress)
    except FeeError as error:
        completion_import_fail(completion_import_id=record.pk, error=error.message)
        return CompletionImport.objects.get(pk=record.pk)
    except Exception as error:
        logger.exception("Completion import %s stopped", record.pk)
        completion_import_fail(completion_import_id=record.pk, error=f"{type(error).__name__}: {error}")
        raise


def _completion_import_rows(
    *, record: CompletionImport, chunk_rows: int, on_progress: Callable[[CompletionImport], None] | None
) -> CompletionImport | None:
    try:
        with record.file.open("rb") as stored:
            data = stored.read()
    except (OSError, ValueError):
        raise FeeError(_("The stored copy of the report could not be read.")) from None
    col, rows = _data_rows(_text(data, record.filename), record.filename)
    i_email, i_ext, i_course, i_type = col[EMAIL], col[EXTERNAL_ID], col[COURSE], col[COURSE_TYPE]
    i_done, i_time = col[COMPLETED], col[COMPLETION_TIME]
    i_slug, i_cert = col.get(COURSE_SLUG), col.get(CERTIFICATE_URL)
    i_grade, i_hours = col.get(COURSE_GRADE), col.get(LEARNING_HOURS, col.get(LEARNING_HOURS_OLD))
    local = ZoneInfo(settings.TIME_ZONE)
    by_external, by_email = _learner_maps(record.phase)
    known: dict[tuple[int, str], list] = {
        (nomination_id, key): [pk, at, hours is not None, bool(grade)]
        for pk, nomination_id, key, at, hours, grade in CourseCompletion.objects.filter(
            nomination__phase_id=record.phase_id
        )
        .values_list("id", "nomination_id", "course_key", "completed_at", "learning_hours", "grade")
        .iterator(chunk_size=10_000)
    }
    no_learner = _("No learner of this phase has this External Id or e-mail.")
    bad_time = _("The completion time could not be read.")
    future_time = _("The completion time is in the future.")
    now = timezone.now()
    no_course = _("The row names no course.")

    # A task that runs again after a crash (acks_late redelivers it) resumes from `processed`,
    # not from the first row: each chunk's completions, stray rows and counters commit together
    # with `processed`, so the rows before it are exactly those already counted, and starting
    # over would count them (and list their stray rows) twice. Recording a course itself is
    # idempotent anyway (ON CONFLICT on learner + course), so no completion is doubled either way.
    done = record.processed
    for _skipped in range(done):
        next(rows, None)
    chunk = _Chunk(start=done)

    def report(number: int, cells: list[str], reason: str) -> None:
        chunk.problems.append(
            UnmatchedCompletionRow(
                completion_import_id=record.pk,
                row_number=number,
                email=_cell(cells, i_email)[:254],
                external_id=_cell(cells, i_ext)[:100],
                course=_cell(cells, i_course)[:255],
                reason=reason,
            )
        )

    def flush() -> bool:
        nonlocal chunk
        if not _chunk_record(record=record, chunk=chunk, known=known):
            return False
        if on_progress is not None:
            on_progress(CompletionImport.objects.get(pk=record.pk))
        chunk = _Chunk(start=chunk.start + chunk.size)
        return True

    for number, cells in rows:
        chunk.size += 1
        nomination_id = by_external.get(_cell(cells, i_ext).upper())
        if nomination_id is None:
            nomination_id = by_email.get(_cell(cells, i_email).casefold())
        if nomination_id is None:
            chunk.unmatched += 1
            report(number, cells, no_learner)
        else:
            chunk.matched += 1
            chunk.learners.add(nomination_id)
            if _cell(cells, i_done).casefold() not in _YES:
                chunk.ignored += 1
            else:
                try:
                    completed_at = completion_time_parse(_cell(cells, i_time))
                except ValueError:
                    completed_at = False
                name = _cell(cells, i_course)
                key = course_key_make(slug=_cell(cells, i_slug), name=name)
                if completed_at is False:
                    chunk.ignored += 1
                    report(number, cells, bad_time)
                elif completed_at is not None and completed_at > now:
                    chunk.ignored += 1
                    report(number, cells, future_time)
                elif completed_at is None:
                    chunk.ignored += 1
                elif key == "name:":
                    chunk.ignored += 1
                    report(number, cells, no_course)
                else:
                    kind = " ".join(_cell(cells, i_type).split())[:100]
                    if course_type_normal(kind) not in KNOWN_TYPES:
                        shown = kind or _("(blank)")
                        chunk.unknown_types[shown] = chunk.unknown_types.get(shown, 0) + 1
                    chunk.candidates.append((
                        nomination_id, key, name[:255], kind, completed_at,
                        completed_at.astimezone(local).date(), _cell(cells, i_cert)[:500],
                        _cell(cells, i_grade)[:20], learning_hours_parse(_cell(cells, i_hours)),
                    ))  # fmt: skip
        if chunk.size >= chunk_rows and not flush():
            return None
    if chunk.size and not flush():
        return None
    return _completion_import_finish(record=record)


def completions_import(
    *,
    phase: Phase,
    data: bytes,
    filename: str,
    actor,
    chunk_rows: int = CHUNK_ROWS,
    on_progress: Callable[[CompletionImport], None] | None = None,
) -> CompletionImport:
    """Upload and import a report at once, in this process (the command, the admin, benchmarks).

    Raises FeeError, storing nothing, when the file is not a readable completion report; see
    :func:`completion_import_run` for how rows become completions.
    """
    record = completions_upload(phase=phase, data=data, filename=filename, actor=actor, queue=False)
    finished = completion_import_run(completion_import_id=record.pk, chunk_rows=chunk_rows, on_progress=on_progress)
    return finished or CompletionImport.objects.get(pk=record.pk)
