

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('fees', '0004_supplementary_invoices'),
    ]

    operations = [
        migrations.AddField(
            model_name='coursecompletion',
            name='grade',
            field=models.CharField(blank=True, help_text="The report's Course Grade, as written.", max_length=20),
        ),
        migrations.AddField(
            model_name='coursecompletion',
            name='learning_hours',
            field=models.DecimalField(blank=True, decimal_places=2, help_text="The report's estimated learning hours of the course; empty when the report had none.", max_digits=7, null=True),
        ),
    ]
