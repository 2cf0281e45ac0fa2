"""The second half of 0003: the nomination's account link goes, nominations are found by address in
any phase, and no two accounts may hold one address."""

from django.db import migrations, models

UNIQUE_ADDRESS = "registrations_one_account_per_address"


class Migration(migrations.Migration):
    dependencies = [("registrations", "0003_addresses_to_the_account_rule")]

    operations = [
        migrations.RemoveField(model_name="nomination", name="learner"),
        migrations.AddIndex(
            model_name="nomination",
            index=models.Index(fields=["email"], name="nomination_email_any_phase"),
        ),
        migrations.RunSQL(
            f"CREATE UNIQUE INDEX {UNIQUE_ADDRESS} ON account_emailaddress (LOWER(email))",
            f"DROP INDEX {UNIQUE_ADDRESS}",
        ),
    ]
