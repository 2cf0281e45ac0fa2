"""The universities file, the same for `import_universities` and the admin's import button."""

from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets

from .models import Sector, University

UNIVERSITY_COLUMNS = ["code", "name", "sector", "enrolment", "distance_learning_licenses", "pern_account", "city"]


class NonNegativeIntegerWidget(widgets.IntegerWidget):
    def clean(self, value, row=None, **kwargs):
        try:
            number = super().clean(value, row=row, **kwargs)
        except Exception:
            number = -1
        if number is None:
            return 0
        if number < 0 or number != int(number):
            raise ValueError(_("must be a whole number of 0 or more, not %(value)s") % {"value": value})
        return number


class SectorWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        sector = (super().clean(value, row=row, **kwargs) or "").strip().lower()
        if sector not in Sector.values:
            raise ValueError(_("must be public, private or nahe, not “%(value)s”") % {"value": value})
        return sector


class UniversityResource(resources.ModelResource):
    sector = fields.Field(attribute="sector", column_name="sector", widget=SectorWidget())
    enrolment = fields.Field(attribute="enrolment", column_name="enrolment", widget=NonNegativeIntegerWidget())
    distance_learning_licenses = fields.Field(
        attribute="distance_learning_licenses",
        column_name="distance_learning_licenses",
        widget=NonNegativeIntegerWidget(),
    )

    class Meta:
        model = University
        import_id_fields = ["code"]
        fields = UNIVERSITY_COLUMNS
        export_order = UNIVERSITY_COLUMNS
        skip_unchanged = True
        clean_model_instances = True
        use_transactions = True

    def before_import_row(self, row, **kwargs):
        if row.get("code"):
            row["code"] = str(row["code"]).strip().upper()

    def before_save_instance(self, instance, row, **kwargs):
        instance.is_distance_learning = instance.distance_learning_licenses > 0


class UtilisationResource(resources.Resource):
    """The utilisation page as a spreadsheet: one row per quota (see quotas.selectors.utilisation_rows).

    Export only. Text cells are neutralised against formulas when written (core.tabular).
    """

    code = fields.Field(attribute="code", column_name="university_code")
    name = fields.Field(attribute="name", column_name="university")
    pool = fields.Field(attribute="pool", column_name="pool")
    allocated = fields.Field(attribute="allocated", column_name="allocated")
    moved_in = fields.Field(attribute="moved_in", column_name="moved_in")
    moved_out = fields.Field(attribute="moved_out", column_name="moved_out")
    licenses = fields.Field(attribute="licenses", column_name="licenses")
    disability_reserved = fields.Field(attribute="disability_reserved", column_name="disability_reserved")
    general_seated = fields.Field(attribute="general_seated", column_name="general_seated")
    disability_seated = fields.Field(attribute="disability_seated", column_name="disability_seated")
    seated = fields.Field(attribute="seated", column_name="seated")
    waiting = fields.Field(attribute="waiting", column_name="waiting")
    free = fields.Field(attribute="free", column_name="free")

    class Meta:
        export_order = [
            "code",
            "name",
            "pool",
            "allocated",
            "moved_in",
            "moved_out",
            "licenses",
            "disability_reserved",
            "general_seated",
            "disability_seated",
            "seated",
            "waiting",
            "free",
        ]

    def export_field(self, field, instance, **kwargs):
        # Numbers stay numbers in the spreadsheet (the default widget would turn them into text).
        value = field.get_value(instance)
        return value if isinstance(value, int) else ("" if value is None else str(value))
