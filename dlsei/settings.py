"""Settings for the DLSEI portal, read from the environment.

With no environment at all the portal runs on a bare machine: an SQLite file, Celery tasks run
in-process after the transaction commits, and e-mails are written as files under var/mail.
Production sets DEBUG=0 and must then set SECRET_KEY and ALLOWED_HOSTS; there is no default for
a secret.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-never-used-with-debug-off"  # noqa: S105 - refused above without DEBUG
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Only bench/rush.py's own server turns this on: it mounts the framework-ceiling view.
BENCH_ENDPOINTS = env.bool("BENCH_ENDPOINTS", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "import_export",
    "csp",
    "core",
    "audit",
    "quotas",
    "registrations",
    "fees",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A database that drops out answers 503 "try again in a minute", not the 500 page.
    "core.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, which reads the body: a body larger than the view takes is refused unread.
    "core.middleware.RequestBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

if BENCH_ENDPOINTS:  # bench/rush.py reads each request's statement count from a header
    MIDDLEWARE.insert(0, "dlsei.bench_views.StatementCountMiddleware")

ROOT_URLCONF = "dlsei.urls"
WSGI_APPLICATION = "dlsei.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "portal.context_processors.portal",
                "fees.context_processors.staff_queues",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite takes its write lock at BEGIN (IMMEDIATE) so two registrations can never both read a
# free seat and both take it; the busy timeout makes the second one wait instead of failing.
_SQLITE_PATH = VAR_DIR / "dlsei.sqlite3"
DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": _SQLITE_PATH,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not memory: concurrency tests open it from several processes.
            "TEST": {"NAME": str(VAR_DIR / "test-dlsei.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: allauth's sign-in limits live here --------------------------------------------------
# With Redis every gunicorn worker and every machine counts the same attempts; without it (the
# embedded default, one process) the process's own memory does.
if env.str("REDIS_URL", default=""):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("REDIS_URL"),
            "KEY_PREFIX": "dlsei",
            "TIMEOUT": 3600,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
# Without REDIS_URL tasks run in-process, queued by transaction.on_commit like in production.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A broker that hangs (accepts the connection, never answers) would otherwise hold the web request
# that queues a task forever: queueing gives up after these seconds, and the outbox row waits for
# the sweep (registrations/invitation_outbox.py). A refused connection fails at once anyway.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "socket_connect_timeout": 3,
    "socket_timeout": 5,
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Karachi"

# Invitations (registrations/tasks.py). Every number can be set from the environment, so the
# real-worker tests run the same code with seconds instead of minutes.
INVITATION_RATE_LIMIT = env.str("INVITATION_RATE_LIMIT", default="600/m")  # per worker; 24,000 in 40 minutes
INVITATION_MAX_RETRIES = env.int("INVITATION_MAX_RETRIES", default=6)
INVITATION_RETRY_BACKOFF = env.int("INVITATION_RETRY_BACKOFF", default=60)  # seconds, doubled each retry
INVITATION_RETRY_BACKOFF_MAX = env.int("INVITATION_RETRY_BACKOFF_MAX", default=3600)
INVITATION_LEASE_SECONDS = env.int("INVITATION_LEASE_SECONDS", default=120)  # longer than any one send
INVITATION_SMTP_TIMEOUT = env.int("INVITATION_SMTP_TIMEOUT", default=20)
INVITATION_REQUEUE_AFTER_SECONDS = env.int("INVITATION_REQUEUE_AFTER_SECONDS", default=60)
INVITATION_SWEEP_LIMIT = env.int("INVITATION_SWEEP_LIMIT", default=1000)  # rows re-queued per sweep at most
INVITATION_SWEEP_EVERY_SECONDS = env.float("INVITATION_SWEEP_EVERY_SECONDS", default=60.0)
# Invitation ids per fan-out message: a paid invoice of 24,000 costs the web request 48 messages.
INVITATION_FANOUT_CHUNK = env.int("INVITATION_FANOUT_CHUNK", default=500)
CELERY_BEAT_SCHEDULE = {
    "invitations-sweep": {
        "task": "registrations.tasks.invitations_sweep",
        "schedule": INVITATION_SWEEP_EVERY_SECONDS,
    },
    "license-reminders": {
        "task": "registrations.tasks.reminders_send",
        "schedule": env.float("REMINDERS_EVERY_SECONDS", default=3600.0),
    },
    "alumni-holds-expire": {
        "task": "registrations.tasks.alumni_holds_expire",
        "schedule": env.float("HOLDS_EXPIRE_EVERY_SECONDS", default=300.0),
    },
    "disability-seats-review": {
        "task": "registrations.tasks.disability_seats_review",
        "schedule": env.float("DISABILITY_SEATS_REVIEW_EVERY_SECONDS", default=3600.0),
    },
    "completion-imports-requeue": {
        "task": "fees.tasks.completion_imports_requeue",
        "schedule": 300.0,
    },
    # Learners invited who have not joined the Coursera program: reminded at half the phase's
    # join_within_days and a week before the last day (registrations.reclaim).
    "join-reminders": {
        "task": "registrations.tasks.join_reminders_send",
        "schedule": env.float("JOIN_REMINDERS_EVERY_SECONDS", default=3600.0),
    },
    # Coursera's enrollment reports through its API; does nothing unless the API is configured.
    "coursera-sync": {
        "task": "fees.tasks.enrollment_reports_sync_all",
        "schedule": env.float("COURSERA_SYNC_EVERY_SECONDS", default=6 * 3600.0),
    },
}
# A completion report still waiting to start after this long lost its message; beat queues it again.
COMPLETION_IMPORT_REQUEUE_AFTER_SECONDS = env.int("COMPLETION_IMPORT_REQUEUE_AFTER_SECONDS", default=600)

# --- Coursera's API (optional) ---------------------------------------------------------------
# Off unless all three are set (and a phase has its Coursera program id): completions then come
# from the enrollment reports without a CSV (fees.coursera_sync); the CSV upload stays as it is.
COURSERA_API_CLIENT_ID = env.str("COURSERA_API_CLIENT_ID", default="")
COURSERA_API_CLIENT_SECRET = env.str("COURSERA_API_CLIENT_SECRET", default="")
COURSERA_API_ORG_ID = env.str("COURSERA_API_ORG_ID", default="")
COURSERA_API_URL = env.str("COURSERA_API_URL", default="https://api.coursera.com/api/")
COURSERA_API_TOKEN_URL = env.str(
    "COURSERA_API_TOKEN_URL", default="https://api.coursera.com/oauth2/client_credentials/token"
)
COURSERA_API_TIMEOUT = env.int("COURSERA_API_TIMEOUT", default=30)
# Invitations through Coursera's API (Coursera e-mails the learner) instead of the portal's e-mail.
COURSERA_API_SEND_INVITATIONS = env.bool("COURSERA_API_SEND_INVITATIONS", default=False)

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url_config(EMAIL_URL))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="DLSEI Portal <dlsei@hec.gov.pk>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Accounts (django-allauth) --------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# An address is proved by a code typed in the browser that asked for it, never by a link that
# whoever receives the e-mail could click: a sign-up or an added address with someone else's
# e-mail can then never be verified for the person who typed it (registrations.accounts).
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_ADAPTER = "registrations.adapters.PortalAccountAdapter"
ACCOUNT_USER_DISPLAY = "registrations.adapters.user_display"
ACCOUNT_FORMS = {"signup": "registrations.account_forms.PortalSignupForm"}
# Sign-in limits (allauth's, kept in the cache below): 10 failed sign-ins a minute per client, and
# 5 in 5 minutes per client and account together (registrations.adapters), so nobody can lock an
# account's owner out from elsewhere; the owner can always sign in by code or reset the password.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
# Behind the reverse proxy the client is the address the proxy puts in X-Forwarded-For: say how
# many proxies to trust (0: use the connection's own address, as with runserver).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[DLSEI] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
LOGIN_REDIRECT_URL = "home"
LOGIN_URL = "account_login"

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ur", _("Urdu"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Karachi"
USE_I18N = True
USE_TZ = True
# Django has Urdu translations but no Urdu date and number formats: ours are in core/formats/ur.
FORMAT_MODULE_PATH = ["core.formats"]
# The language switch (Django's set_language, a plain form) keeps the choice for a year, not only
# until the browser closes.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

# --- Static files and private uploads -------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads (disclaimers, transcripts, challans, certificates) hold personal data: they live
# outside any public URL and are served only by views that check who is asking.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
MEDIA_ROOT = PRIVATE_MEDIA_ROOT
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": "/private-files-are-never-served-directly/"},
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}
# With DEBUG off whitenoise serves the hashed, gzip- and brotli-compressed copies that collectstatic
# wrote: a hashed name never changes content, so it is cached for years ("immutable"); a file asked
# for by its plain name is cached for a day.
WHITENOISE_MAX_AGE = 0 if DEBUG else 24 * 3600
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=5 * 1024 * 1024)
NOMINATIONS_FILE_MAX_BYTES = env.int("NOMINATIONS_FILE_MAX_BYTES", default=2 * 1024 * 1024)
NOMINATIONS_FILE_MAX_ROWS = env.int("NOMINATIONS_FILE_MAX_ROWS", default=5000)
# Coursera's usage report of a whole phase (100,000 rows is about 30 MB): the one larger upload.
COMPLETIONS_FILE_MAX_BYTES = env.int("COMPLETIONS_FILE_MAX_BYTES", default=60 * 1024 * 1024)
# Any other request body (forms with a transcript and a certificate): refused unread above this.
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=12 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- HEC bank account printed on challans ---------------------------------------------------
HEC_BANK = {
    "bank": env.str("HEC_BANK_NAME", default="National Bank of Pakistan"),
    "branch": env.str("HEC_BANK_BRANCH", default="Aabpara Branch, Islamabad"),
    "title": env.str("HEC_BANK_ACCOUNT_TITLE", default="Higher Education Commission — DLSEI"),
    "account": env.str("HEC_BANK_ACCOUNT_NUMBER", default="0000-0000000-0"),
}

# --- 1Bill (1LINK's bill payment network) -----------------------------------------------------
# Every challan and invoice carries an 18-digit consumer number: this 5-digit biller prefix (given
# by 1LINK when HEC registers as a biller) and a 13-digit serial. The bank network calls the biller
# API (fees.views_onebill) with these credentials in its `username`/`password` headers; while they
# are unset the API answers 404, as if it did not exist.
ONEBILL_BILLER_PREFIX = env.str("ONEBILL_BILLER_PREFIX", default="10042")
ONEBILL_USERNAME = env.str("ONEBILL_USERNAME", default="")
ONEBILL_PASSWORD = env.str("ONEBILL_PASSWORD", default="")

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
