"""Importing Coursera's completion report (the "usage report" CSV from the Coursera admin).

One pass over the file with ``csv.reader``; the phase's learners are loaded once into two dicts
(External Id → nomination, e-mail → nomination) and the completions already known once into a
third, so no row costs a query. New completions are written with ``bulk_create`` in batches on
the unique (learner, course) key, so importing the same or an overlapping report again changes
nothing. Rows that match nobody, or whose completion time cannot be read, are stored as
``UnmatchedCompletionRow`` and shown on the import's outcome page, never dropped silently.

The admin's import button and ``manage.py import_completions`` both call
:func:`completions_import`.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from dlsei.uploads import human_size
from quotas.models import Phase
from registrations.models import ACTIVE_STATUSES, Nomination

from .exceptions import FeeError
from .models import CompletionImport, CourseCompletion, UnmatchedCompletionRow

# Coursera's own column names. Only these matter; every other column of the report is ignored.
EMAIL = "Email"
EXTERNAL_ID = "External Id"
COURSE = "Course"
COURSE_SLUG = "Course Slug"
COURSE_TYPE = "Course Type"
COMPLETED = "Completed"
COMPLETION_TIME = "Completion Time"
CERTIFICATE_URL = "Course Certificate URL"
REQUIRED_COLUMNS = [EMAIL, EXTERNAL_ID, COURSE, COURSE_TYPE, COMPLETED, COMPLETION_TIME]
OPTIONAL_COLUMNS = [COURSE_SLUG, CERTIFICATE_URL]

BATCH_SIZE = 5_000
MAX_BYTES = getattr(settings, "COMPLETIONS_FILE_MAX_BYTES", 200 * 1024 * 1024)
_YES = frozenset({"yes", "y", "true", "1"})
_UTC = dt.UTC


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
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_UTC)
    return moment


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
    "first_seen_import_id",
]  # fmt: skip
_AT, _ON = 4, 5


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
         ops.adapt_datefield_value(row[_ON]), row[6], row[7])
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


def completions_import(*, phase: Phase, data: bytes, filename: str, actor) -> CompletionImport:
    """Record the courses completed according to a Coursera completion report, for one phase.

    Learners are matched by External Id (the portal's ``DLSEI-<phase>-<id>``) or else by e-mail,
    ignoring case. A row becomes a completion only when ``Completed`` is Yes and it has a
    completion time. A course already known for a learner is not recorded again; when a report
    shows an earlier completion time for it, the earlier time is kept. Raises FeeError, changing
    nothing, when the file is not a readable completion report.
    """
    text = _text(data, filename)
    rows = _rows(text)
    header: list[str] | None = None
    for _number, record in rows:
        if any(cell.strip() for cell in record):
            header = record
            break
    if header is None:
        raise FeeError(_("The file “%(name)s” has no rows.") % {"name": filename})
    col = _column_positions(header)
    i_email, i_ext, i_course, i_type = col[EMAIL], col[EXTERNAL_ID], col[COURSE], col[COURSE_TYPE]
    i_done, i_time = col[COMPLETED], col[COMPLETION_TIME]
    i_slug, i_cert = col.get(COURSE_SLUG), col.get(CERTIFICATE_URL)
    local = ZoneInfo(settings.TIME_ZONE)

    with transaction.atomic():
        by_external, by_email = _learner_maps(phase)
        known: dict[tuple[int, str], tuple[int, dt.datetime]] = {
            (nomination_id, key): (pk, at)
            for pk, nomination_id, key, at in CourseCompletion.objects.filter(nomination__phase=phase)
            .values_list("id", "nomination_id", "course_key", "completed_at")
            .iterator(chunk_size=10_000)
        }
        record = CompletionImport.objects.create(
            phase=phase, imported_by=actor if getattr(actor, "pk", None) else None, filename=filename[:255]
        )
        counts = dict.fromkeys(["rows", "matched", "unmatched", "new_completions", "duplicates", "ignored"], 0)
        fresh: dict[tuple[int, str], CourseCompletion] = {}
        earlier: dict[int, tuple[dt.datetime, dt.date]] = {}
        problems: list[UnmatchedCompletionRow] = []

        def report(number: int, record_: list[str], reason: str) -> None:
            problems.append(
                UnmatchedCompletionRow(
                    completion_import=record,
                    row_number=number,
                    email=_cell(record_, i_email)[:254],
                    external_id=_cell(record_, i_ext)[:100],
                    course=_cell(record_, i_course)[:255],
                    reason=reason,
                )
            )

        no_learner = _("No learner of this phase has this External Id or e-mail.")
        bad_time = _("The completion time could not be read.")
        no_course = _("The row names no course.")
        for number, cells in rows:
            if not any(cell.strip() for cell in cells):
                continue
            counts["rows"] += 1
            nomination_id = by_external.get(_cell(cells, i_ext).upper())
            if nomination_id is None:
                nomination_id = by_email.get(_cell(cells, i_email).casefold())
            if nomination_id is None:
                counts["unmatched"] += 1
                report(number, cells, no_learner)
                continue
            counts["matched"] += 1
            if _cell(cells, i_done).casefold() not in _YES:
                counts["ignored"] += 1
                continue
            try:
                completed_at = completion_time_parse(_cell(cells, i_time))
            except ValueError:
                counts["ignored"] += 1
                report(number, cells, bad_time)
                continue
            if completed_at is None:
                counts["ignored"] += 1
                continue
            name = _cell(cells, i_course)
            key = course_key_make(slug=_cell(cells, i_slug), name=name)
            if key == "name:":
                counts["ignored"] += 1
                report(number, cells, no_course)
                continue
            completed_on = completed_at.astimezone(local).date()
            pair = (nomination_id, key)
            if pair in known:
                counts["duplicates"] += 1
                pk, at = known[pair]
                if completed_at < at:
                    known[pair] = (pk, completed_at)
                    earlier[pk] = (completed_at, completed_on)
                continue
            if pair in fresh:
                counts["duplicates"] += 1
                if completed_at < fresh[pair][_AT]:
                    fresh[pair][_AT], fresh[pair][_ON] = completed_at, completed_on
                continue
            fresh[pair] = [
                nomination_id, key, name[:255], _cell(cells, i_type)[:100], completed_at, completed_on,
                _cell(cells, i_cert)[:500], record.pk,
            ]  # fmt: skip

        counts["new_completions"] = _completions_insert(fresh.values())
        counts["duplicates"] += len(fresh) - counts["new_completions"]  # recorded meanwhile by another import
        if earlier:
            moved = [CourseCompletion(pk=pk, completed_at=at, completed_on=on) for pk, (at, on) in earlier.items()]
            CourseCompletion.objects.bulk_update(moved, ["completed_at", "completed_on"], batch_size=BATCH_SIZE)
        UnmatchedCompletionRow.objects.bulk_create(problems, batch_size=BATCH_SIZE)
        for field, value in counts.items():
            setattr(record, field, value)
        record.save(update_fields=list(counts))
        audit_record(
            actor=actor,
            action="completions.import",
            target=record,
            summary=(
                f"Completion report {filename} for {phase.slug}: {counts['rows']} rows, {counts['matched']} matched, "
                f"{counts['unmatched']} unmatched, {counts['new_completions']} new completions"
            ),
            data={**counts, "earlier_times": len(earlier)},
        )
    return record
