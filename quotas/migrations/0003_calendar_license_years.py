from django.db import migrations, models


def days_to_years(apps, schema_editor):
    Phase = apps.get_model("quotas", "Phase")
    for phase in Phase.objects.all():
        phase.license_years = max(1, round(phase.license_days / 365))
        phase.save(update_fields=["license_years"])


class Migration(migrations.Migration):
    dependencies = [("quotas", "0002_license_move_across_pools_beyond_caps")]

    operations = [
        migrations.AddField(
            model_name="phase",
            name="license_years",
            field=models.PositiveSmallIntegerField(
                default=1,
                help_text=(
                    "Calendar years a license lasts from activation, to the day before the same date: activated on "
                    "1 March 2023, a one-year license runs to the end of 29 February 2024."
                ),
            ),
        ),
        migrations.RunPython(days_to_years, migrations.RunPython.noop),
        migrations.RemoveField(model_name="phase", name="license_days"),
    ]
