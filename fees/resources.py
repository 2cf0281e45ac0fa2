"""django-import-export resource of the recorded completions, for the admin's export.

Completion reports are imported by ``fees.completions`` only (the staff page, the command), never
by django-import-export's row-by-row import."""

from import_export import fields, resources

from .models import CourseCompletion


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
