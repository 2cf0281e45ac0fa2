"""A completion report imported by a real Celery worker on a real Redis broker (this test process's
own, tests/conftest.py's `workers`): the upload returns at once and the report's page follows the
import to its end."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fees.models import CompletionImport, CourseCompletion, UnmatchedCompletionRow
from tests import factories
from tests.fees.conftest import line, report
from tests.private_servers import REAL_PROCESSES, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), REAL_PROCESSES]

ROWS = 12_000  # three chunks of 5,000


def test_a_worker_imports_an_uploaded_report_while_its_page_shows_the_progress(
    client,
    hec_staff,
    phase,
    workers,
    tmp_path,
):
    university = factories.make_university(code="QAU")
    learners = [
        factories.make_seated_nomination(phase=phase, university=university, email=f"l{n}@example.pk") for n in range(3)
    ]
    lines = [line(email=learners[n % 3].email, slug=f"course-{n // 3}") for n in range(ROWS - 2)]
    lines += [line(email="ghost@example.pk"), line(email=learners[0].email, slug="course-0")]  # a stray, a repeat
    workers.env["PRIVATE_MEDIA_ROOT"] = str(tmp_path / "private")  # where this test stores uploads
    workers.start()
    client.force_login(hec_staff)

    upload = SimpleUploadedFile("usage.csv", report(*lines), content_type="text/csv")
    response = client.post(reverse("fees:completions_import"), {"phase": phase.pk, "file": upload})
    record = CompletionImport.objects.get()
    assert response["Location"] == reverse("fees:completions_import_detail", args=[record.pk])
    assert record.rows == ROWS and record.file

    seen: list[int] = []

    def finished() -> bool:
        html = client.get(response["Location"]).content.decode()
        seen.append(int(re.search(r'<progress id="import-progress" value="(\d+)" max="12000"', html).group(1)))
        return "Every row of the report was imported." in html and 'http-equiv="refresh"' not in html

    wait_until(finished, timeout=120, what="the import's page showing it finished", workers=workers)
    assert seen == sorted(seen) and seen[-1] == ROWS  # the bar only ever moves forward
    assert set(seen) <= {0, 5_000, 10_000, ROWS}  # each step is a committed chunk
    record.refresh_from_db()
    assert (record.state, record.processed, record.matched, record.unmatched) == ("done", ROWS, ROWS - 1, 1)
    assert (record.new_completions, record.duplicates) == (ROWS - 2, 1)
    assert CourseCompletion.objects.count() == ROWS - 2
    assert UnmatchedCompletionRow.objects.get().email == "ghost@example.pk"
