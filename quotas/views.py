"""HEC staff pages of the allocation: phases, versions, run, preview. (Publishing is a
registrations page: the seats it adds go to the waiting lists at once.)

Thin views: a form, one service call, QuotaError turned into a message and a redirect. Only HEC
staff may use them; anyone else signed in gets a friendly 403 page, anonymous visitors the
sign-in page (core.roles).
"""

from django.contrib import messages
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.roles import hec_staff_view as staff_view

from .allocation import ROUNDING_RULES
from .exceptions import QuotaError
from .models import Allocation, Phase
from .selectors import (
    allocation_get,
    allocation_lines,
    allocation_pool_totals,
    allocations_for_phase,
    phases_all,
)
from .services import allocation_run as allocation_run_service


def _phase(slug: str) -> Phase:
    return get_object_or_404(Phase, slug=slug)


def _allocation(phase: Phase, version: int) -> Allocation:
    try:
        return allocation_get(phase=phase, version=version)
    except Allocation.DoesNotExist:
        raise Http404 from None


def disability_rule(phase: Phase) -> str:
    """The disability reserve rule in words, shown next to every reserve number."""
    rule = ROUNDING_RULES.get(phase.disability_rounding, phase.get_disability_rounding_display())
    return _("%(percent)s %% of each public university's licenses, %(rule)s.") % {
        "percent": format(phase.disability_percent.normalize(), "f"),
        "rule": _(rule),
    }


@staff_view
def phase_list(request: HttpRequest) -> HttpResponse:
    published = Allocation.objects.filter(phase=OuterRef("pk"), status=Allocation.Status.PUBLISHED)
    phases = phases_all().annotate(
        versions=Count("allocations"), published_version=Subquery(published.values("version")[:1])
    )
    return render(request, "quotas/phase_list.html", {"phases": phases})


@staff_view
def allocation_list(request: HttpRequest, phase_slug: str) -> HttpResponse:
    phase = _phase(phase_slug)
    return render(
        request,
        "quotas/allocation_list.html",
        {"phase": phase, "allocations": allocations_for_phase(phase=phase)},
    )


@staff_view
@require_http_methods(["GET", "POST"])
def allocation_run(request: HttpRequest, phase_slug: str) -> HttpResponse:
    phase = _phase(phase_slug)
    if request.method != "POST":
        return redirect("quotas:allocation_list", phase_slug=phase.slug)
    try:
        allocation = allocation_run_service(phase=phase, actor=request.user)
    except QuotaError as error:
        messages.error(
            request,
            _(
                "No allocation was made: %(reason)s. Change the phase's numbers in the administration or the "
                "universities' enrolment, then run it again."
            )
            % {"reason": error.message},
        )
        return redirect("quotas:allocation_list", phase_slug=phase.slug)
    messages.success(
        request,
        _("Version %(version)s was computed. Check it below, then publish it.") % {"version": allocation.version},
    )
    return redirect("quotas:allocation_preview", phase_slug=phase.slug, version=allocation.version)


@staff_view
def allocation_preview(request: HttpRequest, phase_slug: str, version: int) -> HttpResponse:
    phase = _phase(phase_slug)
    allocation = _allocation(phase, version)
    lines = allocation_lines(allocation=allocation)
    return render(
        request,
        "quotas/allocation_preview.html",
        {
            "phase": phase,
            "allocation": allocation,
            "lines": lines,
            "totals": allocation_pool_totals(allocation=allocation, lines=lines),
            "disability_rule": disability_rule(phase),
        },
    )
