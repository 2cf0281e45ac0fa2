"""Forms of the registration pages: they check the shape of what people type; rules live in services."""

import datetime

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.dates import DayField
from core.uploads import UploadRefused, check_upload, human_size
from quotas.models import Phase, University

from . import eligibility
from .cnic import cnic_normalise
from .eligibility import NomineeData
from .exceptions import RegistrationError
from .models import FocalPerson, NominationStatus, Role

PERSON_FILE_KINDS = {"pdf", "png", "jpeg"}


def _checked_file(file, *, kinds: set[str], max_bytes: int | None = None):
    """Run the content check of core.uploads on an uploaded file, as a form error."""
    if not file:
        return file
    try:
        check_upload(file, kinds=kinds, max_bytes=max_bytes or settings.UPLOAD_MAX_BYTES)
    except UploadRefused as refused:
        raise ValidationError(refused.message, code="upload_refused") from refused
    return file


def _cnic(value: str) -> str:
    try:
        return cnic_normalise(value)
    except ValueError as error:
        raise ValidationError(str(error), code="cnic") from error


class DisclaimerForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Signed disclaimer form (PDF)"),
        help_text=gettext_lazy("Scan the form signed by the vice-chancellor or registrar and save it as one PDF."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def clean_file(self):
        return _checked_file(self.cleaned_data.get("file"), kinds={"pdf"})


class NominationsFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Nominations file (CSV or Excel .xlsx)"),
        help_text=gettext_lazy("Use the template: one person per row, the column names in row 1."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def clean_file(self):
        file = self.cleaned_data.get("file")
        limit = settings.NOMINATIONS_FILE_MAX_BYTES
        if file is not None and file.size is not None and file.size > limit:
            raise ValidationError(
                _("This file is %(size)s; the largest accepted is %(limit)s. Split the list into several files.")
                % {"size": human_size(file.size, round_up=True), "limit": human_size(limit)},
                code="too_big",
            )
        if file is not None and not file.size:
            raise ValidationError(
                _("This file is empty. Check that you chose the right file, then upload it again."), code="empty"
            )
        return file


def _duplicates_as_field_errors(form: forms.Form, *, university: University | None, email: str | None = None) -> None:
    """Registration open; and, when the form is refused anyway, one license per person per phase
    and no staff address, said on the field concerned, so that every problem shows at once.

    A form that is otherwise right leaves the look-ups to ``nomination_submit``, which makes them
    in the query it needs for the seat (``refusal_on_form`` then puts them on the fields)."""
    data = form.cleaned_data
    for problem in eligibility.registration_open_problems(phase=form.phase):
        form.add_error(None, problem)
    if not form.errors:
        return
    cnic = data.get("cnic") or ""
    address = (email if email is not None else data.get("email")) or ""
    by_cnic, by_email = eligibility.duplicates_find_many(phase=form.phase, cnics=[cnic], emails=[address])
    for field, existing, key in (("cnic", by_cnic.get(cnic), {"cnic": cnic, "email": ""}),
                                 ("email", by_email.get(address), {"cnic": "", "email": address})):  # fmt: skip
        if existing is not None:
            message = eligibility.duplicate_message(existing=existing, university=university, viewer=form.viewer, **key)
            form.add_error(field if field in form.fields else None, message)
    if address and address in eligibility.non_learner_addresses([address]):
        form.add_error("email" if "email" in form.fields else None, eligibility.non_learner_message(address))


def refusal_on_form(form: forms.Form, error: RegistrationError) -> None:
    """Show a service's refusal on the form that was sent, each problem on its field where it has one."""
    for field, problem in getattr(error, "on_fields", [(None, error.message)]):
        form.add_error(field if field in form.fields else None, problem)


class NomineeForm(forms.Form):
    """One student or faculty member, typed by the focal person."""

    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=200)
    cnic = forms.CharField(
        label=gettext_lazy("CNIC or B-form number"),
        max_length=30,
        help_text=gettext_lazy("13 digits, with or without dashes, e.g. 12345-1234567-1."),
    )
    email = forms.EmailField(
        label=gettext_lazy("E-mail address"),
        help_text=gettext_lazy("The nominee signs in and receives the Coursera invitation here."),
    )
    phone = forms.CharField(label=gettext_lazy("Mobile number"), max_length=30, required=False)
    role = forms.ChoiceField(
        label=gettext_lazy("Role"), choices=[(Role.STUDENT, Role.STUDENT.label), (Role.FACULTY, Role.FACULTY.label)]
    )
    programme_years = forms.IntegerField(
        label=gettext_lazy("Years of education of the programme"),
        required=False,
        min_value=1,
        max_value=30,
        help_text=gettext_lazy("Students only: e.g. 16 for a 4-year BS, 18 for MS/MPhil. Leave blank for faculty."),
    )
    disability = forms.BooleanField(label=gettext_lazy("The nominee has a disability"), required=False)
    disability_certificate = forms.FileField(
        label=gettext_lazy("Government-issued disability certificate (PDF, JPEG or PNG)"),
        required=False,
        help_text=gettext_lazy(
            "A student with a disability takes a reserved seat, free of charge, while one is free; the "
            "certificate may follow on the nominee's page within the phase's days. Faculty members take "
            "general seats."
        ),
    )

    def __init__(self, *args, phase: Phase, university: University, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.phase, self.university, self.viewer = phase, university, viewer

    def clean_cnic(self) -> str:
        return _cnic(self.cleaned_data["cnic"])

    def clean_email(self) -> str:
        return eligibility.email_normalise(self.cleaned_data["email"])

    def clean_disability_certificate(self):
        return _checked_file(self.cleaned_data.get("disability_certificate"), kinds=PERSON_FILE_KINDS)

    def clean(self):
        data = super().clean()
        role = data.get("role")
        if "programme_years" not in self.errors:
            for problem in eligibility.programme_problems(role, data.get("programme_years")):
                self.add_error("programme_years", problem)
        if role == Role.FACULTY and data.get("programme_years") is not None:
            self.add_error("programme_years", _("Leave this blank for faculty members."))
        _duplicates_as_field_errors(self, university=self.university)
        if data.get("disability_certificate") and not data.get("disability"):
            self.add_error("disability", _("Tick this box when you attach a disability certificate."))
        return data

    def nominee_data(self) -> NomineeData:
        d = self.cleaned_data
        return NomineeData(
            full_name=d["full_name"].strip(),
            cnic=d["cnic"],
            email=d["email"],
            phone=d.get("phone", "").strip(),
            role=d["role"],
            programme_years=d.get("programme_years"),
            disability=bool(d.get("disability")),
            degree="",
            graduated_from="",
            graduation_date=None,
        )


class NomineeCorrectForm(forms.Form):
    """The focal person corrects a nominee's details (until the invitation is sent)."""

    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=200)
    email = forms.EmailField(
        label=gettext_lazy("E-mail address"),
        help_text=gettext_lazy("The nominee signs in and receives the Coursera invitation here."),
    )
    phone = forms.CharField(label=gettext_lazy("Mobile number"), max_length=30, required=False)

    def clean_email(self) -> str:
        return eligibility.email_normalise(self.cleaned_data["email"])


class CertificateForm(forms.Form):
    """The focal person attaches a nominee's government disability certificate."""

    certificate = forms.FileField(
        label=gettext_lazy("Government-issued disability certificate (PDF, JPEG or PNG)"),
        help_text=gettext_lazy("HEC checks it; the license of a student on a reserved seat is then free."),
    )

    def clean_certificate(self):
        return _checked_file(self.cleaned_data.get("certificate"), kinds=PERSON_FILE_KINDS)


class NomineeWithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for the withdrawal"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Kept in the record, e.g. “left the university” or “asked to withdraw”."),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Say why the nomination is withdrawn."))
        return reason


class NomineeFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *NominationStatus.choices],
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        required=False,
        choices=[
            ("", gettext_lazy("Any role")),
            (Role.STUDENT, Role.STUDENT.label),
            (Role.FACULTY, Role.FACULTY.label),
        ],
    )
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Name, e-mail or CNIC (with or without dashes)."),
    )


class AlumniRegistrationForm(forms.Form):
    """An alumnus registers in the open-merit pool; e-mail is the account's own."""

    full_name = forms.CharField(label=gettext_lazy("Full name (as on your CNIC)"), max_length=200)
    cnic = forms.CharField(
        label=gettext_lazy("CNIC number"),
        max_length=30,
        help_text=gettext_lazy("13 digits, with or without dashes, e.g. 12345-1234567-1."),
    )
    phone = forms.CharField(label=gettext_lazy("Mobile number"), max_length=30)
    graduated_from_choice = forms.ModelChoiceField(
        label=gettext_lazy("University you graduated from"),
        queryset=University.objects.none(),
        required=False,
        empty_label=gettext_lazy("— choose, or type the name below —"),
    )
    graduated_from = forms.CharField(
        label=gettext_lazy("University name, if it is not in the list"),
        max_length=200,
        required=False,
    )
    degree = forms.CharField(
        label=gettext_lazy("Degree"), max_length=200, help_text=gettext_lazy("e.g. BS Computer Science, MPhil Physics.")
    )
    graduation_date = DayField(
        label=gettext_lazy("Graduation date"),
        not_after_today=True,
        help_text=gettext_lazy("The date on your final transcript or degree, as YYYY-MM-DD or DD/MM/YYYY."),
    )
    transcript = forms.FileField(
        label=gettext_lazy("Final transcript (PDF, JPEG or PNG)"),
        help_text=gettext_lazy("A scan or photo of your final transcript."),
    )
    disability = forms.BooleanField(label=gettext_lazy("I have a disability"), required=False)
    disability_certificate = forms.FileField(
        label=gettext_lazy("Government-issued disability certificate (PDF, JPEG or PNG)"),
        required=False,
    )

    def __init__(self, *args, phase: Phase, email: str, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.phase = phase
        self.email = email
        self.viewer = viewer
        self.fields["graduated_from_choice"].queryset = University.objects.order_by("name")
        self.fields["graduation_date"].help_text = _(
            "You must have graduated between %(start)s and %(end)s. The date on your final transcript, as "
            "YYYY-MM-DD or DD/MM/YYYY."
        ) % {"start": phase.alumni_graduated_from.isoformat(), "end": phase.alumni_graduated_until.isoformat()}

    def clean_cnic(self) -> str:
        return _cnic(self.cleaned_data["cnic"])

    def clean_graduation_date(self) -> datetime.date:
        day = self.cleaned_data["graduation_date"]
        problems = eligibility.graduation_problems(day, phase=self.phase)
        if problems:
            raise ValidationError(problems)
        return day

    def clean_transcript(self):
        return _checked_file(self.cleaned_data.get("transcript"), kinds=PERSON_FILE_KINDS)

    def clean_disability_certificate(self):
        return _checked_file(self.cleaned_data.get("disability_certificate"), kinds=PERSON_FILE_KINDS)

    def clean(self):
        data = super().clean()
        choice = data.get("graduated_from_choice")
        typed = (data.get("graduated_from") or "").strip()
        if choice is None and not typed:
            self.add_error("graduated_from", _("Choose your university from the list or type its name."))
        data["graduated_from"] = choice.name if choice is not None else typed
        certificate = data.get("disability_certificate")
        if data.get("disability") and not certificate and "disability_certificate" not in self.errors:
            self.add_error(
                "disability_certificate", _("Attach your disability certificate, or untick “I have a disability”.")
            )
        if data.get("disability_certificate") and not data.get("disability"):
            self.add_error("disability", _("Tick this box when you attach a disability certificate."))
        _duplicates_as_field_errors(self, university=None, email=self.email)
        return data

    def nominee_data(self) -> NomineeData:
        d = self.cleaned_data
        return NomineeData(
            full_name=d["full_name"].strip(),
            cnic=d["cnic"],
            email=self.email,
            phone=d["phone"].strip(),
            role=Role.ALUMNUS,
            programme_years=None,
            disability=bool(d.get("disability")),
            degree=d["degree"].strip(),
            graduated_from=d["graduated_from"],
            graduation_date=d["graduation_date"],
        )


class WelcomePasswordForm(forms.Form):
    """Choose a password through the one-time welcome link (Django's password validators apply)."""

    new_password1 = forms.CharField(
        label=gettext_lazy("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["new_password1"].help_text = password_validation.password_validators_help_text_html()

    def clean(self):
        data = super().clean()
        one, two = data.get("new_password1"), data.get("new_password2")
        if one and two and one != two:
            self.add_error("new_password2", _("The two passwords are not the same."))
        elif one:
            try:
                password_validation.validate_password(one, self.user)
            except ValidationError as error:
                self.add_error("new_password1", error)
        return data


class RejectForm(forms.Form):
    """Admin: the reason asked for before rejecting nominations."""

    reason = forms.CharField(
        label=gettext_lazy("Reason for the rejection"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Sent to the nominee and kept in the record."),
    )


class FocalPersonCreateForm(forms.ModelForm):
    """Admin: HEC staff create a focal person; the portal e-mails them a set-password link."""

    email = forms.EmailField(label=gettext_lazy("E-mail address"))
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=200)

    class Meta:
        model = FocalPerson
        fields = ["email", "full_name", "university", "phone"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise ValidationError(_("An account with this e-mail address already exists; use another address."))
        return email
