import pytest

from tests import factories


@pytest.fixture(autouse=True)
def _mail_in_memory(settings):
    # Tests read e-mails from django.core.mail.outbox, not from files under var/.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    # allauth keeps its rate limits (codes sent, failed sign-ins) in the cache: a test must not
    # inherit the limits that earlier tests used up. In memory, even when REDIS_URL is set (CI):
    # clearing a Redis cache would empty the database the broker uses. The test of limits shared
    # between processes sets a Redis cache of its own.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _english_between_tests():
    # A request with the Urdu cookie leaves Urdu active in the thread after the response; without
    # this, the tests after it would read translated messages and pass or fail by test order.
    from django.utils import translation

    yield
    translation.activate("en")


@pytest.fixture(autouse=True, scope="session")
def _tasks_in_process():
    # CI runs the suite once with REDIS_URL set (.ci/run): no worker reads that broker, so the
    # ordinary tests still run tasks in-process after commit, as on SQLite. The real-worker tests
    # (tests/registrations/test_worker.py) switch to their own broker and back.
    from dlsei.celery import app

    app.conf.task_always_eager = True


@pytest.fixture
def phase(db):
    return factories.make_phase(slug="phase-test")


@pytest.fixture
def hec_staff(db):
    return factories.make_hec_staff(email="staff@hec.gov.pk")
