"""HEC staff's bank scrolls page: import a scroll, see what it posted, and resolve the rows that
waited (match each to its bill, or dismiss it), each with a reason. Thin views over fees.scrolls."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import PortalError
from core.middleware import allows_body_up_to

from .forms import BankScrollForm, ScrollRowDismissForm, ScrollRowMatchForm
from .models import BankScroll, ScrollRowState, UnmatchedScrollRow
from .scrolls import SCROLL_MAX_BYTES, bank_scroll_import, scroll_row_dismiss, scroll_row_match
from .views_staff import staff_view


@staff_view
@allows_body_up_to(SCROLL_MAX_BYTES + 64 * 1024)
@require_http_methods(["GET", "POST"])
def bank_scrolls(request: HttpRequest) -> HttpResponse:
    form = BankScrollForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not form.is_valid():
            messages.error(request, _("Choose the scroll file to import."))
        else:
            upload = form.cleaned_data["file"]
            try:
                scroll, report = bank_scroll_import(data=upload.read(), filename=upload.name, actor=request.user)
            except PortalError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    _(
                        "%(name)s: %(posted)d posted, %(paid)d already paid, %(unmatched)d unmatched, "
                        "%(mismatch)d with another amount."
                    )
                    % {
                        "name": scroll.filename,
                        "posted": report.posted,
                        "paid": report.already_paid,
                        "unmatched": len(report.unmatched),
                        "mismatch": len(report.amount_mismatch),
                    },
                )
        return redirect("fees:bank_scrolls")
    return render(
        request,
        "fees/bank_scrolls.html",
        {
            "form": form,
            "open_rows": UnmatchedScrollRow.objects.filter(state=ScrollRowState.OPEN).select_related("scroll"),
            "scrolls": BankScroll.objects.select_related("imported_by")[:20],
        },
    )


@staff_view
@require_POST
def scroll_row_resolve(request: HttpRequest, row_id: int, how: str) -> HttpResponse:
    row = get_object_or_404(UnmatchedScrollRow, pk=row_id)
    form = (ScrollRowMatchForm if how == "match" else ScrollRowDismissForm)(request.POST)
    if how not in ("match", "dismiss") or not form.is_valid():
        messages.error(request, _("Give the reason (and, to match, the consumer number of the bill)."))
        return redirect("fees:bank_scrolls")
    try:
        if how == "match":
            scroll_row_match(
                row=row,
                consumer_number=form.cleaned_data["consumer_number"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
            messages.success(request, _("Row %(row)d is posted to its bill.") % {"row": row.row_number})
        else:
            scroll_row_dismiss(row=row, reason=form.cleaned_data["reason"], actor=request.user)
            messages.success(request, _("Row %(row)d is dismissed.") % {"row": row.row_number})
    except PortalError as error:
        messages.error(request, error.message)
    return redirect("fees:bank_scrolls")
