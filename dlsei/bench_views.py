"""What bench/rush.py needs of the server: the framework's own ceiling (a logged-in POST that
inserts one row) and a count of the SQL statements each request costs.

Mounted only when the BENCH_ENDPOINTS setting is on (the benchmark's server), never in production.
"""

from django.contrib.auth.decorators import login_required
from django.db import connection
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


class StatementCountMiddleware:
    """Counts the SQL statements of each request, from the session's look-up to the last write,
    and says how many in the ``X-Bench-Statements`` header (savepoints left out: they are not
    work). The outermost middleware, so that nothing of the request escapes the count."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counted(execute, sql, params, many, context):
            nonlocal count
            if not sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
                count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            response = self.get_response(request)
        response["X-Bench-Statements"] = str(count)
        return response
