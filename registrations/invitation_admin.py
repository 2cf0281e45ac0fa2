"""HEC staff's admin for invitations: counts by state, failures with their error, resend, and the
Coursera bulk-invite CSV. Imported from registrations/admin.py. Nothing here is editable or
deletable: changes go through registrations.invitation_outbox."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .coursera_invites import coursera_invites_csv
from .invitation_outbox import invitations_resend
from .models import Invitation, InvitationAttempt, Nomination, NominationStatus, ReminderSent, UniversitySettlement
from .selectors import invitations_by_state


class _NoWrites:
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class InvitationAttemptInline(_NoWrites, admin.TabularInline):
    model = InvitationAttempt
    extra = 0
    can_delete = False
    fields = ["kind", "outcome", "requested_by", "requested_at", "started_at", "finished_at", "error"]
    readonly_fields = fields
    ordering = ["-id"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Invitation)
class InvitationAdmin(_NoWrites, admin.ModelAdmin):
    list_display = ["learner", "email", "phase", "university", "state", "attempts", "queued_at", "sent_at", "error"]
    list_filter = ["state", "nomination__phase", "nomination__pool", "nomination__university"]
    search_fields = ["nomination__full_name", "nomination__email"]
    list_select_related = ["nomination__phase", "nomination__university"]
    list_per_page = 100
    ordering = ["-id"]
    actions = ["resend_selected", "download_coursera_csv"]
    fields = [
        "nomination", "state", "attempts", "queued_at", "enqueued_at", "sending_since", "retry_at", "sent_at",
        "sent_to", "failed_at", "last_error",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [InvitationAttemptInline]

    @admin.display(description=gettext_lazy("Learner"), ordering="nomination__full_name")
    def learner(self, invitation: Invitation) -> str:
        return invitation.nomination.full_name

    @admin.display(description=gettext_lazy("E-mail"), ordering="nomination__email")
    def email(self, invitation: Invitation) -> str:
        return invitation.nomination.email

    @admin.display(description=gettext_lazy("Phase"), ordering="nomination__phase")
    def phase(self, invitation: Invitation) -> str:
        return invitation.nomination.phase.slug

    @admin.display(description=gettext_lazy("University"))
    def university(self, invitation: Invitation) -> str:
        university = invitation.nomination.university
        return university.code if university else _("Alumni pool")

    @admin.display(description=gettext_lazy("Last error"))
    def error(self, invitation: Invitation) -> str:
        return (invitation.last_error[:120] + "…") if len(invitation.last_error) > 120 else invitation.last_error

    def changelist_view(self, request: HttpRequest, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            counts = invitations_by_state(invitations=changelist.queryset)
            response.context_data["subtitle"] = (
                _(
                    "Sent: %(sent)d · Queued: %(queued)d · Sending: %(sending)d · Waiting to retry: %(retrying)d · "
                    "Failed: %(failed)d"
                )
                % counts
            )
        return response

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Invitation, form, change: bool) -> None:
        return None  # never written here: the send task and the services own the row

    @admin.action(description=gettext_lazy("Resend the selected failed invitations"), permissions=["change"])
    def resend_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        resent, refusals = invitations_resend(
            invitations=queryset.select_related("nomination").order_by("id"), actor=request.user
        )
        for refusal in refusals[:20]:
            self.message_user(request, refusal, messages.ERROR)
        if len(refusals) > 20:
            self.message_user(
                request,
                _("…and %(count)d more not resent.") % {"count": len(refusals) - 20},
                messages.ERROR,
            )
        if resent:
            self.message_user(
                request,
                ngettext(
                    "%(count)d invitation queued to be sent again.",
                    "%(count)d invitations queued to be sent again.",
                    resent,
                )
                % {"count": resent},
                messages.SUCCESS,
            )

    @admin.action(description=gettext_lazy("Download the selected cleared learners as Coursera's bulk-invite CSV"))
    def download_coursera_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        nominations = Nomination.objects.filter(
            invitation__in=queryset, cleared_at__isnull=False, status=NominationStatus.SEATED
        )
        response = HttpResponse(coursera_invites_csv(nominations=nominations), content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="coursera-invites-{stamp}.csv"'
        return response


@admin.register(InvitationAttempt)
class InvitationAttemptAdmin(_NoWrites, admin.ModelAdmin):
    list_display = ["invitation", "kind", "outcome", "requested_by", "requested_at", "started_at", "finished_at"]
    list_filter = ["kind", "outcome"]
    search_fields = ["invitation__nomination__email"]
    list_select_related = ["invitation__nomination", "requested_by"]
    fields = ["invitation", "kind", "outcome", "requested_by", "requested_at", "started_at", "finished_at", "error"]
    readonly_fields = fields

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(ReminderSent)
class ReminderSentAdmin(_NoWrites, admin.ModelAdmin):
    list_display = ["nomination", "days_before", "license_ends_on", "decided_at", "emailed_at", "error"]
    list_filter = ["days_before"]
    search_fields = ["nomination__email", "nomination__full_name"]
    list_select_related = ["nomination"]
    fields = list_display
    readonly_fields = fields

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(UniversitySettlement)
class UniversitySettlementAdmin(_NoWrites, admin.ModelAdmin):
    list_display = ["university", "phase", "settled_at", "reason", "actor"]
    list_filter = ["phase"]
    list_select_related = ["university", "phase", "actor"]
    fields = list_display
    readonly_fields = fields

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
