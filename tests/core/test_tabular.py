"""Spreadsheets in and out: real CSV and XLSX bytes, every refusal, a real zip bomb."""

import csv
import datetime as dt
import io
import re
import struct
import time
import zipfile
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from core.tabular import TableRefused, neutralise_formula, read_table, write_csv, write_xlsx

MB = 1024 * 1024
REQUIRED = ["Name", "CNIC", "Email"]
OPTIONAL = ["Programme", "Disability"]
COLUMNS_SENTENCE = "The columns are: “Name”, “CNIC”, “Email”, “Programme”, “Disability”, as in the template."


def read(data: bytes, *, filename: str = "list.csv", max_bytes: int = 5 * MB, max_rows: int = 1000):
    return read_table(
        data, filename=filename, required=REQUIRED, optional=OPTIONAL, max_bytes=max_bytes, max_rows=max_rows
    )


def refusal(data: bytes, **kwargs) -> str:
    with pytest.raises(TableRefused) as refused:
        read(data, **kwargs)
    assert str(refused.value) == refused.value.message
    return refused.value.message


def xlsx(rows: list[list], *, cells: dict[tuple[int, int], object] | None = None) -> bytes:
    """A real workbook: ``rows`` from A1 down, then single ``cells`` at (row, column)."""
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for (row, column), value in (cells or {}).items():
        sheet.cell(row=row, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replace_in_zip(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(entry.filename, content if entry.filename == name else source.read(entry))
    return out.getvalue()


GOOD_CSV = (
    "Name,CNIC,Email,Programme,Disability\r\n"
    "Ayesha Khan,35202-1234567-8,ayesha@uni.edu.pk,BS Computer Science,\r\n"
    "عائشہ بی بی,3520212345680,aisha@uni.edu.pk,MPhil Urdu,yes\r\n"
)


# Reading: the good cases -------------------------------------------------------------------------------


def test_csv_rows_become_dicts_with_row_numbers() -> None:
    rows = read(GOOD_CSV.encode())
    assert rows == [
        {
            "Name": "Ayesha Khan",
            "CNIC": "35202-1234567-8",
            "Email": "ayesha@uni.edu.pk",
            "Programme": "BS Computer Science",
            "Disability": "",
            "_row": 2,
        },
        {
            "Name": "عائشہ بی بی",
            "CNIC": "3520212345680",
            "Email": "aisha@uni.edu.pk",
            "Programme": "MPhil Urdu",
            "Disability": "yes",
            "_row": 3,
        },
    ]


def test_a_utf8_bom_is_fine() -> None:
    assert read(b"\xef\xbb\xbf" + GOOD_CSV.encode()) == read(GOOD_CSV.encode())


def test_headers_match_without_regard_to_case_or_spaces() -> None:
    data = " NAME ,cnic,  e-mail \n".replace("e-mail", "EMAIL").encode() + b"Ali, 1234512345671 ,ali@x.pk\n"
    assert read(data) == [
        {"Name": "Ali", "CNIC": "1234512345671", "Email": "ali@x.pk", "Programme": "", "Disability": "", "_row": 2}
    ]
    assert read(b"\xc2\xa0Name\xc2\xa0,Cnic,Email\nAli,1,a@b.pk\n")[0]["Name"] == "Ali"  # no-break spaces


def test_optional_columns_may_be_absent_and_come_back_blank() -> None:
    assert read(b"Email,Name,CNIC\na@b.pk,Ali,1\n")[0] == {
        "Name": "Ali",
        "CNIC": "1",
        "Email": "a@b.pk",
        "Programme": "",
        "Disability": "",
        "_row": 2,
    }


def test_blank_rows_are_skipped_and_row_numbers_stay_true() -> None:
    data = b"Name,CNIC,Email\n\nAli,1,a@b.pk\n,,\n  ,\t,  \nSara,2,s@b.pk\n\n\n"
    rows = read(data)
    assert [(row["Name"], row["_row"]) for row in rows] == [("Ali", 3), ("Sara", 6)]


def test_a_quoted_cell_with_a_line_break_is_one_row() -> None:
    data = b'Name,CNIC,Email\n"Ali\nKhan",1,a@b.pk\n"Sara, Bibi",2,s@b.pk\n'
    rows = read(data)
    assert [(row["Name"], row["_row"]) for row in rows] == [("Ali\nKhan", 2), ("Sara, Bibi", 3)]


def test_windows_and_old_mac_line_ends() -> None:
    assert len(read(GOOD_CSV.replace("\r\n", "\r").encode())) == 2
    assert len(read(GOOD_CSV.replace("\r\n", "\n").encode())) == 2


def test_trailing_empty_columns_from_excel_are_fine() -> None:
    rows = read(b"Name,CNIC,Email,,\nAli,1,a@b.pk,,\n")
    assert rows[0]["Name"] == "Ali" and "" not in rows[0]


def test_ten_thousand_character_cells_csv() -> None:
    long = "ب" * 10_000
    data = write_csv([[long, "1", "a@b.pk"]], ["Name", "CNIC", "Email"])
    assert read(data)[0]["Name"] == long


def test_xlsx_values_read_as_people_see_them() -> None:
    data = xlsx(
        [
            ["Name", "CNIC", "Email", "Programme", "Disability"],
            ["Ali", 1234512345671, "a@b.pk", 16.0, True],
            ["  Sara  ", 3520212345679.0, "s@b.pk", dt.date(2021, 9, 9), 2.5],
            ["Zain", "00123", "z@b.pk", dt.datetime(2019, 9, 9, 0, 0), dt.datetime(2021, 9, 9, 14, 30)],
        ]
    )
    rows = read(data, filename="list.xlsx")
    assert rows == [
        {"Name": "Ali", "CNIC": "1234512345671", "Email": "a@b.pk", "Programme": "16", "Disability": "TRUE", "_row": 2},
        {
            "Name": "Sara",
            "CNIC": "3520212345679",
            "Email": "s@b.pk",
            "Programme": "2021-09-09",
            "Disability": "2.5",
            "_row": 3,
        },
        {
            "Name": "Zain",
            "CNIC": "00123",
            "Email": "z@b.pk",
            "Programme": "2019-09-09",
            "Disability": "2021-09-09 14:30:00",
            "_row": 4,
        },
    ]


def test_xlsx_blank_rows_and_gaps_keep_excel_row_numbers() -> None:
    data = xlsx(
        [[" name ", "CNIC", "EMAIL"]],
        cells={(4, 1): "Ali", (4, 2): "1", (4, 3): "a@b.pk", (9, 1): "Sara", (9, 2): 2, (9, 3): "s@b.pk", (12, 2): " "},
    )
    rows = read(data, filename="whatever.csv")  # the content decides, not the name
    assert [(row["Name"], row["CNIC"], row["_row"]) for row in rows] == [("Ali", "1", 4), ("Sara", "2", 9)]


def test_xlsx_ten_thousand_character_cells() -> None:
    long = "x" * 10_000
    rows = read(xlsx([["Name", "CNIC", "Email"], [long, 1, "a@b.pk"]]))
    assert rows[0]["Name"] == long


# Reading: refusals ----------------------------------------------------------------------------------------


def test_empty() -> None:
    assert refusal(b"") == "This file is empty. Check that you chose the right file, then upload it again."
    assert refusal(b"\n\n\r\n") == "This file is empty. Check that you chose the right file, then upload it again."
    assert refusal(b"\xef\xbb\xbf") == "This file is empty. Check that you chose the right file, then upload it again."
    assert refusal(b" , ,\n,,\n") == "This file is empty. Check that you chose the right file, then upload it again."


def test_row_one_blank() -> None:
    assert refusal(b"\nName,CNIC,Email\nAli,1,a@b.pk\n") == (
        "Row 1 is blank; it must hold the column names: “Name”, “CNIC”, “Email”, “Programme”, “Disability”."
    )


def test_over_max_bytes() -> None:
    assert (
        refusal(b"x" * (34 * 1024 + 1), max_bytes=10 * 1024) == "This file is 34.1 KB; the largest accepted is 10 KB."
    )
    assert refusal(b"x" * (6 * MB), max_bytes=5 * MB) == "This file is 6 MB; the largest accepted is 5 MB."


@pytest.mark.parametrize(
    "data",
    [
        "Name,CNIC,Email\nZoë “Bibi” – café,1,z@b.pk\n".encode("cp1252"),  # Excel's plain "CSV (Comma delimited)"
        "Name,CNIC,Email\nJosé,1,j@b.pk\n".encode("latin-1"),
        GOOD_CSV.encode("utf-16"),  # with a BOM, as Excel's "Unicode Text" writes it
        GOOD_CSV.encode("utf-16-le"),  # no BOM: valid UTF-8 bytes, but full of NULs
        GOOD_CSV.encode("utf-16-be"),
        b"\xff\xfeN\x00",
    ],
)
def test_not_utf8_says_save_as_csv_utf8(data: bytes) -> None:
    assert refusal(data) == (
        "This file is not saved as UTF-8 text, so names in it could come out garbled. In Excel choose "
        "File › Save As and the type “CSV UTF-8 (Comma delimited)”, then upload that file."
    )


def test_named_xlsx_but_not_a_workbook() -> None:
    assert refusal(b"\x00\x01garbage\xff", filename="list.XLSX").startswith(
        "This file is named like an Excel workbook but its content is not one"
    )


def test_old_xls_or_password_protected() -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    assert refusal(ole2, filename="list.xls").startswith("This is an old-style Excel file (.xls) or a workbook with a")


def test_a_zip_that_is_not_an_xlsx() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("list.csv", GOOD_CSV)
    message = refusal(out.getvalue(), filename="list.zip")
    assert message == (
        "This file is a zip archive but not an Excel workbook (.xlsx). Upload the .xlsx or a CSV UTF-8 file."
    )
    assert refusal(out.getvalue()[:-30], filename="list.xlsx") == message  # a broken zip


def test_a_workbook_with_broken_xml() -> None:
    data = replace_in_zip(xlsx([["Name"]]), "xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row")
    assert refusal(data).startswith("This Excel workbook could not be")


def test_a_workbook_without_its_workbook_part() -> None:
    data = replace_in_zip(xlsx([["Name"]]), "xl/workbook.xml", b"not xml at all")
    assert refusal(data) == "This Excel workbook could not be opened; it may be damaged. Save it again."


def test_more_than_max_rows() -> None:
    body = "".join(f"P{n},{n},p{n}@b.pk\n" for n in range(11))
    data = ("Name,CNIC,Email\n" + body).encode()
    assert len(read(data, max_rows=11)) == 11
    assert refusal(data, max_rows=10) == (
        "This file has more than 10 rows of data; at most 10 are accepted in one file."
    )
    assert "more than 10 rows" in refusal(xlsx([["Name", "CNIC", "Email"]] + [["P", n, "e"] for n in range(11)]),
                                           max_rows=10)  # fmt: skip


def test_blank_rows_do_not_count_towards_max_rows() -> None:
    data = b"Name,CNIC,Email\n" + b"\n" * 50 + b"Ali,1,a@b.pk\n" + b",,\n" * 50
    assert len(read(data, max_rows=1)) == 1


def test_missing_required_columns_are_named() -> None:
    assert refusal(b"Name,Programme\nAli,BS\n") == (
        "Row 1 lacks these required columns: “CNIC”, “Email”. " + COLUMNS_SENTENCE
    )


def test_unknown_columns_are_named() -> None:
    assert refusal(b"Name,CNIC,Email,Father Name, Remarks \nAli,1,a@b.pk,X,Y\n") == (
        "Row 1 has columns that are not used here: “Father Name”, “Remarks”. " + COLUMNS_SENTENCE
    )


def test_a_misspelt_column_is_both_missing_and_unknown() -> None:
    assert refusal(b"Name,CNIC No,Email\nAli,1,a@b.pk\n") == (
        "Row 1 lacks these required columns: “CNIC”. Row 1 has columns that are not used here: “CNIC No”. "
        + COLUMNS_SENTENCE
    )


def test_duplicate_headers_are_named() -> None:
    assert refusal(b"Name,CNIC,Email,EMAIL , name\nAli,1,a@b.pk,b@b.pk,Ali\n") == (
        "Row 1 names these columns more than once: “Email”, “Name”. Each column may appear only once."
    )
    assert "more than once: “Remarks”" in refusal(b"Name,CNIC,Email,Remarks,remarks\nAli,1,a,b,c\n")


def test_header_only() -> None:
    assert refusal(b"Name,CNIC,Email\n") == "This file has column names but no rows of data."
    assert refusal(b"Name,CNIC,Email\n,,\n\n") == "This file has column names but no rows of data."
    assert refusal(xlsx([["Name", "CNIC", "Email"]])) == "This file has column names but no rows of data."


@pytest.mark.parametrize(
    ("line", "found"),
    [("Ali,1,a@b.pk,extra", 4), ("Ali,1", 2), ("Khan, Ali,1,a@b.pk", 4), ("Ali", 1)],
)
def test_ragged_csv_rows_are_refused_with_their_row_number(line: str, found: int) -> None:
    data = f"Name,CNIC,Email\nSara,2,s@b.pk\n\n{line}\n".encode()
    assert refusal(data) == (
        f"Row 4 has {found} cells but row 1 has 3 columns. A value with a comma in it must be in double quotes."
    )


def test_a_value_under_a_column_without_a_name() -> None:
    assert refusal(b"Name,,CNIC,Email\nAli,note,1,a@b.pk\n") == (
        "Row 2 has a value in column B, which has no name in row 1."
    )
    data = xlsx([["Name", "CNIC", "Email"], ["Ali", 1, "a@b.pk"]], cells={(2, 28): "stray note"})
    assert refusal(data) == "Row 2 has a value in column AB, which has no name in row 1."


def test_broken_quotes() -> None:
    message = refusal(b'Name,CNIC,Email\nAli,1,a@b.pk\n"Sara"x,2,s@b.pk\n')
    assert message.startswith("Row 3 could not be read as CSV (")
    assert message.endswith("Check the quotes in that row.")


def test_a_cell_over_the_csv_field_limit() -> None:
    limit = csv.field_size_limit()
    data = b"Name,CNIC,Email\n" + b"x" * (limit + 1) + b",1,a@b.pk\n"
    assert refusal(data).startswith("Row 2 could not be read as CSV (field larger than field limit")


# Zip bombs and absurd sheets -------------------------------------------------------------------------------


def _bomb(declared_size: int | None = None) -> bytes:
    """An xlsx-shaped zip whose sheet is 200 MB of zeros, compressed to a few hundred KB.

    ``declared_size`` rewrites the sizes the zip declares for that entry, as a forger would.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            zeros = bytes(MB)
            for _ in range(200):
                sheet.write(zeros)
    data = bytearray(out.getvalue())
    if declared_size is not None:
        name = b"xl/worksheets/sheet1.xml"
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            local, central = archive.getinfo(name.decode()).header_offset, archive.start_dir
        assert data[local : local + 4] == b"PK\x03\x04" and data[local + 30 : local + 30 + len(name)] == name
        struct.pack_into("<I", data, local + 22, declared_size)  # uncompressed size, local header
        while data[central + 46 : central + 46 + len(name)] != name:  # walk the central directory
            lengths = struct.unpack_from("<HHH", data, central + 28)
            central += 46 + sum(lengths)
        struct.pack_into("<I", data, central + 24, declared_size)  # uncompressed size, central directory
    return bytes(data)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _bomb()


def test_the_bomb_is_real(bomb: bytes) -> None:
    assert len(bomb) < 2 * MB
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 200 * MB


def test_zip_bomb_over_twenty_times_max_bytes(bomb: bytes) -> None:
    assert refusal(bomb, filename="list.xlsx", max_bytes=2 * MB) == (
        "This workbook unpacks to more than 40 MB, far more than a list needs. Copy the list into a new "
        "workbook without pictures or formatting, or save it as CSV UTF-8."
    )


def test_zip_bomb_over_one_hundred_mb(bomb: bytes) -> None:
    assert refusal(bomb, max_bytes=50 * MB).startswith("This workbook unpacks to more than 100 MB,")


def test_zip_bomb_that_lies_about_its_size_is_not_unpacked() -> None:
    liar = _bomb(declared_size=1000)
    with zipfile.ZipFile(io.BytesIO(liar)) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size == 1000
    started = time.monotonic()
    message = refusal(liar, max_bytes=2 * MB)
    assert time.monotonic() - started < 5
    assert message in {
        "This file is a zip archive but not an Excel workbook (.xlsx). Upload the .xlsx or a CSV UTF-8 file.",
        "This workbook unpacks to more than 40 MB, far more than a list needs. Copy the list into a new "
        "workbook without pictures or formatting, or save it as CSV UTF-8.",
    }


def test_a_row_far_below_the_list_is_not_walked_to() -> None:
    base = xlsx([["Name", "CNIC", "Email"], ["Ali", 1, "a@b.pk"]])
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    far = sheet.replace(
        "</sheetData>", '<row r="900000000"><c r="A900000000" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    )
    started = time.monotonic()
    message = refusal(replace_in_zip(base, "xl/worksheets/sheet1.xml", far.encode()))
    assert time.monotonic() - started < 10
    assert message.startswith("This workbook has too many cells to read")


def test_a_declared_dimension_of_a_whole_sheet_is_not_trusted() -> None:
    base = xlsx([["Name", "CNIC", "Email"], ["Ali", 1, "a@b.pk"]])
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    huge, replaced = re.subn(r'<dimension ref="A1:C2"\s*/>', '<dimension ref="A1:XFD1048576"/>', sheet)
    assert replaced == 1
    started = time.monotonic()
    assert len(read(replace_in_zip(base, "xl/worksheets/sheet1.xml", huge.encode()))) == 1
    assert time.monotonic() - started < 5


# Writing ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+2", "'=1+2"),
        ('=HYPERLINK("http://evil.example","Click")', '\'=HYPERLINK("http://evil.example","Click")'),
        ("+92 300 1234567", "'+92 300 1234567"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+2", "'\t=1+2"),
        ("\r=1+2", "'\r=1+2"),
        ("Ali", "Ali"),
        ("", ""),
        (" =1+2", " =1+2"),
        ("a=b", "a=b"),
        ("'=1+2", "'=1+2"),
        ("ب=1", "ب=1"),
    ],
)
def test_neutralise_formula(value: str, safe: str) -> None:
    assert neutralise_formula(value) == safe


HEADER = ["Name", "CNIC", "Email", "Programme", "Disability"]
ROWS = [
    ["Ayesha Khan", "35202-1234567-8", "ayesha@uni.edu.pk", "BS CS", ""],
    ["عائشہ بی بی", "3520212345680", "aisha@uni.edu.pk", "MPhil, Urdu", "yes"],
    ["Line\nbreak", "1", 'q"uote@b.pk', "x" * 10_000, "ب" * 10_000],
]


def test_csv_round_trip() -> None:
    data = write_csv(ROWS, HEADER)
    assert data.startswith(b"\xef\xbb\xbfName,CNIC,Email")
    assert b"\r\n" in data
    rows = read(data)
    assert [[row[name] for name in HEADER] for row in rows] == ROWS


def test_xlsx_round_trip() -> None:
    data = write_xlsx(ROWS, HEADER)
    rows = read(data, filename="export.xlsx")
    assert [[row[name] for name in HEADER] for row in rows] == ROWS


def test_csv_cells_are_neutralised() -> None:
    data = write_csv([["=1+2", "+1", "-1", "@x", "\tx", "\rx", "ok"]], ["=HEAD", "b", "c", "d", "e", "f", "g"])
    records = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert records == [["'=HEAD", "b", "c", "d", "e", "f", "g"], ["'=1+2", "'+1", "'-1", "'@x", "'\tx", "'\rx", "ok"]]


def test_xlsx_cells_are_text_not_formulas() -> None:
    data = write_xlsx([["=1+2", "\x01=SUM(A1)", "+1", "plain"]], ["=HEAD", "b", "c", "d"])
    sheet = load_workbook(io.BytesIO(data)).active
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["'=HEAD", "b", "c", "d"],
        ["'=1+2", "'=SUM(A1)", "'+1", "plain"],
    ]
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row)


def test_numbers_dates_and_blanks_are_written_as_such() -> None:
    aware = dt.datetime(2021, 9, 9, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    row = [-4000, 8000, Decimal("1.50"), 2.5, True, None, dt.date(2021, 9, 9), dt.datetime(2021, 9, 9, 10, 30), aware]
    header = [f"c{n}" for n in range(len(row))]
    records = list(csv.reader(io.StringIO(write_csv([row], header).decode("utf-8-sig"), newline="")))
    assert records[1] == [
        "-4000", "8000", "1.50", "2.5", "True", "", "2021-09-09", "2021-09-09 10:30:00", "2021-09-09 10:00:00+05:00",
    ]  # fmt: skip
    sheet = load_workbook(io.BytesIO(write_xlsx([row], header))).active
    values = [cell.value for cell in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert values[:6] == [-4000, 8000, 1.5, 2.5, True, None]
    assert values[6:8] == [dt.datetime(2021, 9, 9), dt.datetime(2021, 9, 9, 10, 30)]
    assert values[8] == "2021-09-09 10:00:00+05:00"


def test_writers_take_any_iterable_of_rows() -> None:
    rows = ((f"P{n}", str(n), f"p{n}@b.pk") for n in range(3))
    assert len(read(write_xlsx(rows, ["Name", "CNIC", "Email"]))) == 3


def test_a_formula_without_a_saved_result_is_refused_as_a_formula_not_read_as_empty():
    data = xlsx([REQUIRED, ['=CONCATENATE("Ayesha"," ","Khan")', "35202-1234567-1", "ayesha@example.pk"]])
    message = refusal(data, filename="list.xlsx")
    assert "Row 2, column A holds a formula (=CONCATENATE(" in message and "paste the values only" in message
    assert "missing" not in message
