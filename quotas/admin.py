from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from core.export_formats import SAFE_EXPORT_FORMATS

from .models import Allocation, AllocationLine, LicenseMove, Phase, Quota, University
from .resources import UniversityResource


@admin.register(Phase)
class PhaseAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "launch_date", "registration_opens_at", "registration_closes_at", "total_licenses"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["disability_rule"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "launch_date", "registration_opens_at", "registration_closes_at"]}),
        (
            _("Licenses and pools"),
            {
                "fields": [
                    "total_licenses",
                    "public_pool_licenses",
                    "nahe_pool_licenses",
                    "alumni_pool_licenses",
                    "private_pool_licenses",
                    "distance_learning_licenses",
                    ("public_min_licenses", "public_max_licenses"),
                    ("private_min_licenses", "private_max_licenses"),
                    ("disability_percent", "disability_rounding"),
                    "disability_rule",
                ]
            },
        ),
        (
            _("Fees (whole rupees)"),
            {"fields": ["public_deposit_rupees", "private_fee_rupees", "alumni_fee_rupees", "late_fee_rupees"]},
        ),
        (
            _("Eligibility, payment and the license year"),
            {
                "fields": [
                    ("alumni_graduated_from", "alumni_graduated_until"),
                    "payment_hold_days",
                    "license_years",
                    "courses_for_refund",
                    "guided_projects_count",
                    "reminder_days",
                    "coursera_invitation_url",
                    ("disability_certificate_days", "disability_release_on"),
                    "join_within_days",
                    "coursera_program_id",
                ]
            },
        ),
    ]

    @admin.display(description=_("Disability reserve rule"))
    def disability_rule(self, phase: Phase) -> str:
        if not phase.pk:
            return "—"
        return format_html(
            "{} % of each public university's licenses, {}.",
            phase.disability_percent,
            phase.get_disability_rounding_display().lower(),
        )


@admin.register(University)
class UniversityAdmin(ImportExportModelAdmin):
    export_formats = SAFE_EXPORT_FORMATS  # formulas neutralised, as in every export
    resource_classes = [UniversityResource]
    list_display = [
        "code",
        "name",
        "sector",
        "enrolment",
        "distance_learning_licenses",
        "pern_account",
        "city",
        "participates",
    ]
    list_filter = ["sector", "is_distance_learning", "participates", "city"]
    search_fields = ["code", "name", "city"]


class AllocationLineInline(admin.TabularInline):
    model = AllocationLine
    extra = 0
    can_delete = False
    readonly_fields = ["university", "pool", "enrolment", "exact_share", "licenses", "disability_reserved", "bound"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Allocation)
class AllocationAdmin(admin.ModelAdmin):
    """Allocations are made and published on the staff pages (or `allocate_quotas`); here they are read only."""

    list_display = [
        "phase",
        "version",
        "status",
        "created_at",
        "created_by",
        "published_at",
        "published_by",
        "preview_link",
    ]
    list_filter = ["phase", "status"]
    list_select_related = ["phase", "created_by", "published_by"]
    readonly_fields = ["preview_link", *(f.name for f in Allocation._meta.fields)]
    inlines = [AllocationLineInline]

    @admin.display(description=_("Preview and publish"))
    def preview_link(self, allocation: Allocation) -> str:
        if not allocation.pk:
            return "—"
        url = reverse("quotas:allocation_preview", args=[allocation.phase.slug, allocation.version])
        label = _("Open the preview") if allocation.status != Allocation.Status.DRAFT else _("Preview and publish")
        return format_html('<a href="{}">{}</a>', url, label)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Nothing of an allocation is edited by hand; a published one is the record registration counted against.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    list_display = [
        "phase",
        "university",
        "pool",
        "licenses",
        "disability_reserved",
        "general_seated",
        "disability_seated",
    ]
    list_filter = ["phase", "pool"]
    search_fields = ["university__code", "university__name"]
    list_select_related = ["phase", "university"]
    # Counters change only through the seat services, never by hand.
    readonly_fields = [
        "phase",
        "university",
        "pool",
        "licenses",
        "disability_reserved",
        "general_seated",
        "disability_seated",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LicenseMove)
class LicenseMoveAdmin(admin.ModelAdmin):
    list_display = ["moved_at", "phase", "from_quota", "to_quota", "licenses", "moved_by", "reason"]
    list_filter = ["phase"]
    readonly_fields = [f.name for f in LicenseMove._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
