"""HEC staff's admin for nominations: search by CNIC in any shape, filters, reject with a reason, reinstate."""

import html

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEntry
from registrations.models import Nomination, NominationStatus
from registrations.services import NomineeData, disclaimer_upload, nomination_submit
from tests import factories
from tests.factories import PDF

CHANGELIST = "admin:registrations_nomination_changelist"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def nominations(phase):
    """QAU with two seats: Ayesha and Bilal seated, Chaudhry waiting; PU with one faculty member."""
    qau = factories.make_university(code="QAU")
    pu = factories.make_university(code="PU")
    factories.make_quota(phase=phase, university=qau, licenses=2)
    factories.make_quota(phase=phase, university=pu, licenses=5)
    made = {}
    for university, people in (
        (qau, [("Ayesha Siddiqui", "35202-1111111-1", "student"), ("Bilal Ahmed", "35202-2222222-2", "student"),
               ("Chaudhry Waiting", "35202-3333333-3", "student")]),
        (pu, [("Dua Faculty", "35202-4444444-4", "faculty")]),
    ):  # fmt: skip
        focal = factories.make_focal_person(university=university)
        disclaimer_upload(phase=phase, university=university, file=SimpleUploadedFile("f.pdf", PDF), actor=focal)
        for name, cnic, role in people:
            data = NomineeData(
                full_name=name,
                cnic=cnic,
                email=name.split()[0].lower() + "@example.edu.pk",
                role=role,
                programme_years=16 if role == "student" else None,
            )
            made[name.split()[0]] = nomination_submit(phase=phase, university=university, data=data, actor=focal)
    return made


@pytest.fixture
def staff_client(client, hec_staff):
    client.force_login(hec_staff)
    return client


def listed(response) -> set[str]:
    page = text(response)
    return {n for n in ("Ayesha Siddiqui", "Bilal Ahmed", "Chaudhry Waiting", "Dua Faculty") if n in page}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("35202-3333333-3", {"Chaudhry Waiting"}),
        ("3520233333333", {"Chaudhry Waiting"}),
        (" 35202 3333333 3 ", {"Chaudhry Waiting"}),
        ("bilal@example", {"Bilal Ahmed"}),
        ("siddiqui", {"Ayesha Siddiqui"}),
        ("35202-9999999-9", set()),
    ],
)
def test_search_by_cnic_in_any_shape_email_or_name(staff_client, nominations, term, found):
    response = staff_client.get(reverse(CHANGELIST), {"q": term})
    assert response.status_code == 200
    assert listed(response) == found


@pytest.mark.django_db
def test_the_list_shows_cnics_masked(staff_client, nominations):
    page = text(staff_client.get(reverse(CHANGELIST)))
    assert "*****-*****33-3" in page
    assert "3520233333333" not in page and "35202-3333333-3" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "found"),
    [
        ({"status__exact": "waiting"}, {"Chaudhry Waiting"}),
        ({"role__exact": "faculty"}, {"Dua Faculty"}),
        ({"pool__exact": "public"}, {"Ayesha Siddiqui", "Bilal Ahmed", "Chaudhry Waiting", "Dua Faculty"}),
        ({"pool__exact": "alumni"}, set()),
    ],
)
def test_filters(staff_client, nominations, query, found):
    assert listed(staff_client.get(reverse(CHANGELIST), query)) == found


@pytest.mark.django_db
def test_filter_by_university_and_phase(staff_client, nominations, phase):
    pu = nominations["Dua"].university
    assert listed(staff_client.get(reverse(CHANGELIST), {"university__id__exact": pu.pk})) == {"Dua Faculty"}
    other_phase = factories.make_phase(slug="phase-2")
    assert listed(staff_client.get(reverse(CHANGELIST), {"phase__id__exact": other_phase.pk})) == set()
    assert len(listed(staff_client.get(reverse(CHANGELIST), {"phase__id__exact": phase.pk}))) == 4


@pytest.mark.django_db(transaction=True)
def test_reject_asks_for_the_reason_then_rejects_and_promotes_the_waiting_list(staff_client, nominations, hec_staff):
    ayesha, chaudhry = nominations["Ayesha"], nominations["Chaudhry"]
    action = {"action": "reject_selected", "_selected_action": [ayesha.pk]}

    ask = staff_client.post(reverse(CHANGELIST), action)
    assert ask.status_code == 200
    page = text(ask)
    assert "Reject nominations" in page and "Ayesha Siddiqui" in page and "*****-*****11-1" in page
    assert "Reason for the rejection" in page
    ayesha.refresh_from_db()
    assert ayesha.status == NominationStatus.SEATED  # asking changes nothing

    empty = staff_client.post(reverse(CHANGELIST), {**action, "post": "yes", "reason": ""})
    assert "This field is required." in text(empty)
    ayesha.refresh_from_db()
    assert ayesha.status == NominationStatus.SEATED

    mail.outbox.clear()
    done = staff_client.post(
        reverse(CHANGELIST),
        {**action, "post": "yes", "reason": "CNIC does not match the university's records"},
        follow=True,
    )
    assert "1 nomination rejected." in text(done)
    ayesha.refresh_from_db()
    chaudhry.refresh_from_db()
    assert ayesha.status == NominationStatus.REJECTED
    assert ayesha.status_reason == "CNIC does not match the university's records"
    assert chaudhry.status == NominationStatus.SEATED
    assert AuditEntry.objects.filter(action="nomination.reject", actor=hec_staff, target_id=str(ayesha.pk)).exists()
    assert any("chaudhry@example.edu.pk" in message.to for message in mail.outbox)  # told of the promotion


@pytest.mark.django_db
def test_reinstate_brings_a_rejected_nomination_back(staff_client, nominations, hec_staff):
    from registrations.services import nomination_reject

    dua = nominations["Dua"]
    nomination_reject(nomination=dua, actor=hec_staff, reason="checking")
    response = staff_client.post(
        reverse(CHANGELIST), {"action": "reinstate_selected", "_selected_action": [dua.pk]}, follow=True
    )
    assert "1 nomination reinstated." in text(response)
    dua.refresh_from_db()
    assert dua.status == NominationStatus.SEATED


@pytest.mark.django_db
def test_reinstating_an_active_nomination_says_why_not(staff_client, nominations):
    ayesha = nominations["Ayesha"]
    response = staff_client.post(
        reverse(CHANGELIST), {"action": "reinstate_selected", "_selected_action": [ayesha.pk]}, follow=True
    )
    assert response.status_code == 200
    assert "Only a rejected, withdrawn or reclaimed nomination can be reinstated; this one is seated." in text(response)
    ayesha.refresh_from_db()
    assert ayesha.status == NominationStatus.SEATED


@pytest.mark.django_db
def test_nominations_cannot_be_added_deleted_or_edited_by_hand(staff_client, nominations):
    ayesha = nominations["Ayesha"]
    assert staff_client.get(reverse("admin:registrations_nomination_add")).status_code == 403
    assert staff_client.get(reverse("admin:registrations_nomination_delete", args=[ayesha.pk])).status_code == 403
    assert "delete_selected" not in text(staff_client.get(reverse(CHANGELIST)))

    change_url = reverse("admin:registrations_nomination_change", args=[ayesha.pk])
    page = text(staff_client.get(change_url))
    assert "Ayesha Siddiqui" in page and "*****-*****11-1" in page
    assert 'name="_save"' not in page
    staff_client.post(change_url, {"status": "rejected", "full_name": "Changed", "_save": "Save"})
    ayesha.refresh_from_db()
    assert ayesha.status == NominationStatus.SEATED and ayesha.full_name == "Ayesha Siddiqui"
    assert Nomination.objects.count() == 4


@pytest.mark.django_db
def test_disclaimers_and_uploads_are_read_only_with_a_link_to_the_file(staff_client, nominations):
    from registrations.models import Disclaimer

    disclaimer = Disclaimer.objects.filter(university__code="QAU").get()
    page = text(staff_client.get(reverse("admin:registrations_disclaimer_changelist")))
    assert reverse("registrations:file_disclaimer", args=[disclaimer.pk]) in page
    assert staff_client.get(reverse("admin:registrations_disclaimer_add")).status_code == 403
    assert staff_client.get(reverse("admin:registrations_disclaimer_delete", args=[disclaimer.pk])).status_code == 403
    detail = text(staff_client.get(reverse("admin:registrations_disclaimer_change", args=[disclaimer.pk])))
    assert 'name="_save"' not in detail
    assert staff_client.get(reverse("admin:registrations_nominationupload_add")).status_code == 403
    assert staff_client.get(reverse("admin:registrations_nominationupload_changelist")).status_code == 200


@pytest.mark.django_db
def test_focal_persons_cannot_use_the_admin(client, nominations):
    focal = nominations["Ayesha"].submitted_by
    client.force_login(focal)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_the_admin_names_its_lists_in_proper_english_and_urdu_plurals(staff_client, settings):
    from django.contrib.auth.models import Permission

    from registrations.models import ReminderSent

    staff_client.get("/")  # the staff user exists; give them the list to look at
    user = staff_client.session.get("_auth_user_id")
    from django.contrib.auth import get_user_model

    get_user_model().objects.get(pk=user).user_permissions.add(Permission.objects.get(codename="view_remindersent"))
    assert str(ReminderSent._meta.verbose_name_plural) == "reminders sent"
    english = text(staff_client.get(reverse("admin:registrations_remindersent_changelist")))
    assert "reminders sent" in english.lower() and "reminder sents" not in english.lower()
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    urdu = text(staff_client.get(reverse("admin:registrations_remindersent_changelist")))
    assert "بھیجی گئی یاد دہانیاں" in urdu
