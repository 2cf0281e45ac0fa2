"""Completions for academic credit: the page (counts, a preview, the downloads) and the CSV/XLSX
files. A focal person gets their own university's; HEC staff any university's, or all."""

from django.contrib.auth.views import redirect_to_login
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from quotas.models import University
from quotas.selectors import phases_all

from .credit_export import FORMATS, credit_completions, credit_export, credit_rows
from .views_impact import outcomes_scope

PREVIEW_ROWS = 50


@never_cache
@require_GET
def credit_export_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    phase, university, is_staff = outcomes_scope(request)
    context = {"phase": phase, "university": university, "is_staff": is_staff, "formats": FORMATS}
    if phase is not None:
        completions = credit_completions(phase=phase, university=university)
        context.update(
            count=completions.count(),
            learners=completions.values("nomination").distinct().count(),
            preview=credit_rows(phase=phase, university=university, limit=PREVIEW_ROWS),
            preview_rows=PREVIEW_ROWS,
        )
    if is_staff:
        context["phases"] = list(phases_all())
        context["all_universities"] = list(University.objects.order_by(Lower("name")).values_list("code", "name"))
    return render(request, "fees/credit_export.html", context)


@never_cache
@require_GET
def credit_export_download(request: HttpRequest, fmt: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    phase, university, _is_staff = outcomes_scope(request)
    if phase is None or fmt not in FORMATS:
        raise Http404
    filename, content_type, content = credit_export(phase=phase, fmt=fmt, university=university)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
