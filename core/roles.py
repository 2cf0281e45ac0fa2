"""Who HEC staff are, checked in one place: the staff pages of every app and the services that
let staff do more than others ask the same question here.

HEC staff are staff accounts in the HEC staff group (or superusers). The groups and their
permissions are created by registrations.roles.roles_ensure.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

HEC_STAFF = "HEC staff"


def user_is_hec_staff(user) -> bool:
    return bool(
        user.is_authenticated and (user.is_superuser or (user.is_staff and user.groups.filter(name=HEC_STAFF).exists()))
    )


def hec_staff_view(view: Callable) -> Callable:
    """Only HEC staff: anonymous visitors are sent to sign in, everyone else gets a 403 page.
    Never cached: the pages show figures that change with every decision."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user_is_hec_staff(request.user):
            return render(request, "core/staff_forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return never_cache(wrapper)
