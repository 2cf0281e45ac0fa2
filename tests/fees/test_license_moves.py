"""License moves keep the allocation true: pools, caps, disability reserves, and the invoice of a
private university whose licenses rise (through the staff page HEC uses)."""

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from fees.invoices import invoice_issue, invoice_mark_paid
from fees.models import Invoice
from quotas.models import LicenseMove, Quota
from registrations.models import NominationStatus
from tests.fees.conftest import nominate_student, university_ready

pytestmark = pytest.mark.django_db


def move(client, phase, source, target, licenses, **extra):
    data = {
        "from_university": source.pk,
        "to_university": target.pk,
        "licenses": licenses,
        "reason": "Unused at the source",
    }
    data.update(extra)
    return client.post(reverse("fees:staff_license_moves", args=[phase.slug]), data, follow=True)


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def staff_client(client, hec_staff):
    client.force_login(hec_staff)
    return client


def test_a_move_across_pools_is_refused_unless_asked_for_and_the_pools_show_it(staff_client, phase):
    public, _ = university_ready(phase=phase, code="QAU", licenses=300, reserved=6)
    private, _ = university_ready(phase=phase, code="LUMS", sector="private", licenses=100)

    refused = move(staff_client, phase, public, private, 10)
    assert "a separate action" in page(refused)
    assert not LicenseMove.objects.exists()

    done = move(staff_client, phase, public, private, 10, across_pools="on")
    assert "10 licenses moved from QAU to LUMS" in page(done)
    recorded = LicenseMove.objects.get()
    assert recorded.across_pools and not recorded.beyond_caps
    # The pools' totals after it, beside their shares in the phase.
    listing = page(staff_client.get(reverse("fees:staff_license_moves", args=[phase.slug])))
    assert "changed by moves across pools" in listing and "across pools" in listing


def test_a_university_stays_within_the_caps_unless_staff_override_them_with_a_reason(staff_client, phase):
    big, _ = university_ready(phase=phase, code="PU", licenses=640, reserved=13)
    small, _ = university_ready(phase=phase, code="KU", licenses=120, reserved=3)

    over = move(staff_client, phase, small, big, 50)
    assert "above the most of 650" in page(over)
    under = move(staff_client, phase, small, big, 5)
    assert "5 licenses moved from KU to PU" in page(under)
    below = move(staff_client, phase, small, big, 3)  # PU would hold 648: fine; KU keeps 112
    assert "3 licenses moved" in page(below)
    too_far = move(staff_client, phase, small, big, 50, beyond_caps="on")
    assert "50 licenses moved from KU to PU" in page(too_far)
    assert Quota.objects.get(university=big).licenses == 698
    overridden = LicenseMove.objects.get(licenses=50)
    assert overridden.beyond_caps
    assert AuditEntry.objects.get(action="license.move", target_id=str(overridden.pk)).data["beyond_caps"] is True


def test_the_disability_reserve_follows_the_licenses_never_below_the_seats_taken(staff_client, phase, tmp_path):
    # The phase reserves 2 %, rounded as the phase says (up by default).
    source, focal = university_ready(phase=phase, code="QAU", licenses=150, reserved=3)
    target, _ = university_ready(phase=phase, code="PU", licenses=100, reserved=2)
    move(staff_client, phase, source, target, 70)
    source_quota, target_quota = Quota.objects.get(university=source), Quota.objects.get(university=target)
    assert (source_quota.licenses, source_quota.disability_reserved) == (80, 2)
    assert (target_quota.licenses, target_quota.disability_reserved) == (170, 4)

    # Reserved seats already taken are kept even when the share would be smaller.
    Quota.objects.filter(pk=source_quota.pk).update(disability_reserved=3, disability_seated=3)
    move(staff_client, phase, source, target, 10, beyond_caps="on")
    assert Quota.objects.get(university=source).disability_reserved == 3  # 2 % of 70 is 2; 3 are taken


def test_a_private_university_receiving_licenses_is_billed_for_them_and_its_extra_nominees_wait(
    staff_client, phase, hec_staff
):
    phase.coursera_invitation_url = "https://www.coursera.org/programs/dlsei?invite=abc"
    phase.save(update_fields=["coursera_invitation_url"])
    lums, focal = university_ready(phase=phase, code="LUMS", sector="private", licenses=2)
    fast, _ = university_ready(phase=phase, code="FAST", sector="private", licenses=20)
    first = invoice_issue(phase=phase, university=lums, actor=hec_staff)
    invoice_mark_paid(invoice=first, reference="PERN-1", actor=hec_staff)
    nominees = [nominate_student(phase=phase, university=lums, focal=focal) for _ in range(3)]
    assert [n.status for n in nominees] == ["seated", "seated", "waiting"]

    moved = move(staff_client, phase, fast, lums, 3)

    assert "supplementary invoice" in page(moved)
    supplement = Invoice.objects.exclude(pk=first.pk).get()
    assert (supplement.licenses, supplement.amount, supplement.supplements) == (3, 24_000, first)
    for nominee in nominees:
        nominee.refresh_from_db()
    assert nominees[2].status == NominationStatus.SEATED  # promoted into a moved-in seat
    assert [n.cleared_at is not None for n in nominees] == [True, True, False]  # not billed yet: waits

    invoice_mark_paid(invoice=supplement, reference="PERN-2", actor=hec_staff)
    nominees[2].refresh_from_db()
    assert nominees[2].cleared_at is not None


def test_a_private_university_whose_licenses_fall_is_refunded_nothing_silently(staff_client, phase, hec_staff):
    lums, _ = university_ready(phase=phase, code="LUMS", sector="private", licenses=20)
    fast, _ = university_ready(phase=phase, code="FAST", sector="private", licenses=20)
    paid = invoice_issue(phase=phase, university=lums, actor=hec_staff)
    invoice_mark_paid(invoice=paid, reference="PERN-1", actor=hec_staff)

    move(staff_client, phase, lums, fast, 5)

    assert Invoice.objects.count() == 1  # nothing cancelled or refunded by the move itself
    ledger = page(staff_client.get(reverse("fees:ledgers") + f"?phase={phase.slug}"))
    assert "LUMS" in ledger and "5 licenses paid for and not held" in ledger and "Rs 40,000" in ledger
