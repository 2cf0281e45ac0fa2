"""Unclaimed seats go to the waiting list: a learner invited who never joins the Coursera program
is reminded at half the time and a week before the last day; once it has passed HEC staff see
them as unclaimed and reclaim the seats, which go to the next nominees waiting. Nothing happens
without the staff action. Learners are built through the real services (nominated, settled,
invited by the in-process task), and time passes by moving the invitation's send time back."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from quotas.models import Quota
from registrations.clearing import nomination_settle
from registrations.exceptions import RegistrationError
from registrations.models import Invitation, JoinReminder, Nomination, NominationStatus
from registrations.reclaim import (
    nominations_joined_record,
    seats_reclaim,
    unclaimed_learners,
)
from registrations.reminders import memberships_import
from registrations.services import nomination_reinstate, nomination_submit
from registrations.tasks import join_reminders_send
from tests import factories
from tests.registrations.conftest import student

pytestmark = pytest.mark.django_db

LINK = "https://www.coursera.org/programs/dlsei-hec?authProvider=hec"
SEATED, WAITING, RECLAIMED = NominationStatus.SEATED, NominationStatus.WAITING, NominationStatus.RECLAIMED


@pytest.fixture
def phase(db):
    return factories.make_phase(slug="p2021", coursera_invitation_url=LINK)


@pytest.fixture
def invite(phase, university, focal, quota, django_capture_on_commit_callbacks):
    """invite(n) → n learners of QAU nominated, settled and sent their invitation (after commit)."""
    counter = iter(range(1, 1000))

    def make(n: int = 1, **changes) -> list[Nomination]:
        made = []
        for _ in range(n):
            number = next(counter)
            fields = {"full_name": f"Learner {number}", **changes}
            nomination = nomination_submit(phase=phase, university=university, actor=focal,
                                           data=student(number, **fields))  # fmt: skip
            with django_capture_on_commit_callbacks(execute=True):
                nomination_settle(nomination=nomination, reason="Deposit recorded", actor=focal)
            made.append(Nomination.objects.get(pk=nomination.pk))
        return made

    return make


def invited_days_ago(nomination: Nomination, days: int) -> None:
    """As if the invitation had gone out ``days`` days ago (time passing)."""
    Invitation.objects.filter(nomination=nomination).update(sent_at=timezone.now() - datetime.timedelta(days=days))


def waiter(phase, university, focal, number: int) -> Nomination:
    nomination = nomination_submit(phase=phase, university=university, data=student(number), actor=focal)
    assert nomination.status == WAITING
    return nomination


def run_beat(django_capture_on_commit_callbacks) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return join_reminders_send.apply().get()


def test_invitations_go_out_through_the_real_services(invite):
    learner = invite()[0]
    invitation = Invitation.objects.get(nomination=learner)
    assert invitation.state == Invitation.State.SENT and learner.joined_on is None
    assert any(LINK in message.body for message in mail.outbox)


# Reminders to join ---------------------------------------------------------------------------------


def test_a_learner_who_has_not_joined_is_reminded_at_half_the_time_once(invite, django_capture_on_commit_callbacks):
    learner = invite(full_name="Hina Baloch", email="hina@example.edu.pk")[0]
    invited_days_ago(learner, 10)
    mail.outbox.clear()
    assert run_beat(django_capture_on_commit_callbacks) == 0  # 10 of 30 days: not yet

    invited_days_ago(learner, 15)
    assert run_beat(django_capture_on_commit_callbacks) == 1
    assert run_beat(django_capture_on_commit_callbacks) == 0  # beat runs hourly: still one
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    last_day = timezone.localdate() - datetime.timedelta(days=15) + datetime.timedelta(days=30)
    assert message.to == ["hina@example.edu.pk"]
    assert f"Join the DLSEI Coursera program by {last_day:%-d %B %Y}" in message.subject
    assert "(15 days left)" in message.body and LINK in message.body
    assert "HEC may give your seat to the next person on the waiting list" in message.body
    assert '<div lang="ur" dir="rtl"' in message.alternatives[0][0]
    reminder = JoinReminder.objects.get(nomination=learner)
    assert (reminder.kind, reminder.join_by) == ("halfway", last_day) and reminder.emailed_at is not None
    assert AuditEntry.objects.filter(action="join_reminder.sent", target_id=str(reminder.pk)).exists()


def test_and_again_a_week_before_the_last_day_then_never_after_it(invite, django_capture_on_commit_callbacks):
    learner = invite()[0]
    invited_days_ago(learner, 23)  # a late first run: the last week's reminder, not both
    mail.outbox.clear()
    assert run_beat(django_capture_on_commit_callbacks) == 1
    assert list(JoinReminder.objects.values_list("kind", flat=True)) == ["last_week"]
    invited_days_ago(learner, 26)
    assert run_beat(django_capture_on_commit_callbacks) == 0  # no halfway reminder after the last week's
    invited_days_ago(learner, 31)
    assert run_beat(django_capture_on_commit_callbacks) == 0
    assert len(mail.outbox) == 1 and "(7 days left)" in mail.outbox[0].body


def test_nobody_who_joined_or_lost_the_seat_is_reminded(phase, invite, focal, django_capture_on_commit_callbacks):
    joined, withdrawn, waiting = invite(3)
    for learner in (joined, withdrawn, waiting):
        invited_days_ago(learner, 16)
    nominations_joined_record(nomination_ids=[joined.pk], day=timezone.localdate(), actor=None, source="test")
    from registrations.services import nomination_withdraw

    nomination_withdraw(nomination=withdrawn, actor=factories.make_hec_staff(), reason="Left")
    assert run_beat(django_capture_on_commit_callbacks) == 1
    assert list(JoinReminder.objects.values_list("nomination_id", flat=True)) == [waiting.pk]


def test_a_phase_without_a_join_window_reminds_nobody(phase, invite, django_capture_on_commit_callbacks):
    learner = invite()[0]
    invited_days_ago(learner, 20)
    phase.join_within_days = 0
    phase.save(update_fields=["join_within_days"])
    assert run_beat(django_capture_on_commit_callbacks) == 0
    assert not unclaimed_learners(phase=phase).exists()


# Who is unclaimed ------------------------------------------------------------------------------------


def test_unclaimed_once_the_last_day_has_passed_without_joining(phase, invite):
    on_time, last_day_today, late = invite(3)
    invited_days_ago(on_time, 12)
    invited_days_ago(last_day_today, 30)
    invited_days_ago(late, 31)
    assert list(unclaimed_learners(phase=phase)) == [late]


def test_the_membership_report_or_a_usage_report_takes_a_learner_off_the_list(phase, invite, hec_staff):
    by_membership, by_usage, still = invite(3)
    for learner in (by_membership, by_usage, still):
        invited_days_ago(learner, 40)
    report = f"Email,External Id,Join Date\r\n{by_membership.email},{by_membership.learner_id_external},2021-10-01\r\n"
    memberships_import(phase=phase, data=report.encode(), filename="members.csv", actor=hec_staff)

    from fees.completions import completions_import  # a usage report: enrolled, so in the program

    usage = (
        "Email,External Id,Course,Course Type,Completed,Completion Time\r\n"
        f"{by_usage.email},,Machine Learning,Course,No,\r\n"
    )
    completions_import(phase=phase, data=usage.encode(), filename="usage.csv", actor=hec_staff)
    assert list(unclaimed_learners(phase=phase)) == [still]
    assert Nomination.objects.get(pk=by_membership.pk).joined_on == datetime.date(2021, 10, 1)
    assert Nomination.objects.get(pk=by_usage.pk).joined_on == timezone.localdate()
    assert AuditEntry.objects.filter(action="nomination.joined", target_id=str(by_usage.pk)).count() == 1


# Reclaiming ----------------------------------------------------------------------------------------


def test_a_reclaimed_seat_goes_to_the_next_waiting_nominee(
    phase, university, focal, quota, invite, hec_staff, django_capture_on_commit_callbacks
):
    unclaimed, _joined, _other = invite(3)
    first, second = waiter(phase, university, focal, 101), waiter(phase, university, focal, 102)
    invited_days_ago(unclaimed, 31)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        result = seats_reclaim(nominations=[unclaimed], actor=hec_staff)

    assert [n.pk for n in result.reclaimed] == [unclaimed.pk] and [n.pk for n in result.promoted] == [first.pk]
    unclaimed.refresh_from_db()
    assert unclaimed.status == RECLAIMED and unclaimed.seat_kind == ""
    assert "Did not join the Coursera program by" in unclaimed.status_reason
    assert Nomination.objects.get(pk=first.pk).status == SEATED
    assert Nomination.objects.get(pk=second.pk).status == WAITING
    quota.refresh_from_db()
    assert quota.general_seated == Nomination.objects.filter(quota=quota, status=SEATED).count() == 3
    entry = AuditEntry.objects.get(action="nomination.reclaim", target_id=str(unclaimed.pk))
    assert entry.actor == hec_staff and entry.data["to"] == "reclaimed"
    told = {message.to[0]: message for message in mail.outbox}
    assert "has gone to the waiting list" in told[unclaimed.email].subject
    assert "listed for return to you" in told[unclaimed.email].body
    assert "is now yours" in told[first.email].subject


def test_nothing_is_reclaimed_that_is_not_unclaimed(phase, invite, hec_staff):
    early, joined = invite(2)
    invited_days_ago(early, 20)
    invited_days_ago(joined, 40)
    nominations_joined_record(nomination_ids=[joined.pk], day=timezone.localdate(), actor=None, source="test")
    result = seats_reclaim(nominations=[early, joined], actor=hec_staff)
    assert not result.reclaimed
    assert result.refused == [
        f"{early.full_name} still has time to join the Coursera program; the seat cannot be reclaimed yet.",
        f"{joined.full_name} has joined the Coursera program; the seat stays theirs.",
    ]
    assert set(Nomination.objects.values_list("status", flat=True)) == {SEATED}


def test_only_hec_staff_reclaim(phase, invite, focal):
    learner = invite()[0]
    invited_days_ago(learner, 40)
    with pytest.raises(RegistrationError, match="Only HEC staff"):
        seats_reclaim(nominations=[learner], actor=focal)
    assert Nomination.objects.get(pk=learner.pk).status == SEATED


def test_time_passing_and_beat_reclaim_nothing(phase, invite, django_capture_on_commit_callbacks):
    learner = invite()[0]
    invited_days_ago(learner, 400)
    run_beat(django_capture_on_commit_callbacks)
    from registrations.tasks import alumni_holds_expire, reminders_send

    with django_capture_on_commit_callbacks(execute=True):
        reminders_send.apply().get()
        alumni_holds_expire.apply().get()
    assert Nomination.objects.get(pk=learner.pk).status == SEATED
    assert not AuditEntry.objects.filter(action="nomination.reclaim").exists()


def test_an_alumni_seat_goes_back_to_the_pool(phase, pool, hec_staff, django_capture_on_commit_callbacks):
    alumnus = factories.alumnus_register(phase=phase)
    with django_capture_on_commit_callbacks(execute=True):
        nomination_settle(nomination=alumnus, reason="Alumni payment verified", actor=hec_staff)
    invited_days_ago(alumnus, 45)
    result = seats_reclaim(nominations=[alumnus], actor=hec_staff)
    assert len(result.reclaimed) == 1 and not result.promoted
    pool_quota = Quota.objects.get(pk=pool.pk)
    assert pool_quota.general_seated == 0  # a free seat in the pool for the next alumnus
    assert factories.alumnus_register(phase=phase).status == SEATED


def test_a_reclaimed_nomination_can_be_reinstated_at_the_end_of_the_waiting_list(
    phase, university, focal, invite, hec_staff
):
    learner = invite(3)[0]  # the quota's 3 seats
    invited_days_ago(learner, 40)
    seats_reclaim(nominations=[learner], actor=hec_staff)
    invite(1)  # the freed seat is taken meanwhile
    back = nomination_reinstate(nomination=learner, actor=hec_staff)
    assert back.status == WAITING


# The staff page ------------------------------------------------------------------------------------


def test_staff_see_the_unclaimed_and_reclaim_them_in_bulk(
    client, phase, university, focal, invite, hec_staff, django_capture_on_commit_callbacks
):
    late_one, late_two, fine = invite(3)
    waiting = waiter(phase, university, focal, 201)
    invited_days_ago(late_one, 35)
    invited_days_ago(late_two, 31)
    invited_days_ago(fine, 3)
    client.force_login(hec_staff)
    url = reverse("registrations:staff_unclaimed", args=[phase.slug])

    page = client.get(url).content.decode()
    assert "2 learners have not joined by their last day." in page
    assert late_one.full_name in page and late_two.full_name in page and fine.full_name not in page
    assert "1 more learner has been invited and has not joined yet, but still has time." in page
    assert "the next of 1 waiting" in page
    assert "No Coursera membership report has been imported for this phase" in page

    refused = client.post(url, {"nominations": [late_one.pk]})  # not confirmed
    assert refused.status_code == 400 and "Tick the box to confirm" in refused.content.decode()
    assert Nomination.objects.get(pk=late_one.pk).status == SEATED

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"everything": "on", "confirm": "on"}, follow=True)
    text = done.content.decode()
    assert "2 seats reclaimed; 1 went to the next nominees on the waiting lists" in text
    assert "No seat is unclaimed" in text
    statuses = dict(Nomination.objects.values_list("pk", "status"))
    assert (statuses[late_one.pk], statuses[late_two.pk], statuses[fine.pk], statuses[waiting.pk]) == (
        RECLAIMED, RECLAIMED, SEATED, SEATED,
    )  # fmt: skip


def test_the_page_reclaims_only_what_was_ticked_and_says_what_it_refused(client, phase, invite, hec_staff):
    ticked, left = invite(2)
    invited_days_ago(ticked, 31)
    invited_days_ago(left, 31)
    client.force_login(hec_staff)
    url = reverse("registrations:staff_unclaimed", args=[phase.slug])
    assert client.post(url, {"confirm": "on"}).status_code == 400  # nothing ticked
    response = client.post(url, {"nominations": [ticked.pk], "confirm": "on", "reason": "Never joined"}, follow=True)
    assert "1 seat reclaimed" in response.content.decode()
    assert Nomination.objects.get(pk=ticked.pk).status_reason == "Never joined"
    assert Nomination.objects.get(pk=left.pk).status == SEATED
    # Ticked again from an old page: it is no longer in the list, so the form refuses it.
    again = client.post(url, {"nominations": [ticked.pk], "confirm": "on"})
    assert again.status_code == 400


def test_the_empty_page_says_what_will_appear(client, phase, hec_staff):
    client.force_login(hec_staff)
    page = client.get(reverse("registrations:staff_unclaimed", args=[phase.slug])).content.decode()
    assert "No seat is unclaimed" in page and "will be listed here" in page


def test_focal_persons_and_learners_cannot_reach_it(client, phase, focal, invite):
    url = reverse("registrations:staff_unclaimed", args=[phase.slug])
    client.force_login(focal)
    assert client.get(url).status_code == 403
    assert client.post(url, {"everything": "on", "confirm": "on"}).status_code == 403


def test_many_seats_are_reclaimed_by_a_task_and_the_page_answers_at_once(
    client, phase, university, invite, hec_staff, django_capture_on_commit_callbacks, monkeypatch
):
    from registrations import views_reclaim

    monkeypatch.setattr(views_reclaim, "IN_REQUEST", 1)  # "many" is two here
    learners = invite(3)
    for learner in learners[:2]:
        invited_days_ago(learner, 31)
    client.force_login(hec_staff)
    url = reverse("registrations:staff_unclaimed", args=[phase.slug])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(url, {"everything": "on", "confirm": "on"})
    assert response.status_code == 302
    assert {n.status for n in Nomination.objects.filter(pk__in=[n.pk for n in learners[:2]])} == {SEATED}
    with django_capture_on_commit_callbacks(execute=True):
        for callback in queued:  # what the commit would have queued: the task, run in-process
            callback()
    assert {n.status for n in Nomination.objects.filter(pk__in=[n.pk for n in learners[:2]])} == {RECLAIMED}
    messages = client.get(url).content.decode()
    assert "2 seats are being reclaimed in the background" in messages
