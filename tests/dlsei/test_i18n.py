"""The portal in Urdu: a language switch that remembers the choice without JavaScript, pages of
every role right-to-left and in Urdu with no English left from our templates, Urdu dates and
numbers, a complete catalogue (the committed .mo included), and e-mails that carry Urdu."""

import datetime
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from tests import factories
from tests.factories import build_world, client_for
from tests.urdu import PO, po_entries, translated, visible_texts

MO = PO.with_suffix(".mo")
URDU_MONTHS = ["جنوری", "فروری", "مارچ", "اپریل", "مئی", "جون", "جولائی", "اگست", "ستمبر", "اکتوبر", "نومبر", "دسمبر"]
URDU_LETTERS = re.compile(r"[\u0600-\u06FF]")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


def test_the_po_reader_reads_what_msgfmt_reads(tmp_path):
    po = tmp_path / "sample.po"
    po.write_text(
        'msgid ""\nmsgstr "Language: ur\\n"\n\n#, python-format\nmsgid "Dear %(name)s,"\nmsgstr "محترم %(name)s،"\n\n'
        '#, fuzzy\nmsgid "a\\n"\n"b"\nmsgstr ""\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "ایک"\nmsgstr[1] ""\n',
        encoding="utf-8",
    )
    header, dear, fuzzy, plural = po_entries(po)
    assert header["msgstr"] == "Language: ur\n"
    assert dear == {"msgid": "Dear %(name)s,", "msgstr": "محترم %(name)s،", "flags": {"python-format"}}
    assert fuzzy["msgid"] == "a\nb" and fuzzy["flags"] == {"fuzzy"} and fuzzy["msgstr"] == ""
    assert plural["msgstr[0]"] == "ایک" and plural["msgstr[1]"] == ""


# The catalogue ----------------------------------------------------------------------------------------


def test_every_message_is_translated_into_urdu_with_its_placeholders():
    entries = [e for e in po_entries() if e["msgid"] and not e.get("obsolete")]
    assert len(entries) > 900  # the portal's own strings, found by makemessages
    header = next(e for e in po_entries() if e["msgid"] == "")
    assert "Language: ur\n" in header["msgstr"]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header["msgstr"]
    problems = []
    for entry in entries:
        if "fuzzy" in entry.get("flags", set()):
            problems.append(f"fuzzy: {entry['msgid']!r}")
        if "msgid_plural" in entry:
            forms = [(entry["msgid"], entry.get("msgstr[0]", "")), (entry["msgid_plural"], entry.get("msgstr[1]", ""))]
        else:
            forms = [(entry["msgid"], entry.get("msgstr", ""))]
        for english, urdu in forms:
            if not urdu:
                problems.append(f"untranslated: {english!r}")
            elif sorted(PLACEHOLDER.findall(english)) != sorted(PLACEHOLDER.findall(urdu)):
                problems.append(f"placeholders differ: {english!r} → {urdu!r}")
            elif sorted(re.findall(r"<[^>]+>", english)) != sorted(re.findall(r"<[^>]+>", urdu)):
                problems.append(f"markup differs: {english!r} → {urdu!r}")
    assert not problems, "\n".join(problems)


def test_most_translations_are_written_in_urdu_script():
    pairs = translated()
    in_urdu = [urdu for urdu in pairs.values() if URDU_LETTERS.search(urdu)]
    assert len(in_urdu) >= 0.97 * len(pairs)


def _isolated(text: str, at: int) -> bool:
    """Whether position ``at`` lies between an LRI (U+2066) or FSI (U+2068) and its PDI (U+2069)."""
    opened = max(text.rfind("\u2066", 0, at), text.rfind("\u2068", 0, at))
    return opened > text.rfind("\u2069", 0, at)


# What turns around inside Urdu text unless isolated: file types, numbers with dashes or slashes
# (CNICs, dates and their patterns), e-mail addresses, and the placeholders that stand for them
# (amounts, receipts, challan and invoice numbers, days, sizes); not placeholders in attributes.
LTR_IN_URDU = re.compile(
    r"\.xlsx?\b|[\d*]+(?:[-/][\d*]+)+|[YMD]{2,4}[-/][YMD]{2}[-/][YMD]{2,4}|\w+@[\w.]+\w"
    r"|(?<![=\"'])%\((?:cnic|email|day|date|when|until|start|end|amount|receipt|number|phone|size|limit|value)\)[sd]"
)


def test_left_to_right_fragments_inside_urdu_sentences_keep_their_order():
    """In right-to-left text the bidi algorithm shows «(.xlsx)» as «(xlsx.)», «0–9» as «9–0» and a
    masked CNIC «*****-*****67-1» as «1-67*****-*****» unless the fragment is isolated (LRI … PDI)."""
    problems = []
    for entry in po_entries():
        for key in ("msgstr", "msgstr[0]", "msgstr[1]"):
            urdu = entry.get(key, "")
            if not URDU_LETTERS.search(urdu):
                continue
            for found in re.finditer(LTR_IN_URDU, urdu):
                if not _isolated(urdu, found.start()):
                    problems.append(f"not isolated: {found.group()} in {urdu!r}")
            if re.search(r"\d\s*[–—]\s*\d", urdu):
                problems.append(f"digit range: {urdu!r}")
            opened = urdu.count("\u2066") + urdu.count("\u2067") + urdu.count("\u2068")
            if opened != urdu.count("\u2069") or "\u200f" in urdu:
                problems.append(f"unbalanced isolate or RLM: {urdu!r}")
    assert not problems, "\n".join(problems)
    assert _isolated("a \u2066(.xlsx)\u2069 b", 3) and not _isolated("a (.xlsx) \u2066b\u2069", 3)


def test_the_committed_mo_file_holds_every_translation_of_the_po_file():
    """A fresh machine without gettext reads the committed .mo: it must not lag behind the .po."""
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    stale = []
    for entry in po_entries():
        if not entry["msgid"] or entry.get("obsolete"):
            continue
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            got = [catalog.ngettext(entry["msgid"], entry["msgid_plural"], n) for n in (1, 2)]
            want = [entry["msgstr[0]"], entry["msgstr[1]"]]
        elif context is not None:
            got, want = catalog.pgettext(context, entry["msgid"]), entry["msgstr"]
        else:
            got, want = catalog.gettext(entry["msgid"]), entry["msgstr"]
        if got != want:
            stale.append(entry["msgid"])
    assert not stale, f"run compilemessages: {stale[:5]}"


def test_the_mo_file_is_not_ignored_by_git():
    ignored = Path(settings.BASE_DIR, ".gitignore").read_text().split()
    assert "*.mo" not in ignored and "locale/" not in ignored


# The language switch ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_page_offers_the_language_switch_as_a_plain_form():
    html = Client().get(reverse("home")).content.decode()
    form = re.search(r'<form class="lang" action="([^"]+)" method="post">(.*?)</form>', html, re.S)
    assert form and form.group(1) == reverse("set_language")
    assert 'name="csrfmiddlewaretoken"' in form.group(2)
    assert '<select id="lang-select" name="language">' in form.group(2)
    # Each language named in itself and marked as such, so a screen reader speaks it right.
    assert '<option value="ur" lang="ur">اردو</option>' in form.group(2)
    assert '<option value="en" lang="en" selected>English</option>' in form.group(2)
    assert '<label for="lang-select"' in form.group(2)
    assert '<button type="submit"' in form.group(2)  # no JavaScript needed to send it


@pytest.mark.django_db
def test_switching_to_urdu_is_remembered_and_pages_turn_right_to_left():
    client = Client(enforce_csrf_checks=True)
    english = client.get(reverse("account_login")).content.decode()
    assert '<html lang="en" dir="ltr">' in english
    token = client.cookies["csrftoken"].value

    response = client.post(
        reverse("set_language"),
        {"language": "ur", "next": reverse("account_login"), "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    cookie = client.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "ur"
    assert int(cookie["max-age"]) >= 300 * 24 * 3600  # remembered across visits, not only this one
    for name in ("account_login", "home", "account_request_login_code"):
        html = client.get(reverse(name)).content.decode()
        assert '<html lang="ur" dir="rtl">' in html, name
        assert '<option value="ur" lang="ur" selected>اردو</option>' in html
    assert "سائن اِن" in client.get(reverse("account_login")).content.decode()

    back = client.post(reverse("set_language"), {"language": "en", "next": "/", "csrfmiddlewaretoken": token})
    assert back["Location"] == "/"
    assert '<html lang="en" dir="ltr">' in client.get("/").content.decode()


@pytest.mark.django_db
def test_the_choice_survives_signing_in():
    user = factories.make_user(email="alum@example.pk")
    client = Client()
    client.post(reverse("set_language"), {"language": "ur", "next": "/"})
    response = client.post(reverse("account_login"), {"login": user.email, "password": factories.PASSWORD}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ur" dir="rtl">' in html


# Pages of every role in Urdu ------------------------------------------------------------------------


def urdu_get(client: Client, url: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def _pages(world) -> list[tuple[str, str, list[str]]]:
    """(role, URL, Urdu the reader must find there)."""
    return [
        ("anonymous", reverse("home"), ["خوش آمدید", "جامعات کے فوکل پرسنز", "سابق طلبہ سائن اپ"]),
        ("anonymous", reverse("account_login"), ["سائن اِن", "طلبہ اور اساتذہ", "مجھے یاد رکھیں", "پاس ورڈ"]),
        ("anonymous", reverse("account_signup"), ["سابق طالب علم کا اکاؤنٹ بنائیں", "پاس ورڈ (دوبارہ)"]),
        ("anonymous", reverse("account_request_login_code"), ["ای میل کیے گئے کوڈ سے سائن اِن کریں"]),
        ("focal_own", reverse("registrations:focal_dashboard"), ["آپ کی جامعہ ایک نظر میں", "کوٹہ"]),
        ("alumnus", reverse("registrations:alumni_register"), ["آپ کی رجسٹریشن"]),
        ("alumnus", reverse("fees:my_license"), ["آپ کا لائسنس", "چالان نمبر", "آپ کے اپ لوڈ"]),
        ("learner", reverse("fees:my_license"), ["آپ کا لائسنس", "معذور افراد کے لیے مخصوص نشست"]),
        ("learner", reverse("account_email"), ["یہ ای میل پتے آپ کے اکاؤنٹ سے منسلک ہیں", "بنیادی"]),
        (
            "staff",
            reverse("registrations:staff_utilisation", args=[world.phase.slug]),
            ["ہر پول کا استعمال", "ہر جامعہ اور سابق طلبہ پول کا استعمال"],
        ),
    ]


@pytest.mark.django_db
def test_pages_of_every_role_come_in_urdu_with_no_english_left_from_our_templates():
    world = build_world()
    english = translated()
    for role, url, expected in _pages(world):
        html = urdu_get(client_for(world, role), url)
        assert '<html lang="ur" dir="rtl">' in html, url
        for text in expected:
            assert text in html, (url, text)
        leftovers = [text for text in visible_texts(html) if text in english]
        assert not leftovers, f"{url} ({role}) still shows English: {leftovers}"
        # The same page in English has those strings in English: the check above can fail.
        client = client_for(world, role)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        assert any(text in english for text in visible_texts(client.get(url).content.decode())), url


@pytest.mark.django_db
def test_a_newcomer_sees_the_alumni_registration_form_in_urdu():
    world = build_world()
    client = Client()
    client.force_login(factories.make_user(email="newcomer@example.pk"))
    html = urdu_get(client, reverse("registrations:alumni_register"))
    assert "سابق طلبہ (اوپن میرٹ) پول میں رجسٹر ہوں" in html
    assert "پورا نام (جیسا شناختی کارڈ پر ہے)" in html
    assert "فراغت کی تاریخ" in html
    english = translated()
    assert not [text for text in visible_texts(html) if text in english]
    assert world.phase.slug  # the phase is open for registration


@pytest.mark.django_db
def test_a_wrong_form_answers_in_urdu():
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = client.post(reverse("account_login"), {"login": "nobody@example.pk", "password": "wrong"}).content.decode()
    assert "آپ کا درج کردہ ای میل پتہ اور/یا پاس ورڈ درست نہیں۔" in html
    html = client.post(reverse("account_signup"), {"email": "", "password1": "", "password2": ""}).content.decode()
    assert "یہ خانہ لازمی ہے۔" in html
    assert "براہِ کرم نیچے نشان زد چیزیں درست کریں؛ ابھی کچھ محفوظ نہیں ہوا۔" in html


# Dates and numbers ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_numbers_keep_their_thousands_separator_in_urdu():
    factories.make_phase(slug="big-phase", total_licenses=24_000)
    html = urdu_get(Client(), reverse("home"))
    assert "24,000" in html and "24000" not in html


@pytest.mark.django_db
def test_dates_are_written_day_month_year_with_urdu_month_names():
    world = build_world()
    challan = world.payment.challan
    html = urdu_get(client_for(world, "alumnus"), reverse("fees:my_license"))
    due = challan.due_date
    assert f"{due.day} {URDU_MONTHS[due.month - 1]} {due.year}" in html
    assert f"Rs {challan.amount:,}" in html  # 8,000, not 8000
    sent = timezone.localtime(world.payment.submitted_at)
    noon = "قبل دوپہر" if sent.hour < 12 else "بعد دوپہر"
    when = f"{sent.day} {URDU_MONTHS[sent.month - 1]} {sent.year}، {sent.hour % 12 or 12}:{sent.minute:02d} {noon}"
    assert when in html

    client = client_for(world, "alumnus")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert f"{due.strftime('%b')[:3]}" in client.get(reverse("fees:my_license")).content.decode()


def test_urdu_date_input_takes_the_iso_form_the_forms_ask_for():
    from django import forms

    with translation.override("ur"):
        field = forms.DateField()
        assert field.clean("2021-09-15") == datetime.date(2021, 9, 15)
        assert field.clean("15/09/2021") == datetime.date(2021, 9, 15)


# E-mails ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_invitation_email_carries_urdu_beside_the_english():
    from registrations.invitation_outbox import invitation_email
    from registrations.models import Invitation

    phase = factories.make_phase(slug="mail-phase", coursera_invitation_url="https://www.coursera.org/programs/x")
    nomination = factories.make_seated_nomination(
        phase=phase, university=factories.make_university(), activated_on=datetime.date(2021, 10, 1)
    )
    invitation = Invitation.objects.create(nomination=nomination)
    message = invitation_email(invitation=invitation)
    assert "Dear" in message.body and URDU_LETTERS.search(message.body)
    assert "آگے کیا کرنا ہے" in message.body
    html = message.alternatives[0][0]
    assert 'lang="ur" dir="rtl"' in html and "آگے کیا کرنا ہے" in html


@pytest.mark.django_db
def test_the_payment_rejection_email_carries_urdu_below_the_english(django_capture_on_commit_callbacks):
    from fees.alumni_payments import alumni_payment_reject

    world = build_world()
    mail.outbox.clear()
    with translation.override("ur"), django_capture_on_commit_callbacks(execute=True):
        alumni_payment_reject(payment=world.payment, actor=world.users["staff"], reason="مہر صاف نہیں")
    (message,) = mail.outbox
    assert message.to == [world.alumni_nomination.email]
    assert message.subject == (
        "[DLSEI] Your payment proof needs another look / [DLSEI] آپ کی ادائیگی کے ثبوت میں درستی درکار ہے"
    )
    assert message.body.index("Dear Alumnus 1,") < message.body.index("محترم/محترمہ Alumnus 1،")
    assert "براہِ کرم سائن اِن کریں، اپنے لائسنس کا صفحہ کھولیں" in message.body
    assert "مہر صاف نہیں" in message.body


@pytest.mark.django_db
def test_the_sign_in_code_email_carries_urdu_below_the_english():
    learner = factories.make_user(email="learner@example.edu.pk")
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    mail.outbox.clear()
    response = client.post(reverse("account_request_login_code"), {"email": learner.email})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == [learner.email]
    assert "سائن اِن کوڈ" in message.subject
    assert message.body.index("Your sign-in code") < message.body.index("آپ کا سائن اِن کوڈ:")
