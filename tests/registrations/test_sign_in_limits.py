"""Sign-in limits that hold in production: per client and account, never a lockout of the owner
from elsewhere, the client read from the trusted proxy's header, shared by every process through
Redis; and a sign-up that answers alike for a new and a taken address."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.hashers import CountingHasher

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "the-right-password-42"


def attempt(client: Client, email: str, password: str, **headers) -> bool:
    response = client.post(reverse("account_login"), {"login": email, "password": password}, follow=True, **headers)
    return response.wsgi_request.user.is_authenticated


@pytest.fixture
def owner(db):
    return factories.make_hec_staff(email="officer@hec.gov.pk", password=PASSWORD)


def test_wrong_passwords_from_one_place_do_not_lock_the_owner_out_from_another(owner):
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(5):
        assert not attempt(attacker, owner.email, "guess")
    assert not attempt(attacker, owner.email, PASSWORD)  # that client, that account: held back
    assert attempt(Client(REMOTE_ADDR="198.51.100.20"), owner.email, PASSWORD)  # the owner, elsewhere
    other = factories.make_user(email="focal@qau.edu.pk", password=PASSWORD)
    assert attempt(Client(REMOTE_ADDR="203.0.113.7"), other.email, PASSWORD)  # the same place, another account


def test_behind_the_proxy_each_client_is_counted_by_its_forwarded_address(owner, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    for _ in range(6):
        attempt(attacker, owner.email, "guess")
    assert not attempt(attacker, owner.email, PASSWORD)
    owner_browser = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert attempt(owner_browser, owner.email, PASSWORD)


FAIL_IN_ANOTHER_PROCESS = """
import json, sys
import django
django.setup()
from django.test import Client
from django.urls import reverse
client = Client(REMOTE_ADDR="203.0.113.7")
for _ in range(5):
    client.post(reverse("account_login"), {"login": sys.argv[1], "password": "guess"})
print(json.dumps({"done": 5}))
"""


@pytest.mark.django_db(transaction=True)
def test_two_processes_share_the_limits_through_redis(settings, private_redis):
    """Another process (as another gunicorn worker would) fails five times; this one is then held
    back too, because both count in the same Redis cache (this test process's own Redis)."""
    redis_url = private_redis.url
    server = private_redis.client()
    # What dlsei/settings.py makes of REDIS_URL, as in the other process.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "dlsei",
        }
    }
    owner = factories.make_hec_staff(email="officer@hec.gov.pk", password=PASSWORD)
    env = {k: v for k, v in os.environ.items() if k not in {"EMAIL_URL"}}
    env.update(
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="dlsei.settings",
        PYTHONPATH=str(ROOT),
        ALLOWED_HOSTS="testserver",
    )
    from django.db import connection

    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = ""
        env["VAR_DIR"] = str(Path(connection.settings_dict["NAME"]).parent)
    done = subprocess.run(
        [sys.executable, "-c", FAIL_IN_ANOTHER_PROCESS.replace("django.setup()", _point_at_test_db()), owner.email],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"done": 5}
    assert server.dbsize() > 0  # the attempts were counted in Redis
    assert not attempt(Client(REMOTE_ADDR="203.0.113.7"), owner.email, PASSWORD)


def _point_at_test_db() -> str:
    """The child process uses this test's database (pytest-django's test database)."""
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    return (
        "import django\nfrom django.conf import settings\ndjango.setup()\n"
        f"settings.DATABASES['default']['NAME'] = {name!r}\n"
        "from django.db import connections\nconnections['default'].settings_dict['NAME'] = "
        f"{name!r}\nconnections['default'].close()\n"
    )


@pytest.mark.django_db
def test_signing_up_with_a_taken_address_costs_the_same_hash_as_a_new_one(settings):
    settings.PASSWORD_HASHERS = ["tests.hashers.CountingHasher"]
    factories.make_user(email="taken@example.pk")
    made = []
    for email in ("new@example.pk", "taken@example.pk"):
        CountingHasher.made = 0
        Client().post(reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD})
        made.append(CountingHasher.made)
    assert made == [1, 1]
