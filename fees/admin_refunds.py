"""HEC staff's admin for completions and refunds (imported at the bottom of fees/admin.py).

- Completion reports: listed with their outcome; the import link leads to the one page that imports
  a report (the staff page of completion reports, through fees.completions), and the "Decide
  refunds" action records the decisions due today for the selected reports' phases.
- Completions and decisions are read-only records: nothing is edited or deleted by hand; a
  decision is corrected on the staff page, which records a new decision.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.admin import ExportMixin

from core.admin_actions import ReadOnlyAdmin
from core.export_formats import SAFE_EXPORT_FORMATS
from core.roles import user_is_hec_staff
from quotas.models import Phase

from .models import CompletionImport, CourseCompletion, RefundDecision
from .refunds import REFUND, refunds_decide
from .resources import CourseCompletionResource


@admin.register(CompletionImport)
class CompletionImportAdmin(ReadOnlyAdmin):
    """The imported reports. A report is imported on one page only, the staff page of completion
    reports (fees.views_staff): the admin's import link leads there."""

    change_list_template = "admin/fees/completionimport/change_list.html"
    list_display = [
        "filename", "phase", "imported_at", "imported_by", "state", "processed", "rows", "matched", "unmatched",
        "new_completions", "duplicates", "ignored",
    ]  # fmt: skip
    list_filter = ["phase", "state"]
    list_select_related = ["phase", "imported_by"]
    readonly_fields = ["outcome_page"]
    actions = ["decide_refunds"]

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return user_is_hec_staff(request.user) and super().has_view_permission(request, obj)

    @admin.display(description=gettext_lazy("Rows not recorded"))
    def outcome_page(self, record: CompletionImport) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("fees:completions_import_detail", args=[record.pk]),
            _("%(count)d row(s) matched nobody: see the outcome page") % {"count": record.unmatched},
        )

    def get_urls(self):
        # The link of the admin's old import page stays, and leads to the one import page.
        return [
            path(
                "import/",
                self.admin_site.admin_view(lambda request: redirect("fees:completions_import")),
                name="fees_completionimport_import",
            ),
            *super().get_urls(),
        ]

    @admin.action(description=gettext_lazy("Decide refunds (as of today) for the phases of the selected reports"))
    def decide_refunds(self, request: HttpRequest, queryset: QuerySet) -> None:
        if not user_is_hec_staff(request.user):
            messages.error(request, _("Only HEC staff may decide refunds."))
            return
        today = timezone.localdate()
        for phase in Phase.objects.filter(pk__in=queryset.values("phase")):
            decided = refunds_decide(phase=phase, as_of=today, actor=request.user)
            refunds = sum(1 for decision in decided if decision.decision == REFUND)
            messages.success(
                request,
                _("%(phase)s: %(count)d decisions recorded as of %(day)s (%(refunds)d refunds, %(forfeits)d forfeits).")
                % {
                    "phase": phase.name,
                    "count": len(decided),
                    "day": today.isoformat(),
                    "refunds": refunds,
                    "forfeits": len(decided) - refunds,
                },
            )


@admin.register(CourseCompletion)
class CourseCompletionAdmin(ExportMixin, ReadOnlyAdmin):
    export_formats = SAFE_EXPORT_FORMATS  # formulas neutralised, as in every export
    resource_classes = [CourseCompletionResource]
    list_display = ["course_name", "nomination", "course_type", "completed_on", "first_seen_import"]
    list_filter = ["nomination__phase", "course_type"]
    search_fields = ["nomination__email", "nomination__full_name", "course_name", "course_key"]
    list_select_related = ["nomination", "first_seen_import"]
    raw_id_fields = ["nomination", "first_seen_import"]


@admin.register(RefundDecision)
class RefundDecisionAdmin(ReadOnlyAdmin):
    list_display = [
        "nomination", "decision", "courses_completed", "amount", "as_of", "created_at", "decided_by", "is_current",
        "correct_link",
    ]  # fmt: skip
    list_filter = ["decision", "nomination__phase", "nomination__university"]
    search_fields = ["nomination__email", "nomination__full_name"]
    list_select_related = ["nomination", "decided_by", "superseded_by"]
    raw_id_fields = ["nomination", "supersedes", "decided_by"]

    @admin.display(boolean=True, description=gettext_lazy("Current"))
    def is_current(self, decision: RefundDecision) -> bool:
        return not hasattr(decision, "superseded_by")

    @admin.display(description=gettext_lazy("Correction"))
    def correct_link(self, decision: RefundDecision) -> str:
        if hasattr(decision, "superseded_by"):
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("fees:refund_decision_correct", args=[decision.pk]), _("Correct")
        )
