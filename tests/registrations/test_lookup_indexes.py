from django.contrib.auth import get_user_model
from django.db import connection


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny test table would be scanned anyway
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_learner_is_found_by_email_through_an_index_whatever_the_case(db):
    from allauth.account.models import EmailAddress

    users = get_user_model().objects
    lookups = [
        users.filter(email__iexact="Ayesha@Example.PK"),
        users.filter(username__iexact="Ayesha@Example.PK"),
        EmailAddress.objects.filter(email__iexact="Ayesha@Example.PK"),
    ]
    if connection.vendor == "postgresql":
        plans = [_plan(lookup) for lookup in lookups]
        assert all("dlsei_" in plan and "Seq Scan" not in plan for plan in plans), plans
    else:
        # SQLite compares ignoring case with LIKE, which needs no index of ours.
        assert all("LIKE" in str(lookup.query) for lookup in lookups)
