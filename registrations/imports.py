"""The nominations file: one code path for the browser and the command line.

A focal person uploads a CSV or XLSX list (``nominations_template_csv``/``_xlsx`` give the
columns). ``nominations_file_preview`` reads it without writing anything and says, row by row,
what would happen: seated, waiting list, or refused with the reasons in words; the seats are
simulated in file order against the quota's free seats at that moment. ``nominations_file_commit``
then writes every acceptable row through ``nomination_submit`` in file order, in one transaction:
the same seat counter as a single nomination, so a file can never take more seats than are free.
Between the two, a focal person's file is kept as a ``NominationUpload`` (``nomination_upload_store``).

A bad file (columns, encoding, size, not a spreadsheet, empty) is refused whole by
``core.tabular`` and nothing is written. The deposit columns are only checked here; recording
the deposits is ``portal.nominations_file.nominations_file_commit``, which wraps this commit.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from core.dates import day_parse
from core.tabular import TableRefused, read_table, write_csv, write_xlsx
from quotas.models import DEPOSIT_POOLS, Phase, Quota, University

from .cnic import cnic_mask, cnic_normalise
from .eligibility import (
    NomineeData,
    duplicate_message,
    duplicate_pick,
    duplicates_find_many,
    email_problems,
    nominee_normalise,
    nominee_problems,
    non_learner_addresses,
    non_learner_message,
    registration_open_problems,
    yes_no,
)
from .exceptions import RegistrationError
from .models import Disclaimer, NominationStatus, NominationUpload, SeatKind
from .services import nomination_submit, nominations_submit_many, seat_kinds_in_order

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ["full_name", "cnic", "email", "phone", "role", "programme_years", "disability"]
OPTIONAL_COLUMNS = ["deposit_receipt", "deposit_date"]
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
EXAMPLE_ROW = [
    "Ayesha Khan",
    "35202-1234567-1",
    "ayesha.khan@example.edu.pk",
    "0300 1234567",
    "student",
    16,
    "no",
    "RCPT-0001",
    "2021-09-15",
]
MAX_RECEIPT_LENGTH = 50
# A row takes a seat or joins the waiting list as a nomination would (its status), or is refused.
SEATED, WAITING, REFUSED = NominationStatus.SEATED.value, NominationStatus.WAITING.value, "refused"


@dataclass(frozen=True)
class RowOutcome:
    """What happens (preview) or happened (commit) to one row of the file."""

    row: int
    full_name: str
    email: str
    cnic_masked: str
    outcome: str  # SEATED | WAITING | REFUSED
    errors: list[str] = field(default_factory=list)
    seat_kind: str = ""  # a SeatKind; DISABILITY: a reserved seat, its certificate to follow
    nomination_id: int | None = None
    deposit_receipt: str = ""
    deposit_date: datetime.date | None = None

    @property
    def is_seated(self) -> bool:
        return self.outcome == SEATED

    @property
    def is_waiting(self) -> bool:
        return self.outcome == WAITING

    @property
    def holds_disability_seat(self) -> bool:
        return self.seat_kind == SeatKind.DISABILITY


@dataclass(frozen=True)
class ImportReport:
    rows: list[RowOutcome]

    def _count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def seated(self) -> int:
        return self._count(SEATED)

    @property
    def waiting(self) -> int:
        return self._count(WAITING)

    @property
    def refused(self) -> int:
        return self._count(REFUSED)

    @property
    def refused_rows(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.outcome == REFUSED]

    def as_json(self) -> dict:
        """``{"seated": N, "waiting": N, "refused": [{"row": N, "errors": ["…"]}]}``."""
        return {
            "seated": self.seated,
            "waiting": self.waiting,
            "refused": [{"row": row.row, "errors": list(row.errors)} for row in self.refused_rows],
        }


# Templates ------------------------------------------------------------------------------------------


def nominations_template_csv() -> bytes:
    """The column names and one example row, as CSV UTF-8 (opens right in Excel)."""
    return write_csv([EXAMPLE_ROW], COLUMNS)


def nominations_template_xlsx() -> bytes:
    """The column names and one example row, as an Excel workbook."""
    return write_xlsx([EXAMPLE_ROW], COLUMNS)


def refused_rows_table(*, data: bytes, filename: str, result: dict) -> list[list]:
    """The rows a confirmed file had refused, as the file gave them, each with its reasons in a last
    ``reason`` column: the focal person corrects them and uploads them again."""
    reasons = {item["row"]: " ".join(item["errors"]) for item in result.get("refused", [])}
    return [
        [row.get(column, "") for column in COLUMNS] + [reasons[row["_row"]]]
        for row in _read(data=data, filename=filename)
        if row["_row"] in reasons
    ]


# Reading and checking -------------------------------------------------------------------------------


@dataclass
class _Checked:
    number: int
    data: NomineeData
    errors: list[str]
    cnic_masked: str
    deposit_receipt: str
    deposit_date: datetime.date | None
    clean: NomineeData


def _read(*, data: bytes, filename: str) -> list[dict]:
    try:
        return read_table(
            data,
            filename=filename or "",
            required=REQUIRED_COLUMNS,
            optional=OPTIONAL_COLUMNS,
            max_bytes=settings.NOMINATIONS_FILE_MAX_BYTES,
            max_rows=settings.NOMINATIONS_FILE_MAX_ROWS,
        )
    except TableRefused as refused:
        raise RegistrationError(refused.message) from refused


def _file_gate(*, phase: Phase, university: University) -> Quota:
    """What must hold before any row is looked at; else the whole file is refused."""
    if not Disclaimer.objects.filter(phase=phase, university=university).exists():
        raise RegistrationError(_("Upload the signed disclaimer form first."))
    closed = registration_open_problems(phase=phase)
    if closed:
        raise RegistrationError(closed[0])
    quota = Quota.objects.filter(phase=phase, university=university).first()
    if quota is None:
        raise RegistrationError(
            _("%(university)s has no licenses in %(phase)s yet: HEC has not published its allocation.")
            % {"university": university.name, "phase": phase.name}
        )
    return quota


def _programme_years(text: str) -> int | None:
    """Blank → None; a whole number → it; anything else → -1, which the programme rule refuses
    for a student (and which does not matter for faculty, who need no programme)."""
    text = text.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) <= 3:
        return int(text)
    return -1


def _deposit_date(text: str) -> tuple[datetime.date | None, list[str]]:
    try:
        return day_parse(text, not_after_today=True), []
    except ValueError as error:
        return None, [_("Deposit date: %(problem)s") % {"problem": str(error)}]


def _deposit(row: dict, *, university: University) -> tuple[str, datetime.date | None, list[str]]:
    receipt, date_text = row.get("deposit_receipt", ""), row.get("deposit_date", "")
    if not receipt and not date_text:
        return "", None, []
    if university.sector not in DEPOSIT_POOLS:  # a university's pool is its sector
        return (
            "",
            None,
            [
                _(
                    "%(university)s's nominees pay no deposit (only public universities and NAHE collect the "
                    "deposit); leave deposit_receipt and deposit_date empty."
                )
                % {"university": university.name}
            ],
        )
    errors: list[str] = []
    if not receipt or not date_text:
        errors.append(_("Give both the deposit receipt number and the deposit date, or leave both empty."))
    if len(receipt) > MAX_RECEIPT_LENGTH:
        errors.append(
            _("The deposit receipt number is too long; at most %(max)d characters fit.") % {"max": MAX_RECEIPT_LENGTH}
        )
    day = None
    if date_text:
        day, date_errors = _deposit_date(date_text)
        errors += date_errors
    if errors:
        return receipt, day, errors
    return receipt, day, []


def _is_the_example(row: dict) -> bool:
    """The template's example row, uploaded unedited: it must never become a person. Its address
    (on example.edu.pk, which no university uses) marks it even when the name was changed."""
    return str(row.get("email", "")).strip().lower() == EXAMPLE_ROW[2]


def _check_rows(*, phase: Phase, university: University, rows: list[dict], viewer) -> list[_Checked]:
    """Every row's problems in words; a person twice in the file is refused on the second row."""
    checked: list[_Checked] = []
    pending: list[tuple[int, int, str, str]] = []
    seen_cnic: dict[str, int] = {}
    seen_email: dict[str, int] = {}
    for row in rows:
        number = row["_row"]
        errors: list[str] = []
        try:
            disability = yes_no(row["disability"])
        except ValueError as error:
            disability, disability_errors = False, [str(error)]
        else:
            disability_errors = []
        data = NomineeData(
            full_name=row["full_name"],
            cnic=row["cnic"],
            email=row["email"],
            phone=row["phone"],
            role=row["role"].strip().lower(),
            programme_years=_programme_years(row["programme_years"]),
            disability=disability,
        )
        problems = nominee_problems(
            phase=phase,
            university=university,
            data=data,
            viewer=viewer,
            check_open=False,
            check_duplicates=False,  # for the whole file at once, below
        )
        errors += disability_errors + problems
        clean = nominee_normalise(data)
        if _is_the_example(row):
            errors.insert(0, _("This is the template's example row: replace it with a real nominee or delete it."))
        try:
            cnic = cnic_normalise(row["cnic"])
            masked = cnic_mask(cnic)
        except ValueError:
            masked, cnic = "", ""
        email = clean.email if not email_problems(data.email) else ""
        # Where the database's duplicate (if any) goes among the row's errors, as nominee_problems had it.
        pending.append((len(checked), len(errors), cnic, email))
        if cnic and cnic in seen_cnic:
            errors.append(_("The same CNIC is already on row %(row)d of this file.") % {"row": seen_cnic[cnic]})
        if clean.email and clean.email in seen_email:
            errors.append(
                _("The same e-mail address is already on row %(row)d of this file.") % {"row": seen_email[clean.email]}
            )
        if cnic:
            seen_cnic.setdefault(cnic, number)
        if clean.email:
            seen_email.setdefault(clean.email, number)
        receipt, day, deposit_errors = _deposit(row, university=university)
        errors += deposit_errors
        checked.append(
            _Checked(
                number=number,
                data=data,
                errors=errors,
                cnic_masked=masked,
                deposit_receipt=receipt,
                deposit_date=day,
                clean=clean,
            )
        )
    # One license per person per phase, against the database: the whole file in one or two queries.
    by_cnic, by_email = duplicates_find_many(
        phase=phase, cnics=[cnic for *_rest, cnic, _email in pending], emails=[email for *_rest, email in pending]
    )
    for index, position, cnic, email in pending:
        existing = duplicate_pick(by_cnic=by_cnic, by_email=by_email, cnic=cnic, email=email)
        if existing is not None:
            message = duplicate_message(
                existing=existing,
                cnic=cnic,
                email=email,
                university=university,
                viewer=viewer,
                viewer_university=university if viewer is None else None,
            )
            checked[index].errors.insert(position, message)
    runs_it = non_learner_addresses(email for *_rest, email in pending)
    for index, position, _cnic, email in pending:
        if email in runs_it:
            checked[index].errors.insert(position, non_learner_message(email))
    return checked


def _outcome(
    item: _Checked, outcome: str, *, errors: list[str] | None = None, nomination_id=None, seat_kind: str = ""
) -> RowOutcome:
    clean = item.clean
    return RowOutcome(
        row=item.number,
        full_name=clean.full_name,
        email=clean.email,
        cnic_masked=item.cnic_masked,
        outcome=outcome,
        errors=list(item.errors if errors is None else errors),
        nomination_id=nomination_id,
        deposit_receipt=item.deposit_receipt,
        deposit_date=item.deposit_date,
        seat_kind=seat_kind,
    )


def _taken(item: _Checked, nomination) -> RowOutcome:
    outcome = SEATED if nomination.status == NominationStatus.SEATED else WAITING
    return _outcome(item, outcome, nomination_id=nomination.pk, seat_kind=nomination.seat_kind)


# Preview and commit -----------------------------------------------------------------------------------


def nominations_file_check(*, phase: Phase, university: University, data: bytes, filename: str) -> int:
    """What the preview refuses a file for as a whole (columns, encoding, size, not a spreadsheet,
    no disclaimer, registration closed, no quota), without judging the rows. Returns the number
    of rows. Raises RegistrationError saying why."""
    rows = _read(data=data, filename=filename)
    _file_gate(phase=phase, university=university)
    return len(rows)


def nominations_file_preview(*, phase: Phase, university: University, data: bytes, filename: str) -> ImportReport:
    """What committing the file now would do, row by row. Writes nothing.

    Raises RegistrationError when the file as a whole is refused (its message says why).
    """
    rows = _read(data=data, filename=filename)
    quota = _file_gate(phase=phase, university=university)
    checked = _check_rows(phase=phase, university=university, rows=rows, viewer=None)
    # The rows that would be written take their seats exactly as committing them does.
    kinds = iter(seat_kinds_in_order(people=[item.clean for item in checked if not item.errors], quota=quota))
    outcomes = []
    for item in checked:
        if item.errors:
            outcomes.append(_outcome(item, REFUSED))
            continue
        kind = next(kinds)
        if kind is not None:
            outcomes.append(_outcome(item, SEATED, seat_kind=kind))
        elif item.deposit_receipt:  # a deposit is recorded only for a seat: it waits with the nominee
            note = _("Deposit not recorded: on the waiting list. Record it once a seat is given.")
            outcomes.append(_outcome(item, WAITING, errors=[note]))
        else:
            outcomes.append(_outcome(item, WAITING))
    return ImportReport(rows=outcomes)


@transaction.atomic
def nomination_upload_store(
    *, phase: Phase, university: University, data: bytes, filename: str, actor
) -> NominationUpload:
    """Keep a focal person's nominations file between its preview and its confirmation.

    Called only after the preview accepted the file as a whole; the file is stored privately and
    confirmed later through ``portal.nominations_file.nominations_file_commit``.
    """
    safe_name = (filename or "nominations").replace("/", "_").replace("\\", "_")[-200:]
    upload = NominationUpload(phase=phase, university=university, original_name=safe_name, uploaded_by=actor)
    extension = "xlsx" if data.startswith(b"PK\x03\x04") else "csv"
    upload.file.save(f"{university.code}-nominations.{extension}", ContentFile(data), save=False)
    upload.save()
    audit_record(
        actor=actor,
        action="nomination_upload.store",
        target=upload,
        summary=f"Nominations file {safe_name} uploaded for preview ({university.code})",
        data={"bytes": len(data)},
    )
    return upload


def nominations_file_commit(*, phase: Phase, university: University, data: bytes, filename: str, actor) -> ImportReport:
    """Write the file's acceptable rows in file order, in one transaction; refused rows are
    reported, not written. A file refused as a whole, or a database failure part-way, writes
    nothing and raises RegistrationError.

    The whole file is written at once (``nominations_submit_many``: one lock of the quota row,
    one insert of the nominations in file order). If that insert meets a person registered
    meanwhile through another university (the unique indexes refuse it), it is undone and the
    file is written row by row through ``nomination_submit`` instead, which refuses just that row.
    """
    rows = _read(data=data, filename=filename)
    try:
        with transaction.atomic():
            quota = _file_gate(phase=phase, university=university)
            # The quota row stays locked until the file is written, also if it falls back to row by
            # row: single nominations of this university queue behind the whole file.
            Quota.objects.select_for_update().filter(pk=quota.pk).exists()
            checked = _check_rows(phase=phase, university=university, rows=rows, viewer=actor)
            try:
                with transaction.atomic():  # a savepoint: a lost race undoes only the bulk attempt
                    outcomes = _commit_together(phase=phase, university=university, checked=checked, actor=actor)
            except IntegrityError:
                logger.info("Nominations file of %s met a concurrent duplicate; written row by row", university.code)
                outcomes = _commit_row_by_row(phase=phase, university=university, checked=checked, actor=actor)
            report = ImportReport(rows=outcomes)
            audit_record(
                actor=actor,
                action="nominations.import",
                target=quota,
                summary=(
                    f"Nominations file {filename} of {university.code}: {report.seated} seated, "
                    f"{report.waiting} waiting, {report.refused} refused"
                ),
                data=report.as_json(),
            )
    except DatabaseError:
        logger.exception("Nominations file of %s could not be committed", university.code)
        raise RegistrationError(
            _("The file could not be saved because of a database error; nothing from it was saved. Please try again.")
        ) from None
    return report


def _commit_together(*, phase: Phase, university: University, checked: list[_Checked], actor) -> list[RowOutcome]:
    accepted = [item for item in checked if not item.errors]
    try:
        nominations = iter(
            nominations_submit_many(
                phase=phase, university=university, people=[item.data for item in accepted], actor=actor
            )
        )
    except RegistrationError as error:  # e.g. acting for another university: every row says so
        return [_outcome(item, REFUSED, errors=item.errors or [error.message]) for item in checked]
    outcomes = []
    for item in checked:
        if item.errors:
            outcomes.append(_outcome(item, REFUSED))
            continue
        outcomes.append(_taken(item, next(nominations)))
    return outcomes


def _commit_row_by_row(*, phase: Phase, university: University, checked: list[_Checked], actor) -> list[RowOutcome]:
    outcomes = []
    for item in checked:
        if item.errors:
            outcomes.append(_outcome(item, REFUSED))
            continue
        try:
            nomination = nomination_submit(phase=phase, university=university, data=item.data, actor=actor)
        except RegistrationError as error:  # e.g. the same person registered elsewhere meanwhile
            outcomes.append(_outcome(item, REFUSED, errors=getattr(error, "problems", [error.message])))
            continue
        outcomes.append(_taken(item, nomination))
    return outcomes
