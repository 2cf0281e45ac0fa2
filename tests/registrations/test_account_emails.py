"""allauth's e-mails as the portal's own: read as sent (from the outbox), each one speaks as the DLSEI
portal in English and Urdu, names the person by the address they gave (never a user name made up
for them), and links to the portal's configured address, whatever host the request came in on."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from registrations.services import nomination_submit
from tests import factories

pytestmark = pytest.mark.django_db

SITE = "https://dlsei.hec.gov.pk"
PASSWORD = "a-long-unusual-pass-42"
# What allauth's own templates say; none of it may reach a person.
ALLAUTH_WORDING = ("Hello from", "Thank you for using", "user ", "username", "example.com", "testserver", "internal")


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["internal.host", "testserver"]


def client_on_an_internal_host() -> Client:
    # The request comes in on an address only the server knows (a port, a proxy's name).
    return Client(HTTP_HOST="internal.host:8101")


def the_mail():
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    return mail.outbox[0]


def assert_the_portals_own(message, *, to: str, english: str, urdu: str) -> None:
    english_half, separator, urdu_half = message.body.partition("\n" + "-" * 60 + "\nاردو\n")
    assert separator, message.body
    assert message.to == [to]
    assert message.subject.startswith("[DLSEI] ") and " / " in message.subject
    for wording in ALLAUTH_WORDING:
        assert wording not in message.body and wording not in message.subject, (wording, message.body)
    assert english in english_half and urdu in urdu_half, message.body
    assert "DLSEI portal, Higher Education Commission, Pakistan" in english_half
    assert "DLSEI پورٹل، ہائر ایجوکیشن کمیشن، پاکستان" in urdu_half
    # The address in the Urdu sentence stays in its order.
    assert f"\u2068{to}\u2069" in urdu_half
    links = re.findall(r"https?://[^\s\u2069]+", message.body)
    assert links and all(link.startswith(SITE + "/") or link == SITE for link in links), links


def test_the_address_confirmation_on_sign_up(settings):
    client = client_on_an_internal_host()
    client.post(reverse("account_signup"), {"email": "ayesha@example.pk", "password1": PASSWORD, "password2": PASSWORD})
    message = the_mail()
    assert_the_portals_own(
        message,
        to="ayesha@example.pk",
        english="Someone, perhaps you, gave the e-mail address ayesha@example.pk to create an account",
        urdu="پتے کی تصدیق کے لیے یہ کوڈ اسی صفحے پر درج کریں",
    )
    assert re.search(r"^\s*[A-Z0-9]{4}-[A-Z0-9]{4}\s*$", message.body, re.M)
    assert message.subject == (
        "[DLSEI] Confirm your e-mail address for the DLSEI portal / DLSEI پورٹل کے لیے اپنے ای میل پتے کی تصدیق کریں"
    )


def test_the_sign_in_code(phase):
    university = factories.make_university(code="QAU")
    factories.make_quota(phase=phase, university=university, licenses=3)
    focal = factories.make_focal_person(university=university, email="focal@qau.edu.pk")
    factories.disclaimer_on_file(phase=phase, university=university, user=focal)
    nomination_submit(
        phase=phase, university=university, data=factories.student_data(email="hina@qau.edu.pk"), actor=focal
    )
    mail.outbox.clear()
    client_on_an_internal_host().post(reverse("account_request_login_code"), {"email": "hina@qau.edu.pk"})
    message = the_mail()
    assert_the_portals_own(
        message,
        to="hina@qau.edu.pk",
        english="asked to sign in to the DLSEI portal as hina@qau.edu.pk. Your sign-in code:",
        urdu="آپ کا سائن اِن کوڈ",
    )
    assert message.subject == "[DLSEI] Your DLSEI sign-in code / آپ کا DLSEI سائن اِن کوڈ"


def test_the_password_reset_link_is_on_the_portals_address():
    user = factories.make_user(email="ayesha@example.pk")
    get_user_model().objects.filter(pk=user.pk).update(username="ayesha.siddiqui.alum")
    client_on_an_internal_host().post(reverse("account_reset_password"), {"email": "ayesha@example.pk"})
    message = the_mail()
    assert_the_portals_own(
        message,
        to="ayesha@example.pk",
        english="asked to choose a new password for the DLSEI account of ayesha@example.pk",
        urdu="نیا پاس ورڈ منتخب کرنے کے لیے یہ لنک کھولیں",
    )
    assert "ayesha.siddiqui.alum" not in message.body
    link = re.search(rf"{re.escape(SITE)}/accounts/password/reset/key/\S+/", message.body).group(0)
    # The link works on the portal: the page it opens lets the person choose a password.
    page = Client().get(link.removeprefix(SITE), follow=True)
    assert page.status_code == 200 and 'name="password1"' in page.content.decode()


def test_an_unknown_address_hears_what_to_do_on_the_portals_address():
    client_on_an_internal_host().post(reverse("account_request_login_code"), {"email": "nobody@example.pk"})
    message = the_mail()
    assert_the_portals_own(
        message,
        to="nobody@example.pk",
        english="the exact e-mail address your university nominated you with",
        urdu="DLSEI پورٹل",
    )
    assert f"{SITE}/accounts/signup/" in message.body


def test_signing_in_names_the_person_by_their_address_not_a_made_up_user_name():
    user = factories.make_user(email="ayesha@example.pk", password=PASSWORD)
    get_user_model().objects.filter(pk=user.pk).update(username="ayesha.siddiqui.alum")
    client = Client()
    signed_in = client.post(reverse("account_login"), {"login": "ayesha@example.pk", "password": PASSWORD}, follow=True)
    page = signed_in.content.decode()
    assert "Successfully signed in as ayesha@example.pk." in page
    assert "ayesha.siddiqui.alum" not in page
