"""One nomination in few statements, without losing a rule: the learner's account, a duplicate that
arrives after the form's look-up, and the statements a nomination through the page costs."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEntry
from quotas.models import Quota
from registrations.models import Nomination, NominationStatus
from registrations.roles import LEARNER, roles_ensure
from registrations.selectors import nominations_of_account
from registrations.services import RegistrationError, nomination_submit
from tests import factories
from tests.factories import student_data as student

User = get_user_model()


def submit(phase, university, actor, data, **kwargs):
    return nomination_submit(phase=phase, university=university, data=data, actor=actor, **kwargs)


def test_a_nomination_makes_no_account_address_or_group_membership(phase, university, focal, quota):
    roles_ensure()
    users, addresses = User.objects.count(), EmailAddress.objects.count()
    nomination = submit(phase, university, focal, student(email="New.Person@Example.edu.pk"))
    assert nomination.email == "new.person@example.edu.pk"
    assert (User.objects.count(), EmailAddress.objects.count()) == (users, addresses)
    assert not Group.objects.get(name=LEARNER).user_set.exists()


def test_an_account_that_holds_the_address_unverified_gains_nothing(phase, university, focal, quota):
    holder = User.objects.create_user(username="somebody", email="other@example.pk")
    EmailAddress.objects.create(user=holder, email="shared@example.pk", verified=False, primary=True)

    nomination = submit(phase, university, focal, student(email="shared@example.pk"))

    assert not nominations_of_account(user=holder).exists()
    EmailAddress.objects.filter(user=holder).update(verified=True)
    assert list(nominations_of_account(user=holder)) == [nomination]


def test_a_duplicate_is_refused_by_the_seats_query_and_leaves_nothing(phase, university, focal, quota):
    first = submit(phase, university, focal, student(n=900))
    users, entries = User.objects.count(), AuditEntry.objects.count()

    with pytest.raises(RegistrationError, match="already nominated by your university") as refused:
        submit(phase, university, focal, student(n=900, email="another@example.edu.pk"))
    assert [field for field, _problem in refused.value.on_fields] == ["cnic"]

    assert list(Nomination.objects.values_list("pk", flat=True)) == [first.pk]
    assert (User.objects.count(), AuditEntry.objects.count()) == (users, entries)  # no entry
    assert Quota.objects.get(pk=quota.pk).general_seated == 1


def test_inside_a_callers_transaction_a_refused_duplicate_lets_the_next_one_through(phase, university, focal, quota):
    submit(phase, university, focal, student(n=901))
    with transaction.atomic():
        with pytest.raises(RegistrationError):
            submit(phase, university, focal, student(n=901))
        second = submit(phase, university, focal, student(n=902))
    assert Nomination.objects.get(pk=second.pk).status == NominationStatus.SEATED
    assert Quota.objects.get(pk=quota.pk).general_seated == 2


def test_a_focal_persons_nomination_through_the_page_costs_a_fixed_number_of_statements(
    client, phase, university, focal, quota
):
    roles_ensure()
    client.force_login(focal)
    for n in range(3):  # the same with a few nominations on file as with none
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                reverse("registrations:focal_nominee_add"),
                {
                    "full_name": f"Page Student {n}",
                    "cnic": factories.cnic_for(950 + n),
                    "email": f"page{n}@example.edu.pk",
                    "phone": "03001234567",
                    "role": "student",
                    "programme_years": "16",
                },
            )
        assert response.status_code == 302
        transaction_control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
        statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(transaction_control)]
        # Session, user, phase, the focal person with its disclaimer; the quota with the checks of
        # a nomination (disclaimer, one license per person, no staff address); the seat's UPDATE,
        # the nomination's INSERT, its audit entry's INSERT. No account is made.
        assert len(statements) <= 8, statements
    assert Nomination.objects.filter(university=university).count() == 3
