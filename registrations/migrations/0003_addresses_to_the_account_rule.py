"""A nomination holds no account any more: an account sees a nomination through an address it has
verified (registrations.accounts). Today's data is moved onto that rule:

* the ``learner`` link goes; where its account verified the nomination's address, the verified
  address keeps showing the license, so nothing a learner already sees is lost;
* unverified addresses of accounts that verified another one are dropped: an address typed into
  a form (by anyone) is no claim, and under the new rule such an address can only be added by
  proving it;
* where several accounts hold one address, the one that verified it keeps it; if none did, the
  account the nomination was linked to keeps it, else the oldest row;
* then no two accounts may hold one address (a unique index on the lower-case address).
"""

from django.db import migrations
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower


def addresses_to_the_rule(apps, schema_editor):
    EmailAddress = apps.get_model("account", "EmailAddress")
    Nomination = apps.get_model("registrations", "Nomination")
    verified_elsewhere = EmailAddress.objects.filter(user_id=OuterRef("user_id"), verified=True)
    EmailAddress.objects.filter(verified=False).filter(Exists(verified_elsewhere)).delete()

    linked = {
        (email, learner_id)
        for email, learner_id in Nomination.objects.filter(learner__isnull=False).values_list("email", "learner_id")
    }
    rows: dict[str, list] = {}
    for row in EmailAddress.objects.annotate(email_lower=Lower("email")).order_by("id"):
        rows.setdefault(row.email_lower, []).append(row)
    for email, held in rows.items():
        if len(held) < 2:
            continue
        keep = next(
            (r for r in held if r.verified),
            next((r for r in held if (email, r.user_id) in linked), held[0]),
        )
        EmailAddress.objects.filter(pk__in=[r.pk for r in held if r.pk != keep.pk]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0002_learner_email_lookup_indexes"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    # Its own migration (own transaction): PostgreSQL builds no index on a table with the
    # deletions' deferred checks still pending.
    operations = [migrations.RunPython(addresses_to_the_rule, migrations.RunPython.noop)]
