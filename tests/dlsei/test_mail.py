"""Every e-mail the portal sends carries English and Urdu: the subject both ways, the text with
English first and Urdu below, the HTML with the Urdu part in a right-to-left block. Each mail is
made by the code path that really sends it and read back from the outbox."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from fees.alumni_payments import alumni_payment_reject, alumni_payment_submit
from fees.challans import challan_issue
from registrations.clearing import nomination_settle
from registrations.focal_accounts import focal_person_create
from registrations.models import Nomination, NominationStatus
from registrations.notifications import hold_expired_notify, promotion_notify
from registrations.tasks import reminders_send
from tests import factories
from tests.factories import learner_account
from tests.fees.conftest import pdf_upload, register_alumnus

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-pass-42"

URDU_LETTER = re.compile(r"[\u0600-\u06FF]")
LINK_OR_ADDRESS = re.compile(r"\S+@\S+|https?://\S+|\S+/\S+")
# Four Latin words in a row in the Urdu half means a sentence nobody translated. Names, links,
# addresses and the short names (DLSEI, Coursera, HEC) that Urdu text keeps in Latin are shorter.
ENGLISH_RUN = re.compile(r"\b[A-Za-z']+(?:[ ,]+[A-Za-z']+){3,}")


def halves(message) -> tuple[str, str]:
    english, separator, urdu = message.body.partition("\n" + "-" * 60 + "\nاردو\n")
    assert separator, message.body
    return english, urdu


def assert_bilingual(message, *, english: list[str], urdu: list[str], allow_in_urdu: tuple[str, ...] = ()):
    """The English phrases in the English half, the Urdu ones in the Urdu half, in text and HTML."""
    english_subject, slash, urdu_subject = message.subject.partition(" / ")
    assert slash and not URDU_LETTER.search(english_subject) and URDU_LETTER.search(urdu_subject), message.subject
    english_text, urdu_text = halves(message)
    for phrase in english:
        assert phrase in english_text, (phrase, english_text)
    for phrase in urdu:
        assert phrase in urdu_text, (phrase, urdu_text)
    leftover = urdu_text
    for allowed in allow_in_urdu:
        leftover = leftover.replace(allowed, "")
    untranslated = ENGLISH_RUN.findall(LINK_OR_ADDRESS.sub("", leftover))
    assert untranslated == [], urdu_text

    (html, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    opening = '<div lang="ur" dir="rtl"'
    assert html.count(opening) == 1
    english_html, urdu_html = html.split(opening)
    assert '<div lang="en" dir="ltr">' in english_html
    for phrase in english:
        assert phrase.split("\n")[0] in english_html.replace("&#x27;", "'"), phrase
    for phrase in urdu:
        assert phrase.split("\n")[0] in urdu_html, phrase


def the_only_mail():
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    return mail.outbox[0]


@pytest.fixture(autouse=True)
def _english_thread():
    """An earlier test's Urdu request can leave Urdu active in this thread; the data is made in English."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def phase(db):
    return factories.make_phase(slug="p2021", coursera_invitation_url="https://www.coursera.org/programs/dlsei-test")


def test_invitation(phase, django_capture_on_commit_callbacks):
    nomination = factories.make_seated_nomination(phase=phase, full_name="Ayesha Khan", email="ayesha@example.pk")
    with django_capture_on_commit_callbacks(execute=True):
        nomination_settle(nomination=nomination, reason="Deposit recorded", actor=None)
    message = the_only_mail()
    assert message.subject == "Your DLSEI Coursera license invitation / آپ کا DLSEI Coursera لائسنس دعوت نامہ"
    assert_bilingual(
        message,
        english=["Dear Ayesha Khan,", "Open your Coursera invitation link", "ayesha@example.pk"],
        urdu=["محترم/محترمہ Ayesha Khan،", "اپنا Coursera دعوتی لنک کھولیں", "ayesha@example.pk"],
        allow_in_urdu=("Ayesha Khan",),
    )
    html = message.alternatives[0][0]
    # The address inside the Urdu sentence keeps its left-to-right order.
    assert '<bdi dir="ltr">ayesha@example.pk</bdi>' in html.split('dir="rtl"')[1]


def test_reminder(phase, django_capture_on_commit_callbacks):
    activated_on = factories.activated_with_days_left(phase, 30)
    factories.make_seated_nomination(phase=phase, full_name="Hamza Ali", activated_on=activated_on)
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send.apply().get()
    assert_bilingual(
        the_only_mail(),
        english=["Dear Hamza Ali,", "This e-mail cannot list your courses."],
        urdu=["محترم/محترمہ Hamza Ali،", "30 دن"],
    )


def test_waiting_list_promotion(phase):
    university = factories.make_university(code="QAU")
    nomination = factories.make_seated_nomination(phase=phase, university=university, full_name="Sana Mir")
    promotion_notify(nomination_id=nomination.pk)
    assert_bilingual(
        the_only_mail(),
        english=["Dear Sana Mir,", "you were the next on the waiting list"],
        urdu=["محترم/محترمہ Sana Mir،"],
        allow_in_urdu=(university.name,),
    )


def test_alumni_seat_hold_expired(phase):
    nomination = factories.make_seated_nomination(phase=phase, full_name="Omar Riaz")
    Nomination.objects.filter(pk=nomination.pk).update(status=NominationStatus.EXPIRED, seat_kind="")
    hold_expired_notify(nomination_id=nomination.pk)
    assert_bilingual(
        the_only_mail(),
        english=["Dear Omar Riaz,", "The seat has gone to the next person on the waiting list."],
        urdu=["محترم/محترمہ Omar Riaz،"],
    )


def test_alumni_payment_rejected(phase, hec_staff, django_capture_on_commit_callbacks):
    factories.make_quota(phase=phase, university=None, licenses=5)
    alumnus = register_alumnus(phase=phase, full_name="Bilal Ahmed", email="bilal@example.pk")
    challan_issue(nomination=alumnus, actor=learner_account(alumnus))
    payment = alumni_payment_submit(
        nomination=alumnus, paid_challan=pdf_upload(), transcript=pdf_upload(), actor=learner_account(alumnus)
    )
    with django_capture_on_commit_callbacks(execute=True):
        alumni_payment_reject(payment=payment, actor=hec_staff, reason="The bank stamp is not readable.")
    message = next(m for m in mail.outbox if m.to == ["bilal@example.pk"])
    assert_bilingual(
        message,
        english=["Dear Bilal Ahmed,", "The bank stamp is not readable.", "/fees/me/"],
        urdu=["محترم/محترمہ Bilal Ahmed،", "The bank stamp is not readable.", "/fees/me/"],
        # HEC's reason is quoted as HEC staff wrote it.
        allow_in_urdu=("The bank stamp is not readable.",),
    )


def test_focal_person_welcome(hec_staff, django_capture_on_commit_callbacks):
    university = factories.make_university(code="QAU")
    with django_capture_on_commit_callbacks(execute=True):
        focal_person_create(email="amina@qau.edu.pk", full_name="Amina Khan", university=university, actor=hec_staff)
    message = the_only_mail()
    assert "QAU" in message.subject
    english, urdu = halves(message)
    link = re.search(r"https?://\S+/registrations/welcome/\S+/", english).group(0)
    assert link in urdu  # the same one-time link in both halves
    assert_bilingual(
        message,
        english=["Dear Amina Khan,", "To choose your password, open this link:"],
        urdu=["محترم/محترمہ Amina Khan،"],
        allow_in_urdu=(university.name,),
    )


def test_sign_in_code(client):
    factories.make_user(email="learner@example.pk")
    client.post(reverse("account_request_login_code"), {"email": "learner@example.pk"})
    message = the_only_mail()
    assert message.subject.startswith("[DLSEI] ")
    english, urdu = halves(message)
    code = english.split("Your sign-in code:")[1].split()[0]
    assert code in urdu
    assert_bilingual(message, english=["asked to sign in to the DLSEI portal as"], urdu=[code])


def test_address_confirmation_on_sign_up(client):
    client.post(
        reverse("account_signup"),
        {
            "email": "new.alumnus@example.pk",
            "password1": "a-long-unusual-pass-42",
            "password2": "a-long-unusual-pass-42",
        },
    )
    message = the_only_mail()
    english, urdu = halves(message)
    # A code typed in the browser that signed up, never a link that whoever reads the mail could open.
    assert "/accounts/confirm-email/" not in message.body
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", english, re.M).group(1)
    assert code in urdu
    assert_bilingual(message, english=["new.alumnus"], urdu=["new.alumnus"])


def test_password_reset(client):
    factories.make_user(email="focal@example.edu.pk")
    client.post(reverse("account_reset_password"), {"email": "focal@example.edu.pk"})
    message = the_only_mail()
    english, urdu = halves(message)
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", english).group(0)
    assert link in urdu
    assert_bilingual(message, english=["asked to choose a new password"], urdu=["نیا پاس ورڈ"])


def test_unknown_account_says_which_address_to_use(client):
    client.post(reverse("account_request_login_code"), {"email": "nobody@example.pk"})
    message = the_only_mail()
    assert (
        message.subject
        == "[DLSEI] No DLSEI account has this e-mail address / اس ای میل پتے کا کوئی DLSEI اکاؤنٹ نہیں ہے"
    )
    assert_bilingual(
        message,
        english=["the exact e-mail address your university nominated you with", "/accounts/signup/"],
        urdu=["DLSEI پورٹل سے ای میل پتے", "nobody@example.pk", "/accounts/signup/"],
    )


def test_signing_up_again_with_a_known_address(client):
    factories.make_user(email="alum@example.pk")
    client.post(reverse("account_signup"), {"email": "alum@example.pk", "password1": PASSWORD, "password2": PASSWORD})
    assert_bilingual(
        the_only_mail(),
        english=["an account with this address already exists", "/accounts/password/reset/"],
        urdu=["اس پتے کا اکاؤنٹ پہلے سے موجود ہے", "/accounts/password/reset/"],
    )
