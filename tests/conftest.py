import pytest

from tests import factories


@pytest.fixture(autouse=True)
def _mail_in_memory(settings):
    # Tests read e-mails from django.core.mail.outbox, not from files under var/.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def phase(db):
    return factories.make_phase(slug="phase-test")


@pytest.fixture
def hec_staff(db):
    return factories.make_hec_staff(email="staff@hec.gov.pk")
