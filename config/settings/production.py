"""Production: the same environment variables, plus what must be true behind TLS."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool, env_int

if "DJANGO_SECRET_KEY" not in os.environ:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY in production.")
if "NUDGES_UNIT_HASH_KEY" not in os.environ:
    raise ImproperlyConfigured("Set NUDGES_UNIT_HASH_KEY in production (its own key, not DJANGO_SECRET_KEY).")
DEBUG = False
if API_NUM_PROXIES is None:
    # Throttles, rate limits and the login lockout key on the client address: guessing the
    # proxies wrong lets anyone pick their own address with X-Forwarded-For.
    raise ImproperlyConfigured('Set API_NUM_PROXIES: the number of proxies in front of the app, or "none".')
if not REDIS_CACHE_URL:
    # Rate limits, booking caps, mailbox caps and the availability versions live in the cache:
    # with each process's own memory they would not count across processes, and a booking in
    # one process would leave the others serving its time as free for their cache's lifetime.
    raise ImproperlyConfigured("Set CACHE_URL (Redis, e.g. redis://host:6379/1): every process must share the cache.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# SMS: the development backends print, keep or store citizens' numbers and private manage links.
# Production sends through the gateway (over HTTPS) or, until one is configured, sends no SMS.
NUDGES_SMS_BACKEND = os.environ.get("NUDGES_SMS_BACKEND", "nudges.sms.DisabledBackend")
if NUDGES_SMS_BACKEND not in {"nudges.sms.HttpGatewayBackend", "nudges.sms.DisabledBackend"}:
    raise ImproperlyConfigured("NUDGES_SMS_BACKEND: use nudges.sms.HttpGatewayBackend in production.")
if NUDGES_SMS_BACKEND == "nudges.sms.HttpGatewayBackend" and not (
    NUDGES_SMS_GATEWAY_URL.startswith("https://") and NUDGES_SMS_GATEWAY_TOKEN
):
    raise ImproperlyConfigured("Set NUDGES_SMS_GATEWAY_URL (https) and NUDGES_SMS_GATEWAY_TOKEN.")
