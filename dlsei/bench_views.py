"""The framework's own ceiling for bench/rush.py: a logged-in POST that inserts one row.

Mounted only when the BENCH_ENDPOINTS setting is on (the benchmark's server), never in production.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from audit.models import AuditEntry


@require_POST
@login_required
def ceiling(request: HttpRequest) -> HttpResponse:
    AuditEntry.objects.create(
        actor=request.user, action="bench.ceiling", target_type="bench", target_id="", summary="ceiling"
    )
    return HttpResponse("ok", content_type="text/plain")
