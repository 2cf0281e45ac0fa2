"""Forms of the fees pages and admin actions: they check the shape of what people type and upload;
the rules themselves live in the services (fees.challans, fees.alumni_payments, fees.deposits, …)."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.dates import DayField
from core.uploads import UploadRefused, check_upload, human_size

PROOF_KINDS = {"pdf", "png", "jpeg"}


def _proof(file):
    try:
        check_upload(file, kinds=PROOF_KINDS, max_bytes=settings.UPLOAD_MAX_BYTES)
    except UploadRefused as refused:
        raise ValidationError(refused.message, code="upload_refused") from refused
    return file


class AlumniPaymentForm(forms.Form):
    paid_challan = forms.FileField(
        label=gettext_lazy("Paid challan (the depositor copy with the bank's stamp)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
    )
    transcript = forms.FileField(
        label=gettext_lazy("Final transcript"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}),
    )

    def __init__(self, *args, transcript_on_file: bool = False, challan_paid_by_bank: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if transcript_on_file:  # given with the registration: asked for once only
            del self.fields["transcript"]
        # Paid through 1Bill or a bank scroll: the bank's record is the proof, no scan is asked for.
        self.challan_paid_by_bank = challan_paid_by_bank
        if challan_paid_by_bank:
            del self.fields["paid_challan"]
        help_text = _("A PDF, JPEG or PNG file of at most %(size)s.") % {"size": human_size(settings.UPLOAD_MAX_BYTES)}
        for field in self.fields.values():
            field.help_text = help_text

    def clean_paid_challan(self):
        return _proof(self.cleaned_data["paid_challan"])

    def clean_transcript(self):
        return _proof(self.cleaned_data["transcript"])

    @property
    def transcript_asked(self) -> bool:
        return "transcript" in self.fields

    @property
    def transcript_file(self):
        return self.cleaned_data.get("transcript")


class DepositForm(forms.Form):
    receipt = forms.CharField(
        label=gettext_lazy("Receipt number"),
        max_length=60,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
        help_text=gettext_lazy("The number on the receipt you gave the learner for the deposit."),
    )
    paid_on = DayField(
        label=gettext_lazy("Date paid"),
        not_after_today=True,
        help_text=gettext_lazy("The day the learner paid the deposit, as YYYY-MM-DD or DD/MM/YYYY."),
    )

    def clean_receipt(self) -> str:
        receipt = self.cleaned_data["receipt"].strip()
        if not receipt:
            raise ValidationError(_("Enter the receipt number of the deposit."), code="required")
        return receipt


class DepositCorrectionForm(DepositForm):
    reason = forms.CharField(
        label=gettext_lazy("Why is the record being corrected?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text=gettext_lazy("Kept with the correction; the earlier record stays on file."),
    )


class RejectionForm(forms.Form):
    """Asked by the admin's reject actions."""

    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=1000,
        help_text=gettext_lazy("Sent to the person concerned; say what is wrong and what to do."),
    )


class MarkPaidForm(forms.Form):
    """Asked by the invoice admin's "mark paid" action."""

    reference = forms.CharField(
        label=gettext_lazy("Payment reference"),
        max_length=100,
        help_text=gettext_lazy("The bank or PERN reference of the university's payment."),
    )


class DepositFilterForm(forms.Form):
    """The focal person's deposits page: who to list."""

    deposit = forms.ChoiceField(
        label=gettext_lazy("Deposit"),
        required=False,
        choices=[
            ("", gettext_lazy("Every nominee")),
            ("missing", gettext_lazy("Seated, deposit not recorded")),
            ("recorded", gettext_lazy("Deposit recorded")),
        ],
    )
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Name, e-mail or CNIC (with or without dashes)."),
    )


class BankScrollForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Bank scroll (CSV or XLSX)"),
        help_text=gettext_lazy("Columns: consumer_number, amount, paid_on, tran_auth_id, bank."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )


class ScrollRowMatchForm(forms.Form):
    consumer_number = forms.CharField(label=gettext_lazy("Consumer number of the bill"), max_length=40)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=1000)


class ScrollRowDismissForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=1000)


class RefundAccountForm(forms.Form):
    iban = forms.CharField(
        label=gettext_lazy("IBAN"),
        max_length=40,
        help_text=gettext_lazy("24 characters starting with PK, as on your cheque book or in your bank app."),
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off", "spellcheck": "false"}),
    )
    account_title = forms.CharField(label=gettext_lazy("Account title"), max_length=100)


class PayoutSheetForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Payout sheet with the paid references (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    paid_on = DayField(label=gettext_lazy("Day the refunds were paid"), not_after_today=True)


class RefundMarkPaidForm(forms.Form):
    reference = forms.CharField(max_length=20, widget=forms.HiddenInput)
    paid_reference = forms.CharField(label=gettext_lazy("Bank reference of the transfer"), max_length=100)
    paid_on = DayField(label=gettext_lazy("Paid on"), not_after_today=True)
