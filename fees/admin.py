"""HEC staff's side of the fees: verify alumni payments with the uploads beside the record, check
disability certificates, mark private invoices paid. Nothing financial can be deleted or edited
by hand here: every change goes through a fees service (with its audit entry), and the records
(challans, deposits) are read-only.
"""

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from import_export.admin import ExportMixin

from core.admin_actions import ReadOnlyAdmin, run_each
from core.exceptions import PortalError
from core.uploads import sniff
from registrations.cnic import cnic_mask
from registrations.models import NominationStatus, SeatKind

from .alumni_payments import alumni_payment_reject, alumni_payment_verify
from .forms import MarkPaidForm, RejectionForm
from .invoices import invoice_mark_paid
from .models import (
    AlumniPayment,
    BillPayment,
    Challan,
    Deposit,
    DisabilitySeat,
    DisabilityWaiver,
    Invoice,
    InvoiceChannel,
    OneBillLog,
    PaymentStatus,
    Remittance,
)
from .waivers import disability_seat_decide, waiver_decide


class RecordAdmin(admin.ModelAdmin):
    """Read-only: rows change only through the fees services; nothing is deleted."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [f.name for f in self.model._meta.fields] + list(self.readonly_fields)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra_context)


def _ask(modeladmin, request: HttpRequest, queryset: QuerySet, *, form_class, title: str, action: str, intro: str):
    """Show the intermediate page of an action that needs a reason/reference; the form when it is valid."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        return form
    return TemplateResponse(
        request,
        "fees/admin/action_form.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "form": form,
            "objects": queryset,
            "action": action,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


def _file_cell(url: str, field) -> str:
    if not field:
        return "—"
    with field.open("rb") as handle:
        head = handle.read(16)
    kind = sniff(head)
    link = format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("Open the file"))
    if kind in ("png", "jpeg"):
        return format_html(
            '{}<br><img src="{}" alt="{}" style="max-width:36rem;max-height:40rem;border:1px solid #ccc">',
            link,
            url,
            _("The uploaded image"),
        )
    return link


@admin.register(Challan)
class ChallanAdmin(RecordAdmin):
    list_display = ("number", "consumer_number", "payer_name", "amount", "due_date", "issued_at", "cancelled_at")
    search_fields = ("number", "consumer_number", "payer_name", "nomination__email")
    list_filter = ("nomination__phase",)
    list_select_related = ("nomination",)
    readonly_fields = ("payer_cnic_masked",)
    # The full number is printed on the challan itself; nobody reading the record needs it.
    exclude = ("payer_cnic",)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [name for name in super().get_readonly_fields(request, obj) if name != "payer_cnic"]

    @admin.display(description=gettext_lazy("Payer's CNIC"))
    def payer_cnic_masked(self, challan: Challan) -> str:
        return cnic_mask(challan.payer_cnic)


@admin.register(AlumniPayment)
class AlumniPaymentAdmin(RecordAdmin):
    """HEC staff's payments queue: it opens on what waits for review, oldest first; the change page
    shows the challan (paid or not, and how), the degree, the uploads, and Verify / Reject buttons
    that call the same services as the bulk actions."""

    list_display = ("nomination_name", "challan", "paid_how", "status", "submitted_at", "reviewed_by", "reviewed_at")
    list_filter = ("status", "nomination__phase")
    search_fields = ("challan__number", "challan__consumer_number", "nomination__full_name", "nomination__email")
    list_select_related = ("nomination", "challan", "challan__bill_payment", "reviewed_by")
    ordering = ("submitted_at", "id")
    change_form_template = "admin/fees/alumnipayment/change_form.html"
    readonly_fields = ("paid_challan_file", "transcript_file", "amount_due", "consumer_number", "paid_how", "degree")
    fields = (
        "nomination",
        "degree",
        "challan",
        "consumer_number",
        "amount_due",
        "paid_how",
        "status",
        "reason",
        "paid_challan_file",
        "transcript_file",
        "submitted_by",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
    )
    actions = ["verify", "reject"]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # Opened from the menu with no filter: what waits for HEC, oldest first.
        if request.method == "GET" and not request.GET:
            request.GET = request.GET.copy()
            request.GET["status__exact"] = PaymentStatus.SUBMITTED
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        own = [
            path(
                "<int:object_id>/decide/<str:how>/",
                self.admin_site.admin_view(self.decide_view),
                name="fees_alumnipayment_decide",
            ),
        ]
        return own + super().get_urls()

    def decide_view(self, request: HttpRequest, object_id: int, how: str) -> HttpResponse:
        """The Verify and Reject buttons of the change page (POST only)."""
        payment = self.get_object(request, str(object_id))
        if payment is None or request.method != "POST" or how not in ("verify", "reject"):
            raise Http404
        if not self.has_view_permission(request, payment):
            raise PermissionDenied
        change_url = reverse("admin:fees_alumnipayment_change", args=[payment.pk])
        try:
            if how == "verify":
                alumni_payment_verify(payment=payment, actor=request.user)
                self.message_user(request, _("The payment is verified; the alumnus is invited."), messages.SUCCESS)
            else:
                form = RejectionForm(request.POST)
                if not form.is_valid():
                    self.message_user(
                        request,
                        _("Please give the reason for the rejection; it is sent to the alumnus."),
                        messages.ERROR,
                    )
                    return HttpResponseRedirect(change_url)
                alumni_payment_reject(payment=payment, actor=request.user, reason=form.cleaned_data["reason"])
                self.message_user(
                    request, _("The payment is rejected; the alumnus is told why by e-mail."), messages.SUCCESS
                )
        except PortalError as error:
            self.message_user(request, error.message, messages.ERROR)
        return HttpResponseRedirect(change_url)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "rejection_form": RejectionForm()}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=gettext_lazy("Alumnus"), ordering="nomination__full_name")
    def nomination_name(self, obj: AlumniPayment) -> str:
        return f"{obj.nomination.full_name} <{obj.nomination.email}>"

    @admin.display(description=gettext_lazy("Amount due"))
    def amount_due(self, obj: AlumniPayment) -> str:
        return f"Rs {obj.challan.amount:,}"

    @admin.display(description=gettext_lazy("Consumer number"))
    def consumer_number(self, obj: AlumniPayment) -> str:
        return obj.challan.consumer_number or "—"

    @admin.display(description=gettext_lazy("Degree and graduation"))
    def degree(self, obj: AlumniPayment) -> str:
        nomination = obj.nomination
        graduated = formats.date_format(nomination.graduation_date) if nomination.graduation_date else "—"
        return _("%(degree)s, graduated on %(day)s") % {"degree": nomination.degree or "—", "day": graduated}

    @admin.display(description=gettext_lazy("Challan paid"))
    def paid_how(self, obj: AlumniPayment) -> str:
        bank = getattr(obj.challan, "bill_payment", None)
        if bank is not None:
            return _("Paid on %(day)s through %(channel)s (%(bank)s, transaction %(id)s)") % {
                "day": formats.date_format(timezone.localtime(bank.paid_at)),
                "channel": bank.get_channel_display(),
                "bank": bank.bank_mnemonic,
                "id": bank.tran_auth_id,
            }
        if obj.paid_challan:
            return _("Scan of the stamped challan uploaded (to be checked)")
        return _("Not paid")

    @admin.display(description=gettext_lazy("Paid challan"))
    def paid_challan_file(self, obj: AlumniPayment) -> str:
        return _file_cell(reverse("fees:payment_file", args=[obj.pk, "paid_challan"]), obj.paid_challan)

    @admin.display(description=gettext_lazy("Final transcript"))
    def transcript_file(self, obj: AlumniPayment) -> str:
        return _file_cell(reverse("fees:payment_file", args=[obj.pk, "transcript"]), obj.transcript)

    @admin.action(description=gettext_lazy("Verify the selected payments (the alumni are invited)"))
    def verify(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_each(
            self,
            request,
            queryset,
            call=lambda p: alumni_payment_verify(payment=p, actor=request.user),
            refused=PortalError,
            done=lambda count: ngettext("%(count)d payment verified.", "%(count)d payments verified.", count),
        )

    @admin.action(description=gettext_lazy("Reject the selected payments (asks for the reason)"))
    def reject(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        answer = _ask(
            self,
            request,
            queryset,
            form_class=RejectionForm,
            title=_("Reject payments"),
            action="reject",
            intro=_("The reason is e-mailed to each alumnus, who can then upload again."),
        )
        if isinstance(answer, HttpResponse):
            return answer
        run_each(
            self,
            request,
            queryset,
            call=lambda p: alumni_payment_reject(payment=p, actor=request.user, reason=answer.cleaned_data["reason"]),
            refused=PortalError,
            done=lambda count: ngettext(
                "%(count)d payment rejected; the alumnus is told why by e-mail.",
                "%(count)d payments rejected; the alumni are told why by e-mail.",
                count,
            ),
        )
        return None


@admin.register(Deposit)
class DepositAdmin(RecordAdmin):
    list_display = ("nomination", "amount", "receipt", "paid_on", "recorded_by", "recorded_at", "supersedes")
    list_filter = ("nomination__phase", "nomination__university")
    search_fields = ("receipt", "nomination__full_name", "nomination__email")
    list_select_related = ("nomination", "recorded_by", "supersedes")


def _full_name(nomination) -> str:
    return nomination.full_name


def _waivers_approve(
    model_admin, request: HttpRequest, queryset: QuerySet, *, decide: Callable, key: str, label: Callable = str
) -> None:
    """Approve, one by one, the waivers of the selected rows: waivers themselves or learners'
    seats, ``decide`` taking the row as ``key``."""
    run_each(
        model_admin,
        request,
        queryset,
        call=lambda row: decide(**{key: row}, approve=True, actor=request.user),
        refused=PortalError,
        done=lambda count: ngettext("%(count)d waiver approved.", "%(count)d waivers approved.", count),
        label=label,
    )


def _waivers_reject(
    model_admin, request: HttpRequest, queryset: QuerySet, *, decide: Callable, key: str, label: Callable = str
) -> HttpResponse | None:
    """Ask for the reason, then reject the selected rows' waivers one by one (see _waivers_approve)."""
    answer = _ask(
        model_admin,
        request,
        queryset,
        form_class=RejectionForm,
        title=_("Reject disability waivers"),
        action="reject",
        intro=_("The reason is kept with the waiver and shown on the learner's page."),
    )
    if isinstance(answer, HttpResponse):
        return answer
    run_each(
        model_admin,
        request,
        queryset,
        call=lambda row: decide(**{key: row}, approve=False, actor=request.user, reason=answer.cleaned_data["reason"]),
        refused=PortalError,
        done=lambda count: ngettext("%(count)d waiver rejected.", "%(count)d waivers rejected.", count),
        label=label,
    )
    return None


@admin.register(DisabilityWaiver)
class DisabilityWaiverAdmin(RecordAdmin):
    list_display = ("nomination", "status", "requested_at", "checked_by", "checked_at")
    list_filter = ("status", "nomination__phase")
    search_fields = ("nomination__full_name", "nomination__email")
    list_select_related = ("nomination", "checked_by")
    readonly_fields = ("certificate_file",)
    actions = ["approve", "reject"]

    @admin.display(description=gettext_lazy("Certificate"))
    def certificate_file(self, obj: DisabilityWaiver) -> str:
        return _file_cell(reverse("fees:waiver_file", args=[obj.pk]), obj.certificate)

    @admin.action(description=gettext_lazy("Approve the selected waivers (the learners are invited)"))
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        _waivers_approve(self, request, queryset, decide=waiver_decide, key="waiver")

    @admin.action(description=gettext_lazy("Reject the selected waivers (asks for the reason)"))
    def reject(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return _waivers_reject(self, request, queryset, decide=waiver_decide, key="waiver")


@admin.register(DisabilitySeat)
class DisabilitySeatAdmin(ReadOnlyAdmin):
    """Every learner on a reserved disability seat, with the certificate and HEC's decision so far;
    deciding writes the waiver (nothing is written by looking at the list)."""

    list_display = ("full_name", "university", "phase", "seated_at", "certificate_file", "waiver_status")
    list_filter = ("phase", "university")
    search_fields = ("full_name", "email")
    list_select_related = ("university", "phase", "disability_waiver")
    ordering = ("seated_at", "id")
    actions = ["approve", "reject"]
    # What deciding a certificate needs; the CNIC masked, as everywhere it is not acted on.
    fields = (
        "full_name", "cnic_masked", "email", "university", "phase", "role", "seated_at", "certificate_file",
        "waiver_status",
    )  # fmt: skip
    readonly_fields = fields

    @admin.display(description=gettext_lazy("CNIC"))
    def cnic_masked(self, obj: DisabilitySeat) -> str:
        return cnic_mask(obj.cnic)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(status=NominationStatus.SEATED, seat_kind=SeatKind.DISABILITY)

    @admin.display(description=gettext_lazy("Certificate"))
    def certificate_file(self, obj: DisabilitySeat) -> str:
        url = reverse("registrations:file_nomination", args=[obj.pk, "certificate"])
        return _file_cell(url, obj.disability_certificate)

    @admin.display(description=gettext_lazy("Waiver"))
    def waiver_status(self, obj: DisabilitySeat) -> str:
        waiver = getattr(obj, "disability_waiver", None)
        return (waiver or DisabilityWaiver()).get_status_display()

    @admin.action(description=gettext_lazy("Approve the certificates of the selected learners (they are invited)"))
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        _waivers_approve(self, request, queryset, decide=disability_seat_decide, key="nomination", label=_full_name)

    @admin.action(description=gettext_lazy("Reject the certificates of the selected learners (asks for the reason)"))
    def reject(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        return _waivers_reject(
            self, request, queryset, decide=disability_seat_decide, key="nomination", label=_full_name
        )


@admin.register(Invoice)
class InvoiceAdmin(RecordAdmin):
    list_display = (
        "number", "consumer_number", "university", "phase", "licenses", "amount", "channel", "status", "paid_at",
    )  # fmt: skip
    list_filter = ("status", "channel", "phase")
    search_fields = ("number", "consumer_number", "university__name", "university__code", "reference")
    list_select_related = ("university", "phase")
    readonly_fields = ("pdf_link",)
    actions = ["mark_paid"]

    @admin.display(description=gettext_lazy("Invoice PDF"))
    def pdf_link(self, obj: Invoice) -> str:
        if obj.channel != InvoiceChannel.SEPARATE:
            return _("Billed through PERN account %(account)s, reference %(number)s.") % {
                "account": obj.pern_account,
                "number": obj.number,
            }
        return format_html(
            '<a href="{}">{}</a>', reverse("fees:invoice_pdf", args=[obj.pk]), _("Download the invoice (PDF)")
        )

    @admin.action(description=gettext_lazy("Mark the selected invoices paid (asks for the reference)"))
    def mark_paid(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        answer = _ask(
            self,
            request,
            queryset,
            form_class=MarkPaidForm,
            title=_("Mark invoices paid"),
            action="mark_paid",
            intro=_("Every learner of these universities is then cleared and invited."),
        )
        if isinstance(answer, HttpResponse):
            return answer
        run_each(
            self,
            request,
            queryset,
            call=lambda i: invoice_mark_paid(invoice=i, reference=answer.cleaned_data["reference"], actor=request.user),
            refused=PortalError,
            done=lambda count: ngettext("%(count)d invoice marked paid.", "%(count)d invoices marked paid.", count),
        )
        return None


@admin.register(BillPayment)
class BillPaymentAdmin(ExportMixin, RecordAdmin):
    """Payments the banks reported (1Bill, scrolls), each posted once to its bill."""

    list_display = ("consumer_number", "bill", "amount", "channel", "bank_mnemonic", "tran_auth_id", "paid_at")
    list_filter = ("channel", "bank_mnemonic")
    search_fields = ("consumer_number", "tran_auth_id", "challan__number", "invoice__number")
    list_select_related = ("challan", "invoice")
    date_hierarchy = "paid_at"

    @admin.display(description=gettext_lazy("Bill"))
    def bill(self, obj: BillPayment) -> str:
        return str(obj.challan or obj.invoice)


@admin.register(Remittance)
class RemittanceAdmin(RecordAdmin):
    """Universities' statements of forfeited deposits, and which of them were remitted."""

    list_display = ("number", "university", "phase", "amount", "consumer_number", "remitted_on", "statement")
    list_filter = ("phase", "university")
    search_fields = ("number", "consumer_number", "university__code", "university__name")
    list_select_related = ("university", "phase", "bill_payment")
    readonly_fields = ("remitted_on", "statement")

    @admin.display(description=gettext_lazy("Remitted"))
    def remitted_on(self, obj: Remittance) -> str:
        payment = getattr(obj, "bill_payment", None)
        return formats.date_format(timezone.localtime(payment.paid_at)) if payment else _("Not yet")

    @admin.display(description=gettext_lazy("Statement"))
    def statement(self, obj: Remittance) -> str:
        return format_html(
            '<a href="{}">PDF</a> · <a href="{}">CSV</a>',
            reverse("fees:remittance_download", args=[obj.pk, "pdf"]),
            reverse("fees:remittance_download", args=[obj.pk, "csv"]),
        )


@admin.register(OneBillLog)
class OneBillLogAdmin(ExportMixin, RecordAdmin):
    """Every request the bank network made to the biller API, with the portal's answer."""

    list_display = ("received_at", "endpoint", "consumer_number", "bank_mnemonic", "tran_auth_id", "response_code")
    list_filter = ("endpoint", "response_code", "bank_mnemonic")
    search_fields = ("consumer_number", "tran_auth_id")
    date_hierarchy = "received_at"


from . import admin_refunds  # noqa: E402, F401  - completions and refund decisions (fees/admin_refunds.py)
