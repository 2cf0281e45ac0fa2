"""Indexes for finding a learner's account by e-mail, ignoring case.

Every nomination looks for the learner's account with ``email__iexact`` on allauth's addresses and
``username__iexact``/``email__iexact`` on the users; PostgreSQL writes those as ``UPPER(col) =
UPPER(%s)``, which no index of those apps serves, so each nomination scanned both tables, a cost
that grows with every learner of the year. SQLite compares with LIKE and has no use for them.
"""

from django.db import migrations

INDEXES = [
    ("dlsei_emailaddress_email_upper", "account_emailaddress", "email"),
    ("dlsei_user_username_upper", "auth_user", "username"),
    ("dlsei_user_email_upper", "auth_user", "email"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} (UPPER({column}))")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0001_initial"),
        ("account", "0009_emailaddress_unique_primary_email"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
