"""Confirming a previewed nominations file: seats and deposits in one go.

This view lives in `fees` because the commit also records the deposits of the file's deposit
columns (fees sits above registrations); the upload and its preview are registrations' pages.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from registrations.exceptions import RegistrationError
from registrations.models import FocalPerson, NominationUpload

from .exceptions import FeeError
from .services import nominations_file_commit


def _count(value) -> int:
    return value if isinstance(value, int) else len(value)


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
    except (RegistrationError, FeeError) as error:
        messages.error(request, _("Nothing was saved. %(reason)s") % {"reason": error.message})
        return redirect("registrations:focal_upload_preview", upload_id=upload.pk)
    seated, waiting, refused = _count(report.seated), _count(report.waiting), _count(report.refused)
    messages.success(
        request,
        _(
            "The file is confirmed: %(seated)d nominated with a seat, %(waiting)d on the waiting list, "
            "%(refused)d refused."
        )
        % {"seated": seated, "waiting": waiting, "refused": refused},
    )
    return redirect("registrations:focal_nominees")
