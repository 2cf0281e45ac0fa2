

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('fees', '0005_completion_grade_and_learning_hours'),
        ('quotas', '0005_phase_join_window_and_coursera_program'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CourseraSync',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('trigger', models.CharField(choices=[('beat', 'Scheduled'), ('staff', 'Asked for by HEC staff'), ('command', 'Command line')], max_length=10)),
                ('started_at', models.DateTimeField(auto_now_add=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('state', models.CharField(choices=[('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='running', max_length=10)),
                ('completed_after', models.DateTimeField(blank=True, help_text='Only enrollments completed after this time were asked for.', null=True)),
                ('records', models.PositiveIntegerField(default=0, help_text='Enrollment records Coursera returned.')),
                ('pages', models.PositiveIntegerField(default=0)),
                ('http_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                ('error', models.TextField(blank=True, help_text='Why the sync stopped and what to do, when it did.')),
                ('completion_import', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='coursera_syncs', to='fees.completionimport')),
                ('phase', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='coursera_syncs', to='quotas.phase')),
                ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-started_at', '-id'],
            },
        ),
    ]
