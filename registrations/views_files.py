"""Private files: disclaimers, transcripts, disability certificates and nomination files.

They hold personal data, so they are stored outside any public URL and served only here, to:
HEC staff (everything); the focal person of the university concerned (its disclaimer, its
nomination files and the certificates of its own nominees); the person themself (their own
transcript and certificate). Everyone else gets 404, as if the file did not exist. The response
is always a download with a safe name, typed from the file's content and never cached.
"""

from django.contrib.auth.decorators import login_required
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from core.roles import user_is_hec_staff
from core.uploads import sniff

from .models import Disclaimer, FocalPerson, Nomination, NominationUpload
from .selectors import nominations_of_account

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {"pdf": "pdf", "png": "png", "jpeg": "jpg", "xlsx": "xlsx"}
_SNIFF_BYTES = 64 * 1024


def _focal_university_id(user) -> int | None:
    focal = FocalPerson.objects.filter(user=user).only("university_id").first()
    return focal.university_id if focal else None


def private_file_response(field: FieldFile, *, stem: str, text_kind: str = "") -> FileResponse:
    """Stream ``field`` as an attachment called ``stem.<ext>``, the type sniffed from its bytes."""
    if not field:
        raise Http404
    try:
        handle = field.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    head = handle.read(_SNIFF_BYTES)
    kind = sniff(head)
    if kind is None and field.size <= _SNIFF_BYTES * 64:
        handle.seek(0)
        kind = sniff(handle.read())  # an xlsx is only recognised from the whole file
    handle.seek(0)
    if kind is None and text_kind == "csv":
        content_type, extension = "text/csv; charset=utf-8", "csv"
    elif kind is None:
        content_type, extension = "application/octet-stream", "bin"
    else:
        content_type, extension = CONTENT_TYPES[kind], EXTENSIONS[kind]
    response = FileResponse(handle, as_attachment=True, filename=f"{stem}.{extension}", content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
def file_disclaimer(request: HttpRequest, pk: int) -> HttpResponse:
    disclaimer = get_object_or_404(Disclaimer.objects.select_related("university"), pk=pk)
    if not (user_is_hec_staff(request.user) or _focal_university_id(request.user) == disclaimer.university_id):
        raise Http404
    return private_file_response(disclaimer.file, stem=f"disclaimer-{disclaimer.university.code}-{disclaimer.pk}")


@login_required
def file_nomination_upload(request: HttpRequest, pk: int) -> HttpResponse:
    upload = get_object_or_404(NominationUpload.objects.select_related("university"), pk=pk)
    if not (user_is_hec_staff(request.user) or _focal_university_id(request.user) == upload.university_id):
        raise Http404
    return private_file_response(upload.file, stem=f"nominations-{upload.university.code}-{upload.pk}", text_kind="csv")


@login_required
def file_nomination(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """``kind`` is "transcript" or "certificate" (the disability certificate)."""
    if kind not in ("transcript", "certificate"):
        raise Http404
    nomination = get_object_or_404(Nomination, pk=pk)
    user = request.user
    allowed = user_is_hec_staff(user) or nominations_of_account(user=user).filter(pk=nomination.pk).exists()
    if not allowed and kind == "certificate" and nomination.university_id is not None:
        allowed = _focal_university_id(user) == nomination.university_id
    if not allowed:
        raise Http404
    field = nomination.transcript if kind == "transcript" else nomination.disability_certificate
    return private_file_response(field, stem=f"{kind}-{nomination.pk}")
