"""The focal person's pages: quota at a glance, disclaimer, the nominations file's template, one
nominee, the list. Uploading and confirming a nominations file is portal's
(`portal.views_nominations_file`): confirming also records the file's deposits, which are fees'.

Every page is scoped to the signed-in focal person's own university: another university's rows
are simply not found (404). Until the university's signed disclaimer for the current phase is on
file, every page but the disclaimer upload sends the focal person there, saying why.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.roles import user_is_hec_staff
from quotas.models import Phase, Pool, Quota
from quotas.selectors import phase_current

from .cnic import cnic_mask
from .disclaimers import disclaimer_form_pdf
from .exceptions import RegistrationError
from .forms import (
    CertificateForm,
    DisclaimerForm,
    NomineeCorrectForm,
    NomineeFilterForm,
    NomineeForm,
    NomineeWithdrawForm,
    refusal_on_form,
)
from .imports import (
    nominations_template_csv,
    nominations_template_xlsx,
)
from .models import ACTIVE_STATUSES, Disclaimer, FocalPerson, Nomination, NominationStatus, Role
from .selectors import nominations_of_university, waiting_position
from .services import (
    disclaimer_upload,
    nomination_certificate_attach,
    nomination_correct,
    nomination_submit,
    nomination_withdraw,
)

NOMINEES_PER_PAGE = 50
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def focal_view(*, needs_disclaimer: bool = True) -> Callable:
    """Decorate a view ``view(request, focal, phase, ...)`` of a signed-in focal person."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            phase = phase_current()
            focals = FocalPerson.objects.select_related("university").filter(user=request.user)
            if phase is not None:  # whether the disclaimer is on file comes with the focal person's row
                focals = focals.annotate(
                    has_disclaimer=Exists(Disclaimer.objects.filter(phase=phase, university=OuterRef("university")))
                )
            focal = focals.first()
            if focal is None:
                # Not found, as for anyone not its focal person, but saying where to go instead.
                context = {"staff": user_is_hec_staff(request.user), "phase": phase}
                return render(request, "registrations/focal_only.html", context, status=404)
            request.user.focal_person = focal  # the services ask the user for it again
            if phase is None:
                return render(request, "registrations/focal_no_phase.html", {"focal": focal})
            if needs_disclaimer and not focal.has_disclaimer:
                messages.info(
                    request,
                    _(
                        "Please upload your university's signed disclaimer form first. HEC accepts nominations "
                        "from a university only once its signed form is on file."
                    ),
                )
                return redirect("registrations:focal_disclaimer")
            return view(request, focal, phase, *args, **kwargs)

        return login_required(wrapper)

    return decorate


def _quota(*, phase: Phase, focal: FocalPerson) -> Quota | None:
    return Quota.objects.filter(phase=phase, university=focal.university).first()


@focal_view()
def focal_dashboard(request: HttpRequest, focal: FocalPerson, phase: Phase) -> HttpResponse:
    quota = _quota(phase=phase, focal=focal)
    summary = None
    if quota is not None:
        waiting = Nomination.objects.filter(quota=quota, status=NominationStatus.WAITING).count()
        seated_pct = round(100 * quota.seated / quota.licenses) if quota.licenses else 0
        summary = {
            "licenses": quota.licenses,
            "seated": quota.seated,
            "waiting": waiting,
            "free": quota.free,
            "free_general": quota.licenses - quota.disability_reserved - quota.general_seated,
            "free_reserved": quota.disability_reserved - quota.disability_seated,
            "disability_reserved": quota.disability_reserved,
            "disability_seated": quota.disability_seated,
            "seated_pct": min(seated_pct, 100),
        }
    disclaimer = Disclaimer.objects.filter(phase=phase, university=focal.university).first()
    return render(
        request,
        "registrations/focal_dashboard.html",
        {"focal": focal, "phase": phase, "summary": summary, "disclaimer": disclaimer},
    )


@require_http_methods(["GET", "POST"])
@focal_view(needs_disclaimer=False)
def focal_disclaimer(request: HttpRequest, focal: FocalPerson, phase: Phase) -> HttpResponse:
    current = Disclaimer.objects.filter(phase=phase, university=focal.university).first()
    form = DisclaimerForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            disclaimer_upload(
                phase=phase, university=focal.university, file=form.cleaned_data["file"], actor=request.user
            )
        except RegistrationError as error:
            messages.error(request, error.message)
            return redirect("registrations:focal_disclaimer")
        messages.success(request, _("Thank you: the signed disclaimer form is on file. You can now nominate."))
        return redirect("registrations:focal_dashboard")
    return render(
        request,
        "registrations/focal_disclaimer.html",
        {"focal": focal, "phase": phase, "form": form, "current": current},
    )


@focal_view(needs_disclaimer=False)
def focal_disclaimer_form(request: HttpRequest, focal: FocalPerson, phase: Phase) -> HttpResponse:
    """The blank disclaimer form, the university's name filled in, to print, sign and upload."""
    response = HttpResponse(
        disclaimer_form_pdf(phase=phase, university=focal.university), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="dlsei-disclaimer-{focal.university.code.lower()}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@focal_view()
def focal_template(request: HttpRequest, focal: FocalPerson, phase: Phase, fmt: str) -> HttpResponse:
    if fmt == "csv":
        response = HttpResponse(nominations_template_csv(), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(nominations_template_xlsx(), content_type=XLSX_TYPE)
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="dlsei-nominations-template.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
@focal_view()
def focal_nominee_add(request: HttpRequest, focal: FocalPerson, phase: Phase) -> HttpResponse:
    form = NomineeForm(
        request.POST or None, request.FILES or None, phase=phase, university=focal.university, viewer=request.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            nomination = nomination_submit(
                phase=phase,
                university=focal.university,
                data=form.nominee_data(),
                actor=request.user,
                disability_certificate=form.cleaned_data.get("disability_certificate") or None,
            )
        except RegistrationError as error:
            # Shown on the form itself, which keeps what was typed.
            messages.error(request, error.message)
            refusal_on_form(form, error)
        else:
            if nomination.disability and nomination.role == Role.FACULTY:
                text = _(
                    "%(name)s is nominated on a general seat: the seats reserved for disability are for students, "
                    "so a faculty member pays the deposit like everyone on a general seat."
                )
            elif nomination.status == NominationStatus.SEATED:
                text = _("%(name)s is nominated and has a seat.")
            else:
                text = _("%(name)s is nominated and is on the waiting list: every seat of your quota is taken.")
            messages.success(request, text % {"name": nomination.full_name})
            return redirect("registrations:focal_nominees")
    return render(
        request,
        "registrations/focal_nominee_add.html",
        {"focal": focal, "phase": phase, "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@focal_view()
def focal_nominee_withdraw(request: HttpRequest, focal: FocalPerson, phase: Phase, pk: int) -> HttpResponse:
    nomination = get_object_or_404(Nomination, pk=pk, university=focal.university)
    form = NomineeWithdrawForm(request.POST or None)
    if nomination.status not in (NominationStatus.SEATED, NominationStatus.WAITING):
        messages.error(
            request,
            _("%(name)s cannot be withdrawn: the nomination is already %(status)s.")
            % {"name": nomination.full_name, "status": nomination.get_status_display().lower()},
        )
        return redirect("registrations:focal_nominees")
    if request.method == "POST" and form.is_valid():
        try:
            nomination_withdraw(nomination=nomination, actor=request.user, reason=form.cleaned_data["reason"])
        except RegistrationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The nomination of %(name)s is withdrawn.") % {"name": nomination.full_name})
        return redirect("registrations:focal_nominees")
    return render(
        request,
        "registrations/focal_nominee_withdraw.html",
        {
            "focal": focal,
            "phase": phase,
            "nomination": nomination,
            "cnic_masked": cnic_mask(nomination.cnic),
            "form": form,
        },
        status=400 if form.errors else 200,
    )


def _nominees_filtered(*, phase: Phase, focal: FocalPerson, form: NomineeFilterForm) -> QuerySet[Nomination]:
    data = form.cleaned_data if form.is_valid() else {}
    return nominations_of_university(
        phase=phase,
        university=focal.university,
        status=data.get("status", ""),
        role=data.get("role", ""),
        search=data.get("q", ""),
    ).only(
        "id", "full_name", "cnic", "email", "role", "status", "seat_kind", "disability", "created_at", "status_reason"
    )


@focal_view()
def focal_nominees(request: HttpRequest, focal: FocalPerson, phase: Phase) -> HttpResponse:
    form = NomineeFilterForm(request.GET or None)
    paginator = Paginator(_nominees_filtered(phase=phase, focal=focal, form=form), NOMINEES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    for nomination in page.object_list:
        nomination.cnic_masked = cnic_mask(nomination.cnic)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "registrations/focal_nominees.html",
        {
            "focal": focal,
            "phase": phase,
            "form": form,
            "page": page,
            "nominations": page.object_list,
            "query": query.urlencode(),
        },
    )


@require_http_methods(["GET", "POST"])
@focal_view()
def focal_nominee(request: HttpRequest, focal: FocalPerson, phase: Phase, pk: int) -> HttpResponse:
    """One nominee of the focal person's university: every detail (the CNIC in full, as they typed
    it), the seat or place in the waiting list, correcting name, e-mail and phone until the
    invitation is sent, the disability certificate, and the way to withdraw."""
    nomination = get_object_or_404(
        Nomination.objects.select_related("phase", "university"), pk=pk, university=focal.university
    )
    action = request.POST.get("action") if request.method == "POST" else None
    correct_form = NomineeCorrectForm(
        request.POST if action == "correct" else None,
        initial={"full_name": nomination.full_name, "email": nomination.email, "phone": nomination.phone},
    )
    certificate_form = CertificateForm(request.POST if action == "certificate" else None, request.FILES or None)
    form = {"correct": correct_form, "certificate": certificate_form}.get(action)
    if form is not None and form.is_valid():
        try:
            if action == "correct":
                nomination_correct(nomination=nomination, actor=request.user, **form.cleaned_data)
                messages.success(request, _("The details of %(name)s are saved.") % {"name": nomination.full_name})
            else:
                nomination_certificate_attach(
                    nomination=nomination, file=form.cleaned_data["certificate"], actor=request.user
                )
                messages.success(
                    request,
                    _("The certificate of %(name)s is on file; HEC checks it.") % {"name": nomination.full_name},
                )
        except RegistrationError as error:
            messages.error(request, error.message)
            refusal_on_form(form, error)
        else:
            return redirect("registrations:focal_nominee", pk=nomination.pk)
    return render(
        request,
        "registrations/focal_nominee.html",
        {
            "focal": focal,
            "phase": phase,
            "nomination": nomination,
            "position": waiting_position(nomination=nomination),
            "can_correct": nomination.status in ACTIVE_STATUSES and nomination.cleared_at is None,
            "correct_form": correct_form,
            "certificate_form": certificate_form,
            "may_attach_certificate": nomination.status in ACTIVE_STATUSES
            and nomination.role == Role.STUDENT
            and nomination.pool == Pool.PUBLIC
            and not nomination.disability_certificate,
        },
        status=400 if form is not None and form.errors else 200,
    )
