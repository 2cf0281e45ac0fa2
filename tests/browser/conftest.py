"""Browser journeys: Debian's Chromium driven by Playwright against pytest-django's live server.

Every step of a journey saves a screenshot under artefacts/screenshots/<journey>/ and is checked
with axe-core in English and again in Urdu (switched with the portal's own language form). The
live server runs in a thread of this process, so e-mails land in django.core.mail.outbox.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings

from tests.browser.a11y import assert_accessible
from tests.factories import PDF


@pytest.fixture(scope="module", autouse=True)
def _sync_orm_beside_playwright():
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the tests are still
    # plain synchronous calls between browser steps. Only for these modules (set before and undone
    # after every database fixture of theirs): a process-wide setting would leak into the
    # production checks other tests run in subprocesses.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(django_settings.BASE_DIR) / "artefacts" / "screenshots"
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def chromium():
    # One browser per journey module: Playwright's event loop then stops with the module, so the
    # rest of the suite runs its ORM calls outside any event loop, as in production.
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _browser_settings(settings):
    # The live server serves the CSS from static/ as it is (no manifest to build).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def phase(phase):
    """The test phase, with the Coursera invitation link cleared learners are sent."""
    phase.coursera_invitation_url = "https://www.coursera.org/programs/dlsei-test?authProvider=hec"
    phase.save(update_fields=["coursera_invitation_url"])
    return phase


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, accept_downloads=True, locale="en-GB")
    context.set_default_timeout(8_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, *, email: str, password: str | None = None) -> None:
    """Sign in on the portal's sign-in page with e-mail and password."""
    from tests.factories import PASSWORD

    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password or PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def pdf_file(name: str) -> dict:
    """A small valid PDF as Playwright's set_input_files takes it."""
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


class Journey:
    """One person's journey: numbered screenshots of every step, each page checked by axe twice."""

    def __init__(self, page, name: str):
        self.page = page
        self.name = name
        self.number = 0
        self.folder = SCREENSHOTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()

    def shot(self, step: str) -> Path:
        self.number += 1
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = self.folder / f"{self.number:02d}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def step(self, step: str, *, urdu: bool = True) -> None:
        """Screenshot the page, check it with axe in English and (reloaded) in Urdu, back to English.

        Assertions on one-time messages belong before this call: the Urdu pass reloads the page.
        """
        self.shot(step)
        assert_accessible(self.page, where=f"{self.name}: {step}")
        self.fits_a_phone(step)
        if urdu:
            self.language("ur")
            assert self.page.locator("html").get_attribute("lang") == "ur"
            self.shot(f"{step} (urdu)")
            assert_accessible(self.page, where=f"{self.name}: {step} in Urdu")
            self.fits_a_phone(f"{step} in Urdu")
            self.language("en")
            assert self.page.locator("html").get_attribute("lang") == "en"

    def fits_a_phone(self, step: str) -> None:
        """The page as it is now, narrowed to a phone's 360 pixels: nothing scrolls sideways."""
        desktop = self.page.viewport_size
        self.page.set_viewport_size(PHONE)
        try:
            extra = self.page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if extra > 0:
                self.shot(f"{step} (phone, too wide)")
            assert extra <= 0, f"{self.name}: {step} is {extra}px wider than a {PHONE['width']}px phone"
        finally:
            self.page.set_viewport_size(desktop)

    def form_errors_step(self, step: str, *, submit: str, fields: list[str]) -> None:
        """Submit the form on the page as it is (left wrong on purpose), in English and then in
        Urdu: every named field is marked invalid and points to its error message with
        aria-describedby, and the page with the errors passes axe."""
        for code in ("en", "ur"):
            if code == "ur":
                self.language("ur")
            with self.page.expect_navigation():
                self.page.locator(submit).click()
            for name in fields:
                field = self.page.locator(f"[name={name}]")
                assert field.get_attribute("aria-invalid") == "true", f"{name} is not marked invalid"
                described = (field.get_attribute("aria-describedby") or "").split()
                errors = [i for i in described if self.page.locator(f"#{i}.errorlist").count()]
                assert errors, f"{name} does not point to its error message: {described}"
                assert self.page.locator(f"#{errors[0]}").inner_text().strip()
            label = step if code == "en" else f"{step} (urdu)"
            self.shot(label)
            assert_accessible(self.page, where=f"{self.name}: {label}")
        self.language("en")

    def keyboard_check(self) -> None:
        """The first Tab reaches the skip link, with a visible focus outline; Enter on it moves
        focus to the page's main content (keyboard and screen-reader users skip the header)."""
        self.page.locator("body").focus()
        self.page.keyboard.press("Tab")
        focused = self.page.evaluate(
            "() => { const e = document.activeElement, s = getComputedStyle(e);"
            " return {cls: e.className, style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }"
        )
        assert focused["cls"] == "skip-link", focused
        assert focused["style"] != "none" and focused["width"] >= 2, f"no visible focus: {focused}"
        self.page.keyboard.press("Enter")
        assert self.page.evaluate("() => document.activeElement.id") == "main"

    def language(self, code: str) -> None:
        """Switch with the language form in the page header, as a person would.

        The Django admin has no such form: there the language cookie the form sets is set
        directly and the page reloaded.
        """
        form = self.page.locator("form.lang")
        if form.count():
            form.locator("select[name=language]").select_option(code)
            with self.page.expect_navigation():
                form.locator("button[type=submit]").click()
        else:
            host = urlsplit(self.page.url).hostname
            self.page.context.add_cookies(
                [{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": code, "domain": host, "path": "/"}]
            )
            self.page.reload()


@pytest.fixture
def journey(page):
    def start(name: str) -> Journey:
        return Journey(page, name)

    return start
