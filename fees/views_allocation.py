"""HEC staff pages that change a phase's licenses: moving licenses and publishing an allocation.

They live in fees because both may raise a private university's licenses, and the licenses it
was invoiced for must follow: their services (fees.invoices) move or publish (registrations
promotes the waiting lists) and issue the supplementary invoices in the same transaction.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from core.exceptions import PortalError
from core.roles import hec_staff_view as staff_view
from quotas.forms import AllocationPublishForm, LicenseMoveForm
from quotas.models import Allocation, Phase
from quotas.selectors import allocation_get, license_moves_for_phase, pool_totals
from quotas.views import comparison_context

from .invoices import allocation_publish_billed, license_move_billed


def _supplements_said(request: HttpRequest, supplements: list) -> None:
    for invoice in supplements:
        messages.info(
            request,
            _(
                "%(university)s now holds more licenses than it was invoiced for: supplementary invoice "
                "%(number)s for %(licenses)s licenses (Rs %(amount)s) is issued. Its nominees above the "
                "licenses paid for wait until it is paid."
            )
            % {
                "university": invoice.university.code,
                "number": invoice.number,
                "licenses": invoice.licenses,
                "amount": f"{invoice.amount:,}",
            },
        )


@staff_view
@require_http_methods(["GET", "POST"])
def staff_license_moves(request: HttpRequest, phase_slug: str) -> HttpResponse:
    phase = get_object_or_404(Phase, slug=phase_slug)
    form = LicenseMoveForm(request.POST if request.method == "POST" else None, phase=phase)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            move, supplements = license_move_billed(
                phase=phase,
                from_university=data["from_university"],
                to_university=data["to_university"],
                licenses=data["licenses"],
                reason=data["reason"],
                actor=request.user,
                across_pools=data["across_pools"],
                beyond_caps=data["beyond_caps"],
            )
        except PortalError as error:  # a FeeError, or quotas' QuotaError refusing the move
            messages.error(request, error.message)
            return render(
                request,
                "fees/staff_license_moves.html",
                {
                    "phase": phase,
                    "form": form,
                    "moves": license_moves_for_phase(phase=phase),
                    "pools": pool_totals(phase=phase),
                },
                status=400,
            )
        messages.success(
            request,
            _("%(licenses)s licenses moved from %(source)s to %(target)s; its waiting list was promoted.")
            % {
                "licenses": move.licenses,
                "source": data["from_university"].code,
                "target": data["to_university"].code,
            },
        )
        _supplements_said(request, supplements)
        return redirect("fees:staff_license_moves", phase_slug=phase.slug)
    return render(
        request,
        "fees/staff_license_moves.html",
        {
            "phase": phase,
            "form": form,
            "moves": license_moves_for_phase(phase=phase),
            "pools": pool_totals(phase=phase),
        },
        status=400 if form.errors else 200,
    )


@staff_view
@require_http_methods(["GET", "POST"])
def staff_allocation_publish(request: HttpRequest, phase_slug: str, version: int) -> HttpResponse:
    phase = get_object_or_404(Phase, slug=phase_slug)
    try:
        allocation = allocation_get(phase=phase, version=version)
    except Allocation.DoesNotExist:
        raise Http404 from None
    if allocation.status != Allocation.Status.DRAFT:
        messages.error(
            request,
            _("Version %(version)s is %(status)s; only a draft can be published. Run a new allocation instead.")
            % {"version": allocation.version, "status": allocation.get_status_display().lower()},
        )
        return redirect("quotas:allocation_preview", phase_slug=phase.slug, version=allocation.version)
    form = AllocationPublishForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            _published, promoted, supplements = allocation_publish_billed(allocation=allocation, actor=request.user)
        except PortalError as error:  # a FeeError, or quotas' QuotaError refusing the publish
            messages.error(request, error.message)
            return redirect("quotas:allocation_preview", phase_slug=phase.slug, version=allocation.version)
        messages.success(
            request,
            _("Version %(version)s is published: registration now counts against it.")
            % {"version": allocation.version},
        )
        if promoted:
            messages.info(
                request,
                ngettext(
                    "%(count)s nomination on a waiting list took one of the new seats.",
                    "%(count)s nominations on waiting lists took the new seats.",
                    len(promoted),
                )
                % {"count": len(promoted)},
            )
        _supplements_said(request, supplements)
        return redirect("quotas:allocation_list", phase_slug=phase.slug)
    return render(
        request,
        "fees/staff_allocation_publish.html",
        {"phase": phase, "allocation": allocation, "form": form, **comparison_context(allocation)},
        status=400 if form.errors else 200,
    )
