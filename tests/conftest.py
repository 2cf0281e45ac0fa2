import pytest

from tests import factories
from tests.private_servers import PrivateRedis, Workers, celery_broker
from tests.smtp_sink import SmtpSink


@pytest.fixture(autouse=True)
def _mail_in_memory(settings):
    # Tests read e-mails from django.core.mail.outbox, not from files under var/.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    # Uploads under the test's own tmp_path, never under VAR_DIR/private: VAR_DIR is shared by
    # every pytest-xdist worker of a run (and by `make run`).
    factories.private_files_in(settings, tmp_path / "private")


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # test accounts only


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


# Real servers and processes ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def _redis_server():
    # One redis-server per test process, started when a test first needs it: under pytest-xdist
    # every worker has its own, so two workers (or two runs on one machine) never share a Redis
    # database, and flushing it empties nobody else's.
    server = PrivateRedis().start()
    yield server
    server.close()


@pytest.fixture
def private_redis(_redis_server):
    """This test process's own Redis, empty at the start and the end of the test."""
    _redis_server.client().flushall()
    yield _redis_server
    _redis_server.client().flushall()


@pytest.fixture
def broker(private_redis):
    """This test process queues tasks on the private Redis, as the web process does in production
    (the ordinary suite runs them in-process); the client reads the queue."""
    with celery_broker(private_redis.url):
        yield private_redis.client()


@pytest.fixture
def sink():
    with SmtpSink() as running:
        yield running


@pytest.fixture
def workers(broker, private_redis, sink, tmp_path):
    """Real `celery worker` processes on the test database and the private Redis, sending to `sink`."""
    running = Workers(tmp_path=tmp_path, smtp_port=sink.port, broker_url=private_redis.url)
    yield running
    running.stop_all()
