"""HEC staff pages that need people counts: utilisation (with waiting lists), license moves and
publishing an allocation.

They live here, not in quotas, because quotas knows no people: the waiting counts come from
registrations, and moving licenses or publishing more of them promotes the waiting lists.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from dlsei.charts import Bar, Series, bar_chart_svg
from dlsei.tabular import write_csv, write_xlsx
from quotas.forms import AllocationPublishForm, LicenseMoveForm
from quotas.models import Allocation, Phase
from quotas.resources import UtilisationResource
from quotas.selectors import Utilisation, UtilisationRow, allocation_get, license_moves_for_phase, utilisation_rows
from quotas.views import staff_view as allocation_staff_view

from .exceptions import RegistrationError
from .roles import user_is_hec_staff
from .selectors import waiting_counts
from .services import allocation_publish_and_promote, licenses_move

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_TYPE}


def hec_staff_view(view: Callable) -> Callable:
    """Only HEC staff: anonymous visitors are sent to sign in, everyone else gets a 403 page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user_is_hec_staff(request.user):
            return render(request, "quotas/staff_forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _utilisation(phase: Phase) -> Utilisation:
    return utilisation_rows(phase=phase, waiting_by_quota=waiting_counts(phase=phase))


def _series() -> list[Series]:
    return [
        Series("seated", _("Seated"), "#0b5d3b"),
        Series("free", _("Free"), "#b6c2cc"),
        Series("waiting", _("Waiting"), "#bf8700"),
    ]


def _bar(row: UtilisationRow, label: str) -> Bar:
    return Bar(
        label=label,
        values={"seated": row.seated, "free": max(row.free, 0), "waiting": row.waiting},
        note=_("%(seated)s of %(licenses)s") % {"seated": f"{row.seated:,}", "licenses": f"{row.licenses:,}"},
    )


@hec_staff_view
def staff_utilisation(request: HttpRequest, phase_slug: str) -> HttpResponse:
    phase = get_object_or_404(Phase, slug=phase_slug)
    utilisation = _utilisation(phase)
    pools_chart = universities_chart = None
    if utilisation.rows:
        description = _(
            "Stacked bars: seats taken, seats still free and nominations waiting, on one scale. "
            "The same numbers are in the table below."
        )
        pools_chart = bar_chart_svg(
            chart_id="chart-pools",
            title=_("Seats taken per pool in %(phase)s") % {"phase": phase.name},
            description=description,
            series=_series(),
            bars=[_bar(row, row.pool_label) for row in utilisation.pools],
        )
        universities_chart = bar_chart_svg(
            chart_id="chart-universities",
            title=_("Seats taken per university in %(phase)s") % {"phase": phase.name},
            description=description,
            series=_series(),
            bars=[_bar(row, row.code) for row in utilisation.rows],
        )
    return render(
        request,
        "registrations/staff_utilisation.html",
        {
            "phase": phase,
            "utilisation": utilisation,
            "pools_chart": pools_chart,
            "universities_chart": universities_chart,
        },
    )


@hec_staff_view
def staff_utilisation_export(request: HttpRequest, phase_slug: str, fmt: str) -> HttpResponse:
    if fmt not in EXPORT_TYPES:
        raise Http404
    phase = get_object_or_404(Phase, slug=phase_slug)
    dataset = UtilisationResource().export(_utilisation(phase).rows)
    writer = write_csv if fmt == "csv" else write_xlsx
    response = HttpResponse(writer(list(dataset), dataset.headers), content_type=EXPORT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="utilisation-{phase.slug}.{fmt}"'
    return response


@hec_staff_view
@require_http_methods(["GET", "POST"])
def staff_license_moves(request: HttpRequest, phase_slug: str) -> HttpResponse:
    phase = get_object_or_404(Phase, slug=phase_slug)
    form = LicenseMoveForm(request.POST if request.method == "POST" else None, phase=phase)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            move = licenses_move(
                phase=phase,
                from_university=data["from_university"],
                to_university=data["to_university"],
                licenses=data["licenses"],
                reason=data["reason"],
                actor=request.user,
            )
        except RegistrationError as error:
            messages.error(request, error.message)
            return redirect("registrations:staff_license_moves", phase_slug=phase.slug)
        messages.success(
            request,
            _("%(licenses)s licenses moved from %(source)s to %(target)s; its waiting list was promoted.")
            % {
                "licenses": move.licenses,
                "source": data["from_university"].code,
                "target": data["to_university"].code,
            },
        )
        return redirect("registrations:staff_license_moves", phase_slug=phase.slug)
    return render(
        request,
        "registrations/staff_license_moves.html",
        {"phase": phase, "form": form, "moves": license_moves_for_phase(phase=phase)},
        status=400 if form.errors else 200,
    )


@allocation_staff_view
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
            _published, promoted = allocation_publish_and_promote(allocation=allocation, actor=request.user)
        except RegistrationError as error:
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
        return redirect("quotas:allocation_list", phase_slug=phase.slug)
    return render(
        request,
        "registrations/staff_allocation_publish.html",
        {"phase": phase, "allocation": allocation, "form": form},
        status=400 if form.errors else 200,
    )
