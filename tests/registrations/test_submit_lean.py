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
from registrations.services import RegistrationError, nomination_submit
from tests import factories
from tests.factories import student_data as student

User = get_user_model()


def submit(phase, university, actor, data, **kwargs):
    return nomination_submit(phase=phase, university=university, data=data, actor=actor, **kwargs)


def test_a_new_learner_joins_the_learner_group(phase, university, focal, quota):
    roles_ensure()
    nomination = submit(phase, university, focal, student())
    assert list(nomination.learner.groups.values_list("name", flat=True)) == [LEARNER]
    assert EmailAddress.objects.get(user=nomination.learner).primary


def test_without_the_learner_group_the_account_is_still_made(phase, university, focal, quota):
    Group.objects.filter(name=LEARNER).delete()
    nomination = submit(phase, university, focal, student())
    assert not nomination.learner.groups.exists()
    assert nomination.status == NominationStatus.SEATED


def test_the_account_holding_the_address_wins_over_one_named_after_it(phase, university, focal, quota):
    named = User.objects.create_user(username="shared@example.pk", email="shared@example.pk")
    holder = User.objects.create_user(username="somebody", email="other@example.pk")
    EmailAddress.objects.create(user=holder, email="Shared@Example.pk", verified=True, primary=False)

    nomination = submit(phase, university, focal, student(email="shared@example.pk"))

    assert nomination.learner == holder
    assert not EmailAddress.objects.filter(user=named).exists()  # nothing added to the other account
    assert EmailAddress.objects.filter(user=holder).count() == 1


def test_an_account_named_after_the_address_gets_it_as_its_primary_address(phase, university, focal, quota):
    named = User.objects.create_user(username="Named@Example.pk", email="")
    nomination = submit(phase, university, focal, student(email="named@example.pk"))
    assert nomination.learner == named
    address = EmailAddress.objects.get(user=named)
    assert (address.email, address.verified, address.primary) == ("named@example.pk", False, True)


def test_a_duplicate_the_form_did_not_see_is_refused_by_the_database_and_leaves_nothing(
    phase, university, focal, quota
):
    first = submit(phase, university, focal, student(n=900))
    users, entries = User.objects.count(), AuditEntry.objects.count()

    # As if the other nomination had arrived between the form's look-up and the service.
    with pytest.raises(RegistrationError, match="already nominated by your university"):
        submit(phase, university, focal, student(n=900, email="another@example.edu.pk"), duplicates_checked=True)

    assert list(Nomination.objects.values_list("pk", flat=True)) == [first.pk]
    assert (User.objects.count(), AuditEntry.objects.count()) == (users, entries)  # no account, no entry
    assert Quota.objects.get(pk=quota.pk).general_seated == 1


def test_inside_a_callers_transaction_a_refused_duplicate_lets_the_next_one_through(phase, university, focal, quota):
    submit(phase, university, focal, student(n=901))
    with transaction.atomic():
        with pytest.raises(RegistrationError):
            submit(phase, university, focal, student(n=901), duplicates_checked=True)
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
        # Session, user, phase, focal person with its disclaimer, duplicates; quota with its
        # disclaimer, the learner's account looked for by address and by name, account, group,
        # address, seat, nomination, audit entry, settlement.
        assert len(statements) <= 15, statements
    assert Nomination.objects.filter(university=university).count() == 3
