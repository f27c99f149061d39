"""SecondOp settings: one module, driven by environment variables.

It fails closed. DEBUG is on only when DJANGO_DEBUG=true asks for it, and then,
with nothing else set, this is the *embedded default*: SQLite, local file
storage, Celery tasks run eagerly on commit, console email. With DEBUG off it
refuses to start until PostgreSQL, Redis, SMTP with TLS and the S3 bucket are
set (secondop/production.py names what is missing).
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from kombu import Queue
from redis.backoff import NoBackoff
from redis.retry import Retry

from secondop.production import production_problems, refusal_message
from secondop.storage import s3_storage_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
if not DEBUG and (_problems := production_problems(env)):
    raise ImproperlyConfigured(refusal_message(_problems))

# Secrets never have a usable default outside DEBUG (checked just above).
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-embedded-default-only-for-debug")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "secondop.admin_site.SecondOpAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "secondop.accounts",
    "secondop.audit",
    "secondop.notifications",
    "specialists",
    "requests_app",
    "requests_app.icd10",
    "requests_app.messaging",
    "requests_app.consultations",
    "requests_app.reports",
    "requests_app.aftercare",
    "requests_app.outcomes",
    "requests_app.caregivers",
    "records",
    "records.retrieval",
    "records.imaging",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who, from which address, on which path: read by every audit row (secondop.audit.context).
    "secondop.audit.context.AuditContextMiddleware",
    "secondop.timezones.TimeZoneMiddleware",
    # The signed-in person's own language (secondop.languages), over the browser's.
    "secondop.languages.AccountLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "secondop.accounts.middleware.UserSessionsMiddleware",
    "secondop.middleware.SecurityHeadersMiddleware",
    "secondop.accounts.middleware.IdleSessionTimeoutMiddleware",
    "secondop.accounts.middleware.StaffMFARequiredMiddleware",
    # A care-team member whose access to a case ended (withdrawn, closed) is told so.
    "requests_app.middleware.CaseAccessEndedMiddleware",
]

ROOT_URLCONF = "secondop.urls"
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "secondop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "secondop.notifications.context_processors.notifications",
                "secondop.context_processors.site",
            ],
            # Every template may write a time as its reader reads it ("|local_time").
            # The layout's parts that are the same for every reader ("{% fragment %}").
            "builtins": ["secondop.accounts.templatetags.zones", "secondop.fragments"],
            # The shared form templates' tags (templates/django/forms/).
            "libraries": {"form_markup": "secondop.form_markup"},
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Role web/worker/beat connect as; gets no UPDATE/DELETE/TRUNCATE on the audit logs (audit/append_only.py).
DATABASE_RUNTIME_ROLE = env("DATABASE_RUNTIME_ROLE", default="")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env(
        "DATABASE_TEST_NAME", default="test_secondop"
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves concurrent requests too: writers queue for the
    # lock (busy timeout) instead of failing with "database is locked", and a
    # write transaction takes the lock at its start, not halfway (IMMEDIATE).
    # WAL lets readers go on while one writes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions ------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
CACHE_REDIS_URL = env("CACHE_REDIS_URL", default=REDIS_URL)
if CACHE_REDIS_URL:
    CACHES = {
        "default": {
            # Redis down = cache misses and skipped writes, with a warning logged,
            # never an error page (secondop/cache.py). Short socket timeouts: a Redis
            # that hangs must not hold a request for long either.
            "BACKEND": "secondop.cache.FailSoftRedisCache",
            "LOCATION": CACHE_REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="secondop"),
            "OPTIONS": {
                "socket_connect_timeout": 1,
                "socket_timeout": 1,
                "retry": Retry(NoBackoff(), 1),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions read from Redis; the database copy is written only when a session
# changes (sign-in, and the idle timestamp at most once a minute). With Redis down
# they are read from the database (the cache answers a miss).
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if CACHE_REDIS_URL
    else "django.contrib.sessions.backends.db"
)
SESSION_COOKIE_AGE = 60 * 60 * 12  # absolute cap; idle expiry is shorter, see below
SESSION_SAVE_EVERY_REQUEST = False
# Idle expiry, in seconds, enforced by IdleSessionTimeoutMiddleware.
SESSION_IDLE_TIMEOUT_STAFF = env.int("SESSION_IDLE_TIMEOUT_STAFF", default=15 * 60)
SESSION_IDLE_TIMEOUT_PATIENT = env.int("SESSION_IDLE_TIMEOUT_PATIENT", default=30 * 60)

# --- Auth and allauth -----------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },  # OWASP ASVS 4.0 L2, 2.1.1
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id first; older hashes are upgraded at the next sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:home"

ACCOUNT_ADAPTER = "secondop.accounts.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "secondop.accounts.forms.SignupForm"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
# Confirming the email in the browser that signed up signs the person in (allauth only
# does so when the sign-up is in that browser's session: a link opened elsewhere, or
# twice, signs nobody in).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "SecondOp: "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# allauth's defaults, written out so they are visible and reviewable. The
# 'login_failed' limit locks an email after 5 wrong passwords in a row.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "change_email": "1/m/user",
    "reauthenticate": "10/m/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "SecondOp"
# A code from the 30-second step before or after is accepted too (RFC 6238 section 5.2:
# a phone's clock drifts, and a code typed as it turns over arrives in the next step).
# A code still works once only (allauth marks it used).
MFA_TOTP_TOLERANCE = 1
MFA_ADAPTER = "allauth.mfa.adapter.DefaultMFAAdapter"
USERSESSIONS_TRACK_ACTIVITY = True

# --- Email (Django 6.1 MAILERS) ---------------------------------------------
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="SecondOp <no-reply@secondop.local>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
SMTP_URL = env("SMTP_URL", default="")
MAIL_FILE_DIR = env("MAIL_FILE_DIR", default="")
if SMTP_URL:
    _smtp = env.email_url("SMTP_URL")
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _smtp["EMAIL_HOST"],
                "port": _smtp["EMAIL_PORT"],
                "username": _smtp.get("EMAIL_HOST_USER") or None,
                "password": _smtp.get("EMAIL_HOST_PASSWORD") or None,
                "use_tls": bool(_smtp.get("EMAIL_USE_TLS")),
                "use_ssl": bool(_smtp.get("EMAIL_USE_SSL")),
                "timeout": 10,
            },
        }
    }
elif MAIL_FILE_DIR:
    # Used by the test rig so a separate Celery worker's mail can be read back.
    # MAIL_FILE_BACKEND swaps in a subclass of the file backend: the crash tests give
    # their worker one that kills its own process mid-send (tests/notifications/).
    MAILERS = {
        "default": {
            "BACKEND": env(
                "MAIL_FILE_BACKEND", default="django.core.mail.backends.filebased.EmailBackend"
            ),
            "OPTIONS": {"file_path": MAIL_FILE_DIR},
        }
    }
elif DEBUG:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    raise ImproperlyConfigured("SMTP_URL must be set when DEBUG is off.")

# --- Files: private S3 bucket, or local files in the embedded default ----------
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
_static_backend = (
    "secondop.staticfiles.ManifestStaticFilesStorage"
    if env.bool("STATIC_MANIFEST", default=not DEBUG)
    else "django.contrib.staticfiles.storage.StaticFilesStorage"
)
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = s3_storage_config(
        bucket=AWS_STORAGE_BUCKET_NAME,
        endpoint_url=env("AWS_S3_ENDPOINT_URL", default=None),
        region=env("AWS_S3_REGION_NAME", default="us-east-1"),
        access_key=env("AWS_ACCESS_KEY_ID", default=None),
        secret_key=env("AWS_SECRET_ACCESS_KEY", default=None),
        addressing_style=env("AWS_S3_ADDRESSING_STYLE", default="path"),
    )
else:
    # Not under MEDIA_URL: local files are never served publicly.
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": None},
    }
STORAGES = {"default": _default_storage, "staticfiles": {"BACKEND": _static_backend}}
# Where browsers reach the bucket, when not where the servers do (compose: the app
# talks to http://minio:9000, the browser to http://localhost:9000). Upload and
# download URLs are signed for this endpoint; the records page allows it in CSP.
AWS_S3_PUBLIC_ENDPOINT_URL = env("AWS_S3_PUBLIC_ENDPOINT_URL", default="")

# --- Records ------------------------------------------------------------------
RECORDS_MAX_FILE_BYTES = env.int("RECORDS_MAX_FILE_BYTES", default=5 * 1000**3)
RECORDS_MAX_CASE_BYTES = env.int("RECORDS_MAX_CASE_BYTES", default=20 * 1000**3)
RECORDS_MAX_FILES_PER_RECORD = env.int("RECORDS_MAX_FILES_PER_RECORD", default=5000)
# A portal's health record file (C-CDA XML, FHIR JSON) is read whole to summarise it:
# past this it is refused (records.verification.health).
RECORDS_HEALTH_MAX_BYTES = env.int("RECORDS_HEALTH_MAX_BYTES", default=20 * 1000**2)
RECORDS_MULTIPART_THRESHOLD = 100 * 1024**2  # Uppy's own default: multipart above 100 MiB
# How long an upload slot stays open: a 5 GB file on a slow home connection takes hours.
RECORDS_SLOT_TTL = timedelta(hours=env.int("RECORDS_SLOT_TTL_HOURS", default=12))
RECORDS_SIGNED_URL_SECONDS = 60 * 15  # one S3 request (a part, a PUT) may start within this
RECORDS_DOWNLOAD_URL_SECONDS = 60
RECORDS_BUNDLE_HOURS = 24
# After a request is closed or cancelled, its case manager and assigned specialist may
# still read it (never change it) this many days, for follow-up questions and audit;
# then no one on the care team does. A withdrawn request ends their access at once.
CASE_STAFF_READ_DAYS_AFTER_CLOSE = env.int("CASE_STAFF_READ_DAYS_AFTER_CLOSE", default=30)
# Retention: the copies of records patients uploaded are deleted this many days after
# the request is closed, cancelled or withdrawn (each deletion audited). The signed
# report (SecondOp's or the specialist's own uploaded one) and the audit are kept.
RECORDS_KEEP_DAYS_AFTER_END = env.int("RECORDS_KEEP_DAYS_AFTER_END", default=90)
# Upload slots one person may ask for per hour (each is one record, a file or a study).
RECORDS_SLOTS_PER_HOUR = env.int("RECORDS_SLOTS_PER_HOUR", default=200)
# ClamAV: "tcp://host:3310" or "unix:///run/clamav/clamd.ctl". Unset: no malware scan.
CLAMD_ADDRESS = env("CLAMD_ADDRESS", default="")
CLAMD_STREAM_MAX_BYTES = env.int("CLAMD_STREAM_MAX_BYTES", default=1000**3)
# A record whose scan has failed this many times (clamd answering with an error for the
# same file every time) is rejected as "could not be checked" instead of retried forever.
RECORDS_CHECK_MAX_ATTEMPTS = env.int("RECORDS_CHECK_MAX_ATTEMPTS", default=10)
WHITENOISE_USE_FINDERS = DEBUG

# --- Celery ------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Reading and drawing what people upload (verification, ZIP bundles) and rendering
# report PDFs take memory in proportion to the files: they have their own queue, for a
# worker of their own (docker-compose.yml's records-worker: `-Q records`), so that a
# hostile upload can slow only its like, never notifications, offers or emails (the
# default queue, "celery"). A worker started without -Q serves both (the tests).
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Both queues are declared, so a worker started without -Q consumes both (the tests,
# a one-worker setup); compose gives each its own worker.
CELERY_TASK_QUEUES = (Queue("celery"), Queue("records"), Queue("imaging"))
CELERY_TASK_ROUTES = {
    "records.tasks.record_verify": {"queue": "records"},
    "records.tasks.bundle_build": {"queue": "records"},
    "requests_app.reports.tasks.report_render": {"queue": "records"},
    # A study's frames rendered for the viewer (records.imaging): a worker of their own
    # (docker-compose.yml's imaging-worker, with a memory limit), so a long series never
    # holds up verification.
    "records.imaging.tasks.imaging_start": {"queue": "imaging"},
    "records.imaging.tasks.frames_render": {"queue": "imaging"},
}
# A worker child whose resident memory is above this after a task is replaced (KiB;
# Celery's worker_max_memory_per_child). Empty: never. The records worker sets it.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=None)
# The per-task memory guard: the address space each worker child may map, in MiB
# (RLIMIT_AS, set by secondop.celery when the child starts). Past it an allocation
# raises MemoryError, which fails that one file ("too_complex"), instead of the
# kernel's OOM killer taking the worker or its neighbours. 0: no limit. See
# docs/operations.md, "Sizing the records worker".
WORKER_MEMORY_LIMIT_MB = env.int("WORKER_MEMORY_LIMIT_MB", default=0)
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# visibility_timeout: a message a dead worker took comes back after this long. It stays
# above the longest countdown a task is queued with (retries back off up to 30
# minutes): a shorter one hands the same delayed message to a second worker. Lost work
# comes back sooner through the sweeps below, which find it in the database (a lapsed
# lease, no row lock, nothing delivered) within 2 minutes of a worker being up.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "visibility_timeout": 3600,
}
# A web request publishing while Redis is down must not hang: the outbox row is
# already committed and the sweep re-queues it later.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}
CELERY_BEAT_SCHEDULE = {
    "offers-expire": {
        "task": "specialists.tasks.offers_expire",
        "schedule": timedelta(minutes=5),
    },
    # Verified licences expiring within 60 days: the specialist and the admins, once.
    "licences-expiry-notify": {
        "task": "specialists.tasks.licences_expiry_notify",
        "schedule": timedelta(hours=12),
    },
    "cases-flag-overdue": {
        "task": "requests_app.tasks.cases_flag_overdue",
        "schedule": timedelta(minutes=15),
    },
    # Every minute: a PDF or a check whose worker died is queued again within 2 minutes
    # of a worker being back (docs/architecture.md, "When Redis or a worker goes away").
    "reports-sweep": {
        "task": "requests_app.reports.tasks.reports_sweep",
        "schedule": timedelta(minutes=1),
    },
    "records-sweep": {
        "task": "records.tasks.records_sweep",
        "schedule": timedelta(minutes=1),
    },
    # Frames a lost worker or message left unrendered, queued again (records.imaging).
    "imaging-sweep": {
        "task": "records.imaging.tasks.imaging_sweep",
        "schedule": timedelta(minutes=1),
    },
    # Day-before consultation reminders (once per booked time); consultations of
    # closed requests cancelled, with their calendar cancellation.
    # Records requests: the emails a lost task never sent, and the case manager's
    # reminders at day 10, 20 and 28 of a records office's legal clock.
    "retrieval-sweep": {
        "task": "records.retrieval.tasks.retrieval_sweep",
        "schedule": timedelta(minutes=10),
    },
    "consultations-sweep": {
        "task": "requests_app.consultations.tasks.consultations_sweep",
        "schedule": timedelta(minutes=10),
    },
    "notifications-sweep": {
        "task": "secondop.notifications.tasks.notifications_sweep",
        "schedule": timedelta(seconds=env.int("NOTIFICATIONS_SWEEP_EVERY", default=30)),
    },
    # Closes delivered cases whose follow-up window is over (no question open).
    "aftercare-close-after-follow-up": {
        "task": "requests_app.aftercare.tasks.cases_close_after_follow_up",
        "schedule": timedelta(hours=1),
    },
    # Deletes uploaded copies of records RECORDS_KEEP_DAYS_AFTER_END after a request ended.
    "records-retention": {
        "task": "records.tasks.records_retention_sweep",
        "schedule": timedelta(hours=1),
    },
    # Deletes the encrypted files of SMART Health Links that stopped for good.
    "aftercare-smart-links-sweep": {
        "task": "requests_app.aftercare.tasks.smart_links_sweep",
        "schedule": timedelta(hours=1),
    },
    # Re-queues physicians' links whose email a lost task never sent.
    "aftercare-shares-sweep": {
        "task": "requests_app.aftercare.tasks.shares_sweep",
        "schedule": timedelta(minutes=1),
    },
    # Asks the 90-day question (did it change your treatment?) of the cases due, once each.
    "outcomes-ask-due": {
        "task": "requests_app.outcomes.tasks.outcomes_ask_due",
        "schedule": timedelta(hours=1),
    },
}
NOTIFICATIONS_SWEEP_AFTER = timedelta(seconds=env.int("NOTIFICATIONS_SWEEP_AFTER", default=60))
# How long a worker owns an email it is sending; after that another may take it over.
# Keep it above the delivery task's time limit (60 s, notifications/tasks.py), so a slow
# worker is killed before its lease ends; short, so a dead worker's email is sent again
# within 2 minutes (the lease, then the next sweep).
NOTIFICATIONS_EMAIL_LEASE = timedelta(seconds=env.int("NOTIFICATIONS_EMAIL_LEASE", default=90))
# Stop retrying an email this long after the event (security notices: never before 24 h).
NOTIFICATIONS_EMAIL_GIVE_UP_AFTER = timedelta(
    seconds=env.int("NOTIFICATIONS_EMAIL_GIVE_UP_AFTER", default=24 * 3600)
)
# An email waits this long for what else happens to the same person, and goes out
# with it as one email (a digest). None with eager tasks: nothing would come back.
NOTIFICATIONS_DIGEST_WINDOW = timedelta(
    seconds=env.int("NOTIFICATIONS_DIGEST_WINDOW", default=0 if CELERY_TASK_ALWAYS_EAGER else 90)
)

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en"
# Each language's name is written in that language: the switch offers "Español" to a
# reader of English pages, who may not read the word "Spanish".
LANGUAGES = [("en", "English"), ("es", "Español")]
# English for the United States and Spanish as it is written in the United States
# (dates "7 de diciembre de 2026", a 12-hour clock, 1,234.5): secondop/formats/.
FORMAT_MODULE_PATH = ["secondop.formats"]
# Ours first (scripts/messages writes it), then our Spanish for the words allauth and
# Django show patients (locale/overrides), both before the apps' own catalogues.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale" / "overrides"]
TIME_ZONE = env("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

# --- Security ----------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF, *env.list("CSP_CONNECT_SRC", default=[])],
    "form-action": [CSP.SELF, *env.list("CSP_FORM_ACTION", default=[])],
    "frame-ancestors": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
CSRF_COOKIE_SAMESITE = "Lax"
# The language switch's choice for people not signed in (a year, like Django's default).
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Error reports (emails to DJANGO_ADMINS) never carry request bodies, cookies or
# local variables: any of them may hold PHI.
DEFAULT_EXCEPTION_REPORTER_FILTER = "secondop.errors.PHISafeExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "secondop.errors.PHISafeExceptionReporter"
# The number of proxies in front of the app that each append to X-Forwarded-For
# (and must overwrite what the client sent). 0: REMOTE_ADDR is the client, and
# no forwarded header is believed. allauth's client-IP resolver (rate limits)
# and the audit log (secondop.audit.services.client_ip) both use it.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Features no SecondOp page uses, switched off for every page (and any script).
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), "
    "geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "midi=(), payment=(), usb=(), browsing-topics=()"
)
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    MFA_TRUST_COOKIE_SECURE = True

ADMINS = [("SecondOp", a) for a in env.list("DJANGO_ADMINS", default=[])]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Django's request and runserver loggers write paths: the tokens in
    # /shared/<token>/ and /records/upload/<token>/ are replaced (secondop.logging_filters).
    "filters": {"redact_tokens": {"()": "secondop.logging_filters.RedactTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["redact_tokens"]},
        # Configuring it replaces Django's default, so its handler is named again.
        "django.server": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
            "filters": ["redact_tokens"],
        },
    },
}

# --- SecondOp ----------------------------------------------------------------
SECONDOP_SUPPORT_EMAIL = env("SECONDOP_SUPPORT_EMAIL", default="care@secondop.local")
# Where records offices send a patient's records (records.retrieval: the access request
# names SecondOp as the recipient): an email address for electronic copies, a postal
# address for what only the post carries (pathology slides and blocks).
SECONDOP_RECORDS_NAME = env("SECONDOP_RECORDS_NAME", default="SecondOp Records Office")
SECONDOP_RECORDS_EMAIL = env("SECONDOP_RECORDS_EMAIL", default="records@secondop.local")
# Returned mail: the mail provider posts each bounce (raw MIME) to /hooks/mail/bounces
# with this as its bearer token. Empty: the hook is off (404).
MAIL_BOUNCE_TOKEN = env("MAIL_BOUNCE_TOKEN", default="")
SECONDOP_RECORDS_ADDRESS = env(
    "SECONDOP_RECORDS_ADDRESS",
    default="SecondOp Records Office\n100 Federal Street, Suite 400\nBoston, MA 02110",
).replace("\\n", "\n")

# Report turnaround, in days, from submission; a treatment scheduled within
# CASE_URGENT_IF_TREATMENT_WITHIN_DAYS makes the request urgent.
CASE_TURNAROUND_DAYS_ROUTINE = env.int("CASE_TURNAROUND_DAYS_ROUTINE", default=7)
CASE_TURNAROUND_DAYS_URGENT = env.int("CASE_TURNAROUND_DAYS_URGENT", default=3)
CASE_URGENT_IF_TREATMENT_WITHIN_DAYS = env.int("CASE_URGENT_IF_TREATMENT_WITHIN_DAYS", default=14)

# How long a specialist has to answer an offer, in hours (urgent cases: less).
OFFER_DEADLINE_HOURS = env.int("OFFER_DEADLINE_HOURS", default=48)
OFFER_DEADLINE_HOURS_URGENT = env.int("OFFER_DEADLINE_HOURS_URGENT", default=12)

# --- Consultations (requests_app.consultations) ---------------------------------
# A video consultation's room is this base plus a random, unguessable id. The link
# is shown in the app only: never in an email, never in a calendar file.
VIDEO_ROOM_BASE_URL = env("VIDEO_ROOM_BASE_URL", default="https://meet.secondop.local/room/")

# --- Outcomes (requests_app.outcomes) ----------------------------------------------
# The patient is asked whether the second opinion changed their treatment this
# long after the report is delivered.
OUTCOME_ASK_AFTER = timedelta(days=env.int("OUTCOME_ASK_AFTER_DAYS", default=90))

# --- After delivery (requests_app.aftercare) ------------------------------------
# Follow-up questions: how many days after the report is delivered, and how many.
FOLLOW_UP_DAYS = env.int("FOLLOW_UP_DAYS", default=30)
FOLLOW_UP_QUESTIONS = env.int("FOLLOW_UP_QUESTIONS", default=3)
# How long the link a patient sends their physician works, in days.
SHARE_LINK_DAYS = env.int("SHARE_LINK_DAYS", default=14)
# Wrong physician's-link tokens one address may try in SHARE_BAD_TOKEN_WINDOW
# seconds before further wrong ones answer 429 to it (a right token always opens).
SHARE_BAD_TOKEN_LIMIT = env.int("SHARE_BAD_TOKEN_LIMIT", default=10)
SHARE_BAD_TOKEN_WINDOW = env.int("SHARE_BAD_TOKEN_WINDOW", default=15 * 60)
# Wrong passcodes a SMART Health Link takes before it stops for good (the
# patient makes a new one).
SMART_LINK_PASSCODE_ATTEMPTS = env.int("SMART_LINK_PASSCODE_ATTEMPTS", default=10)
# SMART Health Links pasted in by a patient (records.smart_links): the server fetches
# the manifest and its files itself, HTTPS to public addresses only, within these
# limits. The loopback switch lets plain HTTP to 127.0.0.1/::1 through: for the
# tests' local issuer only, never in production.
SMART_LINK_FETCH_ALLOW_LOOPBACK_HTTP = env.bool(
    "SMART_LINK_FETCH_ALLOW_LOOPBACK_HTTP", default=False
)
SMART_LINK_FETCH_TIMEOUT = env.float("SMART_LINK_FETCH_TIMEOUT", default=5.0)  # each step
SMART_LINK_FETCH_DEADLINE = env.float("SMART_LINK_FETCH_DEADLINE", default=12.0)  # the whole
SMART_LINK_MANIFEST_MAX_BYTES = env.int("SMART_LINK_MANIFEST_MAX_BYTES", default=1_000_000)
SMART_LINK_FILE_MAX_BYTES = env.int("SMART_LINK_FILE_MAX_BYTES", default=30_000_000)
SMART_LINK_MAX_FILES = env.int("SMART_LINK_MAX_FILES", default=20)
# A records office's upload link (records.retrieval.office_services): days it opens
# (and each extension), and wrong tokens one address may try in the window (seconds).
OFFICE_LINK_DAYS = env.int("OFFICE_LINK_DAYS", default=30)
OFFICE_BAD_TOKEN_LIMIT = env.int("OFFICE_BAD_TOKEN_LIMIT", default=10)
OFFICE_BAD_TOKEN_WINDOW = env.int("OFFICE_BAD_TOKEN_WINDOW", default=15 * 60)
