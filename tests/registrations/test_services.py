"""Registration services: seats, the waiting list, promotion, reinstatement, alumni holds, moves."""

import datetime

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEntry
from quotas.exceptions import QuotaError
from quotas.models import Quota
from registrations.models import Disclaimer, Invitation, Nomination, NominationStatus
from registrations.selectors import (
    nominations_of_university,
    status_counts,
    waiting_counts,
    waiting_list,
    waiting_position,
)
from registrations.services import (
    RegistrationError,
    alumni_hold_set,
    alumni_holds_expire,
    disclaimer_upload,
    licenses_move,
    nomination_reinstate,
    nomination_reject,
    nomination_submit,
    nomination_withdraw,
    waiting_list_promote,
)
from tests import factories
from tests.factories import PDF, disclaimer_on_file, pdf_upload
from tests.factories import alumnus_data as alumnus
from tests.factories import student_data as student

User = get_user_model()

SEATED, WAITING = NominationStatus.SEATED, NominationStatus.WAITING


def submit(phase, university, actor, data=None, **files):
    return nomination_submit(phase=phase, university=university, data=data or student(), actor=actor, **files)


def fill(phase, university, actor, count):
    return [submit(phase, university, actor) for _ in range(count)]


def counters(quota):
    quota.refresh_from_db()
    return quota.general_seated, quota.disability_seated


# Submitting ---------------------------------------------------------------------------------------


def test_a_nomination_takes_a_free_seat_and_the_person_gets_an_account(phase, university, focal, quota):
    data = student(full_name="  Ayesha   Khan ", cnic="35202-1234567-1", email=" Ayesha.Khan@Example.EDU.pk ")
    nomination = submit(phase, university, focal, data)

    nomination.refresh_from_db()
    assert nomination.status == SEATED
    assert nomination.seat_kind == "general"
    assert nomination.seated_at is not None
    assert (nomination.full_name, nomination.cnic, nomination.email) == (
        "Ayesha Khan",
        "3520212345671",
        "ayesha.khan@example.edu.pk",
    )
    assert nomination.hold_expires_at is None  # only alumni seats are held for a payment
    assert counters(quota) == (1, 0)
    # A nomination is about the person: no account, address or group membership is made for it.
    assert not EmailAddress.objects.filter(email="ayesha.khan@example.edu.pk").exists()
    assert not User.objects.filter(username="ayesha.khan@example.edu.pk").exists()
    assert nomination.submitted_by == focal
    entry = AuditEntry.objects.get(action="nomination.submit", target_id=str(nomination.pk))
    assert entry.actor == focal
    assert "3520212345671" not in entry.summary  # the CNIC is masked in the trail


def test_when_the_quota_is_full_nominations_join_the_waiting_list_in_arrival_order(phase, university, focal, quota):
    nominations = fill(phase, university, focal, 5)
    assert [n.status for n in nominations] == [SEATED] * 3 + [WAITING] * 2
    assert counters(quota) == (3, 0)
    assert list(waiting_list(quota_id=quota.pk)) == nominations[3:]
    assert waiting_counts(phase=phase) == {quota.pk: 2}
    assert status_counts(phase=phase) == {quota.pk: {"seated": 3, "waiting": 2}}


def test_a_nomination_before_the_disclaimer_is_refused(phase, university, focal):
    factories.make_quota(phase=phase, university=university, licenses=3)
    with pytest.raises(RegistrationError, match="Upload the signed disclaimer form first."):
        submit(phase, university, focal)
    assert not Nomination.objects.exists()


def test_every_problem_is_reported_at_once_and_nothing_is_written(phase, university, focal, quota):
    data = student(full_name=" ", cnic="12345", email="not-an-email", programme_years=14)
    with pytest.raises(RegistrationError) as refused:
        submit(phase, university, focal, data)
    message = refused.value.message
    assert "The full name is missing." in message
    assert "too short" in message
    assert "is not an e-mail address" in message
    assert "16 years of education or more" in message
    assert not Nomination.objects.exists()
    assert counters(quota) == (0, 0)


def test_a_focal_person_cannot_nominate_for_another_university(phase, university, other_focal, quota):
    with pytest.raises(RegistrationError, match="only for your own university"):
        submit(phase, university, other_focal)
    assert not Nomination.objects.exists()


def test_an_account_that_is_neither_focal_person_nor_staff_cannot_nominate_or_withdraw(phase, university, focal, quota):
    nomination = submit(phase, university, focal)
    learner = factories.learner_account(nomination)
    with pytest.raises(RegistrationError, match="Only the university's focal person or HEC staff"):
        submit(phase, university, learner)
    with pytest.raises(RegistrationError, match="Only the university's focal person or HEC staff"):
        nomination_withdraw(nomination=nomination, actor=learner, reason="Not me")
    nomination.refresh_from_db()
    assert nomination.status == SEATED
    assert Nomination.objects.count() == 1


def test_hec_staff_may_act_for_any_university(phase, university, focal, hec_staff, quota):
    nomination = submit(phase, university, focal)
    nomination_withdraw(nomination=nomination, actor=hec_staff, reason="Asked by the university")
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.WITHDRAWN


def test_without_a_published_quota_the_nomination_is_refused_clearly(phase, university, focal):
    disclaimer_on_file(phase=phase, university=university, user=focal)
    with pytest.raises(RegistrationError, match="has no licenses in .* yet"):
        submit(phase, university, focal)


def test_registration_closed_refuses(phase, university, focal, quota):
    phase.registration_closes_at = timezone.now() - datetime.timedelta(minutes=1)
    phase.save(update_fields=["registration_closes_at"])
    with pytest.raises(RegistrationError, match="closed on"):
        submit(phase, university, focal)


def test_the_same_person_twice_is_refused_even_through_another_university(
    phase, university, other_university, focal, other_focal, quota, other_quota
):
    submit(phase, university, focal, student(1))
    with pytest.raises(RegistrationError) as refused:
        submit(phase, other_university, other_focal, student(2, cnic=student(1).cnic))
    assert "through another university or the alumni pool" in refused.value.message
    assert "QAU" not in refused.value.message and "Student 1" not in refused.value.message
    assert Nomination.objects.count() == 1


def test_a_withdrawn_person_may_be_nominated_again(phase, university, focal, quota):
    first = submit(phase, university, focal, student(1))
    nomination_withdraw(nomination=first, actor=focal, reason="Left the university")
    again = submit(phase, university, focal, student(1))
    assert again.status == SEATED


def test_an_alumnus_registers_with_their_own_account_and_no_other_is_made(phase, focal, pool):
    user = factories.make_user(email="Alum@Example.pk")
    nomination = nomination_submit(phase=phase, university=None, data=alumnus(email="alum@example.pk"), actor=user)
    assert nomination.submitted_by == user
    assert EmailAddress.objects.filter(email__iexact="alum@example.pk").count() == 1


# Disability seats ------------------------------------------------------------------------------------


def test_a_disability_nominee_with_certificate_takes_a_reserved_seat_then_a_general_one(phase, university, focal):
    disclaimer_on_file(phase=phase, university=university, user=focal)
    quota = factories.make_quota(phase=phase, university=university, licenses=2, disability_reserved=1)
    first = submit(phase, university, focal, student(disability=True), disability_certificate=pdf_upload())
    second = submit(phase, university, focal, student(disability=True), disability_certificate=pdf_upload())
    without = submit(phase, university, focal, student(disability=True))
    assert (first.seat_kind, second.seat_kind) == ("disability", "general")
    assert without.status == WAITING  # no certificate: general seats only, and they are taken
    assert counters(quota) == (1, 1)
    first.refresh_from_db()
    assert first.disability_certificate.name.startswith("certificates/")
    assert first.disability_certificate.read().startswith(b"%PDF-")


def test_a_certificate_that_is_not_a_document_is_refused(phase, university, focal, quota):
    fake = SimpleUploadedFile("certificate.pdf", b"<html>not a pdf</html>")
    with pytest.raises(RegistrationError, match="Disability certificate: This file is not"):
        submit(phase, university, focal, student(disability=True), disability_certificate=fake)
    assert not Nomination.objects.exists()


# Withdrawal, rejection and promotion --------------------------------------------------------------


def test_withdrawing_a_seated_nomination_promotes_the_earliest_waiting_one_and_tells_them(
    phase, university, focal, quota, django_capture_on_commit_callbacks
):
    seated, _, _, first_waiting, second_waiting = fill(phase, university, focal, 5)
    with django_capture_on_commit_callbacks(execute=True):
        nomination_withdraw(nomination=seated, actor=focal, reason="Left the university")

    assert seated.status == NominationStatus.WITHDRAWN  # the caller's object shows it
    seated.refresh_from_db()
    assert (seated.status, seated.seat_kind, seated.status_reason) == ("withdrawn", "", "Left the university")
    first_waiting.refresh_from_db()
    second_waiting.refresh_from_db()
    assert (first_waiting.status, first_waiting.seat_kind) == (SEATED, "general")
    assert first_waiting.seated_at is not None
    assert second_waiting.status == WAITING
    assert counters(quota) == (3, 0)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [first_waiting.email]
    assert "A DLSEI seat is now yours" in message.subject
    assert "you were the next on the waiting list" in message.body
    assert "QAU" in message.body or university.name in message.body
    assert "<h1>" in message.alternatives[0][0]
    assert AuditEntry.objects.filter(action="nomination.promote", target_id=str(first_waiting.pk)).exists()


def test_withdrawing_a_waiting_nomination_frees_no_seat(
    phase, university, focal, quota, django_capture_on_commit_callbacks
):
    nominations = fill(phase, university, focal, 5)
    with django_capture_on_commit_callbacks(execute=True):
        nomination_withdraw(nomination=nominations[3], actor=focal, reason="Asked to")
    nominations[4].refresh_from_db()
    assert nominations[4].status == WAITING
    assert counters(quota) == (3, 0)
    assert mail.outbox == []


def test_a_nomination_cannot_be_withdrawn_twice(phase, university, focal, quota):
    nomination = submit(phase, university, focal)
    stale = Nomination.objects.get(pk=nomination.pk)
    nomination_withdraw(nomination=nomination, actor=focal, reason="Left")
    with pytest.raises(RegistrationError, match="already withdrawn"):
        nomination_withdraw(nomination=stale, actor=focal, reason="Left")
    assert counters(quota) == (0, 0)  # the seat was given back once only


def test_only_hec_staff_reject_and_they_must_say_why(phase, university, focal, hec_staff, quota):
    seated, _, _, waiting = fill(phase, university, focal, 4)
    with pytest.raises(RegistrationError, match="Only HEC staff"):
        nomination_reject(nomination=seated, actor=focal, reason="Fake CNIC")
    with pytest.raises(RegistrationError, match="Say why"):
        nomination_reject(nomination=seated, actor=hec_staff, reason="  ")
    nomination_reject(nomination=seated, actor=hec_staff, reason="Not enrolled")
    seated.refresh_from_db()
    waiting.refresh_from_db()
    assert (seated.status, seated.status_reason) == ("rejected", "Not enrolled")
    assert waiting.status == SEATED


def test_a_freed_reserved_seat_goes_to_the_first_disability_waiter_general_waiters_keep_their_place(
    phase, university, focal
):
    disclaimer_on_file(phase=phase, university=university, user=focal)
    quota = factories.make_quota(phase=phase, university=university, licenses=2, disability_reserved=1)
    reserved = submit(phase, university, focal, student(disability=True), disability_certificate=pdf_upload())
    submit(phase, university, focal)  # the general seat
    general_waiter = submit(phase, university, focal)
    disability_waiter = submit(phase, university, focal, student(disability=True), disability_certificate=pdf_upload())
    assert (general_waiter.status, disability_waiter.status) == (WAITING, WAITING)

    nomination_withdraw(nomination=reserved, actor=focal, reason="Left")

    general_waiter.refresh_from_db()
    disability_waiter.refresh_from_db()
    assert general_waiter.status == WAITING  # skipped: no general seat is free
    assert (disability_waiter.status, disability_waiter.seat_kind) == (SEATED, "disability")
    assert counters(quota) == (1, 1)


def test_promotion_fills_every_free_seat_in_order(phase, university, focal, quota):
    nominations = fill(phase, university, focal, 6)
    Quota.objects.filter(pk=quota.pk).update(licenses=5)  # e.g. a correction of the allocation
    promoted = waiting_list_promote(quota_id=quota.pk)
    assert promoted == nominations[3:5]
    assert [n.status for n in Nomination.objects.order_by("id")] == [SEATED] * 5 + [WAITING]
    assert waiting_list_promote(quota_id=quota.pk) == []  # nothing free: nothing changes


def test_a_promoted_nomination_already_settled_is_cleared_for_its_invitation(phase, university, focal, quota):
    nominations = fill(phase, university, focal, 4)
    waiting = nominations[3]
    Nomination.objects.filter(pk=waiting.pk).update(settled_at=timezone.now(), settled_reason="Deposit recorded")
    nomination_withdraw(nomination=nominations[0], actor=focal, reason="Left")
    waiting.refresh_from_db()
    assert waiting.status == SEATED
    assert waiting.cleared_at is not None
    assert Invitation.objects.filter(nomination=waiting).exists()


# Reinstatement ----------------------------------------------------------------------------------------


def test_a_reinstated_nomination_joins_the_end_of_the_waiting_list(phase, university, focal, hec_staff, quota):
    nominations = fill(phase, university, focal, 5)
    rejected = nominations[0]
    nomination_reject(nomination=rejected, actor=hec_staff, reason="Documents missing")
    later = submit(phase, university, focal)  # arrives after the rejection, before the reinstatement

    nomination_reinstate(nomination=rejected, actor=hec_staff)

    rejected.refresh_from_db()
    assert (rejected.status, rejected.status_reason) == (WAITING, "")
    waiting_ids = list(waiting_list(quota_id=quota.pk).values_list("id", flat=True))
    assert waiting_ids == [nominations[4].pk, later.pk, rejected.pk]
    places = [waiting_position(nomination=Nomination.objects.get(pk=pk)) for pk in waiting_ids]
    assert places == [1, 2, 3]  # the place the focal person and the learner are shown
    nomination_withdraw(nomination=nominations[1], actor=focal, reason="Left")
    nomination_withdraw(nomination=nominations[2], actor=focal, reason="Left")
    assert list(waiting_list(quota_id=quota.pk)) == [rejected]  # promoted last of the three


def test_a_reinstated_nomination_takes_a_free_seat(phase, university, focal, hec_staff, quota):
    nomination = submit(phase, university, focal)
    nomination_withdraw(nomination=nomination, actor=focal, reason="By mistake")
    nomination_reinstate(nomination=nomination, actor=hec_staff)
    nomination.refresh_from_db()
    assert (nomination.status, nomination.seat_kind) == (SEATED, "general")
    assert counters(quota) == (1, 0)


def test_reinstating_checks_the_one_license_rule_again(phase, university, focal, hec_staff, quota):
    first = submit(phase, university, focal, student(7))
    nomination_withdraw(nomination=first, actor=focal, reason="Mistake")
    submit(phase, university, focal, student(7))  # nominated again meanwhile
    with pytest.raises(RegistrationError, match="already registered in this phase, in QAU"):
        nomination_reinstate(nomination=first, actor=hec_staff)
    first.refresh_from_db()
    assert first.status == NominationStatus.WITHDRAWN


def test_only_staff_reinstate_and_only_inactive_nominations(phase, university, focal, hec_staff, quota):
    nomination = submit(phase, university, focal)
    with pytest.raises(RegistrationError, match="Only HEC staff"):
        nomination_reinstate(nomination=nomination, actor=focal)
    with pytest.raises(RegistrationError, match="Only a rejected, withdrawn or reclaimed nomination"):
        nomination_reinstate(nomination=nomination, actor=hec_staff)


# Alumni holds ---------------------------------------------------------------------------------------


def test_an_alumni_seat_is_held_for_the_phase_payment_days(phase, pool):
    user = factories.make_user(email="alum1@example.pk")
    before = timezone.now()
    nomination = nomination_submit(phase=phase, university=None, data=alumnus(email="alum1@example.pk"), actor=user,
                                   transcript=pdf_upload("transcript.pdf"))  # fmt: skip
    nomination.refresh_from_db()
    assert nomination.status == SEATED
    assert nomination.pool == "alumni" and nomination.role == "alumnus"
    hold = nomination.hold_expires_at - before
    assert datetime.timedelta(days=phase.payment_hold_days) <= hold < datetime.timedelta(days=14, minutes=1)
    assert nomination.transcript.read() == PDF
    assert nomination.graduation_date == datetime.date(2020, 6, 30)


def test_expired_holds_free_the_seat_for_the_next_alumnus_once(phase, pool, django_capture_on_commit_callbacks):
    first, second, waiting = (factories.alumnus_register(phase=phase) for _ in range(3))
    assert waiting.status == WAITING
    alumni_hold_set(nomination=second, until=None, actor=None)  # second paid: its seat is no longer on hold
    later = timezone.now() + datetime.timedelta(days=15)

    with django_capture_on_commit_callbacks(execute=True):
        assert alumni_holds_expire(now=later) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert alumni_holds_expire(now=later) == 0  # idempotent

    first.refresh_from_db()
    second.refresh_from_db()
    waiting.refresh_from_db()
    assert (first.status, first.seat_kind) == (NominationStatus.EXPIRED, "")
    assert second.status == SEATED
    assert waiting.status == SEATED
    assert waiting.hold_expires_at > timezone.now() + datetime.timedelta(days=13)  # a fresh hold
    assert counters(pool) == (2, 0)
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert "seat hold has expired" in subjects[first.email]
    assert "A DLSEI seat is now yours" in subjects[waiting.email]
    promoted_mail = next(m for m in mail.outbox if m.to == [waiting.email])
    assert "Your seat is held until" in promoted_mail.body


def test_settled_alumni_never_expire(phase, pool):
    nomination = factories.alumnus_register(phase=phase)
    Nomination.objects.filter(pk=nomination.pk).update(settled_at=timezone.now())
    assert alumni_holds_expire(now=timezone.now() + datetime.timedelta(days=30)) == 0


def test_a_hold_cannot_be_set_on_an_ended_nomination(phase, university, focal, quota, pool):
    nomination = submit(phase, university, focal)
    with pytest.raises(RegistrationError, match="Only alumni seats"):
        alumni_hold_set(nomination=nomination, until=None, actor=None)
    alum = factories.alumnus_register(phase=phase)
    alumni_holds_expire(now=timezone.now() + datetime.timedelta(days=30))
    with pytest.raises(RegistrationError, match="can no longer be held"):
        alumni_hold_set(nomination=alum, until=timezone.now(), actor=None)


# Moves and disclaimers -------------------------------------------------------------------------------


def test_licenses_moved_in_go_to_the_waiting_list_at_once(
    phase, university, other_university, focal, hec_staff, quota, other_quota
):
    factories.small_universities(phase)
    nominations = fill(phase, university, focal, 5)
    move = licenses_move(
        phase=phase,
        from_university=other_university,
        to_university=university,
        licenses=1,
        reason="PU does not use them",
        actor=hec_staff,
    )
    assert move.licenses == 1
    statuses = [n.status for n in Nomination.objects.filter(pk__in=[n.pk for n in nominations]).order_by("id")]
    assert statuses == [SEATED] * 4 + [WAITING]
    with pytest.raises(QuotaError, match="unused licenses"):
        licenses_move(phase=phase, from_university=other_university, to_university=university, licenses=5,
                      reason="More", actor=hec_staff)  # fmt: skip


def test_the_disclaimer_must_be_a_real_pdf(phase, university, focal):
    disclaimer = disclaimer_upload(phase=phase, university=university, file=pdf_upload("signed.pdf"), actor=focal)
    assert disclaimer.file.read() == PDF
    assert AuditEntry.objects.filter(action="disclaimer.upload").count() == 1
    with pytest.raises(RegistrationError, match="not a PDF"):
        disclaimer_upload(
            phase=phase, university=university, file=SimpleUploadedFile("signed.pdf", b"PK\x03\x04zip"), actor=focal
        )
    assert Disclaimer.objects.count() == 1


def test_nominations_of_a_university_filter_by_status_role_and_search(phase, university, focal, quota):
    fill(phase, university, focal, 4)
    faculty = submit(phase, university, focal, student(full_name="Dr Sana Mir", role="faculty", programme_years=None))
    assert nominations_of_university(phase=phase, university=university).count() == 5
    assert list(nominations_of_university(phase=phase, university=university, role="faculty")) == [faculty]
    assert nominations_of_university(phase=phase, university=university, status="waiting").count() == 2
    assert list(nominations_of_university(phase=phase, university=university, search="sana")) == [faculty]
    assert list(nominations_of_university(phase=phase, university=university, search=faculty.cnic)) == [faculty]
