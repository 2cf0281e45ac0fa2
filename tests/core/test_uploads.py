"""Uploads are judged by content: real tiny files built here, and a corpus of wrong ones."""

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from PIL import Image

from core.uploads import UploadRefused, check_upload, human_size, sniff, upload_validator

MB = 1024 * 1024
DOCS = {"pdf", "png", "jpeg"}


# Real files -----------------------------------------------------------------------------------------


def make_pdf(text: str = "Paid challan") -> bytes:
    """A minimal valid one-page PDF, with a correct xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_png(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG built from its chunks."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )


def make_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 128, 0)).save(out, "JPEG")
    return out.getvalue()


def make_xlsx() -> bytes:
    book = Workbook()
    book.active.append(["Name", "CNIC"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def make_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes.txt", "not a workbook")
    return out.getvalue()


def upload(data: bytes, name: str = "file.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def refusal(data: bytes, name: str = "file.pdf", *, kinds: set[str] = DOCS, max_bytes: int = 5 * MB) -> str:
    with pytest.raises(UploadRefused) as refused:
        check_upload(upload(data, name), kinds=kinds, max_bytes=max_bytes)
    assert str(refused.value) == refused.value.message
    return refused.value.message


def test_the_real_files_really_are_valid() -> None:
    pdf = make_pdf()
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert Image.open(io.BytesIO(make_png())).size == (2, 2)
    assert Image.open(io.BytesIO(make_jpeg())).format == "JPEG"
    Image.open(io.BytesIO(make_png())).verify()


# sniff ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "kind"),
    [(make_pdf, "pdf"), (make_png, "png"), (make_jpeg, "jpeg"), (make_xlsx, "xlsx"), (make_zip, None)],
)
def test_sniff_whole_files(make, kind: str | None) -> None:
    assert sniff(make()) == kind


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"%PDF",  # the signature cut short
        b"\x89PNG\r\n",  # 6 of the 8 PNG signature bytes
        b"\xff\xd8",  # 2 of the 3 JPEG bytes
        b"<!DOCTYPE html><html><body>%PDF-1.4</body></html>",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00",  # a Windows program
        b"GIF89a\x01\x00\x01\x00",
        b"PK\x03\x04",  # a zip's first bytes alone
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # old .doc / .xls
        b" %PDF-1.4",  # one byte of garbage before the signature
    ],
)
def test_sniff_says_none_for_everything_else(head: bytes) -> None:
    assert sniff(head) is None


def test_sniff_xlsx_needs_the_whole_file() -> None:
    whole = make_xlsx()
    assert sniff(whole) == "xlsx"
    assert sniff(whole[:200]) is None  # the zip directory is at the end


# accepted ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "name", "kind"),
    [
        (make_pdf, "challan.pdf", "pdf"),
        (make_png, "certificate.png", "png"),
        (make_jpeg, "transcript.jpg", "jpeg"),
        (make_jpeg, "transcript.JPEG", "jpeg"),
        (make_png, "photo.pdf", "png"),  # the content decides, not the name
        (make_pdf, "no extension", "pdf"),
    ],
)
def test_accepted_files_return_their_kind(make, name: str, kind: str) -> None:
    file = upload(make(), name)
    assert check_upload(file, kinds=DOCS, max_bytes=5 * MB) == kind
    assert file.tell() == 0  # left ready for saving


def test_pdf_with_trailing_newlines_after_eof_is_accepted() -> None:
    assert check_upload(upload(make_pdf() + b"\r\n\r\n"), kinds={"pdf"}, max_bytes=MB) == "pdf"


def test_xlsx_when_asked_for() -> None:
    assert check_upload(upload(make_xlsx(), "list.xlsx"), kinds={"xlsx"}, max_bytes=MB) == "xlsx"


def test_a_real_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "challan.pdf"
    path.write_bytes(make_pdf())
    with path.open("rb") as handle:
        file = File(handle, name="challan.pdf")
        file.seek(100)  # something read it before us
        assert check_upload(file, kinds=DOCS, max_bytes=MB) == "pdf"
        assert file.tell() == 0


def test_exactly_the_limit_is_accepted() -> None:
    pdf = make_pdf()
    assert check_upload(upload(pdf), kinds=DOCS, max_bytes=len(pdf)) == "pdf"


# refused -------------------------------------------------------------------------------------------


def test_html_named_pdf() -> None:
    html = b"<!DOCTYPE html><html><head><title>Challan</title></head><body>Session expired</body></html>"
    assert refusal(html, "challan.pdf") == (
        "This file is not a PDF, PNG or JPEG image (its name says .pdf but its content is something else)."
    )


def test_a_zip_named_pdf() -> None:
    assert refusal(make_zip(), "documents.pdf") == (
        "This file is not a PDF, PNG or JPEG image (its name says .pdf but its content is something else)."
    )


def test_an_exe_named_jpg() -> None:
    exe = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 200
    assert refusal(exe, "photo.jpg") == (
        "This file is not a PDF, PNG or JPEG image (its name says .jpg but its content is something else)."
    )


def test_an_exe_named_exe_does_not_repeat_its_name() -> None:
    exe = b"MZ\x90\x00" + b"\x00" * 200
    assert refusal(exe, "setup.exe") == "This file is not a PDF, PNG or JPEG image."


def test_a_known_kind_that_is_not_wanted_is_named() -> None:
    assert refusal(make_png(), "scan.pdf", kinds={"pdf"}) == "This file is not a PDF: its content is a PNG image."
    assert refusal(make_xlsx(), "list.pdf", kinds={"pdf", "jpeg"}) == (
        "This file is not a PDF or JPEG image: its content is an Excel (.xlsx) file."
    )
    assert (
        refusal(make_pdf(), "list.xlsx", kinds={"xlsx"})
        == "This file is not an Excel (.xlsx) file: its content is a PDF."
    )


def test_truncated_pdf() -> None:
    pdf = make_pdf()
    message = refusal(pdf[: len(pdf) // 2], "challan.pdf")
    assert message.startswith("This file is incomplete: the end of the PDF is missing")
    assert "upload the new copy" in message


def test_pdf_with_eof_far_from_the_end_is_truncated() -> None:
    # an incremental update cut short: the first %%EOF is there, the end of the file is not
    assert "incomplete" in refusal(make_pdf() + b"1 0 obj\n" + b"x" * 2000)


def test_pdf_with_leading_garbage() -> None:
    assert "is not a PDF, PNG or JPEG image" in refusal(b"\r\n\r\n" + make_pdf())
    assert "is not a PDF, PNG or JPEG image" in refusal(b"GARBAGE" * 10 + make_pdf())


def test_truncated_png() -> None:
    png = make_png()
    assert "end of the PNG image is missing" in refusal(png[:-12], "scan.png")
    assert "end of the PNG image is missing" in refusal(png[:-1], "scan.png")
    assert "end of the PNG image is missing" in refusal(png[:8], "scan.png")  # the signature alone


def test_truncated_jpeg() -> None:
    jpeg = make_jpeg()
    assert "end of the JPEG image is missing" in refusal(jpeg[:-2], "photo.jpg")
    assert "end of the JPEG image is missing" in refusal(jpeg[: len(jpeg) // 2], "photo.jpg")
    assert "end of the JPEG image is missing" in refusal(b"\xff\xd8\xff", "photo.jpg")


def test_partial_signatures() -> None:
    assert "is not a" in refusal(b"\x89PNG\r\n", "scan.png")
    assert "is not a" in refusal(b"%PDF", "scan.pdf")


def test_empty() -> None:
    assert (
        refusal(b"", "challan.pdf") == "This file is empty. Check that you chose the right file, then upload it again."
    )


def test_oversize_by_declared_size() -> None:
    big = make_pdf() + b"\n" * (12 * MB)
    assert refusal(big, max_bytes=5 * MB) == "This file is 12.1 MB; the largest accepted is 5 MB."


def test_oversize_is_found_even_when_the_declared_size_lies() -> None:
    data = make_pdf() + b"\n" * (2 * MB)
    file = upload(data)
    file.size = 10  # a size attribute we do not trust on its own
    with pytest.raises(UploadRefused) as refused:
        check_upload(file, kinds=DOCS, max_bytes=MB)
    assert refused.value.message.startswith("This file is 1.1 MB; the largest accepted is 1 MB.")


def test_a_file_one_byte_over_never_reads_as_equal_to_the_limit() -> None:
    assert refusal(make_pdf() + b"\n" * (5 * MB), max_bytes=5 * MB) == (
        "This file is 5.1 MB; the largest accepted is 5 MB."
    )


class CountingFile(io.BytesIO):
    """A real in-memory file that remembers how much was asked of it."""

    name = "big.pdf"
    size = None

    def __init__(self, data: bytes):
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.asked.append(-1 if size is None else size)
        return super().read(size)


def test_reads_no_more_than_the_limit_plus_one() -> None:
    file = CountingFile(make_pdf() + b"\n" * (3 * MB))
    with pytest.raises(UploadRefused, match="largest accepted is 1 MB"):
        check_upload(file, kinds=DOCS, max_bytes=MB)
    assert file.asked == [MB + 1]
    assert file.tell() == 0


def test_unknown_kinds_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="kinds"):
        check_upload(upload(make_pdf()), kinds={"pdf", "docx"}, max_bytes=MB)
    with pytest.raises(ValueError, match="kinds"):
        check_upload(upload(make_pdf()), kinds=set(), max_bytes=MB)


@pytest.mark.parametrize(
    ("n", "up", "down"),
    [
        (0, "0 bytes", "0 bytes"),
        (900, "900 bytes", "900 bytes"),
        (1024, "1 KB", "1 KB"),
        (1536, "1.5 KB", "1.5 KB"),
        (5 * MB, "5 MB", "5 MB"),
        (5 * MB + 1, "5.1 MB", "5 MB"),
        (int(12.3 * MB), "12.3 MB", "12.2 MB"),
    ],
)
def test_human_size(n: int, up: str, down: str) -> None:
    assert human_size(n, round_up=True) == up
    assert human_size(n) == down


# the Django form-field validator ---------------------------------------------------------------------


def test_validator_accepts_and_refuses_with_validation_error() -> None:
    validate = upload_validator({"pdf"}, MB)
    validate(upload(make_pdf()))
    with pytest.raises(ValidationError) as refused:
        validate(upload(b"<html></html>", "challan.pdf"))
    assert refused.value.code == "upload_refused"
    assert refused.value.messages == ["This file is not a PDF (its name says .pdf but its content is something else)."]
    with pytest.raises(ValidationError, match="This file is empty."):
        validate(upload(b""))
