"""Importing Coursera's completion report: matching, counting each course once, reporting strays."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from fees.completions import completion_import_run, completion_time_parse, completions_import, completions_upload
from fees.exceptions import FeeError
from fees.models import CompletionImport, CourseCompletion, UnmatchedCompletionRow
from tests import factories
from tests.fees.conftest import line, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner(phase, uni):
    return factories.make_seated_nomination(
        phase=phase, university=uni, email="sana@example.pk", activated_on=dt.date(2021, 10, 1)
    )


def test_matches_by_external_id_and_records_the_completion(phase, learner, hec_staff):
    data = report(
        line(
            email="someone-else@coursera.org",
            external_id=learner.learner_id_external,
            cert="https://coursera.org/verify/ABC",
        )
    )
    result = completions_import(phase=phase, data=data, filename="usage.csv", actor=hec_staff)
    completion = CourseCompletion.objects.get()
    assert completion.nomination == learner
    assert completion.course_key == "machine-learning"
    assert completion.course_name == "Machine Learning"
    assert completion.completed_at == dt.datetime(2022, 3, 4, 10, 22, 33, tzinfo=dt.UTC)
    assert completion.completed_on == dt.date(2022, 3, 4)
    assert completion.certificate_url == "https://coursera.org/verify/ABC"
    assert completion.first_seen_import == result
    assert (result.rows, result.matched, result.unmatched, result.new_completions) == (1, 1, 0, 1)
    assert result.imported_by == hec_staff and result.filename == "usage.csv"
    assert AuditEntry.objects.filter(action="completions.import", target_id=str(result.pk), actor=hec_staff).exists()


def test_matches_by_email_ignoring_case(phase, learner, hec_staff):
    completions_import(phase=phase, data=report(line(email="  SANA@Example.PK ")), filename="r.csv", actor=hec_staff)
    assert CourseCompletion.objects.get().nomination == learner


def test_external_id_of_another_phase_falls_back_to_email(phase, learner, hec_staff):
    completions_import(
        phase=phase,
        data=report(line(email="sana@example.pk", external_id=f"DLSEI-999-{learner.pk}")),
        filename="r.csv",
        actor=hec_staff,
    )
    assert CourseCompletion.objects.get().nomination == learner


def test_a_learner_of_another_phase_is_unmatched(phase, uni, hec_staff):
    other = factories.make_phase(slug="other")
    stranger = factories.make_seated_nomination(phase=other, university=uni, email="other@example.pk")
    result = completions_import(
        phase=phase,
        data=report(line(email="other@example.pk", external_id=stranger.learner_id_external)),
        filename="r.csv",
        actor=hec_staff,
    )
    assert not CourseCompletion.objects.exists()
    assert result.unmatched == 1


def test_an_unmatched_row_is_reported_not_dropped(phase, learner, hec_staff):
    data = report(
        line(email="sana@example.pk"),
        line(email="ghost@example.pk", external_id="DLSEI-1-99999", course="Python for Everybody", slug="python"),
    )
    result = completions_import(phase=phase, data=data, filename="r.csv", actor=hec_staff)
    assert (result.rows, result.matched, result.unmatched, result.new_completions) == (2, 1, 1, 1)
    row = UnmatchedCompletionRow.objects.get()
    assert row.completion_import == result
    assert (row.row_number, row.email, row.external_id, row.course) == (3, "ghost@example.pk", "DLSEI-1-99999",
                                                                        "Python for Everybody")  # fmt: skip
    assert "No learner" in row.reason


def test_only_completed_rows_with_a_time_become_completions(phase, learner, hec_staff):
    data = report(
        line(email="sana@example.pk", slug="a", completed="No", time=""),
        line(email="sana@example.pk", slug="b", completed="Yes", time=""),
        line(email="sana@example.pk", slug="c", completed="No", time="2022-01-01 00:00:00 UTC"),
        line(email="sana@example.pk", slug="d", completed="Yes", time="2022-01-02T03:04:05Z"),
    )
    result = completions_import(phase=phase, data=data, filename="r.csv", actor=hec_staff)
    assert list(CourseCompletion.objects.values_list("course_key", flat=True)) == ["d"]
    assert (result.matched, result.ignored, result.new_completions) == (4, 3, 1)


def test_an_unreadable_completion_time_is_reported(phase, learner, hec_staff):
    result = completions_import(
        phase=phase, data=report(line(email="sana@example.pk", time="last Tuesday")), filename="r.csv", actor=hec_staff
    )
    assert not CourseCompletion.objects.exists()
    assert result.ignored == 1
    assert UnmatchedCompletionRow.objects.get().reason == "The completion time could not be read."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-03-04 10:22:33 UTC", dt.datetime(2022, 3, 4, 10, 22, 33, tzinfo=dt.UTC)),
        ("2022-03-04T10:22:33Z", dt.datetime(2022, 3, 4, 10, 22, 33, tzinfo=dt.UTC)),
        ("2022-03-04T10:22:33.123+00:00", dt.datetime(2022, 3, 4, 10, 22, 33, 123000, tzinfo=dt.UTC)),
        ("2022-03-04T15:22:33+05:00", dt.datetime(2022, 3, 4, 10, 22, 33, tzinfo=dt.UTC)),
        ("2022-03-04 10:22:33", dt.datetime(2022, 3, 4, 10, 22, 33, tzinfo=dt.UTC)),
        ("", None),
    ],
)
def test_completion_time_formats(text, expected):
    assert completion_time_parse(text) == expected


def test_completion_day_is_counted_in_pakistan_time(phase, learner, hec_staff):
    completions_import(
        phase=phase, data=report(line(email="sana@example.pk", time="2022-03-04 21:00:00 UTC")), filename="r.csv",
        actor=hec_staff,
    )  # fmt: skip
    assert CourseCompletion.objects.get().completed_on == dt.date(2022, 3, 5)


def test_a_course_in_two_rows_is_one_completion_with_the_earlier_time(phase, learner, hec_staff):
    data = report(
        line(email="sana@example.pk", time="2022-05-01 00:00:00 UTC"),
        line(email="sana@example.pk", time="2022-04-01 00:00:00 UTC"),
    )
    result = completions_import(phase=phase, data=data, filename="r.csv", actor=hec_staff)
    completion = CourseCompletion.objects.get()
    assert completion.completed_on == dt.date(2022, 4, 1)
    assert (result.new_completions, result.duplicates) == (1, 1)


def test_blank_slug_falls_back_to_the_course_name(phase, learner, hec_staff):
    data = report(
        line(email="sana@example.pk", slug="", course="Learning  How to Learn"),
        line(email="sana@example.pk", slug="", course="learning how to learn"),
    )
    completions_import(phase=phase, data=data, filename="r.csv", actor=hec_staff)
    assert CourseCompletion.objects.get().course_key == "name:learning how to learn"


def test_reimporting_the_same_report_changes_nothing(phase, learner, hec_staff):
    data = report(line(email="sana@example.pk", slug="a"), line(email="sana@example.pk", slug="b"))
    completions_import(phase=phase, data=data, filename="r.csv", actor=hec_staff)
    before = list(CourseCompletion.objects.values())
    again = completions_import(phase=phase, data=data, filename="r.csv", actor=hec_staff)
    assert list(CourseCompletion.objects.values()) == before
    assert (again.new_completions, again.duplicates) == (0, 2)


def test_an_overlapping_report_adds_only_what_is_new(phase, learner, uni, hec_staff):
    other = factories.make_seated_nomination(phase=phase, university=uni, email="ali@example.pk")
    first = completions_import(
        phase=phase,
        data=report(line(email="sana@example.pk", slug="a"), line(email="sana@example.pk", slug="b")),
        filename="jan.csv",
        actor=hec_staff,
    )
    second = completions_import(
        phase=phase,
        data=report(
            line(email="sana@example.pk", slug="b"),
            line(email="sana@example.pk", slug="c"),
            line(email="ali@example.pk", slug="a"),
        ),
        filename="feb.csv",
        actor=hec_staff,
    )
    assert (second.new_completions, second.duplicates) == (2, 1)
    keys = set(CourseCompletion.objects.values_list("nomination_id", "course_key", "first_seen_import_id"))
    assert keys == {
        (learner.pk, "a", first.pk), (learner.pk, "b", first.pk), (learner.pk, "c", second.pk),
        (other.pk, "a", second.pk),
    }  # fmt: skip


def test_a_later_report_with_an_earlier_time_keeps_the_earlier_time(phase, learner, hec_staff):
    completions_import(
        phase=phase, data=report(line(email="sana@example.pk", time="2023-01-01 00:00:00 UTC")), filename="a.csv",
        actor=hec_staff,
    )  # fmt: skip
    completions_import(
        phase=phase, data=report(line(email="sana@example.pk", time="2022-01-01 00:00:00 UTC")), filename="b.csv",
        actor=hec_staff,
    )  # fmt: skip
    assert CourseCompletion.objects.get().completed_on == dt.date(2022, 1, 1)


def test_missing_columns_are_named_and_nothing_changes(phase, learner, hec_staff):
    data = b"Name,Email,Course,Completed\r\nA,sana@example.pk,ML,Yes\r\n"
    with pytest.raises(FeeError) as error:
        completions_import(phase=phase, data=data, filename="r.csv", actor=hec_staff)
    assert "“External Id”" in error.value.message and "“Completion Time”" in error.value.message
    assert "“Course Type”" in error.value.message and "“Email”" not in error.value.message
    assert not CompletionImport.objects.exists()


def test_headers_match_ignoring_case_and_order(phase, learner, hec_staff):
    data = (
        b"completion time,COURSE TYPE,completed,course,external id,email\n"
        b"2022-02-02 10:00:00 UTC,Course,yes,Statistics,,Sana@example.pk\n"
    )
    result = completions_import(phase=phase, data=data, filename="r.csv", actor=hec_staff)
    assert result.new_completions == 1
    assert CourseCompletion.objects.get().course_key == "name:statistics"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty"),
        ("Email,Course\nsana,Physik\u00e9\n".encode("utf-16"), "UTF-8"),
        ("Email;Course\n".encode("cp1252"), "lacks the columns"),
        (b'Email,External Id,Course,Course Type,Completed,Completion Time\n"a,b\n', "could not be read"),
    ],
)
def test_bad_files_are_refused_with_a_message(phase, hec_staff, data, expected):
    with pytest.raises(FeeError, match=expected):
        completions_import(phase=phase, data=data, filename="r.csv", actor=hec_staff)
    assert not CompletionImport.objects.exists()


def test_command_imports_and_reports(tmp_path, phase, learner, capsys):
    path = tmp_path / "usage.csv"
    path.write_bytes(report(line(email="sana@example.pk"), line(email="nobody@example.pk")))
    call_command("import_completions", "--phase", phase.slug, str(path))
    out = capsys.readouterr().out
    assert "2 rows" in out and "1 new completion" in out and "1 unmatched" in out
    assert "nobody@example.pk" in out
    assert CompletionImport.objects.get().filename == "usage.csv"


def test_command_refuses_unknown_phase_and_bad_file(tmp_path, phase):
    path = tmp_path / "usage.csv"
    path.write_bytes(b"Email\nx\n")
    with pytest.raises(CommandError, match="No phase"):
        call_command("import_completions", "--phase", "nope", str(path))
    with pytest.raises(CommandError, match="lacks the columns"):
        call_command("import_completions", "--phase", phase.slug, str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_completions", "--phase", phase.slug, str(tmp_path / "missing.csv"))


def test_command_prints_its_progress_chunk_by_chunk(tmp_path, phase, learner, capsys):
    path = tmp_path / "usage.csv"
    path.write_bytes(report(*(line(email="sana@example.pk", slug=f"c{n}") for n in range(5))))
    call_command("import_completions", "--phase", phase.slug, "--chunk-rows", "2", str(path))
    out = capsys.readouterr().out
    assert "2 of 5 rows (40 %)" in out and "4 of 5 rows (80 %)" in out and "5 of 5 rows (100 %)" in out
    assert "5 new completion(s)" in out


# Uploading, then importing in the background -------------------------------------------------------

FIVE_ROWS = (
    line(email="sana@example.pk", slug="a", time="2022-05-01 00:00:00 UTC"),
    line(email="ghost@example.pk", slug="a"),
    line(email="sana@example.pk", slug="b"),
    line(email="sana@example.pk", slug="a", time="2022-04-01 00:00:00 UTC"),  # earlier, in a later chunk
    line(email="sana@example.pk", slug="c", completed="No", time=""),
)


@pytest.fixture
def staff_client(client, hec_staff):
    client.force_login(hec_staff)
    return client


def outcome(record: CompletionImport) -> tuple:
    record.refresh_from_db()
    return (record.state, record.processed, record.rows, record.matched, record.unmatched, record.new_completions,
            record.duplicates, record.ignored)  # fmt: skip


def test_upload_checks_stores_and_queues_the_import(phase, learner, hec_staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        record = completions_upload(phase=phase, data=report(*FIVE_ROWS), filename="usage.csv", actor=hec_staff)
    assert outcome(record) == ("queued", 0, 5, 0, 0, 0, 0, 0)
    assert record.file.name.startswith("completion-reports/") and record.file.read() == report(*FIVE_ROWS)
    assert not CourseCompletion.objects.exists() and len(queued) == 1
    queued[0]()  # the task, as the worker runs it
    assert outcome(record) == ("done", 5, 5, 4, 1, 2, 1, 1)
    assert CourseCompletion.objects.get(course_key="a").completed_on == dt.date(2022, 4, 1)
    assert AuditEntry.objects.filter(action="completions.import", target_id=str(record.pk), actor=hec_staff).exists()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty"),
        (b"Name,Email\nA,a@example.pk\n", "lacks the columns"),
        # the broken row is at the end: refused at upload, not halfway through the import
        (report(line(email="sana@example.pk")) + b'x,"unclosed\n', "could not be read"),
    ],
)
def test_a_bad_upload_is_refused_and_stores_nothing(phase, learner, hec_staff, settings, data, expected):
    with pytest.raises(FeeError, match=expected):
        completions_upload(phase=phase, data=data, filename="r.csv", actor=hec_staff)
    assert not CompletionImport.objects.exists()
    assert not list((settings.PRIVATE_MEDIA_ROOT).glob("completion-reports/**/*.csv"))


def test_importing_in_chunks_counts_exactly_as_in_one(phase, learner, hec_staff):
    whole = completions_import(phase=phase, data=report(*FIVE_ROWS), filename="a.csv", actor=hec_staff)
    kept = list(CourseCompletion.objects.values_list("course_key", "completed_at"))
    CourseCompletion.objects.all().delete()
    chunked = completions_import(phase=phase, data=report(*FIVE_ROWS), filename="b.csv", actor=hec_staff, chunk_rows=1)
    assert outcome(chunked)[1:] == outcome(whole)[1:] == (5, 5, 4, 1, 2, 1, 1)
    assert list(CourseCompletion.objects.values_list("course_key", "completed_at")) == kept
    assert [r.row_number for r in chunked.unmatched_rows.all()] == [r.row_number for r in whole.unmatched_rows.all()]


def test_the_page_of_a_running_import_shows_a_progress_bar_and_refreshes(staff_client, phase, learner, hec_staff):
    record = completions_upload(
        phase=phase, data=report(*FIVE_ROWS), filename="usage.csv", actor=hec_staff, queue=False
    )
    url = reverse("fees:completions_import_detail", args=[record.pk])
    html = staff_client.get(url).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html
    assert '<progress id="import-progress" value="0" max="5"' in html and "0 of 5 rows (0 %)" in html
    assert "Waiting for the import to start." in html and "No row left unrecorded so far." in html
    assert "Every row was matched" not in html

    pages = []
    completion_import_run(
        completion_import_id=record.pk, chunk_rows=2, on_progress=lambda _r: pages.append(staff_client.get(url))
    )
    running = pages[0].content.decode()
    assert '<meta http-equiv="refresh" content="2">' in running and "Importing the rows of the report." in running
    assert '<progress id="import-progress" value="2" max="5"' in running and "2 of 5 rows (40 %)" in running
    assert "Outcome so far" in running and "ghost@example.pk" in running  # the stray row of the first chunk
    assert "4 of 5 rows (80 %)" in pages[1].content.decode()

    done = staff_client.get(url).content.decode()
    assert 'http-equiv="refresh"' not in done and "Stop refreshing" not in done
    assert '<progress id="import-progress" value="5" max="5"' in done and "5 of 5 rows (100 %)" in done
    assert "Every row of the report was imported." in done and "Outcome so far" not in done


def test_a_reader_can_stop_the_refreshing(staff_client, phase, learner, hec_staff):
    record = completions_upload(
        phase=phase, data=report(*FIVE_ROWS), filename="usage.csv", actor=hec_staff, queue=False
    )
    url = reverse("fees:completions_import_detail", args=[record.pk])
    assert '<a href="?refresh=off">Stop refreshing</a>' in staff_client.get(url).content.decode()
    html = staff_client.get(url, {"refresh": "off"}).content.decode()
    assert 'http-equiv="refresh"' not in html and "0 of 5 rows (0 %)" in html
    assert "Show how far the import has got" in html


class WorkerKilled(BaseException):
    """Stands for kill -9 between two chunks: nothing of the service's own gets to run."""


def test_a_task_run_again_after_a_crash_resumes_and_counts_each_row_once(phase, learner, hec_staff):
    record = completions_upload(
        phase=phase, data=report(*FIVE_ROWS), filename="usage.csv", actor=hec_staff, queue=False
    )

    def crash(_record):
        raise WorkerKilled

    with pytest.raises(WorkerKilled):
        completion_import_run(completion_import_id=record.pk, chunk_rows=2, on_progress=crash)
    assert outcome(record) == ("running", 2, 5, 1, 1, 1, 0, 0)
    completion_import_run(completion_import_id=record.pk, chunk_rows=2)  # the redelivered task
    assert outcome(record) == ("done", 5, 5, 4, 1, 2, 1, 1)
    assert UnmatchedCompletionRow.objects.count() == 1 and CourseCompletion.objects.count() == 2
    assert CourseCompletion.objects.get(course_key="a").completed_on == dt.date(2022, 4, 1)
    assert completion_import_run(completion_import_id=record.pk) is None  # a late duplicate changes nothing
    assert outcome(record) == ("done", 5, 5, 4, 1, 2, 1, 1)
    assert AuditEntry.objects.filter(action="completions.import", target_id=str(record.pk)).count() == 1


def test_an_import_that_cannot_go_on_is_marked_stopped_with_what_to_do(staff_client, phase, learner, hec_staff):
    record = completions_upload(
        phase=phase, data=report(*FIVE_ROWS), filename="usage.csv", actor=hec_staff, queue=False
    )
    record.file.storage.delete(record.file.name)  # the stored copy lost (a disk replaced, say)
    completion_import_run(completion_import_id=record.pk)
    assert outcome(record)[:2] == ("failed", 0) and not CourseCompletion.objects.exists()
    html = staff_client.get(reverse("fees:completions_import_detail", args=[record.pk])).content.decode()
    assert 'http-equiv="refresh"' not in html and 'role="alert"' in html
    assert "This import stopped after 0 of 5 rows and did not finish." in html
    assert "Upload the same report again" in html and "The stored copy of the report could not be read." in html
    listing = staff_client.get(reverse("fees:completions_import")).content.decode()
    assert "usage.csv</a> — Stopped" in listing


def test_staff_upload_shows_the_progress_page_and_the_import_finishes_after_commit(
    staff_client, phase, learner, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("usage.csv", report(*FIVE_ROWS), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = staff_client.post(reverse("fees:completions_import"), {"phase": phase.pk, "file": upload})
    record = CompletionImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "fees:completions_import_detail", args=[record.pk]
    )
    html = staff_client.get(response["Location"]).content.decode()
    assert "usage.csv was uploaded: its 5 rows are being imported." in html
    assert '<meta http-equiv="refresh" content="2">' in html and "0 of 5 rows (0 %)" in html
    assert (
        "usage.csv</a> — Waiting to start (0 %)"
        in staff_client.get(reverse("fees:completions_import")).content.decode()
    )
    queued[0]()
    html = staff_client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in html and "5 of 5 rows (100 %)" in html and "ghost@example.pk" in html


def test_staff_upload_of_a_bad_file_says_why_and_stores_nothing(staff_client, phase, settings):
    upload = SimpleUploadedFile("usage.xlsx", b"PK\x03\x04 not a csv \x00", content_type="text/csv")
    response = staff_client.post(reverse("fees:completions_import"), {"phase": phase.pk, "file": upload}, follow=True)
    assert response.status_code == 200 and "is not a CSV text file in UTF-8" in response.content.decode()
    assert not CompletionImport.objects.exists()


def test_a_report_whose_message_was_lost_is_imported_by_beats_requeue(
    phase, learner, hec_staff, settings, django_capture_on_commit_callbacks
):
    from fees.tasks import completion_imports_requeue

    # Uploaded while the broker was down: stored and waiting, its message never queued.
    lost = completions_upload(phase=phase, data=report(*FIVE_ROWS), filename="lost.csv", actor=hec_staff, queue=False)
    CompletionImport.objects.filter(pk=lost.pk).update(imported_at=timezone.now() - dt.timedelta(minutes=11))
    recent = completions_upload(phase=phase, data=report(*FIVE_ROWS), filename="new.csv", actor=hec_staff, queue=False)
    settings.COMPLETION_IMPORT_REQUEUE_AFTER_SECONDS = 600

    with django_capture_on_commit_callbacks(execute=True):
        assert completion_imports_requeue.delay().get() == 1

    assert outcome(lost) == ("done", 5, 5, 4, 1, 2, 1, 1)  # as if its message had come at once
    assert outcome(recent)[:2] == ("queued", 0)  # a worker may still be about to start it
    assert completion_imports_requeue.delay().get() == 0  # nothing waits any more that is old enough
