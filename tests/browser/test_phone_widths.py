"""Every page of every role on a phone: at 360 and 320 pixels wide, in English and in Urdu, no page
scrolls sideways (the document is never wider than the screen), and the header's menu folds.

The people and their records are made through the real services; each role is signed in by its
session cookie, and the language is the portal's own cookie, so only the pages themselves are
measured here (the journeys drive the forms)."""

import datetime
import re

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from fees.deposits import deposit_record
from quotas.models import Allocation, Quota
from quotas.services import allocation_run
from registrations.eligibility import NomineeData
from registrations.imports import nomination_upload_store
from registrations.models import NominationUpload
from registrations.services import disclaimer_upload, nomination_submit
from tests import factories
from tests.browser.conftest import PDF, SCREENSHOTS
from tests.factories import learner_account

PHONES = [(360, 740), (320, 640)]
SHOTS = SCREENSHOTS / "phone"
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"

# Buttons, fields and the menu's summary shown on the page, under 44 px high (links inside a
# sentence are exempt, as WCAG 2.5.8 exempts them).
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'button, select, summary, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), a.button')]
  .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 43.5)
  .slice(0, 5).map(e => e.tagName.toLowerCase() + ' ' + (e.innerText || e.name || '').trim().slice(0, 30)
    + ' ' + Math.round(e.getBoundingClientRect().height) + 'px').join('; ')"""

# Urdu pages: CNICs (masked or not), dates, number ranges, e-mail addresses and phone numbers turn
# around in right-to-left text unless isolated: inside <bdi>, an element marked dir="ltr", a field,
# or between an isolate (U+2066 or U+2068) and U+2069.
NOT_ISOLATED = r"""() => {
  const pattern = /[\d*]+(?:[-\/][\d*]+)+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b0\d{3} \d{7}\b/g;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, bdi, [dir=ltr], input, textarea, select, code, pre, svg')) continue;
    if (parent.offsetParent === null && getComputedStyle(parent).position !== 'fixed') continue;
    const text = node.data;
    for (const m of text.matchAll(pattern)) {
      const before = text.slice(0, m.index);
      const open = Math.max(before.lastIndexOf('\u2066'), before.lastIndexOf('\u2068'));
      if (open > before.lastIndexOf('\u2069')) continue;
      found.push(m[0] + ' in «' + text.trim().slice(0, 60) + '»');
    }
  }
  return found.slice(0, 5).join('; ');
}"""


def student(n: int, name: str, **changes) -> NomineeData:
    fields = {
        "full_name": name,
        "cnic": f"35202-{6000000 + n:07d}-{n}",
        "email": f"student.with.a.long.address{n}@university-of-engineering.edu.pk",
        "phone": "0300 6666666",
        "role": "student",
        "programme_years": 16,
    }
    return NomineeData(**(fields | changes))


def everyone(phase):
    """A published allocation and a draft after it, a focal person with seated and waiting nominees,
    an alumnus who paid, a learner with a deposit: each role's pages have rows to show."""
    from quotas.services import allocation_publish

    factories.make_university(code="DL", enrolment=500_000, distance_learning_licenses=10)
    for code, enrolment in (("BIG", 30_000), ("MID", 20_000)):
        factories.make_university(code=code, enrolment=enrolment)
    factories.make_university(code="NAHE", sector="nahe", enrolment=0)
    factories.make_university(code="PRI", sector="private", enrolment=4_000)
    factories.make_university(code="PRJ", sector="private", enrolment=2_000)
    staff = factories.make_hec_staff(email="staff@hec.gov.pk")
    allocation_publish(allocation=allocation_run(phase=phase, actor=staff), actor=staff)
    allocation_run(phase=phase, actor=staff)  # a draft to compare with the published one
    big = Quota.objects.get(phase=phase, university__code="BIG")
    Quota.objects.filter(pk=big.pk).update(licenses=2)
    focal = factories.make_focal_person(university=big.university, email="focal@big.edu.pk")
    disclaimer_upload(phase=phase, university=big.university, file=SimpleUploadedFile("form.pdf", PDF), actor=focal)
    seated = nomination_submit(phase=phase, university=big.university, data=student(1, "Adeel Raza"), actor=focal)
    nomination_submit(phase=phase, university=big.university, data=student(2, "Fatima Noor"), actor=focal)
    nomination_submit(phase=phase, university=big.university, data=student(3, "Waiting Person"), actor=focal)
    rows = [
        "full_name,cnic,email,phone,role,programme_years,disability,deposit_receipt,deposit_date",
        "Sara Iqbal,35202-3333333-3,sara.iqbal.with.a.long.address@big.edu.pk,0300 3333333,student,16,no,,",
        "Omar Farooq,35202-4444444-4,omar@big.edu.pk,0300 4444444,student,14,no,,",
    ]
    nomination_upload_store(
        phase=phase, university=big.university, data="\n".join(rows).encode(), filename="nominees.csv", actor=focal
    )
    deposit_record(nomination=seated, receipt="BIG-0001-LONG-RECEIPT", paid_on=timezone.localdate(), actor=focal)
    alumnus = factories.alumnus_payment_waiting(
        phase=phase,
        data=NomineeData(
            full_name="Zara Hussain",
            cnic="35202-8888888-8",
            email="zara.hussain.alumna@example.pk",
            phone="0300 8888888",
            role="alumnus",
            degree="BS Physics",
            graduated_from="University BIG",
            graduation_date=datetime.date(2020, 6, 30),
        ),
    )
    new_alumnus = factories.make_user(email="new.alumnus@example.pk")
    return {
        "staff": staff,
        "focal": focal,
        "learner": learner_account(seated),
        "alumnus": learner_account(alumnus),
        "new alumnus": new_alumnus,
        "seated": seated,
    }


def pages_of(role: str, *, phase, people) -> list[str]:
    slug = phase.slug
    if role == "visitor":
        return [
            "/",
            "/accounts/login/",
            "/accounts/signup/",
            "/accounts/password/reset/",
            "/accounts/login/code/",
            "/registrations/welcome/x/y/",
            "/no-such-page/",
        ]
    if role == "staff":
        draft = Allocation.objects.filter(phase=phase, status=Allocation.Status.DRAFT).latest("version")
        published = Allocation.objects.get(phase=phase, status=Allocation.Status.PUBLISHED)
        return [
            "/dashboard/",
            "/quotas/",
            f"/quotas/{slug}/",
            f"/quotas/{slug}/v{published.version}/",
            f"/quotas/{slug}/v{draft.version}/",
            f"/fees/staff/{slug}/v{draft.version}/publish/",
            f"/fees/staff/{slug}/license-moves/",
            f"/registrations/staff/{slug}/utilisation/",
            f"/registrations/staff/{slug}/unclaimed/",
            "/fees/refunds/",
            "/fees/ledgers/",
            "/fees/impact/",
            "/fees/credit/",
            "/fees/completions/",
            "/fees/coursera/",
            "/registrations/focal/",
            "/admin/",
            "/admin/registrations/nomination/",
            "/admin/fees/alumnipayment/",
        ]
    if role == "focal":
        seated = people["seated"]
        upload = NominationUpload.objects.order_by("pk").last()
        pages = [
            "/registrations/focal/",
            "/registrations/focal/disclaimer/",
            "/registrations/focal/upload/",
            "/registrations/focal/nominees/",
            "/registrations/focal/nominees/add/",
            f"/registrations/focal/nominees/{seated.pk}/",
            f"/registrations/focal/nominees/{seated.pk}/withdraw/",
            "/fees/deposits/",
            f"/fees/deposits/{seated.pk}/",
            "/fees/ledgers/",
            "/fees/impact/",
            "/fees/credit/",
        ]
        if upload is not None:
            pages.append(f"/registrations/focal/upload/{upload.pk}/")
        return pages
    if role == "new alumnus":
        return ["/registrations/alumni/register/", "/registrations/me/", "/fees/me/"]
    return ["/fees/me/", "/registrations/me/"]


def sign_in_by_cookie(context, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    host = live_server.url.split("//", 1)[1].split(":", 1)[0]
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "domain": host, "path": "/"}])


def overflowing(page) -> str:
    """The elements reaching past the right or left edge of the screen, for the failure message."""
    return page.evaluate(
        """() => {
          const w = document.documentElement.clientWidth, out = [];
          for (const e of document.querySelectorAll('body *')) {
            const r = e.getBoundingClientRect();
            if (r.width && (r.right > w + 1 || r.left < -1)) {
              let inBox = false;
              for (let p = e.parentElement; p; p = p.parentElement) {
                const s = getComputedStyle(p);
                if (p.scrollWidth > p.clientWidth && /auto|scroll|hidden/.test(s.overflowX)) { inBox = true; break; }
              }
              if (!inBox) out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') +
                ' ' + Math.round(r.left) + '..' + Math.round(r.right));
            }
          }
          return out.slice(0, 8).join('; ');
        }"""
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_page_of_any_role_scrolls_sideways_on_a_phone_in_english_or_urdu(chromium, live_server, settings):
    phase = factories.make_small_phase(slug="phase-phone", coursera_invitation_url="https://www.coursera.org/p/x")
    people = everyone(phase)
    SHOTS.mkdir(parents=True, exist_ok=True)
    failures = []
    visited = 0
    for role in ("visitor", "staff", "focal", "learner", "alumnus", "new alumnus"):
        for width, height in PHONES:
            context = chromium.new_context(base_url=live_server.url, viewport={"width": width, "height": height})
            if role != "visitor":
                sign_in_by_cookie(context, live_server, people[role])
            page = context.new_page()
            for code in ("en", "ur"):
                host = live_server.url.split("//", 1)[1].split(":", 1)[0]
                context.add_cookies(
                    [{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": code, "domain": host, "path": "/"}]
                )
                for path in pages_of(role, phase=phase, people=people):
                    response = page.goto(path)
                    visited += 1
                    assert response.status < 500, f"{role} {path}: {response.status}"
                    assert page.locator("html").get_attribute("lang") == code
                    if width == 360:  # what a reviewer looks at: artefacts/screenshots/phone/
                        slug = re.sub(r"[^a-z0-9]+", "-", f"{role} {path} {code}".lower()).strip("-")
                        page.screenshot(path=str(SHOTS / f"{slug}.png"), full_page=True)
                    extra = page.evaluate(OVERFLOW)
                    if extra > 0:
                        where = f"{role} {code} {width}px {path} ({page.url})"
                        failures.append(f"{where}: {extra}px wider: {overflowing(page)}")
                    # The header's menu is folded on a phone: the page starts with the page itself.
                    if width == 360 and "Rs." in page.locator("body").inner_text():
                        failures.append(f"{role} {code} {path}: money not written as «Rs 8,000»")
                    if code == "ur" and width == 360 and not path.startswith("/admin/"):
                        turned = page.evaluate(NOT_ISOLATED)
                        if turned:
                            failures.append(f"{role} ur {path}: not isolated left to right: {turned}")
                    if not path.startswith("/admin/"):
                        small = page.evaluate(SMALL_TARGETS)
                        if small:
                            failures.append(f"{role} {code} {width}px {path}: tap targets under 44 px: {small}")
                    if path.startswith("/admin/"):
                        continue  # the admin's own header, which Django makes narrow on phones
                    menu = page.locator("header details.menu")
                    assert menu.count() == 1, f"{role} {path}: no folding menu"
                    assert menu.get_attribute("open") is None
            context.close()
    assert visited > 100
    assert not failures, "\n".join(failures)
