"""What the licenses achieved: the impact page (HEC staff: the programme, or one university; a
focal person: their own university) and its PDF snapshot laid out like a case-study page.

The numbers come from ``fees.impact.impact_report_build``, the same as ``manage.py
impact_report``; this module only arranges them into server-drawn SVG charts, each with its
numbers in a table beside it. Works without JavaScript: the phase and the university are
picked with a plain GET form.
"""

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.charts import Bar, Column, Series, bar_chart_svg, column_chart_svg, count_text, isolate
from core.roles import user_is_hec_staff
from quotas.models import Phase, University
from quotas.selectors import phase_current, phases_all
from registrations.roles import user_is_focal_person

from .impact import GroupImpact, ImpactReport, impact_report_build

TOP_UNIVERSITIES = 12
COMPLETED, JOINED, NOT_JOINED = "#0b5d3b", "#0969da", "#b6c2cc"
COURSES_COLOUR = "#0550ae"


class ImpactScopeForm(forms.Form):
    phase = forms.SlugField(required=False, max_length=50)
    university = forms.CharField(required=False, max_length=20)


def outcomes_scope(request: HttpRequest) -> tuple[Phase | None, University | None, bool]:
    """(the phase asked for or the current one, the university the report is limited to, is staff).

    HEC staff may ask for any university (``?university=CODE``); a focal person always gets
    their own, whatever they ask for; anybody else gets Http404."""
    if user_is_hec_staff(request.user):
        is_staff, university = True, None
    elif user_is_focal_person(request.user):
        is_staff, university = False, request.user.focal_person.university
    else:
        raise Http404
    form = ImpactScopeForm(request.GET)
    if not form.is_valid():
        raise Http404
    slug, code = form.cleaned_data["phase"], form.cleaned_data["university"].strip()
    phase = Phase.objects.filter(slug=slug).first() if slug else phase_current()
    if slug and phase is None:
        raise Http404
    if is_staff and code:
        university = University.objects.filter(code__iexact=code).first()
        if university is None:
            raise Http404
    return phase, university, is_staff


# Charts ---------------------------------------------------------------------------------------------


def _series(report: ImpactReport) -> list[Series]:
    return [
        Series("completed", _("Completed %(n)s+ courses") % {"n": report.courses_needed}, COMPLETED),
        Series("joined", _("Joined"), JOINED),
        Series("not_joined", _("Not joined"), NOT_JOINED),
    ]


def _bar(row: GroupImpact, label: str) -> Bar:
    return Bar(
        label=label,
        values={"completed": row.completed_three, "joined": row.joined_only, "not_joined": row.not_joined},
        note=isolate(
            _("%(joined)s of %(invited)s joined")
            % {"joined": count_text(row.joined), "invited": count_text(row.invited)}
        ),
    )


def _group_chart(*, chart_id: str, title: str, report: ImpactReport, rows: list[GroupImpact], label) -> str:
    return bar_chart_svg(
        chart_id=chart_id,
        title=title,
        description=_(
            "Stacked bars, one per group, on one scale: learners who completed the courses a refund needs, "
            "learners who joined with fewer courses so far, and learners invited who have not joined. "
            "The same numbers are in the table below."
        ),
        series=_series(report),
        bars=[_bar(row, label(row)) for row in rows],
    )


def impact_charts(report: ImpactReport, *, universities: list[GroupImpact], chart_prefix: str = "impact") -> dict:
    """The report's charts as inline SVG, for the page and the PDF alike."""
    phase = report.phase.name
    charts: dict = {}
    if len(report.pools) > 1 and report.university is None:
        charts["pools"] = _group_chart(
            chart_id=f"{chart_prefix}-pools",
            title=_("Learners per pool in %(phase)s") % {"phase": phase},
            report=report,
            rows=report.pools,
            label=lambda row: row.name,
        )
    if len(universities) > 1:
        charts["universities"] = _group_chart(
            chart_id=f"{chart_prefix}-universities",
            title=_("Learners per university in %(phase)s") % {"phase": phase},
            report=report,
            rows=universities,
            label=lambda row: row.key,
        )
    if report.months:
        charts["months"] = column_chart_svg(
            chart_id=f"{chart_prefix}-months",
            title=_("Courses completed per month in %(phase)s") % {"phase": phase},
            description=_(
                "One column per month, from the first completion to the last. The same numbers are in the table below."
            ),
            columns=[
                Column(
                    isolate(date_format(month.month, "M Y")),
                    month.completions,
                    f"{date_format(month.month, 'YEAR_MONTH_FORMAT')}: {count_text(month.completions)}",
                )
                for month in report.months
            ],
            colour=COURSES_COLOUR,
        )
    if report.top_courses:
        charts["courses"] = bar_chart_svg(
            chart_id=f"{chart_prefix}-courses",
            title=_("The courses completed most in %(phase)s") % {"phase": phase},
            description=_(
                "One bar per course: how many learners completed it. The same numbers are in the table below."
            ),
            series=[Series("completions", _("Learners who completed it"), COURSES_COLOUR)],
            bars=[
                Bar(label=row.course, values={"completions": row.completions}, note=count_text(row.completions))
                for row in report.top_courses
            ],
        )
    return charts


def _context(report: ImpactReport, *, is_staff: bool) -> dict:
    universities = report.universities_by_courses()
    charted = sorted(report.universities, key=lambda row: (-row.invited, row.key))[:TOP_UNIVERSITIES]
    return {
        "report": report,
        "phase": report.phase,
        "university": report.university,
        "is_staff": is_staff,
        "universities": universities,
        "universities_charted": charted,
        "universities_hidden": len(report.universities) - len(charted),
        "charts": impact_charts(report, universities=charted),
        "months_total": sum(month.completions for month in report.months),
    }


# Pages ----------------------------------------------------------------------------------------------


@never_cache
@require_GET
def impact(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    phase, university, is_staff = outcomes_scope(request)
    if phase is None:
        return render(request, "fees/impact.html", {"phase": None, "is_staff": is_staff, "university": university})
    report = impact_report_build(phase=phase, university=university)
    context = _context(report, is_staff=is_staff)
    if is_staff:
        context["phases"] = list(phases_all())
        context["all_universities"] = list(University.objects.order_by("code").values_list("code", "name"))
    return render(request, "fees/impact.html", context)


def impact_pdf_render(report: ImpactReport, *, printed_at: dt.datetime | None = None) -> bytes:
    """The report as one A4 page laid out like a case study: the headline figures, the top
    universities and courses, a chart, and the date of the data. Drawn by WeasyPrint."""
    # Imported here: WeasyPrint loads Pango and its fonts on import, and only drawing a PDF needs them.
    from weasyprint import HTML

    with translation.override("en"):  # like every PDF of the portal: one document for every reader
        context = _context(report, is_staff=False)
        context["top_universities"] = context["universities"][:10]
        context["printed_at"] = timezone.localtime(printed_at or timezone.now())
        html = render_to_string("fees/pdf/impact.html", context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


@never_cache
@require_GET
def impact_pdf(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    phase, university, _is_staff = outcomes_scope(request)
    if phase is None:
        raise Http404
    report = impact_report_build(phase=phase, university=university)
    scope = f"-{university.code}" if university is not None else ""
    response = HttpResponse(impact_pdf_render(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="dlsei-impact-{phase.slug}{scope}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
