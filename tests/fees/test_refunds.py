"""Refund or forfeit of the Rs 4,000 deposit: every edge of the rule, and decisions that are append-only."""

import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEntry
from fees.completions import completions_import
from fees.exceptions import FeeError
from fees.models import DisabilityWaiver, RefundDecision
from fees.refunds import refund_case_rows, refund_decision_correct, refund_status, refunds_decide
from quotas.models import Pool
from tests import factories
from tests.fees.conftest import END, LAST_DAY, START, complete, day, deposit_record, learner, line, report

pytestmark = pytest.mark.django_db


def test_three_courses_inside_the_year_is_a_refund_even_before_the_year_ends(phase, uni):
    sana = learner(phase, uni)
    complete(phase, sana, ("a", day(10)), ("b", day(20)), ("c", LAST_DAY))
    assert refund_status(nomination=sana, as_of=END) == ("refund", 3)
    assert refund_status(nomination=sana, as_of=LAST_DAY) == ("refund", 3)
    assert refund_status(nomination=sana, as_of=day(20)) == ("pending", 2)  # "c" is later than that day


def test_a_course_completed_twice_counts_once(phase, uni):
    sana = learner(phase, uni)
    complete(phase, sana, ("a", day(10)), ("a", day(40)), ("b", day(20)))
    complete(phase, sana, ("a", day(50)))
    assert refund_status(nomination=sana, as_of=END) == ("forfeit", 2)


def test_a_completion_after_the_license_year_does_not_count(phase, uni):
    sana = learner(phase, uni)
    complete(phase, sana, ("a", day(10)), ("b", day(20)), ("c", END))
    assert refund_status(nomination=sana, as_of=END + dt.timedelta(days=30)) == ("forfeit", 2)


def test_a_completion_before_activation_does_not_count(phase, uni):
    sana = learner(phase, uni)
    complete(phase, sana, ("a", START - dt.timedelta(days=1)), ("b", day(0)), ("c", day(1)))
    assert refund_status(nomination=sana, as_of=END) == ("forfeit", 2)


def test_the_license_length_is_the_phase_setting(phase, uni):
    phase.license_years = 2
    phase.save(update_fields=["license_years"])
    sana = learner(phase, uni)
    two_years_on = dt.date(2023, 10, 1)
    complete(phase, sana, ("a", day(10)), ("b", END), ("c", two_years_on))
    assert refund_status(nomination=sana, as_of=END) == ("pending", 2)
    assert refund_status(nomination=sana, as_of=two_years_on) == ("forfeit", 2)


@pytest.mark.parametrize(
    ("activated_on", "last_day"),
    [
        (dt.date(2023, 3, 1), dt.date(2024, 2, 29)),  # the leap day is inside the year
        (dt.date(2024, 2, 29), dt.date(2025, 2, 28)),
        (dt.date(2023, 2, 28), dt.date(2024, 2, 27)),
    ],
)
def test_the_license_year_is_a_calendar_year(client, phase, uni, activated_on, last_day):
    sana = learner(phase, uni, activated_on=activated_on)
    after = last_day + dt.timedelta(days=1)
    complete(phase, sana, ("a", activated_on), ("b", last_day), ("c", after))
    assert refund_status(nomination=sana, as_of=last_day) == ("pending", 2)  # "c" is after the year
    assert refund_status(nomination=sana, as_of=after) == ("forfeit", 2)


def test_a_guided_project_does_not_count(phase, uni):
    sana = learner(phase, uni)
    complete(phase, sana, ("a", day(10)), ("b", day(20)), ("gp", day(30), "Guided Project"))
    assert refund_status(nomination=sana, as_of=END) == ("forfeit", 2)


def test_a_guided_project_counts_when_the_phase_says_so(phase, uni):
    phase.guided_projects_count = True
    phase.save(update_fields=["guided_projects_count"])
    sana = learner(phase, uni)
    complete(phase, sana, ("a", day(10)), ("b", day(20)), ("gp", day(30), "guided project"))
    assert refund_status(nomination=sana, as_of=END) == ("refund", 3)


def test_the_number_of_courses_is_the_phase_setting(phase, uni):
    phase.courses_for_refund = 2
    phase.save(update_fields=["courses_for_refund"])
    sana = learner(phase, uni)
    complete(phase, sana, ("a", day(10)), ("b", day(20)))
    assert refund_status(nomination=sana, as_of=day(21)) == ("refund", 2)


def test_pending_until_the_last_day_forfeit_from_the_end(phase, uni):
    sana = learner(phase, uni)
    complete(phase, sana, ("a", day(10)))
    assert refund_status(nomination=sana, as_of=LAST_DAY) == ("pending", 1)
    assert refund_status(nomination=sana, as_of=END) == ("forfeit", 1)


def test_not_yet_activated_is_pending(phase, uni):
    sana = learner(phase, uni, activated_on=None)
    assert refund_status(nomination=sana, as_of=dt.date(2030, 1, 1)) == ("pending", 0)


def test_faculty_and_nahe_are_refund_cases(phase, uni):
    nahe = factories.make_university(code="NAHE", sector="nahe")
    teacher = learner(phase, uni, role="faculty")
    trainee = learner(phase, nahe, role="faculty")
    assert trainee.pool == Pool.NAHE
    assert refund_status(nomination=teacher, as_of=END) == ("forfeit", 0)
    assert refund_status(nomination=trainee, as_of=END) == ("forfeit", 0)


def test_waivers_private_and_alumni_are_not_refund_cases(phase, uni):
    waived = learner(phase, uni, deposit=0, seat_kind="disability")
    DisabilityWaiver.objects.create(nomination=waived, status="approved")
    private = learner(phase, factories.make_university(code="LUMS", sector="private"), deposit=0)
    alumnus = learner(phase, None, deposit=0)
    complete(phase, alumnus, ("a", day(1)), ("b", day(2)), ("c", day(3)))
    for nomination in (waived, private):
        assert refund_status(nomination=nomination, as_of=END) == (None, 0)
    assert refund_status(nomination=alumnus, as_of=END) == (None, 3)
    assert refunds_decide(phase=phase, as_of=END, actor=None) == []
    assert refund_case_rows(phase=phase, as_of=END) == []


def test_decide_records_final_decisions_only_and_once(phase, uni, hec_staff):
    done = learner(phase, uni, email="done@example.pk")
    idle = learner(phase, uni, email="idle@example.pk")
    late = learner(phase, uni, email="late@example.pk", activated_on=day(200))
    complete(phase, done, ("a", day(1)), ("b", day(2)), ("c", day(3)))
    decided = refunds_decide(phase=phase, as_of=END, actor=hec_staff)
    assert {(d.nomination_id, d.decision, d.courses_completed, d.amount) for d in decided} == {
        (done.pk, "refund", 3, 4000),
        (idle.pk, "forfeit", 0, 4000),
    }
    assert not late.refund_decisions.exists()  # pending: nothing stored
    assert all(d.decided_by == hec_staff and d.as_of == END and d.supersedes is None for d in decided)
    entry = AuditEntry.objects.get(action="refunds.decide")
    assert entry.actor == hec_staff and entry.data["refund"] == 1 and entry.data["forfeit"] == 1

    assert refunds_decide(phase=phase, as_of=END, actor=hec_staff) == []
    assert RefundDecision.objects.count() == 2


def test_a_final_decision_is_never_changed_by_deciding_again(phase, uni):
    sana = learner(phase, uni)
    [forfeit] = refunds_decide(phase=phase, as_of=END, actor=None)
    before = RefundDecision.objects.values().get()
    complete(phase, sana, ("a", day(1)), ("b", day(2)), ("c", day(3)))  # a late report
    assert refund_status(nomination=sana, as_of=END) == ("refund", 3)
    assert refunds_decide(phase=phase, as_of=END + dt.timedelta(days=5), actor=None) == []
    assert RefundDecision.objects.values().get() == before
    [row] = refund_case_rows(phase=phase, as_of=END)
    assert (row.decision, row.recorded, row.courses_completed, row.decision_id) == ("forfeit", True, 3, forfeit.pk)


def test_the_deposit_amount_is_the_current_deposit(phase, uni):
    sana = learner(phase, uni, deposit=0)
    first = deposit_record(sana, amount=400)
    deposit_record(sana, amount=4000, supersedes=first)
    [decision] = refunds_decide(phase=phase, as_of=END, actor=None)
    assert decision.amount == 4000


def test_decide_as_of_a_past_day_ignores_later_completions(phase, uni):
    sana = learner(phase, uni)
    complete(phase, sana, ("a", day(1)), ("b", day(2)), ("c", day(300)))
    assert refunds_decide(phase=phase, as_of=day(100), actor=None) == []
    [decision] = refunds_decide(phase=phase, as_of=day(300), actor=None)
    assert decision.decision == "refund"


def test_decide_can_be_narrowed_to_some_learners(phase, uni):
    one = learner(phase, uni)
    learner(phase, uni)
    from registrations.models import Nomination

    [decision] = refunds_decide(phase=phase, as_of=END, actor=None, nominations=Nomination.objects.filter(pk=one.pk))
    assert decision.nomination_id == one.pk


def test_decide_queries_do_not_grow_with_the_learners(phase, uni, django_assert_max_num_queries):
    for _ in range(30):
        learner(phase, uni)
    with django_assert_max_num_queries(8):
        assert len(refunds_decide(phase=phase, as_of=END, actor=None)) == 30


def test_a_correction_is_a_new_row_and_the_old_one_stays(phase, uni, hec_staff):
    sana = learner(phase, uni)
    [forfeit] = refunds_decide(phase=phase, as_of=END, actor=None)
    before = RefundDecision.objects.values().get(pk=forfeit.pk)
    corrected = refund_decision_correct(
        decision=forfeit, new_decision="refund", reason="Certificate shown by the learner", actor=hec_staff
    )
    assert corrected.pk != forfeit.pk
    assert corrected.supersedes == forfeit and corrected.decision == "refund"
    assert corrected.decided_by == hec_staff and corrected.reason == "Certificate shown by the learner"
    assert RefundDecision.objects.values().get(pk=forfeit.pk) == before
    assert list(sana.refund_decisions.order_by("id")) == [forfeit, corrected]
    entry = AuditEntry.objects.get(action="refund_decision.correct")
    assert entry.actor == hec_staff and entry.target_id == str(corrected.pk) and entry.data["from"] == "forfeit"
    [row] = refund_case_rows(phase=phase, as_of=END)
    assert (row.decision, row.decision_id) == ("refund", corrected.pk)

    with pytest.raises(FeeError, match="already been corrected"):
        refund_decision_correct(decision=forfeit, new_decision="refund", reason="again", actor=hec_staff)
    back = refund_decision_correct(decision=corrected, new_decision="forfeit", reason="Mistake", actor=hec_staff)
    assert back.supersedes == corrected
    assert RefundDecision.objects.count() == 3


@pytest.mark.parametrize(
    ("new_decision", "reason", "expected"),
    [
        ("pending", "why", "either"),
        ("refund", "  ", "Say why"),
        ("forfeit", "why", "already"),
    ],
)
def test_a_bad_correction_is_refused_and_changes_nothing(phase, uni, hec_staff, new_decision, reason, expected):
    learner(phase, uni)
    [forfeit] = refunds_decide(phase=phase, as_of=END, actor=None)
    with pytest.raises(FeeError, match=expected):
        refund_decision_correct(decision=forfeit, new_decision=new_decision, reason=reason, actor=hec_staff)
    assert RefundDecision.objects.count() == 1


def test_command_json_contract(phase, uni, capsys):
    done = learner(phase, uni, email="done@example.pk", cnic="3520112345671")
    learner(phase, uni, email="idle@example.pk", cnic="3520112345682")
    learner(phase, uni, email="new@example.pk", cnic="3520112345693", activated_on=day(300))
    learner(phase, None, deposit=0, email="alumnus@example.pk")
    complete(phase, done, ("a", day(1)), ("b", day(2)), ("c", day(3)), ("d", day(4)))
    call_command("decide_refunds", "--phase", phase.slug, "--as-of", END.isoformat(), "--json")
    out = json.loads(capsys.readouterr().out)
    assert sorted(out, key=lambda item: item["email"]) == [
        {"email": "done@example.pk", "cnic": "*****-*****67-1", "courses_completed": 4, "decision": "refund",
         "amount": 4000},
        {"email": "idle@example.pk", "cnic": "*****-*****68-2", "courses_completed": 0, "decision": "forfeit",
         "amount": 4000},
        {"email": "new@example.pk", "cnic": "*****-*****69-3", "courses_completed": 0, "decision": "pending",
         "amount": 4000},
    ]  # fmt: skip
    assert RefundDecision.objects.count() == 2


def test_command_summary_and_refusals(phase, uni, capsys):
    learner(phase, uni)
    call_command("decide_refunds", "--phase", phase.slug, "--as-of", END.isoformat())
    out = capsys.readouterr().out
    assert "1 decision(s) recorded now" in out and "Forfeit: 1 learner(s), Rs 4,000" in out
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("decide_refunds", "--phase", phase.slug, "--as-of", "01/10/2022")
    with pytest.raises(CommandError, match="No phase"):
        call_command("decide_refunds", "--phase", "nope")


# The learner's own page ------------------------------------------------------------------------------


def my_page(client, nomination) -> str:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(email=nomination.email).first()
    client.force_login(user or factories.make_user(email=nomination.email))
    response = client.get("/fees/me/")
    assert response.status_code == 200
    return response.content.decode()


def test_learner_sees_courses_days_left_and_pending(client, phase, uni):
    from django.utils import timezone

    today = timezone.localdate()
    sana = learner(phase, uni, activated_on=today - dt.timedelta(days=100))
    complete(phase, sana, ("a", today - dt.timedelta(days=50)), ("gp", today - dt.timedelta(days=40), "Guided Project"))
    html = my_page(client, sana)
    assert "Your courses and your deposit" in html
    assert "1 of 3" in html and '<progress value="1" max="3"' in html
    assert "265 days" in html
    assert "Pending" in html and "Complete 3 courses by" in html
    assert "No: guided projects do not count" in html


def test_learner_sees_the_refund_due(client, phase, uni):
    sana = learner(phase, uni)
    complete(phase, sana, ("a", day(1)), ("b", day(2)), ("c", day(3)), ("late", END))
    html = my_page(client, sana)
    assert "3 of 3" in html and "Refund due" in html and "pays your Rs 4,000 deposit back" in html
    assert "None: the license year has ended." in html
    assert "No: outside the license year" in html


def test_learner_sees_the_forfeit_and_a_correction(client, phase, uni, hec_staff):
    sana = learner(phase, uni)
    [forfeit] = refunds_decide(phase=phase, as_of=END, actor=None)
    html = my_page(client, sana)
    assert "Forfeited" in html and "goes to HEC" in html
    refund_decision_correct(decision=forfeit, new_decision="refund", reason="Certificate checked", actor=hec_staff)
    html = my_page(client, sana)
    assert "Refund due" in html and "HEC corrected this decision: Certificate checked" in html


def test_learner_without_deposit_sees_no_refund(client, phase, uni):
    alumnus = learner(phase, None, deposit=0, activated_on=None)
    html = my_page(client, alumnus)
    assert "0 of 3" in html and "No deposit: there is nothing to refund" in html
    assert "Not started yet" in html


def test_a_certificate_link_must_be_https(client, phase, uni):
    sana = learner(phase, uni)
    data = report(
        line(email=sana.email, slug="a", cert="javascript:alert(1)", time="2021-11-01 00:00:00 UTC"),
        line(email=sana.email, slug="b", cert="https://coursera.org/verify/OK", time="2021-11-02 00:00:00 UTC"),
    )
    completions_import(phase=phase, data=data, filename="r.csv", actor=None)
    html = my_page(client, sana)
    assert 'href="https://coursera.org/verify/OK"' in html and "javascript:" not in html


# Only courses count ---------------------------------------------------------------------------


def test_a_usage_report_counts_courses_only(client, phase, uni, hec_staff):
    """A learner who finished one course, a specialization, a professional certificate, a guided
    project and a row of a type the portal does not know has one course, not five: no refund."""
    sana = learner(phase, uni)
    record = complete(
        phase,
        sana,
        ("python-basics", day(10), "Course"),
        ("data-science", day(20), "Specialization"),
        ("google-it-support", day(30), "Professional Certificate"),
        ("build-a-website", day(40), "Guided Project"),
        ("capstone-lab", day(50), "Project"),
        staff=hec_staff,
    )
    assert refund_status(nomination=sana, as_of=END) == ("forfeit", 1)
    assert [d.decision for d in refunds_decide(phase=phase, as_of=END, actor=hec_staff)] == ["forfeit"]

    # The import's outcome page lists the type it does not know, so HEC sees it.
    assert record.unknown_types == {"Project": 1}
    client.force_login(hec_staff)
    outcome = client.get(f"/fees/completions/{record.pk}/").content.decode()
    assert "Types that do not count" in outcome and "<td>Project</td>" in outcome

    # The learner's page says which rows count, and why the others do not.
    html = my_page(client, sana)
    assert "1 of 3" in html
    assert "No: a specialization or professional certificate is made of courses" in html
    assert "No: guided projects do not count" in html
    assert "No: only courses count, and Coursera reports this as “Project”" in html
    assert "at least 3 courses within your license year" in html


def test_a_two_course_specialization_and_its_courses_make_two_courses(phase, uni):
    sana = learner(phase, uni)
    complete(phase, sana, ("course-1", day(10)), ("course-2", day(20)), ("the-spec", day(21), "Specialization"))
    assert refund_status(nomination=sana, as_of=END) == ("forfeit", 2)


def test_the_course_type_is_read_whatever_its_case_and_spacing(phase, uni):
    sana = learner(phase, uni)
    complete(phase, sana, ("a", day(10), "COURSE"), ("b", day(11), " course "), ("c", day(12), "Course"))
    assert refund_status(nomination=sana, as_of=END) == ("refund", 3)


@pytest.mark.parametrize("when", ["0001-01-01 00:00:00+05:00", "9999-12-31 23:59:59-05:00", "1999-12-31"])
def test_a_row_with_an_impossible_date_is_reported_and_the_rest_import(phase, uni, when, hec_staff):
    sana = learner(phase, uni)
    lines = [
        line(email=sana.email, slug="a", time=f"{day(10).isoformat()} 09:00:00 UTC"),
        line(email=sana.email, slug="b", time=when),
        line(email=sana.email, slug="c", time=f"{day(12).isoformat()} 09:00:00 UTC"),
    ]
    record = completions_import(phase=phase, data=report(*lines), filename="r.csv", actor=hec_staff)
    assert record.state == "done" and record.new_completions == 2
    assert [r.reason for r in record.unmatched_rows.all()] == ["The completion time could not be read."]


def test_a_completion_dated_in_the_future_is_refused_by_row(phase, uni, hec_staff):
    from django.utils import timezone

    sana = learner(phase, uni)
    tomorrow = timezone.now() + dt.timedelta(days=1)
    lines = [
        line(email=sana.email, slug="a", time=f"{day(10).isoformat()} 09:00:00 UTC"),
        line(email=sana.email, slug="b", time=tomorrow.strftime("%Y-%m-%d %H:%M:%S UTC")),
    ]
    record = completions_import(phase=phase, data=report(*lines), filename="r.csv", actor=hec_staff)
    assert record.new_completions == 1
    assert [r.reason for r in record.unmatched_rows.all()] == ["The completion time is in the future."]
