"""HEC staff pages that need people counts: the utilisation of the quotas, with waiting lists.

They live here, not in quotas, because quotas knows no people: the waiting counts come from
registrations. Moving licenses and publishing an allocation are in fees (fees.views_allocation),
since they may bill a private university's new licenses.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.charts import Bar, Series, bar_chart_svg
from core.roles import hec_staff_view
from core.tabular import write_csv, write_xlsx
from quotas.models import Phase
from quotas.resources import UtilisationResource
from quotas.selectors import Utilisation, UtilisationRow, utilisation_rows

from .selectors import waiting_counts
from .services import disability_reserves_release

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_TYPE}


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
@require_POST
def staff_reserve_release(request: HttpRequest, phase_slug: str) -> HttpResponse:
    """HEC staff release the phase's unused disability seats to the general seats (recorded)."""
    phase = get_object_or_404(Phase, slug=phase_slug)
    released = disability_reserves_release(phase=phase, actor=request.user)
    if released:
        messages.success(
            request,
            ngettext(
                "%(count)s unused seat reserved for disability went to the general seats; the waiting lists "
                "took it at once.",
                "%(count)s unused seats reserved for disability went to the general seats; the waiting lists "
                "took them at once.",
                released,
            )
            % {"count": released},
        )
    else:
        messages.info(request, _("No seat reserved for disability is unused: nothing was released."))
    return redirect("registrations:staff_utilisation", phase_slug=phase.slug)
