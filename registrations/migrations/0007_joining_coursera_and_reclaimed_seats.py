import datetime

import django.db.models.deletion
from django.db import migrations, models


def joined_on_from_membership_imports(apps, schema_editor):
    """Learners whose Join Date an earlier membership report gave joined the program then.

    Before this migration the Join Date was kept only as the start of the license year, which the
    invitation also sets; the audit trail tells the two apart (memberships_import writes
    "nomination.activate" with the join date). Without this, every learner who joined before
    would look unclaimed and their seat could be reclaimed."""
    AuditEntry = apps.get_model("audit", "AuditEntry")
    Nomination = apps.get_model("registrations", "Nomination")
    latest: dict[int, datetime.date] = {}
    entries = AuditEntry.objects.filter(action="nomination.activate", target_type="registrations.nomination")
    for target_id, data in entries.order_by("at", "id").values_list("target_id", "data").iterator():
        try:
            latest[int(target_id)] = datetime.date.fromisoformat((data or {})["join_date"])
        except (KeyError, TypeError, ValueError):
            continue
    for pk, day in latest.items():
        Nomination.objects.filter(pk=pk).update(joined_on=day)


class Migration(migrations.Migration):

    dependencies = [
        ('registrations', '0006_nomination_certificate_due'),
        ('audit', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='nomination',
            name='joined_on',
            field=models.DateField(blank=True, help_text="When the learner joined the Coursera program (membership report's Join Date, or the API).", null=True),
        ),
        migrations.AlterField(
            model_name='nomination',
            name='status',
            field=models.CharField(choices=[('seated', 'Seated'), ('waiting', 'On the waiting list'), ('withdrawn', 'Withdrawn'), ('rejected', 'Rejected'), ('expired', 'Payment hold expired'), ('reclaimed', 'Seat reclaimed (never joined Coursera)')], max_length=10),
        ),
        migrations.CreateModel(
            name='JoinReminder',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('halfway', 'Half the time to join has passed'), ('last_week', 'A week left to join')], max_length=10)),
                ('join_by', models.DateField(help_text='The last day to join the Coursera program.')),
                ('decided_at', models.DateTimeField(auto_now_add=True)),
                ('emailed_at', models.DateTimeField(blank=True, null=True)),
                ('error', models.TextField(blank=True)),
                ('nomination', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='join_reminders', to='registrations.nomination')),
            ],
            options={
                'ordering': ['-decided_at'],
                'constraints': [models.UniqueConstraint(fields=('nomination', 'kind'), name='join_reminder_once_per_nomination_and_kind')],
            },
        ),
        migrations.RunPython(joined_on_from_membership_imports, migrations.RunPython.noop),
    ]
