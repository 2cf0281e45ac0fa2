"""HEC staff's dashboard: what staff see for a phase, in English and Urdu, and when there is nothing yet.

The scene is built through the services: an allocation published, a university's students
nominated on two different days, deposits recorded (which clears the learners and queues their
invitations), one invitation sent by the task, one refused for good, refunds decided and one
decision corrected.
"""

import datetime
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fees.deposits import deposit_record
from fees.refunds import refund_decision_correct, refunds_decide
from quotas.license_year import license_year_end
from quotas.services import allocation_publish, allocation_run
from registrations.invitation_outbox import invitation_claim, invitation_mark_failed
from registrations.models import Invitation, Nomination
from registrations.services import disclaimer_upload, nomination_submit
from tests import factories
from tests.factories import pdf_upload, student_data
from tests.urdu import translated, visible_texts

URL = "/dashboard/"


def small_phase(slug: str = "dash-phase", **changes):
    return factories.make_small_phase(
        slug=slug,
        private_max_licenses=20,
        coursera_invitation_url="https://www.coursera.org/programs/hec-dlsei?inviteToken=test",
        **changes,
    )


def universities(code: str):
    """The universities an allocation needs (a distance-learning one, NAHE, a private one) and ``code``."""
    factories.make_university(code="DL", enrolment=500_000, distance_learning_licenses=10)
    factories.make_university(code="UNIA", enrolment=20_000)
    factories.make_university(code="NAHE", sector="nahe", enrolment=0)
    factories.make_university(code="PRIV", sector="private", enrolment=4_000)
    return factories.make_university(code=code, enrolment=30_000)


def publish(phase, staff) -> None:
    allocation_publish(allocation=allocation_run(phase=phase, actor=staff), actor=staff)


@pytest.fixture
def staff(db):
    return factories.make_hec_staff(email="dash@hec.gov.pk")


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.raise_request_exception = False
    client.force_login(staff)
    return client


@pytest.fixture
def scene(staff, django_capture_on_commit_callbacks):
    """UNIB's five students: two nominated two days ago, three today; deposits for all five;
    three invitations sent, one queued, one refused for good; refunds decided after the license
    year: the three activated learners forfeit, one of them corrected to a refund, two pending."""
    phase = small_phase()
    uni_b = universities("UNIB")
    publish(phase, staff)
    focal = factories.make_focal_person(university=uni_b, email="focal@unib.edu.pk")
    disclaimer_upload(phase=phase, university=uni_b, file=pdf_upload(), actor=focal)
    students = [nomination_submit(phase=phase, university=uni_b, data=student_data(n), actor=focal) for n in range(5)]
    # Two of them came in two days earlier (the service stamps the moment it runs).
    two_days_ago = timezone.now() - datetime.timedelta(days=2)
    Nomination.objects.filter(pk__in=[students[0].pk, students[1].pk]).update(created_at=two_days_ago)

    paid_on = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):  # the send tasks run: three invitations go out
        for student in students[:3]:
            deposit_record(nomination=student, receipt=f"R-{student.pk}", paid_on=paid_on, actor=focal)
    for student in students[3:]:  # queued, their send tasks not yet run
        deposit_record(nomination=student, receipt=f"R-{student.pk}", paid_on=paid_on, actor=focal)
    claim = invitation_claim(invitation_id=students[4].invitation.pk)
    invitation_mark_failed(claim=claim, error="550 no such mailbox", permanent=True, retry_in=0)

    after_the_year = license_year_end(activated_on=timezone.localdate(), years=phase.license_years)
    decisions = refunds_decide(phase=phase, as_of=after_the_year, actor=staff)
    assert len(decisions) == 3
    refund_decision_correct(decision=decisions[0], new_decision="refund", reason="Certificates found", actor=staff)
    return phase


def cells(page: str, heading: str) -> list[str]:
    """The cells of the first table row whose row header reads ``heading``."""
    row = re.search(rf'<th scope="row">(?:<span[^>]*>)?{re.escape(heading)}(?:</span>)?</th>(.*?)</tr>', page, re.S)
    assert row, heading
    return [
        " ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)
    ]


def svg_titles(page: str) -> list[str]:
    return re.findall(r'<title id="dash-[a-z]+-title">([^<]*)</title>', page)


def test_staff_see_every_chart_of_the_phase_with_its_numbers(staff_client, scene):
    response = staff_client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert svg_titles(page) == [
        f"Seats taken per pool in {scene.name}",
        f"Seats taken per university in {scene.name}",
        f"Nominations submitted per day in {scene.name}",
        f"Coursera invitations by state in {scene.name}",
        f"Deposits refunded and forfeited in {scene.name}",
    ]
    assert len(re.findall(r'<svg [^>]*role="img"[^>]*aria-labelledby="dash-', page)) == 5
    # Utilisation: UNIB has five seated learners; the phase's total is in the lead.
    assert re.search(r"5 of [\d,]+ licenses are taken; 0 nominations are waiting\.", page)
    assert "UNIB: Seated 5" in page  # the UNIB bar's segment title
    # Nominations per day: two days ago 2, yesterday none, today 3; 5 in all.
    today, two_days_ago = timezone.localdate(), timezone.localdate() - datetime.timedelta(days=2)
    from django.utils.formats import date_format

    days = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td></tr>', page)
    assert days[:3] == [
        (date_format(two_days_ago, "DATE_FORMAT"), "2"),
        (date_format(two_days_ago + datetime.timedelta(days=1), "DATE_FORMAT"), "0"),
        (date_format(today, "DATE_FORMAT"), "3"),
    ]
    assert "5 nominations submitted in this phase." in page
    # Invitations: three sent, one queued, one failed.
    assert Invitation.objects.filter(state="sent").count() == 3
    assert cells(page, "Sent") == ["3"]
    assert cells(page, "Queued") == ["1"]
    assert cells(page, "Failed") == ["1"]
    assert cells(page, "Waiting to retry") == ["0"]
    assert "Sent: 3, Queued: 1, Sending: 0, Waiting to retry: 0, Failed: 1" in page  # the chart's <desc>
    # Refunds vs forfeits: the corrected decision counts, not the one it superseded.
    refunds_at = page.index('id="dash-refunds-heading"')
    money = page[refunds_at:]
    assert cells(money, "Refunds due") == ["1", "4,000"]
    assert cells(money, "Forfeited to HEC") == ["2", "8,000"]
    assert cells(money, "Pending") == ["2", "8,000"]
    assert "Amount (Rs): Forfeited to HEC 8,000 (40 %)" in page
    # The full list is one link away; no script anywhere.
    assert reverse("registrations:staff_utilisation", args=[scene.slug]) in page
    assert "<script" not in page


def test_a_phase_is_picked_from_the_list_and_the_current_one_is_the_default(staff_client, scene, staff):
    older = small_phase(slug="older", launch=datetime.date(2020, 9, 9), name="Phase 0")
    page = staff_client.get(URL).content.decode()
    assert f'<option value="{scene.slug}" selected>' in page  # the current phase
    assert '<label for="phase-select">Phase</label>' in page
    older_page = staff_client.get(URL, {"phase": "older"}).content.decode()
    assert '<option value="older" selected>' in older_page
    assert "Dashboard of Phase 0" in older_page
    # The older phase has no allocation, nomination, invitation or deposit: each section says what will come.
    assert "No allocation of this phase is published yet" in older_page
    assert "No nomination has been submitted in this phase yet" in older_page
    assert "No invitation has been queued in this phase yet" in older_page
    assert "No deposit is recorded in this phase yet" in older_page
    assert "<svg" not in older_page
    assert older.slug == "older"


@pytest.mark.parametrize("bad", ["no-such-phase", "x" * 500, "bad slug!", "\x00", "../../etc", "ضلع"])
def test_a_bad_phase_gets_a_clear_message_and_the_list_not_an_error(staff_client, scene, bad):
    response = staff_client.get(URL, {"phase": bad})
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is no phase called" in page and "Pick a phase from the list below." in page
    assert f'<option value="{scene.slug}">' in page
    assert "<svg" not in page


def test_with_no_phase_at_all_the_page_says_what_will_appear(staff_client):
    response = staff_client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "No phase exists yet. Once a phase is created" in page
    assert "<svg" not in page and "<select" not in page.split('id="main"')[1]


def test_a_phase_with_nominations_over_months_is_counted_per_week(staff_client, staff):
    phase = small_phase(slug="long")
    uni = universities("LONG")
    publish(phase, staff)
    focal = factories.make_focal_person(university=uni, email="focal@long.edu.pk")
    disclaimer_upload(phase=phase, university=uni, file=pdf_upload(), actor=focal)
    first = nomination_submit(phase=phase, university=uni, data=student_data(1), actor=focal)
    nomination_submit(phase=phase, university=uni, data=student_data(2), actor=focal)
    Nomination.objects.filter(pk=first.pk).update(created_at=timezone.now() - datetime.timedelta(days=120))
    page = staff_client.get(URL, {"phase": "long"}).content.decode()
    assert "Nominations submitted per week" in page
    weeks = re.findall(r'<tr><th scope="row">Week of [^<]+</th><td class="num">(\d+)</td></tr>', page)
    assert len(weeks) in (18, 19) and sum(map(int, weeks)) == 2 and weeks[0] == "1" and weeks[-1] == "1"


def test_others_cannot_open_it_and_staff_land_on_it(scene, staff):
    assert Client().get(URL)["Location"].startswith(reverse("account_login"))
    focal = Client()
    focal.force_login(factories.make_focal_person(university=factories.make_university(code="ZZ")))
    refused = focal.get(URL)
    assert refused.status_code == 403 and "This page is for HEC staff" in refused.content.decode()
    client = Client()
    client.force_login(staff)
    assert client.get(reverse("home"))["Location"] == reverse("dashboard")
    page = client.get(reverse("registrations:staff_utilisation", args=[scene.slug])).content.decode()
    assert f'href="{URL}?phase={scene.slug}">Dashboard</a>' in page  # the staff sub-navigation
    assert f'href="{URL}">Dashboard</a>' in page  # the main navigation


def test_the_dashboard_comes_in_urdu_right_to_left_with_urdu_number_formats(staff_client, scene):
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    response = staff_client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="ur" dir="rtl">' in page
    assert "ہر پول کا استعمال" in page  # "Utilisation per pool"
    assert "ہر جامعہ کا استعمال" in page  # "Utilisation per university"
    assert '<th scope="row">کل</th>' in page  # the invitations' total
    assert "واپس اور ضبط کیے گئے ڈپازٹ" in page  # the refunds chart's title
    # The charts keep their left-to-right drawing, with translated titles.
    assert page.count('direction="ltr"') == 5
    assert all(re.search("[\u0600-\u06ff]", title) for title in svg_titles(page)), svg_titles(page)
    # Rupees are grouped in thousands, as the Urdu format says (digits stay 0-9, as on receipts).
    money = page[page.index('id="dash-refunds-heading"') :]
    assert "8,000" in money and "8000" not in money
    english = translated()
    leftovers = [text for text in visible_texts(page) if text in english]
    assert not leftovers, leftovers


def test_many_universities_show_the_largest_and_link_to_the_full_list(staff_client, staff):
    phase = small_phase(slug="many")
    for n in range(14):
        university = factories.make_university(code=f"M{n:02d}", enrolment=1_000 + n)
        factories.make_quota(phase=phase, university=university, licenses=100 + n)
    page = staff_client.get(URL, {"phase": "many"}).content.decode()
    assert "The 12 universities with the most licenses, of 14." in page
    assert reverse("registrations:staff_utilisation", args=["many"]) in page
    chart = page[page.index('id="dash-universities-title"') : page.index("</svg>", page.index('id="dash-universities'))]
    shown = re.findall(r'text-anchor="end" fill="#1b1f23">(M\d\d)</text>', chart)
    assert shown == [f"M{n:02d}" for n in range(13, 1, -1)]  # the most licenses first; M00 and M01 left out
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    urdu = staff_client.get(URL, {"phase": "many"}).content.decode()
    assert "14 میں سے سب سے زیادہ لائسنس والی 12 جامعات۔" in urdu


def test_the_dashboard_and_the_menu_lead_staff_to_what_waits_for_their_decision(staff_client, staff):
    """Alumni payments to check and disability certificates to decide: counted on the dashboard,
    each a link to its list, and both lists in the staff menu on every page."""
    from fees.alumni_payments import alumni_payment_submit
    from fees.challans import challan_issue
    from fees.waivers import disability_seat_decide
    from tests.factories import learner_account

    phase = small_phase()
    uni_b = universities("UNIB")
    publish(phase, staff)
    focal = factories.make_focal_person(university=uni_b, email="focal@unib.edu.pk")
    disclaimer_upload(phase=phase, university=uni_b, file=pdf_upload(), actor=focal)
    certified = nomination_submit(
        phase=phase,
        university=uni_b,
        data=student_data(1, disability=True),
        actor=focal,
        disability_certificate=pdf_upload(),
    )
    assert certified.seat_kind == "disability"
    for _n in range(3):
        alumnus = factories.alumnus_register(phase=phase)
        challan_issue(nomination=alumnus, actor=learner_account(alumnus))
        alumni_payment_submit(
            nomination=alumnus, paid_challan=pdf_upload(), transcript=pdf_upload(), actor=learner_account(alumnus)
        )
    page = staff_client.get(URL).content.decode()
    assert "3 alumni payments to check" in page and "1 disability certificate to decide" in page

    disability_seat_decide(nomination=certified, approve=True, actor=staff)
    page = staff_client.get(URL).content.decode()
    assert "0 disability certificates to decide" in page
    payments = reverse("admin:fees_alumnipayment_changelist") + "?status__exact=submitted"
    certificates = reverse("admin:fees_disabilityseat_changelist")
    # The menu's link says how many wait (3) beside its label.
    assert f'href="{payments}">Payments to check <span class="count"' in page.replace("&amp;", "&")
    assert '3 waiting">3</span></a>' in page
    assert f'href="{certificates}">Disability certificates</a>' in page
    listed = staff_client.get(payments)
    assert listed.status_code == 200 and listed.content.decode().count('name="_selected_action"') == 3
