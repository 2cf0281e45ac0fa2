"""Refunds paid out: the learner's IBAN form, and the focal person's payout sheet (download, the
reminder to learners without an IBAN, and the sheet uploaded back with the paid references)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.tabular import write_csv, write_xlsx
from quotas.selectors import phase_current

from . import selectors
from .exceptions import FeeError
from .forms import PayoutSheetForm, RefundAccountForm, RefundMarkPaidForm
from .refund_payouts import (
    SHEET_COLUMNS,
    payout_sheet,
    refund_account_set,
    refund_iban_reminders_send,
    refund_payments_record,
    refund_payouts_record,
)
from .remittances import forfeits_total, remittances_of
from .views import _focal

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@never_cache
@login_required
@require_POST
def refund_account(request: HttpRequest) -> HttpResponse:
    nomination = selectors.nomination_of_learner(user=request.user, phase=phase_current())
    if nomination is None:
        raise Http404
    form = RefundAccountForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the IBAN and the account title."))
        return redirect("fees:my_license")
    try:
        refund_account_set(
            nomination=nomination,
            iban=form.cleaned_data["iban"],
            account_title=form.cleaned_data["account_title"],
            actor=request.user,
        )
    except FeeError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Thank you: your refund will be paid to this account."))
    return redirect("fees:my_license")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def refund_payouts(request: HttpRequest) -> HttpResponse:
    focal = _focal(request)
    phase = phase_current()
    if phase is None:
        raise Http404
    form = PayoutSheetForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if "remind" in request.POST:
            count = refund_iban_reminders_send(phase=phase, university=focal.university, actor=request.user)
            messages.success(request, _("%(count)d learner(s) reminded by e-mail.") % {"count": count})
        elif not form.is_valid():
            messages.error(request, _("Choose the payout sheet and the day the refunds were paid."))
        else:
            upload = form.cleaned_data["file"]
            try:
                report = refund_payouts_record(
                    phase=phase,
                    university=focal.university,
                    data=upload.read(),
                    filename=upload.name,
                    paid_on=form.cleaned_data["paid_on"],
                    actor=request.user,
                )
            except FeeError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    _("%(paid)d refund(s) recorded as paid; %(already)d were already; %(open)d rows have no reference.")
                    % {"paid": report.paid, "already": report.already_paid, "open": report.not_paid_yet},
                )
        return redirect("fees:refund_payouts")
    sheet = payout_sheet(phase=phase, university=focal.university)
    context = {
        "focal": focal,
        "phase": phase,
        "sheet": sheet,
        "form": form,
        "remittances": remittances_of(phase=phase, university=focal.university),
        "to_remit": forfeits_total(phase=phase, university=focal.university),
    }
    return render(request, "fees/refund_payouts.html", context)


@never_cache
@login_required
@require_POST
def refund_mark_paid(request: HttpRequest) -> HttpResponse:
    """One row of the payout sheet marked paid on the page, by the same service as the sheet."""
    focal = _focal(request)
    phase = phase_current()
    if phase is None:
        raise Http404
    form = RefundMarkPaidForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the bank reference of the transfer and the day it was paid."))
        return redirect("fees:refund_payouts")
    data = form.cleaned_data
    try:
        report = refund_payments_record(
            phase=phase,
            university=focal.university,
            paid={1: (data["reference"], data["paid_reference"])},
            paid_on=data["paid_on"],
            actor=request.user,
        )
    except FeeError as error:
        messages.error(request, error.message)
    else:
        if report.paid:
            messages.success(
                request, _("The refund %(reference)s is recorded as paid.") % {"reference": data["reference"]}
            )
        else:
            messages.error(request, _("This refund was already recorded as paid; nothing was changed."))
    return redirect("fees:refund_payouts")


@never_cache
@login_required
@require_GET
def refund_payouts_download(request: HttpRequest, fmt: str) -> HttpResponse:
    focal = _focal(request)
    phase = phase_current()
    if phase is None or fmt not in CONTENT_TYPES:
        raise Http404
    rows = payout_sheet(phase=phase, university=focal.university).rows
    data = write_csv(rows, SHEET_COLUMNS) if fmt == "csv" else write_xlsx(rows, SHEET_COLUMNS)
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    name = f"refund-payouts-{focal.university.code}-{phase.slug}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
