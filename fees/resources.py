"""django-import-export resources of the completions.

The admin's import of a Coursera completion report must take the same fast path as
``manage.py import_completions``: django-import-export's own import works row by row (a query or
more per row, minutes for 100,000 rows), so it is not used. Our choice, documented here:

- ``fees.admin_refunds.CompletionImportAdmin`` is an ImportMixin admin whose ``import_action``
  hands the uploaded bytes straight to :func:`fees.completions.completions_import` and shows the
  outcome (the import's record, with the rows that matched nobody);
- should anything still call ``CompletionReportResource.import_data`` (for example the confirm step
  of the stock admin flow), it too delegates to the same service, inside a transaction that is
  rolled back for a dry run.

``CompletionReportResource`` also names the report's columns on the admin's import page, and
``CourseCompletionResource`` exports the recorded completions.
"""

from django.db import transaction
from import_export import fields, resources
from import_export.results import Result, RowResult

from . import completions
from .exceptions import FeeError
from .models import CourseCompletion


class _DryRun(Exception):
    """Raised inside the import's transaction to roll a dry run back."""


class CompletionReportResource(resources.Resource):
    """Coursera's usage report; importing it runs :func:`fees.completions.completions_import`."""

    email = fields.Field(column_name=completions.EMAIL)
    external_id = fields.Field(column_name=completions.EXTERNAL_ID)
    course = fields.Field(column_name=completions.COURSE)
    course_slug = fields.Field(column_name=completions.COURSE_SLUG)
    course_type = fields.Field(column_name=completions.COURSE_TYPE)
    completed = fields.Field(column_name=completions.COMPLETED)
    completion_time = fields.Field(column_name=completions.COMPLETION_TIME)
    certificate_url = fields.Field(column_name=completions.CERTIFICATE_URL)

    def __init__(self, *, phase=None, **kwargs):
        super().__init__(**kwargs)
        self.phase = phase
        self.completion_import = None

    @classmethod
    def get_display_name(cls) -> str:
        return "Coursera completion report"

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs):
        """Import the whole dataset through the bulk service (never row by row)."""
        result = Result()
        result.total_rows = len(dataset)
        if self.phase is None:
            result.append_base_error(self.get_error_result_class()(FeeError("Choose the phase of the report.")))
            return result
        data = dataset.export("csv").encode("utf-8")
        filename = kwargs.get("file_name") or "completion-report.csv"
        try:
            with transaction.atomic():
                self.completion_import = completions.completions_import(
                    phase=self.phase, data=data, filename=filename, actor=kwargs.get("user")
                )
                result.totals[RowResult.IMPORT_TYPE_NEW] = self.completion_import.new_completions
                record = self.completion_import
                result.totals[RowResult.IMPORT_TYPE_SKIP] = record.duplicates + record.ignored + record.unmatched
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        except FeeError as error:
            if raise_errors:
                raise
            result.append_base_error(self.get_error_result_class()(error))
        return result


class CourseCompletionResource(resources.ModelResource):
    """The recorded completions, for the admin's export."""

    learner_email = fields.Field(attribute="nomination__email", column_name="learner_email")
    phase = fields.Field(attribute="nomination__phase__slug", column_name="phase")

    class Meta:
        model = CourseCompletion
        fields = [
            "phase", "learner_email", "course_key", "course_name", "course_type", "completed_at", "completed_on",
            "certificate_url",
        ]  # fmt: skip
        export_order = fields
