"""Existing data moves onto the account rule: nothing a learner saw through a verified address is
lost, an address nobody proved shows nothing, and no two accounts hold one address afterwards."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

# The phase as it was then: no later quotas migration adds a column these tests' rows lack.
BEFORE = [("registrations", "0002_learner_email_lookup_indexes"), ("quotas", "0001_initial")]
AFTER = [("registrations", "0004_nominations_hold_no_accounts")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _latest_schema_afterwards():
    """The tests after these ones run on every migration, whichever state a test left."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_todays_learner_links_move_onto_verified_addresses():
    old = _migrate(BEFORE)
    User, EmailAddress = old.get_model("auth", "User"), old.get_model("account", "EmailAddress")
    Phase, Quota = old.get_model("quotas", "Phase"), old.get_model("quotas", "Quota")
    Nomination = old.get_model("registrations", "Nomination")

    def account(name, *addresses):
        user = User.objects.create(username=name, email=addresses[0][0] if addresses else "")
        for number, (email, verified) in enumerate(addresses):
            EmailAddress.objects.create(user=user, email=email, verified=verified, primary=number == 0)
        return user

    signed_in = account("signed-in", ("amna@example.pk", True))
    never_signed_in = account("never", ("bilal@example.pk", False))
    attacker = account("attacker", ("attacker@example.pk", True), ("chand@example.pk", False))
    chand = account("chand", ("chand@example.pk", False))
    squatter = account("squatter", ("dua@example.pk", False))
    dua = account("dua", ("dua@example.pk", True))

    phase = Phase.objects.create(
        slug="p",
        name="P",
        launch_date="2021-09-09",
        alumni_graduated_from="2019-09-09",
        alumni_graduated_until="2021-09-09",
        registration_opens_at="2021-09-09T00:00:00Z",
    )
    quota = Quota.objects.create(phase=phase, pool="alumni", licenses=10)
    for number, (email, learner) in enumerate(
        [
            ("amna@example.pk", signed_in),
            ("bilal@example.pk", never_signed_in),
            ("chand@example.pk", attacker),
            ("dua@example.pk", squatter),
        ]
    ):
        Nomination.objects.create(
            phase=phase,
            quota=quota,
            pool="alumni",
            role="alumnus",
            full_name=email,
            cnic=f"{3520100000000 + number}",
            email=email,
            status="waiting",
            submitted_by=learner,
            learner=learner,
        )

    new = _migrate(AFTER)
    EmailAddress = new.get_model("account", "EmailAddress")
    held = {(a.user_id, a.email, a.verified) for a in EmailAddress.objects.all()}
    assert (signed_in.pk, "amna@example.pk", True) in held  # still sees her nomination
    assert (never_signed_in.pk, "bilal@example.pk", False) in held  # signs in by code to prove it
    assert (attacker.pk, "chand@example.pk", False) not in held  # a claim typed into a form is gone
    assert (chand.pk, "chand@example.pk", False) in held
    assert (dua.pk, "dua@example.pk", True) in held and (squatter.pk, "dua@example.pk", False) not in held
    assert "learner" not in {f.name for f in new.get_model("registrations", "Nomination")._meta.get_fields()}

    with pytest.raises(IntegrityError), transaction.atomic():
        EmailAddress.objects.create(user_id=squatter.pk, email="amna@example.pk", verified=False, primary=False)


@pytest.mark.django_db(transaction=True)
def test_learners_whose_join_date_a_membership_report_gave_count_as_joined():
    old = _migrate(
        [("registrations", "0004_nominations_hold_no_accounts"), ("audit", "0001_initial"), ("quotas", "0001_initial")]
    )
    User, AuditEntry = old.get_model("auth", "User"), old.get_model("audit", "AuditEntry")
    Phase, Quota = old.get_model("quotas", "Phase"), old.get_model("quotas", "Quota")
    Nomination = old.get_model("registrations", "Nomination")
    focal = User.objects.create(username="focal")
    phase = Phase.objects.create(
        slug="p",
        name="P",
        launch_date="2021-09-09",
        alumni_graduated_from="2019-09-09",
        alumni_graduated_until="2021-09-09",
        registration_opens_at="2021-09-09T00:00:00Z",
    )
    quota = Quota.objects.create(phase=phase, pool="alumni", licenses=10)

    def seated(number, activated_on):
        return Nomination.objects.create(
            phase=phase, quota=quota, pool="alumni", role="alumnus", full_name=f"Learner {number}",
            cnic=f"{3520100000000 + number}", email=f"l{number}@example.pk", status="seated", seat_kind="general",
            submitted_by=focal, activated_on=activated_on,
        )  # fmt: skip

    joined = seated(1, "2021-10-20")  # the report moved the start of the year to the join date ...
    for day in ("2021-10-10", "2021-10-20"):  # ... twice: the later report is the one that stands
        AuditEntry.objects.create(action="nomination.activate", target_type="registrations.nomination",
                                  target_id=str(joined.pk), summary="join", data={"join_date": day})  # fmt: skip
    invited_only = seated(2, "2021-10-01")  # the start of the year is only the invitation's day

    new = _migrate([("registrations", "0007_joining_coursera_and_reclaimed_seats"), ("quotas", "0001_initial")])
    Nomination = new.get_model("registrations", "Nomination")
    assert str(Nomination.objects.get(pk=joined.pk).joined_on) == "2021-10-20"
    assert Nomination.objects.get(pk=invited_only.pk).joined_on is None
