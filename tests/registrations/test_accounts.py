"""Who an account belongs to: a nomination is about a person, and an account sees it only through an
address it has proved. Each attack below was done on the demo data against the pages of the
portal; each runs here through the same pages (allauth's, the focal person's, the sign-in by code).
"""

import html
import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from registrations.models import Nomination
from tests import factories

User = get_user_model()
PASSWORD = "graduated-in-twenty-twenty"
NOMINEE = "hamza.ali@qau.edu.pk"
NOMINEE_CNIC = "35202-7654321-3"


def text(response) -> str:
    return html.unescape(response.content.decode())


def code_from(message) -> str:
    found = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4}|[A-Z0-9]{6})\s*$", message.body, re.M)
    assert found, message.body
    return found.group(1)


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]


def nominate(client: Client, focal, *, email: str = NOMINEE, cnic: str = NOMINEE_CNIC):
    """The focal person adds one student on the page."""
    client.force_login(focal)
    response = client.post(
        reverse("registrations:focal_nominee_add"),
        {
            "full_name": "Hamza Ali",
            "cnic": cnic,
            "email": email,
            "phone": "0300 1234567",
            "role": "student",
            "programme_years": "16",
        },
        follow=True,
    )
    client.logout()
    return response


def sign_in_by_code(client: Client, email: str):
    """Ask for a code on the sign-in page, read it from the e-mail, type it."""
    mail.outbox.clear()
    client.post(reverse("account_request_login_code"), {"email": email}, follow=True)
    (message,) = mails_to(email.lower())
    return client.post(reverse("account_confirm_login_code"), {"code": code_from(message)}, follow=True)


@pytest.fixture
def alumnus(client):
    """A signed-in alumnus with a verified address of his own (the attacker of cases 1, 2 and 4)."""
    user = factories.make_user(email="imran@example.pk", password=PASSWORD)
    client.force_login(user)
    return user


def license_page(client: Client) -> str:
    return text(client.get(reverse("fees:my_license"), follow=True))


def reveals_the_nominee(page: str, university) -> bool:
    """The nominee's name, masked CNIC or license shows on the page."""
    return any(part in page for part in ("Hamza Ali", "*****21-3", "Registered through", university.name))


# Case 1: an address added after the nomination -----------------------------------------------------


@pytest.mark.django_db
def test_an_address_added_after_the_nomination_does_not_take_the_nominees_sign_in(
    client, alumnus, phase, university, focal, quota
):
    nominate(Client(), focal)
    mail.outbox.clear()

    added = client.post(reverse("account_email"), {"action_add": "", "email": NOMINEE}, follow=True)

    assert added.status_code == 200
    assert not EmailAddress.objects.filter(user=alumnus, email=NOMINEE).exists()  # nothing until it is proved
    assert not reveals_the_nominee(license_page(client), university)

    nominee = Client()
    signed_in = sign_in_by_code(nominee, NOMINEE)
    account = signed_in.wsgi_request.user
    assert account.is_authenticated and account != alumnus
    assert EmailAddress.objects.get(email=NOMINEE).user == account
    assert "Hamza Ali" in license_page(nominee)
    assert not reveals_the_nominee(license_page(client), university)


# Case 2: an address added before the nomination ----------------------------------------------------


@pytest.mark.django_db
def test_an_address_added_before_the_nomination_never_shows_it(client, alumnus, phase, university, focal, quota):
    client.post(reverse("account_email"), {"action_add": "", "email": NOMINEE}, follow=True)
    nominate(Client(), focal)

    page = license_page(client)
    assert not reveals_the_nominee(page, university)
    assert "Hamza Ali" not in text(client.get(reverse("registrations:my_status")))


# Case 3: a sign-up with the nominee's address before the nomination ------------------------------


@pytest.mark.django_db
def test_a_sign_up_with_someone_elses_address_loses_its_password_when_the_owner_proves_it(
    phase, university, focal, quota
):
    attacker = Client()
    attacker.post(reverse("account_signup"), {"email": NOMINEE, "password1": PASSWORD, "password2": PASSWORD})
    squatted = EmailAddress.objects.get(email=NOMINEE)
    assert not squatted.verified
    nominate(Client(), focal)

    nominee = Client()
    signed_in = sign_in_by_code(nominee, NOMINEE)
    assert signed_in.wsgi_request.user == squatted.user  # the account holding the address, now the owner's
    assert EmailAddress.objects.get(email=NOMINEE).verified
    assert "Hamza Ali" in license_page(nominee)

    again = Client()
    refused = again.post(reverse("account_login"), {"login": NOMINEE, "password": PASSWORD}, follow=True)
    assert not refused.wsgi_request.user.is_authenticated
    assert not User.objects.get(pk=squatted.user_id).has_usable_password()
    assert AuditEntry.objects.filter(action="account.password_cleared", target_id=str(squatted.user_id)).exists()
    # The owner's own session goes on.
    assert "Hamza Ali" in license_page(nominee)


@pytest.mark.django_db
def test_proving_the_address_ends_every_other_session_of_an_account_with_a_password(phase, university, focal, quota):
    # An account from before: a password set on an address that was never proved, and a session.
    user = User.objects.create_user(username="old", email=NOMINEE, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=NOMINEE, verified=False, primary=True)
    other_session = Client()
    other_session.force_login(user)
    nominate(Client(), focal)

    sign_in_by_code(Client(), NOMINEE)

    assert not other_session.get(reverse("fees:my_license")).wsgi_request.user.is_authenticated


@pytest.mark.django_db
def test_an_alumnus_signing_in_by_code_keeps_the_password_he_set_and_proved(client, phase):
    user = factories.make_user(email="alum@example.pk", password=PASSWORD)
    signed_in = sign_in_by_code(client, "alum@example.pk")
    assert signed_in.wsgi_request.user == user
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# Case 4: an address verified on another account ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("held", ["verified", "unverified"])
def test_an_address_another_account_holds_cannot_be_added(client, alumnus, university, held):
    focal = factories.make_focal_person(university=university, email="focal@qau.edu.pk", verified=held == "verified")
    mail.outbox.clear()

    added = client.post(reverse("account_email"), {"action_add": "", "email": "Focal@QAU.edu.pk"}, follow=True)
    # As for any address: a code goes to it, and the page says so (nothing tells that it is taken).
    assert added.status_code == 200
    (message,) = mails_to("focal@qau.edu.pk")

    # Even with the code (the owner passed it on, say), the address is not added.
    confirmed = client.post(reverse("account_email_verification_sent"), {"code": code_from(message)}, follow=True)
    assert re.search(
        "already registered with this email address|already confirmed by a different account", text(confirmed)
    )
    assert list(EmailAddress.objects.filter(email="focal@qau.edu.pk").values_list("user_id", flat=True)) == [focal.pk]


@pytest.mark.django_db
def test_signing_up_with_a_taken_address_makes_no_second_account(phase, university):
    factories.make_focal_person(university=university, email="focal@qau.edu.pk")
    users = User.objects.count()
    Client().post(
        reverse("account_signup"), {"email": "focal@qau.edu.pk", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert User.objects.count() == users
    assert EmailAddress.objects.filter(email="focal@qau.edu.pk").count() == 1


# Case 5: staff and focal-person addresses are not learners ----------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("whose", ["hec_staff", "other_focal"])
def test_a_focal_person_cannot_nominate_a_staff_or_focal_address(client, phase, university, focal, quota, whose):
    if whose == "hec_staff":
        account = factories.make_hec_staff(email="officer@hec.gov.pk")
    else:
        account = factories.make_focal_person(university=factories.make_university(code="PU"), email="f@pu.edu.pk")

    response = nominate(client, focal, email=account.email.upper())

    assert "is the address of an HEC staff or focal person account" in text(response)
    assert not Nomination.objects.exists()
    client.force_login(account)
    assert not reveals_the_nominee(license_page(client), university)


# An unverified address shows nothing, anywhere ------------------------------------------------------


@pytest.mark.django_db
def test_an_unverified_address_never_reveals_a_nomination(client, phase, university, focal, quota):
    holder = factories.make_user(email="someone@example.pk")
    # Data from before this rule: the nominee's address on someone else's account, never proved.
    EmailAddress.objects.create(user=holder, email=NOMINEE, verified=False, primary=False)
    nominate(Client(), focal)
    nomination = Nomination.objects.get()
    client.force_login(holder)

    assert not reveals_the_nominee(license_page(client), university)
    assert "Hamza Ali" not in text(client.get(reverse("registrations:my_status")))
    assert client.get(reverse("home"))["Location"] != reverse("fees:my_license")
    certificate = client.get(reverse("registrations:file_nomination", args=[nomination.pk, "certificate"]))
    assert certificate.status_code == 404

    # E-mails about the nomination go to the nominee's own address, never to the holder's.
    mail.outbox.clear()
    client.force_login(focal)
    client.post(
        reverse("fees:deposits"),
        {"nomination": nomination.pk, "receipt_number": "R-1", "paid_on": "2021-09-20"},
        follow=True,
    )
    assert not mails_to("someone@example.pk")
    assert [m.to for m in mail.outbox if "Hamza Ali" in m.body] in ([], [[NOMINEE]])

    # Nor can the holder sign in through it: the nominee gets an account of their own.
    nominee = Client()
    assert sign_in_by_code(nominee, NOMINEE).wsgi_request.user != holder
    assert not EmailAddress.objects.filter(user=holder, email=NOMINEE).exists()


@pytest.mark.django_db
def test_asking_for_a_code_looks_the_same_for_a_nominee_a_learner_and_a_stranger(
    client, phase, university, focal, quota
):
    nominate(Client(), focal)
    factories.make_user(email="known@example.pk")
    pages = []
    for email in (NOMINEE, "known@example.pk", "stranger@example.pk"):
        mail.outbox.clear()
        response = Client().post(reverse("account_request_login_code"), {"email": email}, follow=True)
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text(response)).replace(email, "ADDRESS")
        pages.append((response.status_code, [url for url, _status in response.redirect_chain], page))
        assert len(mails_to(email)) == 1  # a code, or allauth's "no account" e-mail: to the address only
    assert pages[0] == pages[1] == pages[2]
    assert not User.objects.filter(email="stranger@example.pk").exists()
