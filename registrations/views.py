"""Views of this app that are not the focal person's or the alumni's: the one-time welcome link."""

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .exceptions import RegistrationError
from .focal_accounts import focal_password_set, focal_welcome_user
from .forms import WelcomePasswordForm


@never_cache
@require_http_methods(["GET", "POST"])
def welcome(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """A focal person chooses a password through the link HEC's e-mail sent them (works once)."""
    user = focal_welcome_user(uidb64=uidb64, token=token)
    if user is None:
        return render(request, "registrations/welcome_invalid.html", status=404)
    form = WelcomePasswordForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            focal_password_set(user=user, token=token, password=form.cleaned_data["new_password1"])
        except RegistrationError as error:
            messages.error(request, error.message)
            return redirect("account_login")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Your password is set and you are signed in. Welcome to the DLSEI portal."))
        return redirect("registrations:focal_dashboard")
    return render(
        request,
        "registrations/welcome.html",
        {"form": form, "welcome_user": user, "university": user.focal_person.university},
        status=400 if form.errors else 200,
    )
