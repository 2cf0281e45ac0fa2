"""The completion import keeps the report's grade and estimated learning hours (for the impact
report and the academic-credit export), and reports without them still import as before."""

import datetime as dt
from decimal import Decimal

import pytest

from fees.completions import completions_import, learning_hours_parse
from fees.models import CourseCompletion
from tests import factories

pytestmark = pytest.mark.django_db

# The usage report as the Coursera admin writes it, with its grade and estimated hours.
HEADER = (
    "Name,Email,External Id,Course,Course ID,Course Slug,University,Enrollment Time,Overall Progress,"
    "Estimated Learning Hours,Completed,Removed From Program,Completion Time,Course Grade,"
    "Course Certificate URL,Course Type"
)


def line(*, email="sana@example.pk", slug="machine-learning", course="Machine Learning", hours="54.5",
         grade="0.97", completed="Yes", time="2022-03-04 10:22:33 UTC") -> str:  # fmt: skip
    return (
        f'"A Learner",{email},,"{course}",c1,{slug},Stanford,2021-10-01 00:00:00 UTC,100,{hours},'
        f"{completed},No,{time},{grade},https://coursera.org/verify/{slug},Course"
    )


def report(*lines: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode()


@pytest.fixture
def learner(phase):
    university = factories.make_university(code="QAU")
    return factories.make_seated_nomination(
        phase=phase, university=university, email="sana@example.pk", activated_on=dt.date(2021, 10, 1)
    )


def test_the_grade_and_estimated_hours_of_a_completed_course_are_kept(phase, learner, hec_staff):
    completions_import(phase=phase, data=report(line()), filename="usage.csv", actor=hec_staff)
    completion = CourseCompletion.objects.get()
    assert completion.grade == "0.97"
    assert completion.learning_hours == Decimal("54.50")


def test_the_older_learning_hours_column_is_read_too(phase, learner, hec_staff):
    header = HEADER.replace("Estimated Learning Hours", "Learning Hours")
    completions_import(phase=phase, data=report(line(hours="12"), header=header), filename="old.csv", actor=hec_staff)
    assert CourseCompletion.objects.get().learning_hours == Decimal("12.00")


def test_a_report_without_the_columns_imports_as_before(phase, learner, hec_staff):
    header = "Email,External Id,Course,Course Type,Completed,Completion Time"
    data = report("sana@example.pk,,Machine Learning,Course,Yes,2022-03-04 10:22:33 UTC", header=header)
    result = completions_import(phase=phase, data=data, filename="lean.csv", actor=hec_staff)
    completion = CourseCompletion.objects.get()
    assert (completion.grade, completion.learning_hours) == ("", None)
    assert (result.new_completions, result.unmatched) == (1, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("54.5", Decimal("54.50")), (" 3 ", Decimal("3.00")), ("", None), ("n/a", None), ("-2", None), ("NaN", None),
     ("1e9", Decimal("99999.99"))],
)  # fmt: skip
def test_learning_hours_are_read_or_left_blank(text, expected):
    assert learning_hours_parse(text) == expected


def test_unreadable_hours_leave_the_completion_without_hours(phase, learner, hec_staff):
    result = completions_import(phase=phase, data=report(line(hours="about ten")), filename="r.csv", actor=hec_staff)
    assert CourseCompletion.objects.get().learning_hours is None
    assert (result.new_completions, result.ignored) == (1, 0)


def test_a_later_report_fills_in_blanks_but_never_changes_a_value(phase, learner, hec_staff):
    lean = "Email,External Id,Course,Course Slug,Course Type,Completed,Completion Time"
    completions_import(
        phase=phase,
        data=report("sana@example.pk,,Machine Learning,machine-learning,Course,Yes,2022-03-04 10:22:33 UTC",
                    "sana@example.pk,,Python,python,Course,Yes,2022-03-05 10:22:33 UTC", header=lean),
        filename="before-hours-were-kept.csv",
        actor=hec_staff,
    )  # fmt: skip
    assert not CourseCompletion.objects.exclude(learning_hours=None).exists()

    later = completions_import(
        phase=phase,
        data=report(line(hours="54.5", grade="0.97"), line(slug="python", course="Python", hours="", grade="0.8")),
        filename="full.csv",
        actor=hec_staff,
    )
    assert (later.new_completions, later.duplicates) == (0, 2)
    rows = dict(CourseCompletion.objects.values_list("course_key", "learning_hours"))
    assert rows == {"machine-learning": Decimal("54.50"), "python": None}
    assert CourseCompletion.objects.get(course_key="python").grade == "0.8"

    completions_import(phase=phase, data=report(line(hours="99", grade="0.5")), filename="again.csv", actor=hec_staff)
    kept = CourseCompletion.objects.get(course_key="machine-learning")
    assert (kept.learning_hours, kept.grade) == (Decimal("54.50"), "0.97")


def test_a_course_twice_in_one_report_takes_the_hours_of_the_row_that_has_them(phase, learner, hec_staff):
    data = report(line(hours="", grade=""), line(hours="20", grade="0.9", time="2022-03-05 10:00:00 UTC"))
    completions_import(phase=phase, data=data, filename="r.csv", actor=hec_staff)
    completion = CourseCompletion.objects.get()
    assert (completion.learning_hours, completion.grade) == (Decimal("20.00"), "0.9")
    assert completion.completed_on == dt.date(2022, 3, 4)


def test_hours_fill_in_across_chunks_of_one_import(phase, learner, hec_staff):
    data = report(line(hours="", grade=""), line(hours="7.25", grade="A"))
    completions_import(phase=phase, data=data, filename="r.csv", actor=hec_staff, chunk_rows=1)
    completion = CourseCompletion.objects.get()
    assert (completion.learning_hours, completion.grade) == (Decimal("7.25"), "A")
