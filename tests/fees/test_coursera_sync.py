"""Coursera's data without a CSV: the enrollment reports pulled through the API (a small local fake
of it, tests/coursera_fake.py: no request leaves the machine) into the same completion records the
CSV upload writes. Off unless configured; errors shown to HEC staff with what to do; nothing a
learner achieved is ever removed by a sync."""

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from fees.coursera_sync import content_type_name, enrollment_reports_sync, enrollment_reports_sync_all
from fees.exceptions import FeeError
from fees.models import CompletionImport, CourseCompletion, CourseraSync, RefundDecision, UnmatchedCompletionRow
from fees.refunds import refunds_decide
from fees.tasks import enrollment_reports_sync_all as beat_task
from registrations.models import Nomination, NominationStatus
from registrations.reminders import memberships_import
from tests.coursera_fake import PROGRAM_ID, FakeCoursera
from tests.fees.outcomes import outcomes_phase_build

pytestmark = pytest.mark.django_db


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def enrollment(nomination, slug: str, *, name: str, kind: str = "COURSE", hours: float | None = 10.0,
               completed: dt.datetime | None = None, state: str = "MEMBER") -> dict:  # fmt: skip
    return {
        "externalId": nomination.learner_id_external if nomination else "DLSEI-999-1",
        "email": nomination.email if nomination else "ghost@example.pk",
        "contentId": slug,
        "contentType": kind,
        "contentName": name,
        "isCompleted": completed is not None,
        "completedAt": ms(completed) if completed else None,
        "approxTotalCourseHrs": hours,
        "contentCertificateUrl": f"https://coursera.org/verify/{slug}" if completed else None,
        "membershipState": state,
    }


@pytest.fixture
def built(hec_staff, django_capture_on_commit_callbacks):
    built = outcomes_phase_build(hec_staff=hec_staff, commit=django_capture_on_commit_callbacks, reports=False)
    built.phase.coursera_program_id = PROGRAM_ID
    built.phase.save(update_fields=["coursera_program_id"])
    return built


@pytest.fixture
def records(built):
    now = timezone.now()
    q1, p1 = built["q1"], built["p1"]
    return [
        enrollment(q1, "machine-learning", name="Machine Learning", hours=54.5, completed=now - dt.timedelta(days=3)),
        enrollment(q1, "python", name="Python for Everybody", hours=20, completed=now - dt.timedelta(days=2)),
        enrollment(q1, "excel", name="Excel Skills for Business", hours=5.5, completed=now - dt.timedelta(hours=5)),
        enrollment(
            q1,
            "data-science",
            name="Data Science",
            kind="SPECIALIZATION",
            hours=60,
            completed=now - dt.timedelta(hours=4),
        ),  # fmt: skip
        enrollment(
            p1,
            "google-it",
            name="Google IT Support",
            kind="PROFESSIONAL_CERTIFICATE",
            hours=100,
            completed=now - dt.timedelta(hours=3),
        ),  # fmt: skip
        enrollment(p1, "sql", name="SQL for Data Science", completed=None),  # enrolled, not finished
        enrollment(None, "python", name="Python for Everybody", completed=now - dt.timedelta(hours=2)),
    ]


@pytest.fixture
def coursera(records):
    with FakeCoursera(enrollments=records, page_size=3) as fake:
        yield fake


def impact(phase_slug: str = "outcomes") -> dict:
    out = io.StringIO()
    call_command("impact_report", "--phase", phase_slug, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_api_is_off_unless_configured(client, built, coursera, hec_staff):
    # The fake runs, but nothing points the portal at it and no credentials are set.
    assert enrollment_reports_sync_all() == []
    assert beat_task.apply().get() == 0
    with pytest.raises(FeeError, match="The Coursera API is off: set COURSERA_API_CLIENT_ID"):
        enrollment_reports_sync(phase=built.phase)
    with pytest.raises(CommandError, match="The Coursera API is off"):
        call_command("sync_coursera")
    assert coursera.requests == [] and not CourseraSync.objects.exists()
    client.force_login(hec_staff)
    page = client.get(reverse("fees:coursera_api"), {"phase": "outcomes"}).content.decode()
    assert "The Coursera API is off" in page and "<code>COURSERA_API_ORG_ID</code>" in page
    assert reverse("fees:completions_import") in page  # the CSV upload stays the way in
    assert "Sync now" not in page


def test_a_sync_pulls_every_page_into_the_completion_records(built, coursera, settings):
    coursera.settings(settings)
    out = io.StringIO()
    call_command("sync_coursera", "--phase", "outcomes", stdout=out)
    assert "outcomes: 7 enrollment records in 3 pages, 5 new completions." in out.getvalue()

    token_calls = [r for r in coursera.requests if r[1] == "/oauth2/client_credentials/token"]
    assert len(token_calls) == 1  # one token for the whole sync
    pages = coursera.api_requests("GET")
    assert [r[1] for r in pages] == ["/api/businesses.v1/org-hec/enrollmentReports"] * 3
    first = pages[0][2]
    assert (first["q"], first["programId"]) == ("byProgramId", PROGRAM_ID)
    launch = timezone.make_aware(dt.datetime.combine(built.phase.launch_date, dt.time.min))
    assert first["completedAtAfter"] == str(ms(launch))
    assert "approxTotalCourseHrs" in first["fields"] and "membershipState" in first["fields"]
    assert [r[2].get("start") for r in pages] == [None, "3", "6"]  # following paging.next

    sync = CourseraSync.objects.get()
    assert (sync.state, sync.records, sync.pages, sync.trigger) == ("done", 7, 3, "command")
    imported = sync.completion_import
    assert imported.filename.startswith("coursera-api-outcomes-") and imported.state == CompletionImport.State.DONE
    assert (imported.rows, imported.matched, imported.unmatched, imported.new_completions) == (7, 6, 1, 5)
    assert UnmatchedCompletionRow.objects.get().email == "ghost@example.pk"
    q1 = {c.course_key: c for c in CourseCompletion.objects.filter(nomination=built["q1"])}
    assert set(q1) == {"machine-learning", "python", "excel", "data-science"}
    assert q1["machine-learning"].learning_hours == Decimal("54.50")
    assert q1["data-science"].course_type == "Specialization"
    assert q1["python"].certificate_url == "https://coursera.org/verify/python"
    p1 = CourseCompletion.objects.get(nomination=built["p1"])
    assert p1.course_type == "Professional Certificate"
    # In the program, as Coursera says: both learners count as joined (p1 by an unfinished course).
    assert Nomination.objects.get(pk=built["p1"].pk).joined_on == timezone.localdate()
    report = impact()
    assert (report["courses_completed"], report["specializations_completed"]) == (3, 1)
    assert report["professional_certificates_completed"] == 1 and report["learning_hours"] == 80.0
    assert report["learners_joined"] == 2


def test_the_next_sync_asks_from_the_latest_completion_and_records_nothing_twice(built, coursera, settings, records):
    coursera.settings(settings)
    enrollment_reports_sync(phase=built.phase)
    latest = max(CourseCompletion.objects.values_list("completed_at", flat=True))
    again = enrollment_reports_sync(phase=built.phase)
    asked = coursera.api_requests("GET")[-1][2]
    assert asked["completedAtAfter"] == str(ms(latest - dt.timedelta(days=3)))
    assert again.completion_import.new_completions == 0
    assert CourseCompletion.objects.count() == 5


def test_a_learner_removed_from_the_program_keeps_completions_and_refund(built, coursera, settings, hec_staff):
    coursera.settings(settings)
    q1 = built["q1"]
    joined = timezone.localdate() - dt.timedelta(days=10)  # the membership report: the license year's start
    report = f"Email,External Id,Join Date\r\n{q1.email},{q1.learner_id_external},{joined.isoformat()}\r\n"
    memberships_import(phase=built.phase, data=report.encode(), filename="members.csv", actor=hec_staff)
    enrollment_reports_sync(phase=built.phase)
    decided = refunds_decide(phase=built.phase, as_of=timezone.localdate(), actor=hec_staff)
    assert [(d.nomination_id, d.decision) for d in decided] == [(q1.pk, "refund")]
    kept = list(CourseCompletion.objects.filter(nomination=q1).order_by("id").values())

    # Removed from the program on Coursera: their rows vanish from Coursera's reports.
    coursera.enrollments = [e for e in coursera.enrollments if e["externalId"] != q1.learner_id_external]
    sync = enrollment_reports_sync(phase=built.phase)
    assert sync.state == "done"
    assert list(CourseCompletion.objects.filter(nomination=q1).order_by("id").values()) == kept
    assert RefundDecision.objects.get(nomination=q1).decision == "refund"
    assert Nomination.objects.get(pk=q1.pk).status == NominationStatus.SEATED


@pytest.mark.parametrize(
    ("breaks", "status", "says"),
    [
        ("secret", 401, "Check COURSERA_API_CLIENT_ID and COURSERA_API_CLIENT_SECRET"),
        ("org", 403, "An administrator of the Coursera organisation must authorise the app"),
        ("limit", 429, "Coursera is limiting requests (429 Too Many Requests)"),
        ("server", 503, "It is usually temporary: the next sync tries again"),
    ],
)
def test_errors_are_shown_on_the_staff_page_with_what_to_do(
    client, built, coursera, settings, hec_staff, breaks, status, says
):
    coursera.settings(settings)
    if breaks == "secret":
        settings.COURSERA_API_CLIENT_SECRET = "wrong"
    elif breaks == "org":
        settings.COURSERA_API_ORG_ID = "org-that-never-registered-the-app"
    else:
        coursera.fail_next(status)
    sync = enrollment_reports_sync(phase=built.phase, trigger=CourseraSync.Trigger.BEAT)
    assert (sync.state, sync.http_status) == ("failed", status)
    assert says in sync.error
    assert not CompletionImport.objects.exists() and not CourseCompletion.objects.exists()

    client.force_login(hec_staff)
    page = client.get(reverse("fees:coursera_api"), {"phase": "outcomes"}).content.decode()
    assert "did not finish" in page and says in page.replace("&#x27;", "'")


def test_a_failure_halfway_imports_nothing_and_the_next_sync_gets_everything(built, coursera, settings):
    coursera.settings(settings)
    coursera.fail_page(2, 429)
    failed = enrollment_reports_sync(phase=built.phase)
    assert (failed.state, failed.http_status, failed.pages, failed.records) == ("failed", 429, 1, 3)
    assert not CompletionImport.objects.exists() and not CourseCompletion.objects.exists()
    done = enrollment_reports_sync(phase=built.phase)
    assert done.state == "done" and CourseCompletion.objects.count() == 5


def test_staff_sync_now_from_the_page(client, built, coursera, settings, hec_staff, django_capture_on_commit_callbacks):
    coursera.settings(settings)
    client.force_login(hec_staff)
    page = client.get(reverse("fees:coursera_api"), {"phase": "outcomes"}).content.decode()
    assert "Sync now" in page and "Invitations are e-mailed by the portal." in page
    with django_capture_on_commit_callbacks(execute=True):  # the task runs once the request has committed
        response = client.post(reverse("fees:coursera_sync_now"), {"phase": built.phase.pk})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "The sync with Coursera is asked for" in html
    sync = CourseraSync.objects.get()
    assert (sync.trigger, sync.requested_by, sync.state) == ("staff", hec_staff, "done")
    assert reverse("fees:completions_import_detail", args=[sync.completion_import.pk]) in html


def test_focal_persons_cannot_sync(client, built, coursera, settings):
    coursera.settings(settings)
    client.force_login(built.qau_focal)
    assert client.post(reverse("fees:coursera_sync_now"), {"phase": built.phase.pk}).status_code == 403
    assert coursera.requests == []


def test_beat_syncs_every_phase_with_a_program_id(built, coursera, settings):
    coursera.settings(settings)
    assert beat_task.apply().get() == 1
    assert CourseraSync.objects.get().trigger == "beat"


def test_a_phase_without_a_program_id_is_not_synced(built, coursera, settings):
    coursera.settings(settings)
    built.phase.coursera_program_id = ""
    built.phase.save(update_fields=["coursera_program_id"])
    assert enrollment_reports_sync_all() == []
    with pytest.raises(FeeError, match="has no Coursera program id"):
        enrollment_reports_sync(phase=built.phase)
    assert coursera.requests == []


@pytest.mark.parametrize(
    ("code", "name"),
    [("COURSE", "Course"), ("SPECIALIZATION", "Specialization"),
     ("PROFESSIONAL_CERTIFICATE", "Professional Certificate"), ("GuidedProject", "Guided Project"),
     ("Course", "Course"), ("SOMETHING_NEW", "Something New"), (None, "")],
)  # fmt: skip
def test_coursera_content_types_are_written_as_the_report_writes_them(code, name):
    assert content_type_name(code) == name
