"""Settings shared by every environment, all read from environment variables.

With no environment at all the app runs for a first look on a laptop: SQLite (write
transactions take the lock up front, so two bookings cannot interleave) and a Celery broker
on the local file system. Production sets DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL
(Redis); see README.md.

Size (~470 lines): every setting of every environment is defined here from an environment
variable, on purpose (one place to look); the other settings files only differ where an
environment variable cannot express it.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from config.client_ip import parse_num_proxies

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("KANAALWIJZER_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# Only for local use; production.py refuses to start without a real key.
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "insecure-local-only-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
)
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "simple_history",
    "booking",
    "nudges",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "booking.staff.accounts.StaffSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Who changed a product (its change history, booking.Product.history).
    "simple_history.middleware.HistoryRequestMiddleware",
    # The visitor's experiment unit, for booking-hook callbacks that run inside this request
    # (links an online booking to the nudge the visitor saw; see nudges/experiments/unit.py).
    "nudges.experiments.unit.NudgeUnitMiddleware",
    # Last: answers a locked-out login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'kanaalwijzer.sqlite3'}"),
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction begins: the check-then-insert in the
    # booking service cannot interleave with another writer (SQLite has no row locks).
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    # SQLite builds the covering index of booking.Appointment without its INCLUDE columns.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": env_int("DB_POOL_MIN_SIZE", 2),
            "max_size": env_int("DB_POOL_MAX_SIZE", 10),
            "timeout": env_int("DB_POOL_TIMEOUT", 10),
        }
    }
# Services own their transactions.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------------------
REDIS_CACHE_URL = os.environ.get("CACHE_URL", "")
if REDIS_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": REDIS_CACHE_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "staff:home"
# Every login (the staff page and the Django admin alike) goes through django-axes: after
# AXES_FAILURE_LIMIT wrong passwords that user name is locked from that client address for
# AXES_COOLOFF_TIME. Per (user name, address): a stranger elsewhere cannot lock a colleague out.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "staff/too_many_requests.html"
AXES_HTTP_RESPONSE_CODE = 429
# Staff sessions (booking.staff.accounts): logged out after STAFF_IDLE_MINUTES without a click
# and STAFF_SESSION_HOURS after logging in, whatever happens in between. TOTP (django-otp) is
# required for the roles in STAFF_MFA_REQUIRED_GROUPS and offered to everyone; the Django admin
# wants a code entered in the last STAFF_ADMIN_REAUTH_MINUTES.
STAFF_IDLE_MINUTES = env_int("STAFF_IDLE_MINUTES", 30)
STAFF_SESSION_HOURS = env_int("STAFF_SESSION_HOURS", 12)
STAFF_ADMIN_REAUTH_MINUTES = env_int("STAFF_ADMIN_REAUTH_MINUTES", 15)
STAFF_MFA_REQUIRED_GROUPS = ["Beheerder", "Manager"]
SESSION_COOKIE_AGE = STAFF_SESSION_HOURS * 3600
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Kanaalwijzer")

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Nederlands")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Security defaults (production.py tightens transport settings) ----------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles from our own static files only (no
# inline script, no style attributes), nothing framed, no third-party origin anywhere. The API
# docs pages add inline styles and blob workers (booking/apis/urls.py), nothing else.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
PERMISSIONS_POLICY_DENY = [
    "accelerometer",
    "camera",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "payment",
    "usb",
    "browsing-topics",
]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- E-mail -----------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Burgerzaken <afspraken@example.nl>")
if os.environ.get("EMAIL_FILE_PATH"):
    # For django.core.mail.backends.filebased.EmailBackend.
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
# The SMTP relay (django.core.mail.backends.smtp.EmailBackend).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Well under NUDGES_MESSAGE_STUCK_MINUTES: a relay that stops answering fails the attempt (and
# it is retried) instead of freezing a dispatcher until its row is reported as stuck.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)

# --- REST framework ---------------------------------------------------------------------
API_NUM_PROXIES = parse_num_proxies(os.environ.get("API_NUM_PROXIES"))
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "booking.apis.errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "booking.apis.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "booking.apis.auth.SignedInUserRateThrottle",
    ],
    # The proxies in front of the app (API_NUM_PROXIES, see config.client_ip): every limit keys
    # on the real client, never on a client-supplied X-Forwarded-For. Unset: none trusted here;
    # production refuses to start without it.
    "NUM_PROXIES": API_NUM_PROXIES or 0,
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "600/minute"),
        "user": os.environ.get("API_THROTTLE_USER", "3000/minute"),
        # Holds, bookings, cancellations and moves per client.
        "booking": os.environ.get("API_THROTTLE_BOOKING", "30/minute"),
        # Per integration client (one platform serves many citizens); a client's own
        # requests_per_minute overrides it.
        "integration": os.environ.get("API_THROTTLE_INTEGRATION", "1200/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kanaalwijzer API",
    "DESCRIPTION": "Counter appointments (balie-afspraken) and channel steering for Burgerzaken.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI and ReDoc from our own static files: no CDN, no third-party script.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "booking.apis.errors.error_schema_postprocess",
    ],
}

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# A worker survives a Redis restart or failover: it keeps reconnecting (by default Celery gives
# up after 100 attempts and the worker exits), also when it starts before Redis. Tasks running
# when the connection drops are left to finish, not cancelled (Celery 6 will cancel them by
# default): a dispatcher stopped mid-send leaves its row as an unknown outcome, while one that
# finishes only loses its ack, and the periodic dispatch simply runs again.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "purge-expired-holds": {
        "task": "booking.tasks.purge_expired_holds",
        "schedule": timedelta(minutes=5),
    },
    # Sessions of visitors who stopped halfway hold contact details (privacy page promise).
    "clear-expired-sessions": {
        "task": "booking.tasks.clear_expired_sessions",
        "schedule": timedelta(hours=1),
    },
    # Reminders: due rows live in the database (nudges.ScheduledMessage); this claims and sends them.
    "dispatch-due-messages": {
        "task": "nudges.tasks.dispatch_due_messages",
        "schedule": timedelta(seconds=env_int("NUDGES_DISPATCH_INTERVAL_SECONDS", 60)),
    },
    # The safety net for reminders: plans them for booked appointments that have none (booked
    # before reminders existed, or whose planning failed and was only logged).
    # The policy frame (nudges.cockpit): each bound measured once a day, a breach e-mailed once.
    "check-policy-bounds": {
        "task": "nudges.tasks.check_policy_bounds",
        "schedule": crontab(hour=6, minute=15),
    },
    # The cockpit's roll-ups (contacts, appointments, experiment counts): pages read these.
    "refresh-cockpit-rollups": {
        "task": "nudges.tasks.refresh_cockpit_rollups",
        "schedule": timedelta(minutes=env_int("COCKPIT_ROLLUP_MINUTES", 15)),
    },
    "plan-missing-reminders": {
        "task": "nudges.tasks.plan_missing_reminders",
        "schedule": timedelta(hours=1),
    },
    # AVG: erase personal data BOOKING_RETENTION_DAYS after the appointment (booking.retention),
    # at night when the desks are closed. Safe to run twice; a missed night is caught up next.
    "erase-expired-personal-data": {
        "task": "booking.tasks.erase_expired_personal_data",
        "schedule": crontab(hour=3, minute=30),
    },
}

# --- Booking ----------------------------------------------------------------------------
BOOKING_HOLD_MINUTES = env_int("BOOKING_HOLD_MINUTES", 10)
BOOKING_MAX_ACTIVE_PER_EMAIL_PER_PRODUCT = env_int("BOOKING_MAX_ACTIVE_PER_EMAIL_PER_PRODUCT", 1)
# Anti-hoarding (booking.limits): live holds per client address (a session has one at most)
# and bookings per client address per hour and per day on the citizen pages; 0 switches off.
BOOKING_MAX_HOLDS_PER_CLIENT = env_int("BOOKING_MAX_HOLDS_PER_CLIENT", 3)
BOOKING_MAX_BOOKINGS_PER_CLIENT_HOUR = env_int("BOOKING_MAX_BOOKINGS_PER_CLIENT_HOUR", 5)
BOOKING_MAX_BOOKINGS_PER_CLIENT_DAY = env_int("BOOKING_MAX_BOOKINGS_PER_CLIENT_DAY", 10)
BOOKING_MAX_PERSONS = env_int("BOOKING_MAX_PERSONS", 6)
BOOKING_MAX_RANGE_DAYS = env_int("BOOKING_MAX_RANGE_DAYS", 62)
BOOKING_AVAILABILITY_CACHE_SECONDS = env_int("BOOKING_AVAILABILITY_CACHE_SECONDS", 30)
# Grace window of the availability API (booking.apis.availability): for this many milliseconds
# a web process answers identical requests with the answer it has, without asking the cache
# whether a booking made it stale; the most an answer lags behind a booking. 0 switches it off.
BOOKING_AVAILABILITY_GRACE_MS = env_int("BOOKING_AVAILABILITY_GRACE_MS", 500)
# Cache-Control max-age of availability answers, for an HTTP cache or CDN in front of the app.
BOOKING_AVAILABILITY_HTTP_MAX_AGE = env_int("BOOKING_AVAILABILITY_HTTP_MAX_AGE", 10)
BOOKING_HOLIDAY_COUNTRY = "NL"
# AVG: names, e-mail addresses and phone numbers are erased this many days after the
# appointment (and free-text satisfaction comments this many days after they were given).
BOOKING_RETENTION_DAYS = env_int("BOOKING_RETENTION_DAYS", 30)
BOOKING_RETENTION_CANCELLED_DAYS = env_int("BOOKING_RETENTION_CANCELLED_DAYS", 3)

# --- Citizen pages ----------------------------------------------------------------------
# Absolute links in e-mails (the manage link) start with this; no trailing slash.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Rate limits per client (django-ratelimit, counted in the default cache under a hashed key:
# no IP address is stored). Pages: every booking and manage page; actions: their POSTs.
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
# The client address as the API throttles see it (API_NUM_PROXIES): one definition for all.
RATELIMIT_IP_META_KEY = "config.client_ip.client_ip"
BOOKING_RATELIMIT_PAGES = os.environ.get("BOOKING_RATELIMIT_PAGES", "120/m")
BOOKING_RATELIMIT_ACTIONS = os.environ.get("BOOKING_RATELIMIT_ACTIONS", "30/m")

# --- Nudges (channel steering experiments) ---------------------------------------------
# Unit ids (a random first-party cookie for web visitors, a client's own id through the API)
# are stored only as HMAC-SHA256 under this key. Changing it re-assigns every visitor: never
# during a running experiment. Its own key, never derived from DJANGO_SECRET_KEY (rotating
# that routine secret must not re-hash every visitor); production refuses to start without it.
NUDGES_UNIT_HASH_KEY = os.environ.get("NUDGES_UNIT_HASH_KEY", "insecure-local-only-unit-hash-key-change-me")
NUDGES_UNIT_COOKIE_DAYS = env_int("NUDGES_UNIT_COOKIE_DAYS", 180)
# Outcome reports through the integration API about one unit per hour (0: no limit).
NUDGES_OUTCOMES_PER_UNIT_HOUR = env_int("NUDGES_OUTCOMES_PER_UNIT_HOUR", 20)
# The social-norm figure is shown only with at least this many cases behind it.
NUDGES_SOCIAL_MIN_CASES = env_int("NUDGES_SOCIAL_MIN_CASES", 100)
NUDGES_SOCIAL_PERIOD_DAYS = env_int("NUDGES_SOCIAL_PERIOD_DAYS", 90)
# "Abandoned": no counter booking (and no online choice) this long after the exposure.
NUDGES_ABANDON_AFTER_HOURS = env_int("NUDGES_ABANDON_AFTER_HOURS", 48)
# Sample-ratio mismatch is flagged below this p-value.
NUDGES_SRM_ALPHA = float(os.environ.get("NUDGES_SRM_ALPHA", "0.001"))
# Reminders: days before the appointment's start (wall-clock, Europe/Amsterdam).
NUDGES_REMINDER_OFFSETS_DAYS = [int(d) for d in env_list("NUDGES_REMINDER_OFFSETS_DAYS", "5,1")]
# Reminder wording "others are looking for a time": only said when at least this many other
# appointments for the product were made at the location in this many days (own data).
NUDGES_REMINDER_DEMAND_DAYS = env_int("NUDGES_REMINDER_DEMAND_DAYS", 14)
NUDGES_REMINDER_DEMAND_MIN = env_int("NUDGES_REMINDER_DEMAND_MIN", 10)
# Outbox dispatcher: messages per run, attempts before a message is marked failed, the first
# retry delay (doubling each attempt, capped), and when a row left "sending" (a worker died
# mid-send) is reported as an unknown outcome instead of being sent again.
NUDGES_MESSAGE_BATCH = env_int("NUDGES_MESSAGE_BATCH", 500)
NUDGES_MESSAGE_MAX_ATTEMPTS = env_int("NUDGES_MESSAGE_MAX_ATTEMPTS", 5)
NUDGES_MESSAGE_RETRY_SECONDS = env_int("NUDGES_MESSAGE_RETRY_SECONDS", 60)
NUDGES_MESSAGE_RETRY_MAX_SECONDS = env_int("NUDGES_MESSAGE_RETRY_MAX_SECONDS", 3600)
NUDGES_MESSAGE_STUCK_MINUTES = env_int("NUDGES_MESSAGE_STUCK_MINUTES", 10)
# SMS (nudges.sms): a backend like Django's e-mail backends. Console, file and in-memory are for
# development and tests; production sends through nudges.sms.HttpGatewayBackend (see
# production.py). The sender is an alphanumeric id of at most 11 characters.
NUDGES_SMS_BACKEND = os.environ.get("NUDGES_SMS_BACKEND", "nudges.sms.ConsoleBackend")
NUDGES_SMS_FILE_PATH = Path(os.environ.get("NUDGES_SMS_FILE_PATH", VAR_DIR / "sms"))
NUDGES_SMS_GATEWAY_URL = os.environ.get("NUDGES_SMS_GATEWAY_URL", "")
NUDGES_SMS_GATEWAY_TOKEN = os.environ.get("NUDGES_SMS_GATEWAY_TOKEN", "")
NUDGES_SMS_GATEWAY_TIMEOUT_SECONDS = float(os.environ.get("NUDGES_SMS_GATEWAY_TIMEOUT_SECONDS", "10"))
NUDGES_SMS_SENDER = os.environ.get("NUDGES_SMS_SENDER", "Gemeente")
# No SMS from the start hour up to the end hour (local time): a text due then waits until the
# end hour. Equal hours switch quiet hours off.
NUDGES_SMS_QUIET_HOURS = tuple(int(h) for h in env_list("NUDGES_SMS_QUIET_HOURS", "21,8"))
# The satisfaction question (1–5) goes out this long after the visit was marked served.
NUDGES_SATISFACTION_DELAY_MINUTES = env_int("NUDGES_SATISFACTION_DELAY_MINUTES", 120)
# A satisfaction link answers for this many days after the question went out.
NUDGES_SATISFACTION_LINK_DAYS = env_int("NUDGES_SATISFACTION_LINK_DAYS", 30)
# Abuse limits on what the outbox sends (0: no cap): SMS only to mobile numbers of the
# countries in SMS_COUNTRIES (ISO codes; booking.phones, also checked when a citizen asks for
# SMS); SMS per recipient and in all per day; e-mails per recipient per day.
SMS_COUNTRIES = [code.upper() for code in env_list("SMS_COUNTRIES", "NL")]
NUDGES_SMS_PER_RECIPIENT_DAY = env_int("NUDGES_SMS_PER_RECIPIENT_DAY", 3)
NUDGES_SMS_PER_DAY = env_int("NUDGES_SMS_PER_DAY", 2000)
NUDGES_EMAILS_PER_RECIPIENT_DAY = env_int("NUDGES_EMAILS_PER_RECIPIENT_DAY", 10)
# Waiting list (nudges.waitlist): a cancelled time is held this long and offered to this many
# people at once (first to accept gets it); an entry ends after this many days on the list.
NUDGES_WAITLIST_OFFERS_PER_SLOT = env_int("NUDGES_WAITLIST_OFFERS_PER_SLOT", 3)
NUDGES_WAITLIST_HOLD_MINUTES = env_int("NUDGES_WAITLIST_HOLD_MINUTES", 30)
NUDGES_WAITLIST_MAX_DAYS = env_int("NUDGES_WAITLIST_MAX_DAYS", 90)

# --- Logging: no personal data; only ids and references are logged ----------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Secret tokens in paths (manage, survey and waiting-list links) become "[token]".
    "filters": {"redact_tokens": {"()": "config.logs.RedactTokensFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_tokens"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # On the loggers too, so every handler (Django's, a test's) gets the redacted record.
        "django.request": {"filters": ["redact_tokens"]},
        "django.server": {"handlers": ["console"], "filters": ["redact_tokens"], "propagate": False},
    },
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" or CELERY_BROKER_URL == "filesystem://":
    # The first-look defaults keep their files here.
    (VAR_DIR / "celery-broker" / "processed").mkdir(parents=True, exist_ok=True)
