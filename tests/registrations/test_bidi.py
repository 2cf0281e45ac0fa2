"""Masked CNICs, challan numbers and e-mail addresses on Urdu pages keep their left-to-right
order: each sits in ``<bdi dir="ltr">``, so ``*****-*****67-1`` is not shown as ``1-67*****-*****``."""

import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from fees.challans import challan_issue
from fees.models import Challan
from registrations.eligibility import duplicate_message
from tests import factories
from tests.factories import learner_account
from tests.fees.conftest import register_alumnus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_reset():
    """The test client's Urdu request leaves Urdu active in this thread: later tests expect English."""
    yield
    translation.deactivate()


def urdu_page(client, url: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="ur" dir="rtl"' in page
    return page


def test_the_nominee_list_in_urdu_isolates_masked_cnics_and_addresses(client, phase, university, focal, quota):
    factories.make_seated_nomination(
        phase=phase, university=university, cnic="3520112345671", email="ayesha@qau.edu.pk", full_name="Ayesha"
    )
    client.force_login(focal)
    page = urdu_page(client, reverse("registrations:focal_nominees"))
    assert '<bdi dir="ltr">*****-*****67-1</bdi>' in page
    assert '<bdi dir="ltr">ayesha@qau.edu.pk</bdi>' in page
    assert "3520112345671" not in page


def test_the_alumnus_page_in_urdu_isolates_the_cnic_and_the_challan_number(client, phase):
    factories.make_quota(phase=phase, university=None, licenses=5)
    alumnus = register_alumnus(phase=phase, cnic="35201-1234567-1")
    challan_issue(nomination=alumnus, actor=learner_account(alumnus))
    client.force_login(learner_account(alumnus))
    page = urdu_page(client, reverse("fees:my_license"))
    assert '<bdi dir="ltr">*****-*****67-1</bdi>' in page
    assert f'<bdi dir="ltr">{Challan.objects.get().number}</bdi>' in page


def test_the_duplicate_nomination_message_in_urdu_isolates_the_masked_cnic(phase, university, focal, quota):
    """The message is built in Python, outside a template's ``<bdi>``: the catalogue isolates the CNIC."""
    existing = factories.make_seated_nomination(
        phase=phase, university=university, cnic="3520112345671", email="ayesha@qau.edu.pk", full_name="Ayesha"
    )
    with translation.override("ur"):
        message = duplicate_message(
            existing=existing, cnic="3520112345671", email="other@qau.edu.pk", university=university, viewer=focal
        )
    assert message.startswith("یہ شناختی کارڈ نمبر آپ کی جامعہ کی ایک نامزدگی میں پہلے سے موجود ہے: Ayesha")
    assert "\u2066*****-*****67-1\u2069" in message
    assert "3520112345671" not in message


# What turns around in right-to-left text: numbers with dashes or slashes (CNICs, masked or not, and
# dates), e-mail addresses and phone numbers.
TURNS = re.compile(r"[\d*]+(?:[-/][\d*]+)+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b0\d{3}[ -]\d{7}\b")


def not_isolated(text: str) -> list[str]:
    """The fragments of ``text`` that would turn around: outside <bdi>, an LRI/FSI … PDI isolate
    and any element's attribute (fields carry dir="ltr")."""
    text = re.sub(r"<bdi\b.*?</bdi>|<[^>]*>", " ", text, flags=re.S)
    found = []
    for match in TURNS.finditer(text):
        before = text[: match.start()]
        if max(before.rfind("\u2066"), before.rfind("\u2068")) <= before.rfind("\u2069"):
            found.append(match.group())
    return found


def urdu_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def test_urdu_messages_and_help_texts_isolate_dates_numbers_and_addresses(client, phase):
    """The alumnus registers in Urdu: the help text beside the graduation day, the refusal of a day
    outside the window and the «seat held until» message keep their dates in order."""
    import html as html_module

    factories.make_quota(phase=phase, university=None, licenses=5)
    client.force_login(factories.make_user(email="zara@example.pk"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    data = {
        "full_name": "Zara Malik",
        "cnic": "61101-1234567-8",
        "phone": "0312 7654321",
        "graduated_from": "University of the Punjab",
        "degree": "BS Computer Science",
        "transcript": SimpleUploadedFile("transcript.pdf", factories.PDF),
    }
    refused = client.post(reverse("registrations:alumni_register"), data | {"graduation_date": "2001-01-01"})
    page = html_module.unescape(refused.content.decode())
    assert "2019-09-09" in page and "YYYY-MM-DD" in page
    main = page[page.index("<main") : page.index("</main>")]
    assert not_isolated(main) == []
    for name in ("cnic", "phone", "graduation_date"):
        assert re.search(rf'<input[^>]*name="{name}"[^>]*dir="ltr"|<input[^>]*dir="ltr"[^>]*name="{name}"', page), name

    data["transcript"] = SimpleUploadedFile("transcript.pdf", factories.PDF)
    registered = client.post(reverse("registrations:alumni_register"), data | {"graduation_date": "2020-06-30"})
    followed = client.get(registered["Location"])
    messages = urdu_messages(followed)
    assert messages and any("\u2068" in message for message in messages)
    assert all(not_isolated(message) == [] for message in messages), messages
    # Without the isolates the test would find the date: it can fail.
    assert not_isolated("نشست 2021-09-09 تک") == ["2021-09-09"]
