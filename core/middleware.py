"""A database that cannot be reached (restarting, out of connections, a dropped connection) is
answered with a 503 page that says so and asks for a retry, not with the 500 page: the request
did nothing half-way (every write is one transaction, which PostgreSQL rolls back when the
connection goes), and the next request in the same process gets a fresh connection
(CONN_HEALTH_CHECKS), so nobody has to restart the portal.

The middleware catches what a view raises; `portal.views.server_error` sends here what a
middleware raises before the view (the session, the signed-in user).
"""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from .uploads import human_size

logger = logging.getLogger("dlsei.database")

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 60


def database_unavailable(request: HttpRequest, error: BaseException) -> HttpResponse:
    """The 503 page. Rendered without the request: the context processors would ask the very
    database that is not answering."""
    logger.warning("Database unavailable, 503 for %s %s: %s", request.method, request.path, error)
    response = HttpResponse(render_to_string("errors/503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_UNAVAILABLE):
            return database_unavailable(request, exception)
        return None


# --- Request bodies and downloads -----------------------------------------------------------------


def allows_body_up_to(max_bytes: int):
    """Let one view take a larger request body than REQUEST_BODY_MAX_BYTES (a completion report)."""

    def decorate(view):
        view.max_body_bytes = max_bytes
        return view

    return decorate


class RequestBodyLimitMiddleware:
    """A request body larger than its view takes is refused with 413 before anything reads it
    (the CSRF check, a form), and no CSV or XLSX download is kept by a browser or a proxy cache.

    Placed before the CSRF middleware: that one reads the body to find the token."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if content_type.startswith(("text/csv", "application/vnd.openxmlformats-officedocument")):
            response["Cache-Control"] = "private, no-store"
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        limit = getattr(view_func, "max_body_bytes", settings.REQUEST_BODY_MAX_BYTES)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= limit:
            return None
        return render(
            request,
            "errors/413.html",
            {"size": human_size(length, round_up=True), "limit": human_size(limit)},
            status=413,
        )
