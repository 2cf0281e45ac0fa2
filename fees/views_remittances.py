"""Remittance statements: the focal person issues one for the forfeited deposits not remitted yet
and downloads it (PDF, CSV); HEC staff download any of them beside the admin's list."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.roles import user_is_hec_staff
from quotas.selectors import phase_current
from registrations.models import FocalPerson

from .exceptions import FeeError
from .models import Remittance
from .remittances import remittance_csv, remittance_issue, remittance_pdf
from .views import _focal, _pdf_response


@never_cache
@login_required
@require_POST
def remittance_issue_view(request: HttpRequest) -> HttpResponse:
    focal = _focal(request)
    phase = phase_current()
    if phase is None:
        raise Http404
    try:
        remittance = remittance_issue(phase=phase, university=focal.university, actor=request.user)
    except FeeError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Statement %(number)s is issued: Rs %(amount)s to remit, consumer number %(consumer)s.")
            % {"number": remittance.number, "amount": f"{remittance.amount:,}", "consumer": remittance.consumer_number},
        )
    return redirect("fees:refund_payouts")


@never_cache
@login_required
@require_GET
def remittance_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    remittance = get_object_or_404(Remittance.objects.select_related("university", "phase"), pk=pk)
    own = FocalPerson.objects.filter(user=request.user, university_id=remittance.university_id).exists()
    if not (own or user_is_hec_staff(request.user)) or fmt not in ("pdf", "csv"):
        raise Http404
    if fmt == "pdf":
        return _pdf_response(remittance_pdf(remittance=remittance), filename=f"{remittance.number}.pdf")
    response = HttpResponse(remittance_csv(remittance), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{remittance.number}.csv"'
    return response
