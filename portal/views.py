"""Project-wide pages: the home page and friendly error pages."""

import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from core.middleware import DATABASE_UNAVAILABLE, database_unavailable
from core.roles import user_is_hec_staff
from registrations.models import FocalPerson
from registrations.selectors import nominations_of_account


def _home_for(user) -> str | None:
    """Where a signed-in person starts: their own page (focal person, HEC staff, learner, alumnus)."""
    if FocalPerson.objects.filter(user=user).exists():
        return reverse("registrations:focal_dashboard")
    if user.is_staff:
        # HEC staff start from the phase at a glance; other staff accounts (IT) from the admin.
        return reverse("dashboard") if user_is_hec_staff(user) else reverse("admin:index")
    if nominations_of_account(user=user).exists():
        return reverse("fees:my_license")
    return reverse("registrations:alumni_register")


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and (target := _home_for(request.user)):
        return redirect(target)
    return render(request, "home.html")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its `except`: a database that dropped out under a middleware,
    # before any view ran, gets the same 503 as one that dropped out in a view.
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_UNAVAILABLE):
        return database_unavailable(request, error)
    return render(request, "errors/500.html", status=500)
