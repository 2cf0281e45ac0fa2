"""HEC staff's pages for completion reports, refund decisions and ledgers; the admin import and action;
the focal person's own ledger; the learner's progress block."""

import csv
import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from fees.models import CompletionImport, CourseCompletion, RefundDecision
from fees.refunds import refunds_decide
from tests import factories
from tests.fees.conftest import END, complete, day, learner, line, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def qau(db):
    return factories.make_university(code="QAU")


@pytest.fixture
def staff_client(client, hec_staff):
    client.force_login(hec_staff)
    return client


def upload(data: bytes, name: str = "usage.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


# Who may open what -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["fees:completions_import", "fees:refund_cases", "fees:ledgers"]
)  # fmt: skip
def test_anonymous_visitors_are_sent_to_sign_in(client, phase, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


@pytest.mark.parametrize("name", ["fees:completions_import", "fees:refund_cases"])
def test_staff_pages_are_for_hec_staff_only(client, phase, qau, name):
    client.force_login(factories.make_focal_person(university=qau))
    assert client.get(reverse(name)).status_code == 403
    client.force_login(factories.make_user(staff=True))  # staff flag without the HEC staff group
    assert client.get(reverse(name)).status_code == 403
    response = client.post(reverse("fees:refunds_decide"), {"phase": phase.pk, "as_of": "2022-10-01"})
    assert response.status_code == 403 and not RefundDecision.objects.exists()


def test_a_learner_gets_no_ledger(client, phase, qau):
    nomination = learner(phase, qau)
    client.force_login(factories.make_user(email=nomination.email))
    assert client.get(reverse("fees:ledgers")).status_code == 404
    assert client.get(reverse("fees:ledger_download", args=["refund", "csv"])).status_code == 404


# Completion reports ----------------------------------------------------------------------------------


def test_staff_import_a_report_and_see_the_outcome(
    staff_client, phase, qau, hec_staff, django_capture_on_commit_callbacks
):
    sana = learner(phase, qau, email="sana@example.pk")
    data = report(line(email="sana@example.pk"), line(email="ghost@example.pk", course="Data Science", slug="ds"))
    page = staff_client.get(reverse("fees:completions_import"))
    assert page.status_code == 200 and 'for="id_file"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the import runs on commit, as without a broker
        response = staff_client.post(reverse("fees:completions_import"), {"phase": phase.pk, "file": upload(data)})
    record = CompletionImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "fees:completions_import_detail", args=[record.pk]
    )
    assert record.imported_by == hec_staff and CourseCompletion.objects.get().nomination == sana
    html = staff_client.get(response["Location"]).content.decode()
    assert "usage.csv was uploaded: its 2 rows are being imported." in html  # the import ran after the request
    assert "2 of 2 rows (100 %)" in html and 'http-equiv="refresh"' not in html
    assert "ghost@example.pk" in html and "Data Science" in html and "No learner of this phase" in html
    assert "usage.csv" in staff_client.get(reverse("fees:completions_import")).content.decode()


def test_a_bad_report_gets_a_message_and_changes_nothing(staff_client, phase):
    response = staff_client.post(
        reverse("fees:completions_import"),
        {"phase": phase.pk, "file": upload(b"Name,Email\nA,a@example.pk\n")},
        follow=True,
    )
    html = response.content.decode()
    assert response.status_code == 200 and "lacks the columns" in html and "“External Id”" in html
    assert not CompletionImport.objects.exists()


def test_the_form_says_what_is_missing(staff_client, phase):
    response = staff_client.post(reverse("fees:completions_import"), {"phase": phase.pk})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'aria-describedby="id_file_helptext id_file_error"' in html and "This field is required." in html


# Refund cases, decisions and corrections --------------------------------------------------------------


def test_refund_cases_list_with_filters(staff_client, phase, qau):
    uet = factories.make_university(code="UET")
    done = learner(phase, qau, full_name="Sana Refund", cnic="3520112345671")
    complete(phase, done, ("a", day(1)), ("b", day(2)), ("c", day(3)))
    learner(phase, uet, full_name="Omar Pending", activated_on=timezone.localdate())
    html = staff_client.get(reverse("fees:refund_cases")).content.decode()
    assert "Sana Refund" in html and "Omar Pending" in html and "*****-*****67-1" in html
    assert "3520112345671" not in html and "(not recorded yet)" in html
    html = staff_client.get(reverse("fees:refund_cases"), {"university": uet.pk}).content.decode()
    assert "Omar Pending" in html and "Sana Refund" not in html
    html = staff_client.get(reverse("fees:refund_cases"), {"decision": "refund"}).content.decode()
    assert "Sana Refund" in html and "Omar Pending" not in html
    html = staff_client.get(reverse("fees:refund_cases"), {"q": "omar"}).content.decode()
    assert "Omar Pending" in html and "Sana Refund" not in html


def test_decide_refunds_from_the_staff_page(staff_client, phase, qau, hec_staff):
    learner(phase, qau)
    learner(phase, qau, activated_on=timezone.localdate())
    response = staff_client.post(
        reverse("fees:refunds_decide"), {"phase": phase.pk, "as_of": END.isoformat()}, follow=True
    )
    assert "1 decision recorded as of 2022-10-01: 0 refunds, 1 forfeits." in response.content.decode()
    decision = RefundDecision.objects.get()
    assert decision.decision == "forfeit" and decision.decided_by == hec_staff


def test_deciding_for_a_future_day_is_refused(staff_client, phase, qau):
    learner(phase, qau)
    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = staff_client.post(reverse("fees:refunds_decide"), {"phase": phase.pk, "as_of": future}, follow=True)
    assert f"{future} is in the future." in response.content.decode()
    assert not RefundDecision.objects.exists()


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31", "31/12/99", "yesterday"])
def test_a_day_outside_the_portals_years_or_no_day_gets_a_form_error_not_a_500(staff_client, phase, qau, as_of):
    learner(phase, qau)
    response = staff_client.post(reverse("fees:refunds_decide"), {"phase": phase.pk, "as_of": as_of}, follow=True)
    assert response.status_code in (200, 400)
    page = response.content.decode()
    assert "outside the years the portal works with" in page or "is not a date" in page
    assert not RefundDecision.objects.exists()


def test_correct_a_decision_from_the_staff_page(staff_client, phase, qau, hec_staff):
    learner(phase, qau, full_name="Ali Forfeit")
    [forfeit] = refunds_decide(phase=phase, as_of=END, actor=None)
    url = reverse("fees:refund_decision_correct", args=[forfeit.pk])
    html = staff_client.get(url).content.decode()
    assert "Ali Forfeit" in html and "Record the correction" in html

    response = staff_client.post(url, {"new_decision": "refund", "reason": ""})
    assert (
        response.status_code == 400
        and 'aria-describedby="id_reason_helptext id_reason_error"' in response.content.decode()
    )
    assert RefundDecision.objects.count() == 1

    response = staff_client.post(url, {"new_decision": "refund", "reason": "Certificate checked by hand"}, follow=True)
    assert "The decision is corrected" in response.content.decode()
    corrected = RefundDecision.objects.get(supersedes=forfeit)
    assert corrected.decision == "refund" and corrected.decided_by == hec_staff
    assert RefundDecision.objects.get(pk=forfeit.pk).decision == "forfeit"

    html = staff_client.get(url).content.decode()
    assert "Record the correction" not in html and "corrected already" in html
    response = staff_client.post(url, {"new_decision": "refund", "reason": "again"}, follow=True)
    assert "already been corrected" in response.content.decode()
    assert RefundDecision.objects.count() == 2


# Ledgers ------------------------------------------------------------------------------------------------


@pytest.fixture
def decided(phase, qau):
    uet = factories.make_university(code="UET")
    done = learner(phase, qau, full_name="Sana Refund")
    complete(phase, done, ("a", day(1)), ("b", day(2)), ("c", day(3)))
    other = learner(phase, uet, full_name="Omar Refund")
    complete(phase, other, ("a", day(1)), ("b", day(2)), ("c", day(3)))
    learner(phase, uet, full_name="Zain Forfeit")
    refunds_decide(phase=phase, as_of=END, actor=None)
    return uet


def test_staff_see_every_university_and_the_check(staff_client, phase, decided):
    html = staff_client.get(reverse("fees:ledgers")).content.decode()
    assert "The three columns add up to the deposits recorded." in html
    assert "QAU — University QAU" in html and "UET — University UET" in html
    assert "12,000" in html  # deposits recorded
    response = staff_client.get(reverse("fees:ledger_download", args=["refund", "csv"]), {"university": "UET"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert response["Content-Disposition"] == f'attachment; filename="dlsei-{phase.slug}-refund-UET.csv"'
    assert [row[1] for row in rows[1:]] == ["Omar Refund"]


def test_a_focal_person_sees_only_their_own_university(client, phase, qau, decided):
    client.force_login(factories.make_focal_person(university=qau))
    html = client.get(reverse("fees:ledgers")).content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)  # a random token may spell "UET"
    assert "University QAU" in html and "UET" not in html
    response = client.get(reverse("fees:ledger_download", args=["refund", "xlsx"]), {"university": "UET"})
    assert response.status_code == 200 and "-refund-QAU.xlsx" in response["Content-Disposition"]
    response = client.get(reverse("fees:ledger_download", args=["refund", "csv"]), {"university": "UET"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["Sana Refund"]
    assert client.get(reverse("fees:ledger_download", args=["everything", "csv"])).status_code == 404


# The admin ----------------------------------------------------------------------------------------------


def test_the_admin_leads_to_the_one_page_that_imports_a_report(staff_client):
    listing = staff_client.get(reverse("admin:fees_completionimport_changelist")).content.decode()
    assert reverse("fees:completions_import") in listing and "Import a completion report" in listing
    response = staff_client.get(reverse("admin:fees_completionimport_import"))
    assert response.status_code == 302 and response["Location"] == reverse("fees:completions_import")


def test_admin_action_decides_refunds(staff_client, phase, qau, hec_staff, settings):
    learner(phase, qau, activated_on=timezone.localdate() - dt.timedelta(days=400))
    record = CompletionImport.objects.create(phase=phase, filename="r.csv")
    response = staff_client.post(
        reverse("admin:fees_completionimport_changelist"),
        {"action": "decide_refunds", "_selected_action": [record.pk]},
        follow=True,
    )
    assert "1 decision recorded" in response.content.decode()
    assert RefundDecision.objects.get().decided_by == hec_staff
    decision = RefundDecision.objects.get()
    assert staff_client.get(reverse("admin:fees_refunddecision_change", args=[decision.pk])).status_code == 200
    assert staff_client.post(reverse("admin:fees_refunddecision_delete", args=[decision.pk])).status_code == 403
    assert RefundDecision.objects.count() == 1


def test_admin_import_is_for_staff_only(client, phase, qau):
    client.force_login(factories.make_focal_person(university=qau))
    response = client.get(reverse("admin:fees_completionimport_import"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
