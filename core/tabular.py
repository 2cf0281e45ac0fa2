"""Spreadsheets in and out, safely, with the same code for the browser and the command line.

Focal persons upload nomination lists, HEC staff import enrolment and Coursera completion
reports, and everyone downloads ledgers. Reading: the file's content decides CSV or XLSX (never
its name); a bad file is refused as a whole with one sentence that says what to fix, before
anything is saved; zip bombs and absurd sheets are stopped by limits on what is actually
unpacked and read, not on what the file claims. Writing: text that a spreadsheet would run as a
formula is neutralised (OWASP "CSV injection"), and CSV carries a BOM so Excel shows Urdu names.
"""

import csv
import datetime as dt
import io
import zipfile
import zlib
from collections.abc import Generator, Iterable, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from core.i18n import tr as _
from core.uploads import ZIP_MAGIC, human_size

UNPACKED_CEILING = 100 * 1024 * 1024  # an xlsx never unpacks to more than this ...
UNPACKED_RATIO = 20  # ... nor to more than this many times the accepted upload size
CELL_BUDGET = 2_000_000  # cells (and skipped rows) looked at in a workbook before giving up
EXCEL_MAX_ROW = 1_048_576
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_CHUNK = 64 * 1024


class TableRefused(Exception):
    """The whole file is refused; ``message`` says why, in words for the person who uploaded it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _names(names: Iterable[str]) -> str:
    return ", ".join(f"“{name}”" for name in names)


def _not_utf8() -> TableRefused:
    return TableRefused(
        _(
            "This file is not saved as UTF-8 text, so names in it could come out garbled. In Excel choose "
            "File › Save As and the type “CSV UTF-8 (Comma delimited)”, then upload that file."
        )
    )


# Reading ------------------------------------------------------------------------------------------


def _decode(data: bytes, *, filename: str) -> str:
    """The text of a CSV file: UTF-8, with or without a BOM, or TableRefused."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:  # UTF-16 without a BOM decodes as "UTF-8" full of NULs
        return text
    if filename.lower().endswith((".xlsx", ".xls", ".xlsm")):
        raise TableRefused(
            _(
                "This file is named like an Excel workbook but its content is not one; it may be damaged or "
                "renamed. Open it in Excel and save it again as an Excel workbook (.xlsx) or as CSV UTF-8."
            )
        )
    raise _not_utf8()


def _csv_rows(text: str) -> Generator[list[str]]:
    """Every record of a CSV text, one per spreadsheet row, blank ones as []."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):  # noqa: B007 - number is used after a failure
            yield record
    except csv.Error as error:
        raise TableRefused(
            _("Row %(row)d could not be read as CSV (%(error)s). Check the quotes in that row.")
            % {"row": number + 1, "error": error}
        ) from None


def _check_zip(data: bytes, limit: int) -> None:
    """Refuse a zip that is not an xlsx, or that unpacks to more than ``limit`` bytes.

    The sizes a zip declares are checked first, then every entry is really unpacked, counting,
    and we stop as soon as the count passes the limit: a forged directory cannot get past.
    """
    not_xlsx = TableRefused(
        _("This file is a zip archive but not an Excel workbook (.xlsx). Upload the .xlsx or a CSV UTF-8 file.")
    )
    too_big = TableRefused(
        _(
            "This workbook unpacks to more than %(limit)s, far more than a list needs. Copy the list into a new "
            "workbook without pictures or formatting, or save it as CSV UTF-8."
        )
        % {"limit": human_size(limit)}
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            names = {entry.filename for entry in entries}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise not_xlsx
            if sum(entry.file_size for entry in entries) > limit:
                raise too_big
            unpacked = 0
            for entry in entries:
                with archive.open(entry) as stream:
                    while chunk := stream.read(_CHUNK):
                        unpacked += len(chunk)
                        if unpacked > limit:
                            raise too_big
    except TableRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, RuntimeError, NotImplementedError, OSError,
            ValueError, EOFError):  # fmt: skip
        raise not_xlsx from None


def _cell_text(value: Any) -> str:
    """A workbook value as the text a person sees: 123 not 123.0, dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ", "seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _xlsx_rows(data: bytes) -> Generator[list[str]]:
    """Every row of the first worksheet, numbered as Excel numbers them, blank ones as [].

    A cell's value is what Excel saved as the cell's result. A formula whose result was never
    saved (the file was written by a program, not Excel) has none: the file is refused saying so,
    instead of the cell reading as empty ("full name missing")."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds of errors on a broken workbook
        raise TableRefused(_("This Excel workbook could not be opened; it may be damaged. Save it again.")) from None
    try:
        if not book.worksheets:
            raise TableRefused(_("This Excel workbook has no worksheet."))
        sheet, written = book.worksheets[0], formulas.worksheets[0]
        sheet.reset_dimensions()  # do not trust the size the file declares; read what is there
        written.reset_dimensions()
        budget = CELL_BUDGET
        both = zip(
            sheet.iter_rows(min_row=1, min_col=1, values_only=True),
            written.iter_rows(min_row=1, min_col=1, values_only=True),
            strict=False,
        )
        for number, (values, as_written) in enumerate(both, start=1):
            budget -= max(len(values), 1)
            if budget < 0 or number > EXCEL_MAX_ROW:
                raise TableRefused(
                    _(
                        "This workbook has too many cells to read; it may be formatted far beyond the list. Copy "
                        "the list into a new workbook, or save it as CSV UTF-8."
                    )
                )
            for column, (value, formula) in enumerate(zip(values, as_written, strict=False), start=1):
                if value is None and isinstance(formula, str) and formula.startswith("="):
                    raise TableRefused(
                        _(
                            "Row %(row)d, column %(column)s holds a formula (%(formula)s) whose result was not saved "
                            "in the file. Open the file in Excel and save it again, or paste the values only "
                            "(Paste Special, Values), then upload it."
                        )
                        % {"row": number, "column": get_column_letter(column), "formula": formula[:40]}
                    )
            yield [_cell_text(value) for value in values]
    except TableRefused:
        raise
    except Exception:  # a damaged sheet can fail half-way through
        raise TableRefused(_("This Excel workbook could not be read; it may be damaged. Save it again.")) from None
    finally:
        book.close()
        formulas.close()


def _records(data: bytes, *, filename: str, max_bytes: int) -> tuple[str, Generator[list[str]]]:
    """("csv" or "xlsx", the file's rows), decided by content."""
    if data.startswith(ZIP_MAGIC):
        _check_zip(data, min(UNPACKED_RATIO * max_bytes, UNPACKED_CEILING))
        return "xlsx", _xlsx_rows(data)
    if data.startswith(OLE2_MAGIC):
        raise TableRefused(
            _(
                "This is an old-style Excel file (.xls) or a workbook with a password. Save it without a "
                "password as an Excel workbook (.xlsx) or as CSV UTF-8, and upload that."
            )
        )
    return "csv", _csv_rows(_decode(data, filename=filename))


def _label(cell: str) -> str:
    return " ".join(cell.split())


def _match_header(header: list[str], *, required: list[str], optional: list[str]) -> list[str | None]:
    """The wanted column name under each header cell (None for a blank one), or TableRefused."""
    wanted = {_label(name).casefold(): name for name in required + optional}
    columns: list[str | None] = []
    seen: dict[str, str] = {}
    duplicated: list[str] = []
    unknown: list[str] = []
    for cell in header:
        label = _label(cell)
        key = label.casefold()
        if not label:
            columns.append(None)
            continue
        if key in seen and seen[key] not in duplicated:
            duplicated.append(seen[key])
        seen.setdefault(key, label)
        if key not in wanted:
            unknown.append(label)
        columns.append(wanted.get(key))
    if duplicated:
        raise TableRefused(
            _("Row 1 names these columns more than once: %(names)s. Each column may appear only once.")
            % {"names": _names(duplicated)}
        )
    missing = [name for name in required if _label(name).casefold() not in seen]
    problems = []
    if missing:
        problems.append(_("Row 1 lacks these required columns: %(names)s.") % {"names": _names(missing)})
    if unknown:
        problems.append(_("Row 1 has columns that are not used here: %(names)s.") % {"names": _names(unknown)})
    if problems:
        problems.append(_("The columns are: %(names)s, as in the template.") % {"names": _names(required + optional)})
        raise TableRefused(" ".join(problems))
    return columns


def _is_blank(record: list[str]) -> bool:
    return not any(cell.strip() for cell in record)


def read_table(
    data: bytes, *, filename: str, required: list[str], optional: list[str], max_bytes: int, max_rows: int
) -> list[dict[str, Any]]:
    """Read a CSV or XLSX list into one dict per data row, or refuse the whole file with TableRefused.

    Keys are the names in ``required`` and ``optional`` (headers match them ignoring case and
    surrounding spaces); values are stripped strings ('' for blank, and for an optional column the
    file lacks). ``"_row"`` is the int row number a person sees in the spreadsheet (header is row
    1). Fully blank rows are skipped. The content decides the format; ``filename`` only words a message.
    """
    if not data:
        raise TableRefused(_("This file is empty. Check that you chose the right file, then upload it again."))
    if len(data) > max_bytes:
        raise TableRefused(
            _("This file is %(size)s; the largest accepted is %(limit)s.")
            % {"size": human_size(len(data), round_up=True), "limit": human_size(max_bytes)}
        )
    kind, records = _records(data, filename=filename, max_bytes=max_bytes)
    try:
        return _read_records(kind, records, required=required, optional=optional, max_rows=max_rows)
    finally:
        records.close()  # closes the workbook at once when a file is refused half-way


def _read_records(
    kind: str, records: Generator[list[str]], *, required: list[str], optional: list[str], max_rows: int
) -> list[dict[str, Any]]:
    header = next(records, None)
    if header is None or _is_blank(header):
        if any(not _is_blank(record) for record in records):
            raise TableRefused(
                _("Row 1 is blank; it must hold the column names: %(names)s.") % {"names": _names(required + optional)}
            )
        raise TableRefused(_("This file is empty. Check that you chose the right file, then upload it again."))
    columns = _match_header(header, required=required, optional=optional)

    rows: list[dict[str, Any]] = []
    for number, record in enumerate(records, start=2):
        if _is_blank(record):
            continue
        if kind == "csv" and len(record) != len(header):
            raise TableRefused(
                _(
                    "Row %(row)d has %(found)d cells but row 1 has %(expected)d columns. A value with a comma "
                    "in it must be in double quotes."
                )
                % {"row": number, "found": len(record), "expected": len(header)}
            )
        if len(rows) == max_rows:
            raise TableRefused(
                _("This file has more than %(max)d rows of data; at most %(max)d are accepted in one file.")
                % {"max": max_rows}
            )
        row: dict[str, Any] = dict.fromkeys(required + optional, "")
        for index, cell in enumerate(record):
            name = columns[index] if index < len(columns) else None
            if name is not None:
                row[name] = cell.strip()
            elif cell.strip():
                raise TableRefused(
                    _("Row %(row)d has a value in column %(column)s, which has no name in row 1.")
                    % {"row": number, "column": get_column_letter(index + 1)}
                )
        row["_row"] = number
        rows.append(row)
    if not rows:
        raise TableRefused(_("This file has column names but no rows of data."))
    return rows


# Writing ------------------------------------------------------------------------------------------


def neutralise_formula(value: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula (starts with = + - @ tab or CR)."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def _export_value(value: Any, *, for_xlsx: bool) -> Any:
    """A value ready for a cell: text neutralised; numbers and plain dates kept as they are."""
    if value is None:
        return None if for_xlsx else ""
    if isinstance(value, bool | int | float | Decimal):
        return value if for_xlsx else str(value)
    if isinstance(value, dt.datetime) and value.utcoffset() is not None:
        value = value.isoformat(" ", "seconds")  # Excel has no time zones: write the offset as text
    elif isinstance(value, dt.datetime):
        return value if for_xlsx else value.isoformat(" ", "seconds")
    elif isinstance(value, dt.date | dt.time):
        return value if for_xlsx else value.isoformat()
    text = str(value)
    if for_xlsx:
        text = ILLEGAL_CHARACTERS_RE.sub("", text)  # before neutralising, so "\x01=..." cannot become "=..."
    return neutralise_formula(text)


def write_csv(rows: Iterable[Sequence[Any]], header: Sequence[str]) -> bytes:
    """A CSV for Excel: UTF-8 with a BOM (so Urdu shows right), CRLF line ends, every text cell neutralised."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_export_value(cell, for_xlsx=False) for cell in header])
    for row in rows:
        writer.writerow([_export_value(cell, for_xlsx=False) for cell in row])
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(rows: Iterable[Sequence[Any]], header: Sequence[str]) -> bytes:
    """An .xlsx with one sheet, written streaming (openpyxl write-only), every text cell neutralised."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append([_export_value(cell, for_xlsx=True) for cell in header])
    for row in rows:
        sheet.append([_export_value(cell, for_xlsx=True) for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
