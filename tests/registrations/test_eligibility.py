"""Every eligibility rule, and the words a person reads when it is broken."""

import datetime

import pytest
from django.utils import timezone

from registrations import eligibility as rules
from registrations.eligibility import NomineeData, nominee_normalise, nominee_problems
from registrations.services import nomination_submit, nomination_withdraw
from tests import factories
from tests.factories import alumnus_data as alumnus
from tests.factories import learner_account
from tests.factories import student_data as student

# Shapes of what people type ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cnic", "problem"),
    [
        ("35202-1234567-1", None),
        ("3520212345671", None),
        (" 35202-1234567-1 ", None),
        ("35202-1234567", "too short"),
        ("35202123456711", "too long"),
        ("3520-21234567-1", "dashes are in the wrong places"),
        ("ABCDE-1234567-1", "no letters"),
        ("", "missing"),
    ],
)
def test_cnic_or_b_form(cnic, problem):
    found = rules.cnic_problems(cnic)
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0]
        assert "12345-1234567-1" in found[0]  # and the shape that is expected


@pytest.mark.parametrize(
    ("name", "problem"),
    [("Ayesha Khan", None), ("   ", "The full name is missing."), ("x" * 200, None), ("x" * 201, "at most 200")],
)
def test_full_name(name, problem):
    found = rules.full_name_problems(name)
    assert found == [] if problem is None else problem in found[0]


@pytest.mark.parametrize(
    ("email", "problem"),
    [
        ("ali@uni.edu.pk", None),
        (" Ali@Uni.EDU.pk ", None),
        ("", "The e-mail address is missing."),
        ("ali.uni.edu.pk", "“ali.uni.edu.pk” is not an e-mail address"),
        ("ali@", "is not an e-mail address"),
    ],
)
def test_email(email, problem):
    found = rules.email_problems(email)
    assert found == [] if problem is None else problem in found[0]


def test_phone_fits():
    assert rules.phone_problems("+92 300 1234567") == []
    assert "too long" in rules.phone_problems("0" * 31)[0]


@pytest.mark.parametrize(
    ("role", "through_university", "problem"),
    [
        ("student", True, None),
        ("Faculty", True, None),
        ("alumnus", True, "Alumni are not nominated by a university"),
        ("staff", True, "The role must be “student” or “faculty”, not “staff”."),
        ("", True, "not “blank”"),
        ("alumnus", False, None),
        ("student", False, "Only alumni register in the alumni pool"),
    ],
)
def test_role(role, through_university, problem, db):
    university = factories.make_university() if through_university else None
    found = rules.role_problems(role, university=university)
    assert found == [] if problem is None else problem in found[0]


@pytest.mark.parametrize(
    ("role", "years", "problem"),
    [
        ("student", 16, None),
        ("student", 18, None),
        ("student", 14, "A 14-year programme such as a 2-year BA/BSc does not qualify"),
        ("student", 15, "16 years of education or more are eligible (BS 4-year, MS/MPhil, PhD …)"),
        ("student", None, "Give the years of education"),
        ("student", 0, "whole number such as 16"),
        ("student", -1, "whole number such as 16"),
        ("faculty", None, None),
        ("faculty", 14, None),  # faculty need no programme
    ],
)
def test_students_need_a_programme_of_16_years_or_more(role, years, problem):
    found = rules.programme_problems(role, years)
    assert found == [] if problem is None else problem in found[0]


@pytest.mark.parametrize(
    ("text", "value"),
    [("yes", True), ("YES", True), ("y", True), ("true", True), ("1", True), ("no", False), ("", False), ("N", False)],
)
def test_disability_is_yes_or_no(text, value):
    assert rules.yes_no(text) is value
    assert rules.disability_problems(text) == []


def test_disability_other_words_are_refused():
    assert rules.disability_problems("maybe") == ["The disability column must say “yes” or “no”, not “maybe”."]


# The phase: alumni window and registration dates -----------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "ok"),
    [
        (datetime.date(2019, 9, 9), True),  # first day of the window
        (datetime.date(2021, 9, 9), True),  # the launch itself
        (datetime.date(2020, 6, 30), True),
        (datetime.date(2019, 9, 8), False),
        (datetime.date(2021, 9, 10), False),
    ],
)
def test_alumni_graduated_inside_the_phase_window_both_ends_included(phase, day, ok):
    found = rules.graduation_problems(day, phase=phase)
    if ok:
        assert found == []
    else:
        assert found == [
            "This phase is for alumni who graduated from 9 September 2019 to 9 September 2021 (both days "
            f"included); the graduation date given is {day.day} {day:%B %Y}."
        ]


def test_alumni_say_what_and_where_they_graduated(phase):
    found = rules.alumni_problems(alumnus(degree="", graduated_from="", graduation_date=None), phase=phase)
    assert found == [
        "Give the degree you graduated with, e.g. BS Computer Science.",
        "Give the university you graduated from.",
        "Give your graduation date; this phase is for alumni who graduated from 9 September 2019 to 9 September 2021.",
    ]


def test_registration_is_open_from_opening_until_closing(phase):
    opens = phase.registration_opens_at
    assert "opens on" in rules.registration_open_problems(phase=phase, now=opens - datetime.timedelta(seconds=1))[0]
    assert rules.registration_open_problems(phase=phase, now=opens) == []
    phase.registration_closes_at = opens + datetime.timedelta(days=30)
    closes = phase.registration_closes_at
    assert rules.registration_open_problems(phase=phase, now=closes - datetime.timedelta(seconds=1)) == []
    assert "closed on" in rules.registration_open_problems(phase=phase, now=closes)[0]


# One license per person per phase: what each viewer is told ------------------------------------------------


@pytest.fixture
def first(phase, university, focal, quota):
    return nomination_submit(phase=phase, university=university, data=student(1, full_name="Bilal Ahmed"), actor=focal)


def duplicate_for(phase, university, viewer, data):
    clean = nominee_normalise(data)
    return rules.duplicate_problems(phase=phase, cnic=clean.cnic, email=clean.email, university=university,
                                    viewer=viewer)  # fmt: skip


def test_the_same_university_is_told_which_row(phase, university, focal, first):
    (message,) = duplicate_for(phase, university, focal, student(2, cnic=first.cnic))
    assert message == (
        f"This CNIC is already nominated by your university: Bilal Ahmed, CNIC *****-*****00-1, nomination no. "
        f"{first.pk} (seated)."
    )


def test_another_university_learns_nothing_about_the_first_one(phase, other_university, other_focal, first):
    (message,) = duplicate_for(phase, other_university, other_focal, student(2, email=first.email))
    assert message == (
        "This e-mail address is already registered in this phase through another university or the alumni pool. "
        "One person may hold one license per phase."
    )


def test_hec_staff_are_told_the_university(phase, other_university, hec_staff, first):
    (message,) = duplicate_for(phase, other_university, hec_staff, student(2, cnic=first.cnic))
    assert message == f"This CNIC is already registered in this phase, in QAU (nomination no. {first.pk}, seated)."


def test_an_alumnus_already_in_the_pool_is_told_so(phase, pool):
    user = factories.make_user(email="alum@example.pk")
    nomination_submit(phase=phase, university=None, data=alumnus(email="alum@example.pk"), actor=user)
    (message,) = duplicate_for(phase, None, user, alumnus(email="alum@example.pk"))
    assert message == "You are already registered in the alumni pool of this phase (seated)."


def test_an_alumnus_nominated_by_a_university_is_not_told_which(phase, pool, first):
    (message,) = duplicate_for(phase, None, learner_account(first), alumnus(email=first.email))
    assert "through another university or the alumni pool" in message and "QAU" not in message


def test_only_active_nominations_count_and_other_phases_do_not(phase, university, focal, first):
    nomination_withdraw(nomination=first, actor=focal, reason="Left")
    assert duplicate_for(phase, university, focal, student(1)) == []
    other_phase = factories.make_phase(slug="phase-2", launch=datetime.date(2022, 9, 9))
    assert duplicate_for(other_phase, university, focal, student(1)) == []


# All the rules together ----------------------------------------------------------------------------------


def test_every_problem_is_listed_at_once_in_reading_order(phase, university, focal, quota):
    data = NomineeData(full_name="", cnic="123", email="nope", phone="", role="student", programme_years=14)
    found = nominee_problems(phase=phase, university=university, data=data, viewer=focal)
    starts = [p.split(" ")[0:2] for p in found]
    assert starts == [["The", "full"], ["This", "number"], ["“nope”", "is"], ["Only", "students"]]


def test_a_good_nominee_has_no_problems_and_is_normalised(phase, university, focal, quota):
    data = student(full_name="  Sana   Mir ", email=" Sana@Uni.PK ", cnic=" 35202-1234567-1 ")
    assert nominee_problems(phase=phase, university=university, data=data, viewer=focal, now=timezone.now()) == []
    clean = nominee_normalise(data)
    assert (clean.full_name, clean.email, clean.cnic) == ("Sana Mir", "sana@uni.pk", "3520212345671")
