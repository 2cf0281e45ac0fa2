"""Empty lists say what will appear there and how to get it there, in English and in Urdu."""

import html

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_reset():
    """The test client's Urdu request leaves Urdu active in this thread: later tests expect English."""
    yield
    translation.deactivate()


def page(client, url: str, language: str = "en") -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_a_focal_person_without_nominees_is_told_how_to_add_them(client, phase, focal, quota):
    client.force_login(focal)
    text = page(client, reverse("registrations:focal_nominees"))
    assert "No nominees yet. Upload a file or add them one by one; they will be listed here." in text
    assert f'href="{reverse("portal:nominations_upload")}"' in text
    assert f'href="{reverse("registrations:focal_nominee_add")}"' in text

    urdu = page(client, reverse("registrations:focal_nominees"), "ur")
    assert "ابھی کوئی نامزد فرد نہیں۔ فائل اپ لوڈ کریں یا ایک ایک کر کے شامل کریں؛ وہ یہاں درج ہوں گے۔" in urdu


def test_a_search_that_finds_nobody_offers_to_clear_the_filters(client, phase, university, focal, quota):
    factories.make_seated_nomination(phase=phase, university=university, full_name="Ayesha Khan")
    client.force_login(focal)
    text = page(client, reverse("registrations:focal_nominees") + "?q=nobody-by-this-name")
    assert "No nominee matches these filters. Change or clear them to see your other nominees." in text
    assert "Show all nominees" in text
    assert "No nominees yet" not in text


def test_staff_see_how_to_run_the_first_allocation(client, phase, hec_staff):
    client.force_login(hec_staff)
    text = page(client, reverse("quotas:allocation_list", args=[phase.slug]))
    assert "No allocation has been run for this phase yet." in text
    assert "Run one with the button above: it is listed here as a draft for you to preview, then publish." in text
    urdu = page(client, reverse("quotas:allocation_list", args=[phase.slug]), "ur")
    assert "اوپر دیے گئے بٹن سے تقسیم چلائیں" in urdu


def test_the_sign_up_closed_page_says_who_needs_no_sign_up_and_where_to_sign_in(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.shortcuts import render

    request = rf.get("/accounts/signup/")
    request.user = AnonymousUser()
    text = html.unescape(render(request, "account/signup_closed.html").content.decode())
    assert "Students and faculty need no sign-up" in text
    assert f'href="{reverse("account_login")}"' in text
