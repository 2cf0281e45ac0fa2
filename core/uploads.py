"""Uploaded files are judged by their content, never by their name.

Focal persons and alumni upload signed forms, paid challans, transcripts and disability
certificates. A name ending in ``.pdf`` proves nothing: the file may be a web page saved by the
browser, a zip, a program, or a PDF cut short by a bad connection. So we look at the bytes:
the signature at the start, and the end marker that a complete file has (a truncated upload is
the most common real-world failure on slow mobile connections). Every refusal is a sentence the
uploader can act on.

``sniff`` names the kind from the bytes; ``check_upload`` reads the whole (size-limited) upload,
sniffs it and checks it is complete; ``upload_validator`` wraps that for a Django form field.
"""

import io
import os
import zipfile
from collections.abc import Callable, Iterable
from math import ceil, floor
from typing import Any, Protocol

from django.core.exceptions import ValidationError

from core.i18n import tr as _

PDF_MAGIC = b"%PDF-"
PDF_EOF = b"%%EOF"
PDF_EOF_WINDOW = 1024  # the PDF standard puts %%EOF in the last 1024 bytes
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # length 0, type, CRC: always these 12 bytes
JPEG_MAGIC = b"\xff\xd8\xff"
JPEG_EOI = b"\xff\xd9"
ZIP_MAGIC = b"PK\x03\x04"

KINDS = ("pdf", "png", "jpeg", "xlsx")  # the order used in messages
_CLAIMS = frozenset({".pdf", ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".xlsx"})


class UploadRefused(Exception):
    """The upload is not accepted; ``message`` says why, in words for the uploader."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UploadedFileLike(Protocol):
    name: str | None
    size: int | None

    def read(self, size: int = -1, /) -> bytes: ...
    def seek(self, offset: int, whence: int = 0, /) -> Any: ...


def human_size(n: int, *, round_up: bool = False) -> str:
    """``5 * 1024 * 1024`` → ``"5 MB"``; one decimal at most. Round a file up and a limit down,
    so that a file just over the limit never reads "5 MB; the largest accepted is 5 MB"."""
    for unit, size in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= size:
            tenths = (ceil if round_up else floor)(n * 10 / size)
            text = f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths / 10:.1f}"
            return f"{text} {unit}"
    return _("%(count)d bytes") % {"count": n}


def is_xlsx(data: bytes) -> bool:
    """True if ``data`` (the whole file) is a zip holding an Office Open XML workbook."""
    if not data.startswith(ZIP_MAGIC):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return False
    return "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names)


def sniff(head: bytes) -> str | None:
    """Name the kind of file from its bytes: "pdf", "png", "jpeg", "xlsx" or None.

    PDF, PNG and JPEG are recognised from their first bytes. An xlsx is a zip whose directory is
    at its end, so it is recognised only when ``head`` is the whole file.
    """
    if head.startswith(PDF_MAGIC):
        return "pdf"
    if head.startswith(PNG_MAGIC):
        return "png"
    if head.startswith(JPEG_MAGIC):
        return "jpeg"
    if is_xlsx(head):
        return "xlsx"
    return None


def _is_complete(kind: str, data: bytes) -> bool:
    if kind == "pdf":
        return PDF_EOF in data[-PDF_EOF_WINDOW:]
    if kind == "png":
        return len(data) >= len(PNG_MAGIC) + len(PNG_IEND) and data.endswith(PNG_IEND)
    if kind == "jpeg":
        return len(data) >= len(JPEG_MAGIC) + len(JPEG_EOI) and data.endswith(JPEG_EOI)
    return True  # an xlsx was opened as a zip, which needs its directory at the very end


def _kind_names(kinds: Iterable[str]) -> str:
    """{"pdf", "png", "jpeg"} → "a PDF, PNG or JPEG image"; {"xlsx"} → "an Excel (.xlsx) file"."""
    ordered = [k for k in KINDS if k in kinds]
    words = [{"pdf": "PDF", "png": "PNG", "jpeg": "JPEG", "xlsx": "Excel (.xlsx)"}[k] for k in ordered]
    listed = words[0]
    if len(words) > 1:
        listed = _("%(list)s or %(last)s") % {"list": ", ".join(words[:-1]), "last": words[-1]}
    if ordered[-1] in ("png", "jpeg"):
        return _("a %(list)s image") % {"list": listed}
    if ordered[-1] == "xlsx":
        return (_("an %(list)s file") if ordered[0] == "xlsx" else _("a %(list)s file")) % {"list": listed}
    return _("a %(list)s") % {"list": listed}


def _claimed_extension(name: str | None) -> str:
    """The extension of ``name`` if it claims one of the kinds we know (".pdf", ".jpg", ...), else ""."""
    ext = os.path.splitext(name or "")[1].lower()
    return ext if ext in _CLAIMS else ""


def check_upload(file: UploadedFileLike, *, kinds: set[str], max_bytes: int) -> str:
    """Return the kind of ``file`` ("pdf", "png", "jpeg" or "xlsx"), or raise UploadRefused.

    Reads at most ``max_bytes + 1`` bytes from the start, and leaves the file at its start.
    """
    unknown = set(kinds) - set(KINDS)
    if not kinds or unknown:
        raise ValueError(f"kinds must be a non-empty subset of {KINDS}, not {sorted(kinds)}")
    declared = getattr(file, "size", None)
    too_big = _("This file is %(size)s; the largest accepted is %(limit)s.")
    if declared is not None and declared > max_bytes:
        raise UploadRefused(too_big % {"size": human_size(declared, round_up=True), "limit": human_size(max_bytes)})
    file.seek(0)
    data = file.read(max_bytes + 1)
    file.seek(0)
    if len(data) > max_bytes:
        size = max(len(data), declared or 0)
        raise UploadRefused(too_big % {"size": human_size(size, round_up=True), "limit": human_size(max_bytes)})
    if not data:
        raise UploadRefused(_("This file is empty. Check that you chose the right file, then upload it again."))

    kind = sniff(data)
    if kind not in kinds:
        wanted = _kind_names(kinds)
        ext = _claimed_extension(getattr(file, "name", None))
        if kind is not None:
            message = _("This file is not %(wanted)s: its content is %(actual)s.") % {
                "wanted": wanted,
                "actual": _kind_names({kind}),
            }
        elif ext:
            message = _("This file is not %(wanted)s (its name says %(ext)s but its content is something else).") % {
                "wanted": wanted,
                "ext": ext,
            }
        else:
            message = _("This file is not %(wanted)s.") % {"wanted": wanted}
        raise UploadRefused(message)
    if not _is_complete(kind, data):
        raise UploadRefused(
            _(
                "This file is incomplete: the end of the %(kind)s is missing, perhaps because the upload or "
                "download was cut short. Please save the file again and upload the new copy."
            )
            % {"kind": {"pdf": "PDF", "png": "PNG image", "jpeg": "JPEG image"}.get(kind, kind)}
        )
    return kind


def upload_validator(kinds: set[str], max_bytes: int) -> Callable[[UploadedFileLike], None]:
    """A validator for a Django form ``FileField``: raises ``ValidationError`` with the refusal message.

    For form fields only: a closure cannot be written into a model field's migration.
    """
    kinds = set(kinds)

    def validate(file: UploadedFileLike) -> None:
        try:
            check_upload(file, kinds=kinds, max_bytes=max_bytes)
        except UploadRefused as refused:
            raise ValidationError(refused.message, code="upload_refused") from refused

    return validate
