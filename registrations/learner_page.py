"""The learner's own page (license, courses completed, days left), which registration's e-mails
and pages link to. It is fees' page (fees sits above this app), so it is named, never imported."""

from django.conf import settings
from django.urls import reverse


def learner_page_url() -> str:
    """The learner's own page (license, courses completed, days left), as a link for e-mails."""
    return settings.SITE_URL.rstrip("/") + learner_page_path()


def learner_page_path() -> str:
    """The learner's own page, as a path (a redirect from registration's own pages)."""
    return reverse("fees:my_license")
