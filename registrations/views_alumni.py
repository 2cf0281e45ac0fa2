"""Alumni register themselves in the open-merit pool after signing up (e-mail verified by allauth)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from quotas.selectors import phase_current

from .cnic import cnic_mask
from .exceptions import RegistrationError
from .forms import AlumniRegistrationForm, refusal_on_form
from .learner_page import learner_page_path
from .models import ACTIVE_STATUSES, Nomination, NominationStatus, Role
from .selectors import learner_standing, nominations_of_account
from .services import nomination_submit


def learner_home_url() -> str:
    """The learner's own page (fees' “my license” page)."""
    return learner_page_path()


@login_required
@require_http_methods(["GET", "POST"])
def alumni_register(request: HttpRequest) -> HttpResponse:
    email, runs_programme = learner_standing(user=request.user)
    if runs_programme or request.user.is_staff:
        messages.info(
            request,
            _(
                "HEC staff and focal person accounts cannot register as alumni. Sign up with your personal "
                "e-mail address instead."
            ),
        )
        return redirect("home")
    phase = phase_current()
    if phase is None:
        return render(request, "registrations/alumni_closed.html")
    if email is None:  # allauth lets nobody in unverified; an account whose address was removed since
        messages.error(request, _("Verify your e-mail address first, under Account."))
        return redirect("account_email")
    if request.method == "GET":
        # The person's own active nomination in the phase, by any address they have verified. (A
        # registration sent anyway is refused by nomination_submit, which checks the same.)
        existing = (
            nominations_of_account(user=request.user)
            .filter(phase=phase, status__in=ACTIVE_STATUSES)
            .select_related("phase")
            .order_by("pk")
            .first()
        )
        if existing is not None and existing.university_id is None:
            existing.cnic_masked = cnic_mask(existing.cnic)
            return render(request, "registrations/alumni_registered.html", {"nomination": existing, "phase": phase})
        if existing is not None:
            # Nominated by a university: one license per person per phase.
            messages.info(request, _("You are already nominated in this phase; here is your status."))
            return redirect(learner_home_url())

    form = AlumniRegistrationForm(
        request.POST or None, request.FILES or None, phase=phase, email=email, viewer=request.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            nomination = nomination_submit(
                phase=phase,
                university=None,
                data=form.nominee_data(),
                actor=request.user,
                transcript=form.cleaned_data["transcript"],
                disability_certificate=form.cleaned_data.get("disability_certificate") or None,
            )
        except RegistrationError as error:
            messages.error(request, error.message)
            refusal_on_form(form, error)
        else:
            if nomination.status == NominationStatus.SEATED:
                messages.success(
                    request,
                    _(
                        "You are registered and a seat is held for you until %(until)s. Pay the challan and "
                        "upload the paid copy before then."
                    )
                    % {"until": _held_until(nomination)},
                )
            else:
                messages.success(
                    request,
                    _(
                        "You are registered and on the waiting list: every alumni seat is taken. We will e-mail "
                        "you when one frees up."
                    ),
                )
            return redirect(learner_home_url())
    return render(
        request,
        "registrations/alumni_register.html",
        {"form": form, "phase": phase, "email": email},
        status=400 if form.errors else 200,
    )


def _held_until(nomination: Nomination) -> str:
    if nomination.hold_expires_at is None:
        return "—"
    return formats.date_format(timezone.localtime(nomination.hold_expires_at), "DATETIME_FORMAT")


@login_required
def my_status(request: HttpRequest) -> HttpResponse:
    """A learner's own nominations (students, faculty and alumni): status, seat, hold."""
    nominations = list(nominations_of_account(user=request.user).select_related("phase", "university").order_by("-id"))
    for nomination in nominations:
        nomination.cnic_masked = cnic_mask(nomination.cnic)
    return render(
        request,
        "registrations/my_status.html",
        {"nominations": nominations, "alumnus_role": Role.ALUMNUS, "can_register": not nominations},
    )
