"""Pages of the fees app: the learner's own license page (challan, payment proof, deposit status),
the focal person's deposits, and the staff-only views of uploaded proofs and invoice PDFs.

Each view validates with a form, calls one service, and turns its refusal (a PortalError: the
FeeError of fees, or the RegistrationError it passes on) into a message and a redirect. Private
files are served only to the people allowed to see them.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import PortalError
from core.roles import user_is_hec_staff
from quotas.selectors import phase_current
from registrations.cnic import cnic_mask
from registrations.models import FocalPerson, Nomination, NominationStatus, SeatKind
from registrations.selectors import waiting_position
from registrations.views_files import private_file_response

from . import selectors
from .alumni_payments import alumni_payment_submit
from .challans import challan_current, challan_issue, challan_pdf
from .deposits import deposit_correct, deposit_current, deposit_refusal
from .deposits import deposit_record as deposit_record_service  # deposit_record is the page below
from .forms import AlumniPaymentForm, DepositCorrectionForm, DepositFilterForm, DepositForm, RefundAccountForm
from .invoices import invoice_pdf as invoice_pdf_service  # invoice_pdf is the page below
from .models import AlumniPayment, DisabilityWaiver, Invoice
from .refund_payouts import learner_refund
from .selectors_progress import learner_progress


def _pdf_response(data: bytes, *, filename: str, inline: bool = False) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


DEPOSITS_PER_PAGE = 50

# The learner's own page ---------------------------------------------------------------------


def _my_nomination(request: HttpRequest) -> Nomination | None:
    return selectors.nomination_of_learner(user=request.user, phase=phase_current())


def _my_license_page(request: HttpRequest, *, payment_form: AlumniPaymentForm | None = None, status: int = 200):
    phase = phase_current()
    nomination = selectors.nomination_of_learner(user=request.user, phase=phase)
    context: dict = {"nomination": nomination, "phase": phase}
    if nomination is not None:
        nomination.cnic_masked = cnic_mask(nomination.cnic)
        fees = selectors.learner_fees(nomination=nomination)
        context.update(
            fees=fees,
            refund=learner_refund(nomination=nomination),
            refund_form=RefundAccountForm(),
            payment_form=payment_form
            or AlumniPaymentForm(
                transcript_on_file=bool(nomination.transcript), challan_paid_by_bank=fees.bill_payment is not None
            ),
            # Shown at once, beside the challan to download: the steps above say "upload it below".
            can_upload=not selectors.alumni_payment_refusal(nomination=nomination, latest=fees.latest_payment),
            position=waiting_position(nomination=nomination),
            can_download_challan=selectors.challan_available(nomination=nomination, challan=fees.challan),
            progress=learner_progress(nomination=nomination, today=timezone.localdate()),
        )
    return render(request, "fees/my_license.html", context, status=status)


@never_cache
@login_required
@require_GET
def my_license(request: HttpRequest) -> HttpResponse:
    return _my_license_page(request)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def challan_download(request: HttpRequest) -> HttpResponse:
    """The alumnus's challan PDF. The first one is issued by a POST (the page's button: it takes a
    number and a consumer number); after that a GET gives the same stored file every time."""
    nomination = _my_nomination(request)
    if nomination is None:
        raise Http404
    try:
        if request.method == "POST":
            challan = challan_issue(nomination=nomination, actor=request.user)
        else:
            challan = challan_current(nomination=nomination)
            if challan is None:
                return redirect("fees:my_license")
        data = challan_pdf(challan=challan)
    except PortalError as error:
        messages.error(request, error.message)
        return redirect("fees:my_license")
    return _pdf_response(data, filename=f"{challan.number}.pdf")


@never_cache
@login_required
@require_POST
def payment_submit(request: HttpRequest) -> HttpResponse:
    nomination = _my_nomination(request)
    if nomination is None:
        raise Http404
    paid_by_bank = selectors.learner_fees(nomination=nomination).bill_payment is not None
    form = AlumniPaymentForm(
        request.POST, request.FILES, transcript_on_file=bool(nomination.transcript), challan_paid_by_bank=paid_by_bank
    )
    if not form.is_valid():
        messages.error(request, _("The files were not accepted; see the messages beside each one."))
        return _my_license_page(request, payment_form=form, status=400)
    try:
        alumni_payment_submit(
            nomination=nomination,
            paid_challan=form.cleaned_data.get("paid_challan"),
            transcript=form.transcript_file,
            actor=request.user,
        )
    except PortalError as error:
        messages.error(request, error.message)
        return redirect("fees:my_license")
    if paid_by_bank:
        messages.success(
            request, _("Thank you. HEC will check your transcript; you will get an e-mail when they have.")
        )
    else:
        messages.success(
            request,
            _("Thank you. HEC will check your paid challan and transcript; you will get an e-mail when they have."),
        )
    return redirect("fees:my_license")


# The focal person's deposits ----------------------------------------------------------------


def _focal(request: HttpRequest) -> FocalPerson:
    focal = FocalPerson.objects.select_related("university").filter(user=request.user).first()
    if focal is None:
        raise Http404
    return focal


@never_cache
@login_required
@require_GET
def deposits(request: HttpRequest) -> HttpResponse:
    """The focal person's seated and waiting public nominees, each with its deposit status, a page
    of them at a time (a university may have hundreds), filtered as the focal person asks."""
    focal = _focal(request)
    phase = phase_current()
    form = DepositFilterForm(request.GET or None)
    page = None
    if phase is not None:
        data = form.cleaned_data if form.is_valid() else {}
        nominees = selectors.deposit_nominees(
            phase=phase, university=focal.university, search=data.get("q", ""), deposit=data.get("deposit", "")
        )
        page = Paginator(nominees, DEPOSITS_PER_PAGE).get_page(request.GET.get("page"))
        for n in selectors.with_masked_cnic(page.object_list):
            n.deposit = n.current_deposits[0] if n.current_deposits else None
            n.waiver = getattr(n, "disability_waiver", None)
            if n.waiver is None and n.status == NominationStatus.SEATED and n.seat_kind == SeatKind.DISABILITY:
                # Shown as waiting for HEC's check, never saved: the row is written when HEC decides.
                n.waiver = DisabilityWaiver(nomination=n)
            n.deposit_refusal = deposit_refusal(nomination=n)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "fees/deposits.html",
        {
            "focal": focal,
            "phase": phase,
            "form": form,
            "page": page,
            "nominees": page.object_list if page is not None else [],
            "filtered": bool(request.GET.get("q") or request.GET.get("deposit")),
            "query": query.urlencode(),
            "deposit_amount": phase.public_deposit_rupees if phase else 0,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def deposit_record(request: HttpRequest, nomination_id: int) -> HttpResponse:
    """Record one nominee's deposit, or correct the recorded one (with a reason)."""
    focal = _focal(request)
    nomination = get_object_or_404(Nomination, pk=nomination_id, university_id=focal.university_id)
    nomination.cnic_masked = cnic_mask(nomination.cnic)
    current = deposit_current(nomination=nomination)
    form_class = DepositCorrectionForm if current is not None else DepositForm
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if current is None:
                deposit_record_service(
                    nomination=nomination, receipt=data["receipt"], paid_on=data["paid_on"], actor=request.user
                )
                messages.success(request, _("The deposit of %(name)s is recorded.") % {"name": nomination.full_name})
            else:
                deposit_correct(
                    deposit=current,
                    receipt=data["receipt"],
                    paid_on=data["paid_on"],
                    reason=data["reason"],
                    actor=request.user,
                )
                messages.success(
                    request, _("The deposit record of %(name)s is corrected.") % {"name": nomination.full_name}
                )
        except PortalError as error:
            messages.error(request, error.message)
            return redirect("fees:deposit_record", nomination_id=nomination.pk)
        return redirect("fees:deposits")
    return render(
        request,
        "fees/deposit_record.html",
        {
            "nomination": nomination,
            "current": current,
            "form": form,
            "refusal": deposit_refusal(nomination=nomination),
            "amount": nomination.phase.public_deposit_rupees,
        },
        status=400 if form.errors else 200,
    )


# Staff-only files ---------------------------------------------------------------------------


def _staff_only(request: HttpRequest) -> None:
    if not user_is_hec_staff(request.user):
        raise Http404


@never_cache
@login_required
@require_GET
def payment_file(request: HttpRequest, payment_id: int, kind: str) -> HttpResponse:
    """A paid challan or transcript, downloaded by HEC staff beside the payment record."""
    _staff_only(request)
    if kind not in ("paid_challan", "transcript"):
        raise Http404
    payment = get_object_or_404(AlumniPayment, pk=payment_id)
    # Named with the extension of what it is (sniffed), sandboxed, never cached.
    return private_file_response(getattr(payment, kind), stem=f"{kind}-{payment.pk}")


@never_cache
@login_required
@require_GET
def waiver_file(request: HttpRequest, waiver_id: int) -> HttpResponse:
    """The disability certificate a waiver is decided on, for HEC staff."""
    _staff_only(request)
    waiver = get_object_or_404(DisabilityWaiver, pk=waiver_id)
    return private_file_response(waiver.certificate, stem=f"certificate-{waiver.pk}")


@never_cache
@login_required
@require_GET
def invoice_pdf(request: HttpRequest, invoice_id: int) -> HttpResponse:
    _staff_only(request)
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    try:
        data = invoice_pdf_service(invoice=invoice)
    except PortalError as error:
        messages.error(request, error.message)
        return redirect("admin:fees_invoice_change", invoice.pk)
    return _pdf_response(data, filename=f"{invoice.number}.pdf", inline=True)
