"""The license year: activation from the invitation or Coursera's membership report, reminders
30 and 7 days before the end (each once), and beat's hold expiry, all safe to run twice."""

import datetime

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEntry
from registrations.models import Nomination, NominationStatus, ReminderSent
from registrations.reminders import reminders_send_due
from registrations.tasks import alumni_holds_expire, reminders_send
from tests import factories

pytestmark = pytest.mark.django_db


def today() -> datetime.date:
    # Read each time: a long run can cross midnight in Pakistan (19:00 UTC).
    return timezone.localdate()


@pytest.fixture
def phase(db):
    return factories.make_phase(slug="p2021", coursera_invitation_url="https://www.coursera.org/programs/dlsei")


def activated(phase, *, days_left: int, **fields) -> Nomination:
    """A learner whose license year ends `days_left` days from today."""
    return factories.make_seated_nomination(
        phase=phase, activated_on=factories.activated_with_days_left(phase, days_left, today()), **fields
    )


def run_beat(django_capture_on_commit_callbacks, task=reminders_send):
    with django_capture_on_commit_callbacks(execute=True):
        return task.apply().get()


def test_a_reminder_goes_out_30_days_before_the_end_once(phase, django_capture_on_commit_callbacks):
    nomination = activated(phase, days_left=30, full_name="Hamza Ali", email="hamza@example.pk")
    assert run_beat(django_capture_on_commit_callbacks) == 1
    assert run_beat(django_capture_on_commit_callbacks) == 0  # beat runs every hour: still one
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    ends = today() + datetime.timedelta(days=30)
    assert message.to == ["hamza@example.pk"] and "ends in 30 days" in message.subject
    last_day = ends - datetime.timedelta(days=1)
    assert f"The last day of your DLSEI Coursera license is {last_day:%-d %B %Y}: 30 days left." in message.body
    assert "This e-mail cannot list your courses" in message.body
    assert "http://127.0.0.1:8000/fees/me/" in message.body
    assert "آپ کے DLSEI Coursera لائسنس کا آخری دن" in message.body
    html = message.alternatives[0][0]
    assert '<div lang="ur" dir="rtl"' in html and 'href="http://127.0.0.1:8000/fees/me/"' in html
    reminder = ReminderSent.objects.get(nomination=nomination)
    assert (reminder.days_before, reminder.license_ends_on) == (30, ends)
    assert reminder.emailed_at is not None
    assert AuditEntry.objects.filter(action="reminder.sent").count() == 1


def test_then_again_7_days_before(phase, django_capture_on_commit_callbacks):
    nomination = activated(phase, days_left=30)
    for days_later in range(0, 31):
        with django_capture_on_commit_callbacks(execute=True):
            reminders_send_due(today=today() + datetime.timedelta(days=days_later))
    assert sorted(ReminderSent.objects.filter(nomination=nomination).values_list("days_before", flat=True)) == [7, 30]
    assert len(mail.outbox) == 2


def test_a_late_activation_gets_only_the_nearest_reminder(phase, django_capture_on_commit_callbacks):
    activated(phase, days_left=5)  # its Join Date came in late: no "30 days left" with 5 days left
    activated(phase, days_left=45)  # not yet
    activated(phase, days_left=0)  # ended today: no reminder any more
    run_beat(django_capture_on_commit_callbacks)
    assert list(ReminderSent.objects.values_list("days_before", flat=True)) == [7]
    assert len(mail.outbox) == 1 and "ends in 5 days" in mail.outbox[0].subject


def test_no_reminder_without_an_active_license(phase, django_capture_on_commit_callbacks):
    withdrawn = activated(phase, days_left=7)
    Nomination.objects.filter(pk=withdrawn.pk).update(status=NominationStatus.WITHDRAWN, seat_kind="")
    factories.make_seated_nomination(phase=phase)  # never activated
    assert run_beat(django_capture_on_commit_callbacks) == 0
    assert mail.outbox == []


def test_the_reminder_days_are_the_phase_s(db, django_capture_on_commit_callbacks):
    phase = factories.make_phase(slug="p2022", reminder_days="14")
    activated(phase, days_left=30)
    soon = activated(phase, days_left=14)
    run_beat(django_capture_on_commit_callbacks)
    assert list(ReminderSent.objects.values_list("nomination_id", "days_before")) == [(soon.pk, 14)]


MEMBERSHIP_CSV = (
    "Name,Email,External Id,Program Name,Join Date,Member State\n"
    "Hamza Ali,HAMZA@example.pk,{ext},DLSEI,2021-10-04 09:12:00,MEMBER\n"
    "Someone Else,other@example.org,,Another programme,2021-10-05,MEMBER\n"
)


def test_membership_report_sets_the_activation_dates(phase, tmp_path, capsys):
    by_id = factories.make_seated_nomination(phase=phase, email="x@example.pk", activated_on=datetime.date(2021, 10, 9))
    path = tmp_path / "membership.csv"
    path.write_text(MEMBERSHIP_CSV.format(ext=by_id.learner_id_external))
    call_command("import_memberships", "--phase", phase.slug, str(path))
    assert "1 updated, 0 unchanged, 1 rows not matching" in capsys.readouterr().out
    by_id.refresh_from_db()
    assert by_id.activated_on == datetime.date(2021, 10, 4)
    audit = AuditEntry.objects.get(action="nomination.activate")
    assert audit.data == {"previous": "2021-10-09", "join_date": "2021-10-04"}

    call_command("import_memberships", "--phase", phase.slug, str(path))
    assert "0 updated, 1 unchanged" in capsys.readouterr().out


def test_membership_report_matches_by_email_without_an_external_id(phase, tmp_path):
    nomination = factories.make_seated_nomination(phase=phase, email="hamza@example.pk")
    path = tmp_path / "membership.csv"
    path.write_text(MEMBERSHIP_CSV.format(ext=""))
    call_command("import_memberships", "--phase", phase.slug, str(path))
    nomination.refresh_from_db()
    assert nomination.activated_on == datetime.date(2021, 10, 4)


def test_a_bad_join_date_changes_nothing(phase, tmp_path):
    nomination = factories.make_seated_nomination(phase=phase, email="hamza@example.pk")
    path = tmp_path / "membership.csv"
    path.write_text(MEMBERSHIP_CSV.format(ext="") + "Late,late@example.pk,,DLSEI,next week,MEMBER\n")
    with pytest.raises(CommandError, match="Nothing was imported. row 4: “next week” is not a date"):
        call_command("import_memberships", "--phase", phase.slug, str(path))
    nomination.refresh_from_db()
    assert nomination.activated_on is None


def test_a_report_without_the_columns_is_refused(phase, tmp_path):
    path = tmp_path / "membership.csv"
    path.write_text("Name,Email\nA,a@example.pk\n")
    with pytest.raises(CommandError, match="lacks these required columns: “External Id”, “Join Date”"):
        call_command("import_memberships", "--phase", phase.slug, str(path))


def test_beat_expires_unpaid_alumni_holds_once(phase, django_capture_on_commit_callbacks):
    alumnus = factories.make_seated_nomination(phase=phase, email="alum@example.pk")
    paid = factories.make_seated_nomination(phase=phase, email="paid@example.pk")
    past = timezone.now() - datetime.timedelta(hours=1)
    Nomination.objects.filter(pk__in=[alumnus.pk, paid.pk]).update(hold_expires_at=past)
    Nomination.objects.filter(pk=paid.pk).update(settled_at=past)
    alumnus.quota.__class__.objects.filter(pk=alumnus.quota_id).update(general_seated=2)

    assert run_beat(django_capture_on_commit_callbacks, alumni_holds_expire) == 1
    assert run_beat(django_capture_on_commit_callbacks, alumni_holds_expire) == 0
    alumnus.refresh_from_db()
    assert alumnus.status == NominationStatus.EXPIRED
    assert Nomination.objects.get(pk=paid.pk).status == NominationStatus.SEATED
    assert AuditEntry.objects.filter(action="nomination.expire").count() == 1
    assert [m.to for m in mail.outbox] == [["alum@example.pk"]]
