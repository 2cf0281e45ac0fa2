"""A reclaimed seat's deposit goes back to the learner: listed for return on the ledgers (the
focal person's and HEC's), out of the refund cases, and said on the learner's own page."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from fees.deposit_returns import deposits_to_return
from fees.ledgers import ledger_totals
from fees.refunds import refund_cases, refunds_decide
from registrations.models import Invitation
from registrations.reclaim import seats_reclaim
from tests.factories import learner_account
from tests.fees.outcomes import outcomes_phase_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(hec_staff, django_capture_on_commit_callbacks):
    built = outcomes_phase_build(hec_staff=hec_staff, commit=django_capture_on_commit_callbacks)
    # q4 (QAU, deposit paid) and l2 (LUMS, private: no deposit) never joined; 40 days pass.
    Invitation.objects.filter(nomination__in=[built["q4"], built["l2"]]).update(
        sent_at=timezone.now() - datetime.timedelta(days=40)
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = seats_reclaim(nominations=[built["q4"], built["l2"]], actor=hec_staff)
    assert len(result.reclaimed) == 2
    return built


def test_the_reclaimed_deposit_is_listed_for_return_and_the_ledger_still_adds_up(built):
    q4 = built["q4"]
    assert [deposit.nomination_id for deposit in deposits_to_return(phase=built.phase)] == [q4.pk]
    assert q4.pk not in set(refund_cases(phase=built.phase).values_list("pk", flat=True))
    totals = ledger_totals(phase=built.phase, university=built.qau)
    assert (totals.return_count, totals.return_amount) == (1, 4000)
    assert totals.deposit_count == 4 and totals.adds_up


def test_the_focal_persons_ledger_lists_it(client, built):
    client.force_login(built.qau_focal)
    html = client.get(reverse("fees:ledgers"), {"phase": "outcomes"}).content.decode()
    assert "To return to the learner (seat reclaimed, or ended before the license began)" in html
    assert "Deposits to return" in html and "Learner q4" in html and "R-4" in html
    assert "The three columns add up" in html or "Adds up" in html


def test_deciding_refunds_later_leaves_the_returned_deposit_alone(built, hec_staff):
    decided = refunds_decide(phase=built.phase, as_of=timezone.localdate(), actor=hec_staff)
    assert built["q4"].pk not in {decision.nomination_id for decision in decided}
    assert deposits_to_return(phase=built.phase).count() == 1


def test_the_learner_reads_that_the_deposit_comes_back(client, built):
    q4 = built["q4"]
    client.force_login(learner_account(q4))
    html = client.get(reverse("fees:my_license")).content.decode()
    assert "Seat reclaimed (never joined Coursera)" in html
    assert "To be returned" in html and "Rs 4,000 deposit is listed for return" in html
