

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('quotas', '0004_disability_certificate_and_release_settings'),
    ]

    operations = [
        migrations.AddField(
            model_name='phase',
            name='coursera_program_id',
            field=models.CharField(blank=True, help_text="Coursera's id of this phase's program, for the Coursera API (optional; with the API credentials set, completions are then fetched without a CSV).", max_length=100),
        ),
        migrations.AddField(
            model_name='phase',
            name='join_within_days',
            field=models.PositiveSmallIntegerField(default=30, help_text='Days after the invitation within which a learner must join the Coursera program. Reminders go out at half this time and a week before it ends; after it HEC staff may reclaim the seat for the waiting list (never automatically).'),
        ),
    ]
