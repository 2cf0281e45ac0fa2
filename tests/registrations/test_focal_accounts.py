"""Focal person accounts: HEC staff create them, the person chooses a password through a one-time link."""

import datetime
import html
import re
import socket

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from audit.models import AuditEntry
from registrations.models import FocalPerson
from tests import factories

NEW_PASSWORD = "a-long-and-unusual-passphrase-42"
LINK = re.compile(r"https?://[^/\s]+(/registrations/welcome/[^\s]+/)")


@pytest.fixture
def university(db):
    return factories.make_university(code="QAU")


def _create_through_admin(client, hec_staff, university, email="focal.qau@example.edu.pk"):
    client.force_login(hec_staff)
    response = client.post(
        reverse("admin:registrations_focalperson_add"),
        {"email": email, "full_name": "Amina Khan", "university": university.pk, "phone": "0300-1234567", "_save": "1"},
        follow=True,
    )
    client.logout()
    return response


def text(response) -> str:
    return html.unescape(response.content.decode())


def _link_from_last_mail() -> str:
    match = LINK.search(mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


@pytest.mark.django_db(transaction=True)
def test_staff_create_a_focal_person_who_receives_a_set_password_email(client, hec_staff, university):
    response = _create_through_admin(client, hec_staff, university)

    assert response.status_code == 200
    assert "A set-password e-mail was sent to focal.qau@example.edu.pk." in response.content.decode()
    focal = FocalPerson.objects.select_related("user").get(user__email="focal.qau@example.edu.pk")
    assert focal.university == university
    assert focal.phone == "0300-1234567"
    assert focal.user.get_full_name() == "Amina Khan"
    assert not focal.user.has_usable_password()
    assert not EmailAddress.objects.get(user=focal.user).verified
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["focal.qau@example.edu.pk"]
    assert "QAU" in message.subject
    assert university.name in message.body
    assert "/registrations/welcome/" in message.body
    assert AuditEntry.objects.filter(action="focal_person.create", actor=hec_staff).exists()


@pytest.mark.django_db(transaction=True)
def test_an_email_already_in_use_is_refused_and_nothing_is_created(client, hec_staff, university):
    factories.make_user(email="taken@example.edu.pk")
    response = _create_through_admin(client, hec_staff, university, email="Taken@example.edu.pk")

    assert "An account with this e-mail address already exists" in response.content.decode()
    assert not FocalPerson.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_good_link_sets_the_password_verifies_the_email_and_signs_in(client, hec_staff, university, phase):
    _create_through_admin(client, hec_staff, university)
    link = _link_from_last_mail()

    page = client.get(link)
    assert page.status_code == 200
    assert "Choose your password" in page.content.decode()
    assert university.name in page.content.decode()

    response = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)
    assert response.redirect_chain[0][1] == 302
    assert response.redirect_chain[0][0] == reverse("registrations:focal_dashboard")
    # No disclaimer on file yet, so the focal pages send the person to upload it first.
    assert "Please upload your university's signed disclaimer form first" in text(response)

    user = get_user_model().objects.get(email="focal.qau@example.edu.pk")
    assert user.check_password(NEW_PASSWORD)
    assert EmailAddress.objects.get(user=user).verified
    assert AuditEntry.objects.filter(action="focal_person.password_set", actor=user).exists()

    # The chosen password works on the ordinary sign-in page.
    client.logout()
    signed_in = client.post(
        reverse("account_login"), {"login": "focal.qau@example.edu.pk", "password": NEW_PASSWORD}, follow=True
    )
    assert signed_in.wsgi_request.user.is_authenticated


@pytest.mark.django_db(transaction=True)
def test_a_used_link_no_longer_works(client, hec_staff, university):
    _create_through_admin(client, hec_staff, university)
    link = _link_from_last_mail()
    client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    client.logout()

    again = client.get(link)
    assert again.status_code == 404
    assert "This link no longer works" in again.content.decode()

    reuse = client.post(link, {"new_password1": "another-passphrase-77x", "new_password2": "another-passphrase-77x"})
    assert reuse.status_code == 404
    user = get_user_model().objects.get(email="focal.qau@example.edu.pk")
    assert user.check_password(NEW_PASSWORD)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "path",
    [
        "/registrations/welcome/garbage/abc-123/",
        "/registrations/welcome/MQ/set-password/",
        "/registrations/welcome/%E2%98%83/x/",
    ],
)
def test_a_bad_link_says_so_without_an_error(client, university, path):
    factories.make_focal_person(university=university)
    response = client.get(path)
    assert response.status_code == 404
    assert "This link no longer works" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_expired_link_no_longer_works(client, university, settings):
    settings.PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600
    focal_user = factories.make_focal_person(university=university, verified=False)

    class ThreeDaysAgo(PasswordResetTokenGenerator):
        def _now(self):
            return datetime.datetime.now() - datetime.timedelta(days=3, hours=1)

    token = ThreeDaysAgo().make_token(focal_user)
    uidb64 = urlsafe_base64_encode(force_bytes(focal_user.pk))
    response = client.get(reverse("registrations:welcome", args=[uidb64, token]))
    assert response.status_code == 404
    assert "This link no longer works" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_link_is_only_for_focal_persons(client):
    alumnus = factories.make_user(email="alumnus@example.pk")
    token = PasswordResetTokenGenerator().make_token(alumnus)
    uidb64 = urlsafe_base64_encode(force_bytes(alumnus.pk))
    assert client.get(reverse("registrations:welcome", args=[uidb64, token])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_mismatched_or_weak_passwords_are_refused_on_the_field(client, hec_staff, university):
    _create_through_admin(client, hec_staff, university)
    link = _link_from_last_mail()

    mismatch = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 400
    html = mismatch.content.decode()
    assert "The two passwords are not the same." in html
    assert 'aria-describedby="id_new_password2_error"' in html

    weak = client.post(link, {"new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 400
    assert "This password is too common." in weak.content.decode()
    assert not get_user_model().objects.get(email="focal.qau@example.edu.pk").has_usable_password()


@pytest.mark.django_db(transaction=True)
def test_staff_can_send_the_email_again_from_the_admin(client, hec_staff, university):
    _create_through_admin(client, hec_staff, university)
    focal = FocalPerson.objects.get()
    client.force_login(hec_staff)
    response = client.post(
        reverse("admin:registrations_focalperson_changelist"),
        {"action": "send_welcome", "_selected_action": [focal.pk]},
        follow=True,
    )
    assert "1 set-password e-mail sent." in response.content.decode()
    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == ["focal.qau@example.edu.pk"]
    # Both links work until one of them is used.
    client.logout()
    second = _link_from_last_mail()
    assert client.get(second).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_staff_move_a_focal_person_to_another_university_with_an_audit_entry(client, hec_staff, university):
    _create_through_admin(client, hec_staff, university)
    focal = FocalPerson.objects.get()
    other = factories.make_university(code="PU")
    client.force_login(hec_staff)
    listing = client.get(reverse("admin:registrations_focalperson_changelist"))
    assert "focal.qau@example.edu.pk" in text(listing)
    client.post(
        reverse("admin:registrations_focalperson_change", args=[focal.pk]),
        {"university": other.pk, "phone": "051-9040000", "_save": "1"},
    )
    focal.refresh_from_db()
    assert focal.university == other and focal.phone == "051-9040000"
    entry = AuditEntry.objects.get(action="focal_person.update")
    assert entry.data["before"]["university"] == "QAU" and entry.data["after"]["university"] == "PU"
    assert client.get(reverse("admin:registrations_focalperson_delete", args=[focal.pk])).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_that_is_down_leaves_the_account_created_and_no_error_page(
    client, hec_staff, university, settings
):
    # Nothing listens on the port a socket was just bound to and closed: every connection is refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2

    response = _create_through_admin(client, hec_staff, university)

    assert response.status_code == 200
    focal = FocalPerson.objects.select_related("user").get(user__email="focal.qau@example.edu.pk")
    assert focal.university == university
    assert AuditEntry.objects.filter(action="focal_person.create", actor=hec_staff).exists()
