"""HEC staff's admin for registrations: nominations (reject / reinstate), focal persons, files.

Nothing here is deletable and nothing changes except through the services, which keep the seat
counters, the waiting list and the audit trail right.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.admin_actions import ReadOnlyAdmin, run_each

from . import selectors
from .cnic import cnic_mask
from .exceptions import RegistrationError
from .focal_accounts import focal_person_create, focal_person_invite, focal_person_update
from .forms import FocalPersonCreateForm, RejectForm
from .models import Disclaimer, FocalPerson, Nomination, NominationUpload
from .services import nomination_reinstate, nomination_reject


def search_term_as_cnic(term: str) -> str | None:
    """The 13 digits of a search term typed as a CNIC in any shape (dashes, spaces), else None."""
    digits = "".join(ch for ch in term if ch not in "- \t")
    if len(digits) == 13 and digits.isascii() and digits.isdigit():
        return digits
    return None


@admin.register(Nomination)
class NominationAdmin(admin.ModelAdmin):
    list_display = [
        "full_name", "cnic_masked", "email", "university", "pool", "role", "status", "seat_kind", "created_at",
    ]  # fmt: skip
    list_filter = ["phase", "pool", "status", "role", "university"]
    search_fields = ["full_name", "email", "=cnic"]
    list_select_related = ["university"]
    list_per_page = 50
    ordering = ["-id"]
    actions = ["reject_selected", "reinstate_selected"]
    readonly_fields = [
        "phase", "university", "pool", "quota", "role", "full_name", "cnic_masked", "email", "phone",
        "programme_years", "disability", "certificate_link", "degree", "graduated_from", "graduation_date",
        "transcript_link", "hold_expires_at", "status", "seat_kind", "status_reason", "created_at", "seated_at",
        "settled_at", "settled_reason", "cleared_at", "activated_on", "submitted_by", "learner_account",
    ]  # fmt: skip
    fields = readonly_fields

    @admin.display(description=gettext_lazy("CNIC"), ordering="cnic")
    def cnic_masked(self, nomination: Nomination) -> str:
        return cnic_mask(nomination.cnic)

    @admin.display(description=gettext_lazy("Learner's account"))
    def learner_account(self, nomination: Nomination) -> str:
        if selectors.address_verified(email=nomination.email):
            return _("Signed in: the address is verified.")
        return _("Not signed in yet: the address is not verified.")

    @admin.display(description=gettext_lazy("Disability certificate"))
    def certificate_link(self, nomination: Nomination) -> str:
        if not nomination.disability_certificate:
            return "—"
        url = reverse("registrations:file_nomination", args=[nomination.pk, "certificate"])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    @admin.display(description=gettext_lazy("Final transcript"))
    def transcript_link(self, nomination: Nomination) -> str:
        if not nomination.transcript:
            return "—"
        url = reverse("registrations:file_nomination", args=[nomination.pk, "transcript"])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        digits = search_term_as_cnic(search_term.strip())
        if digits is not None:
            return queryset.filter(cnic=digits), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        # Every field is read-only: status changes go through the actions (and so the services).
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Nomination, form, change: bool) -> None:
        return None  # never write a nomination behind the services' back

    @admin.action(
        description=gettext_lazy("Reject the selected nominations (asks for the reason)"), permissions=["change"]
    )
    def reject_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = RejectForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            run_each(
                self,
                request,
                queryset,
                call=lambda n: nomination_reject(nomination=n, actor=request.user, reason=form.cleaned_data["reason"]),
                refused=RegistrationError,
                done=lambda done: ngettext("%(count)d nomination rejected.", "%(count)d nominations rejected.", done),
                label=lambda n: n.full_name,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject nominations"),
            "opts": self.model._meta,
            "nominations": [(n, cnic_mask(n.cnic)) for n in queryset.select_related("university").order_by("id")],
            "form": form,
            "action": "reject_selected",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "registrations/admin_reject.html", context)

    @admin.action(description=gettext_lazy("Reinstate the selected nominations"), permissions=["change"])
    def reinstate_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_each(
            self,
            request,
            queryset,
            call=lambda n: nomination_reinstate(nomination=n, actor=request.user),
            refused=RegistrationError,
            done=lambda done: ngettext("%(count)d nomination reinstated.", "%(count)d nominations reinstated.", done),
            label=lambda n: n.full_name,
        )


@admin.register(FocalPerson)
class FocalPersonAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "university", "phone", "password_chosen", "created_at"]
    list_filter = ["university__sector"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "university__code", "university__name"]
    list_select_related = ["user", "university"]
    actions = ["send_welcome"]

    @admin.display(description=gettext_lazy("E-mail"), ordering="user__email")
    def email(self, focal: FocalPerson) -> str:
        return focal.user.email

    @admin.display(description=gettext_lazy("Name"))
    def name(self, focal: FocalPerson) -> str:
        return focal.user.get_full_name()

    @admin.display(description=gettext_lazy("Password chosen"), boolean=True)
    def password_chosen(self, focal: FocalPerson) -> bool:
        return focal.user.has_usable_password()

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = FocalPersonCreateForm
            kwargs["fields"] = ["email", "full_name", "university", "phone"]
        else:
            kwargs["fields"] = ["university", "phone"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ["email", "full_name", "university", "phone"] if obj is None else ["university", "phone"]

    def save_model(self, request: HttpRequest, obj: FocalPerson, form, change: bool) -> None:
        if change:
            focal_person_update(
                focal_person=obj, university=form.cleaned_data["university"], phone=form.cleaned_data.get("phone", ""),
                actor=request.user,
            )  # fmt: skip
            return
        created = focal_person_create(
            email=form.cleaned_data["email"],
            full_name=form.cleaned_data["full_name"],
            university=form.cleaned_data["university"],
            phone=form.cleaned_data.get("phone", ""),
            actor=request.user,
        )
        obj.pk, obj.user, obj.created_at = created.pk, created.user, created.created_at
        self.message_user(
            request,
            _("A set-password e-mail was sent to %(email)s.") % {"email": created.user.email},
            messages.SUCCESS,
        )

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description=gettext_lazy("Send the set-password e-mail again"), permissions=["change"])
    def send_welcome(self, request: HttpRequest, queryset: QuerySet) -> None:
        sent = 0
        for focal in queryset.select_related("user"):
            try:
                focal_person_invite(focal_person=focal, actor=request.user)
            except RegistrationError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                sent += 1
        if sent:
            self.message_user(
                request,
                ngettext("%(count)d set-password e-mail sent.", "%(count)d set-password e-mails sent.", sent)
                % {"count": sent},
                messages.SUCCESS,
            )


@admin.register(Disclaimer)
class DisclaimerAdmin(ReadOnlyAdmin):
    list_display = ["university", "phase", "uploaded_by", "uploaded_at", "file_link"]
    list_filter = ["phase"]
    search_fields = ["university__code", "university__name"]
    list_select_related = ["university", "phase", "uploaded_by"]
    fields = ["phase", "university", "uploaded_by", "uploaded_at", "file_link"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("Signed form"))
    def file_link(self, disclaimer: Disclaimer) -> str:
        url = reverse("registrations:file_disclaimer", args=[disclaimer.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))


@admin.register(NominationUpload)
class NominationUploadAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "university", "phase", "uploaded_by", "uploaded_at", "committed_at"]
    list_filter = ["phase", "university"]
    search_fields = ["original_name", "university__code"]
    list_select_related = ["university", "phase", "uploaded_by"]
    fields = [
        "phase", "university", "original_name", "file_link", "uploaded_by", "uploaded_at", "committed_at", "result",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description=gettext_lazy("File"))
    def file_link(self, upload: NominationUpload) -> str:
        url = reverse("registrations:file_nomination_upload", args=[upload.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))


from . import invitation_admin  # noqa: E402,F401
