"""The focal person's nominations file: upload, preview, confirm, and the refused rows to correct.

The rows are registrations' (``registrations.imports`` reads and checks them; the preview writes
nothing); confirming also records the deposits of the file's deposit columns, which is fees', so
the flow lives here, above both (``portal.nominations_file``). The pages keep their addresses
under /registrations/focal/upload/ and /fees/nominations/ (bookmarks, links in e-mails).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import PortalError
from core.tabular import write_csv, write_xlsx
from quotas.models import Phase
from registrations.exceptions import RegistrationError
from registrations.forms import NominationsFileForm
from registrations.imports import (
    COLUMNS,
    nomination_upload_store,
    nominations_file_check,
    nominations_file_preview,
    refused_rows_table,
)
from registrations.models import FocalPerson, NominationUpload
from registrations.views_focal import XLSX_TYPE, focal_view

from .nominations_file import nominations_file_commit


def _count(value) -> int:
    """ImportReport's seated/waiting/refused may be numbers or lists of rows."""
    return value if isinstance(value, int) else len(value)


@require_http_methods(["GET", "POST"])
@focal_view()
def nominations_upload(request: HttpRequest, focal: FocalPerson, phase: Phase) -> HttpResponse:
    form = NominationsFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        data = file.read(settings.NOMINATIONS_FILE_MAX_BYTES + 1)
        try:
            # A bad file is refused whole (columns, encoding, size, not a spreadsheet) before
            # anything is stored; its rows are judged on the preview page.
            nominations_file_check(phase=phase, university=focal.university, data=data, filename=file.name)
            upload = nomination_upload_store(
                phase=phase, university=focal.university, data=data, filename=file.name, actor=request.user
            )
        except RegistrationError as error:
            form.add_error("file", error.message)
            messages.error(
                request, _("The file was not accepted; nothing has changed. %(reason)s") % {"reason": error.message}
            )
        else:
            return redirect("portal:nominations_preview", upload_id=upload.pk)
    status = 400 if form.errors else 200
    return render(
        request, "portal/nominations_upload.html", {"focal": focal, "phase": phase, "form": form}, status=status
    )


@focal_view()
def nominations_preview(request: HttpRequest, focal: FocalPerson, phase: Phase, upload_id: int) -> HttpResponse:
    upload = get_object_or_404(NominationUpload, pk=upload_id, university=focal.university)
    context: dict = {"focal": focal, "phase": phase, "upload": upload}
    if upload.committed_at is not None:
        context["refused_count"] = len(upload.result.get("refused", []))
    else:
        try:
            with upload.file.open("rb") as stored:
                data = stored.read()
        except OSError:
            messages.error(request, _("This file is no longer on the server; please upload it again."))
            return redirect("portal:nominations_upload")
        try:
            report = nominations_file_preview(
                phase=upload.phase, university=focal.university, data=data, filename=upload.original_name
            )
        except RegistrationError as error:
            messages.error(request, error.message)
            return redirect("portal:nominations_upload")
        context.update(
            report=report,
            rows=report.rows,
            counts={
                "seated": _count(report.seated),
                "waiting": _count(report.waiting),
                "refused": _count(report.refused),
                "total": len(report.rows),
            },
        )
    return render(request, "portal/nominations_preview.html", context)


@login_required
@require_POST
def nominations_confirm(request: HttpRequest, upload_id: int) -> HttpResponse:
    focal = FocalPerson.objects.filter(user=request.user).only("university_id").first()
    if focal is None:
        raise Http404
    upload = get_object_or_404(NominationUpload, pk=upload_id, university_id=focal.university_id)
    if upload.committed_at is not None:
        messages.info(request, _("This file was already confirmed; its nominations are in the list."))
        return redirect("registrations:focal_nominees")
    try:
        report = nominations_file_commit(upload=upload, actor=request.user)
    except PortalError as error:
        messages.error(request, _("Nothing was saved. %(reason)s") % {"reason": error.message})
        return redirect("portal:nominations_preview", upload_id=upload.pk)
    seated, waiting, refused = _count(report.seated), _count(report.waiting), _count(report.refused)
    messages.success(
        request,
        _(
            "The file is confirmed: %(seated)d nominated with a seat, %(waiting)d on the waiting list, "
            "%(refused)d refused."
        )
        % {"seated": seated, "waiting": waiting, "refused": refused},
    )
    if refused:  # the file's page offers the refused rows to correct and upload again
        return redirect("portal:nominations_preview", upload_id=upload.pk)
    return redirect("registrations:focal_nominees")


@focal_view()
def nominations_refused_rows(
    request: HttpRequest, focal: FocalPerson, phase: Phase, upload_id: int, fmt: str
) -> HttpResponse:
    """A confirmed file's refused rows with the reason of each, to correct and upload again."""
    upload = get_object_or_404(NominationUpload, pk=upload_id, university=focal.university, committed_at__isnull=False)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    try:
        with upload.file.open("rb") as stored:
            rows = refused_rows_table(data=stored.read(), filename=upload.original_name, result=upload.result)
    except (OSError, RegistrationError):
        messages.error(request, _("This file is no longer on the server; please upload it again."))
        return redirect("portal:nominations_preview", upload_id=upload.pk)
    header = [*COLUMNS, "reason"]
    if fmt == "csv":
        response = HttpResponse(write_csv(rows, header), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(write_xlsx(rows, header), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="dlsei-refused-rows-{upload.pk}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    return response
