"""HEC staff's admin for completions and refunds (imported at the bottom of fees/admin.py).

- Completion reports: the import button hands a Coursera report to
  :func:`fees.completions.completions_upload` (the same background import as the staff page; see
  fees/resources.py for why django-import-export's row-by-row import is not used), and the
  "Decide refunds" action records the decisions due today for the selected reports' phases.
- Completions and decisions are read-only records: nothing is edited or deleted by hand; a
  decision is corrected on the staff page, which records a new decision.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.admin import ExportMixin, ImportMixin
from import_export.formats.base_formats import CSV
from import_export.forms import ImportForm

from dlsei.admin_actions import ReadOnlyAdmin
from quotas.models import Phase
from registrations.roles import user_is_hec_staff

from .completions import completions_upload
from .exceptions import FeeError
from .models import CompletionImport, CourseCompletion, RefundDecision
from .refunds import REFUND, refunds_decide
from .resources import CompletionReportResource, CourseCompletionResource


class CompletionReportImportForm(ImportForm):
    phase = forms.ModelChoiceField(queryset=Phase.objects.all(), label=gettext_lazy("Phase"), empty_label=None)
    field_order = ["phase", "resource", "import_file", "format"]


@admin.register(CompletionImport)
class CompletionImportAdmin(ImportMixin, ReadOnlyAdmin):
    resource_classes = [CompletionReportResource]
    import_form_class = CompletionReportImportForm
    import_formats = [CSV]
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

    def has_import_permission(self, request: HttpRequest) -> bool:
        return user_is_hec_staff(request.user)

    @admin.display(description=gettext_lazy("Rows not recorded"))
    def outcome_page(self, record: CompletionImport) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("fees:completions_import_detail", args=[record.pk]),
            _("%(count)d row(s) matched nobody: see the outcome page") % {"count": record.unmatched},
        )

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        phase = form.cleaned_data.get("phase") if form is not None and hasattr(form, "cleaned_data") else None
        return {**super().get_import_resource_kwargs(request, **kwargs), "phase": phase}

    def import_action(self, request: HttpRequest, **kwargs) -> HttpResponse:
        """The upload goes straight to the import service; the outcome page follows the import and lists
        what became of the rows."""
        if request.method != "POST":
            return super().import_action(request, **kwargs)
        if not self.has_import_permission(request):
            return super().import_action(request, **kwargs)  # raises PermissionDenied
        form = self.create_import_form(request)
        if not form.is_valid():
            return super().import_action(request, **kwargs)  # shows the form with its errors
        upload = form.cleaned_data["import_file"]
        try:
            record = completions_upload(
                phase=form.cleaned_data["phase"], data=upload.read(), filename=upload.name, actor=request.user
            )
        except FeeError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("admin:fees_completionimport_import"))
        record.refresh_from_db()  # without a broker the import has already run, on commit
        if record.state == CompletionImport.State.DONE:
            messages.success(
                request,
                _("%(name)s imported: %(rows)d rows, %(new)d new completions, %(unmatched)d matched nobody.")
                % {
                    "name": record.filename,
                    "rows": record.rows,
                    "new": record.new_completions,
                    "unmatched": record.unmatched,
                },
            )
        elif record.in_progress:
            messages.success(
                request,
                _("%(name)s was uploaded: its %(rows)s rows are being imported. This page shows how far it has got.")
                % {"name": record.filename, "rows": intcomma(record.rows)},
            )
        return HttpResponseRedirect(reverse("fees:completions_import_detail", args=[record.pk]))

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
