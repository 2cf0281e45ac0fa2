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
