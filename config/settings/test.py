"""Test settings: PostgreSQL (DATABASE_URL or the local server), fast hashing, mail kept in memory."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kanaalwijzer")

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A separate Celery worker started by a test (pytest.mark.celery) sets these two from its
# environment; the pytest process itself always keeps mail in memory (pytest-django).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
# SMS kept in memory too (nudges.outbox.sms.outbox), unless a test's worker is told otherwise.
NUDGES_SMS_BACKEND = os.environ.get("NUDGES_SMS_BACKEND", "nudges.sms.LocMemBackend")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests see a booking in the next availability answer; the grace window's own tests set it.
BOOKING_AVAILABILITY_GRACE_MS = env_int("BOOKING_AVAILABILITY_GRACE_MS", 0)
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
# django-axes needs the request in authenticate(), which the test client's login() does not
# pass; the lockout tests switch it on.
AXES_ENABLED = env_bool("AXES_ENABLED", False)
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
